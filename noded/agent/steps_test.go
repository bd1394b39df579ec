package agent_test

import (
	"context"
	"slices"
	"testing"

	"github.com/gsched/gsched/noded/agent"
	"github.com/gsched/gsched/pkg/api"
	"github.com/gsched/gsched/pkg/runtime/fake"
)

// twoNodeStep is step 0 of job 7: ranks 0 and 1 on n1 (this node, GPUs 2
// and 3 of the job's), rank 2 on n2.
func twoNodeStep() api.Step {
	return api.Step{JobID: 7, ID: 0, State: api.StepRunning,
		Spec: api.StepSpec{Argv: []string{"python", "train.py"}, Env: []string{"FOO=bar", "RANK=99"}, IOAddr: "10.0.0.9:4000", IOToken: "tok"},
		Tasks: []api.StepTask{
			{Rank: 0, Node: "n1", LocalRank: 0, GPUs: []int{2}},
			{Rank: 1, Node: "n1", LocalRank: 1, GPUs: []int{3}},
			{Rank: 2, Node: "n2", LocalRank: 0, GPUs: []int{0}},
		}}
}

func gangJob() api.Job {
	j := runningJob(7, withGPUs(2, 3))
	j.Allocs = append(j.Allocs, api.Allocation{Node: "n2", Addr: "10.0.0.2", CPUs: 4, GPUs: []int{0, 1}})
	j.Allocs[0].Addr = "10.0.0.1"
	j.MasterPort = 29501
	return j
}

// The agent starts this node's step tasks in the job's container with
// their ranks and GPUs, reports each one's end until the controller lists
// it as done, then forgets it; a killed step's tasks are stopped.
func TestAgentRunsStepTasks(t *testing.T) {
	c := newController(gangJob())
	rt := fake.New()
	startAgent(t, c, rt)
	waitStarted(t, rt, "job-7")
	c.update(func(c *fakeController) { c.steps = []api.Step{twoNodeStep()} })

	job := gangJob()
	for rank := range 2 {
		id := agent.StepTaskID(7, 0, rank)
		spec := waitStarted(t, rt, id)
		env := envMap(t, spec.Env)
		if spec.ExecIn != "job-7" || !slices.Equal(spec.Argv, []string{"python", "train.py"}) || spec.IOAddr != "10.0.0.9:4000" ||
			spec.IOToken != "tok" || spec.Rank != rank || spec.UID != job.UID || spec.GID != job.GID {
			t.Errorf("%s spec = %+v", id, spec)
		}
		want := map[string]string{"RANK": itoa(rank), "LOCAL_RANK": itoa(rank), "WORLD_SIZE": "3", "LOCAL_WORLD_SIZE": "2",
			"NODE_RANK": "0", "MASTER_ADDR": "10.0.0.1", "MASTER_PORT": "29501", "CUDA_VISIBLE_DEVICES": itoa(rank),
			"GSCHED_STEP_GPUS": itoa(rank + 2), "GSCHED_PROCID": itoa(rank), "GSCHED_STEP_ID": "0", "GSCHED_NNODES": "2",
			"GSCHED_JOB_NODELIST": "n[1-2]", "GSCHED_STEP_TASKS_PER_NODE": "2,1", "GSCHED_NODEID": "0", "GSCHED_NODENAME": "n1", "GSCHED_TASKS_PER_NODE": "1(x2)", "FOO": "bar"}
		for k, v := range want {
			if env[k] != v {
				t.Errorf("%s: %s=%q, want %q", id, k, env[k], v)
			}
		}
	}
	if _, ok := rt.Spec(agent.StepTaskID(7, 0, 2)); ok {
		t.Error("rank 2 (node n2) started here")
	}

	// Rank 1 fails: reported until the controller records it.
	if err := rt.Exit(agent.StepTaskID(7, 0, 1), 3); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "rank 1's report", func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		for _, s := range c.syncs {
			for _, r := range s.StepReports {
				if r.JobID == 7 && r.Step == 0 && r.Rank == 1 && r.ExitCode == 3 {
					return true
				}
			}
		}
		return false
	})
	// The controller records it and asks for the rest to stop.
	c.update(func(c *fakeController) {
		st := twoNodeStep()
		st.Tasks[1].Done, st.Tasks[1].ExitCode, st.Kill, st.ExitCode = true, 3, true, 3
		c.steps = []api.Step{st}
	})
	waitUntil(t, "rank 0 killed", func() bool { return len(rt.Kills(agent.StepTaskID(7, 0, 0))) > 0 })
	waitUntil(t, "rank 1 forgotten", func() bool {
		_, err := rt.Status(context.Background(), agent.StepTaskID(7, 0, 1))
		return err != nil
	})
	// The step is over: nothing of it stays, and the job runs on.
	c.update(func(c *fakeController) { c.steps = nil })
	waitUntil(t, "rank 0 forgotten", func() bool {
		_, err := rt.Status(context.Background(), agent.StepTaskID(7, 0, 0))
		return err != nil
	})
	if st, _ := rt.Status(context.Background(), "job-7"); !st.Running {
		t.Error("the job's own task stopped with its step")
	}
}

// A running step task the controller no longer lists (its step ended
// elsewhere) is killed as an orphan.
func TestAgentKillsOrphanStepTasks(t *testing.T) {
	c := newController(gangJob())
	c.steps = []api.Step{twoNodeStep()}
	rt := fake.New()
	startAgent(t, c, rt)
	id := agent.StepTaskID(7, 0, 0)
	waitStarted(t, rt, id)
	c.update(func(c *fakeController) { c.steps = nil })
	waitUntil(t, "orphan step task killed", func() bool { return len(rt.Kills(id)) > 0 })
	// Once it has ended it is forgotten; the job's own task runs on.
	waitUntil(t, "orphan step task forgotten", func() bool {
		_, err := rt.Status(context.Background(), id)
		return err != nil
	})
	if st, _ := rt.Status(context.Background(), "job-7"); !st.Running {
		t.Error("the job's own task stopped")
	}
}

func itoa(n int) string { return string(rune('0' + n)) }
