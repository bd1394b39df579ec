package server

import (
	"fmt"

	"go.uber.org/zap"

	"github.com/gsched/gsched/pkg/api"
	"github.com/gsched/gsched/pkg/auth"
)

// Interactive steps (grun --pty, gattach): a step whose one task runs on a
// pseudo-terminal relayed to grun, and overlapping steps, which share the
// job's resources. Operators may attach to any job; the step still runs as
// the job's user (the node takes the uid from the job, never from the
// caller).

// checkPtySpec validates a step's terminal fields.
func checkPtySpec(sp *api.StepSpec) error {
	if sp.TermRows < 0 || sp.TermRows > api.MaxTermSize || sp.TermCols < 0 || sp.TermCols > api.MaxTermSize {
		return invalid("step: terminal size out of range (0 to %d)", api.MaxTermSize)
	}
	if !sp.Pty {
		if sp.TermRows != 0 || sp.TermCols != 0 {
			return invalid("step: a terminal size without --pty")
		}
		return nil
	}
	if sp.IOAddr == "" || sp.IOToken == "" {
		return invalid("step: --pty needs grun's I/O address")
	}
	if sp.NTasks > 1 || sp.NTasksPerNode > 1 {
		return invalid("step: a --pty step runs one task")
	}
	return nil
}

// mayStartStep says whether the caller may start this step in job j: its
// owner always; an operator only an overlapping step (gattach).
func (s *Server) mayStartStep(p auth.Peer, op bool, j *api.Job, sp *api.StepSpec) error {
	switch {
	case j.UID == p.UID:
		return nil
	case op && sp.Overlap:
		s.log.Info("operator attaches to a job", zap.Uint32("uid", p.UID), zap.String("user", p.User),
			zap.Uint64("job", uint64(j.ID)), zap.String("owner", j.User), zap.Bool("pty", sp.Pty))
		return nil
	}
	s.log.Warn("denied: step in another user's job", zap.Uint32("uid", p.UID), zap.String("user", p.User),
		zap.Uint64("job", uint64(j.ID)), zap.String("owner", j.User))
	if op {
		return fmt.Errorf("%w: job %d belongs to %s: an operator may only attach to it (--overlap, as gattach does)", api.ErrPermission, j.ID, j.User)
	}
	return fmt.Errorf("%w: job %d belongs to %s: only its owner or an operator may run steps in it or attach to it", api.ErrPermission, j.ID, j.User)
}
