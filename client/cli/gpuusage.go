package cli

import (
	"math"
	"strconv"
	"strings"

	"github.com/gsched/gsched/pkg/api"
	"github.com/gsched/gsched/pkg/units"
)

// gpuUsageFields are `gcontrol show node`'s GPU usage fields, present when
// the node's latest heartbeat carried NVML figures: per GPU index, its
// utilisation and memory in use ("GpuUtil=0:73%,1:n/a
// GpuMemUsed=0:12.5G,1:1G"), n/a for a figure NVML could not give.
func gpuUsageFields(n *api.NodeInfo) []kv {
	if len(n.GPUUsage) == 0 {
		return nil
	}
	util := make([]string, 0, len(n.GPUUsage))
	mem := make([]string, 0, len(n.GPUUsage))
	for _, u := range n.GPUUsage {
		i := strconv.Itoa(u.Index) + ":"
		if u.HasUtilization {
			util = append(util, i+strconv.Itoa(int(math.Round(u.Utilization*100)))+"%")
		} else {
			util = append(util, i+"n/a")
		}
		if u.HasMemUsed {
			mem = append(mem, i+units.FormatMemoryHuman(u.MemUsed))
		} else {
			mem = append(mem, i+"n/a")
		}
	}
	return []kv{lineBreak, {"GpuUtil", strings.Join(util, ",")}, {"GpuMemUsed", strings.Join(mem, ",")}}
}
