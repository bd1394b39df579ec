package sched_test

import (
	"cmp"
	"maps"
	"math/rand"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gsched/gsched/pkg/api"
	"github.com/gsched/gsched/pkg/sched"
)

// runningQ is a running job of QOS q with stored priority pr, started ago
// before t0, without a time limit (see running).
func runningQ(id api.JobID, node string, cpus int, q string, pr int64, ago time.Duration, gpuIdx ...int) *api.Job {
	j := running(id, node, cpus, 0, gpuIdx...)
	j.Spec.QOS, j.Priority, j.StartTime = q, pr, t0.Add(-ago)
	return j
}

// completing is a job being stopped on node, holding cpus CPUs and 1 GiB.
func completing(id api.JobID, node string, cpus int, q string) *api.Job {
	j := runningQ(id, node, cpus, q, 0, time.Hour)
	j.State = api.StateCompleting
	return j
}

func preempted(victim, w api.JobID, mode string, grace time.Duration) sched.Preemption {
	return sched.Preemption{JobID: victim, For: w, Mode: mode, Grace: grace}
}

// preemptQOS: high preempts low (REQUEUE, 60 s grace), scav (CANCEL,
// 30 s), off (OFF) and unset (no mode); peer lists itself and low; plain
// preempts nothing.
func preemptQOS() []api.QOS {
	return []api.QOS{
		{Name: "high", Priority: 100, Preempt: []string{"low", "scav", "off", "unset"}},
		{Name: "low", Priority: 10, PreemptMode: "requeue", GraceTime: 60},
		{Name: "scav", Priority: 1, PreemptMode: api.PreemptCancel, GraceTime: 30},
		{Name: "off", Priority: 1, PreemptMode: api.PreemptOff},
		{Name: "unset", Priority: 1},
		{Name: "peer", Priority: 50, Preempt: []string{"peer", "low"}, PreemptMode: api.PreemptCancel},
		{Name: "plain", Priority: 100},
	}
}

const (
	requeue = api.PreemptRequeue
	cancel  = api.PreemptCancel
	g60     = 60 * time.Second
	h       = time.Hour
)

// full is an UP node of 8 CPUs and 16 GiB with nothing free (the running
// jobs of a case hold it).
func full(name string) sched.NodeFree { return node(name, 0, 8*gib, total(8)) }

