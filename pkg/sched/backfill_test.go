package sched_test

import (
	"maps"
	"reflect"
	"testing"
	"time"

	"github.com/gsched/gsched/pkg/api"
	"github.com/gsched/gsched/pkg/sched"
)

// ---- more builders ----

func limit(d time.Duration) jobOpt {
	return func(j *api.Job) { j.Spec.TimeLimit = int64(d / time.Second) }
}
func unlimited() jobOpt    { return func(j *api.Job) { j.Spec.TimeLimit = 0 } }
func qos(q string) jobOpt  { return func(j *api.Job) { j.Spec.QOS = q } }
func user(u string) jobOpt { return func(j *api.Job) { j.User = u } }

// total sets the node's CPU count (node() makes it the free count).
func total(c int) nodeOpt { return func(nf *sched.NodeFree) { nf.Node.CPUs = c } }

// running is a job running on node since before t0 that ends at t0+end
// (end 0: no time limit), holding cpus CPUs, 1 GiB and the given GPUs.
func running(id api.JobID, node string, cpus int, end time.Duration, gpuIdx ...int) *api.Job {
	j := job(id, func(j *api.Job) { j.Spec.NTasks, j.Spec.CPUsPerTask, j.Spec.GPUs = 1, cpus, len(gpuIdx) })
	j.State = api.StateRunning
	j.StartTime = t0.Add(-time.Hour)
	if end != 0 {
		j.Deadline = t0.Add(end)
	}
	j.Allocs = []api.Allocation{{Node: node, CPUs: cpus, MemBytes: gib, GPUs: gpuIdx}}
	return j
}

func bf(mode string) sched.Config {
	return sched.Config{Backfill: sched.BackfillConfig{Mode: mode}}
}

type starts = map[api.JobID]time.Time

// scenario is one hand-computed pass.
type scenario struct {
	name       string
	cfg        sched.Config
	nodes      []sched.NodeFree
	running    []*api.Job
	jobs       []*api.Job
	partitions []api.Partition
	qos        []api.QOS
	want       []sched.Placement
	reasons    reasons
	starts     starts
	stats      *sched.Stats
	resv       []sched.Reservation // checked when set
}

func (s scenario) run(t *testing.T) sched.Plan {
	t.Helper()
	parts := s.partitions
	if parts == nil {
		parts = []api.Partition{partition("main")}
	}
	in := sched.Input{Now: t0, Nodes: s.nodes, Pending: s.jobs, Running: s.running, Partitions: parts,
		QOS: s.qos, Config: s.cfg}
	plan := sched.Schedule(in)
	if !reflect.DeepEqual(plan.Placements, s.want) {
		t.Errorf("placements:\n got %+v\nwant %+v", plan.Placements, s.want)
	}
	if !maps.Equal(plan.Reasons, s.reasons) {
		t.Errorf("reasons:\n got %v\nwant %v", plan.Reasons, s.reasons)
	}
	if !maps.EqualFunc(plan.Starts, s.starts, time.Time.Equal) {
		t.Errorf("starts:\n got %v\nwant %v", plan.Starts, s.starts)
	}
	if s.resv != nil && !reflect.DeepEqual(plan.Reservations, s.resv) {
		t.Errorf("reservations:\n got %+v\nwant %+v", plan.Reservations, s.resv)
	}
	if s.stats != nil && plan.Stats != *s.stats {
		t.Errorf("stats: got %+v, want %+v", plan.Stats, *s.stats)
	}
	checkInvariants(t, in, plan)
	return plan
}

const m = time.Minute

// Two nodes of 8 CPUs:
//
//	n1: R1 holds 4 CPUs until +60m      free: [0,60m) 4   [60m,∞) 8
//	n2: R2 holds 8 CPUs until +90m      free: [0,90m) 0   [90m,∞) 8
//
// B (8 CPUs, 2h) cannot start; its earliest start is n1 at +60m (n2:
// +90m), reserved [60m,180m). S30 (2 CPUs, 30m) fits n1 now and ends at
// +30m, before the reservation: backfilled. S120 (2 CPUs, 2h) fits n1 now
// but would still hold 2 CPUs at +60m, when B needs all 8: Priority.
func twoNodes() ([]sched.NodeFree, []*api.Job) {
	return []sched.NodeFree{node("n1", 4, 16*gib, total(8)), node("n2", 0, 16*gib, total(8))},
		[]*api.Job{running(100, "n1", 4, 60*m), running(101, "n2", 8, 90*m)}
}

