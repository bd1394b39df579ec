package fsm_test

import (
	"bytes"
	"io"
	"slices"
	"testing"
	"time"

	"github.com/hashicorp/raft"

	"github.com/gsched/gsched/pkg/api"
	"github.com/gsched/gsched/pkg/fsm"
)

func (h *harness) jobsCmd(typ fsm.CmdType, admin bool, ids ...api.JobID) []api.JobID {
	h.t.Helper()
	res := h.apply(&fsm.Command{Type: typ, Jobs: &fsm.JobsCmd{IDs: ids, Admin: admin}})
	return res.(*fsm.JobsResult).Done
}

// Hold and release as the server sends them: a user's hold is
// JobHeldUser, an operator's JobHeldAdmin, which only an operator's
// release lifts; neither touches a job that is not pending.
func TestHoldRelease(t *testing.T) {
	tests := []struct {
		name       string
		submitHeld bool
		steps      []struct {
			typ   fsm.CmdType
			admin bool
		}
		done       []bool // per step: was the job changed
		wantHold   bool
		wantAdmin  bool
		wantReason string
	}{
		{name: "user hold", steps: steps(fsm.CmdHold, false), done: []bool{true},
			wantHold: true, wantReason: api.ReasonHeld},
		{name: "admin hold", steps: steps(fsm.CmdHold, true), done: []bool{true},
			wantHold: true, wantAdmin: true, wantReason: api.ReasonHeldAdmin},
		{name: "user cannot release admin hold", steps: steps(fsm.CmdHold, true, fsm.CmdRelease, false), done: []bool{true, false},
			wantHold: true, wantAdmin: true, wantReason: api.ReasonHeldAdmin},
		{name: "admin releases admin hold", steps: steps(fsm.CmdHold, true, fsm.CmdRelease, true), done: []bool{true, true},
			wantReason: api.ReasonNone},
		{name: "user hold over admin hold keeps admin", steps: steps(fsm.CmdHold, true, fsm.CmdHold, false), done: []bool{true, true},
			wantHold: true, wantAdmin: true, wantReason: api.ReasonHeldAdmin},
		{name: "admin hold over user hold", steps: steps(fsm.CmdHold, false, fsm.CmdHold, true), done: []bool{true, true},
			wantHold: true, wantAdmin: true, wantReason: api.ReasonHeldAdmin},
		{name: "user releases gsub --hold", submitHeld: true, steps: steps(fsm.CmdRelease, false), done: []bool{true},
			wantReason: api.ReasonNone},
		{name: "release of a job not held", steps: steps(fsm.CmdRelease, true), done: []bool{false},
			wantReason: api.ReasonNone},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			j := newJob()
			j.Spec.Hold = tc.submitHeld
			id := h.submit(j)[0]
			for i, s := range tc.steps {
				done := h.jobsCmd(s.typ, s.admin, id, 99) // 99: unknown, ignored
				if got := len(done) == 1; got != tc.done[i] {
					t.Fatalf("step %d (%s admin=%v): done %v, want %v", i, s.typ, s.admin, done, tc.done[i])
				}
			}
			got := h.job(id)
			if got.State != api.StatePending || got.Spec.Hold != tc.wantHold || got.HoldAdmin != tc.wantAdmin || got.Reason != tc.wantReason {
				t.Fatalf("job: state %s hold %v admin %v reason %q; want hold %v admin %v reason %q",
					got.State, got.Spec.Hold, got.HoldAdmin, got.Reason, tc.wantHold, tc.wantAdmin, tc.wantReason)
			}
		})
	}
}

func steps(args ...any) []struct {
	typ   fsm.CmdType
	admin bool
} {
	var out []struct {
		typ   fsm.CmdType
		admin bool
	}
	for i := 0; i < len(args); i += 2 {
		out = append(out, struct {
			typ   fsm.CmdType
			admin bool
		}{args[i].(fsm.CmdType), args[i+1].(bool)})
	}
	return out
}

func TestHoldLeavesRunningJob(t *testing.T) {
	h := running(t)
	if done := h.jobsCmd(fsm.CmdHold, true, 1); len(done) != 0 {
		t.Fatalf("hold of a running job: done %v", done)
	}
	if j := h.job(1); j.State != api.StateRunning || j.Spec.Hold {
		t.Fatalf("running job after hold: %s hold=%v", j.State, j.Spec.Hold)
	}
}

