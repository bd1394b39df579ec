package daemon

import (
	"sync"
	"time"

	"github.com/gsched/gsched/pkg/api"
	"github.com/gsched/gsched/pkg/gpu"
)

// usageMinAge is how long one NVML reading of the GPUs' usage serves:
// syncs cut short by task changes and metrics scrapes in between reuse it.
const usageMinAge = 2 * time.Second

// usageSampler is the part of gpu.Sampler the daemon uses.
type usageSampler interface {
	Sample() []gpu.Sample
	Close()
}

var _ usageSampler = (*gpu.Sampler)(nil)

// gpuUsage is the node's one NVML sampler, shared by the heartbeat (the
// agent sends its figures with every sync) and /metrics. It reads NVML at
// most once per minAge.
type gpuUsage struct {
	s      usageSampler
	jobs   map[int]bool // indices of the GPUs offered to jobs (reserved ones are not reported)
	minAge time.Duration
	now    func() time.Time

	mu      sync.Mutex
	sampled bool
	at      time.Time
	last    []gpu.Sample
}

func newGPUUsage(s usageSampler, node *api.Node) *gpuUsage {
	u := &gpuUsage{s: s, jobs: map[int]bool{}, minAge: usageMinAge, now: time.Now}
	for _, g := range node.GPUs {
		u.jobs[g.Index] = true
	}
	return u
}

// samples returns the latest reading of every GPU, reading NVML again when
// it is older than minAge. Callers must not change the slice.
func (u *gpuUsage) samples() []gpu.Sample {
	u.mu.Lock()
	defer u.mu.Unlock()
	if now := u.now(); !u.sampled || now.Sub(u.at) >= u.minAge {
		u.last, u.at, u.sampled = u.s.Sample(), now, true
	}
	return u.last
}

// report is the latest reading of the node's job GPUs as the sync request
// carries it (agent.Options.GPUUsage).
func (u *gpuUsage) report() []api.GPUUsage {
	var out []api.GPUUsage
	for _, s := range u.samples() {
		if !u.jobs[s.Index] {
			continue
		}
		g := api.GPUUsage{Index: s.Index}
		if s.HasUtilization {
			g.Utilization, g.HasUtilization = s.Utilization, true
		}
		if s.HasMem {
			g.MemUsed, g.HasMemUsed = s.MemUsed, true
		}
		out = append(out, g)
	}
	return out
}

func (u *gpuUsage) close() { u.s.Close() }
