package testcluster

import (
	"context"
	"slices"
	"testing"

	"github.com/gsched/gsched/pkg/api"
)

// The controller resolves job references (JobFilter.Refs) itself: an
// array by its ID, one task, a task by its own ID, a plain job, and
// references that name nothing; other filter fields still apply.
func TestListByJobRefs(t *testing.T) {
	c := Start(t, Options{})
	arr := c.Submit(api.JobSpec{Array: "3,5,7-8", Hold: true, Script: "#!/bin/sh\ntrue\n"})
	plain := c.Submit(api.JobSpec{Hold: true, Script: "#!/bin/sh\ntrue\n"})
	cl := c.Client()
	defer cl.Close()
	tests := []struct {
		name string
		f    api.JobFilter
		want []api.JobID
	}{
		{"whole array", api.JobFilter{Refs: []api.JobRef{{ID: arr}}}, []api.JobID{arr, arr + 1, arr + 2, arr + 3}},
		{"one task", api.JobFilter{Refs: []api.JobRef{{ID: arr, Task: 7, HasTask: true}}}, []api.JobID{arr + 2}},
		{"a task by its own ID", api.JobFilter{Refs: []api.JobRef{{ID: arr + 3}}}, []api.JobID{arr + 3}},
		{"no such task", api.JobFilter{Refs: []api.JobRef{{ID: arr, Task: 4, HasTask: true}}}, nil},
		{"a task of a plain job", api.JobFilter{Refs: []api.JobRef{{ID: plain, Task: 0, HasTask: true}}}, nil},
		{"plain and task, once each", api.JobFilter{Refs: []api.JobRef{{ID: plain}, {ID: arr, Task: 3, HasTask: true}, {ID: arr}}},
			[]api.JobID{arr, arr + 1, arr + 2, arr + 3, plain}},
		{"other filters apply", api.JobFilter{Refs: []api.JobRef{{ID: arr}, {ID: plain}}, States: []api.JobState{api.StateRunning}}, nil},
		{"unknown", api.JobFilter{Refs: []api.JobRef{{ID: 999}}}, nil},
	}
	for _, tt := range tests {
		var list api.JobList
		if err := cl.Call(context.Background(), api.PathListJobs, tt.f, &list); err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		var got []api.JobID
		for _, j := range list.Jobs {
			got = append(got, j.ID)
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("%s: jobs %v, want %v", tt.name, got, tt.want)
		}
	}
}

// JobFilter.Brief leaves the script, arguments and environment out of a
// listing, even of the caller's own jobs; without it they are there.
func TestListBrief(t *testing.T) {
	c := Start(t, Options{})
	id := c.Submit(api.JobSpec{Hold: true, Script: "#!/bin/sh\ntrue\n", Args: []string{"a"}, Env: []string{"X=1"}})
	cl := c.Client()
	defer cl.Close()
	for _, brief := range []bool{false, true} {
		var list api.JobList
		if err := cl.Call(context.Background(), api.PathListJobs, api.JobFilter{IDs: []api.JobID{id}, Brief: brief}, &list); err != nil || len(list.Jobs) != 1 {
			t.Fatalf("brief %v: %v %+v", brief, err, list)
		}
		s := list.Jobs[0].Spec
		if full := s.Script != "" && len(s.Args) == 1 && len(s.Env) > 0; full == brief {
			t.Errorf("brief %v: script %q args %q env %q", brief, s.Script, s.Args, s.Env)
		}
	}
}
