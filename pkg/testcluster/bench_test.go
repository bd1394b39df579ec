package testcluster

import (
	"context"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/gsched/gsched/pkg/api"
	"github.com/gsched/gsched/pkg/rpc"
)

// BenchmarkSubmitToCompleted: one trivial job at a time on an idle
// one-node cluster, from the submit RPC until the controller records it
// COMPLETED (a real runc container each time). Reports the median and p95.
func BenchmarkSubmitToCompleted(b *testing.B) {
	c := Start(b, Options{})
	dir := c.WorkDir(0, 0)
	cl := c.Client()
	defer cl.Close()
	spec := api.JobSpec{Name: "bench", WorkDir: dir, MemBytes: 64 << 20, Script: "#!/bin/sh\ntrue\n"}
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		var resp api.SubmitResponse
		if err := cl.Call(context.Background(), api.PathSubmit, &api.SubmitRequest{Spec: spec}, &resp); err != nil {
			b.Fatal(err)
		}
		var j api.Job
		for {
			if err := cl.Call(context.Background(), api.PathWaitJob, &api.WaitRequest{JobID: resp.JobID, TimeoutMs: 30000}, &j); err != nil {
				b.Fatal(err)
			}
			if j.State.Final() {
				break
			}
		}
		if j.State != api.StateCompleted {
			b.Fatalf("job %d: %s (%s)", j.ID, j.State, j.Reason)
		}
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	sort.Slice(lat, func(i, k int) bool { return lat[i] < lat[k] })
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "median-ms")
	b.ReportMetric(float64(lat[len(lat)*95/100].Microseconds())/1000, "p95-ms")
}

// BenchmarkSubmitDurable: held jobs submitted by 4 concurrent clients; each
// acknowledgement means the job is fsynced in the raft log.
func BenchmarkSubmitDurable(b *testing.B) {
	c := Start(b, Options{})
	dir := c.WorkDir(0, 0)
	spec := api.JobSpec{Name: "held", Hold: true, WorkDir: dir, MemBytes: 1 << 20, Script: "#!/bin/sh\ntrue\n"}
	const clients = 4
	var wg sync.WaitGroup
	next := make(chan struct{}, b.N)
	for i := 0; i < b.N; i++ {
		next <- struct{}{}
	}
	close(next)
	b.ResetTimer()
	for w := 0; w < clients; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cl := rpc.Dial(c.Socket)
			defer cl.Close()
			for range next {
				if err := cl.Call(context.Background(), api.PathSubmit, &api.SubmitRequest{Spec: spec}, nil); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "jobs/s")
}
