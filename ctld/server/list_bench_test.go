package server

import (
	"bytes"
	"context"
	"testing"

	"github.com/gsched/gsched/pkg/api"
	"github.com/gsched/gsched/pkg/rpc"
)

// BenchmarkListJobs: gqueue's two ways to list 100,000 held jobs through
// the RPC client. records: the job records (JobFilter.Brief), which the
// controller copies and encodes and the client decodes (and then lays
// out, not measured here); text: the default table laid out by the
// controller (api.PathQueueText), which the client only prints.
func BenchmarkListJobs(b *testing.B) {
	const jobs, batch = 100000, 5000
	_, sock, stop := startLoadController(b)
	defer func() {
		if err := stop(); err != nil {
			b.Fatal(err)
		}
	}()
	cl := rpc.Dial(sock)
	defer cl.Close()
	spec := api.JobSpec{Name: "gbench", Hold: true, Script: "#!/bin/sh\ntrue\n", WorkDir: "/var/tmp/w", Output: "/dev/null",
		Env: []string{"PATH=/usr/bin:/bin", "HOME=/var/tmp/w"}, CPUsPerTask: 1, MemBytes: 256 << 20}
	req := api.SubmitBatchRequest{Specs: make([]api.JobSpec, batch)}
	for i := range req.Specs {
		req.Specs[i] = spec
	}
	for n := 0; n < jobs; n += batch {
		var resp api.SubmitBatchResponse
		if err := cl.Call(context.Background(), api.PathSubmitBatch, req, &resp); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("records", func(b *testing.B) {
		for range b.N {
			var l api.JobList
			if err := cl.Call(context.Background(), api.PathListJobs, api.JobFilter{Brief: true}, &l); err != nil {
				b.Fatal(err)
			}
			if len(l.Jobs) != jobs {
				b.Fatalf("%d jobs listed, want %d", len(l.Jobs), jobs)
			}
		}
	})
	b.Run("text", func(b *testing.B) {
		for range b.N {
			var q rpc.Raw
			if err := cl.Call(context.Background(), api.PathQueueText, api.QueueTextRequest{BitstrLen: 64}, &q); err != nil {
				b.Fatal(err)
			}
			if n := bytes.Count(q, []byte("\n")); n != jobs+1 {
				b.Fatalf("%d lines, want %d", n, jobs+1)
			}
		}
		b.ReportMetric(float64(jobs), "jobs")
	})
}
