package sched

import (
	"slices"
	"time"

	"github.com/gsched/gsched/pkg/api"
	"github.com/gsched/gsched/pkg/topology"
)

// Gang jobs: several nodes (--nodes > 1), whole nodes (--exclusive) or a
// leaf-switch bound (--switches). A gang is placed in one decision, on all
// of its nodes, or not at all: nothing is held for it in between, so two
// gangs can never deadlock each other on partial holds. While it waits it
// may get a backfill reservation on all of its nodes at one start time,
// which later jobs must not delay (modes easy and conservative), so a
// stream of small jobs cannot starve it.
//
// Nodes are chosen among those that can take the per-node demand, in name
// order, through the network topology (Input.Network): the fewest leaf
// switches, best fit (see topology.Network.Select). With Spec.Switches the
// job takes at most that many leaf switches until Spec.SwitchWait has passed
// since it was submitted, then any nodes.
//
// Gang jobs do not preempt, and are not preempted (see preempt.go).

// maxGangTimes bounds the start times tried for one gang reservation.
const maxGangTimes = 256

// gangCand is a node that could ever hold a gang's per-node demand.
type gangCand struct {
	ni int32
	en *eligNode // nil without requirements
	d  demand    // the demand on this node (whole node for --exclusive)
	at int64     // earliest start on the node alone (reservations only)

	// must: a listed node (--nodelist) the gang must include.
	must bool
}

// gang decides a gang job (see above).
func (p *pass) gang(e *entry, d *demand) {
	ps := &p.parts[e.part]
	j := e.job
	if p.mode == modeConservative {
		if m := p.in.Config.Backfill.MaxJobTest; m > 0 && p.tested >= m {
			ps.waiting = true
			p.wait(e, api.ReasonPriority)
			return
		}
		p.tested++
	}
	if p.mode == modeNone && ps.blocked {
		p.wait(e, api.ReasonPriority)
		return
	}
	nn := j.Spec.NodeCount()
	maxLeaves := p.switchBound(j)
	sh := p.gangShape(e, d, nn, maxLeaves)
	cands := sh.cands
	must := mustOf(d.req)
	if len(cands) < nn || must > 0 && pickMust(cands, nn, must) == nil {
		// Not enough nodes (or not every listed one) could ever take
		// it: it blocks nothing.
		p.wait(e, api.ReasonNodeNotAvail)
		return
	}
	if !sh.noNow {
		if allocs := p.gangNow(e, cands, nn, maxLeaves, must); allocs != nil {
			p.placed(e, allocs)
			return
		}
		sh.noNow = true
	}
	ps.waiting = true
	switch p.mode {
	case modeNone:
		ps.blocked = true
		p.wait(e, api.ReasonResources)
		return
	case modeEASY:
		if ps.reserved {
			p.wait(e, api.ReasonPriority)
			return
		}
	}
	p.wait(e, api.ReasonResources)
	if sh.never {
		return
	}
	at, chosen := p.gangEarliest(cands, nn, maxLeaves, must)
	if chosen == nil {
		sh.never = true
		return // beyond the window: no reservation
	}
	for _, c := range chosen {
		p.reserve(e, c.ni, &c.d, at)
	}
	p.plan.Stats.Reserved -= len(chosen) - 1 // one job, several nodes
	if p.mode == modeEASY {
		ps.reserved = true
	}
}

// gangKey identifies gang jobs that are interchangeable for placement.
type gangKey struct {
	shapeKey
	req       int32
	nodes     int32
	maxLeaves int32
	exclusive bool
}

// gangState caches, per gangKey, the candidate nodes (fixed during a
// pass) and the verdicts that only get truer as the pass goes on: free
// resources only shrink and reservations only grow (see shape).
type gangState struct {
	cands        []gangCand
	noNow, never bool
}

func (p *pass) gangShape(e *entry, d *demand, nn, maxLeaves int) *gangState {
	k := gangKey{shapeKey: shapeKey{part: e.part, gpus: int32(d.gpus), cpus: d.cpus, mem: d.mem, dur: d.dur},
		nodes: int32(nn), maxLeaves: int32(maxLeaves), exclusive: e.job.Spec.Exclusive}
	if d.req != nil {
		k.req = d.req.id
	}
	if g := p.gangs[k]; g != nil {
		return g
	}
	if p.gangs == nil {
		p.gangs = map[gangKey]*gangState{}
	}
	g := &gangState{cands: p.gangCands(e, d)}
	p.gangs[k] = g
	return g
}

// switchBound is the job's leaf-switch bound now (0: none).
func (p *pass) switchBound(j *api.Job) int {
	s := j.Spec
	if s.Switches <= 0 {
		return 0
	}
	if s.SwitchWait > 0 && !p.in.Now.Before(j.SubmitTime.Add(time.Duration(s.SwitchWait)*time.Second)) {
		return 0
	}
	return s.Switches
}