func TestPreemption(t *testing.T) {
	tests := []struct {
		name       string
		cfg        sched.Config
		nodes      []sched.NodeFree
		running    []*api.Job
		jobs       []*api.Job
		partitions []api.Partition
		want       []sched.Preemption
		reasons    reasons // checked when set
	}{
		{
			name:    "a high job preempts the lower-priority of two low jobs on a full node",
			nodes:   []sched.NodeFree{full("n1")},
			running: []*api.Job{runningQ(10, "n1", 4, "low", 5, 1*h), runningQ(11, "n1", 4, "low", 1, 3*h)},
			jobs:    []*api.Job{job(1, cpus(4), qos("high"))},
			want:    []sched.Preemption{preempted(11, 1, requeue, g60)},
			reasons: reasons{1: api.ReasonResources},
		},
		{
			name:    "equal priorities: the youngest goes",
			nodes:   []sched.NodeFree{full("n1")},
			running: []*api.Job{runningQ(10, "n1", 4, "low", 1, 1*h), runningQ(11, "n1", 4, "low", 1, 2*h)},
			jobs:    []*api.Job{job(1, cpus(4), qos("high"))},
			want:    []sched.Preemption{preempted(10, 1, requeue, g60)},
		},
		{
			name:    "equal priorities and starts: the highest ID goes",
			nodes:   []sched.NodeFree{full("n1")},
			running: []*api.Job{runningQ(11, "n1", 4, "low", 1, 1*h), runningQ(10, "n1", 4, "low", 1, 1*h)},
			jobs:    []*api.Job{job(1, cpus(4), qos("high"))},
			want:    []sched.Preemption{preempted(11, 1, requeue, g60)},
		},
		{
			name:    "mode and grace come from each victim's QOS",
			nodes:   []sched.NodeFree{full("n1")},
			running: []*api.Job{runningQ(10, "n1", 4, "low", 1, 1*h), runningQ(11, "n1", 4, "scav", 0, 1*h)},
			jobs:    []*api.Job{job(1, cpus(8), qos("high"))},
			want:    []sched.Preemption{preempted(11, 1, cancel, 30*time.Second), preempted(10, 1, requeue, g60)},
		},
		{
			name:  "OFF and unset modes are never preempted",
			nodes: []sched.NodeFree{full("n1")},
			running: []*api.Job{runningQ(10, "n1", 4, "off", 0, 1*h), runningQ(11, "n1", 2, "unset", 0, 1*h),
				runningQ(12, "n1", 2, "low", 0, 1*h)},
			jobs:    []*api.Job{job(1, cpus(4), qos("high"))},
			reasons: reasons{1: api.ReasonResources},
		},
		{
			name:    "a COMPLETING job counts as coming free: no new victim",
			nodes:   []sched.NodeFree{full("n1")},
			running: []*api.Job{runningQ(10, "n1", 4, "low", 1, 1*h), completing(11, "n1", 4, "plain")},
			jobs:    []*api.Job{job(1, cpus(4), qos("high"))},
			reasons: reasons{1: api.ReasonResources},
		},
		{
			name:    "what is stopping is counted for one preemptor only",
			cfg:     bf(sched.BackfillConservative),
			nodes:   []sched.NodeFree{full("n1")},
			running: []*api.Job{runningQ(10, "n1", 4, "low", 1, 1*h), completing(11, "n1", 4, "plain")},
			jobs:    []*api.Job{job(1, cpus(4), qos("high")), job(2, cpus(4), qos("high"))},
			want:    []sched.Preemption{preempted(10, 2, requeue, g60)},
		},
		{
			name:    "a cancel requested counts as stopping",
			nodes:   []sched.NodeFree{full("n1")},
			running: []*api.Job{runningQ(10, "n1", 4, "low", 1, 1*h), func() *api.Job { j := runningQ(11, "n1", 4, "low", 0, h); j.CancelRequested = true; return j }()},
			jobs:    []*api.Job{job(1, cpus(4), qos("high"))},
		},
		{
			name:    "no preemption without a Preempt list",
			nodes:   []sched.NodeFree{full("n1")},
			running: []*api.Job{runningQ(10, "n1", 4, "low", 1, 1*h), runningQ(11, "n1", 4, "low", 1, 1*h)},
			jobs:    []*api.Job{job(1, cpus(4), qos("plain")), job(2, cpus(4)), job(3, cpus(4), qos("unknown"))},
			reasons: reasons{1: api.ReasonResources, 2: api.ReasonPriority, 3: api.ReasonPriority},
		},
		{
			name:       "no preemption across partitions",
			nodes:      []sched.NodeFree{full("n1"), full("n2")},
			running:    []*api.Job{runningQ(10, "n1", 8, "plain", 1, 1*h), runningQ(11, "n2", 8, "low", 1, 1*h)},
			partitions: []api.Partition{partition("a", "n1"), partition("b", "n2")},
			jobs:       []*api.Job{job(1, cpus(4), qos("high"), part("a"))},
			reasons:    reasons{1: api.ReasonResources},
		},
		{
			name:    "victims are not reused across two preemptors",
			cfg:     bf(sched.BackfillConservative),
			nodes:   []sched.NodeFree{full("n1")},
			running: []*api.Job{runningQ(10, "n1", 4, "low", 1, 1*h), runningQ(11, "n1", 4, "low", 2, 1*h)},
			jobs:    []*api.Job{job(1, cpus(4), qos("high")), job(2, cpus(4), qos("high"))},
			want:    []sched.Preemption{preempted(10, 1, requeue, g60), preempted(11, 2, requeue, g60)},
			reasons: reasons{1: api.ReasonResources, 2: api.ReasonResources},
		},
		{
			name:    "what a victim frees beyond its preemptor's need serves the next one",
			cfg:     bf(sched.BackfillConservative),
			nodes:   []sched.NodeFree{full("n1")},
			running: []*api.Job{runningQ(10, "n1", 8, "low", 1, 1*h)},
			jobs:    []*api.Job{job(1, cpus(2), qos("high")), job(2, cpus(2), qos("high"))},
			want:    []sched.Preemption{preempted(10, 1, requeue, g60)},
		},
		{
			name:  "the node with the fewest victims",
			nodes: []sched.NodeFree{full("n1"), node("n2", 2, 8*gib, total(8))},
			running: []*api.Job{runningQ(10, "n1", 4, "low", 1, 1*h), runningQ(11, "n1", 4, "low", 1, 1*h),
				runningQ(12, "n2", 6, "low", 9, 5*h)},
			jobs: []*api.Job{job(1, cpus(6), qos("high"))},
			want: []sched.Preemption{preempted(12, 1, requeue, g60)},
		},
		{
			name:    "as many victims: the least CPU time lost",
			nodes:   []sched.NodeFree{full("n1"), full("n2")},
			running: []*api.Job{runningQ(10, "n1", 8, "low", 1, 1*h), runningQ(11, "n2", 2, "low", 1, 3*h), runningQ(12, "n2", 6, "plain", 1, 3*h)},
			jobs:    []*api.Job{job(1, cpus(2), qos("high"))},
			want:    []sched.Preemption{preempted(11, 1, requeue, g60)}, // 2×3h < 8×1h
		},
		{
			name:    "as many victims, as much CPU time: the first node by name",
			nodes:   []sched.NodeFree{full("n2"), full("n1")},
			running: []*api.Job{runningQ(10, "n2", 8, "low", 1, 1*h), runningQ(11, "n1", 8, "low", 1, 1*h)},
			jobs:    []*api.Job{job(1, cpus(2), qos("high"))},
			want:    []sched.Preemption{preempted(11, 1, requeue, g60)},
		},
		{
			name:  "GPU-bound: victims until enough GPUs are coming free",
			nodes: []sched.NodeFree{node("n1", 5, 8*gib, total(8), withGPUs(8))},
			running: []*api.Job{runningQ(10, "n1", 1, "low", 1, 1*h, 0, 1), runningQ(11, "n1", 1, "low", 2, 1*h, 2, 3),
				runningQ(12, "n1", 1, "low", 3, 1*h, 4, 5, 6, 7)},
			jobs: []*api.Job{job(1, cpus(1), gpus(4), qos("high"))},
			want: []sched.Preemption{preempted(10, 1, requeue, g60), preempted(11, 1, requeue, g60)},
		},
		{
			name:    "a job never preempts its own QOS, even when listed",
			nodes:   []sched.NodeFree{node("n1", 0, 8*gib, total(6))},
			running: []*api.Job{runningQ(10, "n1", 4, "peer", 0, 1*h), runningQ(11, "n1", 2, "low", 1, 1*h)},
			jobs:    []*api.Job{job(1, cpus(4), qos("peer"))},
		},
		{
			name:    "a peer job preempts low",
			nodes:   []sched.NodeFree{full("n1")},
			running: []*api.Job{runningQ(10, "n1", 4, "peer", 0, 1*h), runningQ(11, "n1", 4, "low", 1, 1*h)},
			jobs:    []*api.Job{job(1, cpus(4), qos("peer"))},
			want:    []sched.Preemption{preempted(11, 1, requeue, g60)},
		},
		{
			name:       "held jobs and jobs of a down partition preempt nothing",
			nodes:      []sched.NodeFree{full("n1")},
			running:    []*api.Job{runningQ(10, "n1", 8, "low", 1, 1*h)},
			partitions: []api.Partition{partition("main"), {Name: "down", State: "DOWN"}},
			jobs:       []*api.Job{job(1, cpus(4), qos("high"), held()), job(2, cpus(4), qos("high"), part("down"))},
			reasons:    reasons{2: api.ReasonPartitionDown}, // held: no reason in the plan
		},
		{
			name:    "a job that can start now preempts nothing",
			nodes:   []sched.NodeFree{node("n1", 4, 8*gib, total(8))},
			running: []*api.Job{runningQ(10, "n1", 4, "low", 1, 1*h)},
			jobs:    []*api.Job{job(1, cpus(4), qos("high"))},
			reasons: reasons{},
		},
		{
			name:    "placements of the pass come first",
			nodes:   []sched.NodeFree{node("n1", 4, 8*gib, total(8))},
			running: []*api.Job{runningQ(10, "n1", 4, "low", 1, 1*h)},
			jobs:    []*api.Job{job(1, cpus(4), prio(10), qos("plain")), job(2, cpus(4), prio(1), qos("high"))},
			want:    []sched.Preemption{preempted(10, 2, requeue, g60)},
			reasons: reasons{2: api.ReasonResources},
		},
		{
			name:    "a job waiting behind a higher-priority one (Priority) preempts nothing",
			nodes:   []sched.NodeFree{full("n1")},
			running: []*api.Job{runningQ(10, "n1", 4, "low", 1, 1*h), runningQ(11, "n1", 4, "plain", 1, 1*h)},
			jobs:    []*api.Job{job(1, cpus(16), prio(10)), job(2, cpus(4), prio(1), qos("high"))},
			reasons: reasons{1: api.ReasonResources, 2: api.ReasonPriority},
		},
		{
			name:    "a job too big for the node even with every victim preempts nothing",
			nodes:   []sched.NodeFree{full("n1")},
			running: []*api.Job{runningQ(10, "n1", 4, "low", 1, 1*h), runningQ(11, "n1", 4, "low", 1, 1*h)},
			jobs:    []*api.Job{job(1, cpus(12), qos("high"))},
		},
		{
			// 1 (hunter) finds nothing to preempt; 2 preempts 10, which
			// frees 4 CPUs more than it needs; 3 (the same shape as 1)
			// counts on them; 4 must preempt 11.
			name:    "a victim's leftover serves a job of a shape that found nothing before",
			cfg:     bf(sched.BackfillConservative),
			nodes:   []sched.NodeFree{node("n1", 0, 8*gib, total(12))},
			running: []*api.Job{runningQ(10, "n1", 8, "low", 0, 1*h), runningQ(11, "n1", 4, "low", 1, 1*h)},
			jobs: []*api.Job{job(1, cpus(4), prio(4), qos("hunter")), job(2, cpus(4), prio(3), qos("high")),
				job(3, cpus(4), prio(2), qos("hunter")), job(4, cpus(4), prio(1), qos("high"))},
			want: []sched.Preemption{preempted(10, 2, requeue, g60), preempted(11, 4, requeue, g60)},
		},
		{
			name:    "QOS limits count earlier preemptors",
			cfg:     bf(sched.BackfillConservative),
			nodes:   []sched.NodeFree{full("n1")},
			running: []*api.Job{runningQ(10, "n1", 4, "low", 1, 1*h), runningQ(11, "n1", 4, "low", 1, 1*h)},
			jobs:    []*api.Job{job(1, cpus(4), qos("highlim"), user("ann")), job(2, cpus(4), qos("highlim"), user("ann"))},
			want:    []sched.Preemption{preempted(11, 1, requeue, g60)},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			parts := tc.partitions
			if parts == nil {
				parts = []api.Partition{partition("main")}
			}
			qosList := append(preemptQOS(), api.QOS{Name: "highlim", Priority: 100, MaxJobsPerUser: 1, Preempt: []string{"low"}},
				api.QOS{Name: "hunter", Priority: 90, Preempt: []string{"scav"}})
			in := sched.Input{Now: t0, Nodes: tc.nodes, Pending: tc.jobs, Running: tc.running, Partitions: parts,
				QOS: qosList, Config: tc.cfg}
			plan := sched.Schedule(in)
			if !slices.Equal(plan.Preemptions, tc.want) {
				t.Errorf("preemptions:\n got %+v\nwant %+v", plan.Preemptions, tc.want)
			}
			if plan.Stats.Preempted != len(tc.want) {
				t.Errorf("Stats.Preempted = %d, want %d", plan.Stats.Preempted, len(tc.want))
			}
			if tc.reasons != nil && !maps.Equal(plan.Reasons, tc.reasons) {
				t.Errorf("reasons:\n got %v\nwant %v", plan.Reasons, tc.reasons)
			}
			checkInvariants(t, in, plan)
			if want := modelSchedule(in); !reflect.DeepEqual(plan, want) {
				t.Errorf("plan differs from the model:\n got %+v\nwant %+v", plan, want)
			}
		})
	}
}

