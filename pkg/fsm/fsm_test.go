package fsm_test

import (
	"bytes"
	"encoding/json"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/raft"
	"go.uber.org/zap"

	"github.com/gsched/gsched/pkg/api"
	"github.com/gsched/gsched/pkg/fsm"
	"github.com/gsched/gsched/pkg/state"
)

const gib = int64(1) << 30

var t0 = time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)

// ---- harness and builders ----

// harness is an FSM over a fresh store with a settable clock.
type harness struct {
	t     *testing.T
	store *state.Store
	f     *fsm.FSM
	now   time.Time
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	s, err := state.New()
	if err != nil {
		t.Fatal(err)
	}
	return &harness{t: t, store: s, f: fsm.New(s, zap.NewNop()), now: t0}
}

// apply applies c at h.now (unless c has a time) and fails the test on error.
func (h *harness) apply(c *fsm.Command) any {
	h.t.Helper()
	if c.Time.IsZero() {
		c.Time = h.now
	}
	res, err := h.f.ApplyCommand(c)
	if err != nil {
		h.t.Fatalf("apply %s: %v", c.Type, err)
	}
	return res
}

func (h *harness) tick(d time.Duration) { h.now = h.now.Add(d) }

func (h *harness) submit(jobs ...api.Job) []api.JobID {
	h.t.Helper()
	res := h.apply(&fsm.Command{Type: fsm.CmdSubmit, Submit: &fsm.SubmitCmd{Jobs: jobs}})
	return res.(*fsm.SubmitResult).IDs
}

func (h *harness) register(n api.Node) {
	h.t.Helper()
	h.apply(&fsm.Command{Type: fsm.CmdRegisterNode, Register: &fsm.RegisterCmd{Node: n}})
}

func (h *harness) start(ps ...fsm.Placement) *fsm.StartResult {
	h.t.Helper()
	return h.apply(&fsm.Command{Type: fsm.CmdStart, Start: &fsm.StartCmd{Placements: ps}}).(*fsm.StartResult)
}

func (h *harness) finish(node string, rs ...api.TaskReport) {
	h.t.Helper()
	h.apply(&fsm.Command{Type: fsm.CmdFinish, Finish: &fsm.FinishCmd{Node: node, Reports: rs}})
}

func (h *harness) cancel(ids ...api.JobID) {
	h.t.Helper()
	h.apply(&fsm.Command{Type: fsm.CmdCancel, Cancel: &fsm.CancelCmd{IDs: ids}})
}

func (h *harness) job(id api.JobID) *api.Job {
	h.t.Helper()
	j := h.store.Snapshot().Job(nil, id)
	if j == nil {
		h.t.Fatalf("job %d not found", id)
	}
	return j
}

func (h *harness) node(name string) *api.Node {
	h.t.Helper()
	n := h.store.Snapshot().Node(name)
	if n == nil {
		h.t.Fatalf("node %s not found", name)
	}
	return n
}

// setNode overwrites a node directly (for states no command sets, DRAIN).
func (h *harness) setNode(n api.Node) {
	h.t.Helper()
	if err := h.store.Write(func(t *state.Txn) error { return t.PutNode(&n) }); err != nil {
		h.t.Fatal(err)
	}
}

type specOpt func(*api.Job)

// newJob is a one-CPU, 1 GiB job of alice's in partition main.
func newJob(opts ...specOpt) api.Job {
	j := api.Job{
		User: "alice", UID: 1000, GID: 1000,
		Spec: &api.JobSpec{Name: "j", Partition: "main", Nodes: 1, NTasks: 1, CPUsPerTask: 1, MemBytes: gib, Script: "#!/bin/sh\n"},
	}
	for _, o := range opts {
		o(&j)
	}
	return j
}

func hold() specOpt                  { return func(j *api.Job) { j.Spec.Hold = true } }
func cpus(n int) specOpt             { return func(j *api.Job) { j.Spec.CPUsPerTask = n } }
func gpus(n int) specOpt             { return func(j *api.Job) { j.Spec.GPUs = n } }
func limit(sec int64) specOpt        { return func(j *api.Job) { j.Spec.TimeLimit = sec } }
func owner(u string) specOpt         { return func(j *api.Job) { j.User = u } }
func priority(p int64) specOpt       { return func(j *api.Job) { j.Priority = p } }
func nodeNamed(name string) api.Node { return gpuNode(name, 8, 16*gib, 0) }

// gpuNode is a node with GPUs 0..gpus-1 (minor = index + 10).
func gpuNode(name string, cpus int, mem int64, gpus int) api.Node {
	n := api.Node{Name: name, CPUs: cpus, MemBytes: mem}
	for i := 0; i < gpus; i++ {
		n.GPUs = append(n.GPUs, api.GPU{Index: i, Minor: i + 10})
	}
	return n
}

func placement(id api.JobID, node string, cpus int, mem int64, gpus ...int) fsm.Placement {
	return fsm.Placement{JobID: id, Allocs: []api.Allocation{{Node: node, CPUs: cpus, MemBytes: mem, GPUs: gpus}}}
}

// ---- submit and IDs ----

func TestSubmitAssignsIncreasingIDs(t *testing.T) {
	h := newHarness(t)
	given := newJob(priority(7))
	given.ID, given.State, given.Reason = 99, api.StateRunning, "bogus" // the FSM decides these
	if got := h.submit(given, newJob(), newJob(hold())); !slices.Equal(got, []api.JobID{1, 2, 3}) {
		t.Fatalf("first IDs = %v, want 1 2 3", got)
	}
	h.tick(time.Minute)
	if got := h.submit(newJob(), newJob()); !slices.Equal(got, []api.JobID{4, 5}) {
		t.Fatalf("next IDs = %v, want 4 5", got)
	}
	if h.store.Snapshot().Job(nil, 99) != nil {
		t.Error("the submitted ID 99 was used")
	}
	j1 := h.job(1)
	if j1.State != api.StatePending || j1.Reason != api.ReasonNone || !j1.SubmitTime.Equal(t0) || j1.Priority != 7 || j1.User != "alice" {
		t.Errorf("job 1 = %+v", j1)
	}
	if j3 := h.job(3); j3.State != api.StatePending || j3.Reason != api.ReasonHeld {
		t.Errorf("held job 3: state %s reason %q, want PENDING %s", j3.State, j3.Reason, api.ReasonHeld)
	}
	if j4 := h.job(4); !j4.SubmitTime.Equal(t0.Add(time.Minute)) {
		t.Errorf("job 4 submit time %v, want the command's time", j4.SubmitTime)
	}
}

