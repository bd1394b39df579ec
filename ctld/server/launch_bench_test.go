package server

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/gsched/gsched/noded/agent"
	"github.com/gsched/gsched/pkg/api"
	"github.com/gsched/gsched/pkg/config"
	"github.com/gsched/gsched/pkg/rpc"
	"github.com/gsched/gsched/pkg/runtime/fake"
)

// BenchmarkLaunchScaling: how the controller's launch path scales with
// the number of node daemons. An in-process controller (real raft and
// bbolt, TCP node listener) and 10, 100 or 1,000 simulated node daemons
// (the real node agent, signed RPCs, long-poll sync) whose runtime ends
// every task 10 ms after it starts. Each iteration submits one batch of
// 1,000 one-CPU jobs and waits until all are COMPLETED; reports jobs/s
// from submission to the last completion.
func BenchmarkLaunchScaling(b *testing.B) {
	for _, nodes := range []int{10, 100, 1000} {
		b.Run(fmt.Sprintf("nodes=%d", nodes), func(b *testing.B) { benchLaunch(b, nodes, 1000) })
	}
}

func benchLaunch(b *testing.B, nodes, jobs int) {
	srv, sock, key, _ := startController(b, func(c *config.Config) {
		c.Controller.HeartbeatInterval = config.Duration{Duration: 5 * time.Second}
		c.Controller.NodeTimeout = config.Duration{Duration: time.Minute}
	})
	addr := srv.nodeL.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer func() { cancel(); wg.Wait() }()
	for i := range nodes {
		name := fmt.Sprintf("sim%04d", i)
		rt := fake.New()
		rt.SetExitAfter(10 * time.Millisecond)
		gpus := make([]api.GPU, 8)
		for g := range gpus {
			gpus[g] = api.GPU{Index: g, Model: "fake-h100", MemBytes: 80 << 30, UUID: fmt.Sprintf("GPU-%s-%d", name, g)}
		}
		runSimNode(ctx, &wg, addr, key, api.Node{Name: name, Addr: "127.0.0.1", CPUs: 64, MemBytes: 512 << 30, GPUs: gpus}, rt, 5*time.Second)
	}
	cl := rpc.Dial(sock)
	defer cl.Close()
	waitFor(b, 60*time.Second, func() bool {
		var nl api.NodeList
		return cl.Call(ctx, api.PathListNodes, struct{}{}, &nl) == nil && len(nl.Nodes) == nodes
	})
	spec := api.JobSpec{Name: "launch", Script: "#!/bin/sh\ntrue\n", WorkDir: "/tmp", CPUsPerTask: 1, MemBytes: 1 << 30}
	req := api.SubmitBatchRequest{Specs: make([]api.JobSpec, jobs)}
	for i := range req.Specs {
		req.Specs[i] = spec
	}
	b.ResetTimer()
	for range b.N {
		var resp api.SubmitBatchResponse
		if err := cl.Call(ctx, api.PathSubmitBatch, req, &resp); err != nil {
			b.Fatal(err)
		}
		waitFor(b, 5*time.Minute, func() bool {
			var jl api.JobList
			live := api.JobFilter{States: []api.JobState{api.StatePending, api.StateRunning, api.StateCompleting}}
			return cl.Call(ctx, api.PathListJobs, live, &jl) == nil && len(jl.Jobs) == 0
		})
	}
	b.StopTimer()
	var jl api.JobList
	if err := cl.Call(ctx, api.PathListJobs, api.JobFilter{States: []api.JobState{api.StateCompleted}}, &jl); err != nil || len(jl.Jobs) != b.N*jobs {
		b.Fatalf("%d COMPLETED jobs (%v), want %d", len(jl.Jobs), err, b.N*jobs)
	}
	b.ReportMetric(float64(b.N*jobs)/b.Elapsed().Seconds(), "jobs/s")
}

// waitFor polls ok every 20 ms until it holds or the timeout passes.
// runSimNode runs a simulated node daemon (the real node agent, signed
// RPCs to the controller's node address, long-poll sync) with runtime rt
// until ctx ends; wg tracks it.
func runSimNode(ctx context.Context, wg *sync.WaitGroup, addr string, key []byte, node api.Node, rt *fake.Runtime, heartbeat time.Duration) {
	cl := rpc.DialSigned(addr, key, node.Name)
	a := agent.New(agent.Options{Node: node, Controller: cl, Runtime: rt, Log: zap.NewNop(), Heartbeat: heartbeat})
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer cl.Close()
		_ = a.Run(ctx)
	}()
}

func waitFor(b testing.TB, timeout time.Duration, ok func() bool) {
	b.Helper()
	for end := time.Now().Add(timeout); !ok(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(end) {
			b.Fatalf("not done after %s", timeout)
		}
	}
}
