package sched_test

import (
	"cmp"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/gsched/gsched/pkg/api"
	"github.com/gsched/gsched/pkg/sched"
	"github.com/gsched/gsched/pkg/sched/priority"
)

// This file holds a reference model of Schedule: the same policy written
// the slow, obvious way (interval lists, every candidate time tried on
// every node, no caches, no indexes), and the invariants every plan must
// satisfy. The property test compares Schedule with the model on random
// inputs.

const never = math.MaxInt64

type mres struct {
	cpus int
	mem  int64
	gpus int
}

func (a mres) covers(b mres) bool { return a.cpus >= b.cpus && a.mem >= b.mem && a.gpus >= b.gpus }

// span is resources held from..to (nanoseconds after now; to may be never).
type span struct {
	from, to int64
	r        mres
}

type mnode struct {
	nf      sched.NodeFree
	free    []int // free GPU indices now, ascending
	release []span
	busy    []span
}

// releaseAt is when a running job gives its resources back: its deadline,
// just after now if that has passed, never without one.
func releaseAt(now time.Time, j *api.Job) int64 {
	if j.Deadline.IsZero() {
		return never
	}
	return max(int64(j.Deadline.Sub(now)), 1)
}

// freeAt is what the node has free at time t.
func (n *mnode) freeAt(t int64) mres {
	f := mres{n.nf.CPUs, n.nf.MemBytes, len(n.nf.GPUs)}
	for _, s := range n.release {
		if s.from <= t {
			f.cpus, f.mem, f.gpus = f.cpus+s.r.cpus, f.mem+s.r.mem, f.gpus+s.r.gpus
		}
	}
	for _, s := range n.busy {
		if s.from <= t && t < s.to {
			f.cpus, f.mem, f.gpus = f.cpus-s.r.cpus, f.mem-s.r.mem, f.gpus-s.r.gpus
		}
	}
	return f
}

func (n *mnode) times() []int64 {
	var ts []int64
	for _, s := range n.release {
		ts = append(ts, s.from)
	}
	for _, s := range n.busy {
		ts = append(ts, s.from, s.to)
	}
	return ts
}

// fitsAt reports whether r fits on the node during [start, end).
func (n *mnode) fitsAt(r mres, start, end int64) bool {
	if !n.freeAt(start).covers(r) {
		return false
	}
	for _, t := range n.times() {
		if t > start && t < end && !n.freeAt(t).covers(r) {
			return false
		}
	}
	return true
}

// hasReq reports whether the job has requirements beyond counts (a GPU
// type or memory on a GPU job, or features).
func hasReq(j *api.Job) bool {
	s := j.Spec
	return s.Constraint != "" || s.GPUsOnNode() > 0 && (s.GPUType != "" || s.GPUMemMin > 0)
}

// gpuReq reports whether the job's GPUs must match a type or memory.
func gpuReq(j *api.Job) bool {
	return j.Spec.GPUsOnNode() > 0 && (j.Spec.GPUType != "" || j.Spec.GPUMemMin > 0)
}

// gpuOK reports whether GPU index g of node n may go to the job.
func gpuOK(j *api.Job, n *api.Node, g int) bool {
	if !gpuReq(j) {
		return true
	}
	for i := range n.GPUs {
		if n.GPUs[i].Index == g {
			return j.Spec.GPUMatches(&n.GPUs[i])
		}
	}
	return false
}

// matchingOf keeps the GPU indices the job may use.
func matchingOf(j *api.Job, n *api.Node, gpus []int) []int {
	var out []int
	for _, g := range gpus {
		if gpuOK(j, n, g) {
			out = append(out, g)
		}
	}
	return out
}

// eligibleModel: the node has the job's features and, with a GPU
// requirement, enough matching GPUs.
func eligibleModel(j *api.Job, n *api.Node) bool {
	return n.HasFeatures(j.Spec.Features()) && (!gpuReq(j) || n.MatchingGPUs(j.Spec) >= j.Spec.GPUsOnNode())
}

func sat(a, b int64) int64 {
	if b >= never-a {
		return never
	}
	return a + b
}

type model struct {
	in     sched.Input
	nodes  []*mnode // by name
	parts  map[string]api.Partition
	limit  int64
	res    int64
	plan   sched.Plan
	used   map[[2]string]*mres // (qos, user) → held
	jobs   map[[2]string]int
	grp    map[string]*mres
	qos    map[string]api.QOS
	waits  map[string]bool
	resvd  map[string]bool
	block  map[string]bool
	tested int
}

