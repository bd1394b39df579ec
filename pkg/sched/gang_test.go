package sched_test

import (
	"fmt"
	"maps"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/gsched/gsched/pkg/api"
	"github.com/gsched/gsched/pkg/sched"
	"github.com/gsched/gsched/pkg/topology"
)

// Tests of gang jobs: several nodes (--nodes), whole nodes (--exclusive)
// and leaf-switch bounds (--switches), placed all at once or not at all.

// ---- gang builders ----

func onNodes(n int) jobOpt     { return func(j *api.Job) { j.Spec.Nodes = n } }
func exclusive() jobOpt        { return func(j *api.Job) { j.Spec.Exclusive = true } }
func gpusPerNode(n int) jobOpt { return func(j *api.Job) { j.Spec.GPUsPerNode = n } }

// tasks sets NTasks and CPUsPerTask (spread over the job's nodes).
func tasks(n, c int) jobOpt { return func(j *api.Job) { j.Spec.NTasks, j.Spec.CPUsPerTask = n, c } }

// switches is --switches=n@wait (wait 0: for ever).
func switches(n int, wait time.Duration) jobOpt {
	return func(j *api.Job) { j.Spec.Switches, j.Spec.SwitchWait = n, int64(wait/time.Second) }
}

// memTotal sets the node's memory size (node() makes it the free amount).
func memTotal(b int64) nodeOpt { return func(nf *sched.NodeFree) { nf.Node.MemBytes = b } }

func alloc(name string, c int, mb int64, g ...int) api.Allocation {
	return api.Allocation{Node: name, CPUs: c, MemBytes: mb, GPUs: g}
}

func placeOn(id api.JobID, allocs ...api.Allocation) sched.Placement {
	return sched.Placement{JobID: id, Allocs: allocs}
}

// runningGang is a job of QOS q running since an hour before t0 on the
// allocations (head first), ending at t0+end (0: no time limit).
func runningGang(id api.JobID, end time.Duration, q string, allocs ...api.Allocation) *api.Job {
	j := job(id, onNodes(len(allocs)), qos(q))
	j.State = api.StateRunning
	j.StartTime = t0.Add(-time.Hour)
	if end != 0 {
		j.Deadline = t0.Add(end)
	}
	j.Allocs = allocs
	return j
}

// resvAt is a reservation from t0+start to t0+end (end 0: no limit).
func resvAt(id api.JobID, name string, start, end time.Duration, c int, mb int64, g int) sched.Reservation {
	r := sched.Reservation{JobID: id, Node: name, Start: t0.Add(start), CPUs: c, MemBytes: mb, GPUs: g}
	if end != 0 {
		r.End = t0.Add(end)
	}
	return r
}

func mustNetwork(t testing.TB, sw ...topology.Switch) *topology.Network {
	t.Helper()
	net, err := topology.NewNetwork(sw)
	if err != nil {
		t.Fatal(err)
	}
	return net
}

// twoLeaves is leaf1 over n[1-4] and leaf2 over n[5-8].
func twoLeaves(t testing.TB) *topology.Network {
	return mustNetwork(t, topology.Switch{Name: "leaf1", Nodes: "n[1-4]"}, topology.Switch{Name: "leaf2", Nodes: "n[5-8]"})
}

// eightNodes is n1..n8 of 8 CPUs and 16 GiB; the busy ones have nothing
// free (and nothing that ever comes free: no running job with a deadline).
func eightNodes(busy ...string) []sched.NodeFree {
	var out []sched.NodeFree
	for i := 1; i <= 8; i++ {
		name := fmt.Sprintf("n%d", i)
		if slices.Contains(busy, name) {
			out = append(out, node(name, 0, 0, total(8), memTotal(16*gib)))
		} else {
			out = append(out, node(name, 8, 16*gib))
		}
	}
	return out
}

// gangCase is one hand-computed pass.
type gangCase struct {
	name       string
	cfg        sched.Config
	now        time.Time // zero: t0
	nodes      []sched.NodeFree
	running    []*api.Job
	jobs       []*api.Job
	partitions []api.Partition // nil: one partition "main" with every node
	qos        []api.QOS
	network    *topology.Network
	want       []sched.Placement
	reasons    reasons
	starts     starts
	resv       []sched.Reservation // checked when non-nil
	stats      *sched.Stats        // checked when non-nil
	preempt    []sched.Preemption  // always checked
}

func (c gangCase) input() sched.Input {
	parts := c.partitions
	if parts == nil {
		parts = []api.Partition{partition("main")}
	}
	now := c.now
	if now.IsZero() {
		now = t0
	}
	return sched.Input{Now: now, Nodes: c.nodes, Pending: c.jobs, Running: c.running, Partitions: parts,
		QOS: c.qos, Network: c.network, Config: c.cfg}
}

func (c gangCase) run(t *testing.T) sched.Plan {
	t.Helper()
	in := c.input()
	plan := sched.Schedule(in)
	if !reflect.DeepEqual(plan.Placements, c.want) {
		t.Errorf("placements:\n got %+v\nwant %+v", plan.Placements, c.want)
	}
	if !maps.Equal(plan.Reasons, c.reasons) {
		t.Errorf("reasons:\n got %v\nwant %v", plan.Reasons, c.reasons)
	}
	if !maps.EqualFunc(plan.Starts, c.starts, time.Time.Equal) {
		t.Errorf("starts:\n got %v\nwant %v", plan.Starts, c.starts)
	}
	if c.resv != nil && (len(c.resv) > 0 || len(plan.Reservations) > 0) && !reflect.DeepEqual(plan.Reservations, c.resv) {
		t.Errorf("reservations:\n got %+v\nwant %+v", plan.Reservations, c.resv)
	}
	if c.stats != nil && plan.Stats != *c.stats {
		t.Errorf("stats: got %+v, want %+v", plan.Stats, *c.stats)
	}
	if !slices.Equal(plan.Preemptions, c.preempt) {
		t.Errorf("preemptions:\n got %+v\nwant %+v", plan.Preemptions, c.preempt)
	}
	checkGangPlan(t, in, plan)
	return plan
}

