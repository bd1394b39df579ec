package fsm_test

import (
	"bytes"
	"encoding/json"
	"io"
	"testing"
	"time"

	"github.com/hashicorp/raft"

	"github.com/gsched/gsched/pkg/api"
	"github.com/gsched/gsched/pkg/fsm"
)

// stateBytes is the store's snapshot as the FSM persists it.
func stateBytes(t *testing.T, f *fsm.FSM) []byte {
	t.Helper()
	return snapshotOf(t, f).Bytes()
}

// fuzzHarness is a store with two nodes and jobs in every live state.
func fuzzHarness(t *testing.T) *harness {
	h := newHarness(t)
	h.register(gpuNode("n1", 8, 16*gib, 4))
	h.register(nodeNamed("n2"))
	h.submit(newJob(limit(60)), newJob(owner("bob"), gpus(2)), newJob(hold()), newJob())
	h.start(placement(1, "n1", 2, gib, 0, 3), placement(2, "n2", 1, gib))
	h.apply(&fsm.Command{Type: fsm.CmdSignal, Signal: &fsm.SignalCmd{IDs: []api.JobID{1}, Signal: 10}})
	h.apply(&fsm.Command{Type: fsm.CmdStepStart, Step: &api.Step{JobID: 1, Spec: api.StepSpec{Argv: []string{"x"}},
		Tasks: []api.StepTask{{Rank: 0, Node: "n1"}}}})
	h.tick(time.Second)
	return h
}

// checkRestores: what the FSM persists, it restores to the same state.
func checkRestores(t *testing.T, f *fsm.FSM, data []byte) {
	t.Helper()
	fresh := newHarness(t)
	if err := fresh.f.Restore(io.NopCloser(bytes.NewReader(data))); err != nil {
		t.Fatalf("a snapshot the FSM wrote does not restore: %v", err)
	}
	if again := stateBytes(t, fresh.f); !bytes.Equal(again, data) {
		t.Fatalf("restore changed the state:\n%s\n%s", data, again)
	}
}

// FuzzApplyLog: a raft log entry of any content (a corrupt or hostile
// log) is applied or refused as a whole, never panics the controller, and
// leaves a state that snapshots and restores unchanged.
func FuzzApplyLog(f *testing.F) {
	for _, c := range []fsm.Command{
		{Type: fsm.CmdSubmit, Submit: &fsm.SubmitCmd{Jobs: []api.Job{newJob(gpus(1))}}},
		{Type: fsm.CmdStart, Start: &fsm.StartCmd{Placements: []fsm.Placement{placement(4, "n2", 1, gib)}}},
		{Type: fsm.CmdFinish, Finish: &fsm.FinishCmd{Node: "n1", Reports: []api.TaskReport{{JobID: 1, State: api.TaskExited, ExitCode: 2}}}},
		{Type: fsm.CmdCancel, Cancel: &fsm.CancelCmd{IDs: []api.JobID{1, 3, 99}}},
		{Type: fsm.CmdAckSignals, Ack: &fsm.AckCmd{JobID: 1, Seq: 1}},
		{Type: fsm.CmdRegisterNode, Register: &fsm.RegisterCmd{Node: gpuNode("n1", 1, gib, 1)}},
		{Type: fsm.CmdNodeDown, NodeDown: &fsm.NodeDownCmd{Node: "n1", Reason: "x"}},
		{Type: fsm.CmdPreempt, Preempt: &fsm.PreemptCmd{Jobs: []fsm.PreemptJob{{JobID: 1, For: 3, Mode: "REQUEUE", GraceSec: 5}}}},
		{Type: fsm.CmdStepEnd, StepEnd: &fsm.StepEndCmd{Node: "n1", Reports: []api.StepReport{{JobID: 1, Step: 0, Rank: 0, ExitCode: 1}}}},
		{Type: fsm.CmdStepCancel, StepCancel: &api.StepRef{JobID: 1, Step: 0}},
		{Type: fsm.CmdNodeState, NodeState: &fsm.NodeStateCmd{Nodes: []string{"n2"}, State: api.NodeDrain, Reason: "r"}},
		{Type: fsm.CmdPurge, Purge: &fsm.PurgeCmd{Before: t0.Add(time.Hour)}},
	} {
		c.Time = t0.Add(time.Minute)
		b, err := fsm.Encode(&c)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"type":"start","start":{"placements":[{"job_id":4,"allocs":[{"node":"n1","cpus":-5,"gpus":[0,0,9]}]}]}}`))
	f.Add([]byte(`{"type":"submit","submit":{"jobs":[null]}}`))
	f.Add([]byte(`{"type":"finish","finish":null}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		h := fuzzHarness(t)
		before := stateBytes(t, h.f)
		res := h.f.Apply(&raft.Log{Index: 9, Type: raft.LogCommand, Data: data})
		after := stateBytes(t, h.f)
		if err, ok := res.(error); ok && !bytes.Equal(before, after) {
			t.Fatalf("refused (%v) but changed the state", err)
		}
		if !json.Valid(after) {
			t.Fatalf("state does not encode: %s", after)
		}
		checkRestores(t, h.f, after)
	})
}

// FuzzRestore: a snapshot file of any content is restored or refused,
// never panics; a restored state persists again as it was read.
func FuzzRestore(f *testing.F) {
	f.Add([]byte(`{"meta":[{"key":"next_job_id","value":3}],"nodes":[{"name":"n1","cpus":2}],"jobs":[{"id":1,"user":"a","state":"PENDING","spec":{"partition":"main"}}],"usage":[],"steps":[{"job_id":1,"id":0,"tasks":[]}]}`))
	f.Add([]byte(`{"nodes":[null],"jobs":[null],"steps":[null]}`))
	f.Add([]byte(`{"jobs":[{"id":1},{"id":1}]}`))
	f.Add([]byte(`{"meta":[{"key":"","value":-1}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		h := fuzzHarness(t)
		before := stateBytes(t, h.f)
		if err := h.f.Restore(io.NopCloser(bytes.NewReader(data))); err != nil {
			if after := stateBytes(t, h.f); !bytes.Equal(before, after) {
				t.Fatalf("refused snapshot (%v) changed the state", err)
			}
			return
		}
		checkRestores(t, h.f, stateBytes(t, h.f))
	})
}
