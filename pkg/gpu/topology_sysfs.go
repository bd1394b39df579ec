package gpu

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/gsched/gsched/pkg/api"
	"github.com/gsched/gsched/pkg/topology"
)

// The sysfs files read for topology (paths under the root, "/sys"):
//
//	bus/pci/devices/<bus id>            link to devices/pci<dom>:<bus>/<bridge>/.../<bus id>
//	bus/pci/devices/<bus id>/numa_node  NUMA node of a PCI device (-1 unknown)
//	class/infiniband/<hca>/device       link to the HCA's PCI device
//	devices/system/node/node<N>/cpulist CPUs of NUMA node N

// normBusID writes a PCI address as sysfs does ("0000:07:00.0"): NVML
// prints an 8-digit domain in upper case ("00000000:07:00.0"). Text that
// is not an address is returned lower-cased.
func normBusID(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	parts := strings.Split(s, ":")
	if len(parts) == 2 {
		parts = append([]string{"0"}, parts...)
	}
	if len(parts) != 3 {
		return s
	}
	dev, fn, ok := strings.Cut(parts[2], ".")
	if !ok {
		return s
	}
	dom, err1 := strconv.ParseUint(parts[0], 16, 32)
	bus, err2 := strconv.ParseUint(parts[1], 16, 8)
	slot, err3 := strconv.ParseUint(dev, 16, 8)
	f, err4 := strconv.ParseUint(fn, 16, 8)
	if err1 != nil || err2 != nil || err3 != nil || err4 != nil || dom > 0xffff {
		return s
	}
	return fmt.Sprintf("%04x:%02x:%02x.%x", dom, bus, slot, f)
}

// pciPath resolves a PCI device's sysfs path, relative to <root>/devices:
// "pci0000:00/0000:00:01.0/0000:01:00.0/0000:02:08.0/0000:07:00.0" (the
// root bus, then every bridge down to the device). It returns "" when the
// device or the link is missing.
func pciPath(root, devLink string) string {
	real, err := filepath.EvalSymlinks(devLink)
	if err != nil {
		return ""
	}
	base, err := filepath.EvalSymlinks(filepath.Join(root, "devices"))
	if err != nil {
		return ""
	}
	rel, err := filepath.Rel(base, real)
	if err != nil || !strings.HasPrefix(rel, "pci") {
		return ""
	}
	return filepath.ToSlash(rel)
}

// pciPathLink is the nvidia-smi link level between two PCI devices from
// their sysfs paths (see pciPath) and NUMA nodes: different root buses are
// NODE on one NUMA node and SYS across nodes; on one root bus, devices
// whose bridges part right below the root are PHB, devices under one
// switch (at most one bridge below the lowest common one on each side) are
// PIX, deeper trees PXB. Unknown paths give NODE or SYS from NUMA alone.
func pciPathLink(a, b string, numaA, numaB int) topology.Link {
	sameNode := numaA >= 0 && numaA == numaB
	pa, pb := strings.Split(a, "/"), strings.Split(b, "/")
	if a == "" || b == "" || pa[0] != pb[0] {
		if sameNode || (a != "" && b != "" && numaA == numaB) {
			return topology.NODE
		}
		return topology.SYS
	}
	if a == b {
		return topology.PIX
	}
	ba, bb := pa[1:len(pa)-1], pb[1:len(pb)-1] // bridges between root and device
	c := 0
	for c < len(ba) && c < len(bb) && ba[c] == bb[c] {
		c++
	}
	switch {
	case c == 0:
		return topology.PHB
	case len(ba)-c+len(bb)-c <= 2:
		return topology.PIX
	}
	return topology.PXB
}

// readInt reads a file holding one integer, or returns def.
func readInt(path string, def int) int {
	b, err := os.ReadFile(path)
	if err != nil {
		return def
	}
	v, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return def
	}
	return v
}

// pciNUMA is the NUMA node of a PCI device (-1 when unknown).
func pciNUMA(root, busID string) int {
	if busID == "" {
		return -1
	}
	return max(-1, readInt(filepath.Join(root, "bus/pci/devices", busID, "numa_node"), -1))
}

// nodeCPUs returns the CPUs of NUMA node nd from sysfs, or nil.
func nodeCPUs(root string, nd int) []int {
	b, err := os.ReadFile(filepath.Join(root, "devices/system/node", fmt.Sprintf("node%d", nd), "cpulist"))
	if err != nil {
		return nil
	}
	cpus, err := topology.ParseList(strings.TrimSpace(string(b)))
	if err != nil {
		return nil
	}
	return cpus
}

// nodeOfCPU returns the NUMA node holding cpu, or -1.
func nodeOfCPU(root string, cpu int) int {
	dirs, _ := filepath.Glob(filepath.Join(root, "devices/system/node/node[0-9]*"))
	for _, d := range dirs {
		nd, err := strconv.Atoi(strings.TrimPrefix(filepath.Base(d), "node"))
		if err != nil {
			continue
		}
		for _, c := range nodeCPUs(root, nd) {
			if c == cpu {
				return nd
			}
		}
	}
	return -1
}

// sysfsNICs lists the RDMA devices under <root>/class/infiniband with
// their NUMA node and link level to each GPU, given the GPUs' sysfs paths
// (pciPath) and NUMA nodes. No infiniband class means no NICs.
func sysfsNICs(root string, gpuPaths []string, gpuNUMA []int) []api.NIC {
	entries, err := os.ReadDir(filepath.Join(root, "class/infiniband"))
	if err != nil {
		return nil
	}
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	var out []api.NIC
	for _, name := range names {
		dev := filepath.Join(root, "class/infiniband", name, "device")
		path := pciPath(root, dev)
		if path == "" {
			continue // not a PCI device (e.g. a software RDMA device: rxe, siw)
		}
		nic := api.NIC{Name: name, NUMA: max(-1, readInt(filepath.Join(dev, "numa_node"), -1)), Links: make([]int, len(gpuPaths))}
		for g := range gpuPaths {
			nic.Links[g] = int(pciPathLink(gpuPaths[g], path, gpuNUMA[g], nic.NUMA))
		}
		out = append(out, nic)
	}
	return out
}
