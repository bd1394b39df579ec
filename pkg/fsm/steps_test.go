package fsm_test

import (
	"bytes"
	"encoding/json"
	"io"
	"slices"
	"testing"
	"time"

	"github.com/hashicorp/raft"

	"github.com/gsched/gsched/pkg/api"
	"github.com/gsched/gsched/pkg/fsm"
)

// Job steps (grun) in the FSM: numbering, task ends, kill on bad exit,
// cancel, closing with the job, purge, snapshots. Helpers of gang_test.go
// and fsm_test.go are shared.

// gangStep is a step of the job with one task per node given (rank i
// on nodes[i]).
func gangStep(job api.JobID, attempt int, nodes ...string) api.Step {
	st := api.Step{JobID: job, Attempt: attempt, Spec: api.StepSpec{Argv: []string{"hostname"}}}
	local := map[string]int{}
	for i, n := range nodes {
		st.Tasks = append(st.Tasks, api.StepTask{Rank: i, Node: n, LocalRank: local[n]})
		local[n]++
	}
	return st
}

// gangStepStart applies a CmdStepStart and returns the stored step (nil
// when refused).
func gangStepStart(h *harness, st api.Step) *api.Step {
	h.t.Helper()
	res, ok := h.apply(&fsm.Command{Type: fsm.CmdStepStart, Step: &st}).(*fsm.StepStartResult)
	if !ok || res == nil {
		h.t.Fatalf("step start result = %#v", res)
	}
	return res.Step
}

func gangStepEnd(h *harness, node string, rs ...api.StepReport) {
	h.t.Helper()
	h.apply(&fsm.Command{Type: fsm.CmdStepEnd, StepEnd: &fsm.StepEndCmd{Node: node, Reports: rs}})
}

func gangStepCancel(h *harness, job api.JobID, step int) {
	h.t.Helper()
	h.apply(&fsm.Command{Type: fsm.CmdStepCancel, StepCancel: &api.StepRef{JobID: job, Step: step}})
}

func gangGetStep(h *harness, job api.JobID, id int) *api.Step {
	h.t.Helper()
	st := h.store.Snapshot().Step(nil, job, id)
	if st == nil {
		h.t.Fatalf("step %s not found", api.StepKey(job, id))
	}
	return st
}

func gangDoneRanks(st *api.Step) []int {
	var out []int
	for _, tk := range st.Tasks {
		if tk.Done {
			out = append(out, tk.Rank)
		}
	}
	return out
}

// ---- steps ----

