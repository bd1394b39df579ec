package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gsched/gsched/client/cli"
	"github.com/gsched/gsched/pkg/clidoc"
)

const root = "../../.."

// TestGeneratedFilesInSync fails when a man page's generated OPTIONS
// section or a completion script differs from what the commands' flags
// give now.
func TestGeneratedFilesInSync(t *testing.T) {
	changed, err := Generate(root, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(changed) > 0 {
		t.Fatalf("out of date with the commands' flags (%s): %s", clidoc.UpdateHint, strings.Join(changed, ", "))
	}
}

func bashScript() string { return clidoc.Bash(Completions(cli.Commands())) }

func needTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Skipf("%s is not installed", name)
	}
	return p
}

func TestCompletionSyntax(t *testing.T) {
	for _, sh := range []struct{ shell, text string }{
		{"bash", bashScript()},
		{"zsh", clidoc.Zsh(Completions(cli.Commands()))},
	} {
		t.Run(sh.shell, func(t *testing.T) {
			path := needTool(t, sh.shell)
			f := filepath.Join(t.TempDir(), "comp")
			if err := os.WriteFile(f, []byte(sh.text), 0o644); err != nil {
				t.Fatal(err)
			}
			if out, err := exec.Command(path, "-n", f).CombinedOutput(); err != nil {
				t.Fatalf("%s -n: %v\n%s", sh.shell, err, out)
			}
		})
	}
}

// complete runs the bash completion function on words, the last being
// the word under the cursor, and returns COMPREPLY sorted.
func complete(t *testing.T, bash, script string, words ...string) []string {
	t.Helper()
	var q []string
	for _, w := range words {
		q = append(q, "'"+strings.ReplaceAll(w, "'", `'\''`)+"'")
	}
	// No gqueue on PATH: job IDs complete to nothing.
	prog := fmt.Sprintf("source %s\nPATH=/nonexistent\nCOMP_WORDS=(%s)\nCOMP_CWORD=%d\n_gsched\nprintf '%%s\\n' \"${COMPREPLY[@]}\"\n",
		script, strings.Join(q, " "), len(words)-1)
	cmd := exec.Command(bash, "--norc", "--noprofile", "-c", prog)
	cmd.Dir = t.TempDir()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil || stderr.Len() > 0 {
		t.Fatalf("%q: %v %s", words, err, stderr.String())
	}
	got := strings.Fields(string(out))
	slices.Sort(got)
	return got
}

func TestBashCompletion(t *testing.T) {
	bash := needTool(t, "bash")
	script := filepath.Join(t.TempDir(), "gsched.bash")
	if err := os.WriteFile(script, []byte(bashScript()), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		words []string
		want  []string
	}{
		{[]string{"gsub", "--gpus"}, []string{"--gpus", "--gpus-per-node", "--gpus-per-task"}},
		{[]string{"gsub", "--gp"}, []string{"--gpu-bind", "--gpu-freq", "--gpu-mem", "--gpus", "--gpus-per-node", "--gpus-per-task"}},
		{[]string{"gsub", "-J", "x", "--no-r"}, []string{"--no-requeue"}},
		{[]string{"/usr/local/bin/gsub", "--wa"}, []string{"--wait", "--wait-all-nodes"}},
		{[]string{"gsub", "--open-mode", "=", ""}, []string{"append", "truncate"}},
		{[]string{"gsub", "--open-mode", "=", "a"}, []string{"append"}},
		{[]string{"gsub", "--open-mode", "t"}, []string{"truncate"}},
		{[]string{"gsub", "--open-mode=a"}, []string{"append"}},
		{[]string{"gsub", "-J", ""}, nil},                      // a value without a list
		{[]string{"gsub", "job.sh", "--gp"}, nil},              // the script's arguments
		{[]string{"gqueue", "-t", "RUN"}, []string{"RUNNING"}}, // job states
		{[]string{"gqueue", "--states", "=", "a"}, []string{"all"}},
		{[]string{"gcancel", "-s", "US"}, []string{"USR1", "USR2"}},
		{[]string{"gcancel", "12", "--si"}, []string{"--signal"}}, // options after arguments
		{[]string{"gcontrol", "sh"}, []string{"show"}},
		{[]string{"gcontrol", "-o", "show", "p"}, []string{"partition"}},
		{[]string{"gcontrol", "show", "job", "--js"}, []string{"--json"}},
		{[]string{"ginfo", "-"}, []string{"--Node", "--config", "--help", "--json", "--list-reasons", "--noheader", "--partition", "-N", "-R", "-h", "-p"}},
		{[]string{"notgsched", "--"}, nil},
	}
	for _, tt := range tests {
		if got := complete(t, bash, script, tt.words...); !slices.Equal(got, tt.want) {
			t.Errorf("complete %q = %q, want %q", tt.words, got, tt.want)
		}
	}
}

// TestManPagesRender checks that every page renders without a groff
// warning.
func TestManPagesRender(t *testing.T) {
	groff := needTool(t, "groff")
	pages, err := filepath.Glob(filepath.Join(root, "man", "man*", "*.[158]"))
	if err != nil || len(pages) == 0 {
		t.Fatalf("no man pages: %v", err)
	}
	for _, p := range pages {
		out, err := exec.Command(groff, "-man", "-Tutf8", "-ww", "-z", p).CombinedOutput()
		if err != nil || len(out) > 0 {
			t.Errorf("groff %s: %v\n%s", p, err, out)
		}
	}
}
