package sched

import "github.com/gsched/gsched/pkg/api"

// strict is mode none: first fit by node name; the first job of a
// partition that cannot start blocks the rest of the partition.
func (p *pass) strict(e *entry, d *demand) {
	ps := &p.parts[e.part]
	switch {
	case ps.blocked:
		p.wait(e, api.ReasonPriority)
	case len(ps.members) == 0:
		ps.blocked = true
		p.wait(e, api.ReasonNodeNotAvail)
	case d.req != nil:
		elig := p.eligible(d.req, e.part)
		if !anyEligible(elig, d) {
			// No node could ever take it: it does not block the others.
			p.wait(e, api.ReasonNodeNotAvail)
			return
		}
		ni := p.firstFitReq(elig, d)
		if ni < 0 {
			ps.blocked = true
			p.wait(e, api.ReasonResources)
			return
		}
		p.place(e, ni, d)
	default:
		pos := ps.tree.find(0, d)
		if pos < 0 {
			ps.blocked = true
			p.wait(e, api.ReasonResources)
			return
		}
		p.place(e, ps.members[pos], d)
	}
}

func (p *pass) shape(e *entry, d *demand) *shape {
	k := shapeKey{part: e.part, gpus: int32(d.gpus), cpus: d.cpus, mem: d.mem, dur: d.dur}
	if d.req != nil {
		return p.reqShape(reqShapeKey{shapeKey: k, req: d.req.id})
	}
	s := p.shapes[k]
	if s == nil {
		s = &shape{}
		p.shapes[k] = s
	}
	return s
}

func (p *pass) reqShape(k reqShapeKey) *shape {
	s := p.reqShapes[k]
	if s == nil {
		if p.reqShapes == nil {
			p.reqShapes = map[reqShapeKey]*shape{}
		}
		s = &shape{}
		p.reqShapes[k] = s
	}
	return s
}

// easy is EASY backfill: the first job of each partition that cannot
// start gets a reservation; later ones start only where they delay no
// reservation (of any partition), else wait with reason Priority.
func (p *pass) easy(e *entry, d *demand) {
	ps := &p.parts[e.part]
	if len(ps.members) == 0 {
		p.wait(e, api.ReasonNodeNotAvail)
		return
	}
	var elig []eligNode
	if d.req != nil {
		if elig = p.eligible(d.req, e.part); !anyEligible(elig, d) {
			p.wait(e, api.ReasonNodeNotAvail)
			return
		}
	}
	sh := p.shape(e, d)
	if !sh.noNow {
		if ni := p.fitNow(ps, elig, d); ni >= 0 {
			p.place(e, ni, d)
			return
		}
		sh.noNow = true
	}
	ps.waiting = true
	switch {
	case ps.reserved:
		p.wait(e, api.ReasonPriority)
		return
	case sh.never:
		p.wait(e, api.ReasonResources)
		return
	}
	at, ni := p.earliestScan(ps, elig, d)
	if ni < 0 {
		// Beyond the window (or never): no reservation, and the next job
		// of the partition that cannot start may have one.
		sh.never = true
		p.wait(e, api.ReasonResources)
		return
	}
	p.reserve(e, ni, d, at)
	ps.reserved = true
	p.wait(e, api.ReasonResources)
}

// fitNow returns the first node (by name) of the partition where d can
// start now and run to its end without delaying any reservation, or -1.
// Only nodes holding a reservation need their timeline checked: on the
// others free resources never shrink over time. A job with requirements
// scans its eligible nodes (elig) instead of the fit tree.
func (p *pass) fitNow(ps *partState, elig []eligNode, d *demand) int32 {
	if d.req != nil {
		return p.firstFitReq(elig, d)
	}
	for from := 0; ; {
		pos := ps.tree.find(from, d)
		if pos < 0 {
			return -1
		}
		ni := ps.members[pos]
		if n := &p.nodes[ni]; n.resv == 0 || n.prof.fits(d, 0) {
			return ni
		}
		from = pos + 1
	}
}