func TestGangStepStart(t *testing.T) {
	restarted := func(h *harness) {
		gangPreempt(h, 1, api.PreemptRequeue)
		h.finish("n1", gangExit(1, 143))
		h.finish("n2", gangExit(1, 143))
		if r := h.start(gangPlace(1, "n3", "n1")); len(r.Started) != 1 {
			h.t.Fatalf("restart: %+v", r)
		}
	}
	tests := []struct {
		name string
		prep func(h *harness)
		step api.Step
		ok   bool
	}{
		{name: "running job", step: gangStep(1, 0, "n1", "n2", "n1"), ok: true},
		{name: "one node of the job", step: gangStep(1, 0, "n2"), ok: true},
		{name: "unknown job", step: gangStep(42, 0, "n1")},
		{name: "pending job", prep: func(h *harness) { h.submit(newJob()) }, step: gangStep(2, 0, "n1")},
		{name: "completing job", prep: func(h *harness) { h.cancel(1) }, step: gangStep(1, 0, "n1", "n2")},
		{name: "a node already done", prep: func(h *harness) { h.finish("n2", gangExit(1, 0)) }, step: gangStep(1, 0, "n1")},
		{
			name: "final job",
			prep: func(h *harness) { h.finish("n1", gangExit(1, 0)); h.finish("n2", gangExit(1, 0)) },
			step: gangStep(1, 0, "n1", "n2"),
		},
		{name: "another attempt", step: gangStep(1, 1, "n1", "n2")},
		{name: "a node not in the job", step: gangStep(1, 0, "n1", "n3")},
		{name: "an unknown node", step: gangStep(1, 0, "n1", "n9")},
		{name: "restarted elsewhere: the new attempt", prep: restarted, step: gangStep(1, 1, "n3", "n1"), ok: true},
		{name: "restarted elsewhere: a node no longer in the job", prep: restarted, step: gangStep(1, 1, "n1", "n2")},
		{name: "restarted elsewhere: the old attempt", prep: restarted, step: gangStep(1, 0, "n3", "n1")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := gangRunning(t, "n1", "n2")
			if tt.prep != nil {
				tt.prep(h)
			}
			h.tick(time.Second)
			before := h.store.Snapshot().Job(nil, tt.step.JobID)
			cmd := tt.step
			cmd.ID, cmd.State = 7, api.StepCompleted // the FSM decides ID and state
			got := gangStepStart(h, cmd)
			if !tt.ok {
				if got != nil {
					t.Fatalf("step started: %+v", got)
				}
				if len(h.store.Snapshot().Steps()) != 0 {
					t.Errorf("refused step stored: %+v", h.store.Snapshot().Steps())
				}
				if before != nil && h.job(before.ID).Steps != before.Steps {
					t.Errorf("refused step counted: %d", h.job(before.ID).Steps)
				}
				return
			}
			if got == nil {
				t.Fatal("step refused")
			}
			if got.ID != 0 || got.JobID != tt.step.JobID || got.State != api.StepRunning || !got.StartTime.Equal(h.now) ||
				!got.EndTime.IsZero() || !jsonEqual(got.Tasks, tt.step.Tasks) || got.Attempt != tt.step.Attempt {
				t.Errorf("started step = %+v", got)
			}
			if stored := gangGetStep(h, 1, 0); !jsonEqual(stored, got) {
				t.Errorf("stored step %+v, want %+v", stored, got)
			}
			if n := h.job(1).Steps; n != 1 {
				t.Errorf("job's step counter = %d, want 1", n)
			}
		})
	}
}

func TestGangStepNumbering(t *testing.T) {
	h := gangRunning(t, "n1", "n2")
	h.submit(gangJob(2)) // 2
	h.start(gangPlace(2, "n2", "n3"))
	var got []string
	for _, st := range []api.Step{
		gangStep(1, 0, "n1"),
		gangStep(2, 0, "n2", "n3"),
		gangStep(1, 0, "n1", "n3"), // refused: n3 is not job 1's
		gangStep(1, 0, "n1", "n2"),
		gangStep(1, 0, "n2"),
	} {
		if s := gangStepStart(h, st); s != nil {
			got = append(got, s.Key())
		}
	}
	if want := []string{"1.0", "2.0", "1.1", "1.2"}; !slices.Equal(got, want) {
		t.Errorf("steps started %v, want %v", got, want)
	}
	if n := h.job(1).Steps; n != 3 {
		t.Errorf("job 1 counted %d steps, want 3", n)
	}
	var keys []string
	for _, st := range h.store.Snapshot().StepsOf(nil, 1) {
		keys = append(keys, st.Key())
	}
	if !slices.Equal(keys, []string{"1.0", "1.1", "1.2"}) {
		t.Errorf("steps of job 1 = %v", keys)
	}
	// The stored tasks are the FSM's own copy.
	st := gangStep(1, 0, "n1", "n2")
	s := gangStepStart(h, st)
	st.Tasks[0].Node = "changed"
	if gangGetStep(h, 1, s.ID).Tasks[0].Node != "n1" {
		t.Error("the stored step shares the command's task slice")
	}
}

