package server

import (
	"context"
	"testing"
	"time"

	"github.com/gsched/gsched/pkg/api"
	"github.com/gsched/gsched/pkg/auth"
)

// A dry run answers where and when a job would start, commits nothing and
// leaves no job behind: at once on a node with room; at the running job's
// end (its time limit, rounded up to bf_resolution) when it needs the
// whole node; never for a held job. A bad spec is refused as on
// submission.
func TestTestJob(t *testing.T) {
	c := startFuzzCtl(t)
	defer c.close()
	ctx := auth.WithPeer(context.Background(), fuzzUsers[0])
	run := c.s.Snapshot().Job(nil, 1)
	spec := func(cpus int) *api.SubmitRequest {
		return &api.SubmitRequest{Spec: api.JobSpec{WorkDir: "/home/alice", Script: "#!/bin/sh\ntrue\n", Partition: "long",
			CPUsPerTask: cpus, TimeLimit: 600, Account: "phys"}}
	}
	before := c.s.raft.r.LastIndex()
	jobs := len(c.s.Snapshot().Jobs())
	test := func(req *api.SubmitRequest) *api.TestJobResponse {
		t.Helper()
		resp, err := c.s.testJob(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		return resp.(*api.TestJobResponse)
	}

	now := test(spec(4))
	if !now.Start.Equal(now.Now) || now.Nodes != "n1" || now.CPUs != 4 || now.Partition != "long" {
		t.Fatalf("a job with room: %+v", now)
	}
	later := test(spec(16)) // all of n1, where the running job holds 2 CPUs
	want := run.Deadline.Truncate(time.Minute)
	if want.Before(run.Deadline) {
		want = want.Add(time.Minute)
	}
	if !later.Start.Equal(want) || later.Nodes != "n1" || later.CPUs != 16 || later.Reason != api.ReasonResources {
		t.Fatalf("a job needing the whole node: %+v, want start %s (the running job ends %s)", later, want, run.Deadline)
	}
	held := spec(1)
	held.Spec.Hold = true
	if r := test(held); !r.Start.IsZero() || r.Reason != api.ReasonHeld {
		t.Fatalf("a held job: %+v", r)
	}
	if _, err := c.s.testJob(ctx, spec(64)); err == nil {
		t.Fatal("a job no node can hold was not refused")
	}
	if c.s.raft.r.LastIndex() != before || len(c.s.Snapshot().Jobs()) != jobs {
		t.Fatalf("a dry run changed the state: index %d -> %d, jobs %d -> %d", before, c.s.raft.r.LastIndex(), jobs, len(c.s.Snapshot().Jobs()))
	}
}