// ---- table tests ----

// TestGangAllOrNothing: a gang starts on all of its nodes in one decision
// or not at all, with the per-node CPUs, memory and free GPUs on each.
func TestGangAllOrNothing(t *testing.T) {
	// n1 free; n2 held for ever by R100.
	oneFree := []sched.NodeFree{node("n1", 8, 16*gib), node("n2", 0, 16*gib, total(8))}
	busyN2 := []*api.Job{running(100, "n2", 8, 0)}
	// 4 CPUs per node: NTasks 4 × 2 CPUs over 2 nodes; 2 GPUs per node.
	wide := func(id api.JobID, opts ...jobOpt) *api.Job {
		return job(id, append([]jobOpt{onNodes(2), tasks(4, 2), mem(2 * gib), gpus(4)}, opts...)...)
	}
	gpuNodes := func() []sched.NodeFree {
		return []sched.NodeFree{
			node("n1", 8, 16*gib, withGPUs(4, 3, 1)),
			node("n2", 2, 16*gib, total(8), withGPUs(4, 0, 1, 2, 3)), // 2 CPUs: too few
			node("n3", 8, 16*gib, withGPUs(4, 2, 0, 3)),
			node("n4", 8, 16*gib, withGPUs(4, 0, 1, 2, 3)),
		}
	}
	tests := []gangCase{
		{
			// The gang takes nothing on n1: job 2 gets all 8 CPUs there.
			name:  "easy: one free node, the 2-node job waits and holds nothing",
			cfg:   bf(sched.BackfillEASY),
			nodes: oneFree, running: busyN2,
			jobs:    []*api.Job{job(1, onNodes(2), cpus(4), prio(2)), job(2, cpus(8), prio(1))},
			want:    []sched.Placement{place(2, "n1", 8, gib)},
			reasons: reasons{1: api.ReasonResources},
			resv:    []sched.Reservation{},
			stats:   &sched.Stats{Considered: 2, Backfilled: 1},
		},
		{
			name:  "none: one free node, the 2-node job waits and blocks the partition",
			nodes: oneFree, running: busyN2,
			jobs:    []*api.Job{job(1, onNodes(2), cpus(4), prio(2)), job(2, cpus(8), prio(1))},
			reasons: reasons{1: api.ReasonResources, 2: api.ReasonPriority},
			stats:   &sched.Stats{Considered: 2},
		},
		{
			name:  "conservative: one free node, nothing ever frees the other: no reservation",
			cfg:   bf(sched.BackfillConservative),
			nodes: oneFree, running: busyN2,
			jobs:    []*api.Job{job(1, onNodes(2), cpus(4), prio(2)), job(2, cpus(8), prio(1))},
			want:    []sched.Placement{place(2, "n1", 8, gib)},
			reasons: reasons{1: api.ReasonResources},
			resv:    []sched.Reservation{},
			stats:   &sched.Stats{Considered: 2, Backfilled: 1},
		},
		{
			// n1 and n3 by name (n2 lacks CPUs), the lowest free GPUs on
			// each; then job 2 takes 4 CPUs on n1, n3 and n4.
			name:  "free nodes: one allocation per node with the per-node demand",
			nodes: gpuNodes(),
			jobs:  []*api.Job{wide(1, prio(2)), job(2, onNodes(3), cpus(4), prio(1))},
			want: []sched.Placement{
				placeOn(1, alloc("n1", 4, 2*gib, 1, 3), alloc("n3", 4, 2*gib, 0, 2)),
				placeOn(2, alloc("n1", 4, gib), alloc("n3", 4, gib), alloc("n4", 4, gib)),
			},
			stats: &sched.Stats{Considered: 2, Started: 2},
		},
		{
			name:  "conservative places it the same way",
			cfg:   bf(sched.BackfillConservative),
			nodes: gpuNodes(),
			jobs:  []*api.Job{wide(1, prio(2)), job(2, onNodes(3), cpus(4), prio(1))},
			want: []sched.Placement{
				placeOn(1, alloc("n1", 4, 2*gib, 1, 3), alloc("n3", 4, 2*gib, 0, 2)),
				placeOn(2, alloc("n1", 4, gib), alloc("n3", 4, gib), alloc("n4", 4, gib)),
			},
			stats: &sched.Stats{Considered: 2, Started: 2},
		},
		{
			name: "GPUs: a node with too few free GPUs is passed over",
			nodes: []sched.NodeFree{
				node("n1", 8, 16*gib, withGPUs(4, 2)),
				node("n2", 8, 16*gib, withGPUs(4, 3, 1)),
				node("n3", 8, 16*gib, withGPUs(2, 0, 1)),
			},
			jobs: []*api.Job{job(1, onNodes(2), gpusPerNode(2))},
			want: []sched.Placement{placeOn(1, alloc("n2", 1, gib, 1, 3), alloc("n3", 1, gib, 0, 1))},
		},
		{
			name: "GPUs: only one node with enough free GPUs: waits",
			nodes: []sched.NodeFree{
				node("n1", 8, 16*gib, withGPUs(4, 2)),
				node("n2", 8, 16*gib, withGPUs(4, 3, 1)),
			},
			jobs:    []*api.Job{job(1, onNodes(2), gpusPerNode(2))},
			reasons: reasons{1: api.ReasonResources},
		},
		{
			name: "DOWN and DRAIN nodes are never used",
			nodes: []sched.NodeFree{
				node("n1", 8, 16*gib), node("n2", 8, 16*gib, nodeState(api.NodeDown)),
				node("n3", 8, 16*gib, nodeState(api.NodeDrain)), node("n4", 8, 16*gib),
			},
			jobs: []*api.Job{job(1, onNodes(2), cpus(8))},
			want: []sched.Placement{placeOn(1, alloc("n1", 8, gib), alloc("n4", 8, gib))},
		},
		{
			name: "memory is per node: a node short of it is passed over",
			nodes: []sched.NodeFree{
				node("n1", 8, 4*gib, memTotal(16*gib)), node("n2", 8, 16*gib), node("n3", 8, 16*gib),
			},
			jobs: []*api.Job{job(1, onNodes(2), mem(6*gib))},
			want: []sched.Placement{placeOn(1, alloc("n2", 1, 6*gib), alloc("n3", 1, 6*gib))},
		},
		{
			name: "partition members only",
			nodes: []sched.NodeFree{
				node("n1", 8, 16*gib), node("n2", 8, 16*gib), node("n3", 8, 16*gib),
			},
			partitions: []api.Partition{partition("main", "n1", "n3"), partition("other", "n2")},
			jobs:       []*api.Job{job(1, onNodes(2))},
			want:       []sched.Placement{placeOn(1, alloc("n1", 1, gib), alloc("n3", 1, gib))},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.run(t) })
	}
}

