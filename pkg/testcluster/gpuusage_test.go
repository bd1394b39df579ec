package testcluster

import (
	"context"
	"testing"
	"time"

	"github.com/gsched/gsched/pkg/api"
	"github.com/gsched/gsched/pkg/rpc"
)

// nvmlNode registers a node that reports NVML GPU usage in its syncs, as a
// node daemon with NVML GPUs does, and keeps it syncing until the test
// ends (the harness's daemons have declared GPUs, which report none).
// It runs no jobs: it holds nothing but its long poll.
func nvmlNode(t *testing.T, c *Cluster, name string, gpus int, usage []api.GPUUsage) {
	t.Helper()
	cl := rpc.DialSigned(c.Addr, c.Key, name)
	n := api.Node{Name: name, CPUs: 1, MemBytes: 1 << 30, GPUSource: "nvml", BootID: "boot-" + name, Version: "test"}
	for i := 0; i < gpus; i++ {
		n.GPUs = append(n.GPUs, api.GPU{Index: i, Minor: i, Model: "NVIDIA A100-SXM4-40GB", MemBytes: 40 << 30})
	}
	register := func(ctx context.Context) error {
		var resp api.RegisterResponse
		return cl.Call(ctx, api.PathNodeRegister, &api.RegisterRequest{Node: n}, &resp)
	}
	if err := register(context.Background()); err != nil {
		t.Fatalf("register %s: %v", name, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			var resp api.SyncResponse
			err := cl.Call(ctx, api.PathNodeSync, &api.SyncRequest{Node: name, BootID: n.BootID, Reports: []api.TaskReport{},
				GPUUsage: usage, WaitMs: c.opts.Heartbeat.Milliseconds()}, &resp)
			if err == nil && resp.Reregister {
				err = register(ctx)
			}
			if err != nil && ctx.Err() == nil {
				time.Sleep(50 * time.Millisecond)
			}
		}
	}()
	t.Cleanup(func() { cancel(); <-done; cl.Close() })
}
