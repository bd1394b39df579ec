package fsm

import (
	"slices"
	"strings"
	"testing"

	"github.com/gsched/gsched/pkg/api"
)

func arrayTask(id, array api.JobID, task int, script string, env ...string) *api.Job {
	return &api.Job{ID: id, ArrayJobID: array, ArrayTaskID: task,
		Spec: &api.JobSpec{Script: script, Env: env, Args: []string{"a"}}}
}

// compactArrays clears the shared fields of every array task but the
// first of its array, leaves jobs as they were, writes a task that
// differs in full, and expandArrays puts the first task's fields back.
func TestCompactArrays(t *testing.T) {
	jobs := []*api.Job{
		{ID: 1, Spec: &api.JobSpec{Script: "plain"}},
		arrayTask(2, 2, 0, "s", "E=1"),
		arrayTask(3, 2, 1, "s", "E=1"),
		arrayTask(4, 2, 2, "s", "E=2"), // differs (cannot happen today): kept
		arrayTask(5, 2, 3, "s", "E=1"),
		arrayTask(6, 6, 0, "t"),
		arrayTask(7, 6, 1, "t"),
		arrayTask(8, 6, 2, "t"),
	}
	orig := make([]api.Job, len(jobs))
	for i, j := range jobs {
		orig[i] = *j
	}
	out, shared := compactArrays(jobs)
	if want := []idRange{{3, 3}, {5, 5}, {7, 8}}; !slices.Equal(shared, want) {
		t.Fatalf("shared %v, want %v", shared, want)
	}
	for i, j := range jobs {
		if j.Spec.Script != orig[i].Spec.Script || !slices.Equal(j.Spec.Env, orig[i].Spec.Env) {
			t.Fatalf("compactArrays modified job %d", j.ID)
		}
	}
	for _, id := range []int{3, 5, 7, 8} {
		if s := out[id-1].Spec; s.Script != "" || s.Env != nil || s.Args != nil {
			t.Fatalf("job %d written with its spec: %+v", id, s)
		}
	}
	if out[3].Spec.Script != "s" || out[3].Spec.Env[0] != "E=2" || out[1].Spec.Script != "s" {
		t.Fatal("first or differing task lost its spec")
	}
	restored := make([]*api.Job, len(out))
	for i, j := range out {
		c := *j
		restored[i] = &c
	}
	expandArrays(restored, shared)
	for i, j := range restored {
		if j.Spec.Script != orig[i].Spec.Script || !slices.Equal(j.Spec.Env, orig[i].Spec.Env) || !slices.Equal(j.Spec.Args, orig[i].Spec.Args) {
			t.Errorf("job %d restored as %+v, want %+v", j.ID, j.Spec, orig[i].Spec)
		}
	}
	if jobs2, shared2 := compactArrays(jobs[:1]); shared2 != nil || &jobs2[0] != &jobs[:1][0] {
		t.Fatal("no arrays: the slice should be returned as it is")
	}
}

// The snapshot of a 1,000-task array holds its script once: well under
// the size of two hundred copies.
func TestSnapshotArraySize(t *testing.T) {
	jobs := []*api.Job{}
	script := "#!/bin/sh\n" + strings.Repeat("# padding line of a long script\n", 128) // 4 KiB
	for i := range 1000 {
		jobs = append(jobs, arrayTask(api.JobID(10+i), 10, i, script, "HOME=/home/alice", "PATH=/usr/bin:/bin"))
	}
	out, shared := compactArrays(jobs)
	if len(shared) != 1 || shared[0] != (idRange{11, 1009}) {
		t.Fatalf("shared %v", shared)
	}
	n := 0
	for _, j := range out {
		n += len(j.Spec.Script)
	}
	if n != len(script) {
		t.Fatalf("%d script bytes written, want %d (one copy)", n, len(script))
	}
}