// earliestScan returns the earliest start of d within the window over the
// partition's nodes, and the node (the first by name among the earliest);
// -1 if there is none. A job with requirements looks only at its eligible
// nodes (elig).
func (p *pass) earliestScan(ps *partState, elig []eligNode, d *demand) (int64, int32) {
	if d.req != nil {
		return p.earliestReq(elig, d)
	}
	best, bn := int64(inf), int32(-1)
	for _, ni := range ps.members {
		n := &p.nodes[ni]
		if !n.holdsEver(d) {
			continue
		}
		limit := p.limit
		if best < inf {
			limit = best - 1 // only a strictly earlier start beats an earlier node
		}
		if at := n.prof.earliest(d, 0, limit, p.round); at < best {
			best, bn = at, ni
			if at == 0 {
				break
			}
		}
	}
	return best, bn
}

// conservative is conservative backfill: each job tested, in queue order,
// starts now if that delays no reservation, else gets a reservation at its
// earliest start given all earlier ones. Jobs past MaxJobTest are not
// tested and wait with reason Priority.
func (p *pass) conservative(e *entry, d *demand) {
	ps := &p.parts[e.part]
	if m := p.in.Config.Backfill.MaxJobTest; m > 0 && p.tested >= m {
		ps.waiting = true
		p.wait(e, api.ReasonPriority)
		return
	}
	p.tested++
	if len(ps.members) == 0 {
		p.wait(e, api.ReasonNodeNotAvail)
		return
	}
	sh := p.shape(e, d)
	var at int64 = inf
	var ni int32 = -1
	switch {
	case d.req != nil:
		// A scan of the eligible nodes: start now on the first that
		// fits, else the earliest start.
		elig := p.eligible(d.req, e.part)
		if !anyEligible(elig, d) {
			p.wait(e, api.ReasonNodeNotAvail)
			return
		}
		if !sh.noNow {
			if ni = p.firstFitReq(elig, d); ni >= 0 {
				p.place(e, ni, d)
				return
			}
			sh.noNow = true
		}
		if !sh.never {
			at, ni = p.earliestReq(elig, d)
		}
	case !sh.never:
		at, ni = p.earliestHeap(sh, ps, d)
	}
	if ni >= 0 && at == 0 {
		p.place(e, ni, d)
		return
	}
	ps.waiting = true
	p.wait(e, api.ReasonResources)
	if ni < 0 {
		sh.never = true
		return
	}
	p.reserve(e, ni, d, at)
}

// earliestHeap is earliestScan for conservative backfill, where every job
// reserves and a scan per job would cost O(nodes). Each shape keeps a heap
// of (start, node) over the partition's nodes. Timelines only shrink during
// a pass, so an entry computed before its node last changed is a lower
// bound: the top is recomputed until it is current, and then it is the
// true minimum.
func (p *pass) earliestHeap(sh *shape, ps *partState, d *demand) (int64, int32) {
	if !sh.built {
		sh.built = true
		sh.heap = make([]cand, 0, len(ps.members))
		for _, ni := range ps.members {
			n := &p.nodes[ni]
			if !n.holdsEver(d) {
				continue
			}
			if at := n.prof.earliest(d, 0, p.limit, p.round); at < inf {
				sh.heap = append(sh.heap, cand{at: at, node: ni, ver: n.ver})
			}
		}
		heapify(sh.heap)
	}
	for len(sh.heap) > 0 {
		c := &sh.heap[0]
		n := &p.nodes[c.node]
		if c.ver == n.ver {
			return c.at, c.node
		}
		at := n.prof.earliest(d, c.at, p.limit, p.round)
		if at == inf {
			sh.heap = pop(sh.heap)
			continue
		}
		c.at, c.ver = at, n.ver
		siftDown(sh.heap, 0)
	}
	return inf, -1
}

// cand is a node's earliest start for a shape as of version ver.
type cand struct {
	at   int64
	node int32
	ver  uint32
}

func (a cand) less(b cand) bool {
	return a.at < b.at || a.at == b.at && a.node < b.node
}

func heapify(h []cand) {
	for i := len(h)/2 - 1; i >= 0; i-- {
		siftDown(h, i)
	}
}

func siftDown(h []cand, i int) {
	for {
		l := 2*i + 1
		if l >= len(h) {
			return
		}
		m := l
		if r := l + 1; r < len(h) && h[r].less(h[l]) {
			m = r
		}
		if !h[m].less(h[i]) {
			return
		}
		h[i], h[m] = h[m], h[i]
		i = m
	}
}

func pop(h []cand) []cand {
	last := len(h) - 1
	h[0] = h[last]
	h = h[:last]
	siftDown(h, 0)
	return h
}
