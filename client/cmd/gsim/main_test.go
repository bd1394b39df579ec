package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func gsim(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var o, e bytes.Buffer
	code = run(append([]string{"gsim"}, args...), &o, &e)
	return code, o.String(), e.String()
}

const testdata = "../../../pkg/sim/testdata/"

func TestRunAndGen(t *testing.T) {
	dir := t.TempDir()
	trace := filepath.Join(dir, "t.csv")
	if code, _, errOut := gsim(t, "gen", "--seed", "3", "--jobs", "40", "--users", "3", "--rate", "30", "--gpus", "1:3,2:1,4:1", "--cpus-per-gpu", "2", "--mem-per-gpu", "8G", "--run-median", "20m", "-o", trace); code != 0 {
		t.Fatalf("gen: exit %d: %s", code, errOut)
	}
	code, out, errOut := gsim(t, "run", "--cluster", testdata+"cluster.toml", "--trace", trace,
		"--policy", "fifo,easy", "--fairshare", "none,classic", "--jobs-out", filepath.Join(dir, "jobs.csv"),
		"--svg", filepath.Join(dir, "p.svg"), "--output", "csv", "--no-timing")
	if code != 0 {
		t.Fatalf("run: exit %d: %s", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 5 || !strings.HasPrefix(lines[0], "policy,fairshare,jobs,") || !strings.HasPrefix(lines[4], "easy,classic,40,") {
		t.Errorf("table:\n%s", out)
	}
	for _, f := range []string{"jobs-fifo-none.csv", "jobs-easy-classic.csv", "p.svg"} {
		if st, err := os.Stat(filepath.Join(dir, f)); err != nil || st.Size() == 0 {
			t.Errorf("%s: %v", f, err)
		}
	}
	// Deterministic apart from timing.
	_, again, _ := gsim(t, "run", "-c", testdata+"cluster.toml", "-t", trace, "-p", "fifo,easy", "--fairshare", "none,classic", "-o", "csv", "--no-timing")
	if again != out {
		t.Errorf("second run differs:\n%s\n%s", out, again)
	}
}

func TestRunSWFAndAlibabaNodes(t *testing.T) {
	code, out, errOut := gsim(t, "run", "-c", testdata+"nodes.csv", "-t", testdata+"small.swf", "-p", "fifo", "--fairshare", "none")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, "fifo") || !strings.Contains(errOut, "skipped 1 job(s): run time unknown") {
		t.Errorf("stdout %q stderr %q", out, errOut)
	}
}

func TestExitCodes(t *testing.T) {
	tests := []struct {
		name string
		args []string
		code int
		err  string
	}{
		{"no command", nil, 2, "no command"},
		{"unknown command", []string{"fly"}, 2, `unknown command "fly"`},
		{"unknown flag", []string{"run", "--bogus"}, 2, "flag provided but not defined"},
		{"missing trace", []string{"run", "--cluster", "x"}, 2, "needs --cluster and --trace"},
		{"bad policy", []string{"run", "-c", "x", "-t", "y", "-p", "sjf"}, 2, `unknown policy "sjf"`},
		{"bad fairshare", []string{"run", "-c", "x", "-t", "y", "--fairshare", "x"}, 2, "unknown fair-share"},
		{"bad format", []string{"run", "-c", "x", "-t", "y", "-f", "xml"}, 2, "not swf or csv"},
		{"bad output", []string{"run", "-c", "x", "-t", "y", "-o", "html"}, 2, "not text, markdown or csv"},
		{"missing cluster file", []string{"run", "-c", "/nonexistent.toml", "-t", "y"}, 1, "read cluster"},
		{"bad trace", []string{"run", "-c", testdata + "cluster.toml", "-t", testdata + "cluster.toml"}, 1, "bad trace"},
		{"bad gpu weights", []string{"gen", "--gpus", "8"}, 2, "--gpus"},
		{"bad gen config", []string{"gen", "--rate", "0"}, 2, "rate must be positive"},
		{"gen extra argument", []string{"gen", "x"}, 2, "unexpected argument"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errOut := gsim(t, tc.args...)
			if code != tc.code || !strings.Contains(errOut, tc.err) || !strings.HasPrefix(errOut, "gsim: error: ") {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, errOut, tc.code, tc.err)
			}
			if first := strings.SplitN(errOut, "\n", 2)[0]; strings.Contains(first, "\n") {
				t.Errorf("error spans lines: %q", errOut)
			}
		})
	}
}

func TestHelp(t *testing.T) {
	code, out, _ := gsim(t, "run", "--help")
	if code != 0 || !strings.Contains(out, "--cluster") {
		t.Errorf("exit %d: %s", code, out)
	}
}
