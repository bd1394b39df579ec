//go:build cgo

package gpu

import (
	"testing"

	"github.com/NVIDIA/go-nvml/pkg/nvml/mock/dgxa100"

	"github.com/gsched/gsched/pkg/config"
)

func TestFromNVMLMockDGXA100(t *testing.T) {
	gpus, ver, err := FromNVML(dgxa100.New())
	if err != nil {
		t.Fatal(err)
	}
	if ver.Driver == "" {
		t.Errorf("no driver version from the mock: %+v", ver)
	}
	if len(gpus) != 8 {
		t.Fatalf("got %d GPUs, want 8", len(gpus))
	}
	for i, g := range gpus {
		if g.Index != i || g.UUID == "" || g.Model == "" || g.MemBytes <= 0 {
			t.Errorf("gpu %d: incomplete %+v", i, g)
		}
		if g.DevicePath == "" {
			t.Errorf("gpu %d: no device path", i)
		}
	}
}

func TestDeclared(t *testing.T) {
	tests := []struct {
		name    string
		in      []config.GPUConfig
		want    []string // device paths in index order
		wantErr bool
	}{
		{"default paths", []config.GPUConfig{{Index: 1, Minor: 3}, {Index: 0, Minor: 2}}, []string{"/dev/nvidia2", "/dev/nvidia3"}, false},
		{"explicit path", []config.GPUConfig{{Index: 0, Minor: 0, Device: "/x/fake0"}}, []string{"/x/fake0"}, false},
		{"bad memory", []config.GPUConfig{{Index: 0, Memory: "lots"}}, nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Declared(tc.in)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tc.wantErr)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %d GPUs, want %d", len(got), len(tc.want))
			}
			for i := range got {
				if got[i].DevicePath != tc.want[i] || got[i].Index != i {
					t.Errorf("gpu %d = %+v, want path %s", i, got[i], tc.want[i])
				}
			}
		})
	}
}

func TestDiscoverAutoFallsBackToConfig(t *testing.T) {
	// No NVIDIA driver on CI machines: auto must fall back without dying.
	info, err := Discover("auto", []config.GPUConfig{{Index: 0, Minor: 0, Device: "/tmp/fake0"}})
	if err != nil {
		t.Fatal(err)
	}
	if info.Source != "nvml" && (info.Source != "config" || len(info.GPUs) != 1) {
		t.Fatalf("unexpected discovery result %+v", info)
	}
}
