package units

import (
	"errors"
	"testing"

	"github.com/gsched/gsched/pkg/api"
)

func TestParseTRES(t *testing.T) {
	tests := []struct {
		in      string
		want    api.TRES
		wantErr bool
	}{
		{"", api.TRES{}, false},
		{"cpu=64,mem=256G,gpu=8", api.TRES{CPUs: 64, MemBytes: 256 << 30, GPUs: 8}, false},
		{" gres/gpu = 2 , node=1", api.TRES{GPUs: 2, Nodes: 1}, false},
		{"mem=512", api.TRES{MemBytes: 512 << 20}, false},
		{"GPU=4", api.TRES{GPUs: 4}, false},
		{"cpu=-1", api.TRES{}, true},
		{"cpu=1,cpu=2", api.TRES{}, true},
		{"disk=5", api.TRES{}, true},
		{"gpu", api.TRES{}, true},
		{"gpu=", api.TRES{}, true},
		{"cpu=99999999999", api.TRES{}, true},
		{"mem=lots", api.TRES{}, true},
	}
	for _, tc := range tests {
		got, err := ParseTRES(tc.in)
		if (err != nil) != tc.wantErr || got != tc.want {
			t.Errorf("ParseTRES(%q) = %+v, %v; want %+v, err %v", tc.in, got, err, tc.want, tc.wantErr)
		}
		if err != nil && !errors.Is(err, api.ErrInvalid) {
			t.Errorf("ParseTRES(%q) error %v is not invalid", tc.in, err)
		}
	}
}

func FuzzParseTRES(f *testing.F) {
	for _, s := range []string{"cpu=1,mem=2G,gpu=3", "gres/gpu=1", "node=2", "=", ",,,"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseTRES(s)
		if err != nil {
			checkParseError(t, s, err)
			return
		}
		if got.CPUs < 0 || got.GPUs < 0 || got.MemBytes < 0 || got.Nodes < 0 {
			t.Fatalf("ParseTRES(%q) = %+v", s, got)
		}
	})
}
