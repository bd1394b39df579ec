//go:build cgo

package gpu

import (
	"testing"

	"github.com/NVIDIA/go-nvml/pkg/nvml"
	"github.com/NVIDIA/go-nvml/pkg/nvml/mock/dgxa100"
)

// The sampler reads utilisation and memory per GPU from NVML, and leaves
// out what NVML cannot give (here GPU 1's utilisation).
func TestSamplerMock(t *testing.T) {
	lib := dgxa100.New()
	for i, d := range lib.Devices {
		dev := d.(*dgxa100.Device)
		util := uint32(10 * i)
		dev.GetUtilizationRatesFunc = func() (nvml.Utilization, nvml.Return) {
			if util == 10 {
				return nvml.Utilization{}, nvml.ERROR_NOT_SUPPORTED
			}
			return nvml.Utilization{Gpu: util}, nvml.SUCCESS
		}
	}
	s, err := NewSampler(lib)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got := s.Sample()
	if len(got) != 8 {
		t.Fatalf("%d samples, want 8", len(got))
	}
	for i, g := range got {
		if g.Index != i || !g.HasMem || g.MemTotal <= 0 || g.MemUsed < 0 || g.MemUsed > g.MemTotal {
			t.Errorf("gpu %d: %+v", i, g)
		}
		if want := float64(i) / 10; g.HasUtilization != (i != 1) || (i != 1 && g.Utilization != want) {
			t.Errorf("gpu %d: utilization %v (%v), want %v", i, g.Utilization, g.HasUtilization, want)
		}
	}
}