func TestIDsNeverReusedAfterPurge(t *testing.T) {
	h := newHarness(t)
	ids := h.submit(newJob(), newJob(), newJob())
	h.cancel(ids...)
	h.tick(time.Hour)
	if n := h.apply(&fsm.Command{Type: fsm.CmdPurge, Purge: &fsm.PurgeCmd{Before: h.now}}); n != 3 {
		t.Fatalf("purged %v jobs, want 3", n)
	}
	if jobs := h.store.Snapshot().Jobs(); len(jobs) != 0 {
		t.Fatalf("jobs left after purge: %d", len(jobs))
	}
	if got := h.submit(newJob()); !slices.Equal(got, []api.JobID{4}) {
		t.Errorf("ID after purging everything = %v, want 4", got)
	}
}

// ---- start ----

func TestStart(t *testing.T) {
	type setup struct {
		node    api.Node
		running []fsm.Placement // started first, on jobs 1..n
	}
	base := setup{node: gpuNode("n1", 8, 16*gib, 4), running: []fsm.Placement{placement(1, "n1", 6, 8*gib, 1)}}
	tests := []struct {
		name    string
		setup   setup
		jobOpts []specOpt // for the job under test, ID 2
		place   []fsm.Placement
		started []api.JobID
		skipped []api.JobID
	}{
		{name: "fits", setup: base, place: []fsm.Placement{placement(2, "n1", 2, 8*gib, 0, 2, 3)}, started: []api.JobID{2}},
		{name: "oversubscribes CPUs", setup: base, place: []fsm.Placement{placement(2, "n1", 3, gib)}, skipped: []api.JobID{2}},
		{name: "oversubscribes memory", setup: base, place: []fsm.Placement{placement(2, "n1", 1, 8*gib+1)}, skipped: []api.JobID{2}},
		{name: "GPU already allocated", setup: base, place: []fsm.Placement{placement(2, "n1", 1, gib, 1)}, skipped: []api.JobID{2}},
		{name: "GPU not on the node", setup: base, place: []fsm.Placement{placement(2, "n1", 1, gib, 4)}, skipped: []api.JobID{2}},
		{name: "same GPU twice in one allocation", setup: base, place: []fsm.Placement{placement(2, "n1", 1, gib, 2, 2)}, skipped: []api.JobID{2}},
		{name: "unknown node", setup: base, place: []fsm.Placement{placement(2, "n9", 1, gib)}, skipped: []api.JobID{2}},
		{name: "unknown job", setup: base, place: []fsm.Placement{placement(42, "n1", 1, gib)}, skipped: []api.JobID{42}},
		{name: "job not pending (already running)", setup: base, place: []fsm.Placement{placement(1, "n1", 1, gib)}, skipped: []api.JobID{1}},
		{name: "held job", setup: base, jobOpts: []specOpt{hold()}, place: []fsm.Placement{placement(2, "n1", 1, gib)}, skipped: []api.JobID{2}},
		{name: "fewer CPUs than requested", setup: base, jobOpts: []specOpt{cpus(2)}, place: []fsm.Placement{placement(2, "n1", 1, gib)}, skipped: []api.JobID{2}},
		{name: "less memory than requested", setup: base, place: []fsm.Placement{placement(2, "n1", 1, gib-1)}, skipped: []api.JobID{2}},
		{name: "fewer GPUs than requested", setup: base, jobOpts: []specOpt{gpus(2)}, place: []fsm.Placement{placement(2, "n1", 1, gib, 0)}, skipped: []api.JobID{2}},
		{
			name: "the same job placed twice in one command starts once", setup: base,
			place:   []fsm.Placement{placement(2, "n1", 1, gib), placement(2, "n1", 1, gib)},
			started: []api.JobID{2}, skipped: []api.JobID{2},
		},
		{
			name:  "placements of one command count against each other",
			setup: setup{node: gpuNode("n1", 8, 16*gib, 2), running: []fsm.Placement{placement(1, "n1", 1, gib)}},
			place: []fsm.Placement{
				placement(2, "n1", 4, gib, 0), placement(3, "n1", 4, gib, 1), // 9 CPUs > 8
				placement(4, "n1", 1, gib, 0), // GPU 0 taken by job 2 in this command
				placement(5, "n1", 3, gib, 1),
			},
			started: []api.JobID{2, 5},
			skipped: []api.JobID{3, 4},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			h.register(tt.setup.node)
			h.submit(newJob()) // job 1
			if r := h.start(tt.setup.running...); len(r.Started) != len(tt.setup.running) {
				t.Fatalf("setup: %+v", r)
			}
			h.submit(newJob(tt.jobOpts...), newJob(), newJob(), newJob()) // jobs 2..5
			h.tick(time.Second)
			res := h.start(tt.place...)
			if !slices.Equal(res.Started, tt.started) || !slices.Equal(res.Skipped, tt.skipped) {
				t.Fatalf("started %v skipped %v, want %v %v", res.Started, res.Skipped, tt.started, tt.skipped)
			}
			for _, id := range tt.skipped {
				if id == 1 || slices.Contains(tt.started, id) {
					continue // running before, or started by another placement
				}
				if j := h.store.Snapshot().Job(nil, id); j != nil && (j.State != api.StatePending || j.Allocs != nil) {
					t.Errorf("skipped job %d changed: %s %+v", id, j.State, j.Allocs)
				}
			}
			for _, p := range tt.place {
				if !slices.Contains(tt.started, p.JobID) {
					continue
				}
				j := h.job(p.JobID)
				if j.State != api.StateRunning || len(j.Allocs) != 1 || j.Allocs[0].Node != p.Allocs[0].Node ||
					!slices.Equal(j.Allocs[0].GPUs, p.Allocs[0].GPUs) || !j.StartTime.Equal(h.now) {
					t.Errorf("started job %d = %s %+v at %v", p.JobID, j.State, j.Allocs, j.StartTime)
				}
			}
		})
	}
}

