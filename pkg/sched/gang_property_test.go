package sched_test

import (
	"fmt"
	"math/rand"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gsched/gsched/pkg/api"
	"github.com/gsched/gsched/pkg/sched"
	"github.com/gsched/gsched/pkg/topology"
)

// Properties of gang scheduling on random clusters, and the plan checker
// the hand-checked cases of gang_test.go use too.

// checkGangPlan verifies what every plan must satisfy with gang jobs, in
// every mode: a placed job has exactly NodeCount distinct UP nodes of its
// partition, each with its per-node demand (the whole, idle node for
// --exclusive) and free GPUs; nothing is oversubscribed, counting the
// running jobs' allocations; every pending job is decided once; a gang's
// reservations cover all of its nodes at one start and end; and, played
// forward in time, placements and reservations all fit together.
func checkGangPlan(t *testing.T, in sched.Input, plan sched.Plan) {
	t.Helper()
	nodes, jobs, parts := indexInput(in)
	dur := func(j *api.Job) int64 {
		if j.Spec.TimeLimit > 0 {
			return int64(j.TimeLimitDuration())
		}
		return never
	}
	// perNode is what the job takes on node n.
	perNode := func(j *api.Job, n *api.Node) mres {
		if j.Spec.Exclusive {
			g := 0
			for i := range n.GPUs {
				if j.Spec.GPUMatches(&n.GPUs[i]) {
					g++
				}
			}
			return mres{n.CPUs, n.MemBytes, g}
		}
		return mres{j.Spec.CPUsOnNode(), j.Spec.MemBytes, j.Spec.GPUsOnNode()}
	}
	okNode := func(j *api.Job, name string) sched.NodeFree {
		n, ok := nodes[name]
		if !ok {
			t.Fatalf("job %d: unknown node %q", j.ID, name)
		}
		pp, ok := parts[j.Spec.Partition]
		if !ok || n.Node.State != api.NodeUp || !sched.InPartition(n.Node, &pp) || (pp.State != "" && pp.State != "UP") {
			t.Fatalf("job %d on %s (%s) outside its UP partition %q", j.ID, name, n.Node.State, j.Spec.Partition)
		}
		if !n.Node.HasFeatures(j.Spec.Features()) {
			t.Fatalf("job %d (constraint %q) on %s with features %v", j.ID, j.Spec.Constraint, name, n.Node.Features)
		}
		s := j.Spec
		if s.CPUsOnNode() > n.Node.CPUs || s.MemBytes > n.Node.MemBytes || s.GPUsOnNode() > len(n.Node.GPUs) {
			t.Fatalf("job %d: per-node request (%d CPUs, %d bytes, %d GPUs) exceeds node %s (%d, %d, %d)",
				j.ID, s.CPUsOnNode(), s.MemBytes, s.GPUsOnNode(), name, n.Node.CPUs, n.Node.MemBytes, len(n.Node.GPUs))
		}
		return n
	}

	// What is held now: running jobs' allocations (not Done), then the
	// placements.
	type heldT struct {
		cpus int
		mem  int64
		gpus map[int]bool
	}
	held := map[string]*heldT{}
	get := func(name string) *heldT {
		h := held[name]
		if h == nil {
			h = &heldT{gpus: map[int]bool{}}
			held[name] = h
		}
		return h
	}
	for _, j := range in.Running {
		for _, a := range j.Allocs {
			if a.Done {
				continue
			}
			h := get(a.Node)
			h.cpus += a.CPUs
			h.mem += a.MemBytes
			for _, g := range a.GPUs {
				h.gpus[g] = true
			}
		}
	}
	spans := map[string][]span{}
	placedNow := map[string]*heldT{} // the placements alone, against NodeFree
	placed := map[api.JobID]bool{}
	for _, p := range plan.Placements {
		j := jobs[p.JobID]
		if j == nil || placed[j.ID] || j.State != api.StatePending || j.Spec.Hold {
			t.Fatalf("placement %+v: unknown, placed twice, not pending or held", p)
		}
		placed[j.ID] = true
		if len(p.Allocs) != j.Spec.NodeCount() {
			t.Fatalf("job %d (%d nodes) placed on %d: %+v", j.ID, j.Spec.NodeCount(), len(p.Allocs), p.Allocs)
		}
		seen := map[string]bool{}
		for _, a := range p.Allocs {
			if seen[a.Node] {
				t.Fatalf("job %d placed twice on %s: %+v", j.ID, a.Node, p.Allocs)
			}
			seen[a.Node] = true
			n := okNode(j, a.Node)
			if want := perNode(j, n.Node); (mres{a.CPUs, a.MemBytes, len(a.GPUs)}) != want {
				t.Fatalf("job %d (exclusive %v): alloc %+v on %s, want %+v", j.ID, j.Spec.Exclusive, a, a.Node, want)
			}
			if j.Spec.Exclusive && (n.CPUs != n.Node.CPUs || n.MemBytes != n.Node.MemBytes || len(n.GPUs) != len(n.Node.GPUs)) {
				t.Fatalf("exclusive job %d placed on %s, which is not idle: %+v", j.ID, a.Node, n)
			}
			h, pn := get(a.Node), placedNow[a.Node]
			if pn == nil {
				pn = &heldT{gpus: map[int]bool{}}
				placedNow[a.Node] = pn
			}
			for _, g := range a.GPUs {
				if !slices.Contains(n.GPUs, g) || h.gpus[g] {
					t.Fatalf("job %d got GPU %d of %s: not free (%v) or held", j.ID, g, a.Node, n.GPUs)
				}
				if !gpuOK(j, n.Node, g) {
					t.Fatalf("job %d (type %q) got GPU %d of %s: does not match", j.ID, j.Spec.GPUType, g, a.Node)
				}
				h.gpus[g] = true
			}
			h.cpus += a.CPUs
			h.mem += a.MemBytes
			pn.cpus += a.CPUs
			pn.mem += a.MemBytes
			if h.cpus > n.Node.CPUs || h.mem > n.Node.MemBytes || len(h.gpus) > len(n.Node.GPUs) {
				t.Fatalf("node %s oversubscribed: %d CPUs, %d bytes, %d GPUs held of %d, %d, %d",
					a.Node, h.cpus, h.mem, len(h.gpus), n.Node.CPUs, n.Node.MemBytes, len(n.Node.GPUs))
			}
			if pn.cpus > n.CPUs || pn.mem > n.MemBytes {
				t.Fatalf("node %s: placements take %d CPUs, %d bytes of %d, %d free", a.Node, pn.cpus, pn.mem, n.CPUs, n.MemBytes)
			}
			spans[a.Node] = append(spans[a.Node], span{0, dur(j), mres{a.CPUs, a.MemBytes, len(a.GPUs)}})
		}
	}

	byJob := map[api.JobID][]sched.Reservation{}
	var order []api.JobID
	for _, r := range plan.Reservations {
		if byJob[r.JobID] == nil {
			order = append(order, r.JobID)
		}
		byJob[r.JobID] = append(byJob[r.JobID], r)
	}
	reservedIn := map[string]int{}
	for _, id := range order {
		rs, j := byJob[id], jobs[id]
		if j == nil || placed[id] || plan.Reasons[id] == "" {
			t.Fatalf("reservations %+v: unknown, placed or not waiting", rs)
		}
		if len(rs) != j.Spec.NodeCount() {
			t.Fatalf("job %d (%d nodes) has %d reservations: %+v", id, j.Spec.NodeCount(), len(rs), rs)
		}
		seen := map[string]bool{}
		for _, r := range rs {
			if seen[r.Node] || !r.Start.Equal(rs[0].Start) || !r.End.Equal(rs[0].End) {
				t.Fatalf("job %d: reservations not on distinct nodes at one time: %+v", id, rs)
			}
			seen[r.Node] = true
			n := okNode(j, r.Node)
			if want := perNode(j, n.Node); (mres{r.CPUs, r.MemBytes, r.GPUs}) != want {
				t.Fatalf("reservation %+v, want %+v per node", r, want)
			}
			if !plan.Starts[id].Equal(r.Start) || !r.Start.After(in.Now) {
				t.Fatalf("reservation %+v: Starts %v, now %v", r, plan.Starts[id], in.Now)
			}
			if w := in.Config.Backfill.Window; w > 0 && r.Start.After(in.Now.Add(w)) {
				t.Fatalf("reservation %+v beyond the window %v", r, w)
			}
			if res := in.Config.Backfill.Resolution; res > 0 && r.Start.UnixNano()%int64(res) != 0 {
				t.Fatalf("reservation %+v not rounded to %v", r, res)
			}
			end := sat(int64(r.Start.Sub(in.Now)), dur(j))
			if (end == never) != r.End.IsZero() || (end < never && !r.End.Equal(in.Now.Add(time.Duration(end)))) {
				t.Fatalf("reservation %+v: end should be %d after now", r, end)
			}
			spans[r.Node] = append(spans[r.Node], span{int64(r.Start.Sub(in.Now)), end, mres{r.CPUs, r.MemBytes, r.GPUs}})
		}
		reservedIn[j.Spec.Partition]++
		if strings.EqualFold(in.Config.Backfill.Mode, sched.BackfillEASY) && reservedIn[j.Spec.Partition] > 1 {
			t.Fatalf("EASY: two reserved jobs in partition %s", j.Spec.Partition)
		}
	}
	if len(plan.Starts) != len(byJob) {
		t.Fatalf("%d starts for %d reserved jobs", len(plan.Starts), len(byJob))
	}
	if st := plan.Stats; st.Started+st.Backfilled != len(plan.Placements) || st.Reserved != len(byJob) {
		t.Fatalf("stats %+v for %d placements and %d reserved jobs", st, len(plan.Placements), len(byJob))
	}

	for _, j := range in.Pending {
		reason, waits := plan.Reasons[j.ID]
		switch {
		case j.State != api.StatePending:
			if waits || placed[j.ID] {
				t.Fatalf("non-pending job %d in the plan", j.ID)
			}
		case j.Spec.Hold:
			if waits || placed[j.ID] {
				t.Fatalf("held job %d in the plan: placed=%v, reason %q", j.ID, placed[j.ID], reason)
			}
		case placed[j.ID] == waits:
			t.Fatalf("job %d: placed=%v, reason %q: want exactly one", j.ID, placed[j.ID], reason)
		}
	}
	for _, pr := range plan.Preemptions {
		if w := jobs[pr.For]; w == nil || w.Spec.Gang() {
			t.Fatalf("preemption %+v for a gang job", pr)
		}
		for _, v := range in.Running {
			if v.ID == pr.JobID && len(v.Allocs) != 1 {
				t.Fatalf("preemption %+v of a multi-node job", pr)
			}
		}
	}

	// Played forward: what is held never exceeds what is free now plus
	// what running jobs give back (on each of their nodes).
	for name, ss := range spans {
		n := &mnode{nf: nodes[name], busy: ss}
		for _, j := range in.Running {
			for _, a := range j.Allocs {
				if a.Node == name && !a.Done && releaseAt(in.Now, j) < never {
					n.release = append(n.release, span{from: releaseAt(in.Now, j), r: mres{a.CPUs, a.MemBytes, len(a.GPUs)}})
				}
			}
		}
		for _, at := range append(n.times(), 0) {
			if f := n.freeAt(at); at < never && !f.covers(mres{}) {
				t.Fatalf("node %s oversubscribed %v after now: free %+v (placements and reservations %+v)", name, time.Duration(at), f, ss)
			}
		}
	}
}

