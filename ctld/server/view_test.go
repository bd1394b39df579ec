package server

import (
	"testing"

	"github.com/gsched/gsched/pkg/api"
	"github.com/gsched/gsched/pkg/auth"
)

// A listing hides others' scripts, arguments and environments (all of
// them in a brief listing) in copies of the specs, one per stored spec,
// and never changes a stored spec.
func TestViewBriefSpecs(t *testing.T) {
	shared := &api.JobSpec{Name: "j", Script: "#!/bin/sh\ntrue\n", Env: []string{"A=1"}, Args: []string{"x"}}
	mine := &api.JobSpec{Name: "m", Script: "#!/bin/sh\nmine\n"}
	a := &api.Job{ID: 1, UID: 1001, Spec: shared}
	b := &api.Job{ID: 2, UID: 1001, Spec: shared}
	own := &api.Job{ID: 3, UID: 1000, Spec: mine}
	alice := auth.Peer{UID: 1000, User: "alice"}
	briefs := briefSpecs{}
	va, vb, vo := view(a, passPlan{}, alice, false, false, briefs), view(b, passPlan{}, alice, false, false, briefs), view(own, passPlan{}, alice, false, false, briefs)
	switch {
	case va.Spec.Script != "" || va.Spec.Env != nil || va.Spec.Args != nil || va.Spec.Name != "j":
		t.Fatalf("another user's job shown as %+v", va.Spec)
	case va.Spec != vb.Spec:
		t.Fatal("two jobs sharing a spec got two brief copies")
	case vo.Spec != mine:
		t.Fatalf("the caller's own job shown as %+v", vo.Spec)
	case shared.Script == "" || shared.Env == nil || shared.Args == nil:
		t.Fatalf("the stored spec was changed: %+v", shared)
	}
	if v := view(a, passPlan{}, alice, true, false, nil); v.Spec != shared {
		t.Fatal("an operator does not see the stored spec")
	}
	if v := view(own, passPlan{}, alice, false, true, nil); v.Spec.Script != "" || mine.Script == "" {
		t.Fatalf("brief listing of the caller's own job: %+v, stored %+v", v.Spec, mine)
	}
}