func TestStartOnUnavailableNode(t *testing.T) {
	tests := []struct {
		name  string
		state api.NodeState
	}{
		{"down", api.NodeDown},
		{"drain", api.NodeDrain},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			n := nodeNamed("n1")
			n.State = tt.state
			h.setNode(n)
			h.submit(newJob())
			res := h.start(placement(1, "n1", 1, gib))
			if len(res.Started) != 0 || !slices.Equal(res.Skipped, []api.JobID{1}) {
				t.Errorf("start on %s node: %+v", tt.state, res)
			}
		})
	}
}

func TestStartSetsDeadline(t *testing.T) {
	h := newHarness(t)
	h.register(nodeNamed("n1"))
	h.submit(newJob(limit(90)), newJob())
	h.tick(time.Minute)
	h.start(placement(1, "n1", 1, gib), placement(2, "n1", 1, gib))
	if got, want := h.job(1).Deadline, h.now.Add(90*time.Second); !got.Equal(want) {
		t.Errorf("deadline = %v, want %v", got, want)
	}
	if got := h.job(2).Deadline; !got.IsZero() {
		t.Errorf("unlimited job has deadline %v", got)
	}
}

// ---- finish ----

func TestFinalState(t *testing.T) {
	tests := []struct {
		name       string
		cancelReq  bool
		report     api.TaskReport
		want       api.JobState
		wantReason string
	}{
		{"cancel requested", true, api.TaskReport{State: api.TaskExited, ExitCode: 143, Signal: 15}, api.StateCancelled, api.ReasonCancelled},
		{"cancelled by the node", false, api.TaskReport{State: api.TaskExited, Cancelled: true}, api.StateCancelled, api.ReasonCancelled},
		{"cancel wins over time-out", true, api.TaskReport{State: api.TaskExited, TimedOut: true}, api.StateCancelled, api.ReasonCancelled},
		{"timed out", false, api.TaskReport{State: api.TaskExited, TimedOut: true, ExitCode: 143}, api.StateTimeout, api.ReasonTimeLimit},
		{"time-out wins over OOM", false, api.TaskReport{State: api.TaskExited, TimedOut: true, OOMKilled: true}, api.StateTimeout, api.ReasonTimeLimit},
		{"out of memory", false, api.TaskReport{State: api.TaskExited, OOMKilled: true, ExitCode: 137}, api.StateOutOfMemory, "OutOfMemory"},
		{"lost", false, api.TaskReport{State: api.TaskLost}, api.StateFailed, "TaskLost"},
		{"start error", false, api.TaskReport{State: api.TaskExited, ExitCode: 1, Error: "no such user"}, api.StateFailed, "LaunchFailed: no such user"},
		{"exit code 3", false, api.TaskReport{State: api.TaskExited, ExitCode: 3}, api.StateFailed, "NonZeroExitCode"},
		{"killed by a signal", false, api.TaskReport{State: api.TaskExited, Signal: 9}, api.StateFailed, "NonZeroExitCode"},
		{"clean exit", false, api.TaskReport{State: api.TaskExited}, api.StateCompleted, api.ReasonNone},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j := &api.Job{ID: 1, State: api.StateRunning, CancelRequested: tt.cancelReq}
			st, reason := fsm.FinalState(j, &tt.report)
			if st != tt.want || reason != tt.wantReason {
				t.Errorf("FinalState = %s %q, want %s %q", st, reason, tt.want, tt.wantReason)
			}
		})
	}
}

// running returns a harness with job 1 running on n1 since t0+1s, with a
// pending signal.
func running(t *testing.T) *harness {
	h := newHarness(t)
	h.register(nodeNamed("n1"))
	h.register(nodeNamed("n2"))
	h.submit(newJob())
	h.tick(time.Second)
	if r := h.start(placement(1, "n1", 1, gib)); len(r.Started) != 1 {
		t.Fatalf("start: %+v", r)
	}
	h.apply(&fsm.Command{Type: fsm.CmdSignal, Signal: &fsm.SignalCmd{IDs: []api.JobID{1}, Signal: 10}})
	h.tick(time.Minute)
	return h
}

func TestFinish(t *testing.T) {
	tests := []struct {
		name   string
		report api.TaskReport
		want   api.Job // State, Reason, ExitCode, Signal, StartTime, EndTime
	}{
		{
			name:   "exit code 3",
			report: api.TaskReport{JobID: 1, State: api.TaskExited, ExitCode: 3, EndTime: t0.Add(30 * time.Second)},
			want:   api.Job{State: api.StateFailed, Reason: "NonZeroExitCode", ExitCode: 3, StartTime: t0.Add(time.Second), EndTime: t0.Add(30 * time.Second)},
		},
		{
			name:   "signal",
			report: api.TaskReport{JobID: 1, State: api.TaskExited, ExitCode: 137, Signal: 9, EndTime: t0.Add(30 * time.Second)},
			want:   api.Job{State: api.StateFailed, Reason: "NonZeroExitCode", ExitCode: 137, Signal: 9, StartTime: t0.Add(time.Second), EndTime: t0.Add(30 * time.Second)},
		},
		{
			name:   "no end time: the command's time",
			report: api.TaskReport{JobID: 1, State: api.TaskExited},
			want:   api.Job{State: api.StateCompleted, Reason: api.ReasonNone, StartTime: t0.Add(time.Second), EndTime: t0.Add(61 * time.Second)},
		},
		{
			name:   "end time in the future: the command's time",
			report: api.TaskReport{JobID: 1, State: api.TaskExited, EndTime: t0.Add(time.Hour)},
			want:   api.Job{State: api.StateCompleted, Reason: api.ReasonNone, StartTime: t0.Add(time.Second), EndTime: t0.Add(61 * time.Second)},
		},
		{
			name:   "end time before the start: the command's time",
			report: api.TaskReport{JobID: 1, State: api.TaskExited, EndTime: t0},
			want:   api.Job{State: api.StateCompleted, Reason: api.ReasonNone, StartTime: t0.Add(time.Second), EndTime: t0.Add(61 * time.Second)},
		},
		{
			name:   "the node's later start time is kept",
			report: api.TaskReport{JobID: 1, State: api.TaskExited, StartTime: t0.Add(3 * time.Second), EndTime: t0.Add(9 * time.Second)},
			want:   api.Job{State: api.StateCompleted, Reason: api.ReasonNone, StartTime: t0.Add(3 * time.Second), EndTime: t0.Add(9 * time.Second)},
		},
		{
			name:   "a node start time after the end is ignored",
			report: api.TaskReport{JobID: 1, State: api.TaskExited, StartTime: t0.Add(10 * time.Second), EndTime: t0.Add(9 * time.Second)},
			want:   api.Job{State: api.StateCompleted, Reason: api.ReasonNone, StartTime: t0.Add(time.Second), EndTime: t0.Add(9 * time.Second)},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := running(t)
			h.finish("n1", tt.report)
			j := h.job(1)
			got := api.Job{State: j.State, Reason: j.Reason, ExitCode: j.ExitCode, Signal: j.Signal, StartTime: j.StartTime, EndTime: j.EndTime}
			if !jsonEqual(got, tt.want) {
				t.Errorf("job after finish:\n got %+v\nwant %+v", got, tt.want)
			}
			if len(j.Signals) != 0 {
				t.Errorf("pending signals kept after finish: %v", j.Signals)
			}
			if u := h.store.Snapshot().Usage(); u["n1"].Jobs != 0 {
				t.Errorf("finished job still counted on n1: %+v", u["n1"])
			}
		})
	}
}

