package server

import (
	"context"
	"time"

	"go.uber.org/zap"

	"github.com/gsched/gsched/pkg/api"
	"github.com/gsched/gsched/pkg/fsm"
	"github.com/gsched/gsched/pkg/sched"
)

// scheduleLoop runs a pass on every kick (submission, freed resources,
// node change) and at least every ScheduleInterval.
func (s *Server) scheduleLoop(ctx context.Context) {
	t := time.NewTicker(s.cfg.Controller.ScheduleInterval.Duration)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.kick:
		case <-t.C:
		}
		if !s.leading() {
			continue
		}
		start := time.Now()
		err := s.schedulePass()
		s.obs.met.SchedulePass(time.Since(start), err)
		if err != nil {
			s.log.Error("scheduling pass", zap.Error(err))
		}
	}
}

func (s *Server) schedulePass() error {
	snap := s.store.Snapshot()
	in, err := s.pol.input(snap, s.now())
	if err != nil {
		return err
	}
	var kill []api.JobID
	in.Blocked, kill = blockedJobs(snap, in.Pending, in.Running, in.Now)
	if len(kill) > 0 {
		// --kill-on-invalid-dep=yes: a dependency that can never be
		// satisfied cancels the job.
		if _, err := s.apply(&fsm.Command{Type: fsm.CmdCancel, Cancel: &fsm.CancelCmd{IDs: kill, Reason: api.ReasonDependencyNever}}); err != nil {
			return err
		}
		for _, id := range kill {
			s.log.Info("job cancelled: its dependency can never be satisfied", zap.Uint64("job", uint64(id)))
		}
		s.Kick() // jobs depending on these may now resolve
	}
	t0 := time.Now()
	plan := sched.Schedule(in)
	s.obs.met.Plan(time.Since(t0), passStats(plan.Stats))
	s.setPlan(&plan)
	if len(plan.Preemptions) > 0 {
		cmd := &fsm.PreemptCmd{}
		for _, p := range plan.Preemptions {
			cmd.Jobs = append(cmd.Jobs, fsm.PreemptJob{JobID: p.JobID, For: p.For, Mode: p.Mode, GraceSec: int64(p.Grace / time.Second)})
			s.log.Info("preempting job", zap.Uint64("job", uint64(p.JobID)), zap.Uint64("for", uint64(p.For)), zap.String("mode", p.Mode))
		}
		if _, err := s.apply(&fsm.Command{Type: fsm.CmdPreempt, Preempt: cmd}); err != nil {
			return err
		}
	}
	if len(plan.Placements) == 0 {
		return nil
	}
	cmd := &fsm.StartCmd{}
	for _, p := range plan.Placements {
		cmd.Placements = append(cmd.Placements, fsm.Placement{JobID: p.JobID, Allocs: p.Allocs, Billing: s.pol.billingRate(p.Allocs)})
	}
	res, err := s.apply(&fsm.Command{Type: fsm.CmdStart, Start: cmd})
	if err != nil {
		return err
	}
	r := res.(*fsm.StartResult)
	for _, id := range r.Started {
		s.log.Info("job started", zap.Uint64("job", uint64(id)))
	}
	if len(r.Skipped) > 0 {
		s.log.Warn("placements skipped at commit", zap.Int("count", len(r.Skipped)))
		s.Kick()
	}
	return nil
}