// TestGangModeNone: in mode none a waiting gang blocks the rest of its
// partition (reason Priority), unless it can never fit.
func TestGangModeNone(t *testing.T) {
	nodes := func(opts ...nodeOpt) []sched.NodeFree {
		return []sched.NodeFree{
			node("n1", 8, 16*gib), node("n2", 0, 16*gib, append([]nodeOpt{total(8)}, opts...)...),
			node("o1", 8, 16*gib),
		}
	}
	parts := []api.Partition{partition("main", "n1", "n2"), partition("other", "o1")}
	busy := []*api.Job{running(100, "n2", 8, 0)}
	tests := []gangCase{
		{
			name:  "a waiting gang blocks later jobs of its partition, not of others",
			nodes: nodes(), running: busy, partitions: parts,
			jobs: []*api.Job{
				job(1, onNodes(2), cpus(4), prio(4)),
				job(2, cpus(1), prio(3)), // would fit n1
				job(3, part("other"), prio(2)),
				job(4, onNodes(2), cpus(1), prio(1)),
			},
			want:    []sched.Placement{place(3, "o1", 1, gib)},
			reasons: reasons{1: api.ReasonResources, 2: api.ReasonPriority, 4: api.ReasonPriority},
			stats:   &sched.Stats{Considered: 4, Started: 1},
		},
		{
			// n1 and n2 have 4 of 8 CPUs free: job 1 waits and blocks;
			// the gang (job 3) would fit but waits behind it.
			name:       "a gang behind a blocked single-node job waits with Priority",
			nodes:      []sched.NodeFree{node("n1", 4, 16*gib, total(8)), node("n2", 4, 16*gib, total(8))},
			running:    []*api.Job{running(100, "n1", 4, 0), running(101, "n2", 4, 0)},
			partitions: parts,
			jobs: []*api.Job{
				job(1, cpus(8), prio(4)), job(2, exclusive(), prio(3)), job(3, onNodes(2), prio(2)),
			},
			reasons: reasons{1: api.ReasonResources, 2: api.ReasonPriority, 3: api.ReasonPriority},
		},
		{
			name:  "more nodes than the partition has: ReqNodeNotAvail, blocks nothing",
			nodes: nodes(), running: busy, partitions: parts,
			jobs:    []*api.Job{job(1, onNodes(3), prio(4)), job(2, cpus(1), prio(3))},
			want:    []sched.Placement{place(2, "n1", 1, gib)},
			reasons: reasons{1: api.ReasonNodeNotAvail},
		},
		{
			name:  "DOWN nodes do not count toward the partition",
			nodes: nodes(nodeState(api.NodeDown)), partitions: parts,
			jobs:    []*api.Job{job(1, onNodes(2), prio(4)), job(2, cpus(1), prio(3))},
			want:    []sched.Placement{place(2, "n1", 1, gib)},
			reasons: reasons{1: api.ReasonNodeNotAvail},
		},
		{
			name:  "a per-node demand too large for all but one node: ReqNodeNotAvail",
			nodes: []sched.NodeFree{node("n1", 16, 16*gib), node("n2", 8, 16*gib)},
			jobs:  []*api.Job{job(1, onNodes(2), cpus(12), prio(4)), job(2, cpus(1), prio(3))},
			want:  []sched.Placement{place(2, "n1", 1, gib)},
			reasons: reasons{
				1: api.ReasonNodeNotAvail,
			},
		},
		{
			name:    "same in mode easy: never fits, no reservation, blocks nothing",
			cfg:     bf(sched.BackfillEASY),
			nodes:   []sched.NodeFree{node("n1", 16, 16*gib), node("n2", 8, 16*gib)},
			jobs:    []*api.Job{job(1, onNodes(2), cpus(12), prio(4)), job(2, cpus(1), prio(3))},
			want:    []sched.Placement{place(2, "n1", 1, gib)},
			reasons: reasons{1: api.ReasonNodeNotAvail},
			resv:    []sched.Reservation{},
			stats:   &sched.Stats{Considered: 2, Started: 1},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.run(t) })
	}
}

