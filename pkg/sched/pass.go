package sched

import (
	"cmp"
	"slices"
	"strings"
	"time"

	"github.com/gsched/gsched/pkg/api"
	"github.com/gsched/gsched/pkg/sched/priority"
	"github.com/gsched/gsched/pkg/topology"
)

type mode int

const (
	modeNone mode = iota
	modeEASY
	modeConservative
)

// nodeState is a node as one pass sees it. Nodes live in one slice sorted
// by name; an int32 index names a node everywhere else.
type nodeState struct {
	node *api.Node
	up   bool
	// Free now; gpus is the pass's own ascending copy (placements take
	// its head and re-slice it, never write it).
	cpus int
	mem  int64
	gpus []int
	prof profile // free over time (modes easy and conservative)
	resv int     // reservations on this node: prof may decrease
	ver  uint32  // bumped whenever prof changes
	// slots are the node's leaves in its partitions' fit trees.
	slots []slot
}

type slot struct{ part, pos int32 }

// holdsEver reports whether d fits the empty node.
func (n *nodeState) holdsEver(d *demand) bool {
	return d.cpus <= n.node.CPUs && d.mem <= n.node.MemBytes && d.gpus <= len(n.node.GPUs)
}

// partState is a partition and the pass's verdicts about it.
type partState struct {
	p       *api.Partition
	up      bool
	members []int32  // UP nodes of the partition, in name order
	tree    *fitTree // over members (modes none and easy)
	// blocked: mode none, a job could not start, the rest waits.
	// waiting: a job of the partition waits for resources.
	// reserved: mode easy, the partition's reservation is taken.
	blocked, waiting, reserved bool
}

// entry is a pending job with its sort key.
type entry struct {
	job  *api.Job
	prio int64
	sec  int64 // submit time
	nsec int
	tier int
	part int32 // index in pass.parts, -1 if unknown
}

// shapeKey identifies jobs that are interchangeable for placement.
type shapeKey struct {
	part int32
	gpus int32
	cpus int
	mem  int64
	dur  int64
}

// reqShapeKey is shapeKey for jobs with requirements (req: the
// requirement set's id).
type reqShapeKey struct {
	shapeKey
	req int32
}

// shape caches verdicts for a shapeKey. Within a pass free resources only
// shrink and reservations only grow, so a verdict found for one job holds
// for every later job of the same shape.
type shape struct {
	noNow bool // cannot start now without delaying a reservation
	never bool // no reservation possible within the window
	// heap holds, for mode conservative, each node's earliest start for
	// this shape, a lower bound once the node's version has moved on.
	heap  []cand
	built bool
}

// rounder rounds times up to the backfill resolution (bf_resolution), on
// the wall clock: with a minute, starts fall on whole minutes.
type rounder struct {
	res  int64 // 0: no rounding
	base int64 // Now's offset within a resolution period
}

func (r rounder) up(t int64) int64 {
	if r.res <= 0 || t == inf {
		return t
	}
	rem := (r.base + t%r.res) % r.res
	if rem == 0 {
		return t
	}
	if add := r.res - rem; t <= inf-add {
		return t + add
	}
	return inf
}

type pass struct {
	in     *Input
	mode   mode
	round  rounder
	limit  int64 // latest reservation start (Window), inf if none
	nodes  []nodeState
	parts  []partState
	shapes map[shapeKey]*shape
	// reqs are the requirement sets seen (see require.go); reqShapes the
	// shapes of jobs with requirements.
	reqs      map[reqKey]*req
	reqShapes map[reqShapeKey]*shape
	qos       qosLimits
	gangs     map[gangKey]*gangState // see gang.go
	tested    int                    // mode conservative: jobs tested, for MaxJobTest
	// arrayLive counts the running tasks of each throttled array (the
	// "%N" of --array), placements of this pass included.
	arrayLive map[api.JobID]int
	plan      Plan
}

func newPass(in *Input) *pass {
	p := &pass{in: in, limit: inf, qos: newQOSLimits(in.QOS, in.Running), arrayLive: map[api.JobID]int{}}
	for _, j := range in.Running {
		if j.IsArrayTask() && api.ArrayThrottle(j.Spec.Array) > 0 {
			p.arrayLive[j.ArrayJobID]++
		}
	}
	switch strings.ToLower(in.Config.Backfill.Mode) {
	case BackfillEASY:
		p.mode = modeEASY
	case BackfillConservative:
		p.mode = modeConservative
	}
	bf := in.Config.Backfill
	if bf.Window > 0 {
		p.limit = int64(bf.Window)
	}
	if res := int64(bf.Resolution); res > 0 {
		p.round = rounder{res: res, base: (in.Now.UnixNano()%res + res) % res}
	}
	p.plan = Plan{
		Reasons:    map[api.JobID]string{}, // held jobs get none: not sized by Pending
		Starts:     map[api.JobID]time.Time{},
		Priorities: map[api.JobID]int64{}, // held jobs get none: not sized by Pending
	}
	p.buildNodes()
	p.buildPartitions()
	if p.mode != modeNone {
		p.buildProfiles()
		p.shapes = map[shapeKey]*shape{}
	}
	return p
}

