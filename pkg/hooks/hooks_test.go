package hooks

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gsched/gsched/pkg/api"
)

func script(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "s.sh")
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestRun(t *testing.T) {
	tests := []struct {
		name       string
		body       string
		timeout    time.Duration
		wantErr    bool
		timedOut   bool
		wantReason string
	}{
		{"success", "echo fine\n", 5 * time.Second, false, false, ""},
		{"failure keeps the first line", "echo '  7 GPUs, expected 8 '\necho second\nexit 1\n", 5 * time.Second, true, false, "7 GPUs, expected 8"},
		{"silent failure gives the status", "exit 3\n", 5 * time.Second, true, false, "exit status 3"},
		{"stderr counts", "echo oops >&2; exit 2\n", 5 * time.Second, true, false, "oops"},
		{"time-out", "echo slow; sleep 30\n", 300 * time.Millisecond, true, true, "timed out after 0s: slow"},
		{"environment", "test \"$GSCHED_X\" = y && test -n \"$PATH\"\n", 5 * time.Second, false, false, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := Run(context.Background(), script(t, tc.body), []string{"GSCHED_X=y"}, tc.timeout)
			if (r.Err != nil) != tc.wantErr || r.TimedOut != tc.timedOut {
				t.Fatalf("err %v timed out %v, want error %v timed out %v (output %q)", r.Err, r.TimedOut, tc.wantErr, tc.timedOut, r.Output)
			}
			if got := r.Reason(); !strings.HasSuffix(got, tc.wantReason) || (tc.wantReason == "") != (got == "") {
				t.Errorf("reason %q, want one ending %q", got, tc.wantReason)
			}
		})
	}
}

// A time-out kills the program's children too, and a child left running
// with the output open does not hold up a program that exited 0.
func TestRunKillsTheGroup(t *testing.T) {
	dir := t.TempDir()
	mark := filepath.Join(dir, "alive")
	p := script(t, "(sleep 1; touch "+mark+") &\nsleep 30\n")
	r := Run(context.Background(), p, nil, 200*time.Millisecond)
	if !r.TimedOut {
		t.Fatalf("not timed out: %+v", r)
	}
	time.Sleep(1500 * time.Millisecond)
	if _, err := os.Stat(mark); err == nil {
		t.Fatal("a child of the timed-out program lived on")
	}
	start := time.Now()
	r = Run(context.Background(), script(t, "sleep 20 &\necho started\n"), nil, 10*time.Second)
	if r.Err != nil || time.Since(start) > 5*time.Second {
		t.Fatalf("background child held the run: %v after %s", r.Err, time.Since(start))
	}
}

func TestRunOutputIsBounded(t *testing.T) {
	r := Run(context.Background(), script(t, "head -c 200000 /dev/zero | tr '\\0' x\nexit 1\n"), nil, 5*time.Second)
	if len(r.Output) != maxOutput || r.Err == nil {
		t.Fatalf("output %d bytes, err %v", len(r.Output), r.Err)
	}
}

func TestRunMissingProgram(t *testing.T) {
	r := Run(context.Background(), "/nonexistent/prog", nil, time.Second)
	if r.Err == nil || !strings.Contains(r.Reason(), "no such file") {
		t.Fatalf("%+v", r)
	}
}

func TestJobEnv(t *testing.T) {
	j := &api.Job{ID: 42, User: "alice", UID: 1000, GID: 1001, Restarts: 2, State: api.StateFailed, ExitCode: 3,
		Spec:   &api.JobSpec{Name: "train", Partition: "gpu", WorkDir: "/home/alice"},
		Allocs: []api.Allocation{{Node: "n1", GPUs: []int{0, 3}}, {Node: "n2", GPUs: []int{1}}}}
	tests := []struct {
		name    string
		node    string
		context string
		slurm   bool
		want    []string
		notWant []string
	}{
		{"node prolog", "n1", NodeProlog, true,
			[]string{"GSCHED_JOB_ID=42", "SLURM_JOB_ID=42", "SLURM_JOBID=42", "GSCHED_JOB_USER=alice", "SLURM_JOB_USER=alice",
				"GSCHED_JOB_UID=1000", "SLURM_JOB_UID=1000", "GSCHED_JOB_GID=1001", "GSCHED_JOB_NODELIST=n[1-2]",
				"SLURM_JOB_NODELIST=n[1-2]", "SLURM_NODELIST=n[1-2]", "GSCHED_NODENAME=n1", "SLURMD_NODENAME=n1",
				"GSCHED_JOB_GPUS=0,3", "SLURM_JOB_GPUS=0,3", "CUDA_VISIBLE_DEVICES=0,3", "GSCHED_RESTART_COUNT=2",
				"GSCHED_SCRIPT_CONTEXT=prolog_gnoded", "SLURM_SCRIPT_CONTEXT=prolog_slurmd", "GSCHED_JOB_PARTITION=gpu",
				"GSCHED_CLUSTER_NAME=lab", "GSCHED_JOB_NUM_NODES=2"},
			[]string{"GSCHED_JOB_STATE=FAILED"}},
		{"node epilog without slurm", "n2", NodeEpilog, false,
			[]string{"GSCHED_JOB_GPUS=1", "GSCHED_SCRIPT_CONTEXT=epilog_gnoded"},
			[]string{"SLURM_JOB_ID=42", "SLURM_JOBID=42"}},
		{"controller epilog", "", ControllerEpilog, true,
			[]string{"GSCHED_JOB_STATE=FAILED", "SLURM_JOB_EXIT_CODE=3", "SLURM_SCRIPT_CONTEXT=epilog_slurmctld"},
			[]string{"GSCHED_NODENAME=", "CUDA_VISIBLE_DEVICES=0,3"}},
		{"controller prolog", "", ControllerProlog, true,
			[]string{"SLURM_SCRIPT_CONTEXT=prolog_slurmctld", "GSCHED_JOB_ID=42"},
			[]string{"GSCHED_JOB_STATE=FAILED"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := JobEnv(j, tc.node, tc.context, "lab", tc.slurm)
			for _, w := range tc.want {
				if !slices.Contains(env, w) {
					t.Errorf("missing %s in %v", w, env)
				}
			}
			for _, w := range tc.notWant {
				if slices.Contains(env, w) {
					t.Errorf("unexpected %s", w)
				}
			}
		})
	}
}