// randomGangCluster builds a random, consistent cluster of 2-12 nodes
// (0-8 GPUs each), some under leaf switches, with running single- and
// multi-node jobs, and a queue mixing single-node jobs and gangs (several
// nodes, --exclusive, --switches), in mode none, easy or conservative.
func randomGangCluster(r *rand.Rand) sched.Input {
	in := sched.Input{Now: t0.Add(time.Duration(r.Intn(3600)) * time.Second)}
	nn := 2 + r.Intn(11)
	var names []string
	for i := 0; i < nn; i++ {
		names = append(names, fmt.Sprintf("g%02d", i))
	}
	var bNodes []string
	for _, name := range names {
		if r.Intn(2) == 0 {
			bNodes = append(bNodes, name)
		}
	}
	in.Partitions = []api.Partition{
		{Name: "a", State: "UP"},
		{Name: "b", State: "UP", Nodes: bNodes},
		{Name: "d", State: "DOWN"},
	}
	// Leaves of 1-4 consecutive nodes, now and then a node under none,
	// and a spine over the leaves one time in two.
	if r.Intn(4) > 0 {
		var sw []topology.Switch
		var leafNames []string
		for i := 0; i < nn; {
			k := 1 + r.Intn(4)
			var members []string
			for ; k > 0 && i < nn; k, i = k-1, i+1 {
				if r.Intn(10) > 0 {
					members = append(members, names[i])
				}
			}
			if len(members) > 0 {
				name := fmt.Sprintf("leaf%d", len(sw))
				sw = append(sw, topology.Switch{Name: name, Nodes: strings.Join(members, ",")})
				leafNames = append(leafNames, name)
			}
		}
		if len(leafNames) > 0 && r.Intn(2) == 0 {
			sw = append(sw, topology.Switch{Name: "spine", Switches: strings.Join(leafNames, ",")})
		}
		net, err := topology.NewNetwork(sw)
		if err != nil {
			panic(err)
		}
		in.Network = net
	}
	deadline := func() time.Time {
		switch r.Intn(8) {
		case 0:
			return time.Time{}
		case 1:
			return in.Now.Add(-time.Duration(r.Intn(600)) * time.Second)
		case 2, 3:
			return t0.Add(time.Duration(1+r.Intn(240)) * time.Minute)
		}
		return in.Now.Add(time.Duration(1+r.Intn(4*3600)) * time.Second)
	}
	states := []api.NodeState{api.NodeUp, api.NodeUp, api.NodeUp, api.NodeUp, api.NodeUp, api.NodeDown, api.NodeDrain}
	freeGPUs := map[string][]int{}
	for _, name := range names {
		n := &api.Node{Name: name, CPUs: 4 + r.Intn(29), MemBytes: int64(8+r.Intn(57)) * gib, State: states[r.Intn(len(states))]}
		total := r.Intn(9)
		h100 := r.Intn(2) == 0
		for g := 0; g < total; g++ {
			gpu := api.GPU{Index: g, Minor: g, Model: "NVIDIA A10", MemBytes: 24 * gib}
			if h100 {
				gpu.Model, gpu.MemBytes = "NVIDIA H100 80GB HBM3", 80*gib
			}
			n.GPUs = append(n.GPUs, gpu)
		}
		if r.Intn(3) == 0 {
			n.Features = []string{"ib"}
		}
		if r.Intn(4) == 0 {
			n.Partitions = []string{"a"}
		}
		in.Nodes = append(in.Nodes, sched.NodeFree{Node: n, CPUs: n.CPUs, MemBytes: n.MemBytes})
		freeGPUs[name] = r.Perm(total) // in no order
	}
	var id api.JobID
	// Running jobs on 1-3 nodes; an allocation reported done holds
	// nothing.
	for k := r.Intn(2 * nn); k > 0; k-- {
		id++
		j := &api.Job{ID: id, State: api.StateRunning, Deadline: deadline(), StartTime: in.Now.Add(-time.Hour),
			Spec: &api.JobSpec{Nodes: 1}}
		for _, ni := range r.Perm(nn)[:1+r.Intn(min(3, nn))] {
			nf := &in.Nodes[ni]
			if nf.CPUs == 0 {
				continue
			}
			free := freeGPUs[nf.Node.Name]
			g := r.Intn(len(free) + 1)
			a := api.Allocation{Node: nf.Node.Name, CPUs: 1 + r.Intn(nf.CPUs), MemBytes: r.Int63n(nf.MemBytes/2 + 1),
				GPUs: slices.Clone(free[:g])}
			if len(j.Allocs) > 0 && r.Intn(8) == 0 {
				a.Done = true
			} else {
				freeGPUs[nf.Node.Name] = free[g:]
				nf.CPUs -= a.CPUs
				nf.MemBytes -= a.MemBytes
			}
			j.Allocs = append(j.Allocs, a)
		}
		if len(j.Allocs) == 0 {
			continue
		}
		j.Spec.Nodes = len(j.Allocs)
		in.Running = append(in.Running, j)
	}
	for i := range in.Nodes {
		in.Nodes[i].GPUs = freeGPUs[in.Nodes[i].Node.Name]
	}
	// Pending jobs: one in three single-node.
	for k := r.Intn(20); k > 0; k-- {
		id++
		j := &api.Job{ID: id, State: api.StatePending, Priority: int64(r.Intn(4)),
			SubmitTime: t0.Add(-time.Duration(r.Intn(3600)) * time.Second),
			Spec: &api.JobSpec{
				Partition:   []string{"a", "a", "a", "b", "d", "missing"}[r.Intn(6)],
				Nodes:       []int{1, 1, 2, 2, 3, 4}[r.Intn(6)],
				NTasks:      1 + r.Intn(4),
				CPUsPerTask: 1 + r.Intn(6),
				MemBytes:    int64(1+r.Intn(16)) * gib / 2,
				GPUsPerNode: []int{0, 0, 0, 1, 2, 4}[r.Intn(6)],
				TimeLimit:   int64([]time.Duration{0, 15 * m, 30 * m, time.Hour, 2 * time.Hour}[r.Intn(5)] / time.Second),
				Hold:        r.Intn(15) == 0,
			}}
		if r.Intn(10) == 0 {
			j.State = api.StateRunning
		}
		switch r.Intn(6) {
		case 0: // exclusive, with a small request every node can hold
			j.Spec.Exclusive = true
			j.Spec.NTasks, j.Spec.CPUsPerTask, j.Spec.MemBytes = 1, 1, gib
			j.Spec.GPUsPerNode = []int{0, 0, 1, 8}[r.Intn(4)]
		case 1:
			j.Spec.Switches = 1 + r.Intn(2)
			j.Spec.SwitchWait = []int64{0, 300, 3600, 7200}[r.Intn(4)]
		}
		if r.Intn(8) == 0 {
			j.Spec.Constraint = "ib"
		}
		if j.Spec.GPUsPerNode > 0 && r.Intn(6) == 0 {
			j.Spec.GPUType = "h100"
		}
		if r.Intn(5) == 0 { // identical shapes
			j.Spec.Nodes, j.Spec.NTasks, j.Spec.CPUsPerTask, j.Spec.MemBytes, j.Spec.GPUsPerNode = 2, 2, 2, gib, 1
		}
		in.Pending = append(in.Pending, j)
	}
	in.Config.Backfill = sched.BackfillConfig{
		Mode:       []string{"", sched.BackfillNone, sched.BackfillEASY, sched.BackfillEASY, sched.BackfillConservative, sched.BackfillConservative}[r.Intn(6)],
		Window:     []time.Duration{0, 0, 0, 30 * m, 2 * time.Hour}[r.Intn(5)],
		Resolution: []time.Duration{0, 0, time.Minute, 10 * time.Minute}[r.Intn(4)],
		MaxJobTest: []int{0, 0, 0, 3, 10}[r.Intn(5)],
	}
	return in
}