func (m *model) roundUp(t int64) int64 {
	if m.res <= 0 || t == never {
		return t
	}
	if rem := (m.in.Now.UnixNano() + t) % m.res; rem != 0 {
		return t + m.res - rem
	}
	return t
}

// earliest is the first start (0, or a rounded event time, no later than
// the window) at which r fits on n for dur; never if none.
func (m *model) earliest(j *api.Job, n *mnode, r mres, dur int64) int64 {
	if r.cpus > n.nf.Node.CPUs || r.mem > n.nf.Node.MemBytes || r.gpus > len(n.nf.Node.GPUs) {
		return never
	}
	cands := []int64{0}
	for _, t := range n.times() {
		if t > 0 && t < never {
			cands = append(cands, m.roundUp(t))
		}
	}
	slices.Sort(cands)
	for _, c := range cands {
		if c > m.limit {
			break
		}
		if n.fitsAt(r, c, sat(c, dur)) && (c > 0 || len(matchingOf(j, n.nf.Node, n.free)) >= r.gpus) {
			return c
		}
	}
	return never
}

func modelSchedule(in sched.Input) sched.Plan {
	md := &model{in: in, parts: map[string]api.Partition{}, limit: never, res: int64(in.Config.Backfill.Resolution),
		used: map[[2]string]*mres{}, jobs: map[[2]string]int{}, grp: map[string]*mres{}, qos: map[string]api.QOS{},
		waits: map[string]bool{}, resvd: map[string]bool{}, block: map[string]bool{}}
	md.plan = sched.Plan{Reasons: map[api.JobID]string{}, Starts: map[api.JobID]time.Time{}, Priorities: map[api.JobID]int64{}}
	if in.Config.Backfill.Window > 0 {
		md.limit = int64(in.Config.Backfill.Window)
	}
	for _, p := range in.Partitions {
		md.parts[p.Name] = p
	}
	for _, q := range in.QOS {
		md.qos[q.Name] = q
	}
	byName := map[string]*mnode{}
	for _, nf := range in.Nodes {
		n := &mnode{nf: nf, free: slices.Sorted(slices.Values(nf.GPUs))}
		md.nodes = append(md.nodes, n)
		byName[nf.Node.Name] = n
	}
	slices.SortFunc(md.nodes, func(a, b *mnode) int { return cmp.Compare(a.nf.Node.Name, b.nf.Node.Name) })
	for _, j := range in.Running {
		md.charge(j, mres{j.Allocs[0].CPUs, j.Allocs[0].MemBytes, len(j.Allocs[0].GPUs)})
		if n := byName[j.Allocs[0].Node]; n != nil && releaseAt(in.Now, j) < never {
			n.release = append(n.release, span{from: releaseAt(in.Now, j), r: mres{j.Allocs[0].CPUs, j.Allocs[0].MemBytes, len(j.Allocs[0].GPUs)}})
		}
	}

	type qe struct {
		j    *api.Job
		prio int64
		tier int
	}
	var queue []qe
	pc := in.Config.Priority
	basic := pc.WeightAge == 0 && pc.WeightFairShare == 0 && pc.WeightJobSize == 0 && pc.WeightPartition == 0 &&
		pc.WeightQOS == 0 && pc.Site == 0
	for _, w := range pc.WeightTRES {
		basic = basic && w == 0
	}
	totals := in.Totals
	if totals == (api.TRES{}) {
		for _, nf := range in.Nodes {
			if nf.Node.State == api.NodeUp {
				totals = api.TRES{CPUs: totals.CPUs + nf.Node.CPUs, MemBytes: totals.MemBytes + nf.Node.MemBytes,
					GPUs: totals.GPUs + len(nf.Node.GPUs), Nodes: totals.Nodes + 1}
			}
		}
	}
	ctx := priority.NewContext(in.Now, priority.Weights{Age: pc.WeightAge, FairShare: pc.WeightFairShare,
		JobSize: pc.WeightJobSize, Partition: pc.WeightPartition, QOS: pc.WeightQOS, TRES: pc.WeightTRES,
		MaxAge: pc.MaxAge, FavorSmall: pc.FavorSmall, Site: pc.Site}, in.FairShare, totals, in.Partitions, in.QOS)
	for _, j := range in.Pending {
		if j.State != api.StatePending {
			continue
		}
		e := qe{j: j, prio: j.Priority, tier: md.parts[j.Spec.Partition].PriorityTier}
		if !basic {
			e.prio = ctx.Compute(j).Priority
		}
		if !j.Spec.Hold { // a held job waits with no priority
			md.plan.Priorities[j.ID] = e.prio
		}
		queue = append(queue, e)
	}
	slices.SortFunc(queue, func(a, b qe) int {
		if a.tier != b.tier {
			return b.tier - a.tier
		}
		if a.prio != b.prio {
			return cmp.Compare(b.prio, a.prio)
		}
		if c := a.j.SubmitTime.Compare(b.j.SubmitTime); c != 0 {
			return c
		}
		return cmp.Compare(a.j.ID, b.j.ID)
	})
	order := make([]*api.Job, 0, len(queue))
	for _, e := range queue {
		md.decide(e.j)
		order = append(order, e.j)
	}
	md.preempt(order)
	return md.plan
}

