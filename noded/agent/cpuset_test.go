package agent

import (
	"testing"

	"github.com/gsched/gsched/pkg/api"
	"github.com/gsched/gsched/pkg/topology"
)

func TestCPUSet(t *testing.T) {
	dgx, err := topology.Preset("dgx-h100") // GPUs 0-3: NUMA 0 (CPUs 0-55); 4-7: NUMA 1 (56-111)
	if err != nil {
		t.Fatal(err)
	}
	all := make([]int, 112)
	for i := range all {
		all[i] = i
	}
	tests := []struct {
		name   string
		topo   *api.GPUTopology
		gpus   []int
		online []int
		want   string
	}{
		{"no gpus", dgx, nil, all, ""},
		{"unknown topology", nil, []int{0}, all, ""},
		{"numa 0", dgx, []int{1, 2}, all, "0-55"},
		{"both sockets", dgx, []int{3, 4}, all, "0-111"},
		{"host has fewer cpus", dgx, []int{0}, []int{0, 1}, "0-1"},
		{"none of them here", dgx, []int{5}, []int{0, 1}, ""},
	}
	for _, tc := range tests {
		if got := cpuSet(tc.topo, tc.gpus, tc.online); got != tc.want {
			t.Errorf("%s: cpuSet = %q, want %q", tc.name, got, tc.want)
		}
	}
}
