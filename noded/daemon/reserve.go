package daemon

import (
	"fmt"
	"os"
	goruntime "runtime"
	"slices"
	"strings"

	"github.com/gsched/gsched/pkg/api"
	"github.com/gsched/gsched/pkg/config"
	"github.com/gsched/gsched/pkg/topology"
)

// hostCPUs are the host's online CPU ids (/sys/devices/system/cpu/online,
// else 0..NumCPU-1).
func hostCPUs() []int {
	if b, err := os.ReadFile("/sys/devices/system/cpu/online"); err == nil {
		if l, err := topology.ParseList(strings.TrimSpace(string(b))); err == nil && len(l) > 0 {
			return l
		}
	}
	l := make([]int, goruntime.NumCPU())
	for i := range l {
		l[i] = i
	}
	return l
}

// Reserve takes node.reserved_cpus, reserved_memory and reserved_gpus out
// of what the node offers to jobs and records them in n.Reserved. online
// are the host's CPU ids: a count reserves the lowest-numbered ones (where
// the kernel's housekeeping usually runs), a list those named; the rest
// become the CPUs jobs' cpusets are made of.
func Reserve(n *api.Node, nc *config.NodeConfig, online []int) error {
	mem, err := nc.ReservedMemBytes()
	if err != nil {
		return err
	}
	if nc.ReservedCPUs.IsZero() && mem == 0 && len(nc.ReservedGPUs) == 0 {
		return nil
	}
	r := &api.NodeReserved{MemBytes: mem}
	switch {
	case nc.ReservedCPUs.Count > 0:
		if nc.ReservedCPUs.Count >= len(online) {
			return fmt.Errorf("node.reserved_cpus: %d leaves none of the %d online CPUs to jobs", nc.ReservedCPUs.Count, len(online))
		}
		r.CPUs = slices.Clone(online[:nc.ReservedCPUs.Count])
	case len(nc.ReservedCPUs.List) > 0:
		for _, c := range nc.ReservedCPUs.List {
			if !slices.Contains(online, c) {
				return fmt.Errorf("node.reserved_cpus: CPU %d is not online (online: %s)", c, topology.FormatList(online))
			}
		}
		r.CPUs = slices.Clone(nc.ReservedCPUs.List)
	}
	if len(r.CPUs) > 0 {
		for _, c := range online {
			if !slices.Contains(r.CPUs, c) {
				r.UsableCPUs = append(r.UsableCPUs, c)
			}
		}
		if len(r.UsableCPUs) == 0 {
			return fmt.Errorf("node.reserved_cpus: no CPU left to jobs")
		}
		n.CPUs -= len(r.CPUs)
		if n.CPUs < 1 {
			return fmt.Errorf("node.reserved_cpus: %d CPUs reserved of %d", len(r.CPUs), n.CPUs+len(r.CPUs))
		}
	}
	if mem > 0 {
		if mem >= n.MemBytes {
			return fmt.Errorf("node.reserved_memory: %d bytes leave nothing of the node's %d to jobs", mem, n.MemBytes)
		}
		n.MemBytes -= mem
	}
	for _, g := range nc.ReservedGPUs {
		k := slices.IndexFunc(n.GPUs, func(x api.GPU) bool { return x.Index == g })
		if k < 0 {
			return fmt.Errorf("node.reserved_gpus: the node has no GPU %d", g)
		}
		n.GPUs = slices.Delete(n.GPUs, k, k+1)
		r.GPUs = append(r.GPUs, g)
	}
	slices.Sort(r.GPUs)
	n.Reserved = r
	return nil
}