// charge adds a job's usage to its QOS counters.
func (m *model) charge(j *api.Job, r mres) {
	k := [2]string{j.Spec.QOS, j.User}
	if m.used[k] == nil {
		m.used[k] = &mres{}
	}
	if m.grp[j.Spec.QOS] == nil {
		m.grp[j.Spec.QOS] = &mres{}
	}
	u, g := m.used[k], m.grp[j.Spec.QOS]
	m.jobs[k]++
	u.cpus, u.mem, u.gpus = u.cpus+r.cpus, u.mem+r.mem, u.gpus+r.gpus
	g.cpus, g.mem, g.gpus = g.cpus+r.cpus, g.mem+r.mem, g.gpus+r.gpus
}

func (m *model) qosReason(j *api.Job, r mres) string {
	q, ok := m.qos[j.Spec.QOS]
	if !ok {
		return ""
	}
	k := [2]string{j.Spec.QOS, j.User}
	u, g := mres{}, mres{}
	if m.used[k] != nil {
		u = *m.used[k]
	}
	if m.grp[j.Spec.QOS] != nil {
		g = *m.grp[j.Spec.QOS]
	}
	over := func(lim, have, want int64) bool { return lim > 0 && have+want > lim }
	if q.MaxJobsPerUser > 0 && m.jobs[k] >= q.MaxJobsPerUser {
		return api.ReasonQOSMaxJobsPerUser
	}
	l := q.MaxTRESPerUser
	if over(int64(l.CPUs), int64(u.cpus), int64(r.cpus)) || over(l.MemBytes, u.mem, r.mem) ||
		over(int64(l.Nodes), int64(m.jobs[k]), 1) {
		return api.ReasonQOSMaxTRESPerUser
	}
	if over(int64(l.GPUs), int64(u.gpus), int64(r.gpus)) {
		return api.ReasonQOSMaxGRESPerUser
	}
	l = q.GrpTRES
	if over(int64(l.CPUs), int64(g.cpus), int64(r.cpus)) || over(l.MemBytes, g.mem, r.mem) ||
		over(int64(l.GPUs), int64(g.gpus), int64(r.gpus)) {
		return api.ReasonQOSGrpTRES
	}
	return ""
}