func TestFinishIgnored(t *testing.T) {
	h := running(t)
	h.submit(newJob()) // job 2, pending
	h.finish("n2", api.TaskReport{JobID: 1, State: api.TaskExited, ExitCode: 1})
	if j := h.job(1); j.State != api.StateRunning {
		t.Fatalf("report from the wrong node applied: %s", j.State)
	}
	h.finish("n1", api.TaskReport{JobID: 2, State: api.TaskExited}, api.TaskReport{JobID: 77, State: api.TaskExited})
	if j := h.job(2); j.State != api.StatePending {
		t.Fatalf("report for a pending job applied: %s", j.State)
	}
	h.finish("n1", api.TaskReport{JobID: 1, State: api.TaskExited})
	first := *h.job(1)
	h.tick(time.Minute)
	h.finish("n1", api.TaskReport{JobID: 1, State: api.TaskExited, ExitCode: 9})
	if j := h.job(1); !jsonEqual(*j, first) {
		t.Errorf("second report changed a final job:\n got %+v\nwant %+v", *j, first)
	}
}

// ---- cancel and signals ----

func TestCancel(t *testing.T) {
	h := running(t)
	h.submit(newJob()) // 2: pending
	h.cancel(1, 2, 99)
	j2 := h.job(2)
	if j2.State != api.StateCancelled || j2.Reason != api.ReasonCancelled || !j2.EndTime.Equal(h.now) {
		t.Errorf("cancelled pending job = %s %q end %v", j2.State, j2.Reason, j2.EndTime)
	}
	j1 := h.job(1)
	if j1.State != api.StateCompleting || !j1.CancelRequested || !j1.EndTime.IsZero() {
		t.Errorf("cancelled running job = %s cancelRequested=%v end %v, want COMPLETING", j1.State, j1.CancelRequested, j1.EndTime)
	}
	if got := h.store.Snapshot().JobsBy(nil, state.IndexNode, "n1"); len(got) != 1 {
		t.Errorf("completing job no longer holds n1: %v", got)
	}
	// The node then reports the job stopped (by the signal it sent).
	h.tick(time.Second)
	h.finish("n1", api.TaskReport{JobID: 1, State: api.TaskExited, ExitCode: 143, Signal: 15})
	if j := h.job(1); j.State != api.StateCancelled || j.Reason != api.ReasonCancelled {
		t.Errorf("after the node's report: %s %q, want CANCELLED", j.State, j.Reason)
	}
	// Cancelling a final job changes nothing.
	before := *h.job(2)
	h.tick(time.Hour)
	h.cancel(2)
	if got := *h.job(2); !jsonEqual(got, before) {
		t.Errorf("cancel of a final job changed it: %+v", got)
	}
}

func TestSignalsAndAck(t *testing.T) {
	h := running(t)    // job 1 has signal 10 at seq 1
	h.submit(newJob()) // 2: pending, cannot be signalled
	h.apply(&fsm.Command{Type: fsm.CmdSignal, Signal: &fsm.SignalCmd{IDs: []api.JobID{1, 2}, Signal: 12}})
	h.apply(&fsm.Command{Type: fsm.CmdSignal, Signal: &fsm.SignalCmd{IDs: []api.JobID{1}, Signal: 2}})
	want := []api.SignalRequest{{Seq: 1, Signal: 10}, {Seq: 2, Signal: 12}, {Seq: 3, Signal: 2}}
	if got := h.job(1).Signals; !slices.Equal(got, want) {
		t.Fatalf("signals = %v, want %v", got, want)
	}
	if got := h.job(2).Signals; len(got) != 0 {
		t.Errorf("pending job got signals %v", got)
	}
	tests := []struct {
		ack  uint64
		want []api.SignalRequest
	}{
		{0, want},
		{1, want[1:]},
		{1, want[1:]}, // repeated ack
		{3, nil},
	}
	for _, tt := range tests {
		h.apply(&fsm.Command{Type: fsm.CmdAckSignals, Ack: &fsm.AckCmd{JobID: 1, Seq: tt.ack}})
		if got := h.job(1).Signals; !slices.Equal(got, tt.want) {
			t.Errorf("after ack %d: signals = %v, want %v", tt.ack, got, tt.want)
		}
	}
	// Ack of an unknown job is harmless.
	h.apply(&fsm.Command{Type: fsm.CmdAckSignals, Ack: &fsm.AckCmd{JobID: 99, Seq: 5}})
}

// ---- nodes ----

