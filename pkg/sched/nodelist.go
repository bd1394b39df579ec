package sched

import (
	"github.com/gsched/gsched/pkg/api"
	"github.com/gsched/gsched/pkg/hostlist"
)

// Named nodes (--nodelist, --exclude), as Slurm has them: an excluded
// node is never used; every listed node is in the job's allocation. A job
// needing as many nodes as it lists may use only those (the eligible
// nodes are the listed ones); one needing more (a gang) takes all the
// listed nodes and the rest from its other eligible nodes, in name order
// (the network topology then plays no part). The controller checks the
// names on submission; a listed node that is down or drained keeps the
// job waiting with reason ReqNodeNotAvail.

// nodesKey is the named-node part of a requirement set.
type nodesKey struct {
	list, exclude string
	nodes         int // the job's node count, with a list
}

func nodesKeyOf(s *api.JobSpec) nodesKey {
	k := nodesKey{list: s.NodeList, exclude: s.Exclude}
	if k.list != "" {
		k.nodes = s.NodeCount()
	}
	return k
}

// nodeNames holds a requirement set's named nodes.
type nodeNames struct {
	only  map[string]bool // nil: any node not excluded
	excl  map[string]bool
	must  map[string]bool // listed nodes a larger gang must include
	mustN int
}

func nameSet(names []string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

func newNodeNames(k nodesKey) nodeNames {
	var nn nodeNames
	if k.exclude != "" {
		names, _ := hostlist.Expand(k.exclude) // checked on submission
		nn.excl = nameSet(names)
	}
	if k.list == "" {
		return nn
	}
	names, err := hostlist.Expand(k.list)
	switch {
	case err != nil || len(names) == 0:
		nn.only = map[string]bool{} // no node will do
	case len(names) >= k.nodes:
		nn.only = nameSet(names)
	default:
		nn.must, nn.mustN = nameSet(names), len(names)
	}
	return nn
}

// allows reports whether the node may be used at all.
func (n *nodeNames) allows(name string) bool {
	return !n.excl[name] && (n.only == nil || n.only[name])
}

// mustOf is the number of listed nodes a gang with requirement r must
// include beyond those its eligible nodes are limited to (0: none).
func mustOf(r *req) int {
	if r == nil {
		return 0
	}
	return r.names.mustN
}

// pickMust chooses nn of the candidates (in name order) that include the
// must listed ones, the others the first by name; nil if it cannot.
func pickMust(cands []gangCand, nn, must int) []gangCand {
	have := 0
	for i := range cands {
		if cands[i].must {
			have++
		}
	}
	if have < must || len(cands) < nn {
		return nil
	}
	out := make([]gangCand, 0, nn)
	extra := nn - have
	for i := range cands {
		switch {
		case cands[i].must:
			out = append(out, cands[i])
		case extra > 0:
			out = append(out, cands[i])
			extra--
		}
	}
	if len(out) != nn {
		return nil
	}
	return out
}
