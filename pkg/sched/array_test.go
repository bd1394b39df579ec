package sched_test

import (
	"testing"

	"github.com/gsched/gsched/pkg/api"
	"github.com/gsched/gsched/pkg/sched"
)

func arrayTask(arr api.JobID, task int, spec string) jobOpt {
	return func(j *api.Job) { j.ArrayJobID, j.ArrayTaskID, j.Spec.Array = arr, task, spec }
}

// The "%N" of --array caps the running tasks of an array, counting those
// already running and those this pass starts; the controller's Blocked
// jobs wait with its reason; nothing else is held back.
func TestArrayThrottleAndBlocked(t *testing.T) {
	tests := []struct {
		name    string
		running []*api.Job
		pending []*api.Job
		blocked map[api.JobID]string
		started []api.JobID
		reasons reasons
	}{
		{
			name:    "throttle 2, one running: one more starts",
			running: []*api.Job{job(10, state(api.StateRunning), arrayTask(10, 0, "0-4%2"))},
			pending: []*api.Job{job(11, arrayTask(10, 1, "0-4%2")), job(12, arrayTask(10, 2, "0-4%2")), job(13, arrayTask(10, 3, "0-4%2"))},
			started: []api.JobID{11},
			reasons: reasons{12: api.ReasonArrayTaskLimit, 13: api.ReasonArrayTaskLimit},
		},
		{
			name:    "throttle 2, none running: two start in one pass",
			pending: []*api.Job{job(11, arrayTask(11, 0, "0-2%2")), job(12, arrayTask(11, 1, "0-2%2")), job(13, arrayTask(11, 2, "0-2%2"))},
			started: []api.JobID{11, 12},
			reasons: reasons{13: api.ReasonArrayTaskLimit},
		},
		{
			name:    "no throttle: all start; other arrays do not count",
			running: []*api.Job{job(5, state(api.StateRunning), arrayTask(5, 0, "0-1%1"))},
			pending: []*api.Job{job(11, arrayTask(11, 0, "0-2")), job(12, arrayTask(11, 1, "0-2")), job(13, arrayTask(11, 2, "0-2"))},
			started: []api.JobID{11, 12, 13},
		},
		{
			name:    "blocked jobs wait with the controller's reason",
			pending: []*api.Job{job(1), job(2), job(3)},
			blocked: map[api.JobID]string{1: api.ReasonDependency, 3: api.ReasonBeginTime},
			started: []api.JobID{2},
			reasons: reasons{1: api.ReasonDependency, 3: api.ReasonBeginTime},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := sched.Input{Now: t0, Nodes: []sched.NodeFree{node("n1", 8, 8*gib)}, Pending: tc.pending,
				Running: tc.running, Partitions: []api.Partition{partition("main")}, Blocked: tc.blocked}
			plan := sched.Schedule(in)
			var got []api.JobID
			for _, p := range plan.Placements {
				got = append(got, p.JobID)
			}
			if len(got) != len(tc.started) {
				t.Fatalf("started %v, want %v", got, tc.started)
			}
			for i := range got {
				if got[i] != tc.started[i] {
					t.Fatalf("started %v, want %v", got, tc.started)
				}
			}
			for id, want := range tc.reasons {
				if plan.Reasons[id] != want {
					t.Errorf("job %d reason %q, want %q", id, plan.Reasons[id], want)
				}
			}
		})
	}
}