func TestRegister(t *testing.T) {
	tests := []struct {
		name       string
		old        *api.Node
		wantState  api.NodeState
		wantReason string
	}{
		{"new node comes UP", nil, api.NodeUp, ""},
		{"DOWN node comes back UP", &api.Node{Name: "n1", State: api.NodeDown, Reason: "not responding"}, api.NodeUp, ""},
		{"DRAIN is kept", &api.Node{Name: "n1", State: api.NodeDrain, Reason: "maintenance"}, api.NodeDrain, "maintenance"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			if tt.old != nil {
				h.setNode(*tt.old)
			}
			n := api.Node{Name: "n1", CPUs: 4, State: api.NodeDown, Reason: "from the node", GPUs: []api.GPU{{Index: 2}, {Index: 0}, {Index: 1}}}
			h.register(n)
			got := h.node("n1")
			if got.State != tt.wantState || got.Reason != tt.wantReason {
				t.Errorf("state %s %q, want %s %q", got.State, got.Reason, tt.wantState, tt.wantReason)
			}
			if !got.RegisterTime.Equal(h.now) || !got.LastHeartbeat.Equal(h.now) || got.CPUs != 4 {
				t.Errorf("node = %+v", got)
			}
			var idx []int
			for _, g := range got.GPUs {
				idx = append(idx, g.Index)
			}
			if !slices.Equal(idx, []int{0, 1, 2}) {
				t.Errorf("GPUs not sorted by index: %v", idx)
			}
			if n.GPUs[0].Index != 2 {
				t.Error("register sorted the command's GPU slice in place")
			}
		})
	}
}

// A node that registers again with less than its running jobs hold (a
// changed config, a GPU gone) is drained: the jobs go on, nothing new
// lands there. Found by FuzzNodeRPC (ctld/server).
func TestRegisterBelowUsageDrains(t *testing.T) {
	tests := []struct {
		name       string
		again      api.Node
		wantState  api.NodeState
		wantReason string
	}{
		{"same resources", gpuNode("n1", 8, 16*gib, 2), api.NodeUp, ""},
		{"more resources", gpuNode("n1", 16, 32*gib, 4), api.NodeUp, ""},
		{"fewer CPUs than held", gpuNode("n1", 2, 16*gib, 2), api.NodeDrain, "registered with 2 CPUs, running jobs hold 4"},
		{"less memory than held", gpuNode("n1", 8, gib, 2), api.NodeDrain, "memory"},
		{"held GPU gone", gpuNode("n1", 8, 16*gib, 1), api.NodeDrain, "without GPU 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			h.register(gpuNode("n1", 8, 16*gib, 2))
			id := h.submit(newJob(cpus(4), gpus(2)))[0]
			h.start(placement(id, "n1", 4, 2*gib, 0, 1))
			h.register(tt.again)
			got := h.node("n1")
			if got.State != tt.wantState || !strings.Contains(got.Reason, tt.wantReason) || (tt.wantReason == "") != (got.Reason == "") {
				t.Errorf("state %s %q, want %s %q", got.State, got.Reason, tt.wantState, tt.wantReason)
			}
			if j := h.job(id); j.State != api.StateRunning {
				t.Errorf("job %s after the registration, want RUNNING", j.State)
			}
		})
	}
}

func TestNodeDown(t *testing.T) {
	h := newHarness(t)
	h.register(nodeNamed("n1"))
	h.register(nodeNamed("n2"))
	noRequeue := func(j *api.Job) { j.Spec.NoRequeue = true }
	h.submit(newJob(), newJob(), newJob(), newJob(), newJob(), newJob(noRequeue)) // 1..6
	h.start(placement(1, "n1", 1, gib), placement(2, "n1", 1, gib), placement(3, "n2", 1, gib), placement(5, "n1", 1, gib),
		placement(6, "n1", 1, gib))
	h.cancel(2)                                                     // 2: COMPLETING with CancelRequested
	h.finish("n1", api.TaskReport{JobID: 5, State: api.TaskExited}) // 5: COMPLETED
	h.apply(&fsm.Command{Type: fsm.CmdSignal, Signal: &fsm.SignalCmd{IDs: []api.JobID{1, 6}, Signal: 10}})
	h.tick(time.Minute)
	h.apply(&fsm.Command{Type: fsm.CmdNodeDown, NodeDown: &fsm.NodeDownCmd{Node: "n1", Reason: "not responding"}})

	if n := h.node("n1"); n.State != api.NodeDown || n.Reason != "not responding" {
		t.Errorf("n1 = %s %q", n.State, n.Reason)
	}
	if n := h.node("n2"); n.State != api.NodeUp {
		t.Errorf("n2 = %s", n.State)
	}
	tests := []struct {
		id     api.JobID
		state  api.JobState
		reason string
		ended  bool
	}{
		{1, api.StatePending, api.ReasonNodeDown, false}, // requeued
		{2, api.StateCancelled, api.ReasonNodeDown, true},
		{3, api.StateRunning, api.ReasonNone, false},
		{4, api.StatePending, api.ReasonNone, false},
		{5, api.StateCompleted, api.ReasonNone, true},
		{6, api.StateNodeFail, api.ReasonNodeDown, true}, // --no-requeue
	}
	for _, tt := range tests {
		j := h.job(tt.id)
		if j.State != tt.state || j.Reason != tt.reason || j.EndTime.IsZero() == tt.ended {
			t.Errorf("job %d: %s %q end %v, want %s %q ended=%v", tt.id, j.State, j.Reason, j.EndTime, tt.state, tt.reason, tt.ended)
		}
	}
	if got := h.job(6); len(got.Signals) != 0 || !got.EndTime.Equal(h.now) {
		t.Errorf("failed job kept signals %v / end %v", got.Signals, got.EndTime)
	}
	// The requeued job is a new attempt with nothing of the old run.
	if got := h.job(1); got.Restarts != 1 || got.Allocs != nil || len(got.Signals) != 0 || !got.StartTime.IsZero() {
		t.Errorf("requeued job: %+v", got)
	}
	if got := h.job(3); got.Restarts != 0 {
		t.Errorf("job 3 on n2 restarted: %+v", got)
	}
	if u := h.store.Snapshot().Usage(); u["n1"].Jobs != 0 {
		t.Errorf("jobs still counted on the DOWN node: %+v", u["n1"])
	}
	// Unknown nodes are ignored.
	h.apply(&fsm.Command{Type: fsm.CmdNodeDown, NodeDown: &fsm.NodeDownCmd{Node: "zz"}})
}