// TestGangProperties runs every mode on random clusters with gangs: plans
// satisfy checkGangPlan, do not change the input, and are the same when
// computed again or from the input in another order.
func TestGangProperties(t *testing.T) {
	r := rand.New(rand.NewSource(20250807))
	seen := map[string]int{}
	iterations := 1500
	if testing.Short() {
		iterations = 400
	}
	for i := 0; i < iterations; i++ {
		in := randomGangCluster(r)
		before := deepClone(in)
		plan := sched.Schedule(in)
		if !reflect.DeepEqual(in, before) {
			t.Fatalf("iteration %d: Schedule modified its input", i)
		}
		checkGangPlan(t, in, plan)
		again := sched.Schedule(deepClone(in))
		if !reflect.DeepEqual(plan.Placements, again.Placements) || !reflect.DeepEqual(plan.Reasons, again.Reasons) ||
			!reflect.DeepEqual(plan, again) {
			t.Fatalf("iteration %d: not deterministic:\n%+v\n%+v", i, plan, again)
		}
		sh := deepClone(in)
		for _, s := range []interface{ swap(i, j int) }{
			swapper[sched.NodeFree](sh.Nodes), swapper[*api.Job](sh.Pending), swapper[*api.Job](sh.Running),
			swapper[api.Partition](sh.Partitions),
		} {
			r.Shuffle(reflect.ValueOf(s).Len(), s.swap)
		}
		if got := sched.Schedule(sh); !reflect.DeepEqual(plan, got) {
			t.Fatalf("iteration %d: plan depends on input order:\n got %+v\nwant %+v", i, got, plan)
		}

		mode := in.Config.Backfill.Mode
		if mode == "" {
			mode = sched.BackfillNone
		}
		jobs := map[api.JobID]*api.Job{}
		for _, j := range in.Pending {
			jobs[j.ID] = j
		}
		for _, p := range plan.Placements {
			s := jobs[p.JobID].Spec
			switch {
			case s.Exclusive:
				seen["exclusive/placed"]++
			case s.Switches > 0:
				seen["switches/placed"]++
			case s.Nodes > 1:
				seen[mode+"/gang placed"]++
			default:
				seen[mode+"/single placed"]++
			}
		}
		reserved := map[api.JobID]bool{}
		for _, rv := range plan.Reservations {
			if s := jobs[rv.JobID].Spec; s.Gang() && !reserved[rv.JobID] {
				reserved[rv.JobID] = true
				seen[mode+"/gang reserved"]++
				if s.Exclusive {
					seen["exclusive/reserved"]++
				}
			}
		}
		for id, reason := range plan.Reasons {
			if jobs[id].Spec.Gang() {
				seen["gang/"+reason]++
			}
		}
		for _, j := range in.Pending {
			if j.State == api.StatePending && j.Spec.Hold && j.Spec.Gang() {
				seen["gang/held"]++
			}
		}
		for _, j := range in.Running {
			if len(j.Allocs) > 1 {
				seen["running multi-node"]++
			}
		}
		seen["backfilled"] += plan.Stats.Backfilled
	}
	t.Logf("outcomes: %v", seen)
	for _, outcome := range []string{
		"none/gang placed", "easy/gang placed", "conservative/gang placed",
		"none/single placed", "easy/single placed", "conservative/single placed",
		"easy/gang reserved", "conservative/gang reserved", "exclusive/placed", "exclusive/reserved", "switches/placed",
		"gang/" + api.ReasonResources, "gang/" + api.ReasonPriority, "gang/" + api.ReasonNodeNotAvail,
		"gang/held", "gang/" + api.ReasonPartitionDown, "running multi-node", "backfilled",
	} {
		if seen[outcome] < 20 {
			t.Errorf("generator produced %q only %d times: %v", outcome, seen[outcome], seen)
		}
	}
}
