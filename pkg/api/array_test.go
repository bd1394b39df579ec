package api_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gsched/gsched/pkg/api"
)

func TestParseArray(t *testing.T) {
	tests := []struct {
		in       string
		max      int
		tasks    []int
		throttle int
		canon    string
		err      string
	}{
		{in: "0-3", tasks: []int{0, 1, 2, 3}, canon: "0-3"},
		{in: "1,3,5-7", tasks: []int{1, 3, 5, 6, 7}, canon: "1,3,5-7"},
		{in: "0-9:4", tasks: []int{0, 4, 8}, canon: "0,4,8"},
		{in: "0-15%4", tasks: []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}, throttle: 4, canon: "0-15%4"},
		{in: "5,1,5,2-3", tasks: []int{1, 2, 3, 5}, canon: "1-3,5"},
		{in: "7", tasks: []int{7}, canon: "7"},
		{in: "0-99999", tasks: nil, canon: ""}, // checked by count below
		{in: "", err: "no task indices"},
		{in: "%4", err: "no task indices"},
		{in: "0-3%0", err: "throttle"},
		{in: "0-3%x", err: "throttle"},
		{in: "3-1", err: "ends before it starts"},
		{in: "-1", err: "not a task index"},
		{in: "1-", err: "not a task index"},
		{in: "a-b", err: "not a task index"},
		{in: "1:2", err: "needs a range"},
		{in: "0-9:0", err: "positive number"},
		{in: "0-9:-1", err: "positive number"},
		{in: "0-100000", err: "more than 100000 tasks"},
		{in: "0-10", max: 5, err: "over the maximum 5"},
		{in: "99999999999", err: "not a task index"},
		{in: "1,,2", err: "not a task index"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			a, err := api.ParseArray(tc.in, tc.max)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) || !errors.Is(err, api.ErrInvalid) {
					t.Fatalf("err = %v, want invalid containing %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tc.in == "0-99999" {
				if len(a.Tasks) != 100000 || a.Tasks[99999] != 99999 {
					t.Fatalf("got %d tasks", len(a.Tasks))
				}
				return
			}
			if !slices.Equal(a.Tasks, tc.tasks) || a.Throttle != tc.throttle || a.String() != tc.canon {
				t.Fatalf("got %v throttle %d canon %q", a.Tasks, a.Throttle, a.String())
			}
			if got := api.ArrayThrottle(tc.in); got != tc.throttle {
				t.Fatalf("ArrayThrottle = %d, want %d", got, tc.throttle)
			}
		})
	}
}

func TestParseDependency(t *testing.T) {
	tests := []struct {
		in, canon string
		any       bool
		err       string
	}{
		{in: "afterok:12", canon: "afterok:12"},
		{in: "afterok:12:13,afterany:14", canon: "afterok:12:13,afterany:14"},
		{in: "after:12+5?afternotok:13_2", canon: "after:12+5?afternotok:13_2", any: true},
		{in: "singleton", canon: "singleton"},
		{in: "AFTEROK:7", canon: "afterok:7"},
		{in: "aftercorr:40", canon: "aftercorr:40"},
		{in: "", err: "empty"},
		{in: "afterok", err: "needs job IDs"},
		{in: "afterok:", err: "needs job IDs"},
		{in: "afterok:1,afterany:2?after:3", err: "not both"},
		{in: "before:1", err: "unknown kind"},
		{in: "afterok:1+5", err: "only after takes"},
		{in: "after:1+x", err: "minutes"},
		{in: "afterok:abc", err: "not a job ID"},
		{in: "singleton:4", err: "no job IDs"},
		{in: "aftercorr:4_1", err: "whole arrays"},
		{in: "afterok:" + strings.Repeat("1:", 1000) + "1", err: "more than 1000"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			d, err := api.ParseDependency(tc.in)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) || !errors.Is(err, api.ErrInvalid) {
					t.Fatalf("err = %v, want invalid containing %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d.String() != tc.canon || d.Any != tc.any {
				t.Fatalf("got %q any=%v", d.String(), d.Any)
			}
		})
	}
}

// lookup is a DepLookup over a fixed set of jobs.
type lookup struct{ jobs []*api.Job }

func (l lookup) Jobs(ref api.DepJob) []*api.Job {
	var out []*api.Job
	for _, j := range l.jobs {
		switch {
		case ref.Task >= 0 && j.ArrayJobID == ref.ID && j.ArrayTaskID == ref.Task:
			out = append(out, j)
		case ref.Task < 0 && (j.ID == ref.ID && !j.IsArrayTask() || j.ArrayJobID == ref.ID):
			out = append(out, j)
		}
	}
	return out
}

func (l lookup) EarlierLive(user, name string, id api.JobID) bool {
	for _, j := range l.jobs {
		if j.User == user && j.Spec.Name == name && j.ID < id && !j.State.Final() {
			return true
		}
	}
	return false
}

