package sched

import (
	"slices"

	"github.com/gsched/gsched/pkg/api"
)

// Job requirements beyond counts: a GPU model (JobSpec.GPUType), a least
// GPU memory (JobSpec.GPUMemMin), node features (JobSpec.Constraint) and
// named nodes (JobSpec.NodeList, JobSpec.Exclude: see nodelist.go).
// Jobs without any keep the fast path (fit tree, heap); jobs with some are
// a minority and scan their partition's eligible nodes in name order.
//
// A node is eligible for a job if it has every feature and, for a job with
// GPUs and a GPU requirement, at least as many matching GPUs in total as
// the job needs. The timelines count GPUs, not models: on a node whose
// GPUs do not all match, a job's future fit is judged by counts (now, the
// matching free GPUs are counted exactly).

// reqKey identifies a requirement set. GPU requirements of a job without
// GPUs are dropped.
type reqKey struct {
	gpuType    string
	gpuMem     int64
	constraint string
	nodes      nodesKey
}

// hasRequirement reports whether a job with spec s and gpus GPUs per node
// has a requirement set.
func hasRequirement(s *api.JobSpec, gpus int) bool {
	return s.Constraint != "" || s.NodeList != "" || s.Exclude != "" || gpus > 0 && (s.GPUType != "" || s.GPUMemMin > 0)
}

// req is one requirement set of the pass.
type req struct {
	id       int32        // 1-based, for shape and preemption keys
	match    api.JobSpec  // holds only GPUType and GPUMemMin, for GPUMatches
	gpu      bool         // a GPU type or memory requirement
	features []string     // from Constraint
	elig     [][]eligNode // per partition (index in pass.parts), built on first use
	built    []bool
	names    nodeNames // named nodes (nodelist.go)
}

// eligNode is a node of a partition that has the requirement's features,
// with its matching GPUs.
type eligNode struct {
	ni    int32
	total int32  // matching GPUs on the node
	mask  uint64 // matching GPU indices (when !slow)
	slow  bool   // some GPU index outside [0, 64): match one by one
}

// requirement returns the job's requirement set, nil if it has none.
func (p *pass) requirement(s *api.JobSpec, gpus int) *req {
	k := reqKey{constraint: s.Constraint, nodes: nodesKeyOf(s)}
	if gpus > 0 {
		k.gpuType, k.gpuMem = s.GPUType, max(s.GPUMemMin, 0)
	}
	if k == (reqKey{}) {
		return nil
	}
	if r := p.reqs[k]; r != nil {
		return r
	}
	if p.reqs == nil {
		p.reqs = map[reqKey]*req{}
	}
	r := &req{id: int32(len(p.reqs) + 1), match: api.JobSpec{GPUType: k.gpuType, GPUMemMin: k.gpuMem},
		gpu: k.gpuType != "" || k.gpuMem > 0, features: s.Features(),
		elig: make([][]eligNode, len(p.parts)), built: make([]bool, len(p.parts)), names: newNodeNames(k.nodes)}
	p.reqs[k] = r
	return r
}

// eligible returns the partition's UP nodes (name order) that have the
// requirement's features, with their matching GPUs; a job needing n GPUs
// may use those whose total is at least n.
func (p *pass) eligible(r *req, part int32) []eligNode {
	if r.built[part] {
		return r.elig[part]
	}
	r.built[part] = true
	var out []eligNode
	for _, ni := range p.parts[part].members {
		nd := p.nodes[ni].node
		if !nd.HasFeatures(r.features) || !r.names.allows(nd.Name) {
			continue
		}
		en := eligNode{ni: ni, total: int32(len(nd.GPUs))}
		if r.gpu {
			en.total = 0
			for i := range nd.GPUs {
				g := &nd.GPUs[i]
				if g.Index < 0 || g.Index >= 64 {
					en.slow = true
				}
				if r.match.GPUMatches(g) {
					en.total++
					if g.Index >= 0 && g.Index < 64 {
						en.mask |= 1 << uint(g.Index)
					}
				}
			}
		}
		out = append(out, en)
	}
	r.elig[part] = out
	return out
}

