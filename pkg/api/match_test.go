package api

import (
	"slices"
	"testing"
)

func TestGPUMatchingAndFeatures(t *testing.T) {
	h100 := GPU{Model: "NVIDIA H100 80GB HBM3", MemBytes: 80 << 30}
	a10 := GPU{Model: "NVIDIA A10", MemBytes: 24 << 30}
	tests := []struct {
		spec JobSpec
		gpu  GPU
		want bool
	}{
		{JobSpec{}, a10, true},
		{JobSpec{GPUType: "h100"}, h100, true},
		{JobSpec{GPUType: "H100"}, a10, false},
		{JobSpec{GPUMemMin: 40 << 30}, a10, false},
		{JobSpec{GPUMemMin: 40 << 30}, h100, true},
		{JobSpec{GPUType: "a10", GPUMemMin: 16 << 30}, a10, true},
	}
	for i, tc := range tests {
		if got := tc.spec.GPUMatches(&tc.gpu); got != tc.want {
			t.Errorf("%d: %+v on %s = %v", i, tc.spec, tc.gpu.Model, got)
		}
	}
	n := Node{GPUs: []GPU{h100, a10, h100}, Features: []string{"IB", "nvme"}}
	if c := n.MatchingGPUs(&JobSpec{GPUType: "h100"}); c != 2 {
		t.Errorf("matching h100 = %d", c)
	}
	for c, want := range map[string]bool{"": true, "ib": true, "ib&nvme": true, " ib , nvme ": true, "ib&gpu80": false} {
		s := JobSpec{Constraint: c}
		if got := n.HasFeatures(s.Features()); got != want {
			t.Errorf("constraint %q: %v (features %v)", c, got, s.Features())
		}
	}
	if got := (&JobSpec{Constraint: "a&&b"}).Features(); !slices.Equal(got, []string{"a", "b"}) {
		t.Errorf("Features = %v", got)
	}
}
