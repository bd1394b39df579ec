package agent

import (
	"testing"

	"github.com/gsched/gsched/pkg/api"
	"github.com/gsched/gsched/pkg/topology"
)

func TestJobCPUSetAvoidsReservedCPUs(t *testing.T) {
	dgx, err := topology.Preset("dgx-h100") // GPUs 0-3: NUMA 0 (CPUs 0-55); 4-7: NUMA 1 (56-111)
	if err != nil {
		t.Fatal(err)
	}
	seq := func(lo, hi int) []int {
		var l []int
		for c := lo; c <= hi; c++ {
			l = append(l, c)
		}
		return l
	}
	all := seq(0, 111)
	res := func(usable []int) *api.NodeReserved { return &api.NodeReserved{UsableCPUs: usable} }
	tests := []struct {
		name   string
		node   api.Node
		gpus   []int
		online []int
		want   string
	}{
		{"no reservation, cpu job", api.Node{Topology: dgx}, nil, all, ""},
		{"no reservation, gpu job", api.Node{Topology: dgx}, []int{0}, all, "0-55"},
		{"cpu job on usable cpus", api.Node{Reserved: res(seq(2, 111))}, nil, all, "2-111"},
		{"gpu job: numa cpus minus reserved", api.Node{Topology: dgx, Reserved: res(seq(2, 111))}, []int{0}, all, "2-55"},
		{"gpu job: numa all reserved", api.Node{Topology: dgx, Reserved: res(seq(56, 111))}, []int{0}, all, "56-111"},
		{"small host", api.Node{Reserved: res([]int{1})}, nil, []int{0, 1}, "1"},
		{"usable cpu not online", api.Node{Reserved: res([]int{7})}, nil, []int{0, 1}, ""},
	}
	for _, tc := range tests {
		if got := jobCPUSet(&tc.node, tc.gpus, tc.online); got != tc.want {
			t.Errorf("%s: jobCPUSet = %q, want %q", tc.name, got, tc.want)
		}
	}
}
