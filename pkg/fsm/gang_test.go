package fsm_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gsched/gsched/pkg/api"
	"github.com/gsched/gsched/pkg/fsm"
	"github.com/gsched/gsched/pkg/state"
)

// Multi-node (gang) jobs and job steps. The helpers here are prefixed
// "gang" so as not to clash with those of fsm_test.go.

// gangCluster is a harness with three UP nodes of 8 CPUs, 16 GiB and 4
// GPUs each; n1 has a registered address, n2 and n3 none.
func gangCluster(t *testing.T) *harness {
	t.Helper()
	h := newHarness(t)
	n1 := gpuNode("n1", 8, 16*gib, 4)
	n1.Addr = "10.0.0.1"
	h.register(n1)
	h.register(gpuNode("n2", 8, 16*gib, 4))
	h.register(gpuNode("n3", 8, 16*gib, 4))
	return h
}

// gangJob is a job of alice's on n nodes, one task of one CPU and 1 GiB
// on each.
func gangJob(n int, opts ...specOpt) api.Job {
	j := newJob(opts...)
	j.Spec.Nodes, j.Spec.NTasks = n, n
	return j
}

// gangAlloc is an allocation of cpus CPUs, 1 GiB and the GPUs given.
func gangAlloc(node string, cpus int, gpus ...int) api.Allocation {
	return api.Allocation{Node: node, CPUs: cpus, MemBytes: gib, GPUs: gpus}
}

// gangPlace places a job on the nodes given (head first), one CPU and
// 1 GiB on each.
func gangPlace(id api.JobID, nodes ...string) fsm.Placement {
	p := fsm.Placement{JobID: id}
	for _, n := range nodes {
		p.Allocs = append(p.Allocs, gangAlloc(n, 1))
	}
	return p
}

// gangRunning returns a cluster where job 1, a gang job on the nodes
// given, runs since t0+1s; the clock is at t0+61s.
func gangRunning(t *testing.T, nodes ...string) *harness {
	t.Helper()
	return gangRunningJob(t, gangJob(len(nodes)), nodes...)
}

// gangRunningJob is gangRunning with the job given.
func gangRunningJob(t *testing.T, j api.Job, nodes ...string) *harness {
	t.Helper()
	h := gangCluster(t)
	h.submit(j)
	h.tick(time.Second)
	if r := h.start(gangPlace(1, nodes...)); !slices.Equal(r.Started, []api.JobID{1}) {
		t.Fatalf("start job 1 on %v: %+v", nodes, r)
	}
	h.tick(time.Minute)
	return h
}

func gangExit(id api.JobID, code int) api.TaskReport {
	return api.TaskReport{JobID: id, State: api.TaskExited, ExitCode: code}
}

// gangOnNode lists the jobs the node index holds under node.
func gangOnNode(h *harness, node string) []api.JobID {
	return ids(h.store.Snapshot().JobsBy(nil, state.IndexNode, node))
}

func gangDone(j *api.Job) []bool {
	out := make([]bool, len(j.Allocs))
	for i := range j.Allocs {
		out[i] = j.Allocs[i].Done
	}
	return out
}

func gangPreempt(h *harness, id api.JobID, mode string) {
	h.t.Helper()
	h.apply(&fsm.Command{Type: fsm.CmdPreempt, Preempt: &fsm.PreemptCmd{Jobs: []fsm.PreemptJob{{JobID: id, Mode: mode}}}})
}

func gangNodeDown(h *harness, node string) {
	h.t.Helper()
	h.apply(&fsm.Command{Type: fsm.CmdNodeDown, NodeDown: &fsm.NodeDownCmd{Node: node, Reason: "gone"}})
}

// ---- start ----