func twoNodeJobs() []*api.Job {
	return []*api.Job{
		job(1, cpus(8), limit(2*time.Hour), prio(3)),
		job(2, cpus(2), limit(30*m), prio(2)),
		job(3, cpus(2), limit(2*time.Hour), prio(1)),
	}
}

func TestBackfillScenarios(t *testing.T) {
	nodes, run := twoNodes()
	windowed := bf(sched.BackfillEASY)
	windowed.Backfill.Window = 30 * m
	rounded := bf(sched.BackfillEASY)
	rounded.Backfill.Resolution = 10 * m
	test1 := bf(sched.BackfillConservative)
	test1.Backfill.MaxJobTest = 2
	tests := []scenario{
		{
			name: "easy: short job backfilled before the reservation, long one not",
			cfg:  bf(sched.BackfillEASY), nodes: nodes, running: run, jobs: twoNodeJobs(),
			want:    []sched.Placement{place(2, "n1", 2, gib)},
			reasons: reasons{1: api.ReasonResources, 3: api.ReasonPriority},
			starts:  starts{1: t0.Add(60 * m)},
			stats:   &sched.Stats{Considered: 3, Backfilled: 1, Reserved: 1},
		},
		{
			name: "none: the big job blocks the partition",
			cfg:  bf(sched.BackfillNone), nodes: nodes, running: run, jobs: twoNodeJobs(),
			reasons: reasons{1: api.ReasonResources, 2: api.ReasonPriority, 3: api.ReasonPriority},
			starts:  starts{},
			stats:   &sched.Stats{Considered: 3},
		},
		{
			// After B [60m,180m) on n1 and S30 [0,30m) on n1, S120's
			// earliest 2h slot is n2 at +90m (n1: +180m).
			name: "conservative: the long job gets its own reservation",
			cfg:  bf(sched.BackfillConservative), nodes: nodes, running: run, jobs: twoNodeJobs(),
			want:    []sched.Placement{place(2, "n1", 2, gib)},
			reasons: reasons{1: api.ReasonResources, 3: api.ReasonResources},
			starts:  starts{1: t0.Add(60 * m), 3: t0.Add(90 * m)},
			stats:   &sched.Stats{Considered: 3, Backfilled: 1, Reserved: 2},
		},
		{
			// B's earliest start (+60m) lies beyond the 30m window: no
			// reservation, and nothing protects n1 from S120.
			name: "window: no reservation beyond it, resources not protected",
			cfg:  windowed, nodes: nodes, running: run, jobs: twoNodeJobs(),
			want:    []sched.Placement{place(2, "n1", 2, gib), place(3, "n1", 2, gib)},
			reasons: reasons{1: api.ReasonResources},
			starts:  starts{},
			stats:   &sched.Stats{Considered: 3, Backfilled: 2},
		},
		{
			// t0 is 03:04:05; n1 frees at 04:04:05, rounded up to 04:10.
			name: "resolution: the start is rounded up on the wall clock",
			cfg:  rounded, nodes: nodes, running: run, jobs: twoNodeJobs(),
			want:    []sched.Placement{place(2, "n1", 2, gib)},
			reasons: reasons{1: api.ReasonResources, 3: api.ReasonPriority},
			starts:  starts{1: time.Date(2025, 1, 2, 4, 10, 0, 0, time.UTC)},
		},
		{
			name: "conservative: jobs past MaxJobTest wait with Priority",
			cfg:  test1, nodes: nodes, running: run, jobs: twoNodeJobs(),
			want:    []sched.Placement{place(2, "n1", 2, gib)},
			reasons: reasons{1: api.ReasonResources, 3: api.ReasonPriority},
			starts:  starts{1: t0.Add(60 * m)},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.run(t) })
	}
}

