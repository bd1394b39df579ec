package metrics

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/gsched/gsched/pkg/api"
)

// Job events are counted from successive versions of each job.
func TestControllerJobEvents(t *testing.T) {
	c := NewController([]string{"main", "gpu"})
	with := func(j *api.Job, f func(*api.Job)) *api.Job { k := *j; f(&k); return &k }
	pend := job(1, "alice", "main", api.StatePending)
	run := with(pend, func(j *api.Job) { j.State = api.StateRunning })
	requeued := with(run, func(j *api.Job) { j.State = api.StatePending; j.Restarts = 1 })
	run2 := with(requeued, func(j *api.Job) { j.State = api.StateRunning })
	cg := with(run2, func(j *api.Job) { j.State = api.StateCompleting })
	done := with(cg, func(j *api.Job) { j.State = api.StateCompleted })
	for _, step := range [][2]*api.Job{
		{nil, pend}, {pend, run}, {run, run}, {run, requeued}, {requeued, run2}, {run2, cg}, {cg, done}, {done, done}, {done, nil},
		{nil, job(2, "bob", "gpu", api.StateCancelled)}, // refused at submission
	} {
		c.JobChanged(step[0], step[1])
	}
	var nilC *Controller
	nilC.JobChanged(nil, pend) // a bare server has no metrics
	for _, tc := range []struct {
		name string
		got  float64
		want float64
	}{
		{"submitted main", testutil.ToFloat64(c.submitted.WithLabelValues("main")), 1},
		{"submitted gpu", testutil.ToFloat64(c.submitted.WithLabelValues("gpu")), 1},
		{"starts", testutil.ToFloat64(c.starts.WithLabelValues("main")), 2},
		{"requeues", testutil.ToFloat64(c.requeues.WithLabelValues("main")), 1},
		{"completed", testutil.ToFloat64(c.ends.WithLabelValues("main", "COMPLETED")), 1},
		{"cancelled at submission", testutil.ToFloat64(c.ends.WithLabelValues("gpu", "CANCELLED")), 1},
		{"no failures", testutil.ToFloat64(c.ends.WithLabelValues("main", "FAILED")), 0},
	} {
		if tc.got != tc.want {
			t.Errorf("%s = %v, want %v", tc.name, tc.got, tc.want)
		}
	}
}

func TestControllerPassAndRPC(t *testing.T) {
	c := NewController(nil)
	c.Plan(3*time.Millisecond, PassStats{Considered: 40, Started: 3, Backfilled: 2, Reserved: 1})
	c.Plan(time.Millisecond, PassStats{Considered: 10, Started: 1})
	c.SchedulePass(5*time.Millisecond, nil)
	c.SchedulePass(time.Millisecond, errors.New("raft"))
	obs := c.RPCObserver("user")
	obs(api.PathSubmit, "ok", time.Millisecond)
	obs(api.PathSubmit, api.CodeInvalid, time.Millisecond)
	obs(api.PathListJobs, "ok", time.Millisecond)
	want := `
# HELP gsched_job_submissions_total Submit requests handled by this controller, by result (accepted, rejected) and error code (ok when accepted).
# TYPE gsched_job_submissions_total counter
gsched_job_submissions_total{code="invalid",result="rejected"} 1
gsched_job_submissions_total{code="ok",result="accepted"} 1
# HELP gsched_schedule_cycles_total Scheduling passes run by the leader, by result (ok, error).
# TYPE gsched_schedule_cycles_total counter
gsched_schedule_cycles_total{result="error"} 1
gsched_schedule_cycles_total{result="ok"} 1
# HELP gsched_schedule_last_pass_jobs Jobs of the latest scheduling pass by outcome: considered, started, backfilled, reserved, preempted.
# TYPE gsched_schedule_last_pass_jobs gauge
gsched_schedule_last_pass_jobs{outcome="backfilled"} 0
gsched_schedule_last_pass_jobs{outcome="considered"} 10
gsched_schedule_last_pass_jobs{outcome="preempted"} 0
gsched_schedule_last_pass_jobs{outcome="reserved"} 0
gsched_schedule_last_pass_jobs{outcome="started"} 1
# HELP gsched_schedule_jobs_total Jobs of all scheduling passes by outcome: considered, started, backfilled, reserved, preempted.
# TYPE gsched_schedule_jobs_total counter
gsched_schedule_jobs_total{outcome="backfilled"} 2
gsched_schedule_jobs_total{outcome="considered"} 50
gsched_schedule_jobs_total{outcome="preempted"} 0
gsched_schedule_jobs_total{outcome="reserved"} 1
gsched_schedule_jobs_total{outcome="started"} 4
`
	reg, own := NewRegistry("gctld", "test", nil)
	if err := Register(own, c.Collectors()...); err != nil {
		t.Fatal(err)
	}
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "gsched_job_submissions_total", "gsched_schedule_cycles_total",
		"gsched_schedule_last_pass_jobs", "gsched_schedule_jobs_total"); err != nil {
		t.Error(err)
	}
	if n := testutil.CollectAndCount(c.rpc); n != 3 {
		t.Errorf("%d RPC series, want 3", n)
	}
	if n := testutil.CollectAndCount(c.considered); n != 1 {
		t.Errorf("%d backfill depth histograms", n)
	}
}
