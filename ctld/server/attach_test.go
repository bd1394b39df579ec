package server

import (
	"errors"
	"strings"
	"testing"

	"go.uber.org/zap"

	"github.com/gsched/gsched/pkg/api"
	"github.com/gsched/gsched/pkg/auth"
)

func TestCheckPtySpec(t *testing.T) {
	io := func(sp api.StepSpec) api.StepSpec {
		sp.Argv, sp.IOAddr, sp.IOToken = []string{"bash"}, "h:1", strings.Repeat("a", 64)
		return sp
	}
	for _, tc := range []struct {
		name string
		spec api.StepSpec
		err  string
	}{
		{"plain step", io(api.StepSpec{}), ""},
		{"pty with a size", io(api.StepSpec{Pty: true, TermRows: 24, TermCols: 80}), ""},
		{"pty, size unknown", io(api.StepSpec{Pty: true}), ""},
		{"largest size", io(api.StepSpec{Pty: true, TermRows: api.MaxTermSize, TermCols: api.MaxTermSize}), ""},
		{"rows too large", io(api.StepSpec{Pty: true, TermRows: api.MaxTermSize + 1}), "terminal size out of range"},
		{"negative columns", io(api.StepSpec{Pty: true, TermCols: -1}), "terminal size out of range"},
		{"size without pty", io(api.StepSpec{TermRows: 24}), "without --pty"},
		{"pty without grun's address", api.StepSpec{Argv: []string{"bash"}, Pty: true}, "needs grun's I/O address"},
		{"pty with two tasks", io(api.StepSpec{Pty: true, NTasks: 2}), "runs one task"},
		{"pty with two per node", io(api.StepSpec{Pty: true, NTasksPerNode: 2}), "runs one task"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := checkStepSpec(&tc.spec)
			if tc.err == "" {
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.err) || !errors.Is(err, api.ErrInvalid) {
				t.Fatalf("err = %v, want an invalid-argument error with %q", err, tc.err)
			}
		})
	}
}

// The job's owner may run any step; an operator only an overlapping one
// (gattach); anyone else nothing, with an error that says why.
func TestMayStartStep(t *testing.T) {
	s := &Server{log: zap.NewNop()}
	job := &api.Job{ID: 7, UID: 1000, User: "alice"}
	alice := auth.Peer{UID: 1000, User: "alice"}
	bob := auth.Peer{UID: 1001, User: "bob"}
	root := auth.Peer{UID: 0, User: "root"}
	for _, tc := range []struct {
		name string
		p    auth.Peer
		op   bool
		spec api.StepSpec
		err  string
	}{
		{"owner, step", alice, false, api.StepSpec{}, ""},
		{"owner, attach", alice, false, api.StepSpec{Overlap: true, Pty: true}, ""},
		{"operator, attach", root, true, api.StepSpec{Overlap: true, Pty: true}, ""},
		{"operator, overlapping step", root, true, api.StepSpec{Overlap: true}, ""},
		{"operator, plain step", root, true, api.StepSpec{}, "an operator may only attach"},
		{"other user, attach", bob, false, api.StepSpec{Overlap: true, Pty: true}, "job 7 belongs to alice: only its owner or an operator"},
		{"other user, step", bob, false, api.StepSpec{}, "only its owner or an operator"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := s.mayStartStep(tc.p, tc.op, job, &tc.spec)
			if tc.err == "" {
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			if err == nil || !errors.Is(err, api.ErrPermission) || !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("err = %v, want permission denied with %q", err, tc.err)
			}
		})
	}
}