func TestGangStepEnd(t *testing.T) {
	rep := func(rank, code int) api.StepReport {
		return api.StepReport{JobID: 1, Step: 0, Rank: rank, ExitCode: code}
	}
	sig := func(rank, s int) api.StepReport {
		return api.StepReport{JobID: 1, Step: 0, Rank: rank, ExitCode: 128 + s, Signal: s, Killed: true}
	}
	type ev struct {
		node string
		rs   []api.StepReport
	}
	tests := []struct {
		name   string
		keep   bool // Spec.KeepOnBadExit
		events []ev
		state  api.StepState
		exit   int
		kill   bool
		done   []int
	}{
		{
			name:   "all tasks succeed",
			events: []ev{{"n1", []api.StepReport{rep(0, 0), rep(1, 0)}}, {"n2", []api.StepReport{rep(3, 0)}}, {"n2", []api.StepReport{rep(2, 0)}}},
			state:  api.StepCompleted, done: []int{0, 1, 2, 3},
		},
		{
			name:   "tasks still running",
			events: []ev{{"n1", []api.StepReport{rep(0, 0), rep(1, 0)}}},
			state:  api.StepRunning, done: []int{0, 1},
		},
		{
			name:   "only reports from the task's own node count",
			events: []ev{{"n1", []api.StepReport{rep(2, 5), rep(3, 0)}}, {"n3", []api.StepReport{rep(0, 0)}}, {"n2", []api.StepReport{rep(2, 0)}}},
			state:  api.StepRunning, done: []int{2},
		},
		{
			name:   "the first failure sets the exit code and kills the others",
			events: []ev{{"n2", []api.StepReport{rep(2, 3)}}},
			state:  api.StepRunning, exit: 3, kill: true, done: []int{2},
		},
		{
			name: "killed tasks do not change the first failure's code",
			events: []ev{
				{"n2", []api.StepReport{rep(2, 3)}},
				{"n1", []api.StepReport{sig(0, 9), rep(1, 7)}},
				{"n2", []api.StepReport{sig(3, 15)}},
			},
			state: api.StepFailed, exit: 3, done: []int{0, 1, 2, 3},
		},
		{
			name:   "a signal gives 128+n",
			events: []ev{{"n1", []api.StepReport{{JobID: 1, Step: 0, Rank: 1, Signal: 11}, rep(0, 0)}}, {"n2", []api.StepReport{rep(2, 0), rep(3, 0)}}},
			state:  api.StepFailed, exit: 139, done: []int{0, 1, 2, 3},
		},
		{
			name:   "an OOM kill counts as 1",
			events: []ev{{"n2", []api.StepReport{{JobID: 1, Step: 0, Rank: 3, OOM: true}}}},
			state:  api.StepRunning, exit: 1, kill: true, done: []int{3},
		},
		{
			name:   "a launch error counts as 1",
			events: []ev{{"n1", []api.StepReport{{JobID: 1, Step: 0, Rank: 0, Error: "no such file"}}}},
			state:  api.StepRunning, exit: 1, kill: true, done: []int{0},
		},
		{
			name: "keep on bad exit: no kill, the first failure's code",
			keep: true,
			events: []ev{
				{"n1", []api.StepReport{rep(1, 2)}},
				{"n2", []api.StepReport{rep(2, 5)}},
				{"n1", []api.StepReport{rep(0, 0)}},
			},
			state: api.StepRunning, exit: 2, done: []int{0, 1, 2},
		},
		{
			name: "keep on bad exit: the step fails when all ended",
			keep: true,
			events: []ev{
				{"n1", []api.StepReport{rep(1, 2), rep(0, 0)}},
				{"n2", []api.StepReport{rep(2, 5), rep(3, 0)}},
			},
			state: api.StepFailed, exit: 2, done: []int{0, 1, 2, 3},
		},
		{
			name:   "a duplicate report is ignored",
			events: []ev{{"n1", []api.StepReport{rep(0, 0)}}, {"n1", []api.StepReport{rep(0, 9)}}},
			state:  api.StepRunning, done: []int{0},
		},
		{
			name:   "a duplicate report in the same command is ignored",
			events: []ev{{"n1", []api.StepReport{rep(0, 0), rep(0, 9)}}},
			state:  api.StepRunning, done: []int{0},
		},
		{
			name: "reports after the step ended are ignored",
			events: []ev{
				{"n1", []api.StepReport{rep(0, 0), rep(1, 0)}},
				{"n2", []api.StepReport{rep(2, 0), rep(3, 0)}},
				{"n2", []api.StepReport{rep(2, 4)}},
			},
			state: api.StepCompleted, done: []int{0, 1, 2, 3},
		},
		{
			name: "unknown ranks, steps and jobs are ignored",
			events: []ev{{"n1", []api.StepReport{
				rep(9, 1), {JobID: 1, Step: 5, Rank: 0, ExitCode: 1}, {JobID: 42, Step: 0, Rank: 0, ExitCode: 1}, rep(0, 0),
			}}},
			state: api.StepRunning, done: []int{0},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := gangRunning(t, "n1", "n2")
			st := gangStep(1, 0, "n1", "n1", "n2", "n2")
			st.Spec.KeepOnBadExit = tt.keep
			if s := gangStepStart(h, st); s == nil || s.ID != 0 {
				t.Fatalf("step start: %+v", s)
			}
			for _, e := range tt.events {
				h.tick(time.Second)
				gangStepEnd(h, e.node, e.rs...)
			}
			got := gangGetStep(h, 1, 0)
			if got.State != tt.state || got.ExitCode != tt.exit || got.Kill != tt.kill || !slices.Equal(gangDoneRanks(got), tt.done) {
				t.Errorf("step = %s exit %d kill %v done %v, want %s exit %d kill %v done %v",
					got.State, got.ExitCode, got.Kill, gangDoneRanks(got), tt.state, tt.exit, tt.kill, tt.done)
			}
			if got.State.Final() != !got.EndTime.IsZero() {
				t.Errorf("step %s with end time %v", got.State, got.EndTime)
			}
			if j := h.job(1); j.State != api.StateRunning {
				t.Errorf("step reports changed the job: %s", j.State)
			}
		})
	}
}

