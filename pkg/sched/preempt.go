package sched

import (
	"cmp"
	"slices"
	"strings"
	"time"

	"github.com/gsched/gsched/pkg/api"
)

// Preemption planning (Slurm's preempt/qos, simplified) runs after the
// placement pass, over the jobs it left waiting with reason Resources, in
// queue order. A waiting job W whose QOS lists other QOS in Preempt may stop
// running jobs of those QOS on one node of its partition so that it can
// start there in a later pass; it is not placed in this pass and keeps its
// reason. See preempt for the rules.

// amount is CPUs, memory and a GPU count on one node.
type amount struct {
	cpus int
	mem  int64
	gpus int
}

func (a amount) plus(b amount) amount {
	return amount{cpus: a.cpus + b.cpus, mem: a.mem + b.mem, gpus: a.gpus + b.gpus}
}

func (a amount) minus(b amount) amount {
	return amount{cpus: a.cpus - b.cpus, mem: a.mem - b.mem, gpus: a.gpus - b.gpus}
}

func (a amount) holds(d *demand) bool {
	return a.cpus >= d.cpus && a.mem >= d.mem && a.gpus >= d.gpus
}

func allocAmount(a *api.Allocation) amount {
	return amount{cpus: a.CPUs, mem: a.MemBytes, gpus: len(a.GPUs)}
}

// preemptQOS is what preemption needs to know of one QOS.
type preemptQOS struct {
	// mode is api.PreemptCancel or api.PreemptRequeue, or "" when the
	// QOS's jobs cannot be preempted (PreemptMode empty, OFF or unknown).
	mode  string
	grace time.Duration
	// targets are the QOS this QOS's waiting jobs may preempt (its
	// Preempt list without itself); empty: it preempts nothing.
	targets map[string]bool
}

// newPreemptQOS indexes the QOS by name (the last definition of a name
// wins, as for limits). It returns nil when no QOS may preempt a QOS whose
// jobs can be preempted: then the phase is skipped.
func newPreemptQOS(qos []api.QOS) map[string]*preemptQOS {
	if !slices.ContainsFunc(qos, func(q api.QOS) bool { return len(q.Preempt) > 0 }) {
		return nil
	}
	m := map[string]*preemptQOS{}
	for i := range qos {
		q := &qos[i]
		pq := &preemptQOS{grace: time.Duration(max(q.GraceTime, 0)) * time.Second}
		switch strings.ToUpper(q.PreemptMode) {
		case api.PreemptCancel:
			pq.mode = api.PreemptCancel
		case api.PreemptRequeue:
			pq.mode = api.PreemptRequeue
		}
		for _, t := range q.Preempt {
			if t != q.Name {
				if pq.targets == nil {
					pq.targets = map[string]bool{}
				}
				pq.targets[t] = true
			}
		}
		m[q.Name] = pq
	}
	for _, pq := range m {
		for t := range pq.targets {
			if v := m[t]; v != nil && v.mode != "" {
				return m
			}
		}
	}
	return nil
}

// preemptNode is a node as the preemption phase sees it.
type preemptNode struct {
	// extra is what comes free on the node for preemptors beyond its free
	// resources: jobs already stopping plus the victims chosen in this
	// pass, minus what earlier preemptors of the pass counted on.
	extra amount
	// cands are the node's preemptable running jobs in victim order:
	// priority ascending, then youngest first, then ID descending.
	cands []*api.Job
	taken []bool // per cand: already a victim in this pass
	// stopping are the node's stopping jobs (for matching GPU counts).
	stopping []*api.Job
}

// preemptKey identifies waiting jobs for which preemption finds the same
// answer. Once it found no node for one, it finds none for the next as
// long as no victim is chosen: until then what may come free only shrinks
// (preemptors covered by free and stopping resources count on them). A
// victim set can leave more than its preemptor needs, for preemptors of
// other QOS too, so choosing one forgets the failures.
type preemptKey struct {
	part int32
	qos  string
	cpus int
	mem  int64
	gpus int
	req  int32 // requirement set's id, 0: none
}

