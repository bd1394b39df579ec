package topology

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/gsched/gsched/pkg/api"
)

func mustPreset(t testing.TB, name string) *api.GPUTopology {
	t.Helper()
	p, err := Preset(name)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestPresetsValidate(t *testing.T) {
	want := []string{"dgx-h100", "nvlink-pairs-4gpu", "pcie-8gpu-2socket"}
	if got := Presets(); !reflect.DeepEqual(got, want) {
		t.Fatalf("Presets() = %v, want %v", got, want)
	}
	sizes := map[string]int{"dgx-h100": 8, "nvlink-pairs-4gpu": 4, "pcie-8gpu-2socket": 8}
	for _, name := range Presets() {
		p := mustPreset(t, name)
		if err := Validate(p, sizes[name]); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		if p.Source != name {
			t.Errorf("%s: source %q", name, p.Source)
		}
	}
	if _, err := Preset("dgx-z9"); !errors.Is(err, ErrInvalid) {
		t.Errorf("unknown preset: err = %v", err)
	}
}

func TestPresetIsACopy(t *testing.T) {
	a := mustPreset(t, "dgx-h100")
	a.Links[0][1] = int(SYS)
	a.CPUs[0][0] = 99
	b := mustPreset(t, "dgx-h100")
	if b.Links[0][1] != int(NVLink) || b.CPUs[0][0] != 0 {
		t.Fatal("Preset returned shared state")
	}
}

// TestPresetShapes checks the hand-written facts documented on Preset.
func TestPresetShapes(t *testing.T) {
	dgx := mustPreset(t, "dgx-h100")
	pcie := mustPreset(t, "pcie-8gpu-2socket")
	pairs := mustPreset(t, "nvlink-pairs-4gpu")
	tests := []struct {
		name      string
		got, want any
	}{
		{"dgx NUMA", dgx.NUMA, []int{0, 0, 0, 0, 1, 1, 1, 1}},
		{"dgx NV count", dgx.NVLinks[2][6], 18},
		{"dgx NICs", len(dgx.NICs), 8},
		{"dgx NIC3 links", dgx.NICs[3].Links, []int{5, 5, 5, 2, 6, 6, 6, 6}},
		{"dgx NIC5 numa", dgx.NICs[5].NUMA, 1},
		{"dgx CPUs node 1", [2]int{dgx.CPUs[1][0], dgx.CPUs[1][55]}, [2]int{56, 111}},
		{"pcie row 0", pcie.Links[0], []int{0, 2, 5, 5, 6, 6, 6, 6}},
		{"pcie row 6", pcie.Links[6], []int{6, 6, 6, 6, 5, 5, 0, 2}},
		{"pcie no NVLink", pcie.NVLinks, [][]int(nil)},
		{"pcie NIC0", pcie.NICs[0].Links, []int{5, 5, 2, 2, 6, 6, 6, 6}},
		{"pcie NIC1", pcie.NICs[1].Links, []int{6, 6, 6, 6, 5, 5, 2, 2}},
		{"pairs links", pairs.Links, [][]int{{0, 1, 4, 4}, {1, 0, 4, 4}, {4, 4, 0, 1}, {4, 4, 1, 0}}},
		{"pairs nvlinks", pairs.NVLinks[2][3], 4},
		{"pairs NUMA", pairs.NUMA, []int{0, 0, 0, 0}},
	}
	for _, tc := range tests {
		if !reflect.DeepEqual(tc.got, tc.want) {
			t.Errorf("%s = %v, want %v", tc.name, tc.got, tc.want)
		}
	}
}

func TestValidate(t *testing.T) {
	ok := func() *api.GPUTopology { return mustPreset(t, "nvlink-pairs-4gpu") }
	tests := []struct {
		name   string
		mutate func(*api.GPUTopology)
		n      int
		ok     bool
	}{
		{"preset", func(*api.GPUTopology) {}, 4, true},
		{"no NUMA", func(p *api.GPUTopology) { p.NUMA = nil }, 4, true},
		{"wrong size", func(*api.GPUTopology) {}, 5, false},
		{"short row", func(p *api.GPUTopology) { p.Links[2] = p.Links[2][:3] }, 4, false},
		{"diagonal", func(p *api.GPUTopology) { p.Links[1][1] = 1 }, 4, false},
		{"self off diagonal", func(p *api.GPUTopology) { p.Links[1][2], p.Links[2][1] = 0, 0 }, 4, false},
		{"out of range", func(p *api.GPUTopology) { p.Links[1][2], p.Links[2][1] = 7, 7 }, 4, false},
		{"asymmetric", func(p *api.GPUTopology) { p.Links[0][2] = int(SYS) }, 4, false},
		{"nvlinks asymmetric", func(p *api.GPUTopology) { p.NVLinks[0][1] = 2 }, 4, false},
		{"nvlinks without NVLink", func(p *api.GPUTopology) { p.NVLinks[0][2], p.NVLinks[2][0] = 2, 2 }, 4, false},
		{"nvlinks diagonal", func(p *api.GPUTopology) { p.NVLinks[0][0] = 2 }, 4, false},
		{"NUMA length", func(p *api.GPUTopology) { p.NUMA = []int{0} }, 4, false},
		{"NUMA value", func(p *api.GPUTopology) { p.NUMA[3] = -2 }, 4, false},
		{"negative CPU", func(p *api.GPUTopology) { p.CPUs[0] = []int{-1} }, 4, false},
		{"NIC links", func(p *api.GPUTopology) { p.NICs = []api.NIC{{Name: "x", Links: []int{2}}} }, 4, false},
		{"NIC self", func(p *api.GPUTopology) { p.NICs = []api.NIC{{Name: "x", Links: []int{0, 2, 2, 2}}} }, 4, false},
	}
	for _, tc := range tests {
		p := ok()
		tc.mutate(p)
		err := Validate(p, tc.n)
		if (err == nil) != tc.ok {
			t.Errorf("%s: err = %v, want ok %v", tc.name, err, tc.ok)
		}
		if err != nil && !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v does not wrap ErrInvalid", tc.name, err)
		}
	}
	if err := Validate(nil, 8); err != nil {
		t.Errorf("nil topology: %v", err)
	}
}

func TestFromSpec(t *testing.T) {
	tests := []struct {
		spec    string
		source  string
		gpus    int
		wantErr string
	}{
		{"", "", 0, ""},
		{"  dgx-h100\n", "dgx-h100", 8, ""},
		{"X NV4; NV4 X", "matrix", 2, ""},
		{"X", "matrix", 1, ""},
		{"\tGPU0\tGPU1\nGPU0\t X \tPIX\nGPU1\tPIX\t X \n", "matrix", 2, ""},
		{"dgx-a100", "", 0, `unknown preset "dgx-a100"`},
		{"X PIX; SYS X", "", 0, "asymmetric"},
	}
	for _, tc := range tests {
		p, err := FromSpec(tc.spec)
		switch {
		case tc.wantErr != "":
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("FromSpec(%q) err = %v, want %q", tc.spec, err, tc.wantErr)
			}
		case err != nil:
			t.Errorf("FromSpec(%q): %v", tc.spec, err)
		case tc.source == "" && p != nil:
			t.Errorf("FromSpec(%q) = %+v, want nil", tc.spec, p)
		case tc.source != "" && (p.Source != tc.source || len(p.Links) != tc.gpus):
			t.Errorf("FromSpec(%q) = source %q, %d GPUs", tc.spec, p.Source, len(p.Links))
		}
	}
}