// ---- purge ----

func TestPurge(t *testing.T) {
	h := newHarness(t)
	h.register(nodeNamed("n1"))
	h.submit(newJob(), newJob(), newJob(), newJob(), newJob()) // 1..5
	h.cancel(1)                                                // ends at t0
	h.tick(time.Hour)
	h.cancel(2) // ends at t0+1h
	h.start(placement(3, "n1", 1, gib), placement(4, "n1", 1, gib))
	h.finish("n1", api.TaskReport{JobID: 3, State: api.TaskExited}) // ends at t0+1h
	cutoff := t0.Add(time.Hour)
	h.tick(24 * time.Hour)

	n := h.apply(&fsm.Command{Type: fsm.CmdPurge, Purge: &fsm.PurgeCmd{Before: cutoff}})
	if n != 1 {
		t.Errorf("purged %v, want 1", n)
	}
	var left []api.JobID
	for _, j := range h.store.Snapshot().Jobs() {
		left = append(left, j.ID)
	}
	// 1 ended before the cutoff; 2 and 3 at it (not before); 4 runs; 5 waits.
	if !slices.Equal(left, []api.JobID{2, 3, 4, 5}) {
		t.Errorf("jobs left = %v, want 2 3 4 5", left)
	}
	n = h.apply(&fsm.Command{Type: fsm.CmdPurge, Purge: &fsm.PurgeCmd{Before: h.now}})
	if n != 2 {
		t.Errorf("second purge removed %v, want 2 (jobs 2 and 3)", n)
	}
}

// ---- commands and the raft entry points ----

func TestBadCommands(t *testing.T) {
	tests := []fsm.Command{
		{Type: "nonsense"},
		{Type: fsm.CmdSubmit},
		{Type: fsm.CmdStart},
		{Type: fsm.CmdFinish},
		{Type: fsm.CmdCancel},
		{Type: fsm.CmdSignal},
		{Type: fsm.CmdAckSignals},
		{Type: fsm.CmdRegisterNode},
		{Type: fsm.CmdRegisterNode, Register: &fsm.RegisterCmd{}},
		{Type: fsm.CmdNodeDown},
		{Type: fsm.CmdPurge},
	}
	for _, c := range tests {
		t.Run(string(c.Type), func(t *testing.T) {
			h := newHarness(t)
			if _, err := h.f.ApplyCommand(&c); err == nil {
				t.Errorf("ApplyCommand(%+v) succeeded", c)
			}
		})
	}
}

func TestApplyRaftLog(t *testing.T) {
	h := newHarness(t)
	data, err := fsm.Encode(&fsm.Command{Type: fsm.CmdSubmit, Time: t0, Submit: &fsm.SubmitCmd{Jobs: []api.Job{newJob()}}})
	if err != nil {
		t.Fatal(err)
	}
	res := h.f.Apply(&raft.Log{Index: 1, Type: raft.LogCommand, Data: data})
	if r, ok := res.(*fsm.SubmitResult); !ok || !slices.Equal(r.IDs, []api.JobID{1}) {
		t.Errorf("Apply(submit) = %#v", res)
	}
	if res := h.f.Apply(&raft.Log{Index: 2, Type: raft.LogNoop}); res != nil {
		t.Errorf("Apply(noop) = %#v, want nil", res)
	}
	if res := h.f.Apply(&raft.Log{Index: 3, Type: raft.LogCommand, Data: []byte("{not json")}); res == nil {
		t.Error("Apply(garbage) = nil, want an error")
	} else if _, ok := res.(error); !ok {
		t.Errorf("Apply(garbage) = %#v, want an error", res)
	}
}

// ---- snapshot and restore ----

// bufferSink is a raft.SnapshotSink writing to memory.
type bufferSink struct {
	bytes.Buffer
	closed, cancelled bool
}

var _ raft.SnapshotSink = (*bufferSink)(nil)

func (s *bufferSink) ID() string    { return "test" }
func (s *bufferSink) Close() error  { s.closed = true; return nil }
func (s *bufferSink) Cancel() error { s.cancelled = true; return nil }

func jsonEqual(a, b any) bool {
	x, err1 := json.Marshal(a)
	y, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && bytes.Equal(x, y)
}

func snapshotOf(t *testing.T, f *fsm.FSM) *bufferSink {
	t.Helper()
	snap, err := f.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	defer snap.Release()
	sink := &bufferSink{}
	if err := snap.Persist(sink); err != nil {
		t.Fatal(err)
	}
	if !sink.closed || sink.cancelled {
		t.Fatalf("sink closed=%v cancelled=%v after Persist", sink.closed, sink.cancelled)
	}
	return sink
}