func TestGangStart(t *testing.T) {
	done := gangAlloc("n2", 1)
	done.Done = true
	lessMem := gangAlloc("n2", 1)
	lessMem.MemBytes = gib - 1
	tests := []struct {
		name    string
		prep    func(h *harness)
		place   []fsm.Placement // jobs 1 and 2 ask for 2 nodes, job 3 for 3
		started []api.JobID
		skipped []api.JobID
	}{
		{name: "two nodes", place: []fsm.Placement{gangPlace(1, "n1", "n2")}, started: []api.JobID{1}},
		{name: "three nodes, head n3", place: []fsm.Placement{gangPlace(3, "n3", "n1", "n2")}, started: []api.JobID{3}},
		{name: "fewer nodes than asked", place: []fsm.Placement{gangPlace(1, "n1")}, skipped: []api.JobID{1}},
		{name: "more nodes than asked", place: []fsm.Placement{gangPlace(1, "n1", "n2", "n3")}, skipped: []api.JobID{1}},
		{name: "the same node twice", place: []fsm.Placement{gangPlace(1, "n1", "n1")}, skipped: []api.JobID{1}},
		{name: "no allocations", place: []fsm.Placement{{JobID: 1}}, skipped: []api.JobID{1}},
		{
			name:    "CPUs oversubscribed on one node",
			place:   []fsm.Placement{{JobID: 1, Allocs: []api.Allocation{gangAlloc("n1", 1), gangAlloc("n2", 9)}}},
			skipped: []api.JobID{1},
		},
		{
			name:    "GPU missing on one node",
			place:   []fsm.Placement{{JobID: 1, Allocs: []api.Allocation{gangAlloc("n1", 1, 0), gangAlloc("n2", 1, 4)}}},
			skipped: []api.JobID{1},
		},
		{
			name:    "less memory than asked on one node",
			place:   []fsm.Placement{{JobID: 1, Allocs: []api.Allocation{gangAlloc("n1", 1), lessMem}}},
			skipped: []api.JobID{1},
		},
		{
			name:    "an allocation already done",
			place:   []fsm.Placement{{JobID: 1, Allocs: []api.Allocation{gangAlloc("n1", 1), done}}},
			skipped: []api.JobID{1},
		},
		{name: "unknown node", place: []fsm.Placement{gangPlace(1, "n1", "n9")}, skipped: []api.JobID{1}},
		{
			name:    "one node down",
			prep:    func(h *harness) { gangNodeDown(h, "n3") },
			place:   []fsm.Placement{gangPlace(1, "n1", "n3")},
			skipped: []api.JobID{1},
		},
		{
			name: "one node drained",
			prep: func(h *harness) {
				n := *h.node("n2")
				n.State = api.NodeDrain
				h.setNode(n)
			},
			place:   []fsm.Placement{gangPlace(1, "n1", "n2")},
			skipped: []api.JobID{1},
		},
		{
			name: "placements of one command count against each other on every node",
			place: []fsm.Placement{
				{JobID: 1, Allocs: []api.Allocation{gangAlloc("n1", 4, 0), gangAlloc("n2", 6, 1)}},
				{JobID: 2, Allocs: []api.Allocation{gangAlloc("n3", 4), gangAlloc("n2", 4)}},                        // 10 CPUs on n2
				{JobID: 3, Allocs: []api.Allocation{gangAlloc("n3", 1), gangAlloc("n1", 1, 0), gangAlloc("n2", 1)}}, // GPU 0 of n1 taken
				{JobID: 3, Allocs: []api.Allocation{gangAlloc("n3", 1), gangAlloc("n1", 1, 1), gangAlloc("n2", 2)}},
			},
			started: []api.JobID{1, 3},
			skipped: []api.JobID{2, 3},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := gangCluster(t)
			h.submit(gangJob(2), gangJob(2), gangJob(3))
			if tt.prep != nil {
				tt.prep(h)
			}
			h.tick(time.Second)
			for i := range tt.place { // the FSM must ignore these
				for k := range tt.place[i].Allocs {
					tt.place[i].Allocs[k].Addr = "bogus"
				}
			}
			res := h.start(tt.place...)
			if !slices.Equal(res.Started, tt.started) || !slices.Equal(res.Skipped, tt.skipped) {
				t.Fatalf("started %v skipped %v, want %v %v", res.Started, res.Skipped, tt.started, tt.skipped)
			}
			want := map[string]api.NodeUsage{}
			for _, id := range []api.JobID{1, 2, 3} {
				j := h.job(id)
				if !slices.Contains(tt.started, id) {
					if j.State != api.StatePending || j.Allocs != nil || j.MasterPort != 0 {
						t.Errorf("job %d not started but changed: %s %+v port %d", id, j.State, j.Allocs, j.MasterPort)
					}
					continue
				}
				var p fsm.Placement // the last placement of the job is the one that started it
				for _, q := range tt.place {
					if q.JobID == id {
						p = q
					}
				}
				if j.State != api.StateRunning || !j.StartTime.Equal(h.now) || len(j.Allocs) != len(p.Allocs) {
					t.Fatalf("job %d: %s at %v allocs %+v", id, j.State, j.StartTime, j.Allocs)
				}
				if j.MasterPort < fsm.MasterPortBase || j.MasterPort >= fsm.MasterPortBase+fsm.MasterPortRange {
					t.Errorf("job %d: master port %d", id, j.MasterPort)
				}
				for i, a := range j.Allocs {
					wantAddr := a.Node
					if a.Node == "n1" {
						wantAddr = "10.0.0.1"
					}
					if a.Node != p.Allocs[i].Node || a.Addr != wantAddr || a.CPUs != p.Allocs[i].CPUs || !slices.Equal(a.GPUs, p.Allocs[i].GPUs) || a.Done {
						t.Errorf("job %d alloc %d = %+v, want %+v at %s", id, i, a, p.Allocs[i], wantAddr)
					}
					if on := gangOnNode(h, a.Node); !slices.Contains(on, id) {
						t.Errorf("node index of %s = %v, lacks job %d", a.Node, on, id)
					}
					u := want[a.Node]
					u.CPUs += a.CPUs
					u.MemBytes += a.MemBytes
					u.GPUs = append(u.GPUs, a.GPUs...)
					u.Jobs++
					want[a.Node] = u
				}
			}
			for k, u := range want {
				slices.Sort(u.GPUs)
				want[k] = u
			}
			if got := h.store.Snapshot().Usage(); !jsonEqual(got, want) {
				t.Errorf("usage = %+v, want %+v", got, want)
			}
		})
	}
}

