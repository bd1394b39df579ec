package server

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/gsched/gsched/pkg/api"
)

func TestCleanReason(t *testing.T) {
	long := strings.Repeat("é", 200) // 400 bytes
	tests := []struct{ in, want string }{
		{"  7 GPUs, expected 8 \n", "7 GPUs, expected 8"},
		{"two\nlines\tand\x1b[31mcolour", "two lines and [31mcolour"},
		{"", "(no reason given)"},
		{"\n\t ", "(no reason given)"},
	}
	for _, tc := range tests {
		if got := cleanReason(tc.in); got != tc.want {
			t.Errorf("cleanReason(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	long2 := "x" + long // 401 bytes: the cut falls inside an é
	if got := cleanReason(long); got != long[:api.MaxHealthReason] {
		t.Errorf("long reason: %q", got)
	}
	if got := cleanReason(long2); len(got) != api.MaxHealthReason-1 || !utf8.ValidString(got) || !strings.HasPrefix(got, "xé") {
		t.Errorf("long reason: %d bytes, valid UTF-8 %v", len(got), utf8.ValidString(got))
	}
}

func TestCheckReserved(t *testing.T) {
	gpus := []api.GPU{{Index: 0}, {Index: 2}}
	tests := []struct {
		name     string
		reserved *api.NodeReserved
		wantTopo int
		wantErr  bool
	}{
		{"none", nil, 2, false},
		{"a reserved gpu", &api.NodeReserved{GPUs: []int{1}, CPUs: []int{0}, UsableCPUs: []int{1, 2}}, 3, false},
		{"reserved gpu also offered", &api.NodeReserved{GPUs: []int{2}}, 0, true},
		{"negative gpu", &api.NodeReserved{GPUs: []int{-1}}, 0, true},
		{"negative cpu", &api.NodeReserved{CPUs: []int{-3}}, 0, true},
		{"huge cpu id", &api.NodeReserved{UsableCPUs: []int{1 << 30}}, 0, true},
		{"negative memory", &api.NodeReserved{MemBytes: -1}, 0, true},
	}
	for _, tc := range tests {
		n := api.Node{Name: "n1", GPUs: gpus, Reserved: tc.reserved}
		got, err := checkReserved(&n)
		if (err != nil) != tc.wantErr || (!tc.wantErr && got != tc.wantTopo) {
			t.Errorf("%s: %d, %v", tc.name, got, err)
		}
	}
}