// Requeue of a running job stops it (COMPLETING), then the node's report
// makes it PENDING again as attempt 1 with reason JobRequeued, its run
// charged; a stale report of the old attempt does not end the new one.
func TestRequeueRunning(t *testing.T) {
	h := newHarness(t)
	h.register(nodeNamed("n1"))
	h.submit(newJob(account("a")))
	h.tick(time.Second)
	p := placement(1, "n1", 1, gib)
	p.Billing = 2
	h.start(p)
	h.tick(5 * time.Second)
	if done := h.jobsCmd(fsm.CmdRequeue, false, 1); !slices.Equal(done, []api.JobID{1}) {
		t.Fatalf("requeue: done %v", done)
	}
	j := h.job(1)
	if j.State != api.StateCompleting || !j.Requeue || j.RequeueReason != api.ReasonRequeued {
		t.Fatalf("after requeue: %s requeue=%v reason=%q", j.State, j.Requeue, j.RequeueReason)
	}
	// A second requeue while it stops changes nothing.
	if done := h.jobsCmd(fsm.CmdRequeue, false, 1); len(done) != 0 {
		t.Fatalf("requeue of a stopping job: done %v", done)
	}
	h.finish("n1", api.TaskReport{JobID: 1, State: api.TaskExited, Cancelled: true, ExitCode: 143})
	j = h.job(1)
	if j.State != api.StatePending || j.Reason != api.ReasonRequeued || j.Restarts != 1 || j.Allocs != nil ||
		j.Requeue || j.RequeueReason != "" || !j.StartTime.IsZero() {
		t.Fatalf("after the stop: %+v", j)
	}
	if u := h.store.Snapshot().AllUsage(); len(u) != 1 || u[0].Value != 10 { // 2/s × 5 s
		t.Fatalf("usage of the requeued run: %+v", u)
	}
	h.start(placement(1, "n1", 1, gib))
	h.finish("n1", api.TaskReport{JobID: 1, Attempt: 0, State: api.TaskExited, ExitCode: 1})
	if j := h.job(1); j.State != api.StateRunning {
		t.Fatalf("a report of attempt 0 ended attempt 1: %s", j.State)
	}
}

// A node failing under a job being requeued keeps the requeue's reason.
func TestRequeueThenNodeDown(t *testing.T) {
	h := newHarness(t)
	h.register(nodeNamed("n1"))
	h.submit(newJob())
	h.start(placement(1, "n1", 1, gib))
	h.jobsCmd(fsm.CmdRequeue, true, 1)
	h.apply(&fsm.Command{Type: fsm.CmdNodeDown, NodeDown: &fsm.NodeDownCmd{Node: "n1", Reason: "gone"}})
	if j := h.job(1); j.State != api.StatePending || j.Reason != api.ReasonRequeued || j.Restarts != 1 {
		t.Fatalf("job: %s %q restarts %d", j.State, j.Reason, j.Restarts)
	}
}

// Finished batch jobs go back to the queue at once, whatever their end;
// pending jobs and --no-requeue jobs are left alone. Usage charged when
// the job ended is not charged again.
func TestRequeueStates(t *testing.T) {
	noRequeue := func(j *api.Job) { j.Spec.NoRequeue = true }
	tests := []struct {
		name   string
		opts   []specOpt
		report *api.TaskReport // run and ended so
		run    bool            // run, still running
		cancel bool
		done   bool
	}{
		{name: "completed", report: &api.TaskReport{State: api.TaskExited}, done: true},
		{name: "failed", report: &api.TaskReport{State: api.TaskExited, ExitCode: 2}, done: true},
		{name: "timeout", report: &api.TaskReport{State: api.TaskExited, TimedOut: true}, done: true},
		{name: "cancelled pending", cancel: true, done: true},
		{name: "pending", done: false},
		{name: "no-requeue running", opts: []specOpt{noRequeue}, run: true, done: false},
		{name: "no-requeue completed", opts: []specOpt{noRequeue}, report: &api.TaskReport{State: api.TaskExited}, done: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			h.register(nodeNamed("n1"))
			h.submit(newJob(append(tc.opts, account("a"))...))
			if tc.run || tc.report != nil {
				p := placement(1, "n1", 1, gib)
				p.Billing = 1
				h.start(p)
				h.tick(3 * time.Second)
			}
			if tc.report != nil {
				r := *tc.report
				r.JobID = 1
				h.finish("n1", r)
			}
			if tc.cancel {
				h.cancel(1)
			}
			before := h.job(1)
			usage := h.store.Snapshot().AllUsage()
			h.tick(time.Minute)
			done := h.jobsCmd(fsm.CmdRequeue, false, 1)
			if got := len(done) == 1; got != tc.done {
				t.Fatalf("requeue of a %s job: done %v, want %v", before.State, done, tc.done)
			}
			j := h.job(1)
			if !tc.done {
				if !jsonEqual(j, before) {
					t.Fatalf("job changed:\n got %+v\nwant %+v", j, before)
				}
				return
			}
			if j.State != api.StatePending || j.Reason != api.ReasonRequeued || j.Restarts != before.Restarts+1 ||
				!j.EndTime.IsZero() || j.ExitCode != 0 || j.Allocs != nil {
				t.Fatalf("requeued job: %+v", j)
			}
			if u := h.store.Snapshot().AllUsage(); !jsonEqual(u, usage) {
				t.Fatalf("usage charged again: %+v, was %+v", u, usage)
			}
		})
	}
}

