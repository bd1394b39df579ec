//go:build !cgo

package gpu

import "errors"

// Sampler reads GPU usage through NVML (not built in without cgo).
type Sampler struct{}

// OpenSampler fails: NVML support needs cgo.
func OpenSampler() (*Sampler, error) {
	return nil, errors.New("NVML support was not built in (CGO_ENABLED=0)")
}

// Sample returns nothing.
func (s *Sampler) Sample() []Sample { return nil }

// Close does nothing.
func (s *Sampler) Close() {}