// TestGangEASY: a waiting gang gets a reservation on all of its nodes at
// one start; later jobs start only where they do not delay it.
//
//	n1: R100 holds 8 CPUs until +60m
//	n2: R101 holds 8 CPUs until +30m
//	n3: free
//
// G (2 nodes × 8 CPUs, 2h) cannot start; n3 is free now, n2 at +30m, n1
// at +60m: reserved on n2 and n3 over [30m,150m). L (2 CPUs, 2h) fits n3
// now but would hold it at +30m: Priority. S (2 CPUs, 20m) ends on n3
// before +30m: backfilled. G2 (another gang) fits nowhere without delaying
// G and the partition's reservation is taken: Priority.
func TestGangEASY(t *testing.T) {
	nodes := []sched.NodeFree{
		node("n1", 0, 16*gib, total(8)), node("n2", 0, 16*gib, total(8)), node("n3", 8, 16*gib),
	}
	run := []*api.Job{running(100, "n1", 8, 60*m), running(101, "n2", 8, 30*m)}
	tests := []gangCase{
		{
			name: "gang reserved on two nodes; short job backfilled, long one not",
			cfg:  bf(sched.BackfillEASY), nodes: nodes, running: run,
			jobs: []*api.Job{
				job(1, onNodes(2), cpus(8), limit(2*time.Hour), prio(4)),
				job(2, cpus(2), limit(2*time.Hour), prio(3)),
				job(3, cpus(2), limit(20*m), prio(2)),
				job(4, onNodes(2), cpus(1), limit(2*time.Hour), prio(1)),
			},
			want:    []sched.Placement{place(3, "n3", 2, gib)},
			reasons: reasons{1: api.ReasonResources, 2: api.ReasonPriority, 4: api.ReasonPriority},
			starts:  starts{1: t0.Add(30 * m)},
			resv: []sched.Reservation{
				resvAt(1, "n2", 30*m, 150*m, 8, gib, 0), resvAt(1, "n3", 30*m, 150*m, 8, gib, 0),
			},
			stats: &sched.Stats{Considered: 4, Backfilled: 1, Reserved: 1},
		},
		{
			// Job 2 ends exactly at the reservation's start: allowed.
			// Job 3 then finds no room and the partition's
			// reservation is taken: Priority.
			name: "a job ending exactly at the reservation start is backfilled",
			cfg:  bf(sched.BackfillEASY), nodes: nodes, running: run,
			jobs: []*api.Job{
				job(1, onNodes(2), cpus(8), limit(2*time.Hour), prio(4)),
				job(2, cpus(8), limit(30*m), prio(3)),
				job(3, cpus(1), limit(30*m), prio(2)), // n3 is full now
			},
			want:    []sched.Placement{place(2, "n3", 8, gib)},
			reasons: reasons{1: api.ReasonResources, 3: api.ReasonPriority},
			starts:  starts{1: t0.Add(30 * m)},
			stats:   &sched.Stats{Considered: 3, Backfilled: 1, Reserved: 1},
		},
		{
			// Without the gang, job 2 would have started on n3.
			name: "a gang reservation is kept against a single-node job's own reservation need",
			cfg:  bf(sched.BackfillEASY), nodes: nodes, running: run,
			jobs: []*api.Job{
				job(1, onNodes(2), cpus(8), limit(time.Hour), prio(4)),
				job(2, cpus(8), limit(time.Hour), prio(3)),
			},
			reasons: reasons{1: api.ReasonResources, 2: api.ReasonPriority},
			starts:  starts{1: t0.Add(30 * m)},
			resv: []sched.Reservation{
				resvAt(1, "n2", 30*m, 90*m, 8, gib, 0), resvAt(1, "n3", 30*m, 90*m, 8, gib, 0),
			},
		},
		{
			// Job 1 (12 CPUs) can only ever run on the 16-CPU n1: it
			// reserves n1 at +60m. The gang behind it could start at
			// +30m on n2 and n3, but the partition's reservation is
			// taken: Priority, no reservation.
			name: "a gang behind the partition's reservation: Priority, no reservation",
			cfg:  bf(sched.BackfillEASY),
			nodes: []sched.NodeFree{
				node("n1", 0, 16*gib, total(16)), node("n2", 0, 16*gib, total(8)), node("n3", 8, 16*gib),
			},
			running: []*api.Job{running(100, "n1", 16, 60*m), running(101, "n2", 8, 30*m)},
			jobs: []*api.Job{
				job(1, cpus(12), limit(time.Hour), prio(4)),
				job(2, onNodes(2), cpus(8), limit(time.Hour), prio(3)),
			},
			reasons: reasons{1: api.ReasonResources, 2: api.ReasonPriority},
			starts:  starts{1: t0.Add(60 * m)},
			resv:    []sched.Reservation{resvAt(1, "n1", 60*m, 120*m, 12, gib, 0)},
		},
		{
			// G's earliest start (+30m) is beyond the window: no
			// reservation, and nothing protects n3 from the 2h job.
			name:  "window: no reservation beyond it, the gang's nodes not protected",
			cfg:   sched.Config{Backfill: sched.BackfillConfig{Mode: sched.BackfillEASY, Window: 20 * m}},
			nodes: nodes, running: run,
			jobs: []*api.Job{
				job(1, onNodes(2), cpus(8), limit(2*time.Hour), prio(4)),
				job(2, cpus(2), limit(2*time.Hour), prio(3)),
				job(3, cpus(2), limit(20*m), prio(2)),
				job(4, onNodes(2), cpus(1), limit(2*time.Hour), prio(1)),
			},
			want:    []sched.Placement{place(2, "n3", 2, gib), place(3, "n3", 2, gib)},
			reasons: reasons{1: api.ReasonResources, 4: api.ReasonResources},
			resv:    []sched.Reservation{},
			stats:   &sched.Stats{Considered: 4, Backfilled: 2},
		},
		{
			// t0 is 03:04:05: n2 comes free at 03:34:05, rounded up to
			// 03:40:00 (35m55s after now).
			name:  "resolution: the gang's start is rounded up on the wall clock",
			cfg:   sched.Config{Backfill: sched.BackfillConfig{Mode: sched.BackfillEASY, Resolution: 10 * m}},
			nodes: nodes, running: run,
			jobs: []*api.Job{
				job(1, onNodes(2), cpus(8), limit(time.Hour), prio(4)),
				job(2, cpus(2), limit(35*m), prio(3)),
			},
			want:    []sched.Placement{place(2, "n3", 2, gib)},
			reasons: reasons{1: api.ReasonResources},
			starts:  starts{1: time.Date(2025, 1, 2, 3, 40, 0, 0, time.UTC)},
			resv: []sched.Reservation{
				resvAt(1, "n2", 35*m+55*time.Second, 95*m+55*time.Second, 8, gib, 0),
				resvAt(1, "n3", 35*m+55*time.Second, 95*m+55*time.Second, 8, gib, 0),
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.run(t) })
	}
}