func (p *pass) buildNodes() {
	in := p.in
	order := make([]int32, len(in.Nodes))
	total := 0
	for i := range order {
		order[i] = int32(i)
		total += len(in.Nodes[i].GPUs)
	}
	slices.SortStableFunc(order, func(a, b int32) int {
		return strings.Compare(in.Nodes[a].Node.Name, in.Nodes[b].Node.Name)
	})
	gpuBuf := make([]int, 0, total)
	p.nodes = make([]nodeState, len(order))
	for i, o := range order {
		nf := &in.Nodes[o]
		start := len(gpuBuf)
		gpuBuf = append(gpuBuf, nf.GPUs...)
		g := gpuBuf[start:len(gpuBuf):len(gpuBuf)]
		if !slices.IsSorted(g) {
			slices.Sort(g)
		}
		p.nodes[i] = nodeState{node: nf.Node, up: nf.Node.State == api.NodeUp, cpus: nf.CPUs, mem: nf.MemBytes, gpus: g}
	}
}

func (p *pass) nodeIndex(name string) int32 {
	i, ok := slices.BinarySearchFunc(p.nodes, name, func(n nodeState, name string) int {
		return strings.Compare(n.node.Name, name)
	})
	if !ok {
		return -1
	}
	return int32(i)
}

func (p *pass) buildPartitions() {
	in := p.in
	last := map[string]int{} // the last definition of a name wins
	for i := range in.Partitions {
		last[in.Partitions[i].Name] = i
	}
	idx := make([]int, 0, len(last))
	for _, i := range last {
		idx = append(idx, i)
	}
	slices.SortFunc(idx, func(a, b int) int { return strings.Compare(in.Partitions[a].Name, in.Partitions[b].Name) })
	p.parts = make([]partState, len(idx))
	for k, i := range idx {
		pp := &in.Partitions[i]
		ps := &p.parts[k]
		ps.p, ps.up = pp, pp.State == "" || pp.State == "UP"
		if len(pp.Nodes) > 0 {
			for _, name := range pp.Nodes {
				if ni := p.nodeIndex(name); ni >= 0 && p.nodes[ni].up {
					ps.members = append(ps.members, ni)
				}
			}
			slices.Sort(ps.members)
			ps.members = slices.Compact(ps.members)
		} else {
			for ni := range p.nodes {
				if p.nodes[ni].up && InPartition(p.nodes[ni].node, pp) {
					ps.members = append(ps.members, int32(ni))
				}
			}
		}
		if p.mode == modeConservative || !ps.up {
			continue
		}
		ps.tree = newFitTree(len(ps.members))
		for pos, ni := range ps.members {
			n := &p.nodes[ni]
			ps.tree.set(pos, n.cpus, n.mem, len(n.gpus))
			n.slots = append(n.slots, slot{part: int32(k), pos: int32(pos)})
		}
	}
}

func (p *pass) partIndex(name string) int32 {
	i, ok := slices.BinarySearchFunc(p.parts, name, func(ps partState, name string) int {
		return strings.Compare(ps.p.Name, name)
	})
	if !ok {
		return -1
	}
	return int32(i)
}

