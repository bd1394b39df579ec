package server

import (
	"context"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"testing"

	"github.com/gsched/gsched/pkg/api"
	"github.com/gsched/gsched/pkg/rpc"
)

// BenchmarkPendingMemory: the controller's live heap per pending job.
// Each iteration submits 100,000 held jobs (batches of 5,000; a
// two-variable environment, as gbench's) to an in-process controller,
// then reports the live heap after a GC divided by the jobs. Run with
// GSCHED_HEAP_PROFILE=FILE to write the heap profile while the jobs are
// held, and `go tool pprof -sample_index=inuse_space` to see where they
// live. "like": the jobs of a batch are alike and share one spec in
// memory (as an array's tasks do); "distinct": each has a name of its
// own, so each keeps a spec of its own (the strings they have in common
// are still shared).
func BenchmarkPendingMemory(b *testing.B) {
	b.Run("like", func(b *testing.B) { benchPendingMemory(b, false) })
	b.Run("distinct", func(b *testing.B) { benchPendingMemory(b, true) })
}

func benchPendingMemory(b *testing.B, distinct bool) {
	const jobs, batch = 100000, 5000
	for range b.N {
		b.StopTimer()
		_, sock, stop := startLoadController(b)
		cl := rpc.Dial(sock)
		runtime.GC()
		var before runtime.MemStats
		runtime.ReadMemStats(&before)
		spec := api.JobSpec{Name: "gbench", Hold: true, Script: "#!/bin/sh\ntrue\n", WorkDir: "/var/tmp/w", Output: "/dev/null",
			Env: []string{"PATH=/usr/bin:/bin", "HOME=/var/tmp/w"}, CPUsPerTask: 1, MemBytes: 256 << 20}
		req := api.SubmitBatchRequest{Specs: make([]api.JobSpec, batch)}
		for i := range req.Specs {
			req.Specs[i] = spec
		}
		b.StartTimer()
		for n := 0; n < jobs; n += batch {
			if distinct {
				for i := range req.Specs {
					req.Specs[i].Name = "gbench-" + strconv.Itoa(n+i)
				}
			}
			var resp api.SubmitBatchResponse
			if err := cl.Call(context.Background(), api.PathSubmitBatch, req, &resp); err != nil {
				b.Fatal(err)
			}
		}
		b.StopTimer()
		runtime.GC()
		var after runtime.MemStats
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/jobs, "heap-B/job")
		if path := os.Getenv("GSCHED_HEAP_PROFILE"); path != "" {
			f, err := os.Create(path)
			if err != nil {
				b.Fatal(err)
			}
			if err := pprof.WriteHeapProfile(f); err != nil {
				b.Fatal(err)
			}
			f.Close()
		}
		cl.Close()
		if err := stop(); err != nil {
			b.Fatal(err)
		}
	}
}
