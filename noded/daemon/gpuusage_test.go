package daemon

import (
	"reflect"
	"testing"
	"time"

	"github.com/gsched/gsched/pkg/api"
	"github.com/gsched/gsched/pkg/gpu"
)

// countingSampler returns the samples it is given and counts its reads.
type countingSampler struct {
	samples []gpu.Sample
	reads   int
	closed  bool
}

func (c *countingSampler) Sample() []gpu.Sample {
	c.reads++
	return append([]gpu.Sample(nil), c.samples...)
}

func (c *countingSampler) Close() { c.closed = true }

// The usage report covers the job GPUs only, keeps NVML's gaps as gaps,
// and reads NVML at most once per usageMinAge however often it is asked.
func TestGPUUsageReport(t *testing.T) {
	s := &countingSampler{samples: []gpu.Sample{
		{Index: 0, Utilization: 0.73, HasUtilization: true, MemUsed: 12 << 30, MemTotal: 80 << 30, HasMem: true},
		{Index: 1, MemUsed: 1 << 30, MemTotal: 80 << 30, HasMem: true}, // MIG: no utilisation
		{Index: 2, Utilization: 0.5, HasUtilization: true},             // no memory figures
		{Index: 3, Utilization: 1, HasUtilization: true, MemUsed: 5, HasMem: true},
	}}
	// GPU 3 is reserved for the host: not offered to jobs, not reported.
	node := &api.Node{Name: "n1", GPUs: []api.GPU{{Index: 0}, {Index: 1}, {Index: 2}}, Reserved: &api.NodeReserved{GPUs: []int{3}}}
	u := newGPUUsage(s, node)
	clock := time.Unix(1_700_000_000, 0)
	u.now = func() time.Time { return clock }

	want := []api.GPUUsage{
		{Index: 0, Utilization: 0.73, HasUtilization: true, MemUsed: 12 << 30, HasMemUsed: true},
		{Index: 1, MemUsed: 1 << 30, HasMemUsed: true},
		{Index: 2, Utilization: 0.5, HasUtilization: true},
	}
	if got := u.report(); !reflect.DeepEqual(got, want) {
		t.Fatalf("report\n got %+v\nwant %+v", got, want)
	}
	steps := []struct {
		name      string
		advance   time.Duration
		util0     float64
		wantReads int
		wantUtil0 float64
	}{
		{"again at once: the same reading", 0, 0.10, 1, 0.73},
		{"just under the minimum age", usageMinAge - time.Millisecond, 0.20, 1, 0.73},
		{"at the minimum age: read again", time.Millisecond, 0.30, 2, 0.30},
		{"soon after: still that reading", time.Second, 0.40, 2, 0.30},
	}
	for _, st := range steps {
		clock = clock.Add(st.advance)
		s.samples[0].Utilization = st.util0
		got := u.report()
		if s.reads != st.wantReads || len(got) != 3 || got[0].Utilization != st.wantUtil0 {
			t.Errorf("%s: %d NVML reads, GPU 0 at %v; want %d reads, %v", st.name, s.reads, got, st.wantReads, st.wantUtil0)
		}
	}
	// /metrics reads through the same cache.
	if got := u.samples(); s.reads != 2 || len(got) != 4 {
		t.Errorf("samples: %d reads, %d GPUs", s.reads, len(got))
	}
	u.close()
	if !s.closed {
		t.Error("close did not close the sampler")
	}
}

// Declared GPUs have no sampler: the agent gets no usage function and
// sends nothing.
func TestGPUUsageOffForDeclaredGPUs(t *testing.T) {
	var o observability
	if f := o.gpuUsageFunc(); f != nil {
		t.Errorf("usage function %p without a sampler", f)
	}
	o.usage = newGPUUsage(&countingSampler{samples: []gpu.Sample{{Index: 0, HasUtilization: true}}}, &api.Node{GPUs: []api.GPU{{Index: 0}}})
	if f := o.gpuUsageFunc(); f == nil || len(f()) != 1 {
		t.Error("no usage function with a sampler")
	}
}