// TestPreemptionProperties runs clusters where preemption is the rule:
// every cluster has preemptor and preemptable QOS, most running jobs can
// be preempted and most pending jobs may preempt. Plans satisfy the
// invariants, equal the model's, and depend neither on input order nor on
// anything but the input.
func TestPreemptionProperties(t *testing.T) {
	r := rand.New(rand.NewSource(20250612))
	iterations := 3000
	if testing.Short() {
		iterations = 500
	}
	seen := map[string]int{}
	for i := 0; i < iterations; i++ {
		in := randomCluster(r)
		modes := []string{api.PreemptCancel, "requeue", "", api.PreemptOff}
		for k := range in.QOS {
			in.QOS[k].PreemptMode, in.QOS[k].GraceTime = modes[r.Intn(len(modes))], int64(r.Intn(120))
		}
		in.QOS[1].PreemptMode = modes[r.Intn(2)] // grp can always be preempted
		in.QOS[2].Preempt = []string{"grp", "lim", "plain", "unknown"}
		in.QOS[0].Preempt = []string{"grp"}
		for _, j := range in.Running {
			j.Spec.QOS = []string{"grp", "grp", "lim", "plain", ""}[r.Intn(5)]
		}
		for _, j := range in.Pending {
			if r.Intn(3) > 0 {
				j.Spec.QOS = []string{"plain", "lim"}[r.Intn(2)]
			}
		}
		before := deepClone(in)
		plan := sched.Schedule(in)
		if !reflect.DeepEqual(in, before) {
			t.Fatalf("iteration %d: Schedule modified its input", i)
		}
		checkInvariants(t, in, plan)
		if want := modelSchedule(in); !reflect.DeepEqual(plan, want) {
			t.Fatalf("iteration %d (mode %q): plan differs from the model:\n got %+v\nwant %+v", i, in.Config.Backfill.Mode, plan, want)
		}
		if got := sched.Schedule(shuffled(r, in)); !reflect.DeepEqual(plan, got) {
			t.Fatalf("iteration %d: plan depends on input order:\n got %+v\nwant %+v", i, got, plan)
		}
		fors := map[api.JobID]int{}
		for _, pr := range plan.Preemptions {
			seen["preempt/"+pr.Mode]++
			fors[pr.For]++
		}
		seen["preemptors"] += len(fors)
		for _, n := range fors {
			if n > 1 {
				seen["several victims"]++
			}
		}
	}
	for _, outcome := range []string{"preempt/" + api.PreemptCancel, "preempt/" + api.PreemptRequeue, "preemptors", "several victims"} {
		if seen[outcome] < iterations/30 {
			t.Errorf("generator produced %q only %d times: %v", outcome, seen[outcome], seen)
		}
	}
}