// Reports of several steps in one command; the step closes at the
// command's time and records each task's outcome.
func TestGangStepEndSeveralSteps(t *testing.T) {
	h := gangRunning(t, "n1", "n2")
	gangStepStart(h, gangStep(1, 0, "n1", "n2"))
	gangStepStart(h, gangStep(1, 0, "n2"))
	h.tick(time.Minute)
	gangStepEnd(h, "n2",
		api.StepReport{JobID: 1, Step: 0, Rank: 1, ExitCode: 137, Signal: 9, OOM: true},
		api.StepReport{JobID: 1, Step: 1, Rank: 0})
	s0, s1 := gangGetStep(h, 1, 0), gangGetStep(h, 1, 1)
	if s0.State != api.StepRunning || s0.ExitCode != 137 || !s0.Kill {
		t.Errorf("step 0 = %+v", s0)
	}
	if tk := s0.Tasks[1]; !tk.Done || tk.ExitCode != 137 || tk.Signal != 9 || !tk.OOM {
		t.Errorf("step 0 task 1 = %+v", tk)
	}
	if s1.State != api.StepCompleted || s1.ExitCode != 0 || !s1.EndTime.Equal(h.now) {
		t.Errorf("step 1 = %+v", s1)
	}
	h.tick(time.Second)
	gangStepEnd(h, "n1", api.StepReport{JobID: 1, Step: 0, Rank: 0, ExitCode: 143, Signal: 15, Killed: true})
	if s0 = gangGetStep(h, 1, 0); s0.State != api.StepFailed || s0.ExitCode != 137 || s0.Kill || !s0.EndTime.Equal(h.now) || !s0.Tasks[0].Killed {
		t.Errorf("step 0 after the last task = %+v", s0)
	}
}