// preemptNodes builds the per-node view: what stopping jobs give back and
// which running jobs could be victims (their QOS has a preempt mode and
// some QOS may preempt it).
func (p *pass) preemptNodes(pq map[string]*preemptQOS) []preemptNode {
	targeted := map[string]bool{}
	for _, q := range pq {
		for t := range q.targets {
			targeted[t] = true
		}
	}
	nodes := make([]preemptNode, len(p.nodes))
	for _, j := range p.in.Running {
		for i := range j.Allocs {
			a := &j.Allocs[i]
			ni := p.nodeIndex(a.Node)
			if a.Done || ni < 0 || !p.nodes[ni].up {
				continue
			}
			pn := &nodes[ni]
			switch {
			case j.Stopping():
				pn.extra = pn.extra.plus(allocAmount(a))
				pn.stopping = append(pn.stopping, j)
			case j.State == api.StateRunning && len(j.Allocs) == 1 && targeted[j.Spec.QOS] && pq[j.Spec.QOS].mode != "":
				// Only single-node jobs are victims: stopping a gang
				// for one node's worth would waste the rest.
				pn.cands = append(pn.cands, j)
			}
		}
	}
	for i := range nodes {
		pn := &nodes[i]
		if len(pn.cands) == 0 {
			continue
		}
		slices.SortFunc(pn.cands, func(a, b *api.Job) int {
			return cmp.Or(cmp.Compare(a.Priority, b.Priority), b.StartTime.Compare(a.StartTime), cmp.Compare(b.ID, a.ID))
		})
		pn.taken = make([]bool, len(pn.cands))
	}
	return nodes
}

// victimSet is the victims chosen for a job on one node.
type victimSet struct {
	node    int32
	idx     []int // into the node's cands, in victim order
	cpuTime int64 // CPU-seconds the victims have run
}

// preempt plans preemptions after the pass (q is the queue in order).
// A job W is a preemptor if it waits with reason Resources (so not held,
// its partition known and UP, no QOS limit, and not behind a waiting job
// of higher priority: a job waiting with reason Priority would not get
// the resources freed for it), its QOS has a Preempt list, and its QOS
// limits still let it start, counting the jobs placed in the pass and the
// earlier preemptors. On each UP node of W's partition, in name order, W
// may use: free now (after the pass's placements) + resources of stopping
// jobs (COMPLETING or cancel requested) + victims, minus what earlier
// preemptors counted on there.
//   - If free + stopping covers W on some node, the first such node is
//     counted on for W and nothing is preempted.
//   - Otherwise, on each node, victims are taken greedily from the RUNNING
//     jobs whose QOS is in W's Preempt list (never W's own QOS) and has a
//     preempt mode, in victim order, until W fits; a node where W does not
//     fit with all of them is unusable. The node chosen has the fewest
//     victims, then the least CPU time already run by its victims
//     (CPUs × seconds since start: the least work lost), then the first
//     name.
//
// Victims are not reused, and what W counted on is not counted again for
// another preemptor. W is not placed; it starts in a later pass, once its
// victims have ended.
func (p *pass) preempt(q []entry) {
	pq := newPreemptQOS(p.in.QOS)
	if pq == nil {
		return
	}
	var nodes []preemptNode // built for the first preemptor
	failed := map[preemptKey]bool{}
	for i := range q {
		e := &q[i]
		j := e.job
		wq := pq[j.Spec.QOS]
		if wq == nil || len(wq.targets) == 0 {
			continue
		}
		if p.plan.Reasons[j.ID] != api.ReasonResources || j.Spec.Gang() {
			continue
		}
		d := demand{cpus: j.Spec.CPUsOnNode(), mem: j.Spec.MemBytes, gpus: j.Spec.GPUsOnNode()}
		key := preemptKey{part: e.part, qos: j.Spec.QOS, cpus: d.cpus, mem: d.mem, gpus: d.gpus}
		if s := j.Spec; hasRequirement(s, d.gpus) {
			d.req = p.requirement(s, d.gpus)
			key.req = d.req.id
		}
		if failed[key] || p.qos.check(j) != "" {
			continue
		}
		if nodes == nil {
			nodes = p.preemptNodes(pq)
		}
		cs := p.candidates(e.part, &d)
		covered := false
		for k := range cs.len() {
			ni, en := cs.at(k)
			if pn := &nodes[ni]; p.preemptAvail(pn, ni, en, &d).holds(&d) {
				pn.extra = pn.extra.minus(amount{cpus: d.cpus, mem: d.mem, gpus: d.gpus})
				covered = true
				break
			}
		}
		if !covered {
			best, ok := p.chooseVictims(nodes, cs, wq, &d)
			if !ok {
				failed[key] = true
				continue
			}
			pn := &nodes[best.node]
			for _, c := range best.idx {
				v := pn.cands[c]
				pn.taken[c] = true
				pn.extra = pn.extra.plus(allocAmount(&v.Allocs[0]))
				vq := pq[v.Spec.QOS]
				p.plan.Preemptions = append(p.plan.Preemptions, Preemption{JobID: v.ID, For: j.ID, Mode: vq.mode, Grace: vq.grace})
			}
			p.plan.Stats.Preempted += len(best.idx)
			clear(failed)
			pn.extra = pn.extra.minus(amount{cpus: d.cpus, mem: d.mem, gpus: d.gpus})
		}
		// W counts against its QOS limits from now on, as if placed.
		p.qos.add(j, request(j))
	}
}