func TestDependencyEvaluate(t *testing.T) {
	now := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	job := func(id api.JobID, st api.JobState, started time.Duration) *api.Job {
		j := &api.Job{ID: id, State: st, User: "ann", Spec: &api.JobSpec{Name: "x"}}
		if started > 0 {
			j.StartTime = now.Add(-started)
		}
		return j
	}
	task := func(arr api.JobID, k int, st api.JobState) *api.Job {
		j := job(arr+api.JobID(k), st, 0)
		j.ArrayJobID, j.ArrayTaskID = arr, k
		return j
	}
	l := lookup{jobs: []*api.Job{
		job(1, api.StateCompleted, time.Hour),
		job(2, api.StateFailed, time.Hour),
		job(3, api.StateRunning, 2*time.Minute),
		job(4, api.StatePending, 0),
		job(5, api.StateCancelled, 0), // cancelled before it started
		task(10, 0, api.StateCompleted), task(10, 1, api.StateRunning), task(10, 2, api.StateFailed),
	}}
	me := job(100, api.StatePending, 0)
	myTask := func(k int) *api.Job { j := task(200, k, api.StatePending); return j }
	tests := []struct {
		dep  string
		j    *api.Job
		want api.DepState
	}{
		{"afterok:1", me, api.DepSatisfied},
		{"afterok:2", me, api.DepNever},
		{"afterok:3", me, api.DepWaiting},
		{"afternotok:2", me, api.DepSatisfied},
		{"afternotok:1", me, api.DepNever},
		{"afterany:1:2", me, api.DepSatisfied},
		{"afterany:3", me, api.DepWaiting},
		{"after:3", me, api.DepSatisfied},
		{"after:3+1", me, api.DepSatisfied},
		{"after:3+5", me, api.DepWaiting},
		{"after:4", me, api.DepWaiting},
		{"after:5", me, api.DepSatisfied},
		{"afterok:1,afterok:3", me, api.DepWaiting},
		{"afterok:1,afterok:2", me, api.DepNever},
		{"afterok:2?afterok:1", me, api.DepSatisfied},
		{"afterok:2?afterok:3", me, api.DepWaiting},
		{"afterok:2?afternotok:1", me, api.DepNever},
		{"afterok:10", me, api.DepNever}, // task 2 failed
		{"afterany:10", me, api.DepWaiting},
		{"afterok:10_0", me, api.DepSatisfied},
		{"afterok:10_1", me, api.DepWaiting},
		{"aftercorr:10", myTask(0), api.DepSatisfied},
		{"aftercorr:10", myTask(1), api.DepWaiting},
		{"aftercorr:10", myTask(2), api.DepNever},
		{"aftercorr:10", myTask(7), api.DepSatisfied}, // no task 7 there
		{"afterok:999", me, api.DepNever},             // unknown: outcome lost
		{"afterany:999", me, api.DepSatisfied},
		{"singleton", me, api.DepWaiting}, // job 3 (x, ann) is live
		{"singleton", job(4, api.StatePending, 0), api.DepWaiting},
		{"singleton", job(1, api.StatePending, 0), api.DepSatisfied},
	}
	for _, tc := range tests {
		d, err := api.ParseDependency(tc.dep)
		if err != nil {
			t.Fatal(err)
		}
		if got := d.Evaluate(tc.j, l, now); got != tc.want {
			t.Errorf("%s for job %s: got %d, want %d", tc.dep, tc.j.DisplayID(), got, tc.want)
		}
	}
}

func FuzzParseArray(f *testing.F) {
	for _, s := range []string{"0-15%4", "1,3,5-7", "0-99:4", "", "%", "3-1", "0-4000000"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := api.ParseArray(s, 0)
		if err != nil {
			return
		}
		if len(a.Tasks) == 0 || len(a.Tasks) > api.MaxArrayTasks || !slices.IsSorted(a.Tasks) {
			t.Fatalf("%q parsed to %d tasks, sorted %v", s, len(a.Tasks), slices.IsSorted(a.Tasks))
		}
		b, err := api.ParseArray(a.String(), 0)
		if err != nil || !slices.Equal(a.Tasks, b.Tasks) || a.Throttle != b.Throttle {
			t.Fatalf("canonical form %q of %q does not parse back the same: %v", a.String(), s, err)
		}
	})
}

func FuzzParseDependency(f *testing.F) {
	for _, s := range []string{"afterok:12:13,afterany:14", "after:12+5?afternotok:13_2", "singleton", "aftercorr:4", ":", "?", ","} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := api.ParseDependency(s)
		if err != nil {
			return
		}
		e, err := api.ParseDependency(d.String())
		if err != nil || e.String() != d.String() {
			t.Fatalf("canonical form %q of %q does not parse back the same: %v", d.String(), s, err)
		}
	})
}
