package agent

import (
	"slices"

	"github.com/gsched/gsched/pkg/api"
	"github.com/gsched/gsched/pkg/topology"
)

// jobCPUSet is the cpuset of a job's task on node n. Without reserved CPUs
// it is cpuSet's (a GPU job bound to its GPUs' NUMA CPUs, others unbound).
// With them every job is kept off the reserved CPUs: a GPU job gets its
// NUMA CPUs among the usable ones (all usable ones when none are left),
// any other job the usable CPUs.
func jobCPUSet(n *api.Node, gpus []int, online []int) string {
	if n.Reserved == nil || len(n.Reserved.UsableCPUs) == 0 {
		return cpuSet(n.Topology, gpus, online)
	}
	usable := make([]int, 0, len(n.Reserved.UsableCPUs))
	for _, c := range n.Reserved.UsableCPUs {
		if len(online) == 0 || slices.Contains(online, c) {
			usable = append(usable, c)
		}
	}
	if len(usable) == 0 {
		return ""
	}
	if s := cpuSet(n.Topology, gpus, usable); s != "" {
		return s
	}
	return topology.FormatList(usable)
}
