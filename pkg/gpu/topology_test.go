//go:build cgo

package gpu

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/NVIDIA/go-nvml/pkg/nvml"
	"github.com/NVIDIA/go-nvml/pkg/nvml/mock"
	"github.com/NVIDIA/go-nvml/pkg/nvml/mock/dgxa100"
	"github.com/NVIDIA/go-nvml/pkg/nvml/mock/dgxh100"
	"github.com/NVIDIA/go-nvml/pkg/nvml/mock/gpus"
	"github.com/NVIDIA/go-nvml/pkg/nvml/mock/server"

	"github.com/gsched/gsched/pkg/api"
	"github.com/gsched/gsched/pkg/topology"
)

// The go-nvml mocks implement no topology call (their Func fields are nil
// and calling one panics), so each test scripts the ones it needs.

func pciInfo(bus string) nvml.PciInfo {
	var p nvml.PciInfo
	for i, c := range bus {
		p.BusId[i] = int8(c)
	}
	return p
}

// nvmlBus is how NVML prints a GPU's address: 8-digit domain, upper case.
func nvmlBus(sysfsBus string) string {
	return strings.ToUpper("0000" + sysfsBus)
}

// scripted gives every device of srv the topology calls from the funcs.
type scripted struct {
	bus      func(i int) string                         // GPU i's address
	nvlink   func(i, link int) (remote string, ok bool) // enabled links and their remote
	remote   func(i, link int) nvml.IntNvLinkDeviceType // remote device type
	ancestor func(i, j int) (nvml.GpuTopologyLevel, nvml.Return)
	affinity func(i int) []uint
}

func (s scripted) apply(srv *server.Server) {
	for i, d := range srv.Devices {
		dev := d.(*server.Device)
		dev.GetPciInfoFunc = func() (nvml.PciInfo, nvml.Return) { return pciInfo(s.bus(i)), nvml.SUCCESS }
		dev.GetNvLinkStateFunc = func(link int) (nvml.EnableState, nvml.Return) {
			if _, ok := s.nvlink(i, link); ok {
				return nvml.FEATURE_ENABLED, nvml.SUCCESS
			}
			return nvml.FEATURE_DISABLED, nvml.ERROR_NOT_SUPPORTED
		}
		dev.GetNvLinkRemotePciInfoFunc = func(link int) (nvml.PciInfo, nvml.Return) {
			r, _ := s.nvlink(i, link)
			return pciInfo(r), nvml.SUCCESS
		}
		dev.GetNvLinkRemoteDeviceTypeFunc = func(link int) (nvml.IntNvLinkDeviceType, nvml.Return) {
			return s.remote(i, link), nvml.SUCCESS
		}
		dev.GetTopologyCommonAncestorFunc = func(o nvml.Device) (nvml.GpuTopologyLevel, nvml.Return) {
			return s.ancestor(i, o.(*server.Device).Index)
		}
		dev.GetCpuAffinityFunc = func(int) ([]uint, nvml.Return) {
			if m := s.affinity(i); m != nil {
				return m, nvml.SUCCESS
			}
			return nil, nvml.ERROR_NOT_SUPPORTED
		}
	}
}

func discovered(t *testing.T, lib nvml.Interface) []api.GPU {
	t.Helper()
	gpus, _, err := FromNVML(lib)
	if err != nil {
		t.Fatal(err)
	}
	return gpus
}

// TestTopologyFromNVMLDGXH100: 18 links per GPU to four NVSwitches, PCIe
// and NICs from a DGX-like sysfs tree: the result is the dgx-h100 preset.
func TestTopologyFromNVMLDGXH100(t *testing.T) {
	devs, gpuBus := dgxLikeTree()
	root := fakeSysfs(t, devs, map[int]string{0: "0-55", 1: "56-111"})
	srv := dgxh100.New()
	scripted{
		bus: func(i int) string { return nvmlBus(gpuBus[i]) },
		nvlink: func(i, link int) (string, bool) {
			return fmt.Sprintf("00000000:C%d:00.0", link%4), link < 18
		},
		remote: func(int, int) nvml.IntNvLinkDeviceType { return nvml.NVLINK_DEVICE_TYPE_SWITCH },
		ancestor: func(i, j int) (nvml.GpuTopologyLevel, nvml.Return) {
			t.Errorf("common ancestor asked for NVLink pair %d-%d", i, j)
			return nvml.TOPOLOGY_SYSTEM, nvml.SUCCESS
		},
		affinity: func(int) []uint {
			t.Error("CPU affinity asked although sysfs knows the NUMA node")
			return nil
		},
	}.apply(srv)
	got, err := topologyFromNVML(srv, discovered(t, srv), root)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := topology.Preset("dgx-h100")
	want.Source = "nvml"
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got\n%s\nwant\n%s", topology.Format(got), topology.Format(want))
	}
}

