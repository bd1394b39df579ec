package testcluster

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gsched/gsched/pkg/api"
)

func TestJobOutputAndExitCode(t *testing.T) {
	c := Start(t, Options{Nodes: 2, GPUsPerNode: 2})
	tests := []struct {
		name      string
		script    string
		wantState api.JobState
		wantCode  int
		wantOut   string
	}{
		{"ok", "#!/bin/sh\necho hello $GSCHED_JOB_NAME\n", api.StateCompleted, 0, "hello ok\n"},
		{"exit3", "#!/bin/sh\necho before\nexit 3\n", api.StateFailed, 3, "before\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := c.WorkDir(0, 0)
			id := c.Submit(api.JobSpec{Name: tc.name, Script: tc.script, WorkDir: dir})
			j := c.WaitJob(id, 30*time.Second)
			if j.State != tc.wantState || j.ExitCode != tc.wantCode {
				t.Fatalf("job %d: state %s code %d reason %q, want %s code %d", id, j.State, j.ExitCode, j.Reason, tc.wantState, tc.wantCode)
			}
			out, err := os.ReadFile(filepath.Join(dir, "gsched-"+id.String()+".out"))
			if err != nil {
				t.Fatal(err)
			}
			if string(out) != tc.wantOut {
				t.Fatalf("output %q, want %q", out, tc.wantOut)
			}
			if j.StartTime.IsZero() || j.EndTime.Before(j.StartTime) || j.NodeList() == "" {
				t.Fatalf("bad accounting: %+v", j)
			}
		})
	}
}

// Jobs see Slurm's variables too (slurm_env, on by default), so tools
// that detect Slurm work unchanged.
func TestJobSeesSlurmEnvironment(t *testing.T) {
	c := Start(t, Options{})
	dir := c.WorkDir(0, 0)
	id := c.Submit(api.JobSpec{WorkDir: dir, Script: "#!/bin/sh\necho $SLURM_JOB_ID $SLURM_JOBID $SLURM_PROCID $SLURM_NTASKS $SLURM_JOB_NODELIST $TMPDIR\n"})
	if j := c.WaitJob(id, 30*time.Second); j.State != api.StateCompleted {
		t.Fatalf("job %s", j.State)
	}
	out, err := os.ReadFile(filepath.Join(dir, "gsched-"+id.String()+".out"))
	if err != nil {
		t.Fatal(err)
	}
	if want := id.String() + " " + id.String() + " 0 1 n1 /tmp\n"; string(out) != want {
		t.Fatalf("output %q, want %q", out, want)
	}
}