// preemptMode is a QOS's preempt mode as the scheduler reads it: CANCEL or
// REQUEUE in any case, else "" (cannot be preempted).
func preemptMode(q api.QOS) string {
	switch u := strings.ToUpper(q.PreemptMode); u {
	case api.PreemptCancel, api.PreemptRequeue:
		return u
	}
	return ""
}

// stoppingJob: already on its way out, its resources coming free.
func stoppingJob(j *api.Job) bool { return j.State == api.StateCompleting || j.CancelRequested }

// preempt is the preemption phase restated: for every job in queue order,
// what may come free on each node is recomputed from the input, the
// placements, the victims chosen so far and what earlier preemptors count
// on.
func (m *model) preempt(queue []*api.Job) {
	in := m.in
	taken := map[api.JobID]bool{}
	claimed := map[string]mres{}
	avail := func(n *mnode) mres {
		f := n.freeAt(0)
		for _, j := range in.Running {
			if len(j.Allocs) > 0 && j.Allocs[0].Node == n.nf.Node.Name && (stoppingJob(j) || taken[j.ID]) {
				f = mres{f.cpus + j.Allocs[0].CPUs, f.mem + j.Allocs[0].MemBytes, f.gpus + len(j.Allocs[0].GPUs)}
			}
		}
		c := claimed[n.nf.Node.Name]
		return mres{f.cpus - c.cpus, f.mem - c.mem, f.gpus - c.gpus}
	}
	for _, w := range queue {
		q, ok := m.qos[w.Spec.QOS]
		if !ok || m.plan.Reasons[w.ID] != api.ReasonResources {
			continue
		}
		may := func(v *api.Job) bool {
			vq, ok := m.qos[v.Spec.QOS]
			return ok && v.State == api.StateRunning && !stoppingJob(v) && !taken[v.ID] && len(v.Allocs) > 0 &&
				v.Spec.QOS != q.Name && slices.Contains(q.Preempt, v.Spec.QOS) && preemptMode(vq) != ""
		}
		if !slices.ContainsFunc(q.Preempt, func(s string) bool { return s != q.Name }) {
			continue
		}
		r := mres{w.Spec.CPUsOnNode(), w.Spec.MemBytes, w.Spec.GPUsOnNode()}
		if m.qosReason(w, r) != "" {
			continue
		}
		p := m.parts[w.Spec.Partition]
		var members []*mnode
		for _, n := range m.nodes {
			if n.nf.Node.State == api.NodeUp && InPartitionModel(n.nf.Node, &p) && eligibleModel(w, n.nf.Node) {
				members = append(members, n)
			}
		}
		// With a GPU requirement, at most the matching GPUs among the
		// free ones, the stopping jobs' and the victims' count.
		availW := func(n *mnode) mres {
			f := avail(n)
			if !gpuReq(w) {
				return f
			}
			c := len(matchingOf(w, n.nf.Node, n.free))
			for _, j := range in.Running {
				if len(j.Allocs) > 0 && j.Allocs[0].Node == n.nf.Node.Name && (stoppingJob(j) || taken[j.ID]) {
					c += len(matchingOf(w, n.nf.Node, j.Allocs[0].GPUs))
				}
			}
			f.gpus = min(f.gpus, c)
			return f
		}
		claim := func(n *mnode) {
			c := claimed[n.nf.Node.Name]
			claimed[n.nf.Node.Name] = mres{c.cpus + r.cpus, c.mem + r.mem, c.gpus + r.gpus}
			m.charge(w, r)
		}
		if i := slices.IndexFunc(members, func(n *mnode) bool { return availW(n).covers(r) }); i >= 0 {
			claim(members[i])
			continue
		}
		type choice struct {
			n       *mnode
			victims []*api.Job
			lost    int64
		}
		var best *choice
		for _, n := range members {
			var cands []*api.Job
			for _, v := range in.Running {
				if may(v) && v.Allocs[0].Node == n.nf.Node.Name {
					cands = append(cands, v)
				}
			}
			slices.SortFunc(cands, func(a, b *api.Job) int {
				if a.Priority != b.Priority {
					return cmp.Compare(a.Priority, b.Priority)
				}
				if !a.StartTime.Equal(b.StartTime) {
					return b.StartTime.Compare(a.StartTime)
				}
				return cmp.Compare(b.ID, a.ID)
			})
			f, c := availW(n), choice{n: n}
			for _, v := range cands {
				if f.covers(r) {
					break
				}
				c.victims = append(c.victims, v)
				g := len(v.Allocs[0].GPUs)
				if gpuReq(w) {
					g = len(matchingOf(w, n.nf.Node, v.Allocs[0].GPUs))
				}
				f = mres{f.cpus + v.Allocs[0].CPUs, f.mem + v.Allocs[0].MemBytes, f.gpus + g}
				c.lost += int64(v.Allocs[0].CPUs) * max(int64(in.Now.Sub(v.StartTime)/time.Second), 0)
			}
			if f.covers(r) && (best == nil || len(c.victims) < len(best.victims) ||
				len(c.victims) == len(best.victims) && c.lost < best.lost) {
				best = &c
			}
		}
		if best == nil {
			continue
		}
		for _, v := range best.victims {
			taken[v.ID] = true
			vq := m.qos[v.Spec.QOS]
			m.plan.Preemptions = append(m.plan.Preemptions, sched.Preemption{JobID: v.ID, For: w.ID,
				Mode: preemptMode(vq), Grace: time.Duration(max(vq.GraceTime, 0)) * time.Second})
		}
		m.plan.Stats.Preempted += len(best.victims)
		claim(best.n)
	}
}

