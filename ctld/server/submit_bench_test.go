package server

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/gsched/gsched/pkg/api"
	"github.com/gsched/gsched/pkg/rpc"
)

// BenchmarkSubmitBatch submits held jobs through /v1/jobs/submit-batch
// (1,000 per request, 4 connections) to an in-process controller with
// real raft and bbolt: each request is acknowledged only once its entry
// is fsynced and applied. Reports jobs/s. The -cpuprofile of this
// benchmark is where docs/BENCHMARKS.md's submission profile comes from.
func BenchmarkSubmitBatch(b *testing.B) {
	_, sock, _ := startLoadController(b)
	spec := api.JobSpec{Name: "bench", Hold: true, Script: "#!/bin/sh\ntrue\n", WorkDir: "/tmp", Env: []string{"PATH=/usr/bin:/bin"}}
	const batch, clients = 1000, 4
	req := api.SubmitBatchRequest{Specs: make([]api.JobSpec, batch)}
	for i := range req.Specs {
		req.Specs[i] = spec
	}
	n := b.N * batch
	var next atomic.Int64
	var failed atomic.Value
	b.ResetTimer()
	var wg sync.WaitGroup
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cl := rpc.Dial(sock)
			defer cl.Close()
			for next.Add(batch) <= int64(n) {
				var resp api.SubmitBatchResponse
				if err := cl.Call(context.Background(), api.PathSubmitBatch, req, &resp); err != nil {
					failed.Store(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	b.StopTimer()
	if err, _ := failed.Load().(error); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "jobs/s")
}