func TestGangStepCancel(t *testing.T) {
	h := gangRunning(t, "n1", "n2")
	gangStepStart(h, gangStep(1, 0, "n1", "n2"))
	gangStepStart(h, gangStep(1, 0, "n1"))
	gangStepEnd(h, "n1", api.StepReport{JobID: 1, Step: 1, Rank: 0}) // step 1 COMPLETED
	done := *gangGetStep(h, 1, 1)

	gangStepCancel(h, 1, 0)
	gangStepCancel(h, 1, 1)  // over: unchanged
	gangStepCancel(h, 1, 9)  // unknown: ignored
	gangStepCancel(h, 42, 0) // unknown job: ignored
	if s := gangGetStep(h, 1, 0); s.State != api.StepRunning || !s.Kill || !s.Cancelled {
		t.Fatalf("cancelled step = %+v", s)
	}
	if s := gangGetStep(h, 1, 1); !jsonEqual(*s, done) {
		t.Errorf("cancel changed a finished step: %+v", s)
	}
	h.tick(time.Second)
	// A task killed by the cancel does not count as the step's failure.
	gangStepEnd(h, "n2", api.StepReport{JobID: 1, Step: 0, Rank: 1, ExitCode: 1})
	gangStepEnd(h, "n1", api.StepReport{JobID: 1, Step: 0, Rank: 0, ExitCode: 143, Signal: 15, Killed: true})
	s := gangGetStep(h, 1, 0)
	if s.State != api.StepCancelled || s.ExitCode != 143 || s.Kill || !s.EndTime.Equal(h.now) {
		t.Errorf("step after its tasks ended = %+v", s)
	}
	if j := h.job(1); j.State != api.StateRunning {
		t.Errorf("step cancel changed the job: %s", j.State)
	}
}

// The live steps of a job are closed when its last node reports, not
// before; finished steps keep their outcome.
func TestGangStepsClosedWhenJobEnds(t *testing.T) {
	h := gangRunning(t, "n1", "n2")
	gangStepStart(h, gangStep(1, 0, "n1", "n2")) // 0: will complete
	gangStepStart(h, gangStep(1, 0, "n1", "n2")) // 1: rank 0 done, rank 1 dies with the job
	st := gangStep(1, 0, "n1", "n2")
	st.Spec.KeepOnBadExit = true
	gangStepStart(h, st) // 2: rank 0 failed, rank 1 dies with the job
	gangStepEnd(h, "n1", api.StepReport{JobID: 1, Step: 0, Rank: 0}, api.StepReport{JobID: 1, Step: 1, Rank: 0},
		api.StepReport{JobID: 1, Step: 2, Rank: 0, ExitCode: 6})
	gangStepEnd(h, "n2", api.StepReport{JobID: 1, Step: 0, Rank: 1})
	s0 := *gangGetStep(h, 1, 0)
	if s0.State != api.StepCompleted {
		t.Fatalf("step 0 = %s", s0.State)
	}
	h.tick(time.Minute)
	h.finish("n1", gangExit(1, 0))
	if s := gangGetStep(h, 1, 1); s.State != api.StepRunning {
		t.Fatalf("step 1 closed while the job was still on n2: %+v", s)
	}
	h.tick(time.Second)
	h.finish("n2", gangExit(1, 0))
	if j := h.job(1); j.State != api.StateCompleted {
		t.Fatalf("job: %s", j.State)
	}
	if s := gangGetStep(h, 1, 0); !jsonEqual(*s, s0) {
		t.Errorf("finished step changed: %+v", s)
	}
	for _, c := range []struct {
		id    int
		state api.StepState
		exit  int
	}{{1, api.StepCancelled, 143}, {2, api.StepFailed, 6}} {
		s := gangGetStep(h, 1, c.id)
		if s.State != c.state || s.ExitCode != c.exit || !s.EndTime.Equal(h.now) || s.Kill {
			t.Errorf("step %d = %s exit %d end %v kill %v, want %s %d at %v", c.id, s.State, s.ExitCode, s.EndTime, s.Kill, c.state, c.exit, h.now)
		}
		if !slices.Equal(gangDoneRanks(s), []int{0, 1}) || s.Tasks[0].Killed || !s.Tasks[1].Killed || s.Tasks[1].Error == "" {
			t.Errorf("step %d tasks = %+v", c.id, s.Tasks)
		}
	}
	// A late report of a closed step changes nothing.
	before := *gangGetStep(h, 1, 1)
	gangStepEnd(h, "n2", api.StepReport{JobID: 1, Step: 1, Rank: 1, ExitCode: 3})
	if s := gangGetStep(h, 1, 1); !jsonEqual(*s, before) {
		t.Errorf("late report changed a closed step: %+v", s)
	}
}

