package server

import (
	"slices"
	"strings"

	"github.com/gsched/gsched/pkg/api"
	"github.com/gsched/gsched/pkg/hostlist"
	"github.com/gsched/gsched/pkg/sched"
	"github.com/gsched/gsched/pkg/state"
)

// namedNodes checks a spec's --nodelist and --exclude against the nodes
// the controller knows (those that ever registered) and the partition:
// an unknown name or a listed node outside the partition is refused, a
// node both listed and excluded too. It writes both lists back sorted and
// compressed, raises the node count to the list's length as Slurm does,
// and returns the excluded nodes.
func namedNodes(snap *state.Snapshot, spec *api.JobSpec, part *api.Partition) (map[string]bool, error) {
	expand := func(what, expr string) ([]string, error) {
		if err := checkLine(what, expr, maxPathLen); err != nil {
			return nil, err
		}
		names, err := hostlist.Expand(strings.TrimSpace(expr))
		if err != nil {
			return nil, invalid("%s: %v", what, err)
		}
		if len(names) > maxNodes {
			return nil, invalid("%s names %d nodes, at most %d", what, len(names), maxNodes)
		}
		slices.Sort(names)
		names = slices.Compact(names)
		for _, n := range names {
			if snap.Node(n) == nil {
				return nil, invalid("%s: invalid node name specified: %s (no such node has registered)", what, truncate(n, 64))
			}
		}
		return names, nil
	}
	listed, err := expand("--nodelist", spec.NodeList)
	if err != nil {
		return nil, err
	}
	excluded, err := expand("--exclude", spec.Exclude)
	if err != nil {
		return nil, err
	}
	excl := make(map[string]bool, len(excluded))
	for _, n := range excluded {
		excl[n] = true
	}
	for _, n := range listed {
		if excl[n] {
			return nil, invalid("node %s is both in --nodelist and in --exclude", n)
		}
		if !sched.InPartition(snap.Node(n), part) {
			return nil, invalid("--nodelist: node %s is not in partition %s", n, part.Name)
		}
	}
	spec.NodeList, spec.Exclude = hostlist.Compress(listed), hostlist.Compress(excluded)
	if len(listed) > spec.Nodes {
		spec.Nodes = len(listed)
	}
	return excl, nil
}

// checkListed refuses a job a node of its --nodelist could never hold.
func checkListed(snap *state.Snapshot, job *api.Job) error {
	names, _ := hostlist.Expand(job.Spec.NodeList) // compressed by namedNodes
	for _, name := range names {
		n := snap.Node(name)
		if !sched.Fits(job, n) || !n.HasFeatures(job.Spec.Features()) || n.MatchingGPUs(job.Spec) < job.Spec.GPUsOnNode() {
			return invalid("requested node configuration is not available: listed node %s cannot hold the job (%d CPUs, %d GPUs per node)",
				name, job.Spec.CPUsOnNode(), job.Spec.GPUsOnNode())
		}
	}
	return nil
}
