package daemon

import (
	"reflect"
	"strings"
	"testing"

	"github.com/gsched/gsched/pkg/api"
	"github.com/gsched/gsched/pkg/config"
)

func TestReserve(t *testing.T) {
	gpus := func(idx ...int) []api.GPU {
		var l []api.GPU
		for _, i := range idx {
			l = append(l, api.GPU{Index: i, Minor: i})
		}
		return l
	}
	online := []int{0, 1, 2, 3}
	tests := []struct {
		name     string
		nc       config.NodeConfig
		wantCPUs int
		wantMem  int64
		wantGPUs []api.GPU
		wantRes  *api.NodeReserved
		wantErr  string
	}{
		{name: "nothing", wantCPUs: 4, wantMem: 8 << 30, wantGPUs: gpus(0, 1, 2)},
		{name: "count", nc: config.NodeConfig{ReservedCPUs: config.CPUReserve{Count: 1}},
			wantCPUs: 3, wantMem: 8 << 30, wantGPUs: gpus(0, 1, 2),
			wantRes: &api.NodeReserved{CPUs: []int{0}, UsableCPUs: []int{1, 2, 3}}},
		{name: "list, memory and a gpu", nc: config.NodeConfig{ReservedCPUs: config.CPUReserve{List: []int{1, 3}},
			ReservedMemory: "2G", ReservedGPUs: []int{1}},
			wantCPUs: 2, wantMem: 6 << 30, wantGPUs: gpus(0, 2),
			wantRes: &api.NodeReserved{CPUs: []int{1, 3}, UsableCPUs: []int{0, 2}, MemBytes: 2 << 30, GPUs: []int{1}}},
		{name: "all cpus", nc: config.NodeConfig{ReservedCPUs: config.CPUReserve{Count: 4}}, wantErr: "leaves none"},
		{name: "offline cpu", nc: config.NodeConfig{ReservedCPUs: config.CPUReserve{List: []int{9}}}, wantErr: "not online"},
		{name: "all memory", nc: config.NodeConfig{ReservedMemory: "8G"}, wantErr: "reserved_memory"},
		{name: "unknown gpu", nc: config.NodeConfig{ReservedGPUs: []int{5}}, wantErr: "no GPU 5"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n := api.Node{CPUs: 4, MemBytes: 8 << 30, GPUs: gpus(0, 1, 2)}
			err := Reserve(&n, &tc.nc, online)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if n.CPUs != tc.wantCPUs || n.MemBytes != tc.wantMem || !reflect.DeepEqual(n.GPUs, tc.wantGPUs) || !reflect.DeepEqual(n.Reserved, tc.wantRes) {
				t.Errorf("got cpus %d mem %d gpus %v reserved %+v", n.CPUs, n.MemBytes, n.GPUs, n.Reserved)
			}
		})
	}
}
