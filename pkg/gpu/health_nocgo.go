//go:build !cgo

package gpu

import "errors"

// HealthChecker runs the built-in GPU checks (not built in without cgo).
type HealthChecker struct{}

// OpenHealthChecker fails: NVML support needs cgo.
func OpenHealthChecker() (*HealthChecker, error) {
	return nil, errors.New("NVML support was not built in (CGO_ENABLED=0)")
}

// Check finds nothing.
func (h *HealthChecker) Check(int) []string { return nil }

// Close does nothing.
func (h *HealthChecker) Close() {}
