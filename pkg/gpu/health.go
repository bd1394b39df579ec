//go:build cgo

package gpu

import (
	"fmt"
	"slices"
	"sync"

	"github.com/NVIDIA/go-nvml/pkg/nvml"
)

// applicationXIDs are XID errors a user's program causes (a bad memory
// access, a graphics engine exception, a reset channel...): they say
// nothing about the GPU's health. NVIDIA's Kubernetes device plugin skips
// the same ones.
var applicationXIDs = []uint64{13, 31, 43, 45, 68, 109}

// HealthChecker runs the built-in GPU checks through NVML: NVML
// answering, the GPU count, uncorrectable ECC errors and critical XID
// events. It keeps NVML initialised until Close.
type HealthChecker struct {
	lib nvml.Interface
	set nvml.EventSet // nil when XID events cannot be watched

	mu   sync.Mutex
	xids []string // critical XIDs seen: they stick until the daemon restarts
}

// OpenHealthChecker opens the real NVML.
func OpenHealthChecker() (*HealthChecker, error) { return NewHealthChecker(nvml.New()) }

// NewHealthChecker opens a checker on lib (the real library or go-nvml's
// mocks) and registers for XID events on every GPU that supports them.
func NewHealthChecker(lib nvml.Interface) (*HealthChecker, error) {
	if ret := lib.Init(); ret != nvml.SUCCESS {
		return nil, fmt.Errorf("%w: nvmlInit: %s", errNoNVML, lib.ErrorString(ret))
	}
	h := &HealthChecker{lib: lib}
	n, ret := lib.DeviceGetCount()
	if ret != nvml.SUCCESS {
		return h, nil // Check reports it
	}
	set, ret := lib.EventSetCreate()
	if ret != nvml.SUCCESS {
		return h, nil
	}
	registered := 0
	for i := 0; i < n; i++ {
		d, ret := lib.DeviceGetHandleByIndex(i)
		if ret != nvml.SUCCESS {
			continue
		}
		if d.RegisterEvents(nvml.EventTypeXidCriticalError, set) == nvml.SUCCESS {
			registered++
		}
	}
	if registered == 0 {
		set.Free()
		return h, nil
	}
	h.set = set
	return h, nil
}

// Check runs the checks and returns each problem found ("7 GPUs, expected
// 8"); none means healthy. expected <= 0 skips the count check.
func (h *HealthChecker) Check(expected int) []string {
	n, ret := h.lib.DeviceGetCount()
	if ret != nvml.SUCCESS {
		return []string{"NVML unreachable: " + h.lib.ErrorString(ret)}
	}
	var problems []string
	if expected > 0 && n != expected {
		problems = append(problems, fmt.Sprintf("%d GPUs, expected %d", n, expected))
	}
	for i := 0; i < n; i++ {
		d, ret := h.lib.DeviceGetHandleByIndex(i)
		if ret != nvml.SUCCESS {
			problems = append(problems, fmt.Sprintf("GPU %d: NVML cannot reach it: %s", i, h.lib.ErrorString(ret)))
			continue
		}
		// Volatile: errors since the driver loaded (NOT_SUPPORTED
		// without ECC, e.g. on consumer GPUs).
		if c, ret := d.GetTotalEccErrors(nvml.MEMORY_ERROR_TYPE_UNCORRECTED, nvml.VOLATILE_ECC); ret == nvml.SUCCESS && c > 0 {
			problems = append(problems, fmt.Sprintf("GPU %d: %d uncorrectable ECC errors", i, c))
		}
	}
	return append(problems, h.drainXIDs()...)
}

// drainXIDs reads the XID events that arrived since the last check and
// returns every critical one seen so far.
func (h *HealthChecker) drainXIDs() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.set == nil {
		return nil
	}
	for k := 0; k < 1024; k++ { // bounded: a storm of events must not stall the check
		e, ret := h.set.Wait(0)
		if ret != nvml.SUCCESS {
			break
		}
		if e.EventType != nvml.EventTypeXidCriticalError || slices.Contains(applicationXIDs, e.EventData) {
			continue
		}
		idx := -1
		if e.Device != nil {
			if i, ret := e.Device.GetIndex(); ret == nvml.SUCCESS {
				idx = i
			}
		}
		msg := fmt.Sprintf("GPU %d: XID %d", idx, e.EventData)
		if !slices.Contains(h.xids, msg) {
			h.xids = append(h.xids, msg)
		}
	}
	return slices.Clone(h.xids)
}

// Close frees the event set and shuts NVML down.
func (h *HealthChecker) Close() {
	if h.set != nil {
		h.set.Free()
	}
	h.lib.Shutdown()
}