// TestGangConservative: every waiting gang gets a reservation, after the
// earlier ones, never on the same resources at the same time.
//
//	n1, n2, n3 (8 CPUs): held until +30m, +60m, +90m.
//
// A (2 × 8 CPUs, 1h): two nodes free from +60m (n1, n2): [60m,120m).
// B (2 × 8 CPUs, 1h): n1 and n2 from +120m, n3 from +90m: the second
// node is there at +120m; n1, n2 by name: [120m,180m).
// C (8 CPUs, 30m): n1 over [30m,60m), between R100 and A.
func TestGangConservative(t *testing.T) {
	nodes := []sched.NodeFree{
		node("n1", 0, 16*gib, total(8)), node("n2", 0, 16*gib, total(8)), node("n3", 0, 16*gib, total(8)),
	}
	run := []*api.Job{running(100, "n1", 8, 30*m), running(101, "n2", 8, 60*m), running(102, "n3", 8, 90*m)}
	tc := gangCase{
		name: "two gangs and a small job",
		cfg:  bf(sched.BackfillConservative), nodes: nodes, running: run,
		jobs: []*api.Job{
			job(1, onNodes(2), cpus(8), limit(time.Hour), prio(3)),
			job(2, onNodes(2), cpus(8), limit(time.Hour), prio(2)),
			job(3, cpus(8), limit(30*m), prio(1)),
		},
		reasons: reasons{1: api.ReasonResources, 2: api.ReasonResources, 3: api.ReasonResources},
		starts:  starts{1: t0.Add(60 * m), 2: t0.Add(120 * m), 3: t0.Add(30 * m)},
		resv: []sched.Reservation{
			resvAt(1, "n1", 60*m, 120*m, 8, gib, 0), resvAt(1, "n2", 60*m, 120*m, 8, gib, 0),
			resvAt(2, "n1", 120*m, 180*m, 8, gib, 0), resvAt(2, "n2", 120*m, 180*m, 8, gib, 0),
			resvAt(3, "n1", 30*m, 60*m, 8, gib, 0),
		},
		stats: &sched.Stats{Considered: 3, Reserved: 3},
	}
	plan := tc.run(t)
	// No two reservations overlap in time on one node (each takes the
	// whole node here).
	for i, a := range plan.Reservations {
		for _, b := range plan.Reservations[i+1:] {
			if a.Node == b.Node && a.Start.Before(b.End) && b.Start.Before(a.End) {
				t.Errorf("reservations overlap on %s: %+v and %+v", a.Node, a, b)
			}
		}
	}

	// The start after a reservation: the first node's own earliest start
	// is not always the gang's.
	t.Run("gang start is no node's own earliest start", func(t *testing.T) {
		// n1: 4 of 8 CPUs free until +30m (R100); X reserves all 8 over
		// [30m,70m); then free. n2: full until +45m (R101).
		// G (2 × 4 CPUs, 30m): n1 fits [0,30m) and [70m,...), n2 from
		// +45m: both at +70m.
		gangCase{
			cfg: bf(sched.BackfillConservative),
			nodes: []sched.NodeFree{
				node("n1", 4, 16*gib, total(8)), node("n2", 0, 16*gib, total(8)),
			},
			running: []*api.Job{running(100, "n1", 4, 30*m), running(101, "n2", 8, 45*m)},
			jobs: []*api.Job{
				job(1, cpus(8), limit(40*m), prio(3)),
				job(2, onNodes(2), cpus(4), limit(30*m), prio(2)),
			},
			reasons: reasons{1: api.ReasonResources, 2: api.ReasonResources},
			starts:  starts{1: t0.Add(30 * m), 2: t0.Add(70 * m)},
			resv: []sched.Reservation{
				resvAt(1, "n1", 30*m, 70*m, 8, gib, 0),
				resvAt(2, "n1", 70*m, 100*m, 4, gib, 0), resvAt(2, "n2", 70*m, 100*m, 4, gib, 0),
			},
		}.run(t)
	})
}