// The master port is the lowest free one from 29500 among the live jobs
// whose head node is the same; other nodes' jobs do not count, and a port
// is free again once its job ended.
func TestGangMasterPort(t *testing.T) {
	h := gangCluster(t)
	h.submit(gangJob(1), gangJob(2), gangJob(2), gangJob(2), gangJob(2), gangJob(1), gangJob(2)) // 1..7
	h.start(fsm.Placement{JobID: 1, Allocs: []api.Allocation{gangAlloc("n1", 1)}})
	h.start(gangPlace(2, "n1", "n2"))
	h.start(gangPlace(3, "n2", "n1")) // head n2: job 2 is on n2 but not its head
	// Two in one command with the same head.
	h.start(gangPlace(4, "n3", "n1"), gangPlace(5, "n3", "n2"))
	want := map[api.JobID]int{1: 29500, 2: 29501, 3: 29500, 4: 29500, 5: 29501}
	for id, port := range want {
		if got := h.job(id).MasterPort; got != port {
			t.Errorf("job %d: master port %d, want %d", id, got, port)
		}
	}
	// Job 1 ends: its port on n1 is free for the next job headed there.
	h.finish("n1", gangExit(1, 0))
	if j := h.job(1); j.State != api.StateCompleted {
		t.Fatalf("job 1: %s", j.State)
	}
	h.start(fsm.Placement{JobID: 6, Allocs: []api.Allocation{gangAlloc("n1", 1)}})
	if got := h.job(6).MasterPort; got != 29500 {
		t.Errorf("job 6 after job 1 ended: master port %d, want 29500", got)
	}
	// Job 2 is requeued: its port is released with its nodes.
	gangPreempt(h, 2, api.PreemptRequeue)
	h.finish("n1", gangExit(2, 143))
	h.finish("n2", gangExit(2, 143))
	if j := h.job(2); j.State != api.StatePending || j.MasterPort != 0 {
		t.Fatalf("requeued job 2: %s port %d", j.State, j.MasterPort)
	}
	h.start(gangPlace(7, "n1", "n3"))
	if got := h.job(7).MasterPort; got != 29501 {
		t.Errorf("job 7 after job 2 was requeued: master port %d, want 29501", got)
	}
	if got := h.job(6).MasterPort; got != 29500 {
		t.Errorf("job 6 port changed to %d", got)
	}
}