// anyEligible reports whether some node is eligible for d: it has the
// features and, with a GPU requirement, enough matching GPUs.
func anyEligible(elig []eligNode, d *demand) bool {
	if !d.req.gpu {
		return len(elig) > 0
	}
	return slices.ContainsFunc(elig, func(en eligNode) bool { return int(en.total) >= d.gpus })
}

// matches reports whether GPU index g of the node matches the requirement.
func (r *req) matches(en *eligNode, n *api.Node, g int) bool {
	if !r.gpu {
		return true
	}
	if !en.slow {
		return g >= 0 && g < 64 && en.mask&(1<<uint(g)) != 0
	}
	gpu := gpuByIndex(n, g)
	return gpu != nil && r.match.GPUMatches(gpu)
}

// gpuByIndex returns the node's GPU with that index, nil if none.
func gpuByIndex(n *api.Node, idx int) *api.GPU {
	if idx >= 0 && idx < len(n.GPUs) && n.GPUs[idx].Index == idx {
		return &n.GPUs[idx]
	}
	for i := range n.GPUs {
		if n.GPUs[i].Index == idx {
			return &n.GPUs[i]
		}
	}
	return nil
}

// freeMatching counts the node's free GPUs that match.
func (p *pass) freeMatching(r *req, en *eligNode) int {
	n := &p.nodes[en.ni]
	if !r.gpu {
		return len(n.gpus)
	}
	c := 0
	for _, g := range n.gpus {
		if r.matches(en, n.node, g) {
			c++
		}
	}
	return c
}

// fitsNowReq reports whether d (with requirement d.req) can start on the
// eligible node now: CPUs, memory, matching free GPUs, and, on a node with
// reservations (backfill modes), its timeline for the whole run.
func (p *pass) fitsNowReq(en *eligNode, d *demand) bool {
	n := &p.nodes[en.ni]
	if int(en.total) < d.gpus || n.cpus < d.cpus || n.mem < d.mem || len(n.gpus) < d.gpus {
		return false
	}
	if d.gpus > 0 && p.freeMatching(d.req, en) < d.gpus {
		return false
	}
	return n.resv == 0 || n.prof.fits(d, 0) // resv is 0 in mode none
}

// firstFitReq returns the first eligible node (by name) where d starts
// now, or -1.
func (p *pass) firstFitReq(elig []eligNode, d *demand) int32 {
	for i := range elig {
		if p.fitsNowReq(&elig[i], d) {
			return elig[i].ni
		}
	}
	return -1
}

// earliestReq is earliestScan over the eligible nodes. A start now counts
// only where the matching free GPUs suffice (else the node's next
// candidate is tried); later starts are judged on the timeline's counts.
func (p *pass) earliestReq(elig []eligNode, d *demand) (int64, int32) {
	best, bn := int64(inf), int32(-1)
	for i := range elig {
		en := &elig[i]
		n := &p.nodes[en.ni]
		if int(en.total) < d.gpus || !n.holdsEver(d) {
			continue
		}
		limit := p.limit
		if best < inf {
			limit = best - 1 // only a strictly earlier start beats an earlier node
		}
		at := n.prof.earliest(d, 0, limit, p.round)
		if at == 0 && !p.fitsNowReq(en, d) {
			at = inf
			if len(n.prof) > 1 {
				if lb := p.round.up(n.prof[1].at); lb <= limit {
					at = n.prof.earliest(d, lb, limit, p.round)
				}
			}
		}
		if at < best {
			best, bn = at, en.ni
			if at == 0 {
				break
			}
		}
	}
	return best, bn
}

// matchingFree returns the node's free GPU indices that match r, in a new
// slice.
func (p *pass) matchingFree(r *req, ni int32, part int32) []int {
	n := &p.nodes[ni]
	elig := p.eligible(r, part)
	i, _ := slices.BinarySearchFunc(elig, ni, func(en eligNode, ni int32) int { return int(en.ni - ni) })
	en := &elig[i]
	out := make([]int, 0, len(n.gpus))
	for _, g := range n.gpus {
		if r.matches(en, n.node, g) {
			out = append(out, g)
		}
	}
	return out
}
