package server

import (
	"errors"
	"strings"
	"testing"

	"github.com/gsched/gsched/pkg/api"
)

func stepJob(nodes, tasksPerNode, gpusPerTask int, gpus ...int) *api.Job {
	j := &api.Job{ID: 9, State: api.StateRunning,
		Spec: &api.JobSpec{Nodes: nodes, NTasks: nodes * tasksPerNode, NTasksPerNode: tasksPerNode, GPUsPerTask: gpusPerTask}}
	for i := 0; i < nodes; i++ {
		j.Allocs = append(j.Allocs, api.Allocation{Node: "n" + string(rune('1'+i)), GPUs: gpus})
	}
	return j
}

func TestLayoutStep(t *testing.T) {
	type task struct {
		node  string
		local int
		gpus  string
	}
	for _, tc := range []struct {
		name string
		job  *api.Job
		spec api.StepSpec
		want []task // by rank
		err  string
	}{
		{"the job's tasks, block", stepJob(2, 2, 0), api.StepSpec{},
			[]task{{"n1", 0, ""}, {"n1", 1, ""}, {"n2", 0, ""}, {"n2", 1, ""}}, ""},
		{"fewer tasks than nodes", stepJob(3, 1, 0), api.StepSpec{NTasks: 2},
			[]task{{"n1", 0, ""}, {"n2", 0, ""}}, ""},
		{"uneven: the first nodes take the extra", stepJob(2, 2, 0), api.StepSpec{NTasks: 3},
			[]task{{"n1", 0, ""}, {"n1", 1, ""}, {"n2", 0, ""}}, ""},
		{"one per node", stepJob(2, 4, 0), api.StepSpec{NTasksPerNode: 1},
			[]task{{"n1", 0, ""}, {"n2", 0, ""}}, ""},
		{"own GPUs per task", stepJob(2, 2, 2, 0, 1, 4, 5), api.StepSpec{},
			[]task{{"n1", 0, "0,1"}, {"n1", 1, "4,5"}, {"n2", 0, "0,1"}, {"n2", 1, "4,5"}}, ""},
		{"all the node's GPUs without --gpus-per-task", stepJob(1, 2, 0, 2, 3), api.StepSpec{},
			[]task{{"n1", 0, "2,3"}, {"n1", 1, "2,3"}}, ""},
		{"named node", stepJob(3, 2, 0), api.StepSpec{Nodes: []string{"n2"}},
			[]task{{"n2", 0, ""}, {"n2", 1, ""}}, ""},
		{"named nodes keep the job's order", stepJob(3, 2, 0), api.StepSpec{Nodes: []string{"n3", "n1"}, NTasksPerNode: 1},
			[]task{{"n1", 0, ""}, {"n3", 0, ""}}, ""},
		{"node count, first nodes", stepJob(3, 2, 0), api.StepSpec{NNodes: 2, NTasks: 2},
			[]task{{"n1", 0, ""}, {"n2", 0, ""}}, ""},
		{"node count tops up a list", stepJob(3, 1, 0), api.StepSpec{NNodes: 2, Nodes: []string{"n3"}},
			[]task{{"n1", 0, ""}, {"n3", 0, ""}}, ""},
		{"mpirun's orted launch", stepJob(3, 4, 0), api.StepSpec{NNodes: 2, Nodes: []string{"n2", "n3"}, NTasks: 2, NTasksPerNode: 1},
			[]task{{"n2", 0, ""}, {"n3", 0, ""}}, ""},
		{"node not in the job", stepJob(2, 2, 0), api.StepSpec{Nodes: []string{"n9"}}, nil, `node "n9" is not one of job 9's`},
		{"more nodes than the job", stepJob(2, 2, 0), api.StepSpec{NNodes: 3}, nil, "3 nodes exceed the job's 2"},
		{"list longer than the count", stepJob(3, 2, 0), api.StepSpec{NNodes: 1, Nodes: []string{"n1", "n2"}}, nil, "2 nodes listed but --nodes=1"},
		{"fewer tasks than named nodes", stepJob(3, 2, 0), api.StepSpec{NNodes: 3, NTasks: 2}, nil, "2 tasks cannot cover 3 nodes"},
		{"too many tasks", stepJob(2, 2, 0), api.StepSpec{NTasks: 5}, nil, "5 tasks exceed the job's 4"},
		{"too many per node", stepJob(2, 2, 0), api.StepSpec{NTasksPerNode: 3}, nil, "3 tasks per node exceed"},
		{"ntasks and per node disagree", stepJob(2, 2, 0), api.StepSpec{NTasks: 3, NTasksPerNode: 2}, nil, "does not match"},
		{"no nodes", &api.Job{ID: 9}, api.StepSpec{}, nil, "has no nodes"},
		{"pty: one task on the first node", stepJob(2, 2, 0), api.StepSpec{Pty: true},
			[]task{{"n1", 0, ""}}, ""},
		{"pty on a named node", stepJob(2, 2, 0), api.StepSpec{Pty: true, Nodes: []string{"n2"}},
			[]task{{"n2", 0, ""}}, ""},
		{"pty over two nodes", stepJob(2, 2, 0), api.StepSpec{Pty: true, NTasksPerNode: 1}, nil, "a --pty step runs one task, not 2"},
		{"overlap sees all the node's GPUs despite --gpus-per-task", stepJob(1, 2, 1, 0, 1), api.StepSpec{Overlap: true, Pty: true},
			[]task{{"n1", 0, "0,1"}}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := layoutStep(tc.job, &tc.spec)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("%d tasks, want %d: %+v", len(got), len(tc.want), got)
			}
			for i, w := range tc.want {
				g := got[i]
				gs := make([]string, len(g.GPUs))
				for k, x := range g.GPUs {
					gs[k] = string(rune('0' + x))
				}
				if g.Rank != i || g.Node != w.node || g.LocalRank != w.local || strings.Join(gs, ",") != w.gpus {
					t.Errorf("rank %d = %+v, want %+v", i, g, w)
				}
			}
		})
	}
}