// ---- finish ----

func TestGangFinish(t *testing.T) {
	type event struct {
		node string
		r    api.TaskReport
		// After the report: the job's state, EndState, and a text its
		// EndReason must contain.
		state     api.JobState
		endState  api.JobState
		reasonHas string
		done      []bool
	}
	oom := api.TaskReport{JobID: 1, State: api.TaskExited, ExitCode: 137, Signal: 9, OOMKilled: true}
	killed := api.TaskReport{JobID: 1, State: api.TaskExited, ExitCode: 143, Signal: 15}
	cancelled := api.TaskReport{JobID: 1, State: api.TaskExited, ExitCode: 143, Signal: 15, Cancelled: true}
	timedOut := api.TaskReport{JobID: 1, State: api.TaskExited, ExitCode: 143, Signal: 15, TimedOut: true}
	tests := []struct {
		name       string
		nodes      []string
		cancel     bool
		events     []event
		state      api.JobState // final
		reason     string
		exit, sig  int
		notRunning bool // the events leave the job final (checked below)
	}{
		{
			name: "a non-head task ends while the job runs: the job fails, the head is killed", nodes: []string{"n1", "n2"},
			events: []event{
				{node: "n2", r: gangExit(1, 0), state: api.StateCompleting, endState: api.StateFailed, reasonHas: "n2", done: []bool{false, true}},
				{node: "n1", r: killed, state: api.StateFailed, done: []bool{true, true}},
			},
			state: api.StateFailed, reason: "NonZeroExitCode", exit: 143, sig: 15,
		},
		{
			name: "a non-head task fails while the job runs", nodes: []string{"n1", "n2", "n3"},
			events: []event{
				{node: "n3", r: gangExit(1, 4), state: api.StateCompleting, endState: api.StateFailed, reasonHas: "n3", done: []bool{false, false, true}},
				{node: "n2", r: killed, state: api.StateCompleting, endState: api.StateFailed, reasonHas: "n3", done: []bool{false, true, true}},
				{node: "n1", r: killed, state: api.StateFailed, done: []bool{true, true, true}},
			},
			state: api.StateFailed, reason: "NonZeroExitCode", exit: 143, sig: 15,
		},
		{
			name: "the head decides; the job waits for the other nodes", nodes: []string{"n1", "n2", "n3"},
			events: []event{
				{node: "n1", r: gangExit(1, 3), state: api.StateCompleting, endState: api.StateFailed, reasonHas: "NonZeroExitCode", done: []bool{true, false, false}},
				{node: "n3", r: gangExit(1, 0), state: api.StateCompleting, endState: api.StateFailed, done: []bool{true, false, true}},
				{node: "n2", r: killed, state: api.StateFailed, done: []bool{true, true, true}},
			},
			state: api.StateFailed, reason: "NonZeroExitCode", exit: 3,
		},
		{
			name: "clean exit everywhere, head first", nodes: []string{"n1", "n2"},
			events: []event{
				{node: "n1", r: gangExit(1, 0), state: api.StateCompleting, endState: api.StateCompleted, done: []bool{true, false}},
				{node: "n2", r: gangExit(1, 0), state: api.StateCompleted, done: []bool{true, true}},
			},
			state: api.StateCompleted, reason: api.ReasonNone,
		},
		{
			name: "OOM on a non-head node after the head exited 0", nodes: []string{"n1", "n2", "n3"},
			events: []event{
				{node: "n1", r: gangExit(1, 0), state: api.StateCompleting, endState: api.StateCompleted},
				{node: "n2", r: oom, state: api.StateCompleting, endState: api.StateOutOfMemory},
				{node: "n3", r: gangExit(1, 0), state: api.StateOutOfMemory},
			},
			state: api.StateOutOfMemory, reason: "OutOfMemory",
		},
		{
			name: "OOM on a non-head node while running, then the head exits 0", nodes: []string{"n1", "n2"},
			events: []event{
				{node: "n2", r: oom, state: api.StateCompleting, endState: api.StateOutOfMemory},
				{node: "n1", r: gangExit(1, 0), state: api.StateOutOfMemory},
			},
			state: api.StateOutOfMemory, reason: "OutOfMemory",
		},
		{
			name: "the head's time-out wins over an OOM elsewhere", nodes: []string{"n1", "n2"},
			events: []event{
				{node: "n2", r: oom, state: api.StateCompleting, endState: api.StateOutOfMemory},
				{node: "n1", r: timedOut, state: api.StateTimeout},
			},
			state: api.StateTimeout, reason: api.ReasonTimeLimit, exit: 143, sig: 15,
		},
		{
			name: "cancelled", nodes: []string{"n1", "n2"}, cancel: true,
			events: []event{
				{node: "n2", r: cancelled, state: api.StateCompleting, done: []bool{false, true}},
				{node: "n1", r: cancelled, state: api.StateCancelled, done: []bool{true, true}},
			},
			state: api.StateCancelled, reason: api.ReasonCancelled, exit: 143, sig: 15,
		},
		{
			name: "cancelled, head first", nodes: []string{"n1", "n2", "n3"}, cancel: true,
			events: []event{
				{node: "n1", r: killed, state: api.StateCompleting, endState: api.StateCancelled},
				{node: "n3", r: killed, state: api.StateCompleting, endState: api.StateCancelled},
				{node: "n2", r: oom, state: api.StateCancelled},
			},
			state: api.StateCancelled, reason: api.ReasonCancelled, exit: 143, sig: 15,
		},
		{
			name: "cancelled while a non-head node runs out of memory", nodes: []string{"n1", "n2"}, cancel: true,
			events: []event{
				{node: "n2", r: oom, state: api.StateCompleting, endState: api.StateOutOfMemory},
				{node: "n1", r: cancelled, state: api.StateCancelled},
			},
			state: api.StateCancelled, reason: api.ReasonCancelled, exit: 143, sig: 15,
		},
		{
			name: "a duplicate report from a done node is ignored", nodes: []string{"n1", "n2"},
			events: []event{
				{node: "n2", r: gangExit(1, 0), state: api.StateCompleting, endState: api.StateFailed, reasonHas: "n2", done: []bool{false, true}},
				{node: "n2", r: oom, state: api.StateCompleting, endState: api.StateFailed, reasonHas: "n2", done: []bool{false, true}},
				{node: "n1", r: gangExit(1, 0), state: api.StateCompleted},
			},
			state: api.StateCompleted, reason: api.ReasonNone,
		},
		{
			name: "reports from other nodes and of other attempts are ignored", nodes: []string{"n1", "n2"},
			events: []event{
				{node: "n3", r: gangExit(1, 1), state: api.StateRunning, done: []bool{false, false}},
				{node: "n2", r: api.TaskReport{JobID: 1, Attempt: 1, State: api.TaskExited, ExitCode: 1}, state: api.StateRunning, done: []bool{false, false}},
				{node: "n2", r: gangExit(1, 0), state: api.StateCompleting, endState: api.StateFailed},
				{node: "n1", r: gangExit(1, 0), state: api.StateCompleted},
			},
			state: api.StateCompleted, reason: api.ReasonNone,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := gangRunning(t, tt.nodes...)
			if tt.cancel {
				h.cancel(1)
			}
			for i, ev := range tt.events {
				h.tick(time.Second)
				h.finish(ev.node, ev.r)
				j := h.job(1)
				if j.State != ev.state || j.EndState != ev.endState || !strings.Contains(j.EndReason, ev.reasonHas) {
					t.Fatalf("after report %d (%s): %s end %s %q, want %s end %s with %q",
						i, ev.node, j.State, j.EndState, j.EndReason, ev.state, ev.endState, ev.reasonHas)
				}
				if ev.done != nil && !slices.Equal(gangDone(j), ev.done) {
					t.Fatalf("after report %d (%s): done %v, want %v", i, ev.node, gangDone(j), ev.done)
				}
				for k, a := range j.Allocs { // the node index follows Done
					if on := slices.Contains(gangOnNode(h, a.Node), 1); on != (!a.Done && !j.State.Final()) {
						t.Errorf("after report %d: job listed under %s = %v, alloc %d done %v", i, a.Node, on, k, a.Done)
					}
				}
			}
			j := h.job(1)
			if j.State != tt.state || j.Reason != tt.reason || j.ExitCode != tt.exit || j.Signal != tt.sig {
				t.Errorf("final: %s %q exit %d sig %d, want %s %q exit %d sig %d", j.State, j.Reason, j.ExitCode, j.Signal, tt.state, tt.reason, tt.exit, tt.sig)
			}
			if j.EndState != "" || j.EndReason != "" || j.EndTime.IsZero() || len(j.Signals) != 0 {
				t.Errorf("final job keeps end state %s %q / end %v / signals %v", j.EndState, j.EndReason, j.EndTime, j.Signals)
			}
			if u := h.store.Snapshot().Usage(); len(u) != 0 {
				t.Errorf("usage of a final job: %+v", u)
			}
			// A late report changes nothing any more.
			before := *j
			h.tick(time.Second)
			h.finish(tt.nodes[0], gangExit(1, 9))
			h.finish(tt.nodes[1], oom)
			if got := *h.job(1); !jsonEqual(got, before) {
				t.Errorf("late report changed the final job:\n got %+v\nwant %+v", got, before)
			}
		})
	}
}

