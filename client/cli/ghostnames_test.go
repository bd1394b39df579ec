package cli

import (
	"strings"
	"testing"
)

func TestGhostnames(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		stdin   string
		code    int
		stdout  string
		stderr  string // a part of stderr ("" for none)
		errLine int    // lines on stderr
	}{
		{name: "expand", args: []string{"gpu[01-03,07]"}, stdout: "gpu01\ngpu02\ngpu03\ngpu07\n"},
		{name: "product", args: []string{"rack[1-2]-n[1-2]"}, stdout: "rack1-n1\nrack1-n2\nrack2-n1\nrack2-n2\n"},
		{name: "several args", args: []string{"b,a", "c[9-10]"}, stdout: "b\na\nc9\nc10\n"},
		{name: "empty arg", args: []string{""}, stdout: ""},
		{name: "from gsched env", env: map[string]string{"GSCHED_JOB_NODELIST": "n[1-2]", "SLURM_JOB_NODELIST": "s1"}, stdout: "n1\nn2\n"},
		{name: "from slurm env", env: map[string]string{"SLURM_JOB_NODELIST": "s[1-2]"}, stdout: "s1\ns2\n"},
		{name: "arg over env", args: []string{"x"}, env: map[string]string{"GSCHED_JOB_NODELIST": "n1"}, stdout: "x\n"},
		{name: "no hostlist", code: ExitUsage, stderr: "ghostnames: error: no hostlist given and $GSCHED_JOB_NODELIST is not set", errLine: 2},
		{name: "blank env", env: map[string]string{"GSCHED_JOB_NODELIST": " "}, code: ExitUsage, stderr: "no hostlist given", errLine: 2},
		{name: "bad range", args: []string{"gpu[3-1]"}, code: ExitFailure, stderr: "ghostnames: error: invalid hostlist \"gpu[3-1]\": range 3-1 ends before it starts", errLine: 1},
		{name: "bad env", env: map[string]string{"GSCHED_JOB_NODELIST": "n[1"}, code: ExitFailure, stderr: "'[' without ']'", errLine: 1},
		{name: "too large", args: []string{"n[1-2000000]"}, code: ExitFailure, stderr: "more than 1000000 names", errLine: 1},
		{name: "unknown flag", args: []string{"--bogus"}, code: ExitUsage, stderr: "flag provided but not defined", errLine: 2},
		{name: "compress args", args: []string{"-c", "gpu03", "gpu01", "gpu[02,07]"}, stdout: "gpu[01-03,07]\n"},
		{name: "compress flag after", args: []string{"n10", "n9", "--compress"}, stdout: "n[9-10]\n"},
		{name: "compress stdin", args: []string{"--compress"}, stdin: "gpu02\ngpu01\n\n  gpu04 gpu02\nlogin\n", stdout: "gpu[01-02,04],login\n"},
		{name: "compress stdin lists", args: []string{"-c"}, stdin: "a[1-2],b\na3\n", stdout: "a[1-3],b\n"},
		{name: "compress ignores env", args: []string{"-c"}, env: map[string]string{"GSCHED_JOB_NODELIST": "n1"}, stdout: ""},
		{name: "compress bad", args: []string{"-c"}, stdin: "a]\n", code: ExitFailure, stderr: "']' without '['", errLine: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			te := newTestEnv(t, "/nonexistent/gsched.sock")
			te.Getenv = func(k string) string { return tt.env[k] }
			te.Stdin = strings.NewReader(tt.stdin)
			te.Dial = func(string) Caller { t.Fatal("ghostnames dialed the controller"); return nil }
			code := te.Ghostnames(append([]string{"ghostnames"}, tt.args...))
			out, errOut := te.stdout.String(), te.stderr.String()
			if code != tt.code || out != tt.stdout ||
				!strings.Contains(errOut, tt.stderr) || strings.Count(errOut, "\n") != tt.errLine {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit %d, stdout %q, stderr with %q (%d lines)",
					code, out, errOut, tt.code, tt.stdout, tt.stderr, tt.errLine)
			}
		})
	}
}

func TestGhostnamesHelp(t *testing.T) {
	te := newTestEnv(t, "")
	if code := te.Ghostnames([]string{"ghostnames", "--help"}); code != ExitOK ||
		!strings.Contains(te.stdout.String(), "ghostnames - expand a hostlist") || !strings.Contains(te.stdout.String(), "--compress, -c") {
		t.Errorf("exit %d, stdout %q, stderr %q", code, te.stdout, te.stderr)
	}
}
