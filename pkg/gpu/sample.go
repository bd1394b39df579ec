//go:build cgo

package gpu

import (
	"fmt"

	"github.com/NVIDIA/go-nvml/pkg/nvml"
)

// Sampler reads GPU usage through NVML for metrics. It keeps NVML
// initialised until Close.
type Sampler struct {
	lib  nvml.Interface
	devs []nvml.Device // by NVML index, which is api.GPU.Index
}

// OpenSampler opens the real NVML; it fails without an NVIDIA driver.
func OpenSampler() (*Sampler, error) { return NewSampler(nvml.New()) }

// NewSampler opens a sampler on lib (the real library or go-nvml's mocks).
func NewSampler(lib nvml.Interface) (*Sampler, error) {
	if ret := lib.Init(); ret != nvml.SUCCESS {
		return nil, fmt.Errorf("%w: nvmlInit: %s", errNoNVML, lib.ErrorString(ret))
	}
	n, ret := lib.DeviceGetCount()
	if ret != nvml.SUCCESS {
		lib.Shutdown()
		return nil, fmt.Errorf("nvmlDeviceGetCount: %s", lib.ErrorString(ret))
	}
	s := &Sampler{lib: lib}
	for i := 0; i < n; i++ {
		d, ret := lib.DeviceGetHandleByIndex(i)
		if ret != nvml.SUCCESS {
			lib.Shutdown()
			return nil, fmt.Errorf("nvmlDeviceGetHandleByIndex(%d): %s", i, lib.ErrorString(ret))
		}
		s.devs = append(s.devs, d)
	}
	return s, nil
}

// Sample reads every GPU's utilisation and memory use. A figure NVML
// cannot give (MIG mode has no whole-GPU utilisation) is left out.
func (s *Sampler) Sample() []Sample {
	out := make([]Sample, len(s.devs))
	for i, d := range s.devs {
		out[i].Index = i
		if u, ret := d.GetUtilizationRates(); ret == nvml.SUCCESS {
			out[i].Utilization, out[i].HasUtilization = float64(u.Gpu)/100, true
		}
		if m, ret := d.GetMemoryInfo(); ret == nvml.SUCCESS {
			out[i].MemUsed, out[i].MemTotal, out[i].HasMem = int64(m.Used), int64(m.Total), true
		}
	}
	return out
}

// Close shuts NVML down.
func (s *Sampler) Close() { s.lib.Shutdown() }
