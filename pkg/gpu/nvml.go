//go:build cgo

package gpu

import (
	"errors"
	"fmt"
	"strings"

	"github.com/NVIDIA/go-nvml/pkg/nvml"

	"github.com/gsched/gsched/pkg/api"
)

// errNoNVML means no NVIDIA driver answered.
var errNoNVML = errors.New("NVML is not available (no NVIDIA driver)")

func discoverNVML() ([]api.GPU, Versions, error) {
	return FromNVML(nvml.New())
}

// FromNVML reads every device from an NVML implementation (the real
// library or go-nvml's mocks). Init is checked before anything else is
// called: with no driver, calling any other NVML function kills the process.
func FromNVML(lib nvml.Interface) ([]api.GPU, Versions, error) {
	if ret := lib.Init(); ret != nvml.SUCCESS {
		return nil, Versions{}, fmt.Errorf("%w: nvmlInit: %s", errNoNVML, lib.ErrorString(ret))
	}
	defer lib.Shutdown()
	var driver Versions
	driver.Driver, _ = lib.SystemGetDriverVersion()
	if v, ret := lib.SystemGetCudaDriverVersion(); ret == nvml.SUCCESS && v > 0 {
		driver.CUDA = fmt.Sprintf("%d.%d", v/1000, v%1000/10)
	}
	n, ret := lib.DeviceGetCount()
	if ret != nvml.SUCCESS {
		return nil, driver, fmt.Errorf("nvmlDeviceGetCount: %s", lib.ErrorString(ret))
	}
	gpus := make([]api.GPU, 0, n)
	for i := 0; i < n; i++ {
		d, ret := lib.DeviceGetHandleByIndex(i)
		if ret != nvml.SUCCESS {
			return nil, driver, fmt.Errorf("nvmlDeviceGetHandleByIndex(%d): %s", i, lib.ErrorString(ret))
		}
		g := api.GPU{Index: i, Minor: i}
		if minor, ret := d.GetMinorNumber(); ret == nvml.SUCCESS {
			g.Minor = minor
		}
		if uuid, ret := d.GetUUID(); ret == nvml.SUCCESS {
			g.UUID = uuid
		}
		if name, ret := d.GetName(); ret == nvml.SUCCESS {
			g.Model = name
		}
		if mem, ret := d.GetMemoryInfo(); ret == nvml.SUCCESS {
			g.MemBytes = int64(mem.Total)
		}
		if pci, ret := d.GetPciInfo(); ret == nvml.SUCCESS {
			g.PCIBusID = busID(pci.BusIdLegacy[:])
			if g.PCIBusID == "" {
				g.PCIBusID = busID(pci.BusId[:])
			}
		}
		if cur, _, ret := d.GetMigMode(); ret == nvml.SUCCESS {
			g.MIG = cur == nvml.DEVICE_MIG_ENABLE
		}
		g.DevicePath = fmt.Sprintf("/dev/nvidia%d", g.Minor)
		gpus = append(gpus, g)
	}
	return gpus, driver, nil
}

func busID[T int8 | uint8](b []T) string {
	var sb strings.Builder
	for _, c := range b {
		if c == 0 {
			break
		}
		sb.WriteByte(byte(c))
	}
	return sb.String()
}
