package server

import (
	"context"
	"math"
	"slices"

	"github.com/gsched/gsched/pkg/api"
	"github.com/gsched/gsched/pkg/hostlist"
	"github.com/gsched/gsched/pkg/sched"
)

// testJobID is the hypothetical job's ID in a dry run: above every real
// one, so that it comes last among jobs of equal priority, as a job
// submitted now would.
const testJobID = api.JobID(math.MaxUint64)

// testJob is gsub --test-only (Slurm's will-run): the spec is checked as a
// submission is, then one scheduling pass runs on the current snapshot
// with the job added, in conservative backfill mode so that the job gets
// an expected start behind every job queued before it, whatever mode the
// cluster schedules in. Nothing is written to the raft log.
func (s *Server) testJob(ctx context.Context, req *api.SubmitRequest) (any, error) {
	p, op, err := s.caller(ctx)
	if err != nil {
		return nil, err
	}
	job, err := s.newJob(p, op, &req.Spec)
	if err != nil {
		return nil, err
	}
	snap := s.store.Snapshot()
	now := s.now()
	resp := &api.TestJobResponse{Now: now, Partition: job.Spec.Partition, CPUs: job.Spec.CPUsOnNode() * job.Spec.NodeCount()}
	if job.Spec.Hold {
		resp.Reason = api.ReasonHeld
		return resp, nil
	}
	in, err := s.pol.input(snap, now)
	if err != nil {
		return nil, err
	}
	j := *job
	j.ID, j.State, j.SubmitTime = testJobID, api.StatePending, now
	if j.Spec.Array != "" {
		// The first task stands for the array.
		a, err := api.ParseArray(j.Spec.Array, 0)
		if err != nil {
			return nil, err
		}
		j.ArrayJobID, j.ArrayTaskID = j.ID, a.Tasks[0]
	}
	in.Pending = append(slices.Clip(in.Pending), &j)
	in.Blocked, _ = blockedJobs(snap, in.Pending, in.Running, now)
	in.Config.Backfill.Mode = sched.BackfillConservative
	plan := sched.Schedule(in)
	for _, pl := range plan.Placements {
		if pl.JobID == j.ID {
			resp.Start = now
			resp.Nodes, resp.CPUs = allocNodes(pl.Allocs)
			return resp, nil
		}
	}
	if start, ok := plan.Starts[j.ID]; ok {
		var allocs []api.Allocation
		for _, r := range plan.Reservations {
			if r.JobID == j.ID {
				allocs = append(allocs, api.Allocation{Node: r.Node, CPUs: r.CPUs})
			}
		}
		resp.Start = start
		resp.Nodes, resp.CPUs = allocNodes(allocs)
	}
	resp.Reason = plan.Reasons[j.ID]
	if j.Spec.Hold {
		resp.Reason = api.ReasonHeld // a held job is left out of the plan
	}
	return resp, nil
}

// allocNodes is the allocations' nodes in hostlist syntax and their CPUs.
func allocNodes(allocs []api.Allocation) (string, int) {
	names := make([]string, len(allocs))
	cpus := 0
	for i, a := range allocs {
		names[i] = a.Node
		cpus += a.CPUs
	}
	return hostlist.Compress(names), cpus
}
