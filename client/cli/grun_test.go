package cli

import (
	"slices"
	"strings"
	"testing"

	"github.com/gsched/gsched/pkg/api"
)

// grun inside a job turns srun-style options (as Open MPI's mpirun passes
// them to launch its daemons) into the step it asks the controller for.
func TestGrunStepOptions(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want api.StepSpec // Argv, NTasks, NTasksPerNode, Nodes, NNodes, KeepOnBadExit
	}{
		{"defaults", []string{"hostname"}, api.StepSpec{Argv: []string{"hostname"}}},
		{"mpirun's orted launch",
			[]string{"--ntasks-per-node=1", "--kill-on-bad-exit", "--cpu_bind=none", "--nodes=2", "--nodelist=n2,n3", "--ntasks=2", "orted", "-mca", "x"},
			api.StepSpec{Argv: []string{"orted", "-mca", "x"}, NTasks: 2, NTasksPerNode: 1, Nodes: []string{"n2", "n3"}, NNodes: 2}},
		{"short options", []string{"-N1", "-w", "gpu[02-03]", "-n", "4", "-K0", "python", "-K"},
			api.StepSpec{Argv: []string{"python", "-K"}, NTasks: 4, Nodes: []string{"gpu02", "gpu03"}, NNodes: 1, KeepOnBadExit: true}},
		{"bare -K", []string{"-K", "-n2", "true"}, api.StepSpec{Argv: []string{"true"}, NTasks: 2}},
		{"-K=0 and --mpi=none", []string{"--kill-on-bad-exit=0", "--mpi=none", "--cpu-bind=none", "true"},
			api.StepSpec{Argv: []string{"true"}, KeepOnBadExit: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs := newFakeServer(t)
			fs.answerFunc(api.PathStepStart, func([]byte) (any, *api.RemoteError) {
				return nil, &api.RemoteError{Code: api.CodeConflict, Message: "stop here"}
			})
			te := newTestEnv(t, fs.sock)
			env := map[string]string{EnvSocket: fs.sock, "GSCHED_JOB_ID": "5"}
			te.Getenv = func(k string) string { return env[k] }
			if code := te.Grun(append([]string{"grun"}, tc.args...)); code == 0 || !strings.Contains(te.stderr.String(), "stop here") {
				t.Fatalf("exit %d, stderr %q", code, te.stderr)
			}
			var req api.StepStartRequest
			fs.decode(t, api.PathStepStart, 0, &req)
			got, w := req.Spec, tc.want
			if req.JobID != 5 || !slices.Equal(got.Argv, w.Argv) || got.NTasks != w.NTasks || got.NTasksPerNode != w.NTasksPerNode ||
				!slices.Equal(got.Nodes, w.Nodes) || got.NNodes != w.NNodes || got.KeepOnBadExit != w.KeepOnBadExit {
				t.Errorf("job %d step %+v\nwant %+v", req.JobID, got, w)
			}
		})
	}
}

func TestGrunUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		name, jobID string
		args        []string
		err         string
	}{
		{"cpu binding", "5", []string{"--cpu-bind=cores", "true"}, "--cpu-bind=cores is not supported"},
		{"mpi plugin", "5", []string{"--mpi=pmix", "true"}, "--mpi=pmix is not supported"},
		{"bad hostlist", "5", []string{"-w", "n[3-1]", "true"}, "--nodelist"},
		{"nodelist outside a job", "", []string{"-w", "n1", "true"}, "use it inside one"},
		{"bad kill-on-bad-exit", "5", []string{"-K2", "true"}, "use 0 or 1"},
		{"zero nodes", "5", []string{"-N0", "true"}, "--nodes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs := newFakeServer(t)
			te := newTestEnv(t, fs.sock)
			env := map[string]string{EnvSocket: fs.sock, "GSCHED_JOB_ID": tc.jobID}
			te.Getenv = func(k string) string { return env[k] }
			if code := te.Grun(append([]string{"grun"}, tc.args...)); code != ExitUsage || !strings.Contains(te.stderr.String(), tc.err) {
				t.Fatalf("exit %d, stderr %q, want usage error %q", code, te.stderr, tc.err)
			}
			if n := fs.count(api.PathStepStart) + fs.count(api.PathSubmit); n != 0 {
				t.Errorf("%d requests reached the server", n)
			}
		})
	}
}
