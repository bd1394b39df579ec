//go:build cgo

package daemon

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/NVIDIA/go-nvml/pkg/nvml"
	"github.com/NVIDIA/go-nvml/pkg/nvml/mock/dgxa100"

	"github.com/gsched/gsched/noded/agent"
	"github.com/gsched/gsched/pkg/api"
	"github.com/gsched/gsched/pkg/gpu"
	"github.com/gsched/gsched/pkg/runtime/fake"
)

// syncRecorder is a controller that registers the node, answers syncs
// after a short poll, and keeps the sync requests (as they went on the wire).
type syncRecorder struct {
	mu    sync.Mutex
	syncs []api.SyncRequest
}

func (c *syncRecorder) Call(ctx context.Context, path string, req, resp any) error {
	switch path {
	case api.PathNodeRegister:
		*resp.(*api.RegisterResponse) = api.RegisterResponse{HeartbeatMs: 10}
		return nil
	case api.PathNodeSync:
		b, err := json.Marshal(req)
		if err != nil {
			return err
		}
		var r api.SyncRequest
		if err := json.Unmarshal(b, &r); err != nil {
			return err
		}
		c.mu.Lock()
		c.syncs = append(c.syncs, r)
		c.mu.Unlock()
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Duration(r.WaitMs) * time.Millisecond):
		}
		*resp.(*api.SyncResponse) = api.SyncResponse{Jobs: []api.Job{}}
		return nil
	}
	return fmt.Errorf("%s: %w", path, api.ErrNotFound)
}

func (c *syncRecorder) last() (api.SyncRequest, int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.syncs) == 0 {
		return api.SyncRequest{}, 0
	}
	return c.syncs[len(c.syncs)-1], len(c.syncs)
}

// NVML's figures (go-nvml's mock of a DGX A100) reach the controller in
// the node's sync requests: utilisation as a share, memory used in bytes,
// nothing for a figure NVML refuses, nothing for reserved GPUs.
func TestGPUUsageReachesSync(t *testing.T) {
	lib := dgxa100.New()
	for i, d := range lib.Devices {
		dev := d.(*dgxa100.Device)
		dev.GetUtilizationRatesFunc = func() (nvml.Utilization, nvml.Return) {
			if i == 1 {
				return nvml.Utilization{}, nvml.ERROR_NOT_SUPPORTED // as in MIG mode
			}
			return nvml.Utilization{Gpu: uint32(10 * i)}, nvml.SUCCESS
		}
		dev.GetMemoryInfoFunc = func() (nvml.Memory, nvml.Return) {
			return nvml.Memory{Total: 40 << 30, Used: uint64(i) << 30, Free: uint64(40-i) << 30}, nvml.SUCCESS
		}
	}
	s, err := gpu.NewSampler(lib)
	if err != nil {
		t.Fatal(err)
	}
	node := api.Node{Name: "n1", CPUs: 4, MemBytes: 8 << 30, GPUSource: "nvml", Reserved: &api.NodeReserved{GPUs: []int{7}}}
	for i := 0; i < 7; i++ {
		node.GPUs = append(node.GPUs, api.GPU{Index: i, Minor: i})
	}
	usage := newGPUUsage(s, &node)
	defer usage.close()
	c := &syncRecorder{}
	a := agent.New(agent.Options{Node: node, Controller: c, Runtime: fake.New(), Heartbeat: time.Hour, GPUUsage: usage.report})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	deadline := time.Now().Add(10 * time.Second)
	var req api.SyncRequest
	for n := 0; n < 2 && time.Now().Before(deadline); {
		req, n = c.last()
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run = %v", err)
	}
	if len(req.GPUUsage) != 7 {
		t.Fatalf("sync carries %d GPUs' usage, want 7 (GPU 7 is reserved): %+v", len(req.GPUUsage), req.GPUUsage)
	}
	for i, u := range req.GPUUsage {
		want := api.GPUUsage{Index: i, Utilization: float64(i) / 10, HasUtilization: i != 1, MemUsed: int64(i) << 30, HasMemUsed: true}
		if i == 1 {
			want.Utilization = 0
		}
		if u != want {
			t.Errorf("GPU %d: %+v, want %+v", i, u, want)
		}
	}
}