// Two nodes of 8 CPUs, 2 free on each:
//
//	n1: R1 holds 6 CPUs until +60m      free: [0,60m) 2   [60m,∞) 8
//	n2: R2 holds 6 CPUs until +90m      free: [0,90m) 2   [90m,∞) 8
//
// A (8 CPUs, 1h): earliest n1 at +60m, reserved [60m,120m).
// B (8 CPUs, 1h): conservative reserves it on n2 at +90m (n1: +120m);
// EASY gives it no reservation.
// C (2 CPUs, 2h): n1 is out (it would hold 2 CPUs into A's slot). On n2
// it would hold 2 CPUs into B's slot: EASY, which does not protect B,
// starts it there; conservative reserves it at +120m on n1 (n1 [120m,∞)
// 8 free; n2 only from +150m).
func TestEASYVersusConservative(t *testing.T) {
	nodes := []sched.NodeFree{node("n1", 2, 16*gib, total(8)), node("n2", 2, 16*gib, total(8))}
	run := []*api.Job{running(100, "n1", 6, 60*m), running(101, "n2", 6, 90*m)}
	jobs := func() []*api.Job {
		return []*api.Job{
			job(1, cpus(8), limit(time.Hour), prio(3)),
			job(2, cpus(8), limit(time.Hour), prio(2)),
			job(3, cpus(2), limit(2*time.Hour), prio(1)),
		}
	}
	tests := []scenario{
		{
			name: "easy", cfg: bf(sched.BackfillEASY), nodes: nodes, running: run, jobs: jobs(),
			want:    []sched.Placement{place(3, "n2", 2, gib)},
			reasons: reasons{1: api.ReasonResources, 2: api.ReasonPriority},
			starts:  starts{1: t0.Add(60 * m)},
			stats:   &sched.Stats{Considered: 3, Backfilled: 1, Reserved: 1},
		},
		{
			name: "conservative", cfg: bf(sched.BackfillConservative), nodes: nodes, running: run, jobs: jobs(),
			reasons: reasons{1: api.ReasonResources, 2: api.ReasonResources, 3: api.ReasonResources},
			starts:  starts{1: t0.Add(60 * m), 2: t0.Add(90 * m), 3: t0.Add(120 * m)},
			stats:   &sched.Stats{Considered: 3, Reserved: 3},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plan := tt.run(t)
			want := map[api.JobID]string{1: "n1"}
			if tt.cfg.Backfill.Mode == sched.BackfillConservative {
				want = map[api.JobID]string{1: "n1", 2: "n2", 3: "n1"}
			}
			got := map[api.JobID]string{}
			for _, r := range plan.Reservations {
				got[r.JobID] = r.Node
			}
			if !maps.Equal(got, want) {
				t.Errorf("reserved nodes: got %v, want %v", got, want)
			}
		})
	}
}

