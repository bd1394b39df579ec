package cli

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"github.com/gsched/gsched/pkg/api"
)

// gattach and grun --pty ask the controller for a one-task terminal
// step; gattach's is an overlapping step in the job named, running the
// caller's shell (or the command given) with only the caller's terminal
// variables.
func TestPtyStepSpec(t *testing.T) {
	for _, tc := range []struct {
		name    string
		cmd     string
		args    []string
		env     map[string]string
		job     api.JobID
		argv    []string
		nodes   []string
		overlap bool
		envWant []string // the step's Env (gattach), nil: grun's own environment
	}{
		{"gattach: the caller's shell", "gattach", []string{"42"}, map[string]string{"SHELL": "/bin/zsh", "TERM": "xterm-256color", "LANG": "C.UTF-8", "FOO": "x"},
			42, []string{"/bin/zsh"}, nil, true, []string{"TERM=xterm-256color", "LANG=C.UTF-8"}},
		{"gattach: a command", "gattach", []string{"-w", "n2", "42", "nvidia-smi", "-l", "1"}, map[string]string{"TERM": "dumb"},
			42, []string{"nvidia-smi", "-l", "1"}, []string{"n2"}, true, []string{"TERM=dumb"}},
		{"gattach: a relative $SHELL is not used", "gattach", []string{"7"}, map[string]string{"SHELL": "zsh"},
			7, []string{"/bin/bash"}, nil, true, nil},
		{"grun --pty in a job", "grun", []string{"--pty", "bash", "-l"}, map[string]string{"GSCHED_JOB_ID": "5"},
			5, []string{"bash", "-l"}, nil, false, []string{"HOME=/home/alice", "FOO=1"}},
		{"grun --pty --overlap --jobid", "grun", []string{"--jobid=9", "--overlap", "--pty", "sh"}, nil,
			9, []string{"sh"}, nil, true, []string{"HOME=/home/alice", "FOO=1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs := newFakeServer(t)
			fs.answerFunc(api.PathStepStart, func([]byte) (any, *api.RemoteError) {
				return nil, &api.RemoteError{Code: api.CodePermission, Message: "job 42 belongs to alice"}
			})
			te := newTestEnv(t, fs.sock)
			env := map[string]string{EnvSocket: fs.sock}
			for k, v := range tc.env {
				env[k] = v
			}
			te.Getenv = func(k string) string { return env[k] }
			run := te.Grun
			if tc.cmd == "gattach" {
				run = te.Gattach
			}
			if code := run(append([]string{tc.cmd}, tc.args...)); code != 1 || !strings.Contains(te.stderr.String(), "job 42 belongs to alice") {
				t.Fatalf("exit %d, stderr %q", code, te.stderr)
			}
			var req api.StepStartRequest
			fs.decode(t, api.PathStepStart, 0, &req)
			sp := req.Spec
			if req.JobID != tc.job || !slices.Equal(sp.Argv, tc.argv) || !sp.Pty || sp.Overlap != tc.overlap ||
				!slices.Equal(sp.Nodes, tc.nodes) || sp.NTasks != 0 || sp.IOAddr == "" || sp.IOToken == "" {
				t.Errorf("job %d step %+v", req.JobID, sp)
			}
			if tc.envWant != nil && !slices.Equal(sp.Env, tc.envWant) {
				t.Errorf("step env %q, want %q", sp.Env, tc.envWant)
			}
			if tc.cmd == "gattach" && sp.Cwd != "" {
				t.Errorf("gattach sets cwd %q; the job's work dir should apply", sp.Cwd)
			}
			if n := fs.count(api.PathSubmit); n != 0 {
				t.Errorf("%d allocations submitted", n)
			}
		})
	}
}

func TestPtyUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		name, cmd string
		args      []string
		err       string
	}{
		{"gattach without a job", "gattach", nil, "no job id given"},
		{"gattach with a bad id", "gattach", []string{"x12"}, `invalid job id "x12"`},
		{"gattach to job 0", "gattach", []string{"0"}, "invalid job id"},
		{"gattach on two nodes", "gattach", []string{"-w", "n[1-2]", "5"}, "attach on one"},
		{"grun --pty with tasks", "grun", []string{"--pty", "-n", "2", "bash"}, "--pty runs one task"},
		{"grun --pty with tasks per node", "grun", []string{"--pty", "--ntasks-per-node=2", "bash"}, "--pty runs one task"},
		{"grun --pty --label", "grun", []string{"--pty", "-l", "bash"}, "do not go together"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs := newFakeServer(t)
			te := newTestEnv(t, fs.sock)
			env := map[string]string{EnvSocket: fs.sock, "GSCHED_JOB_ID": "5"}
			te.Getenv = func(k string) string { return env[k] }
			run := te.Grun
			if tc.cmd == "gattach" {
				run = te.Gattach
			}
			if code := run(append([]string{tc.cmd}, tc.args...)); code != ExitUsage || !strings.Contains(te.stderr.String(), tc.err) {
				t.Fatalf("exit %d, stderr %q, want usage error %q", code, te.stderr, tc.err)
			}
			if n := fs.count(api.PathStepStart) + fs.count(api.PathSubmit); n != 0 {
				t.Errorf("%d requests reached the server", n)
			}
		})
	}
}

func TestCRLFWriter(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", ""},
		{"grun: cancelling step 5.0\n", "grun: cancelling step 5.0\r\n"},
		{"a\nb\n\n", "a\r\nb\r\n\r\n"},
		{"no newline", "no newline"},
	} {
		var b bytes.Buffer
		n, err := crlfWriter{&b}.Write([]byte(tc.in))
		if err != nil || n != len(tc.in) || b.String() != tc.want {
			t.Errorf("Write(%q) = %d, %v, wrote %q; want %q", tc.in, n, err, b.String(), tc.want)
		}
	}
}