func (p *pass) freeAmount(ni int32) amount {
	n := &p.nodes[ni]
	return amount{cpus: n.cpus, mem: n.mem, gpus: len(n.gpus)}
}

// nodeCands are the nodes a preemptor may use: its partition's UP nodes,
// or, with requirements, the eligible ones.
type nodeCands struct {
	members []int32
	elig    []eligNode // used when non-nil
	req     bool
}

func (p *pass) candidates(part int32, d *demand) nodeCands {
	if d.req == nil {
		return nodeCands{members: p.parts[part].members}
	}
	return nodeCands{elig: p.eligible(d.req, part), req: true}
}

func (c nodeCands) len() int {
	if c.req {
		return len(c.elig)
	}
	return len(c.members)
}

// at returns the k-th node and, with requirements, its eligibility entry.
func (c nodeCands) at(k int) (int32, *eligNode) {
	if !c.req {
		return c.members[k], nil
	}
	return c.elig[k].ni, &c.elig[k]
}

// matchingOf counts the GPUs of an allocation on the node that match.
func matchingOf(r *req, en *eligNode, n *api.Node, gpus []int) int {
	c := 0
	for _, g := range gpus {
		if r.matches(en, n, g) {
			c++
		}
	}
	return c
}

// preemptAvail is what d may use on node ni before choosing victims:
// free + pn.extra. For a job with GPU requirements the GPU count is at
// most the matching GPUs among the free ones, those of stopping jobs and
// those of victims already chosen (what earlier preemptors counted on is
// subtracted from the total only).
func (p *pass) preemptAvail(pn *preemptNode, ni int32, en *eligNode, d *demand) amount {
	a := p.freeAmount(ni).plus(pn.extra)
	if en == nil || !d.req.gpu {
		return a
	}
	n := p.nodes[ni].node
	m := p.freeMatching(d.req, en)
	for _, j := range pn.stopping {
		if a := j.AllocOn(n.Name); a != nil {
			m += matchingOf(d.req, en, n, a.GPUs)
		}
	}
	for c, v := range pn.cands {
		if pn.taken[c] {
			m += matchingOf(d.req, en, n, v.Allocs[0].GPUs)
		}
	}
	a.gpus = min(a.gpus, m)
	return a
}

// chooseVictims returns the best victim set for d over the nodes (see
// preempt), and false if no node can hold d even with every victim.
func (p *pass) chooseVictims(nodes []preemptNode, cs nodeCands, wq *preemptQOS, d *demand) (victimSet, bool) {
	var best victimSet
	found := false
	var idx []int
	for k := range cs.len() {
		ni, en := cs.at(k)
		pn := &nodes[ni]
		if len(pn.cands) == 0 || !p.nodes[ni].holdsEver(d) || en != nil && int(en.total) < d.gpus {
			continue
		}
		avail := p.preemptAvail(pn, ni, en, d)
		matching := en != nil && d.req.gpu
		idx = idx[:0]
		var cpuTime int64
		fits := false
		for c, v := range pn.cands {
			if pn.taken[c] || !wq.targets[v.Spec.QOS] {
				continue
			}
			if found && len(idx) == len(best.idx) {
				break // more victims than the best node needs
			}
			idx = append(idx, c)
			va := allocAmount(&v.Allocs[0])
			if matching {
				va.gpus = matchingOf(d.req, en, p.nodes[ni].node, v.Allocs[0].GPUs)
			}
			avail = avail.plus(va)
			cpuTime += int64(v.Allocs[0].CPUs) * max(int64(p.in.Now.Sub(v.StartTime)/time.Second), 0)
			if avail.holds(d) {
				fits = true
				break
			}
		}
		if !fits {
			continue
		}
		if !found || len(idx) < len(best.idx) || len(idx) == len(best.idx) && cpuTime < best.cpuTime {
			best = victimSet{node: ni, idx: slices.Clone(idx), cpuTime: cpuTime}
			found = true
		}
	}
	return best, found
}
