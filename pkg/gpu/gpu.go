// Package gpu discovers a node's GPUs: through NVML (NVIDIA/go-nvml) when a
// driver is present, else from the GPUs declared in the configuration (fake
// device nodes, char major 195, for tests and machines without a driver).
package gpu

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/gsched/gsched/pkg/api"
	"github.com/gsched/gsched/pkg/config"
	"github.com/gsched/gsched/pkg/units"
)

// NvidiaMajor is the char-device major number of NVIDIA GPUs.
const NvidiaMajor = 195

// Info is what discovery found.
type Info struct {
	GPUs []api.GPU
	// Source is "nvml", "config" or "none".
	Source string
	// Extra lists control devices present on the host (nvidiactl, ...)
	// that every GPU job also gets.
	Extra []string
	Versions
}

// Versions are the NVIDIA driver's and the CUDA version it supports
// ("550.54.15", "12.4"); empty without NVML.
type Versions struct {
	Driver string
	CUDA   string
}

// controlDevices are given to every GPU job when they exist.
var controlDevices = []string{"/dev/nvidiactl", "/dev/nvidia-uvm", "/dev/nvidia-uvm-tools", "/dev/nvidia-modeset"}

// Discover finds GPUs by mode: "nvml" (NVML required), "config" (declared
// list only) or "auto" (NVML if a driver answers, else the declared list).
func Discover(mode string, declared []config.GPUConfig) (Info, error) {
	if mode == "nvml" || mode == "auto" {
		gpus, driver, err := discoverNVML()
		switch {
		case err == nil:
			return Info{GPUs: gpus, Source: "nvml", Extra: presentControlDevices(), Versions: driver}, nil
		case mode == "nvml":
			return Info{}, fmt.Errorf("gpu discovery: %w", err)
		}
	}
	gpus, err := Declared(declared)
	if err != nil {
		return Info{}, err
	}
	if len(gpus) == 0 {
		return Info{Source: "none"}, nil
	}
	return Info{GPUs: gpus, Source: "config", Extra: presentControlDevices()}, nil
}

func presentControlDevices() []string {
	var out []string
	for _, d := range controlDevices {
		if _, err := os.Stat(d); err == nil {
			out = append(out, d)
		}
	}
	return out
}

// Declared turns configured GPUs into api.GPU values.
func Declared(cfg []config.GPUConfig) ([]api.GPU, error) {
	out := make([]api.GPU, 0, len(cfg))
	for _, g := range cfg {
		dev := g.Device
		if dev == "" {
			dev = fmt.Sprintf("/dev/nvidia%d", g.Minor)
		}
		dev = filepath.Clean(dev)
		var mem int64
		if g.Memory != "" {
			m, err := units.ParseMemory(g.Memory)
			if err != nil {
				return nil, fmt.Errorf("gpu %d memory: %w", g.Index, err)
			}
			mem = m
		}
		model := g.Model
		if model == "" {
			model = "fake"
		}
		uuid := g.UUID
		if uuid == "" {
			uuid = fmt.Sprintf("GPU-fake-%d", g.Index)
		}
		out = append(out, api.GPU{Index: g.Index, Minor: g.Minor, UUID: uuid, Model: model, MemBytes: mem, DevicePath: dev})
	}
	sort.Slice(out, func(a, b int) bool { return out[a].Index < out[b].Index })
	return out, nil
}