func (m *model) decide(j *api.Job) {
	plan := &m.plan
	plan.Stats.Considered++
	p, ok := m.parts[j.Spec.Partition]
	r := mres{j.Spec.CPUsOnNode(), j.Spec.MemBytes, j.Spec.GPUsOnNode()}
	dur := int64(never)
	if j.Spec.TimeLimit > 0 {
		dur = int64(j.TimeLimitDuration())
	}
	var members []*mnode
	for _, n := range m.nodes {
		if n.nf.Node.State == api.NodeUp && InPartitionModel(n.nf.Node, &p) {
			members = append(members, n)
		}
	}
	wait := func(reason string) { plan.Reasons[j.ID] = reason }
	switch {
	case j.Spec.Hold:
		return // no reason in the plan: the job's own
	case !ok:
		wait(api.ReasonNodeNotAvail)
		return
	case p.State != "" && p.State != "UP":
		wait(api.ReasonPartitionDown)
		return
	}
	if reason := m.qosReason(j, r); reason != "" {
		wait(reason)
		return
	}
	// With requirements, only eligible nodes count; none at all (in a
	// partition with UP nodes): ReqNodeNotAvail, blocking nothing.
	var elig []*mnode
	for _, n := range members {
		if eligibleModel(j, n.nf.Node) {
			elig = append(elig, n)
		}
	}
	noneEligible := len(members) > 0 && len(elig) == 0
	members = elig
	fitsNow := func(n *mnode, whole bool) bool {
		ok := n.freeAt(0).covers(r)
		if whole {
			ok = n.fitsAt(r, 0, dur)
		}
		return ok && len(matchingOf(j, n.nf.Node, n.free)) >= r.gpus
	}
	place := func(n *mnode) {
		a := api.Allocation{Node: n.nf.Node.Name, CPUs: r.cpus, MemBytes: r.mem}
		if r.gpus > 0 {
			a.GPUs = matchingOf(j, n.nf.Node, n.free)[:r.gpus:r.gpus]
			n.free = slices.DeleteFunc(n.free, func(g int) bool { return slices.Contains(a.GPUs, g) })
		}
		n.busy = append(n.busy, span{from: 0, to: dur, r: r})
		m.charge(j, r)
		plan.Placements = append(plan.Placements, sched.Placement{JobID: j.ID, Allocs: []api.Allocation{a}})
		if m.waits[p.Name] {
			plan.Stats.Backfilled++
		} else {
			plan.Stats.Started++
		}
	}
	reserve := func(n *mnode, at int64) {
		n.busy = append(n.busy, span{from: at, to: sat(at, dur), r: r})
		rv := sched.Reservation{JobID: j.ID, Node: n.nf.Node.Name, Start: m.in.Now.Add(time.Duration(at)),
			CPUs: r.cpus, MemBytes: r.mem, GPUs: r.gpus}
		if sat(at, dur) < never {
			rv.End = m.in.Now.Add(time.Duration(at + dur))
		}
		plan.Reservations = append(plan.Reservations, rv)
		plan.Starts[j.ID] = rv.Start
		plan.Stats.Reserved++
	}
	best := func() (int64, *mnode) {
		bt, bn := int64(never), (*mnode)(nil)
		for _, n := range members {
			if t := m.earliest(j, n, r, dur); t < bt {
				bt, bn = t, n
			}
		}
		return bt, bn
	}
	switch m.in.Config.Backfill.Mode {
	case sched.BackfillEASY:
		if len(members) == 0 {
			wait(api.ReasonNodeNotAvail)
			return
		}
		for _, n := range members {
			if fitsNow(n, true) {
				place(n)
				return
			}
		}
		m.waits[p.Name] = true
		if m.resvd[p.Name] {
			wait(api.ReasonPriority)
			return
		}
		wait(api.ReasonResources)
		if at, n := best(); n != nil {
			reserve(n, at)
			m.resvd[p.Name] = true
		}
	case sched.BackfillConservative:
		if mt := m.in.Config.Backfill.MaxJobTest; mt > 0 && m.tested >= mt {
			m.waits[p.Name] = true
			wait(api.ReasonPriority)
			return
		}
		m.tested++
		if len(members) == 0 {
			wait(api.ReasonNodeNotAvail)
			return
		}
		at, n := best()
		if n != nil && at == 0 {
			place(n)
			return
		}
		m.waits[p.Name] = true
		wait(api.ReasonResources)
		if n != nil {
			reserve(n, at)
		}
	default:
		switch {
		case m.block[p.Name]:
			wait(api.ReasonPriority)
			return
		case noneEligible:
			wait(api.ReasonNodeNotAvail)
			return
		case len(members) == 0:
			m.block[p.Name] = true
			wait(api.ReasonNodeNotAvail)
			return
		}
		for _, n := range members {
			if fitsNow(n, false) {
				place(n)
				return
			}
		}
		m.block[p.Name] = true
		wait(api.ReasonResources)
	}
}

// InPartitionModel is sched.InPartition restated.
func InPartitionModel(n *api.Node, p *api.Partition) bool {
	if len(p.Nodes) > 0 {
		return slices.Contains(p.Nodes, n.Name)
	}
	return len(n.Partitions) == 0 || slices.Contains(n.Partitions, p.Name)
}