// buildProfiles gives every UP node its timeline: free now, then each
// running job's resources back at its deadline (an overdue job's as soon
// as possible, an unlimited job's never).
func (p *pass) buildProfiles() {
	type release struct {
		node int32
		at   int64
		d    demand
	}
	var rel []release
	for _, j := range p.in.Running {
		if j.Deadline.IsZero() {
			continue
		}
		at := int64(j.Deadline.Sub(p.in.Now))
		at = max(at, 1)
		for i := range j.Allocs {
			a := &j.Allocs[i]
			ni := p.nodeIndex(a.Node)
			if a.Done || ni < 0 || !p.nodes[ni].up {
				continue
			}
			rel = append(rel, release{node: ni, at: at, d: demand{cpus: a.CPUs, mem: a.MemBytes, gpus: len(a.GPUs)}})
		}
	}
	slices.SortFunc(rel, func(a, b release) int {
		return cmp.Or(cmp.Compare(a.node, b.node), cmp.Compare(a.at, b.at))
	})
	const slack = 6 // room for placements and reservations before a re-allocation
	buf := make([]step, 0, len(rel)+(1+slack)*len(p.nodes))
	r := 0
	for ni := range p.nodes {
		n := &p.nodes[ni]
		start := len(buf)
		cur := step{cpus: n.cpus, mem: n.mem, gpus: len(n.gpus)}
		buf = append(buf, cur)
		for ; r < len(rel) && rel[r].node == int32(ni); r++ {
			e := &rel[r]
			cur.cpus += e.d.cpus
			cur.mem += e.d.mem
			cur.gpus += e.d.gpus
			if buf[len(buf)-1].at == e.at {
				buf[len(buf)-1] = step{at: e.at, cpus: cur.cpus, mem: cur.mem, gpus: cur.gpus}
				continue
			}
			cur.at = e.at
			buf = append(buf, cur)
		}
		end := len(buf)
		buf = buf[:min(end+slack, cap(buf))]
		n.prof = profile(buf[start:end:len(buf)])
	}
}

// order computes every pending job's priority and sorts the queue.
func (p *pass) order() []entry {
	in := p.in
	cfg := &in.Config.Priority
	var ctx *priority.Context
	if !cfg.zero() {
		totals := in.Totals
		if totals == (api.TRES{}) {
			for _, n := range in.Nodes {
				if n.Node.State == api.NodeUp {
					totals.CPUs += n.Node.CPUs
					totals.MemBytes += n.Node.MemBytes
					totals.GPUs += len(n.Node.GPUs)
					totals.Nodes++
				}
			}
		}
		w := priority.Weights{Age: cfg.WeightAge, FairShare: cfg.WeightFairShare, JobSize: cfg.WeightJobSize,
			Partition: cfg.WeightPartition, QOS: cfg.WeightQOS, TRES: cfg.WeightTRES, MaxAge: cfg.MaxAge,
			FavorSmall: cfg.FavorSmall, Site: cfg.Site}
		ctx = priority.NewContext(in.Now, w, in.FairShare, totals, in.Partitions, in.QOS)
	}
	var q []entry // not sized by Pending: held jobs get no entry
	for _, j := range in.Pending {
		if j.State != api.StatePending {
			continue
		}
		if j.Spec.Hold {
			// Decided without a priority, a place in the queue or an
			// entry in the plan (a held job's priority is 0 in Slurm
			// too; its reason is its own, set when it was held): a
			// million held jobs cost a pass no sorting and no memory.
			p.plan.Stats.Considered++
			continue
		}
		e := entry{job: j, prio: j.Priority, sec: j.SubmitTime.Unix(), nsec: j.SubmitTime.Nanosecond(),
			part: p.partIndex(j.Spec.Partition)}
		if ctx != nil {
			e.prio = ctx.Compute(j).Priority
		}
		if e.part >= 0 {
			e.tier = p.parts[e.part].p.PriorityTier
		}
		p.plan.Priorities[j.ID] = e.prio
		q = append(q, e)
	}
	slices.SortFunc(q, compareEntries)
	return q
}

// compareEntries is the queue order: partition tier desc, then priority
// desc, submit time, ID (Before for the last three).
func compareEntries(a, b entry) int {
	switch {
	case a.tier != b.tier:
		return cmp.Compare(b.tier, a.tier)
	case a.prio != b.prio:
		return cmp.Compare(b.prio, a.prio)
	case a.sec != b.sec:
		return cmp.Compare(a.sec, b.sec)
	case a.nsec != b.nsec:
		return cmp.Compare(a.nsec, b.nsec)
	}
	return cmp.Compare(a.job.ID, b.job.ID)
}

// zero reports whether every weight is zero: Slurm's priority/basic, where
// jobs keep their stored priority.
func (c *PriorityConfig) zero() bool {
	for _, w := range c.WeightTRES {
		if w != 0 {
			return false
		}
	}
	return c.WeightAge == 0 && c.WeightFairShare == 0 && c.WeightJobSize == 0 &&
		c.WeightPartition == 0 && c.WeightQOS == 0 && c.Site == 0
}