// TestGangExclusive: --exclusive takes every CPU, all memory and every
// GPU of each node, and only a fully idle node.
func TestGangExclusive(t *testing.T) {
	gpus4 := withGPUs(4, 0, 1, 2, 3)
	tests := []gangCase{
		{
			name: "takes the whole idle node; a busy one is left to others",
			nodes: []sched.NodeFree{
				node("n1", 7, 15*gib, total(8), memTotal(16*gib), gpus4), // R100: 1 CPU, 1 GiB
				node("n2", 8, 32*gib, gpus4),
			},
			running: []*api.Job{running(100, "n1", 1, 0)},
			jobs:    []*api.Job{job(1, exclusive(), prio(2)), job(2, cpus(2), prio(1))},
			want: []sched.Placement{
				placeOn(1, alloc("n2", 8, 32*gib, 0, 1, 2, 3)),
				place(2, "n1", 2, gib),
			},
			stats: &sched.Stats{Considered: 2, Started: 2},
		},
		{
			name: "no fully idle node (a CPU, memory or a GPU in use): waits, blocks",
			nodes: []sched.NodeFree{
				node("n1", 7, 16*gib, total(8), gpus4),
				node("n2", 8, 30*gib, memTotal(32*gib), gpus4),
				node("n3", 8, 16*gib, withGPUs(4, 0, 1, 3)),
			},
			jobs:    []*api.Job{job(1, exclusive(), prio(2)), job(2, cpus(1), prio(1))},
			reasons: reasons{1: api.ReasonResources, 2: api.ReasonPriority},
		},
		{
			name: "two whole nodes, each of its own size",
			nodes: []sched.NodeFree{
				node("n1", 7, 16*gib, total(8)),
				node("n2", 16, 64*gib, withGPUs(2, 0, 1)),
				node("n3", 4, 8*gib),
			},
			jobs: []*api.Job{job(1, onNodes(2), exclusive())},
			want: []sched.Placement{placeOn(1, alloc("n2", 16, 64*gib, 0, 1), alloc("n3", 4, 8*gib))},
		},
		{
			name: "a GPU type on a mixed node: the whole node, every GPU of that type",
			nodes: []sched.NodeFree{
				node("n1", 8, 16*gib, gpus4, models("NVIDIA A100", 40*gib), models("NVIDIA H100", 80*gib, 1, 3)),
			},
			jobs: []*api.Job{job(1, exclusive(), gpus(1), gpuType("h100"))},
			want: []sched.Placement{placeOn(1, alloc("n1", 8, 16*gib, 1, 3))},
		},
		{
			name:    "more GPUs asked than a node has: ReqNodeNotAvail",
			nodes:   []sched.NodeFree{node("n1", 8, 16*gib, withGPUs(2, 0, 1))},
			jobs:    []*api.Job{job(1, exclusive(), gpus(4), prio(2)), job(2, prio(1))},
			want:    []sched.Placement{place(2, "n1", 1, gib)},
			reasons: reasons{1: api.ReasonNodeNotAvail},
		},
		{
			// n1 is idle at +60m: the reservation holds all of it, so
			// a 2h job may not start there now, a 30m one may.
			name: "easy: the reservation holds the whole node",
			cfg:  bf(sched.BackfillEASY),
			nodes: []sched.NodeFree{
				node("n1", 7, 15*gib, total(8), memTotal(16*gib), gpus4),
			},
			running: []*api.Job{running(100, "n1", 1, 60*m)},
			jobs: []*api.Job{
				job(1, exclusive(), limit(time.Hour), prio(3)),
				job(2, cpus(2), limit(2*time.Hour), prio(2)),
				job(3, cpus(2), gpus(1), limit(30*m), prio(1)),
			},
			want:    []sched.Placement{place(3, "n1", 2, gib, 0)},
			reasons: reasons{1: api.ReasonResources, 2: api.ReasonPriority},
			starts:  starts{1: t0.Add(60 * m)},
			resv:    []sched.Reservation{resvAt(1, "n1", 60*m, 120*m, 8, 16*gib, 4)},
			stats:   &sched.Stats{Considered: 3, Backfilled: 1, Reserved: 1},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.run(t) })
	}

	t.Run("a per-node request larger than the node", func(t *testing.T) {
		gangCase{
			nodes: []sched.NodeFree{node("n1", 8, 16*gib)},
			jobs: []*api.Job{
				job(1, exclusive(), cpus(16), prio(3)),
				job(2, exclusive(), mem(64*gib), prio(2)),
				job(3, prio(1)),
			},
			want:    []sched.Placement{place(3, "n1", 1, gib)},
			reasons: reasons{1: api.ReasonNodeNotAvail, 2: api.ReasonNodeNotAvail},
		}.run(t)
	})
}