func TestSnapshotRestore(t *testing.T) {
	h := newHarness(t)
	h.register(gpuNode("n1", 8, 16*gib, 4))
	h.register(nodeNamed("n2"))
	h.setNode(api.Node{Name: "n3", State: api.NodeDrain, Reason: "broken fan"})
	h.submit(newJob(limit(60)), newJob(owner("bob")), newJob(hold()), newJob(), newJob()) // 1..5
	h.tick(time.Second)
	h.start(placement(1, "n1", 2, gib, 0, 3), placement(2, "n2", 1, gib), placement(4, "n1", 1, gib))
	h.apply(&fsm.Command{Type: fsm.CmdSignal, Signal: &fsm.SignalCmd{IDs: []api.JobID{1}, Signal: 10}})
	h.cancel(2)
	h.finish("n1", api.TaskReport{JobID: 4, State: api.TaskExited, ExitCode: 3})
	h.cancel(5)
	h.apply(&fsm.Command{Type: fsm.CmdPurge, Purge: &fsm.PurgeCmd{Before: h.now.Add(time.Second)}}) // drops 4 and 5

	sink := snapshotOf(t, h.f)
	orig := h.store.Snapshot() // the state the snapshot holds
	h.submit(newJob())         // a change after the snapshot, not in it

	fresh := newHarness(t)
	fresh.now = h.now
	if err := fresh.f.Restore(io.NopCloser(bytes.NewReader(sink.Bytes()))); err != nil {
		t.Fatal(err)
	}
	got := fresh.store.Snapshot()
	if n := len(got.Jobs()); n != 3 {
		t.Fatalf("restored %d jobs, want 3 (1, 2, 3)", n)
	}
	if !jsonEqual(got.Nodes(), orig.Nodes()) {
		t.Errorf("nodes differ:\n got %+v\nwant %+v", got.Nodes(), orig.Nodes())
	}
	if !jsonEqual(got.Jobs(), orig.Jobs()) {
		t.Errorf("jobs differ:\n got %+v\nwant %+v", got.Jobs(), orig.Jobs())
	}
	if !jsonEqual(got.AllMeta(), orig.AllMeta()) || got.Meta(state.MetaNextJobID) != 5 || got.Meta(state.MetaSignalSeq) != 1 {
		t.Errorf("meta = %+v, want %+v", got.AllMeta(), orig.AllMeta())
	}
	if !jsonEqual(got.Usage(), orig.Usage()) || got.Usage()["n1"].CPUs != 2 {
		t.Errorf("usage = %+v, want %+v", got.Usage(), orig.Usage())
	}
	if got := ids(got.JobsBy(nil, state.IndexUser, "bob")); !slices.Equal(got, []api.JobID{2}) {
		t.Errorf("user index after restore: %v", got)
	}
	// Counters carry on: no ID or signal sequence is reused.
	if ids := fresh.submit(newJob()); !slices.Equal(ids, []api.JobID{6}) {
		t.Errorf("first ID after restore = %v, want 6", ids)
	}
	fresh.apply(&fsm.Command{Type: fsm.CmdSignal, Signal: &fsm.SignalCmd{IDs: []api.JobID{1}, Signal: 12}})
	if sigs := fresh.job(1).Signals; len(sigs) != 2 || sigs[1].Seq != 2 {
		t.Errorf("signals after restore = %v, want seq 1 then 2", sigs)
	}
}

func TestRestoreReplacesState(t *testing.T) {
	src := newHarness(t)
	src.submit(newJob())
	sink := snapshotOf(t, src.f)

	dst := newHarness(t)
	dst.register(nodeNamed("old"))
	dst.submit(newJob(), newJob(), newJob())
	before := dst.store.Snapshot()
	if err := dst.f.Restore(io.NopCloser(bytes.NewReader(sink.Bytes()))); err != nil {
		t.Fatal(err)
	}
	select {
	case <-before.Abandoned():
	case <-time.After(5 * time.Second):
		t.Fatal("snapshot from before Restore not abandoned")
	}
	after := dst.store.Snapshot()
	if len(after.Nodes()) != 0 || len(after.Jobs()) != 1 {
		t.Errorf("after restore: %d nodes, %d jobs, want 0 and 1", len(after.Nodes()), len(after.Jobs()))
	}
	if ids := dst.submit(newJob()); !slices.Equal(ids, []api.JobID{2}) {
		t.Errorf("ID after restore = %v, want 2", ids)
	}
	if err := dst.f.Restore(io.NopCloser(bytes.NewReader([]byte("garbage")))); err == nil {
		t.Error("Restore(garbage) succeeded")
	}
	if n := len(dst.store.Snapshot().Jobs()); n != 2 {
		t.Errorf("failed restore changed the store: %d jobs", n)
	}
}

func ids(jobs []*api.Job) []api.JobID {
	var out []api.JobID
	for _, j := range jobs {
		out = append(out, j.ID)
	}
	return out
}

func account(a string) specOpt { return func(j *api.Job) { j.Spec.Account = a } }

// Usage is charged when a job ends (billing rate × run time, decayed with
// the command's half-life) and survives a snapshot restore.
func TestUsageCharging(t *testing.T) {
	h := newHarness(t)
	h.register(gpuNode("n1", 8, 16*gib, 2))
	h.submit(newJob(account("phys")), newJob(account("phys")), newJob()) // 3 has no account: never charged
	h.tick(time.Second)
	p1 := placement(1, "n1", 1, gib)
	p1.Billing = 2
	p2 := placement(2, "n1", 1, gib)
	p2.Billing = 1
	p3 := placement(3, "n1", 1, gib)
	p3.Billing = 5
	h.start(p1, p2, p3)
	h.tick(100 * time.Second)
	hl := 50 * time.Second
	h.apply(&fsm.Command{Type: fsm.CmdFinish, HalfLife: hl, Finish: &fsm.FinishCmd{Node: "n1", Reports: []api.TaskReport{
		{JobID: 1, State: api.TaskExited}, {JobID: 3, State: api.TaskExited}}}})
	usage := func(s *state.Store) float64 {
		t.Helper()
		u := s.Snapshot().AllUsage()
		if len(u) != 1 || u[0].Assoc != (api.Assoc{Account: "phys", User: "alice"}) {
			t.Fatalf("usage records %+v", u)
		}
		return u[0].Value
	}
	if got := usage(h.store); got != 200 { // 2/s × 100 s
		t.Fatalf("usage after job 1 = %v, want 200", got)
	}
	h.tick(50 * time.Second) // one half-life later job 2 dies with its node
	h.apply(&fsm.Command{Type: fsm.CmdNodeDown, HalfLife: hl, NodeDown: &fsm.NodeDownCmd{Node: "n1", Reason: "gone"}})
	if got := usage(h.store); got != 100+150 { // 200 halves, + 1/s × 150 s
		t.Fatalf("usage after node down = %v, want 250", got)
	}
	fresh := newHarness(t)
	if err := fresh.f.Restore(io.NopCloser(bytes.NewReader(snapshotOf(t, h.f).Bytes()))); err != nil {
		t.Fatal(err)
	}
	if got := usage(fresh.store); got != 250 {
		t.Fatalf("usage after restore = %v, want 250", got)
	}
}