// A node's share is free as soon as its task is done; usage is charged
// once, when the last node reports, for the run up to the head's end.
func TestGangUsageFreedPerNode(t *testing.T) {
	tests := []struct {
		name   string
		order  []string
		charge float64 // billing 2/s from t0+1s
	}{
		{"head first", []string{"n1", "n2"}, 2 * 100},      // head ends at t0+101s
		{"head last", []string{"n2", "n1"}, 2 * 100 * 1.5}, // head ends at t0+151s
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := gangCluster(t)
			h.submit(gangJob(2, account("phys")), newJob(cpus(8)), newJob(cpus(8))) // 1; 2 and 3 want a whole node
			h.tick(time.Second)
			p := fsm.Placement{JobID: 1, Billing: 2, Allocs: []api.Allocation{gangAlloc("n1", 2, 0), gangAlloc("n2", 3, 1, 2)}}
			if r := h.start(p); len(r.Started) != 1 {
				t.Fatalf("start: %+v", r)
			}
			h.tick(100 * time.Second)
			first, last := tt.order[0], tt.order[1]
			h.finish(first, gangExit(1, 0))
			if u := h.store.Snapshot().AllUsage(); len(u) != 0 {
				t.Fatalf("charged before the last node reported: %+v", u)
			}
			u := h.store.Snapshot().Usage()
			if _, ok := u[first]; ok {
				t.Errorf("%s still counted after its report: %+v", first, u[first])
			}
			wantCPUs := map[string]int{"n1": 2, "n2": 3}[last]
			if u[last].CPUs != wantCPUs || u[last].Jobs != 1 {
				t.Errorf("%s usage = %+v, want %d CPUs of 1 job", last, u[last], wantCPUs)
			}
			if on := gangOnNode(h, first); len(on) != 0 {
				t.Errorf("node index of %s = %v after its report", first, on)
			}
			if on := gangOnNode(h, last); !slices.Equal(on, []api.JobID{1}) {
				t.Errorf("node index of %s = %v, want job 1", last, on)
			}
			// The freed node takes a whole-node job; the busy one does not.
			if r := h.start(placement(2, first, 8, gib), placement(3, last, 8, gib)); !slices.Equal(r.Started, []api.JobID{2}) || !slices.Equal(r.Skipped, []api.JobID{3}) {
				t.Errorf("start on freed %s / busy %s: %+v", first, last, r)
			}
			h.tick(50 * time.Second)
			h.finish(last, gangExit(1, 0))
			if j := h.job(1); j.State != api.StateCompleted {
				t.Fatalf("job 1: %s", j.State)
			}
			all := h.store.Snapshot().AllUsage()
			if len(all) != 1 || all[0].Value != tt.charge {
				t.Fatalf("usage = %+v, want %v", all, tt.charge)
			}
			h.finish(first, gangExit(1, 0))
			h.finish(last, gangExit(1, 0))
			if all := h.store.Snapshot().AllUsage(); all[0].Value != tt.charge {
				t.Errorf("usage after late reports = %v, want %v", all[0].Value, tt.charge)
			}
		})
	}
}

