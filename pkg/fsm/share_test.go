package fsm_test

import (
	"bytes"
	"io"
	"slices"
	"testing"
	"unsafe"

	"github.com/hashicorp/raft"

	"github.com/gsched/gsched/pkg/api"
	"github.com/gsched/gsched/pkg/fsm"
)

// Jobs of one submission decoded from the raft log keep one copy of the
// strings and lists they have in common, and their own of the others.
func TestSubmitSharesEqualStrings(t *testing.T) {
	h := newHarness(t)
	a := newJob(func(j *api.Job) { j.Spec.Env = []string{"A=1", "B=2"}; j.Spec.Args = []string{"x"} })
	b := newJob(func(j *api.Job) { j.Spec.Env = []string{"A=1", "B=2"}; j.Spec.Name = "other" })
	c := newJob(func(j *api.Job) { j.Spec.Env = []string{"A=1", "B=3"}; j.Spec.Name = "other" })
	data, err := fsm.Encode(&fsm.Command{Type: fsm.CmdSubmit, Time: t0, Submit: &fsm.SubmitCmd{Jobs: []api.Job{a, b, c}}})
	if err != nil {
		t.Fatal(err)
	}
	res := h.f.Apply(&raft.Log{Index: 1, Type: raft.LogCommand, Data: data})
	r, ok := res.(*fsm.SubmitResult)
	if !ok || len(r.IDs) != 3 {
		t.Fatalf("Apply(submit) = %#v", res)
	}
	ja, jb, jc := h.job(r.IDs[0]), h.job(r.IDs[1]), h.job(r.IDs[2])
	same := func(x, y string) bool { return unsafe.StringData(x) == unsafe.StringData(y) }
	for _, c := range []struct {
		what string
		x, y string
		want bool
	}{
		{"script a/b", ja.Spec.Script, jb.Spec.Script, true},
		{"script b/c", jb.Spec.Script, jc.Spec.Script, true},
		{"user a/b", ja.User, jb.User, true},
		{"partition a/c", ja.Spec.Partition, jc.Spec.Partition, true},
		{"name b/c", jb.Spec.Name, jc.Spec.Name, true},
	} {
		if got := same(c.x, c.y); got != c.want {
			t.Errorf("%s: shared = %v, want %v", c.what, got, c.want)
		}
	}
	if ja.Spec.Name != "j" || jb.Spec.Name != "other" {
		t.Errorf("names %q %q, want j other", ja.Spec.Name, jb.Spec.Name)
	}
	if &ja.Spec.Env[0] != &jb.Spec.Env[0] {
		t.Error("equal environments of a and b are two copies")
	}
	if &jb.Spec.Env[0] == &jc.Spec.Env[0] || !slices.Equal(jc.Spec.Env, []string{"A=1", "B=3"}) {
		t.Errorf("c's environment %q shared with b's or changed", jc.Spec.Env)
	}
	if !slices.Equal(ja.Spec.Args, []string{"x"}) || len(jb.Spec.Args) != 0 {
		t.Errorf("args %q %q, want [x] []", ja.Spec.Args, jb.Spec.Args)
	}
	// A shared list is clipped: appending to one job's copy cannot
	// write into another's.
	if cap(jb.Spec.Env) != len(jb.Spec.Env) {
		t.Errorf("shared environment has spare capacity %d > %d", cap(jb.Spec.Env), len(jb.Spec.Env))
	}
}

// Like jobs of one submission, and an array's tasks, point at one spec;
// holding, releasing or updating one of them gives it a spec of its own
// and leaves the others as they were; a snapshot's restore shares the
// specs again.
func TestSubmitSharesEqualSpecs(t *testing.T) {
	h := newHarness(t)
	arr := newJob(func(j *api.Job) { j.Spec.Array = "0-2" })
	ids := h.submit(newJob(), newJob(), newJob(func(j *api.Job) { j.Spec.Name = "other" }), newJob(), arr)
	if want := []api.JobID{1, 2, 3, 4, 5}; !slices.Equal(ids, want) {
		t.Fatalf("ids %v, want %v", ids, want)
	}
	j1, j2, j3, j4 := h.job(1), h.job(2), h.job(3), h.job(4)
	switch {
	case j1.Spec != j2.Spec:
		t.Fatal("two equal jobs of one submission hold two specs")
	case j3.Spec == j2.Spec:
		t.Fatal("a job with another name shares its neighbour's spec")
	case j4.Spec == j3.Spec || j4.Spec != j1.Spec && !j4.Spec.Equal(j1.Spec):
		t.Fatalf("job 4's spec %+v", j4.Spec)
	case h.job(5).Spec != h.job(6).Spec || h.job(6).Spec != h.job(7).Spec:
		t.Fatal("an array's tasks hold specs of their own")
	}

	h.jobsCmd(fsm.CmdHold, false, 1)
	h.jobsCmd(fsm.CmdHold, true, 6)
	if !h.job(1).Spec.Hold || h.job(2).Spec.Hold || h.job(2).Spec != j2.Spec {
		t.Fatalf("hold of job 1: job 1 held %v, job 2 held %v", h.job(1).Spec.Hold, h.job(2).Spec.Hold)
	}
	if !h.job(6).Spec.Hold || h.job(5).Spec.Hold || h.job(7).Spec.Hold {
		t.Fatal("hold of task 1 reached the other tasks")
	}
	h.jobsCmd(fsm.CmdRelease, true, 6)
	if h.job(6).Spec.Hold || !h.job(6).Spec.Equal(h.job(5).Spec) {
		t.Fatalf("released task: %+v", h.job(6).Spec)
	}
	old := fsm.FieldsOf(j2.Spec)
	nf := old
	nf.Name, nf.Nice = "renamed", 3
	h.apply(&fsm.Command{Type: fsm.CmdUpdateJob, UpdateJob: &fsm.UpdateJobCmd{Jobs: []fsm.JobChange{{ID: 2, Old: old, New: nf}}}})
	if h.job(2).Spec.Name != "renamed" || h.job(4).Spec.Name != "j" || h.job(1).Spec.Name != "j" || h.job(4).Spec.Nice != 0 {
		t.Fatalf("update of job 2: names %q %q %q", h.job(1).Spec.Name, h.job(2).Spec.Name, h.job(4).Spec.Name)
	}

	fresh := newHarness(t)
	if err := fresh.f.Restore(io.NopCloser(bytes.NewReader(snapshotOf(t, h.f).Bytes()))); err != nil {
		t.Fatal(err)
	}
	r := func(id api.JobID) *api.Job { return fresh.job(id) }
	switch {
	case r(5).Spec != r(6).Spec || r(6).Spec != r(7).Spec:
		t.Fatal("restored array tasks hold specs of their own")
	case r(1).Spec == r(2).Spec || !r(1).Spec.Hold || r(2).Spec.Name != "renamed":
		t.Fatalf("restored jobs 1 and 2: %+v %+v", r(1).Spec, r(2).Spec)
	}
	for id := api.JobID(1); id <= 7; id++ {
		if !r(id).Spec.Equal(h.job(id).Spec) {
			t.Errorf("job %d restored as %+v, was %+v", id, r(id).Spec, h.job(id).Spec)
		}
	}
}