// TestGangNetwork: gangs go under as few leaf switches as they can, best
// fit; --switches bounds them until its wait has passed.
func TestGangNetwork(t *testing.T) {
	net := twoLeaves(t)
	spine := mustNetwork(t, topology.Switch{Name: "leaf1", Nodes: "n[1-4]"},
		topology.Switch{Name: "leaf2", Nodes: "n[5-8]"}, topology.Switch{Name: "spine", Switches: "leaf[1-2]"})
	// leaf1: n3, n4 free; leaf2: n6, n7, n8 free.
	twoThree := eightNodes("n1", "n2", "n5")
	// Two free under each leaf: n3, n4 and n7, n8.
	twoTwo := eightNodes("n1", "n2", "n5", "n6")
	whole := func(names ...string) []api.Allocation {
		var out []api.Allocation
		for _, n := range names {
			out = append(out, alloc(n, 8, gib))
		}
		return out
	}
	bound := func(wait time.Duration) *api.Job {
		return job(1, onNodes(3), cpus(8), switches(1, wait), submitted(0), prio(2))
	}
	tests := []gangCase{
		{
			name:  "3 nodes: all under leaf2, the only leaf with 3 free",
			nodes: twoThree, network: net,
			jobs: []*api.Job{job(1, onNodes(3), cpus(8))},
			want: []sched.Placement{placeOn(1, whole("n6", "n7", "n8")...)},
		},
		{
			name:  "2 nodes: best fit, the leaf with exactly 2 free",
			nodes: twoThree, network: net,
			jobs: []*api.Job{job(1, onNodes(2), cpus(8))},
			want: []sched.Placement{placeOn(1, whole("n3", "n4")...)},
		},
		{
			name:  "both, the 3-node job first",
			nodes: twoThree, network: net,
			jobs: []*api.Job{job(1, onNodes(3), cpus(8), prio(2)), job(2, onNodes(2), cpus(8), prio(1))},
			want: []sched.Placement{placeOn(1, whole("n6", "n7", "n8")...), placeOn(2, whole("n3", "n4")...)},
		},
		{
			name:  "both, the 2-node job first: best fit leaves leaf2 whole",
			nodes: twoThree, network: net,
			jobs: []*api.Job{job(1, onNodes(3), cpus(8), prio(1)), job(2, onNodes(2), cpus(8), prio(2))},
			want: []sched.Placement{placeOn(2, whole("n3", "n4")...), placeOn(1, whole("n6", "n7", "n8")...)},
		},
		{
			name:  "without a network: name order",
			nodes: twoThree,
			jobs:  []*api.Job{job(1, onNodes(3), cpus(8))},
			want:  []sched.Placement{placeOn(1, whole("n3", "n4", "n6")...)},
		},
		{
			name:  "under a spine: 5 nodes take both leaves",
			nodes: twoThree, network: spine,
			jobs: []*api.Job{job(1, onNodes(5), cpus(8))},
			want: []sched.Placement{placeOn(1, whole("n3", "n4", "n6", "n7", "n8")...)},
		},
		{
			name:  "under a spine: 3 nodes still on leaf2",
			nodes: twoThree, network: spine,
			jobs: []*api.Job{job(1, onNodes(3), cpus(8))},
			want: []sched.Placement{placeOn(1, whole("n6", "n7", "n8")...)},
		},
		{
			name:  "no bound: 3 nodes across both leaves at once",
			nodes: twoTwo, network: net,
			jobs: []*api.Job{job(1, onNodes(3), cpus(8), submitted(0))},
			want: []sched.Placement{placeOn(1, whole("n3", "n4", "n7")...)},
		},
		{
			name:  "--switches=1@10m: waits before the 10 minutes, and blocks",
			nodes: twoTwo, network: net, now: t0.Add(10*m - time.Second),
			jobs:    []*api.Job{bound(10 * m), job(2, prio(1))},
			reasons: reasons{1: api.ReasonResources, 2: api.ReasonPriority},
		},
		{
			name:  "--switches=1@10m: placed across leaves once 10 minutes have passed",
			nodes: twoTwo, network: net, now: t0.Add(10 * m),
			jobs: []*api.Job{bound(10 * m), job(2, prio(1))},
			want: []sched.Placement{placeOn(1, whole("n3", "n4", "n7")...), place(2, "n8", 1, gib)},
		},
		{
			name:  "--switches=1 without a wait: waits for ever",
			nodes: twoTwo, network: net, now: t0.Add(24 * time.Hour),
			jobs:    []*api.Job{bound(0)},
			reasons: reasons{1: api.ReasonResources},
		},
		{
			name:  "--switches=2: placed at once",
			nodes: twoTwo, network: net,
			jobs: []*api.Job{job(1, onNodes(3), cpus(8), switches(2, 0))},
			want: []sched.Placement{placeOn(1, whole("n3", "n4", "n7")...)},
		},
		{
			name:  "--switches=1, 2 nodes: fits under one leaf",
			nodes: twoTwo, network: net,
			jobs: []*api.Job{job(1, onNodes(2), cpus(8), switches(1, 0))},
			want: []sched.Placement{placeOn(1, whole("n3", "n4")...)},
		},
		{
			name:  "easy: --switches=1@10m waits, with no reservation (nothing ever frees)",
			cfg:   bf(sched.BackfillEASY),
			nodes: twoTwo, network: net, now: t0.Add(5 * m),
			jobs:    []*api.Job{bound(10 * m), job(2, prio(1))},
			want:    []sched.Placement{place(2, "n3", 1, gib)},
			reasons: reasons{1: api.ReasonResources},
			resv:    []sched.Reservation{},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.run(t) })
	}

	// Easy, bounded to one leaf: the reservation waits for the third node
	// of a leaf. n5 ends at +20m, n1 at +40m: leaf2 has 3 at +20m.
	t.Run("easy: the bounded reservation waits for a leaf of 3", func(t *testing.T) {
		nodes := eightNodes("n1", "n2", "n5", "n6")
		gangCase{
			cfg:   bf(sched.BackfillEASY),
			nodes: nodes, network: net, now: t0,
			running: []*api.Job{
				running(100, "n1", 8, 40*m), running(101, "n2", 8, 0),
				running(102, "n5", 8, 20*m), running(103, "n6", 8, 0),
			},
			jobs:    []*api.Job{job(1, onNodes(3), cpus(8), switches(1, 0), submitted(0), limit(time.Hour))},
			reasons: reasons{1: api.ReasonResources},
			starts:  starts{1: t0.Add(20 * m)},
			resv: []sched.Reservation{
				resvAt(1, "n5", 20*m, 80*m, 8, gib, 0), resvAt(1, "n7", 20*m, 80*m, 8, gib, 0),
				resvAt(1, "n8", 20*m, 80*m, 8, gib, 0),
			},
		}.run(t)
	})
}