// ---- requeue and node loss ----

func TestGangRequeue(t *testing.T) {
	h := gangRunning(t, "n1", "n2")
	gangStepStart(h, gangStep(1, 0, "n1", "n2"))
	gangPreempt(h, 1, api.PreemptRequeue)
	h.finish("n2", api.TaskReport{JobID: 1, State: api.TaskExited, Cancelled: true, ExitCode: 143})
	if j := h.job(1); j.State != api.StateCompleting || !j.Requeue || !slices.Equal(gangDone(j), []bool{false, true}) {
		t.Fatalf("after n2's report: %s requeue=%v done %v", j.State, j.Requeue, gangDone(j))
	}
	h.finish("n1", api.TaskReport{JobID: 1, State: api.TaskExited, Cancelled: true, ExitCode: 143})
	j := h.job(1)
	if j.State != api.StatePending || j.Reason != api.ReasonPreempted || j.Allocs != nil || j.MasterPort != 0 || j.Restarts != 1 ||
		j.EndState != "" || j.EndReason != "" || j.ExitCode != 0 || !j.StartTime.IsZero() || !j.EndTime.IsZero() || j.Requeue {
		t.Fatalf("after requeue: %+v", j)
	}
	for _, n := range []string{"n1", "n2"} {
		if on := gangOnNode(h, n); len(on) != 0 {
			t.Errorf("node index of %s = %v after requeue", n, on)
		}
	}
	if u := h.store.Snapshot().Usage(); len(u) != 0 {
		t.Errorf("usage after requeue: %+v", u)
	}
	if st := gangGetStep(h, 1, 0); !st.State.Final() {
		t.Errorf("step of the requeued run still %s", st.State)
	}
	// The next attempt runs elsewhere; late reports of attempt 0 do not count.
	h.tick(time.Second)
	if r := h.start(gangPlace(1, "n3", "n1")); len(r.Started) != 1 {
		t.Fatalf("restart: %+v", r)
	}
	h.finish("n1", gangExit(1, 1))
	j = h.job(1)
	if j.State != api.StateRunning || j.MasterPort != fsm.MasterPortBase || j.Head().Node != "n3" || slices.Contains(gangDone(j), true) {
		t.Fatalf("attempt 1: %s port %d allocs %+v", j.State, j.MasterPort, j.Allocs)
	}
	if st := gangStepStart(h, gangStep(1, 1, "n3", "n1")); st == nil || st.ID != 1 {
		t.Errorf("step of attempt 1 = %+v, want step 1", st)
	}
}