// gangCands returns the partition's nodes that could ever hold the job's
// per-node demand, with their features and matching GPUs, in name order.
func (p *pass) gangCands(e *entry, d *demand) []gangCand {
	ps := &p.parts[e.part]
	var out []gangCand
	add := func(ni int32, en *eligNode) {
		n := &p.nodes[ni]
		if !n.holdsEver(d) {
			return // what it asks for is more than the node has
		}
		dn := *d
		if e.job.Spec.Exclusive {
			// The whole node; with a GPU type or memory requirement,
			// every GPU that meets it (the others stay idle).
			dn.cpus, dn.mem, dn.gpus = n.node.CPUs, n.node.MemBytes, len(n.node.GPUs)
			if en != nil && d.req.gpu {
				dn.gpus = int(en.total)
			}
		}
		if en != nil && d.req.gpu && int(en.total) < d.gpus {
			return
		}
		out = append(out, gangCand{ni: ni, en: en, d: dn, must: d.req != nil && d.req.names.must[n.node.Name]})
	}
	if d.req != nil {
		elig := p.eligible(d.req, e.part)
		for i := range elig {
			add(elig[i].ni, &elig[i])
		}
		return out
	}
	for _, ni := range ps.members {
		add(ni, nil)
	}
	return out
}

// fitsNow reports whether the candidate can start its demand now without
// delaying a reservation.
func (p *pass) gangFitsNow(c *gangCand) bool {
	if c.en != nil {
		return p.fitsNowReq(c.en, &c.d)
	}
	n := &p.nodes[c.ni]
	if n.cpus < c.d.cpus || n.mem < c.d.mem || len(n.gpus) < c.d.gpus {
		return false
	}
	return n.resv == 0 || n.prof.fits(&c.d, 0)
}

// gangNow places the gang now if enough nodes can take it, and returns its
// allocations (head node first), or nil.
func (p *pass) gangNow(e *entry, cands []gangCand, nn, maxLeaves, must int) []api.Allocation {
	var ok []gangCand
	for i := range cands {
		if p.gangFitsNow(&cands[i]) {
			ok = append(ok, cands[i])
		}
	}
	chosen := p.pickNodes(ok, nn, maxLeaves, must)
	if chosen == nil {
		return nil
	}
	opts := topology.Options{NearNIC: nn > 1}
	allocs := make([]api.Allocation, len(chosen))
	for i := range chosen {
		allocs[i] = p.take(e, chosen[i].ni, &chosen[i].d, opts)
	}
	return allocs
}

// pickNodes chooses nn of the candidates through the network topology, in
// name order; nil if it cannot within maxLeaves leaf switches. With must
// listed nodes to include, pickMust chooses instead.
func (p *pass) pickNodes(cands []gangCand, nn, maxLeaves, must int) []gangCand {
	if len(cands) < nn {
		return nil
	}
	if must > 0 {
		return pickMust(cands, nn, must)
	}
	if p.in.Network == nil && maxLeaves == 0 {
		return cands[:nn]
	}
	names := make([]string, len(cands))
	for i := range cands {
		names[i] = p.nodes[cands[i].ni].node.Name
	}
	chosen, _, ok := p.in.Network.Select(names, nn, maxLeaves)
	if !ok {
		return nil
	}
	out := make([]gangCand, 0, nn)
	k := 0
	for i := range cands {
		if k < len(chosen) && names[i] == chosen[k] {
			out = append(out, cands[i])
			k++
		}
	}
	if len(out) != nn {
		return nil
	}
	return out
}

// gangEarliest finds the earliest start within the window at which nn
// candidates can all hold the demand for the whole run, and the nodes.
// A node can host the job at t only if t is no earlier than its own
// earliest start; the times tried are the nn-th earliest node start and
// every later step start of the candidates' timelines (at most
// maxGangTimes of them).
func (p *pass) gangEarliest(cands []gangCand, nn, maxLeaves, must int) (int64, []gangCand) {
	live := cands[:0:0]
	for i := range cands {
		c := cands[i]
		n := &p.nodes[c.ni]
		c.at = n.prof.earliest(&c.d, 0, p.limit, p.round)
		if c.at == 0 && !p.gangFitsNow(&c) {
			c.at = inf
			if len(n.prof) > 1 {
				if lb := p.round.up(n.prof[1].at); lb <= p.limit {
					c.at = n.prof.earliest(&c.d, lb, p.limit, p.round)
				}
			}
		}
		if c.at < inf {
			live = append(live, c)
		}
	}
	if len(live) < nn {
		return inf, nil
	}
	// Before the nn-th earliest node start, too few nodes are free. After
	// it, a node with reservations may be free, busy, then free again, so
	// its later step starts are candidates too.
	ats := make([]int64, len(live))
	for i := range live {
		ats[i] = live[i].at
	}
	slices.Sort(ats)
	lb := ats[nn-1]
	times := []int64{lb}
	for i := range live {
		prof := p.nodes[live[i].ni].prof
		for k := range prof {
			if t := p.round.up(prof[k].at); t > lb && t <= p.limit {
				times = append(times, t)
			}
		}
	}
	slices.Sort(times)
	times = slices.Compact(times)
	if len(times) > maxGangTimes {
		times = times[:maxGangTimes]
	}
	for _, t := range times {
		var ok []gangCand
		for i := range live {
			c := &live[i]
			if c.at > t {
				continue
			}
			if t == 0 || p.nodes[c.ni].prof.fits(&c.d, t) {
				ok = append(ok, *c)
			}
		}
		if chosen := p.pickNodes(ok, nn, maxLeaves, must); chosen != nil {
			return t, chosen
		}
	}
	return inf, nil
}