// Preemption: CANCEL ends the job CANCELLED (Preempted); REQUEUE puts it
// back in the queue as a new attempt, after charging the run's usage, and
// reports of the old attempt no longer count.
func TestPreemptCancelAndRequeue(t *testing.T) {
	h := newHarness(t)
	h.register(gpuNode("n1", 8, 16*gib, 2))
	h.submit(newJob(account("a")), newJob(account("a")), newJob(account("a"))) // 1 cancel, 2 requeue, 3 requeue+user cancel
	h.tick(time.Second)
	p2 := placement(2, "n1", 1, gib, 0)
	p2.Billing = 1
	h.start(placement(1, "n1", 1, gib), p2, placement(3, "n1", 1, gib))
	h.tick(10 * time.Second)
	h.apply(&fsm.Command{Type: fsm.CmdPreempt, Preempt: &fsm.PreemptCmd{Jobs: []fsm.PreemptJob{
		{JobID: 1, Mode: api.PreemptCancel, GraceSec: 5}, {JobID: 2, Mode: api.PreemptRequeue}, {JobID: 3, Mode: api.PreemptRequeue},
		{JobID: 42, Mode: api.PreemptCancel}, // unknown: ignored
	}}})
	// A preemption for a job that no longer waits (here: job 1 runs) is skipped.
	h.submit(newJob()) // 4
	h.start(placement(4, "n1", 1, gib))
	h.apply(&fsm.Command{Type: fsm.CmdPreempt, Preempt: &fsm.PreemptCmd{Jobs: []fsm.PreemptJob{{JobID: 4, For: 1, Mode: api.PreemptCancel}}}})
	if j := h.job(4); j.State != api.StateRunning {
		t.Fatalf("job 4 preempted for a job that does not wait: %s", j.State)
	}
	if j := h.job(1); j.State != api.StateCompleting || !j.Preempted || j.KillGrace != 5 {
		t.Fatalf("job 1 after preempt: %+v", j)
	}
	if j := h.job(2); j.State != api.StateCompleting || !j.Requeue {
		t.Fatalf("job 2 after preempt: %+v", j)
	}
	h.cancel(3) // the user's cancel wins
	h.tick(time.Second)
	h.finish("n1", api.TaskReport{JobID: 1, State: api.TaskExited, Cancelled: true},
		api.TaskReport{JobID: 2, State: api.TaskExited, Cancelled: true, ExitCode: 143},
		api.TaskReport{JobID: 3, State: api.TaskExited, Cancelled: true})
	if j := h.job(1); j.State != api.StateCancelled || j.Reason != api.ReasonPreempted {
		t.Fatalf("job 1: %s (%s), want CANCELLED (Preempted)", j.State, j.Reason)
	}
	if j := h.job(3); j.State != api.StateCancelled {
		t.Fatalf("job 3 (cancelled by its user while requeueing): %s", j.State)
	}
	j := h.job(2)
	if j.State != api.StatePending || j.Restarts != 1 || j.Allocs != nil || !j.StartTime.IsZero() || j.ExitCode != 0 || j.Requeue {
		t.Fatalf("job 2 after requeue: %+v", j)
	}
	if u := h.store.Snapshot().AllUsage(); len(u) != 1 || u[0].Value != 11 { // 1/s × 11 s of its first run
		t.Fatalf("usage of the requeued run: %+v", u)
	}
	// Run it again: a late report of attempt 0 must not end attempt 1.
	h.start(placement(2, "n1", 1, gib))
	h.finish("n1", api.TaskReport{JobID: 2, Attempt: 0, State: api.TaskExited, ExitCode: 9})
	if j := h.job(2); j.State != api.StateRunning {
		t.Fatalf("stale report ended the new attempt: %s", j.State)
	}
	h.finish("n1", api.TaskReport{JobID: 2, Attempt: 1, State: api.TaskExited})
	if j := h.job(2); j.State != api.StateCompleted {
		t.Fatalf("attempt 1 report: %s", j.State)
	}
}

// An operator's drain keeps a re-registering node DRAIN; resume clears it;
// an operator's down (held) survives registration until resumed, a
// not-responding down does not.
func TestNodeStateByOperator(t *testing.T) {
	h := newHarness(t)
	h.register(nodeNamed("n1"))
	h.register(nodeNamed("n2"))
	state := func(n string) (api.NodeState, string, bool) {
		nd := h.node(n)
		return nd.State, nd.Reason, nd.HeldDown
	}
	h.apply(&fsm.Command{Type: fsm.CmdNodeState, NodeState: &fsm.NodeStateCmd{Nodes: []string{"n1", "zz"}, State: api.NodeDrain, Reason: "fan"}})
	h.register(nodeNamed("n1"))
	if st, r, _ := state("n1"); st != api.NodeDrain || r != "fan" {
		t.Errorf("drained n1 after register: %s %q", st, r)
	}
	h.apply(&fsm.Command{Type: fsm.CmdNodeState, NodeState: &fsm.NodeStateCmd{Nodes: []string{"n1"}, State: api.NodeUp}})
	if st, r, _ := state("n1"); st != api.NodeUp || r != "" {
		t.Errorf("resumed n1: %s %q", st, r)
	}

	h.apply(&fsm.Command{Type: fsm.CmdNodeDown, NodeDown: &fsm.NodeDownCmd{Node: "n1", Reason: "PSU", Held: true}})
	h.apply(&fsm.Command{Type: fsm.CmdNodeDown, NodeDown: &fsm.NodeDownCmd{Node: "n2", Reason: "Not responding"}})
	h.register(nodeNamed("n1"))
	h.register(nodeNamed("n2"))
	if st, r, held := state("n1"); st != api.NodeDown || r != "PSU" || !held {
		t.Errorf("held-down n1 after register: %s %q held=%v", st, r, held)
	}
	if st, _, held := state("n2"); st != api.NodeUp || held {
		t.Errorf("not-responding n2 after register: %s held=%v", st, held)
	}
	h.apply(&fsm.Command{Type: fsm.CmdNodeState, NodeState: &fsm.NodeStateCmd{Nodes: []string{"n1"}, State: api.NodeUp}})
	if st, _, held := state("n1"); st != api.NodeUp || held {
		t.Errorf("resumed n1: %s held=%v", st, held)
	}
	// Only DRAIN and UP are node states an operator sets this way.
	if _, err := h.f.ApplyCommand(&fsm.Command{Type: fsm.CmdNodeState, NodeState: &fsm.NodeStateCmd{Nodes: []string{"n1"}, State: api.NodeDown}}); err == nil {
		t.Error("CmdNodeState to DOWN accepted")
	}
}