// checkInvariants verifies what every plan must satisfy, in every mode:
// placements are valid and oversubscribe nothing, every pending job is
// decided once, reservations are well-formed, QOS limits hold, and, played
// forward in time (running jobs end at their deadlines, placed jobs at
// now + their limit), placements and reservations all fit together: no
// job started now delays any reservation.
func checkInvariants(t *testing.T, in sched.Input, plan sched.Plan) {
	t.Helper()
	nodes, jobs, parts := indexInput(in)
	spans := map[string][]span{} // per node: placements and reservations
	gpusUsed := map[string]map[int]bool{}
	placed := map[api.JobID]bool{}
	dur := func(j *api.Job) int64 {
		if j.Spec.TimeLimit > 0 {
			return int64(j.TimeLimitDuration())
		}
		return never
	}
	for _, p := range plan.Placements {
		j, n := jobs[p.JobID], nodes[p.Allocs[0].Node]
		if j == nil || n.Node == nil {
			t.Fatalf("placement %+v: unknown job or node", p)
		}
		if placed[j.ID] || j.State != api.StatePending || j.Spec.Hold {
			t.Fatalf("job %d placed twice, or not pending, or held", j.ID)
		}
		placed[j.ID] = true
		pp := parts[j.Spec.Partition]
		if n.Node.State != api.NodeUp || !sched.InPartition(n.Node, &pp) || (pp.State != "" && pp.State != "UP") {
			t.Fatalf("job %d placed on %s (%s) outside its UP partition %s", j.ID, n.Node.Name, n.Node.State, pp.Name)
		}
		if p.Allocs[0].CPUs != j.Spec.CPUsOnNode() || p.Allocs[0].MemBytes != j.Spec.MemBytes || len(p.Allocs[0].GPUs) != j.Spec.GPUsOnNode() {
			t.Fatalf("job %d: alloc %+v does not match its request", j.ID, p.Allocs[0])
		}
		if gpusUsed[n.Node.Name] == nil {
			gpusUsed[n.Node.Name] = map[int]bool{}
		}
		if !n.Node.HasFeatures(j.Spec.Features()) {
			t.Fatalf("job %d (constraint %q) placed on %s with features %v", j.ID, j.Spec.Constraint, n.Node.Name, n.Node.Features)
		}
		for _, g := range p.Allocs[0].GPUs {
			if !slices.Contains(n.GPUs, g) || gpusUsed[n.Node.Name][g] {
				t.Fatalf("job %d got GPU %d of %s: not free (%v) or given twice", j.ID, g, n.Node.Name, n.GPUs)
			}
			if !gpuOK(j, n.Node, g) {
				t.Fatalf("job %d (type %q, mem %d) got GPU %d of %s: does not match", j.ID, j.Spec.GPUType, j.Spec.GPUMemMin, g, n.Node.Name)
			}
			gpusUsed[n.Node.Name][g] = true
		}
		spans[n.Node.Name] = append(spans[n.Node.Name], span{0, dur(j), mres{p.Allocs[0].CPUs, p.Allocs[0].MemBytes, len(p.Allocs[0].GPUs)}})
	}
	perPart := map[string]int{}
	for _, r := range plan.Reservations {
		j, n := jobs[r.JobID], nodes[r.Node]
		if j == nil || n.Node == nil || placed[j.ID] || plan.Reasons[j.ID] == "" {
			t.Fatalf("reservation %+v: unknown, placed or not waiting", r)
		}
		pp := parts[j.Spec.Partition]
		if n.Node.State != api.NodeUp || !sched.InPartition(n.Node, &pp) {
			t.Fatalf("reservation %+v outside the job's partition", r)
		}
		if !eligibleModel(j, n.Node) {
			t.Fatalf("reservation %+v on a node not eligible for the job's requirements", r)
		}
		if r.CPUs != j.Spec.CPUsOnNode() || r.MemBytes != j.Spec.MemBytes || r.GPUs != j.Spec.GPUsOnNode() {
			t.Fatalf("reservation %+v does not match the request", r)
		}
		if !plan.Starts[j.ID].Equal(r.Start) || !r.Start.After(in.Now) {
			t.Fatalf("reservation %+v: Starts %v, now %v", r, plan.Starts[j.ID], in.Now)
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
		perPart[j.Spec.Partition]++
		if in.Config.Backfill.Mode == sched.BackfillEASY && perPart[j.Spec.Partition] > 1 {
			t.Fatalf("EASY: two reservations in partition %s", j.Spec.Partition)
		}
		spans[r.Node] = append(spans[r.Node], span{int64(r.Start.Sub(in.Now)), end, mres{r.CPUs, r.MemBytes, r.GPUs}})
	}
	if len(plan.Starts) != len(plan.Reservations) {
		t.Fatalf("%d starts for %d reservations", len(plan.Starts), len(plan.Reservations))
	}
	for _, j := range in.Pending {
		reason, waits := plan.Reasons[j.ID]
		_, hasPrio := plan.Priorities[j.ID]
		switch {
		case j.State != api.StatePending:
			if waits || placed[j.ID] || hasPrio {
				t.Fatalf("non-pending job %d in the plan", j.ID)
			}
		case j.Spec.Hold && hasPrio:
			// Held jobs wait outside the queue, with no priority (as
			// in Slurm, where a hold sets it to 0).
			t.Fatalf("held job %d has a priority", j.ID)
		case !j.Spec.Hold && !hasPrio:
			t.Fatalf("job %d has no priority", j.ID)
		case j.Spec.Hold:
			if waits || placed[j.ID] {
				t.Fatalf("held job %d in the plan: placed=%v, reason %q", j.ID, placed[j.ID], reason)
			}
		case placed[j.ID] == waits:
			t.Fatalf("job %d: placed=%v, reason %q: want exactly one", j.ID, placed[j.ID], reason)
		}
	}
	// Played forward: at every time something changes, what is held
	// never exceeds what is free now plus what running jobs gave back.
	for name, ss := range spans {
		n := &mnode{nf: nodes[name], busy: ss}
		for _, j := range in.Running {
			if len(j.Allocs) > 0 && j.Allocs[0].Node == name && releaseAt(in.Now, j) < never {
				n.release = append(n.release, span{from: releaseAt(in.Now, j), r: mres{j.Allocs[0].CPUs, j.Allocs[0].MemBytes, len(j.Allocs[0].GPUs)}})
			}
		}
		for _, at := range append(n.times(), 0) {
			if f := n.freeAt(at); at < never && !f.covers(mres{}) {
				t.Fatalf("node %s oversubscribed %v after now: free %+v (placements and reservations %+v)", name, time.Duration(at), f, ss)
			}
		}
	}
	checkQOS(t, in, plan, jobs)
	checkPreemptions(t, in, plan)
}

// checkQOS: where the pass placed a job of a user (or of a QOS), the
// user's (the QOS's) running and placed jobs stay within the limits.
func checkQOS(t *testing.T, in sched.Input, plan sched.Plan, jobs map[api.JobID]*api.Job) {
	t.Helper()
	type key struct{ qos, user string }
	use, grp := map[key]*usageT{}, map[string]*usageT{}
	add := func(j *api.Job, a api.Allocation) {
		k := key{j.Spec.QOS, j.User}
		if use[k] == nil {
			use[k] = &usageT{}
		}
		if grp[k.qos] == nil {
			grp[k.qos] = &usageT{}
		}
		for _, u := range []*usageT{use[k], grp[k.qos]} {
			u.jobs++
			u.cpus += a.CPUs
			u.mem += a.MemBytes
			u.gpus += len(a.GPUs)
		}
	}
	for _, j := range in.Running {
		add(j, j.Allocs[0])
	}
	for _, p := range plan.Placements {
		add(jobs[p.JobID], p.Allocs[0])
	}
	for _, q := range in.QOS {
		within := func(u *usageT, l api.TRES) bool {
			return (l.CPUs == 0 || u.cpus <= l.CPUs) && (l.MemBytes == 0 || u.mem <= l.MemBytes) &&
				(l.GPUs == 0 || u.gpus <= l.GPUs) && (l.Nodes == 0 || u.jobs <= l.Nodes)
		}
		for _, p := range plan.Placements {
			j := jobs[p.JobID]
			if j.Spec.QOS != q.Name {
				continue
			}
			u := use[key{q.Name, j.User}]
			if (q.MaxJobsPerUser > 0 && u.jobs > q.MaxJobsPerUser) || !within(u, q.MaxTRESPerUser) || !within(grp[q.Name], q.GrpTRES) {
				t.Fatalf("QOS %s limits exceeded by user %s: %+v (group %+v)", q.Name, j.User, *u, *grp[q.Name])
			}
		}
	}
}

type usageT struct {
	jobs, cpus, gpus int
	mem              int64
}
