package cli

import (
	"bytes"
	"strings"
	"testing"

	"github.com/gsched/gsched/pkg/api"
)

func TestShowNodeGPUUsage(t *testing.T) {
	base := api.NodeInfo{Node: api.Node{Name: "n1", CPUs: 8, GPUs: []api.GPU{{Index: 0}, {Index: 1}}}, DisplayState: "IDLE"}
	tests := []struct {
		name    string
		usage   []api.GPUUsage
		want    string
		notWant string
	}{
		{"no report", nil, "", "GpuUtil"},
		{"both GPUs, one without utilisation", []api.GPUUsage{
			{Index: 0, Utilization: 0.734, HasUtilization: true, MemUsed: 12800 << 20, HasMemUsed: true},
			{Index: 1, MemUsed: 1 << 30, HasMemUsed: true}},
			"\n  GpuUtil=0:73%,1:n/a GpuMemUsed=0:12.5G,1:1G", ""},
		{"no memory figure", []api.GPUUsage{{Index: 1, Utilization: 1, HasUtilization: true}},
			"GpuUtil=1:100% GpuMemUsed=1:n/a", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n := base
			n.GPUUsage = tc.usage
			var b bytes.Buffer
			writeRecord(&b, NodeRecord(&n), false)
			out := b.String()
			if !strings.Contains(out, tc.want) || tc.notWant != "" && strings.Contains(out, tc.notWant) {
				t.Errorf("record lacks %q or shows %q:\n%s", tc.want, tc.notWant, out)
			}
		})
	}
}