// An update applies to a pending job whose fields are still those the
// server validated against; a job changed since, or no longer pending,
// is left alone.
func TestUpdateJob(t *testing.T) {
	h := newHarness(t)
	h.register(nodeNamed("n1"))
	h.submit(newJob(limit(600)), newJob(limit(600)), newJob(limit(600))) // 1, 2, 3
	h.start(placement(3, "n1", 1, gib))
	old := fsm.FieldsOf(h.job(1).Spec)
	nf := old
	nf.TimeLimit, nf.Name, nf.Comment, nf.Nice = 300, "renamed", "c", 5
	stale := old
	stale.Name = "other"
	res := h.apply(&fsm.Command{Type: fsm.CmdUpdateJob, UpdateJob: &fsm.UpdateJobCmd{Jobs: []fsm.JobChange{
		{ID: 1, Old: old, New: nf}, {ID: 2, Old: stale, New: nf}, {ID: 3, Old: old, New: nf}, {ID: 9, Old: old, New: nf},
	}}}).(*fsm.JobsResult)
	if !slices.Equal(res.Done, []api.JobID{1}) {
		t.Fatalf("updated %v, want [1]", res.Done)
	}
	if got := fsm.FieldsOf(h.job(1).Spec); got != nf {
		t.Fatalf("job 1 fields %+v, want %+v", got, nf)
	}
	if s := h.job(1).Spec; s.Script != "#!/bin/sh\n" || s.MemBytes != gib {
		t.Fatalf("update touched other fields: %+v", s)
	}
	for _, id := range []api.JobID{2, 3} {
		if got := fsm.FieldsOf(h.job(id).Spec); got != old {
			t.Fatalf("job %d changed: %+v", id, got)
		}
	}
}

// The job-control commands go through the raft log encoded, and what they
// set survives a snapshot and restore.
func TestJobControlThroughLogAndSnapshot(t *testing.T) {
	h := newHarness(t)
	h.register(nodeNamed("n1"))
	h.submit(newJob(), newJob()) // 1 held by an operator, 2 running then requeued
	h.start(placement(2, "n1", 1, gib))
	idx := uint64(10)
	for _, c := range []*fsm.Command{
		{Type: fsm.CmdHold, Time: h.now, Jobs: &fsm.JobsCmd{IDs: []api.JobID{1}, Admin: true}},
		{Type: fsm.CmdRequeue, Time: h.now, Jobs: &fsm.JobsCmd{IDs: []api.JobID{2}, Reason: "PrologFailed"}},
	} {
		b, err := fsm.Encode(c)
		if err != nil {
			t.Fatal(err)
		}
		idx++
		if res := h.f.Apply(&raft.Log{Index: idx, Type: raft.LogCommand, Data: b}); res == nil {
			t.Fatalf("apply %s: nil result", c.Type)
		} else if err, ok := res.(error); ok {
			t.Fatalf("apply %s: %v", c.Type, err)
		}
	}
	sink := snapshotOf(t, h.f)
	fresh := newHarness(t)
	if err := fresh.f.Restore(io.NopCloser(bytes.NewReader(sink.Bytes()))); err != nil {
		t.Fatal(err)
	}
	if j := fresh.job(1); !j.Spec.Hold || !j.HoldAdmin || j.Reason != api.ReasonHeldAdmin {
		t.Fatalf("held job after restore: hold %v admin %v %q", j.Spec.Hold, j.HoldAdmin, j.Reason)
	}
	if j := fresh.job(2); j.State != api.StateCompleting || !j.Requeue || j.RequeueReason != "PrologFailed" {
		t.Fatalf("requeueing job after restore: %s %v %q", j.State, j.Requeue, j.RequeueReason)
	}
	fresh.finish("n1", api.TaskReport{JobID: 2, State: api.TaskExited, Cancelled: true})
	if j := fresh.job(2); j.State != api.StatePending || j.Reason != "PrologFailed" || j.Restarts != 1 {
		t.Fatalf("requeued job after restore: %s %q %d", j.State, j.Reason, j.Restarts)
	}
	// A user's release cannot lift the restored operator's hold.
	if done := fresh.jobsCmd(fsm.CmdRelease, false, 1); len(done) != 0 {
		t.Fatalf("user release of an operator's hold: %v", done)
	}
}