// TestTopologyFromNVMLPairs: A100s with NVLink bridges 0-1, 2-3, ... (4
// links each), PCIe levels from NVML, NUMA from the CPU affinity, no PCI
// devices in sysfs, and one pair NVML cannot place.
func TestTopologyFromNVMLPairs(t *testing.T) {
	root := fakeSysfs(t, nil, map[int]string{0: "0-3", 1: "4-7"})
	srv := dgxa100.New()
	bus := func(i int) string { return fmt.Sprintf("00000000:%02X:00.0", 0x10+i) }
	scripted{
		bus: bus,
		nvlink: func(i, link int) (string, bool) {
			return bus(i ^ 1), link < 4
		},
		remote: func(int, int) nvml.IntNvLinkDeviceType {
			t.Error("device type asked for a link to a known GPU")
			return nvml.NVLINK_DEVICE_TYPE_GPU
		},
		ancestor: func(i, j int) (nvml.GpuTopologyLevel, nvml.Return) {
			switch {
			case min(i, j) == 4 && max(i, j) == 6:
				return 0, nvml.ERROR_NOT_SUPPORTED
			case i/4 == j/4:
				return nvml.TOPOLOGY_HOSTBRIDGE, nvml.SUCCESS
			}
			return nvml.TOPOLOGY_SYSTEM, nvml.SUCCESS
		},
		affinity: func(i int) []uint {
			return []uint{0xf << (4 * (i / 4))} // CPUs 0-3 or 4-7
		},
	}.apply(srv)
	got, err := topologyFromNVML(srv, discovered(t, srv), root)
	if err != nil {
		t.Fatal(err)
	}
	want, err := topology.ParseMatrix(`
	GPU0	GPU1	GPU2	GPU3	GPU4	GPU5	GPU6	GPU7	CPU Affinity	NUMA Affinity
GPU0	 X 	NV4	PHB	PHB	SYS	SYS	SYS	SYS	0-3	0
GPU1	NV4	 X 	PHB	PHB	SYS	SYS	SYS	SYS	0-3	0
GPU2	PHB	PHB	 X 	NV4	SYS	SYS	SYS	SYS	0-3	0
GPU3	PHB	PHB	NV4	 X 	SYS	SYS	SYS	SYS	0-3	0
GPU4	SYS	SYS	SYS	SYS	 X 	NV4	NODE	PHB	4-7	1
GPU5	SYS	SYS	SYS	SYS	NV4	 X 	PHB	PHB	4-7	1
GPU6	SYS	SYS	SYS	SYS	NODE	PHB	 X 	NV4	4-7	1
GPU7	SYS	SYS	SYS	SYS	PHB	PHB	NV4	 X 	4-7	1
`)
	if err != nil {
		t.Fatal(err)
	}
	want.Source = "nvml"
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got\n%s\nwant\n%s", topology.Format(got), topology.Format(want))
	}
}

// TestTopologyFromNVMLNoNVLink: no NVLink at all, no sysfs, no affinity:
// PCIe levels only, NUMA unknown, no NICs.
func TestTopologyFromNVMLNoNVLink(t *testing.T) {
	srv := dgxa100.NewWithGPUs(gpus.Multiple(2, gpus.A100_PCIE_40GB)...)
	scripted{
		bus:    func(i int) string { return fmt.Sprintf("0000:%02x:00.0", i+1) },
		nvlink: func(int, int) (string, bool) { return "", false },
		remote: func(int, int) nvml.IntNvLinkDeviceType { return nvml.NVLINK_DEVICE_TYPE_UNKNOWN },
		ancestor: func(int, int) (nvml.GpuTopologyLevel, nvml.Return) {
			return nvml.TOPOLOGY_SINGLE, nvml.SUCCESS
		},
		affinity: func(int) []uint { return nil },
	}.apply(srv)
	got, err := topologyFromNVML(srv, discovered(t, srv), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	want := &api.GPUTopology{Source: "nvml", Links: [][]int{{0, 2}, {2, 0}}, NUMA: []int{-1, -1}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
}

func TestTopologyFromNVMLNoDriver(t *testing.T) {
	// Only Init and ErrorString are set: any other call would panic.
	lib := &mock.Interface{
		InitFunc:        func() nvml.Return { return nvml.ERROR_DRIVER_NOT_LOADED },
		ErrorStringFunc: func(nvml.Return) string { return "Driver Not Loaded" },
	}
	_, err := TopologyFromNVML(lib, []api.GPU{{Index: 0}})
	if !errors.Is(err, errNoNVML) {
		t.Fatalf("err = %v, want errNoNVML", err)
	}
}

func TestTopologyFromNVMLBadIndices(t *testing.T) {
	srv := dgxh100.New()
	for _, list := range [][]api.GPU{{{Index: 0}, {Index: 0}}, {{Index: 1}}} {
		if _, err := topologyFromNVML(srv, list, t.TempDir()); err == nil {
			t.Errorf("indices %+v accepted", list)
		}
	}
}