// checkPreemptions: every victim is a RUNNING job, preempted once, whose
// QOS (not the preemptor's own) is in its preemptor's Preempt list and has
// a preempt mode, with that QOS's mode and grace; every preemptor waits
// for resources in its UP partition, and its victims share one node of
// it; and on every node, what is free after the placements plus what is
// stopping plus the victims covers all the preemptors with victims there.
func checkPreemptions(t *testing.T, in sched.Input, plan sched.Plan) {
	t.Helper()
	if plan.Stats.Preempted != len(plan.Preemptions) {
		t.Fatalf("Stats.Preempted %d for %d preemptions", plan.Stats.Preempted, len(plan.Preemptions))
	}
	if len(plan.Preemptions) == 0 {
		return
	}
	qos := map[string]api.QOS{}
	for _, q := range in.QOS {
		qos[q.Name] = q
	}
	parts := map[string]api.Partition{}
	for _, p := range in.Partitions {
		parts[p.Name] = p
	}
	nodes := map[string]sched.NodeFree{}
	for _, n := range in.Nodes {
		nodes[n.Node.Name] = n
	}
	pending, running := map[api.JobID]*api.Job{}, map[api.JobID]*api.Job{}
	for _, j := range in.Pending {
		pending[j.ID] = j
	}
	for _, j := range in.Running {
		running[j.ID] = j
	}
	seen := map[api.JobID]bool{}
	at := map[api.JobID]string{} // preemptor → node of its victims
	coming := map[string]mres{}  // per node: free after placements + stopping + victims
	need := map[string]mres{}    // per node: preemptors with victims there
	add := func(a, b mres) mres { return mres{a.cpus + b.cpus, a.mem + b.mem, a.gpus + b.gpus} }
	for _, pr := range plan.Preemptions {
		v, w := running[pr.JobID], pending[pr.For]
		switch {
		case v == nil || w == nil:
			t.Fatalf("preemption %+v: unknown victim or preemptor", pr)
		case seen[v.ID]:
			t.Fatalf("job %d preempted twice", v.ID)
		case v.State != api.StateRunning || stoppingJob(v) || len(v.Allocs) == 0:
			t.Fatalf("preemption %+v: victim not running (%s)", pr, v.State)
		case w.State != api.StatePending || plan.Reasons[w.ID] != api.ReasonResources:
			t.Fatalf("preemption %+v: preemptor not waiting for resources (%q)", pr, plan.Reasons[w.ID])
		}
		seen[v.ID] = true
		wq, vq := qos[w.Spec.QOS], qos[v.Spec.QOS]
		if v.Spec.QOS == w.Spec.QOS || !slices.Contains(wq.Preempt, v.Spec.QOS) || preemptMode(vq) == "" {
			t.Fatalf("preemption %+v: QOS %q may not preempt %q", pr, w.Spec.QOS, v.Spec.QOS)
		}
		if pr.Mode != preemptMode(vq) || pr.Grace != time.Duration(vq.GraceTime)*time.Second {
			t.Fatalf("preemption %+v: want mode %q, grace %ds of QOS %s", pr, preemptMode(vq), vq.GraceTime, vq.Name)
		}
		n, p := nodes[v.Allocs[0].Node], parts[w.Spec.Partition]
		if n.Node == nil || n.Node.State != api.NodeUp || !sched.InPartition(n.Node, &p) {
			t.Fatalf("preemption %+v: victim on %s, not an UP node of partition %s", pr, v.Allocs[0].Node, p.Name)
		}
		if prev, ok := at[w.ID]; ok && prev != n.Node.Name {
			t.Fatalf("job %d preempts on %s and %s", w.ID, prev, n.Node.Name)
		} else if !ok {
			at[w.ID] = n.Node.Name
			need[n.Node.Name] = add(need[n.Node.Name], mres{w.Spec.CPUsOnNode(), w.Spec.MemBytes, w.Spec.GPUsOnNode()})
		}
		coming[n.Node.Name] = add(coming[n.Node.Name], mres{v.Allocs[0].CPUs, v.Allocs[0].MemBytes, len(v.Allocs[0].GPUs)})
	}
	for name, nd := range need {
		f := mres{nodes[name].CPUs, nodes[name].MemBytes, len(nodes[name].GPUs)}
		for _, pl := range plan.Placements {
			if pl.Allocs[0].Node == name {
				f = mres{f.cpus - pl.Allocs[0].CPUs, f.mem - pl.Allocs[0].MemBytes, f.gpus - len(pl.Allocs[0].GPUs)}
			}
		}
		for _, j := range in.Running {
			if len(j.Allocs) > 0 && j.Allocs[0].Node == name && stoppingJob(j) {
				f = add(f, mres{j.Allocs[0].CPUs, j.Allocs[0].MemBytes, len(j.Allocs[0].GPUs)})
			}
		}
		if f = add(f, coming[name]); !f.covers(nd) {
			t.Fatalf("node %s: free, stopping and victims %+v do not cover its preemptors %+v", name, f, nd)
		}
	}
}
