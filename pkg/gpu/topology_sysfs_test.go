package gpu

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/gsched/gsched/pkg/topology"
)

func TestNormBusID(t *testing.T) {
	tests := []struct{ in, want string }{
		{"00000000:07:00.0", "0000:07:00.0"},
		{"0000:0A:1F.3", "0000:0a:1f.3"},
		{"07:00.0", "0000:07:00.0"},
		{" 00000001:C1:00.0 ", "0001:c1:00.0"},
		{"garbage", "garbage"},
		{"1:2:3", "1:2:3"},
		{"", ""},
	}
	for _, tc := range tests {
		if got := normBusID(tc.in); got != tc.want {
			t.Errorf("normBusID(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestPCIPathLink(t *testing.T) {
	const (
		root    = "pci0000:00/0000:00:01.0"                                        // a root port
		switchA = root + "/0000:01:00.0"                                           // its switch's upstream port
		gpuA    = switchA + "/0000:02:00.0/0000:03:00.0"                           // behind downstream port 0
		nicA    = switchA + "/0000:02:01.0/0000:04:00.0"                           // behind downstream port 1
		deepA   = switchA + "/0000:02:02.0/0000:05:00.0/0000:06:00.0/0000:07:00.0" // a second switch below
		other   = "pci0000:00/0000:00:02.0/0000:10:00.0/0000:11:00.0/0000:12:00.0" // another root port
		onRoot  = "pci0000:00/0000:00:03.0"                                        // a device on the root bus
		far     = "pci0000:80/0000:80:01.0/0000:81:00.0"                           // another root bus
	)
	tests := []struct {
		name         string
		a, b         string
		numaA, numaB int
		want         topology.Link
	}{
		{"one switch", gpuA, nicA, 0, 0, topology.PIX},
		{"same device", gpuA, gpuA, 0, 0, topology.PIX},
		{"two switches", gpuA, deepA, 0, 0, topology.PXB},
		{"root ports of one host bridge", gpuA, other, 0, 0, topology.PHB},
		{"root bus device", gpuA, onRoot, 0, 0, topology.PHB},
		{"host bridges of one node", gpuA, far, 0, 0, topology.NODE},
		{"host bridges, no NUMA", gpuA, far, -1, -1, topology.NODE},
		{"sockets", gpuA, far, 0, 1, topology.SYS},
		{"unknown path, same node", "", far, 1, 1, topology.NODE},
		{"unknown path, unknown node", gpuA, "", -1, -1, topology.SYS},
	}
	for _, tc := range tests {
		if got := pciPathLink(tc.a, tc.b, tc.numaA, tc.numaB); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
		if got := pciPathLink(tc.b, tc.a, tc.numaB, tc.numaA); got != tc.want {
			t.Errorf("%s (swapped): %v, want %v", tc.name, got, tc.want)
		}
	}
}

// fakeDevice is a PCI device of a fake sysfs tree.
type fakeDevice struct {
	path string // under devices/, ending with the device's bus id
	numa int
	hca  string // RDMA device name, for NICs
}

// fakeSysfs writes a sysfs tree holding the devices (linked from
// bus/pci/devices and, for HCAs, class/infiniband) and NUMA nodes.
func fakeSysfs(t *testing.T, devs []fakeDevice, nodes map[int]string) string {
	t.Helper()
	root := t.TempDir()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(root, "bus/pci/devices"), 0o755))
	for _, d := range devs {
		dir := filepath.Join(root, "devices", d.path)
		must(os.MkdirAll(dir, 0o755))
		must(os.WriteFile(filepath.Join(dir, "numa_node"), []byte(fmt.Sprintf("%d\n", d.numa)), 0o644))
		bus := filepath.Base(d.path)
		must(os.Symlink(filepath.Join("../../../devices", d.path), filepath.Join(root, "bus/pci/devices", bus)))
		if d.hca != "" {
			cls := filepath.Join(root, "class/infiniband", d.hca)
			must(os.MkdirAll(cls, 0o755))
			must(os.Symlink(filepath.Join("../../../devices", d.path), filepath.Join(cls, "device")))
		}
	}
	for nd, cpus := range nodes {
		dir := filepath.Join(root, "devices/system/node", fmt.Sprintf("node%d", nd))
		must(os.MkdirAll(dir, 0o755))
		must(os.WriteFile(filepath.Join(dir, "cpulist"), []byte(cpus+"\n"), 0o644))
	}
	return root
}

// dgxLikeTree: GPU k and NIC mlx5_k share a PCIe switch under their own
// root bus; GPUs 0-3 on NUMA node 0, 4-7 on node 1. It returns the
// devices and the GPUs' bus ids.
func dgxLikeTree() ([]fakeDevice, []string) {
	var devs []fakeDevice
	var gpuBus []string
	for k := 0; k < 8; k++ {
		r := k * 0x10
		sw := fmt.Sprintf("pci0000:%02x/0000:%02x:01.0/0000:%02x:00.0", r, r, r+1)
		gpu := fmt.Sprintf("%s/0000:%02x:00.0/0000:%02x:00.0", sw, r+2, r+3)
		nic := fmt.Sprintf("%s/0000:%02x:01.0/0000:%02x:00.0", sw, r+2, r+4)
		devs = append(devs, fakeDevice{path: gpu, numa: k / 4}, fakeDevice{path: nic, numa: k / 4, hca: fmt.Sprintf("mlx5_%d", k)})
		gpuBus = append(gpuBus, filepath.Base(gpu))
	}
	return devs, gpuBus
}

func TestSysfsNICs(t *testing.T) {
	devs, gpuBus := dgxLikeTree()
	root := fakeSysfs(t, devs, nil)
	// A software RDMA device without a PCI parent is skipped.
	if err := os.MkdirAll(filepath.Join(root, "class/infiniband/rxe0"), 0o755); err != nil {
		t.Fatal(err)
	}
	paths := make([]string, len(gpuBus))
	numa := make([]int, len(gpuBus))
	for g, bus := range gpuBus {
		paths[g] = pciPath(root, filepath.Join(root, "bus/pci/devices", bus))
		numa[g] = pciNUMA(root, bus)
		if !strings.HasPrefix(paths[g], "pci0000:") || !strings.HasSuffix(paths[g], bus) {
			t.Fatalf("pciPath(%s) = %q", bus, paths[g])
		}
	}
	if want := []int{0, 0, 0, 0, 1, 1, 1, 1}; !reflect.DeepEqual(numa, want) {
		t.Errorf("NUMA = %v, want %v", numa, want)
	}
	got := sysfsNICs(root, paths, numa)
	want, _ := topology.Preset("dgx-h100") // same NIC layout
	if !reflect.DeepEqual(got, want.NICs) {
		t.Errorf("NICs:\ngot  %+v\nwant %+v", got, want.NICs)
	}
	if nics := sysfsNICs(t.TempDir(), paths, numa); nics != nil {
		t.Errorf("no infiniband class: %+v", nics)
	}
}

func TestNodeCPUs(t *testing.T) {
	root := fakeSysfs(t, nil, map[int]string{0: "0-3,8-11", 1: "4-7,12-15", 2: "bogus"})
	tests := []struct {
		name string
		got  any
		want any
	}{
		{"node 0", nodeCPUs(root, 0), []int{0, 1, 2, 3, 8, 9, 10, 11}},
		{"bad list", nodeCPUs(root, 2), []int(nil)},
		{"missing node", nodeCPUs(root, 5), []int(nil)},
		{"cpu 13", nodeOfCPU(root, 13), 1},
		{"cpu 99", nodeOfCPU(root, 99), -1},
		{"numa of missing device", pciNUMA(root, "0000:01:00.0"), -1},
	}
	for _, tc := range tests {
		if !reflect.DeepEqual(tc.got, tc.want) {
			t.Errorf("%s = %v, want %v", tc.name, tc.got, tc.want)
		}
	}
}
