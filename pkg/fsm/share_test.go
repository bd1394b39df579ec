package fsm_test

import (
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
