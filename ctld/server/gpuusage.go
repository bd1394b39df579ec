package server

import (
	"math"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/gsched/gsched/pkg/api"
	"github.com/gsched/gsched/pkg/units"
)

// gpuUsageHeartbeats is how many heartbeat intervals a node's GPU usage
// report stays shown without a newer one.
const gpuUsageHeartbeats = 3

// gpuUsageStore keeps the GPU usage each node sent with its latest sync.
// It is telemetry, held in the leader's memory only and never written to
// raft: it changes with every heartbeat, is worthless after a few of them,
// and a new leader learns it again from the nodes' next syncs.
type gpuUsageStore struct {
	mu sync.Mutex
	m  map[string]nodeGPUUsage // by node name
}

type nodeGPUUsage struct {
	at   time.Time // when the controller received it
	gpus []api.GPUUsage
}

// set records a node's report (an empty one forgets the node's figures).
func (g *gpuUsageStore) set(node string, at time.Time, gpus []api.GPUUsage) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(gpus) == 0 {
		delete(g.m, node)
		return
	}
	if g.m == nil {
		g.m = map[string]nodeGPUUsage{}
	}
	g.m[node] = nodeGPUUsage{at: at, gpus: gpus}
}

// forget drops a node's figures (it went down or registered again).
func (g *gpuUsageStore) forget(node string) { g.set(node, time.Time{}, nil) }

// get returns a copy of a node's figures if they are younger than maxAge
// at now, and drops them otherwise.
func (g *gpuUsageStore) get(node string, now time.Time, maxAge time.Duration) ([]api.GPUUsage, time.Time) {
	g.mu.Lock()
	defer g.mu.Unlock()
	u, ok := g.m[node]
	if !ok {
		return nil, time.Time{}
	}
	if now.Sub(u.at) > maxAge {
		delete(g.m, node)
		return nil, time.Time{}
	}
	return slices.Clone(u.gpus), u.at
}

// retain drops the figures of nodes not in keep (nodes no longer known).
func (g *gpuUsageStore) retain(keep map[string]bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for name := range g.m {
		if !keep[name] {
			delete(g.m, name)
		}
	}
}

// cleanGPUUsage keeps the usage entries of GPUs the node registered (one
// per index, by index), with utilisation clamped to 0..1 and memory to
// 0..the GPU's memory (when known); a figure without its Has flag is 0.
// A report with more entries than any node may have GPUs is dropped.
func cleanGPUUsage(n *api.Node, in []api.GPUUsage) []api.GPUUsage {
	if len(in) == 0 || len(in) > maxGPUs {
		return nil
	}
	mem := map[int]int64{}
	for _, g := range n.GPUs {
		mem[g.Index] = g.MemBytes
	}
	seen := map[int]bool{}
	var out []api.GPUUsage
	for _, u := range in {
		total, known := mem[u.Index]
		if !known || seen[u.Index] {
			continue
		}
		seen[u.Index] = true
		if !u.HasUtilization || math.IsNaN(u.Utilization) {
			u.Utilization, u.HasUtilization = 0, false
		}
		u.Utilization = min(max(u.Utilization, 0), 1)
		if !u.HasMemUsed {
			u.MemUsed = 0
		}
		u.MemUsed = max(u.MemUsed, 0)
		if total > 0 {
			u.MemUsed = min(u.MemUsed, total)
		} else {
			u.MemUsed = min(u.MemUsed, maxMemBytes)
		}
		out = append(out, u)
	}
	slices.SortFunc(out, func(a, b api.GPUUsage) int { return a.Index - b.Index })
	return out
}

// recordGPUUsage keeps a syncing node's GPU usage report.
func (s *Server) recordGPUUsage(n *api.Node, in []api.GPUUsage) {
	s.gpuUse.set(n.Name, s.now(), cleanGPUUsage(n, in))
}

// nodeGPUUsage is what the node listing shows of a node's GPU usage:
// nothing for a DOWN node or a report older than gpuUsageHeartbeats
// heartbeats.
func (s *Server) nodeGPUUsage(n *api.Node) ([]api.GPUUsage, time.Time) {
	if n.State == api.NodeDown {
		s.gpuUse.forget(n.Name)
		return nil, time.Time{}
	}
	return s.gpuUse.get(n.Name, s.now(), gpuUsageHeartbeats*s.cfg.Controller.HeartbeatInterval.Duration)
}

// utilPct is a utilisation (0..1) in whole percent.
func utilPct(u float64) int { return int(math.Round(min(max(u, 0), 1) * 100)) }

// gpuUseText is how the dashboard writes a GPU's usage: "73% · 12G"
// (utilisation, memory used), one of the two, or "n/a" for a figure NVML
// could not give or a GPU without figures (declared GPUs, no recent
// report). dashboard.js writes the same.
func gpuUseText(u *api.GPUUsage) string {
	if u == nil || !u.HasUtilization && !u.HasMemUsed {
		return "n/a"
	}
	util, mem := "n/a", ""
	if u.HasUtilization {
		util = strconv.Itoa(utilPct(u.Utilization)) + "%"
	}
	if u.HasMemUsed {
		mem = " · " + units.FormatMemoryHuman(u.MemUsed)
	}
	return util + mem
}
