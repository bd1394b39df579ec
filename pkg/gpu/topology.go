//go:build cgo

package gpu

import (
	"fmt"
	"math/bits"
	"path/filepath"

	"github.com/NVIDIA/go-nvml/pkg/nvml"

	"github.com/gsched/gsched/pkg/api"
	"github.com/gsched/gsched/pkg/topology"
)

// DiscoverTopology reads the interconnect of gpus (as Discover found them
// through NVML) from the NVIDIA driver and /sys.
func DiscoverTopology(gpus []api.GPU) (*api.GPUTopology, error) {
	return TopologyFromNVML(nvml.New(), gpus)
}

// TopologyFromNVML builds the topology of gpus (indices 0..n-1) from an
// NVML implementation (the real library or go-nvml's mocks) and /sys:
//
//   - NVLink: every enabled link (nvmlDeviceGetNvLinkState) whose remote
//     PCI address (nvmlDeviceGetNvLinkRemotePciInfo) is another of the GPUs
//     counts as a direct link; a remote that is not one of them is taken
//     for an NVSwitch (unless nvmlDeviceGetNvLinkRemoteDeviceType says it
//     is a GPU or a CPU), and all GPUs that reach an NVSwitch are connected
//     to each other with the smaller of their switch link counts (NV18 on
//     an H100 board);
//   - other pairs: nvmlDeviceGetTopologyCommonAncestor (INTERNAL and
//     SINGLE: PIX, MULTIPLE: PXB, HOSTBRIDGE: PHB, NODE: NODE, SYSTEM: SYS),
//     or the sysfs PCI paths when NVML cannot say;
//   - NUMA: the GPU's PCI numa_node in sysfs, else the node holding the
//     first CPU of nvmlDeviceGetCpuAffinity. (nvmlDeviceGetNumaNodeId is
//     not used: it is the NUMA node of the GPU's own memory on coherent
//     platforms such as Grace Hopper, not the CPUs to bind.) CPUs per node
//     from /sys/devices/system/node, else the GPUs' CPU affinity;
//   - NICs: /sys/class/infiniband, placed by their PCI path.
//
// Init is checked before anything else is called: with no driver, calling
// any other NVML function kills the process.
func TopologyFromNVML(lib nvml.Interface, gpus []api.GPU) (*api.GPUTopology, error) {
	return topologyFromNVML(lib, gpus, "/sys")
}

func topologyFromNVML(lib nvml.Interface, gpus []api.GPU, sysRoot string) (*api.GPUTopology, error) {
	if ret := lib.Init(); ret != nvml.SUCCESS {
		return nil, fmt.Errorf("%w: nvmlInit: %s", errNoNVML, lib.ErrorString(ret))
	}
	defer lib.Shutdown()
	n := len(gpus)
	byIndex := make([]*api.GPU, n)
	for i := range gpus {
		g := &gpus[i]
		if g.Index < 0 || g.Index >= n || byIndex[g.Index] != nil {
			return nil, fmt.Errorf("gpu topology: GPU indices must be 0..%d once each, got %d", n-1, g.Index)
		}
		byIndex[g.Index] = g
	}
	devs := make([]nvml.Device, n)
	bus := make([]string, n)
	for i, g := range byIndex {
		var ret nvml.Return
		if g.UUID != "" {
			devs[i], ret = lib.DeviceGetHandleByUUID(g.UUID)
		} else {
			devs[i], ret = lib.DeviceGetHandleByIndex(g.Index)
		}
		if ret != nvml.SUCCESS {
			return nil, fmt.Errorf("gpu topology: handle of GPU %d: %s", i, lib.ErrorString(ret))
		}
		if pci, ret := devs[i].GetPciInfo(); ret == nvml.SUCCESS {
			bus[i] = normBusID(pciBusID(pci))
		}
		if bus[i] == "" {
			bus[i] = normBusID(g.PCIBusID)
		}
	}

	t := &api.GPUTopology{Source: "nvml", NUMA: make([]int, n)}
	paths := make([]string, n)
	affinity := make([][]int, n)
	for i, d := range devs {
		if bus[i] != "" {
			paths[i] = pciPath(sysRoot, filepath.Join(sysRoot, "bus/pci/devices", bus[i]))
		}
		t.NUMA[i] = pciNUMA(sysRoot, bus[i])
		if t.NUMA[i] < 0 {
			affinity[i] = cpuAffinity(d)
			if len(affinity[i]) > 0 {
				t.NUMA[i] = nodeOfCPU(sysRoot, affinity[i][0])
			}
		}
	}
	for i, nd := range t.NUMA {
		if nd < 0 {
			continue
		}
		if t.CPUs == nil {
			t.CPUs = map[int][]int{}
		}
		if _, done := t.CPUs[nd]; done {
			continue
		}
		cpus := nodeCPUs(sysRoot, nd)
		if cpus == nil {
			if affinity[i] == nil {
				affinity[i] = cpuAffinity(devs[i])
			}
			cpus = affinity[i]
		}
		t.CPUs[nd] = cpus
	}

	nv, switchLinks := nvlinks(devs, bus)
	t.Links = make([][]int, n)
	for i := range t.Links {
		t.Links[i] = make([]int, n)
	}
	anyNV := false
	for i := 0; i < n; i++ {
		for j := i + 1; j < n; j++ {
			count := max(nv[i][j], nv[j][i])
			if switchLinks[i] > 0 && switchLinks[j] > 0 {
				count += min(switchLinks[i], switchLinks[j])
			}
			l := topology.NVLink
			if count == 0 {
				l = commonAncestor(devs[i], devs[j], paths[i], paths[j], t.NUMA[i], t.NUMA[j])
			}
			t.Links[i][j], t.Links[j][i] = int(l), int(l)
			nv[i][j], nv[j][i] = count, count
			anyNV = anyNV || count > 0
		}
	}
	if anyNV {
		t.NVLinks = nv
	}
	t.NICs = sysfsNICs(sysRoot, paths, t.NUMA)
	if err := topology.Validate(t, n); err != nil {
		return nil, fmt.Errorf("gpu topology: %w", err)
	}
	return t, nil
}