func TestGangPurgeDeletesSteps(t *testing.T) {
	h := gangCluster(t)
	h.submit(gangJob(1), gangJob(1)) // 1 ends, 2 runs
	h.start(gangPlace(1, "n1"), gangPlace(2, "n2"))
	gangStepStart(h, gangStep(1, 0, "n1"))
	gangStepStart(h, gangStep(1, 0, "n1"))
	gangStepStart(h, gangStep(2, 0, "n2"))
	h.finish("n1", gangExit(1, 0))
	h.tick(time.Hour)
	if n := h.apply(&fsm.Command{Type: fsm.CmdPurge, Purge: &fsm.PurgeCmd{Before: h.now}}); n != 1 {
		t.Fatalf("purged %v, want 1", n)
	}
	if got := h.store.Snapshot().StepsOf(nil, 1); len(got) != 0 {
		t.Errorf("steps of the purged job left: %+v", got)
	}
	var keys []string
	for _, st := range h.store.Snapshot().Steps() {
		keys = append(keys, st.Key())
	}
	if !slices.Equal(keys, []string{"2.0"}) {
		t.Errorf("steps left = %v, want 2.0", keys)
	}
}

// ---- snapshot ----

func TestGangSnapshotRestoreKeepsSteps(t *testing.T) {
	h := gangRunning(t, "n1", "n2", "n3")
	gangStepStart(h, gangStep(1, 0, "n1", "n2", "n3"))
	gangStepStart(h, gangStep(1, 0, "n2"))
	gangStepStart(h, gangStep(1, 0, "n3"))
	gangStepEnd(h, "n2", api.StepReport{JobID: 1, Step: 0, Rank: 1, ExitCode: 2}, api.StepReport{JobID: 1, Step: 1, Rank: 0})
	gangStepCancel(h, 1, 2)
	h.finish("n3", gangExit(1, 1)) // COMPLETING, n3 done
	orig := h.store.Snapshot()
	sink := snapshotOf(t, h.f)

	fresh := newHarness(t)
	fresh.now = h.now
	if err := fresh.f.Restore(io.NopCloser(bytes.NewReader(sink.Bytes()))); err != nil {
		t.Fatal(err)
	}
	got := fresh.store.Snapshot()
	if len(got.Steps()) != 3 || !jsonEqual(got.Steps(), orig.Steps()) {
		t.Fatalf("steps differ:\n got %+v\nwant %+v", got.Steps(), orig.Steps())
	}
	if !jsonEqual(got.StepsOf(nil, 1), orig.StepsOf(nil, 1)) || got.Step(nil, 1, 2) == nil {
		t.Errorf("step indexes after restore: %+v", got.StepsOf(nil, 1))
	}
	if !jsonEqual(got.Jobs(), orig.Jobs()) || !jsonEqual(got.Usage(), orig.Usage()) {
		t.Errorf("jobs or usage differ:\n got %+v\nwant %+v", got.Jobs(), orig.Jobs())
	}
	for _, n := range []string{"n1", "n2", "n3"} {
		if a, b := gangOnNode(fresh, n), gangOnNode(h, n); !slices.Equal(a, b) {
			t.Errorf("node index of %s after restore = %v, want %v", n, a, b)
		}
	}
	if j := fresh.job(1); j.Steps != 3 || j.State != api.StateCompleting || j.MasterPort != fsm.MasterPortBase {
		t.Errorf("restored job: %+v", j)
	}
	// The restored FSM carries on: the job ends and its steps close.
	fresh.tick(time.Second)
	fresh.finish("n1", api.TaskReport{JobID: 1, State: api.TaskExited, ExitCode: 143, Signal: 15})
	fresh.finish("n2", gangExit(1, 0))
	if j := fresh.job(1); j.State != api.StateFailed || j.ExitCode != 143 || j.EndState != "" {
		t.Errorf("restored job after the last reports: %s %q exit %d end state %s", j.State, j.Reason, j.ExitCode, j.EndState)
	}
	want := map[int]api.StepState{0: api.StepFailed, 1: api.StepCompleted, 2: api.StepCancelled}
	for id, st := range want {
		if s := gangGetStep(fresh, 1, id); s.State != st {
			t.Errorf("restored step %d = %s, want %s", id, s.State, st)
		}
	}
}