// TestGangPreemption: multi-node running jobs are never victims, and gang
// jobs never preempt (see preemptQOS in preempt_test.go: high preempts low,
// REQUEUE with 60 s of grace).
func TestGangPreemption(t *testing.T) {
	full3 := []sched.NodeFree{full("n1"), full("n2"), full("n3")}
	gangLow := runningGang(10, 0, "low", alloc("n1", 8, gib), alloc("n2", 8, gib))
	tests := []gangCase{
		{
			name:    "a multi-node job is never a victim",
			nodes:   full3[:2],
			running: []*api.Job{gangLow},
			jobs:    []*api.Job{job(1, cpus(4), qos("high"))},
			reasons: reasons{1: api.ReasonResources},
		},
		{
			name:    "the single-node job beside it is",
			nodes:   full3,
			running: []*api.Job{gangLow, runningQ(11, "n3", 8, "low", 0, h)},
			jobs:    []*api.Job{job(1, cpus(4), qos("high"))},
			reasons: reasons{1: api.ReasonResources},
			preempt: []sched.Preemption{preempted(11, 1, requeue, g60)},
			stats:   &sched.Stats{Considered: 1, Preempted: 1},
		},
		{
			name:    "a single-node preemptor on single-node victims (the setup works)",
			nodes:   full3[:2],
			running: []*api.Job{runningQ(10, "n1", 8, "low", 0, h), runningQ(11, "n2", 8, "low", 0, h)},
			jobs:    []*api.Job{job(1, cpus(4), qos("high"))},
			reasons: reasons{1: api.ReasonResources},
			preempt: []sched.Preemption{preempted(10, 1, requeue, g60)},
		},
		{
			name:    "a multi-node job never preempts",
			nodes:   full3[:2],
			running: []*api.Job{runningQ(10, "n1", 8, "low", 0, h), runningQ(11, "n2", 8, "low", 0, h)},
			jobs:    []*api.Job{job(1, onNodes(2), cpus(4), qos("high"))},
			reasons: reasons{1: api.ReasonResources},
		},
		{
			name:    "an exclusive job never preempts",
			nodes:   full3[:2],
			running: []*api.Job{runningQ(10, "n1", 8, "low", 0, h), runningQ(11, "n2", 8, "low", 0, h)},
			jobs:    []*api.Job{job(1, exclusive(), qos("high"))},
			reasons: reasons{1: api.ReasonResources},
		},
		{
			name:    "a --switches job never preempts",
			nodes:   full3[:2],
			running: []*api.Job{runningQ(10, "n1", 8, "low", 0, h), runningQ(11, "n2", 8, "low", 0, h)},
			jobs:    []*api.Job{job(1, cpus(4), switches(1, 0), qos("high"))},
			reasons: reasons{1: api.ReasonResources},
		},
		{
			// Mode none: the gang blocks the partition, the job behind
			// it waits with Priority, so nobody preempts.
			name:  "none: the single-node job behind a waiting gang does not preempt",
			nodes: full3[:2],
			running: []*api.Job{
				runningQ(10, "n1", 8, "low", 0, h), runningQ(11, "n2", 8, "low", 0, 2*h),
			},
			jobs:    []*api.Job{job(1, onNodes(2), cpus(4), qos("high"), prio(2)), job(2, cpus(4), qos("high"), prio(1))},
			reasons: reasons{1: api.ReasonResources, 2: api.ReasonPriority},
		},
		{
			// Easy: the gang waits without a reservation (nothing
			// ends), job 2 waits with Resources and preempts the
			// victim with the least work done (R10: 1h against 2h).
			name:  "easy: the single-node job after a waiting gang still preempts",
			cfg:   bf(sched.BackfillEASY),
			nodes: full3[:2],
			running: []*api.Job{
				runningQ(10, "n1", 8, "low", 0, h), runningQ(11, "n2", 8, "low", 0, 2*h),
			},
			jobs:    []*api.Job{job(1, onNodes(2), cpus(4), qos("high"), prio(2)), job(2, cpus(4), qos("high"), prio(1))},
			reasons: reasons{1: api.ReasonResources, 2: api.ReasonResources},
			resv:    []sched.Reservation{},
			preempt: []sched.Preemption{preempted(10, 2, requeue, g60)},
		},
	}
	for _, tc := range tests {
		tc.qos = preemptQOS()
		t.Run(tc.name, func(t *testing.T) { tc.run(t) })
	}
}

// TestGangQOS: QOS limits count a gang on every one of its nodes, for
// running and pending jobs alike.
func TestGangQOS(t *testing.T) {
	grp := func(l api.TRES) []api.QOS { return []api.QOS{{Name: "grp", GrpTRES: l}} }
	four := []sched.NodeFree{node("n1", 8, 16*gib), node("n2", 8, 16*gib), node("n3", 8, 16*gib), node("n4", 8, 16*gib)}
	tests := []gangCase{
		{
			// Job 1 takes 2 × 8 = 16 CPUs: the limit; job 2 would go over.
			name:  "a placed gang counts its CPUs on every node",
			nodes: four, qos: grp(api.TRES{CPUs: 16}),
			jobs:    []*api.Job{job(1, onNodes(2), cpus(8), qos("grp"), prio(2)), job(2, qos("grp"), prio(1))},
			want:    []sched.Placement{placeOn(1, alloc("n1", 8, gib), alloc("n2", 8, gib))},
			reasons: reasons{2: api.ReasonQOSGrpTRES},
		},
		{
			// R10 holds 2 × 4 CPUs: 8 more fit (2 × 4), 2 × 5 would not.
			name:    "a running gang counts its CPUs on every node",
			nodes:   []sched.NodeFree{node("n1", 4, 16*gib, total(8)), node("n2", 4, 16*gib, total(8)), node("n3", 8, 16*gib), node("n4", 8, 16*gib)},
			running: []*api.Job{runningGang(10, 0, "grp", alloc("n1", 4, gib), alloc("n2", 4, gib))},
			qos:     grp(api.TRES{CPUs: 16}),
			jobs:    []*api.Job{job(1, onNodes(2), cpus(5), qos("grp"), prio(2)), job(2, onNodes(2), cpus(4), qos("grp"), prio(1))},
			want:    []sched.Placement{placeOn(2, alloc("n1", 4, gib), alloc("n2", 4, gib))},
			reasons: reasons{1: api.ReasonQOSGrpTRES},
		},
		{
			name:  "a node limit counts nodes",
			nodes: four, qos: grp(api.TRES{Nodes: 3}),
			jobs:    []*api.Job{job(1, onNodes(2), qos("grp"), prio(2)), job(2, onNodes(2), qos("grp"), prio(1))},
			want:    []sched.Placement{placeOn(1, alloc("n1", 1, gib), alloc("n2", 1, gib))},
			reasons: reasons{2: api.ReasonQOSGrpTRES},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.run(t) })
	}

	t.Run("an exclusive job counts the whole node", func(t *testing.T) {
		gangCase{
			nodes: four[:3], qos: grp(api.TRES{CPUs: 16}),
			jobs: []*api.Job{
				job(1, exclusive(), qos("grp"), prio(3)), job(2, exclusive(), qos("grp"), prio(2)),
				job(3, exclusive(), qos("grp"), prio(1)),
			},
			want:    []sched.Placement{placeOn(1, alloc("n1", 8, 16*gib)), placeOn(2, alloc("n2", 8, 16*gib))},
			reasons: reasons{3: api.ReasonQOSGrpTRES},
		}.run(t)
	})
}