// nvlinks counts, per pair of GPUs, the enabled NVLinks from the first to
// the second, and per GPU the enabled links to NVSwitches.
func nvlinks(devs []nvml.Device, bus []string) ([][]int, []int) {
	n := len(devs)
	index := map[string]int{}
	for i, b := range bus {
		if b != "" {
			index[b] = i
		}
	}
	nv := make([][]int, n)
	switches := make([]int, n)
	for i, d := range devs {
		nv[i] = make([]int, n)
		for l := 0; l < nvml.NVLINK_MAX_LINKS; l++ {
			state, ret := d.GetNvLinkState(l)
			if ret != nvml.SUCCESS || state != nvml.FEATURE_ENABLED {
				continue
			}
			remote, ret := d.GetNvLinkRemotePciInfo(l)
			if ret != nvml.SUCCESS {
				continue
			}
			if j, ok := index[normBusID(pciBusID(remote))]; ok {
				if j != i {
					nv[i][j]++
				}
				continue
			}
			if typ, ret := d.GetNvLinkRemoteDeviceType(l); ret == nvml.SUCCESS &&
				(typ == nvml.NVLINK_DEVICE_TYPE_GPU || typ == nvml.NVLINK_DEVICE_TYPE_IBMNPU) {
				continue // a GPU we do not manage, or a POWER CPU
			}
			switches[i]++
		}
	}
	return nv, switches
}

// commonAncestor maps NVML's PCIe level of two GPUs to a Link, falling
// back to their sysfs paths.
func commonAncestor(a, b nvml.Device, pathA, pathB string, numaA, numaB int) topology.Link {
	level, ret := a.GetTopologyCommonAncestor(b)
	if ret != nvml.SUCCESS {
		return pciPathLink(pathA, pathB, numaA, numaB)
	}
	switch level {
	case nvml.TOPOLOGY_INTERNAL, nvml.TOPOLOGY_SINGLE:
		return topology.PIX
	case nvml.TOPOLOGY_MULTIPLE:
		return topology.PXB
	case nvml.TOPOLOGY_HOSTBRIDGE:
		return topology.PHB
	case nvml.TOPOLOGY_NODE:
		return topology.NODE
	}
	return topology.SYS
}

// cpuAffinity returns the CPUs NVML considers close to d, or nil.
func cpuAffinity(d nvml.Device) []int {
	const maxCPUs = 8192
	words, ret := d.GetCpuAffinity(maxCPUs)
	if ret != nvml.SUCCESS {
		return nil
	}
	var cpus []int
	for w, word := range words {
		for bit := 0; bit < bits.UintSize; bit++ {
			if word&(1<<bit) != 0 {
				cpus = append(cpus, w*bits.UintSize+bit)
			}
		}
	}
	return cpus
}

// pciBusID is the address in a PciInfo: BusId, else BusIdLegacy, else
// built from the numeric fields.
func pciBusID(p nvml.PciInfo) string {
	if s := busID(p.BusId[:]); s != "" {
		return s
	}
	if s := busID(p.BusIdLegacy[:]); s != "" {
		return s
	}
	if p.Domain == 0 && p.Bus == 0 && p.Device == 0 {
		return ""
	}
	return fmt.Sprintf("%04x:%02x:%02x.0", p.Domain, p.Bus, p.Device)
}