func TestCheckStepSpec(t *testing.T) {
	ok := api.StepSpec{Argv: []string{"python", "x.py"}, Env: []string{"A=1"}, Cwd: "/w", IOAddr: "h:1", IOToken: "t"}
	for _, tc := range []struct {
		name   string
		mutate func(*api.StepSpec)
		err    string
	}{
		{"valid", func(*api.StepSpec) {}, ""},
		{"no command", func(s *api.StepSpec) { s.Argv = nil }, "no command"},
		{"empty command", func(s *api.StepSpec) { s.Argv = []string{""} }, "no command"},
		{"NUL in argument", func(s *api.StepSpec) { s.Argv = []string{"a\x00b"} }, "NUL"},
		{"env without =", func(s *api.StepSpec) { s.Env = []string{"A"} }, "KEY=VALUE"},
		{"relative cwd", func(s *api.StepSpec) { s.Cwd = "rel" }, "absolute"},
		{"huge task count", func(s *api.StepSpec) { s.NTasks = api.MaxStepTasks + 1 }, "out of range"},
		{"negative per node", func(s *api.StepSpec) { s.NTasksPerNode = -1 }, "out of range"},
		{"huge node count", func(s *api.StepSpec) { s.NNodes = api.MaxStepTasks + 1 }, "node count"},
		{"NUL in node name", func(s *api.StepSpec) { s.Nodes = []string{"n\x001"} }, "NUL"},
		{"long token", func(s *api.StepSpec) { s.IOToken = strings.Repeat("x", 200) }, "token"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := ok
			tc.mutate(&s)
			err := checkStepSpec(&s)
			switch {
			case tc.err == "" && err != nil:
				t.Fatalf("err = %v", err)
			case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err) || !errors.Is(err, api.ErrInvalid)):
				t.Fatalf("err = %v, want invalid %q", err, tc.err)
			}
		})
	}
}

// FuzzLayoutStep: any counts give either an error or a layout with ranks
// 0..n-1, each on a node of the job, no node over its tasks, never a panic.
func FuzzLayoutStep(f *testing.F) {
	f.Add(2, 2, 0, 0, 1, 0, uint8(0))
	f.Add(3, 1, 2, 1, 0, 2, uint8(4))
	f.Fuzz(func(t *testing.T, nodes, perNode, ntasks, stepPerNode, gpusPerTask, nnodes int, mask uint8) {
		if nodes < 0 || nodes > 64 || perNode < 1 || perNode > 64 || gpusPerTask < 0 || gpusPerTask > 8 {
			return
		}
		j := stepJob(nodes, perNode, gpusPerTask, 0, 1, 2, 3)
		spec := api.StepSpec{Argv: []string{"x"}, NTasks: ntasks, NTasksPerNode: stepPerNode, NNodes: nnodes}
		for i := 0; i < 8; i++ {
			if mask&(1<<i) != 0 {
				spec.Nodes = append(spec.Nodes, "n"+string(rune('1'+i)))
			}
		}
		if checkStepSpec(&spec) != nil {
			return
		}
		tasks, err := layoutStep(j, &spec)
		if err != nil {
			return
		}
		count := map[string]int{}
		for i, tk := range tasks {
			if tk.Rank != i || j.AllocOn(tk.Node) == nil {
				t.Fatalf("task %d = %+v", i, tk)
			}
			count[tk.Node]++
			if count[tk.Node] > perNode {
				t.Fatalf("node %s has %d tasks, the job %d per node", tk.Node, count[tk.Node], perNode)
			}
		}
		if nnodes > 0 && len(count) > nnodes {
			t.Fatalf("tasks on %d nodes, --nodes=%d", len(count), nnodes)
		}
		for _, n := range spec.Nodes {
			if count[n] == 0 {
				t.Fatalf("listed node %s has no task: %+v", n, tasks)
			}
		}
	})
}