// ---- commands ----

func TestGangBadCommands(t *testing.T) {
	for _, c := range []fsm.Command{
		{Type: fsm.CmdPreempt},
		{Type: fsm.CmdStepStart},
		{Type: fsm.CmdStepEnd},
		{Type: fsm.CmdStepCancel},
	} {
		t.Run(string(c.Type), func(t *testing.T) {
			h := newHarness(t)
			if _, err := h.f.ApplyCommand(&c); err == nil {
				t.Errorf("ApplyCommand(%+v) succeeded", c)
			}
		})
	}
	// An unknown preemption mode fails the whole command: nothing changes.
	h := gangRunning(t, "n1", "n2")
	h.submit(gangJob(1))
	h.start(gangPlace(2, "n3"))
	_, err := h.f.ApplyCommand(&fsm.Command{Type: fsm.CmdPreempt, Time: h.now, Preempt: &fsm.PreemptCmd{Jobs: []fsm.PreemptJob{
		{JobID: 2, Mode: api.PreemptRequeue}, {JobID: 1, Mode: "SOMETIMES"},
	}}})
	if err == nil {
		t.Fatal("preempt with an unknown mode succeeded")
	}
	if j := h.job(2); j.State != api.StateRunning || j.Requeue {
		t.Errorf("failed preempt command changed job 2: %s requeue=%v", j.State, j.Requeue)
	}
}

// Step commands survive the raft log encoding.
func TestGangStepCommandsThroughRaft(t *testing.T) {
	h := gangRunning(t, "n1", "n2")
	st := gangStep(1, 0, "n1", "n2")
	st.Spec.Env = []string{"A=1"}
	apply := func(i uint64, c *fsm.Command) any {
		t.Helper()
		c.Time = h.now
		data, err := fsm.Encode(c)
		if err != nil {
			t.Fatal(err)
		}
		var back fsm.Command
		if err := json.Unmarshal(data, &back); err != nil {
			t.Fatal(err)
		}
		return h.f.Apply(&raft.Log{Index: i, Type: raft.LogCommand, Data: data})
	}
	res, ok := apply(1, &fsm.Command{Type: fsm.CmdStepStart, Step: &st}).(*fsm.StepStartResult)
	if !ok || res.Step == nil || res.Step.ID != 0 || !slices.Equal(res.Step.Spec.Env, st.Spec.Env) {
		t.Fatalf("step start through raft = %#v", res)
	}
	if r := apply(2, &fsm.Command{Type: fsm.CmdStepCancel, StepCancel: &api.StepRef{JobID: 1, Step: 0}}); r != nil {
		t.Fatalf("step cancel through raft = %#v", r)
	}
	if r := apply(3, &fsm.Command{Type: fsm.CmdStepEnd, StepEnd: &fsm.StepEndCmd{Node: "n1", Reports: []api.StepReport{{JobID: 1, Step: 0, Rank: 0, Signal: 15}}}}); r != nil {
		t.Fatalf("step end through raft = %#v", r)
	}
	if r := apply(4, &fsm.Command{Type: fsm.CmdStepEnd, StepEnd: &fsm.StepEndCmd{Node: "n2", Reports: []api.StepReport{{JobID: 1, Step: 0, Rank: 1, Signal: 15}}}}); r != nil {
		t.Fatalf("step end through raft = %#v", r)
	}
	if s := gangGetStep(h, 1, 0); s.State != api.StepCancelled || s.ExitCode != 143 {
		t.Errorf("step = %+v", s)
	}
}
