package server

import (
	"errors"
	"strings"
	"testing"

	"github.com/gsched/gsched/pkg/api"
	"github.com/gsched/gsched/pkg/auth"
)

// An update is checked as a submission with the new values would be, and
// only an operator may raise a time limit (Slurm's rule).
func TestUpdatedSpec(t *testing.T) {
	i64 := func(v int64) *int64 { return &v }
	str := func(v string) *string { return &v }
	num := func(v int) *int { return &v }
	tests := []struct {
		name    string
		part    string
		limit   int64 // the queued job's (0: unlimited)
		u       api.JobUpdate
		op      bool
		check   func(*api.JobSpec) bool
		wantErr error
		errText string
	}{
		{name: "user lowers", limit: 3600, u: api.JobUpdate{TimeLimit: i64(60)},
			check: func(s *api.JobSpec) bool { return s.TimeLimit == 60 }},
		{name: "user raises", limit: 3600, u: api.JobUpdate{TimeLimit: i64(7200)},
			wantErr: api.ErrPermission, errText: "only operators may raise"},
		{name: "user asks unlimited", part: "long", limit: 3600, u: api.JobUpdate{TimeLimit: i64(api.TimeUnlimited)},
			wantErr: api.ErrPermission, errText: "to UNLIMITED"},
		{name: "operator raises", limit: 3600, u: api.JobUpdate{TimeLimit: i64(7200)}, op: true,
			check: func(s *api.JobSpec) bool { return s.TimeLimit == 7200 }},
		{name: "operator raises over the partition's maximum", limit: 3600, u: api.JobUpdate{TimeLimit: i64(86401)}, op: true,
			wantErr: api.ErrInvalid, errText: "exceeds partition main"},
		{name: "unlimited job keeps its limit when renamed", part: "long", limit: 0, u: api.JobUpdate{Name: str("n")},
			check: func(s *api.JobSpec) bool { return s.TimeLimit == 0 && s.Name == "n" }},
		{name: "unlimited job moved where a maximum exists", part: "long", limit: 0, u: api.JobUpdate{Partition: str("main")},
			wantErr: api.ErrInvalid, errText: "unlimited"},
		{name: "partition accepting no jobs", limit: 60, u: api.JobUpdate{Partition: str("drained")},
			wantErr: api.ErrInvalid, errText: "accepts no new jobs"},
		{name: "unknown partition", limit: 60, u: api.JobUpdate{Partition: str("nosuch")},
			wantErr: api.ErrInvalid, errText: "invalid partition"},
		{name: "node count, one task each", limit: 60, u: api.JobUpdate{Nodes: num(3)},
			check: func(s *api.JobSpec) bool { return s.Nodes == 3 && s.NTasks == 3 }},
		{name: "negative nice for a user", limit: 60, u: api.JobUpdate{Nice: num(-1)},
			wantErr: api.ErrPermission, errText: "negative nice"},
		{name: "negative nice for an operator", limit: 60, u: api.JobUpdate{Nice: num(-1)}, op: true,
			check: func(s *api.JobSpec) bool { return s.Nice == -1 }},
		{name: "comment with a line break", limit: 60, u: api.JobUpdate{Comment: str("a\nb")},
			wantErr: api.ErrInvalid, errText: "control character"},
		{name: "empty name", limit: 60, u: api.JobUpdate{Name: str("")},
			wantErr: api.ErrInvalid, errText: "must not be empty"},
	}
	s := testServer(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := goodSpec()
			in.Partition, in.TimeLimit = tc.part, tc.limit
			if tc.limit == 0 {
				in.TimeLimit = api.TimeUnlimited
			}
			j, err := s.newJob(auth.Peer{UID: 1000, GID: 100, User: "alice"}, false, &in)
			if err != nil {
				t.Fatal(err)
			}
			j.ID = 5
			got, err := s.updatedSpec(j, &tc.u, tc.op)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) || !strings.Contains(err.Error(), tc.errText) {
					t.Fatalf("err %v, want %v with %q", err, tc.wantErr, tc.errText)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !tc.check(got) {
				t.Fatalf("spec %+v", got)
			}
		})
	}
}

func TestControlCheck(t *testing.T) {
	pending := api.Job{ID: 1, State: api.StatePending, Spec: &api.JobSpec{}}
	held := api.Job{ID: 1, State: api.StatePending, Spec: &api.JobSpec{Hold: true}}
	adminHeld := api.Job{ID: 1, State: api.StatePending, Spec: &api.JobSpec{Hold: true}, HoldAdmin: true}
	running := api.Job{ID: 1, State: api.StateRunning, Spec: &api.JobSpec{}}
	stopping := api.Job{ID: 1, State: api.StateCompleting, Requeue: true, Spec: &api.JobSpec{}}
	cancelled := api.Job{ID: 1, State: api.StateCancelled, CancelRequested: true, Spec: &api.JobSpec{}}
	noRequeue := api.Job{ID: 1, State: api.StateCompleted, Spec: &api.JobSpec{NoRequeue: true}}
	tests := []struct {
		action string
		job    api.Job
		op     bool
		code   string // "" = allowed
	}{
		{api.ActionHold, pending, false, ""},
		{api.ActionHold, running, true, api.CodeConflict},
		{api.ActionRelease, held, false, ""},
		{api.ActionRelease, pending, true, api.CodeConflict},
		{api.ActionRelease, adminHeld, false, api.CodePermission},
		{api.ActionRelease, adminHeld, true, ""},
		{api.ActionRequeue, running, false, ""},
		{api.ActionRequeue, cancelled, false, ""},
		{api.ActionRequeue, pending, true, api.CodeConflict},
		{api.ActionRequeue, stopping, true, api.CodeConflict},
		{api.ActionRequeue, noRequeue, true, api.CodeConflict},
	}
	for _, tc := range tests {
		e := controlCheck(tc.action, &tc.job, tc.op)
		got := ""
		if e != nil {
			got = e.Code
		}
		if got != tc.code {
			t.Errorf("%s of a %s job (hold %v admin %v, op %v): code %q, want %q (%+v)", tc.action, tc.job.State,
				tc.job.Spec.Hold, tc.job.HoldAdmin, tc.op, got, tc.code, e)
		}
	}
}