func TestBackfillCases(t *testing.T) {
	easy := bf(sched.BackfillEASY)
	tests := []scenario{
		{
			// n1: 4 free until +60m, 8 after; n2: 2 free for ever (R2
			// has no time limit). B reserves n1 at +60m. U1 (unlimited)
			// would keep 2 CPUs of n1 for ever: it goes to n2. U2 fits
			// neither (n2 is full now): Priority. S (30m) fits n1.
			name:  "unlimited job skips the reserved node, may start on another",
			cfg:   easy,
			nodes: []sched.NodeFree{node("n1", 4, 16*gib, total(8)), node("n2", 2, 16*gib, total(8))},
			running: []*api.Job{
				running(100, "n1", 4, 60*m), running(101, "n2", 6, 0),
			},
			jobs: []*api.Job{
				job(1, cpus(8), limit(time.Hour), prio(4)),
				job(2, cpus(2), unlimited(), prio(3)),
				job(3, cpus(2), unlimited(), prio(2)),
				job(4, cpus(2), limit(30*m), prio(1)),
			},
			want:    []sched.Placement{place(2, "n2", 2, gib), place(4, "n1", 2, gib)},
			reasons: reasons{1: api.ReasonResources, 3: api.ReasonPriority},
			starts:  starts{1: t0.Add(60 * m)},
			stats:   &sched.Stats{Considered: 4, Backfilled: 2, Reserved: 1},
		},
		{
			// n1 has 16 CPUs, 4 free until +60m, 16 after. B needs all
			// 16 from +60m: an unlimited job would delay it for ever.
			name:    "unlimited job does not start where the reservation needs the whole node",
			cfg:     easy,
			nodes:   []sched.NodeFree{node("n1", 4, 16*gib, total(16))},
			running: []*api.Job{running(100, "n1", 12, 60*m)},
			jobs: []*api.Job{
				job(1, cpus(16), limit(time.Hour), prio(2)),
				job(2, cpus(4), unlimited(), prio(1)),
			},
			reasons: reasons{1: api.ReasonResources, 2: api.ReasonPriority},
			starts:  starts{1: t0.Add(60 * m)},
		},
		{
			// As above, but B needs 8 of the 16 CPUs from +60m: 8 stay
			// spare, so an unlimited 4-CPU job fits alongside (job 3
			// finds no free CPU now).
			name:    "unlimited job starts where the node keeps room for the reservation",
			cfg:     easy,
			nodes:   []sched.NodeFree{node("n1", 4, 16*gib, total(16))},
			running: []*api.Job{running(100, "n1", 12, 60*m)},
			jobs: []*api.Job{
				job(1, cpus(8), limit(time.Hour), prio(2)),
				job(2, cpus(4), unlimited(), prio(1)),
				job(3, cpus(1), unlimited(), prio(0)),
			},
			want:    []sched.Placement{place(2, "n1", 4, gib)},
			reasons: reasons{1: api.ReasonResources, 3: api.ReasonPriority},
			starts:  starts{1: t0.Add(60 * m)},
		},
		{
			// One node, 8 GPUs, 6 held until +60m. G4 reserves 4 GPUs
			// at +60m; G2 (2 GPUs, 2h) takes the 2 free now, leaving 6
			// of 8 at +60m: enough. G1 finds no free GPU now.
			name:    "GPU counts in reservations",
			cfg:     easy,
			nodes:   []sched.NodeFree{node("g1", 58, 64*gib, withGPUs(8, 6, 7), total(64))},
			running: []*api.Job{running(100, "g1", 6, 60*m, 0, 1, 2, 3, 4, 5)},
			jobs: []*api.Job{
				job(1, gpus(4), limit(time.Hour), prio(3)),
				job(2, gpus(2), limit(2*time.Hour), prio(2)),
				job(3, gpus(1), limit(time.Hour), prio(1)),
			},
			want:    []sched.Placement{place(2, "g1", 1, gib, 6, 7)},
			reasons: reasons{1: api.ReasonResources, 3: api.ReasonPriority},
			starts:  starts{1: t0.Add(60 * m)},
			resv:    []sched.Reservation{{JobID: 1, Node: "g1", Start: t0.Add(60 * m), End: t0.Add(120 * m), CPUs: 1, MemBytes: gib, GPUs: 4}},
		},
		{
			// As above, but the reservation wants all 8 GPUs from +60m:
			// a 1-GPU job may take a free GPU only if it ends by then.
			name:    "GPU reservation blocks a job that would eat into it",
			cfg:     easy,
			nodes:   []sched.NodeFree{node("g1", 58, 64*gib, withGPUs(8, 6, 7), total(64))},
			running: []*api.Job{running(100, "g1", 6, 60*m, 0, 1, 2, 3, 4, 5)},
			jobs: []*api.Job{
				job(1, gpus(8), limit(time.Hour), prio(3)),
				job(2, gpus(1), limit(2*time.Hour), prio(2)),
				job(3, gpus(1), limit(30*m), prio(1)),
			},
			want:    []sched.Placement{place(3, "g1", 1, gib, 6)},
			reasons: reasons{1: api.ReasonResources, 2: api.ReasonPriority},
			starts:  starts{1: t0.Add(60 * m)},
		},
		{
			// hi (tier 2) and lo (tier 0) share n1. The tier wins over
			// priority: the hi job starts although the lo job's
			// priority is higher.
			name:       "partition tiers order the queue before priority",
			cfg:        easy,
			nodes:      []sched.NodeFree{node("n1", 4, 16*gib)},
			partitions: []api.Partition{{Name: "lo", State: "UP"}, {Name: "hi", State: "UP", PriorityTier: 2}},
			jobs: []*api.Job{
				job(1, part("lo"), cpus(4), limit(time.Hour), prio(100)),
				job(2, part("hi"), cpus(4), limit(time.Hour), prio(1)),
			},
			want:    []sched.Placement{place(2, "n1", 4, gib)},
			reasons: reasons{1: api.ReasonResources},
			starts:  starts{1: t0.Add(time.Hour)},
		},
		{
			name: "a reservation of one partition protects a node shared with another",
			cfg:  easy,
			nodes: []sched.NodeFree{
				node("n1", 4, 16*gib, inParts("a", "b"), total(8)), node("n2", 8, 16*gib, inParts("b")),
			},
			partitions: []api.Partition{partition("a"), partition("b")},
			running:    []*api.Job{running(100, "n1", 4, 60*m)},
			jobs: []*api.Job{
				job(1, part("a"), cpus(8), limit(time.Hour), prio(9)),
				job(2, part("b"), cpus(4), limit(2*time.Hour), prio(5)), // n1 would delay a's job: n2
				job(3, part("b"), cpus(4), limit(2*time.Hour), prio(4)), // n2 again
				// Nowhere now: b's reservation, at +120m on n1 (after
				// a's job) and on n2 (after jobs 2 and 3): n1 by name.
				job(4, part("b"), cpus(4), limit(2*time.Hour), prio(3)),
			},
			want:    []sched.Placement{place(2, "n2", 4, gib), place(3, "n2", 4, gib)},
			reasons: reasons{1: api.ReasonResources, 4: api.ReasonResources},
			starts:  starts{1: t0.Add(60 * m), 4: t0.Add(120 * m)},
		},
		{
			name:    "a job too big for every node gets no reservation and blocks nobody",
			cfg:     easy,
			nodes:   []sched.NodeFree{node("n1", 4, 16*gib, total(8))},
			running: []*api.Job{running(100, "n1", 4, 60*m)},
			jobs: []*api.Job{
				job(1, cpus(64), limit(time.Hour), prio(3)),
				job(2, cpus(8), limit(time.Hour), prio(2)),
				job(3, cpus(4), limit(2*time.Hour), prio(1)),
			},
			reasons: reasons{1: api.ReasonResources, 2: api.ReasonResources, 3: api.ReasonPriority},
			starts:  starts{2: t0.Add(60 * m)},
		},
		{
			// R's deadline has passed (it is being killed): its CPUs are
			// expected back at once, just after now.
			name:    "overdue running job: reservation right after now",
			cfg:     easy,
			nodes:   []sched.NodeFree{node("n1", 0, 16*gib, total(8))},
			running: []*api.Job{running(100, "n1", 8, -5*m)},
			jobs:    []*api.Job{job(1, cpus(8), limit(time.Hour))},
			reasons: reasons{1: api.ReasonResources},
			starts:  starts{1: t0.Add(time.Nanosecond)},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.run(t) })
	}
}

