package agent_test

import (
	"strings"
	"testing"
	"time"

	"github.com/gsched/gsched/noded/agent"
	"github.com/gsched/gsched/pkg/api"
)

// A --pty step's task asks the runtime for a terminal of the size grun
// gave; an overlapping attach sees the job's GPUs and variables; a
// terminal without grun's address or with a size out of range is refused.
func TestStepTaskSpecTerminal(t *testing.T) {
	job := runningJob(7, withGPUs(2, 3))
	node := &api.Node{Name: "n1"}
	pty := func(rows, cols int, addr string) api.Step {
		return api.Step{JobID: 7, ID: 1, State: api.StepRunning,
			Spec:  api.StepSpec{Argv: []string{"/bin/bash"}, Env: []string{"TERM=xterm"}, IOAddr: addr, IOToken: "tok", Pty: true, Overlap: true, TermRows: rows, TermCols: cols},
			Tasks: []api.StepTask{{Rank: 0, Node: "n1", GPUs: []int{2, 3}}}}
	}
	for _, tc := range []struct {
		name       string
		step       api.Step
		rows, cols uint16
		err        string
	}{
		{"size given", pty(24, 80, "h:1"), 24, 80, ""},
		{"size unknown", pty(0, 0, "h:1"), 0, 0, ""},
		{"largest size", pty(api.MaxTermSize, api.MaxTermSize, "h:1"), api.MaxTermSize, api.MaxTermSize, ""},
		{"no address", pty(24, 80, ""), 0, 0, "needs grun's address"},
		{"rows out of range", pty(api.MaxTermSize+1, 80, "h:1"), 0, 0, "size in range"},
		{"negative columns", pty(24, -1, "h:1"), 0, 0, "size in range"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			spec, err := agent.StepTaskSpec(&job, &tc.step, &tc.step.Tasks[0], node, time.Second, agent.EnvOptions{})
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !spec.TTY || spec.TTYRows != tc.rows || spec.TTYCols != tc.cols || spec.UID != job.UID || spec.ExecIn != "job-7" {
				t.Fatalf("spec = TTY %v %dx%d uid %d in %q", spec.TTY, spec.TTYRows, spec.TTYCols, spec.UID, spec.ExecIn)
			}
			env := envMap(t, spec.Env)
			for k, v := range map[string]string{"TERM": "xterm", "GSCHED_JOB_ID": "7", "CUDA_VISIBLE_DEVICES": "0,1", "GSCHED_STEP_GPUS": "2,3", "USER": "alice"} {
				if env[k] != v {
					t.Errorf("%s=%q, want %q", k, env[k], v)
				}
			}
		})
	}
	// A plain step gets no terminal.
	st := pty(24, 80, "h:1")
	st.Spec.Pty, st.Spec.TermRows, st.Spec.TermCols = false, 0, 0
	spec, err := agent.StepTaskSpec(&job, &st, &st.Tasks[0], node, time.Second, agent.EnvOptions{})
	if err != nil || spec.TTY {
		t.Fatalf("plain step: TTY %v, %v", spec.TTY, err)
	}
}