func TestGangNodeDown(t *testing.T) {
	tests := []struct {
		name      string
		noRequeue bool
		prep      func(h *harness)
		down      string
		state     api.JobState
		reason    string
	}{
		{name: "a non-head node: requeued", down: "n2", state: api.StatePending, reason: api.ReasonNodeDown},
		{name: "the head node: requeued", down: "n1", state: api.StatePending, reason: api.ReasonNodeDown},
		{name: "a non-head node, --no-requeue", noRequeue: true, down: "n2", state: api.StateNodeFail, reason: api.ReasonNodeDown},
		{name: "the head node, --no-requeue", noRequeue: true, down: "n1", state: api.StateNodeFail, reason: api.ReasonNodeDown},
		{name: "while cancelling", prep: func(h *harness) { h.cancel(1) }, down: "n3", state: api.StateCancelled, reason: api.ReasonNodeDown},
		{name: "while requeueing", prep: func(h *harness) { gangPreempt(h, 1, api.PreemptRequeue) }, down: "n2", state: api.StatePending, reason: api.ReasonPreempted},
		{
			name: "a node not yet done after another reported",
			prep: func(h *harness) { h.finish("n1", gangExit(1, 0)) },
			down: "n2", state: api.StateNodeFail, reason: api.ReasonNodeDown,
		},
		{
			// n3 already reported: the job is no longer on it.
			name: "a node already done",
			prep: func(h *harness) { h.finish("n3", gangExit(1, 0)) },
			down: "n3", state: api.StateCompleting, reason: api.ReasonNone,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec := gangJob(3)
			spec.Spec.NoRequeue = tt.noRequeue
			h := gangRunningJob(t, spec, "n1", "n2", "n3")
			st := gangStepStart(h, gangStep(1, 0, "n1", "n2", "n3"))
			gangStepEnd(h, "n1", api.StepReport{JobID: 1, Step: st.ID, Rank: 0})
			if tt.prep != nil {
				tt.prep(h)
			}
			h.tick(time.Minute)
			gangNodeDown(h, tt.down)
			j := h.job(1)
			if j.State != tt.state || j.Reason != tt.reason {
				t.Fatalf("job after %s down: %s %q, want %s %q", tt.down, j.State, j.Reason, tt.state, tt.reason)
			}
			if !j.State.Final() && j.State != api.StatePending {
				return // the job was not on the node
			}
			if j.State == api.StatePending {
				if j.Allocs != nil || j.Restarts != 1 || j.MasterPort != 0 {
					t.Errorf("requeued job: %+v", j)
				}
			} else if !j.EndTime.Equal(h.now) {
				t.Errorf("end time %v, want %v", j.EndTime, h.now)
			}
			if u := h.store.Snapshot().Usage(); len(u) != 0 {
				t.Errorf("usage after the job failed: %+v", u)
			}
			for _, n := range []string{"n1", "n2", "n3"} {
				if on := gangOnNode(h, n); len(on) != 0 {
					t.Errorf("node index of %s = %v", n, on)
				}
			}
			s := gangGetStep(h, 1, st.ID)
			if s.State != api.StepCancelled || s.ExitCode != 143 || !s.EndTime.Equal(h.now) || !slices.Equal(gangDoneRanks(s), []int{0, 1, 2}) {
				t.Errorf("step after node down: %+v", s)
			}
			if s.Tasks[0].Killed || !s.Tasks[1].Killed || !s.Tasks[2].Killed {
				t.Errorf("killed tasks: %+v", s.Tasks)
			}
			if n := h.node(tt.down); n.State != api.NodeDown {
				t.Errorf("%s: %s", tt.down, n.State)
			}
		})
	}
}

// A job that fails with a node must not keep the outcome recorded while it
// was stopping: EndState and EndReason only mean something in COMPLETING.
func TestGangNodeDownClearsEndState(t *testing.T) {
	h := gangRunning(t, "n1", "n2")
	h.finish("n2", gangExit(1, 0)) // COMPLETING, EndState FAILED
	gangNodeDown(h, "n1")
	j := h.job(1)
	if j.State != api.StateNodeFail {
		t.Fatalf("job: %s", j.State)
	}
	if j.EndState != "" || j.EndReason != "" {
		t.Errorf("NODE_FAIL job keeps end state %s %q", j.EndState, j.EndReason)
	}
}