func TestQOSLimits(t *testing.T) {
	limits := []api.QOS{
		{Name: "jobs", MaxJobsPerUser: 1},
		{Name: "tres", MaxTRESPerUser: api.TRES{CPUs: 4, GPUs: 2}},
		{Name: "grp", GrpTRES: api.TRES{CPUs: 6}},
		{Name: "free", Priority: 5},
	}
	nodes := []sched.NodeFree{node("n1", 32, 64*gib, withGPUs(8, 0, 1, 2, 3, 4, 5, 6, 7))}
	for _, mode := range []string{sched.BackfillNone, sched.BackfillEASY, sched.BackfillConservative} {
		tests := []scenario{
			{
				name: "MaxJobsPerUser counts running jobs and jobs placed in the pass",
				jobs: []*api.Job{
					job(1, qos("jobs"), user("ann"), prio(9)), // ann runs job 100 already
					job(2, qos("jobs"), user("bob"), prio(8)),
					job(3, qos("jobs"), user("bob"), prio(7)), // bob's second
					job(4, qos("jobs"), user("cy"), prio(6)),
				},
				running: []*api.Job{func() *api.Job { j := running(100, "n1", 1, 0); j.User, j.Spec.QOS = "ann", "jobs"; return j }()},
				want:    []sched.Placement{place(2, "n1", 1, gib), place(4, "n1", 1, gib)},
				reasons: reasons{1: api.ReasonQOSMaxJobsPerUser, 3: api.ReasonQOSMaxJobsPerUser},
			},
			{
				name: "MaxTRESPerUser: CPUs give QOSMaxTRESPerUser, GPUs QOSMaxGRESPerUser",
				jobs: []*api.Job{
					job(1, qos("tres"), user("ann"), cpus(3), prio(9)),
					job(2, qos("tres"), user("ann"), cpus(2), prio(8)),          // 5 CPUs > 4
					job(3, qos("tres"), user("ann"), gpus(3), prio(7)),          // 3 GPUs > 2
					job(4, qos("tres"), user("ann"), gpus(3), cpus(9), prio(6)), // both: TRES first
					job(5, qos("tres"), user("bob"), cpus(4), gpus(2), prio(5)),
				},
				want:    []sched.Placement{place(1, "n1", 3, gib), place(5, "n1", 4, gib, 0, 1)},
				reasons: reasons{2: api.ReasonQOSMaxTRESPerUser, 3: api.ReasonQOSMaxGRESPerUser, 4: api.ReasonQOSMaxTRESPerUser},
			},
			{
				name: "GrpTRES counts every user's jobs",
				jobs: []*api.Job{
					job(1, qos("grp"), user("ann"), cpus(4), prio(9)),
					job(2, qos("grp"), user("bob"), cpus(4), prio(8)), // 8 > 6
					job(3, qos("grp"), user("bob"), cpus(2), prio(7)),
				},
				want:    []sched.Placement{place(1, "n1", 4, gib), place(3, "n1", 2, gib)},
				reasons: reasons{2: api.ReasonQOSGrpTRES},
			},
			{
				name: "unknown and empty QOS have no limits",
				jobs: []*api.Job{
					job(1, qos("nope"), user("ann"), prio(9)), job(2, qos("nope"), user("ann"), prio(8)),
					job(3, user("ann"), prio(7)), job(4, qos("free"), user("ann"), prio(6)),
				},
				want: []sched.Placement{place(1, "n1", 1, gib), place(2, "n1", 1, gib), place(3, "n1", 1, gib), place(4, "n1", 1, gib)},
			},
			{
				// n1: 24 of 32 CPUs free until +60m. Job 1 (all 32)
				// is held back by its QOS: it neither blocks the
				// partition nor reserves n1, so job 2 (24 CPUs, 2h)
				// starts; without the limit it would wait behind 1.
				name:  "a limited job blocks nobody and reserves nothing",
				nodes: []sched.NodeFree{node("n1", 24, 64*gib, total(32))},
				jobs: []*api.Job{
					job(1, qos("jobs"), user("ann"), cpus(32), limit(time.Hour), prio(9)),
					job(2, user("bob"), cpus(24), limit(2*time.Hour), prio(8)),
				},
				running: []*api.Job{func() *api.Job { j := running(100, "n1", 8, 60*m); j.User, j.Spec.QOS = "ann", "jobs"; return j }()},
				want:    []sched.Placement{place(2, "n1", 24, gib)},
				reasons: reasons{1: api.ReasonQOSMaxJobsPerUser},
			},
		}
		for _, tt := range tests {
			t.Run(mode+"/"+tt.name, func(t *testing.T) {
				tt.cfg, tt.qos = bf(mode), limits
				if tt.nodes == nil {
					tt.nodes = nodes
				}
				tt.starts = starts{}
				tt.run(t)
			})
		}
	}
}