// run takes the queue in order and decides every job, then plans
// preemptions for the jobs left waiting.
func (p *pass) run() {
	q := p.order()
	for _, e := range q {
		j := e.job
		p.plan.Stats.Considered++
		switch {
		case p.in.Blocked[j.ID] != "":
			p.plan.Reasons[j.ID] = p.in.Blocked[j.ID]
			continue
		case j.IsArrayTask() && p.throttled(j):
			p.plan.Reasons[j.ID] = api.ReasonArrayTaskLimit
			continue
		case e.part < 0:
			p.plan.Reasons[j.ID] = api.ReasonNodeNotAvail
			continue
		case !p.parts[e.part].up:
			p.plan.Reasons[j.ID] = api.ReasonPartitionDown
			continue
		}
		if r := p.qos.check(j); r != "" {
			p.plan.Reasons[j.ID] = r
			continue
		}
		d := demand{cpus: j.Spec.CPUsOnNode(), mem: j.Spec.MemBytes, gpus: j.Spec.GPUsOnNode(), dur: inf}
		if tl := j.Spec.TimeLimit; tl > 0 && tl < inf/int64(time.Second) {
			d.dur = tl * int64(time.Second)
		}
		if s := j.Spec; hasRequirement(s, d.gpus) {
			d.req = p.requirement(s, d.gpus)
		}
		switch {
		case j.Spec.Gang():
			p.gang(&e, &d)
		case p.mode == modeNone:
			p.strict(&e, &d)
		case p.mode == modeEASY:
			p.easy(&e, &d)
		case p.mode == modeConservative:
			p.conservative(&e, &d)
		}
	}
	p.preempt(q)
}

func (p *pass) wait(e *entry, reason string) {
	p.plan.Reasons[e.job.ID] = reason
}

// place starts the job on node ni now.
func (p *pass) place(e *entry, ni int32, d *demand) {
	a := p.take(e, ni, d, topology.Options{})
	p.placed(e, []api.Allocation{a})
}

// take allocates d on node ni now and returns the allocation.
func (p *pass) take(e *entry, ni int32, d *demand, opts topology.Options) api.Allocation {
	n := &p.nodes[ni]
	a := api.Allocation{Node: n.node.Name, CPUs: d.cpus, MemBytes: d.mem}
	if d.gpus > 0 {
		// The best-connected set that strands the fewest good GPUs (the
		// lowest free indices when the topology is unknown).
		free := n.gpus
		if d.req != nil && d.req.gpu {
			free = p.matchingFree(d.req, ni, e.part)
		}
		a.GPUs = topology.Select(n.node.Topology, free, d.gpus, opts)
		n.gpus = without(n.gpus, a.GPUs)
	}
	n.cpus -= d.cpus
	n.mem -= d.mem
	if p.mode != modeNone {
		n.prof.take(d, 0)
		n.ver++
	}
	for _, s := range n.slots {
		p.parts[s.part].tree.set(int(s.pos), n.cpus, n.mem, len(n.gpus))
	}
	return a
}

// throttled reports whether array task j must wait for others of its
// array to end (--array=...%N).
func (p *pass) throttled(j *api.Job) bool {
	t := api.ArrayThrottle(j.Spec.Array)
	return t > 0 && p.arrayLive[j.ArrayJobID] >= t
}

// placed records a job started on its allocations.
func (p *pass) placed(e *entry, allocs []api.Allocation) {
	// What it got (a whole node for --exclusive), not what it asked.
	held := api.Job{Allocs: allocs}
	t := held.AllocTotals()
	p.qos.add(e.job, usage{jobs: 1, cpus: t.CPUs, mem: t.MemBytes, gpus: t.GPUs, nodes: t.Nodes})
	p.plan.Placements = append(p.plan.Placements, Placement{JobID: e.job.ID, Allocs: allocs})
	if j := e.job; j.IsArrayTask() && api.ArrayThrottle(j.Spec.Array) > 0 {
		p.arrayLive[j.ArrayJobID]++
	}
	if p.parts[e.part].waiting {
		p.plan.Stats.Backfilled++
	} else {
		p.plan.Stats.Started++
	}
}

// reserve books node ni for the job from at on.
func (p *pass) reserve(e *entry, ni int32, d *demand, at int64) {
	n := &p.nodes[ni]
	n.prof.take(d, at)
	n.ver++
	n.resv++
	r := Reservation{JobID: e.job.ID, Node: n.node.Name, Start: p.in.Now.Add(time.Duration(at)),
		CPUs: d.cpus, MemBytes: d.mem, GPUs: d.gpus}
	if end := addSat(at, d.dur); end < inf {
		r.End = p.in.Now.Add(time.Duration(end))
	}
	p.plan.Starts[e.job.ID] = r.Start
	p.plan.Reservations = append(p.plan.Reservations, r)
	p.plan.Stats.Reserved++
}

// without returns free minus the (sorted) taken indices, in a new slice.
func without(free, taken []int) []int {
	out := make([]int, 0, len(free)-len(taken))
	for _, g := range free {
		if !slices.Contains(taken, g) {
			out = append(out, g)
		}
	}
	return out
}