func TestPriorities(t *testing.T) {
	qs := []api.QOS{{Name: "low", Priority: 1}, {Name: "high", Priority: 10}}
	nodes := []sched.NodeFree{node("n1", 1, 8*gib)}
	jobs := []*api.Job{job(1, qos("low"), prio(100)), job(2, qos("high"), prio(1))}
	tests := []struct {
		name   string
		cfg    sched.PriorityConfig
		want   map[api.JobID]int64
		placed api.JobID
	}{
		{"zero weights: stored priorities (priority/basic)", sched.PriorityConfig{}, map[api.JobID]int64{1: 100, 2: 1}, 1},
		{"QOS weight: computed", sched.PriorityConfig{WeightQOS: 1000}, map[api.JobID]int64{1: 100, 2: 1000}, 2},
		{"site only: computed", sched.PriorityConfig{Site: 7}, map[api.JobID]int64{1: 7, 2: 7}, 1},
		// ages: job 1 was submitted 1s after t0, job 2 2s after; now is t0+100s.
		{"age weight", sched.PriorityConfig{WeightAge: 1000, MaxAge: 100 * time.Second}, map[api.JobID]int64{1: 990, 2: 980}, 1},
		{"TRES weight", sched.PriorityConfig{WeightTRES: map[string]int64{"cpu": 100}}, map[api.JobID]int64{1: 100, 2: 100}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := sched.Input{Now: t0.Add(100 * time.Second), Nodes: nodes, Pending: jobs, QOS: qs,
				Partitions: []api.Partition{partition("main")}, Config: sched.Config{Priority: tt.cfg}}
			plan := sched.Schedule(in)
			if !maps.Equal(plan.Priorities, tt.want) {
				t.Errorf("priorities: got %v, want %v", plan.Priorities, tt.want)
			}
			if len(plan.Placements) != 1 || plan.Placements[0].JobID != tt.placed {
				t.Errorf("placed %+v, want job %d", plan.Placements, tt.placed)
			}
		})
	}
}
