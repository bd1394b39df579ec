package server

import (
	"context"
	"sync"
	"time"

	memdb "github.com/hashicorp/go-memdb"
	"go.uber.org/zap"

	"github.com/gsched/gsched/pkg/api"
	"github.com/gsched/gsched/pkg/hooks"
	"github.com/gsched/gsched/pkg/state"
)

// maxCtlHooks bounds the controller prologs and epilogs running at once.
const maxCtlHooks = 8

// ctlHooks tracks the runs (job and attempt) the leader saw start, so it
// runs controller.prolog once when a run starts and controller.epilog
// once when it ends (a final state or back in the queue), as Slurm's
// PrologSlurmctld and EpilogSlurmctld.
type ctlHooks struct {
	// live are the runs seen RUNNING or COMPLETING.
	live map[api.TaskRef]bool
	// primed: live was filled without running prologs (after this
	// controller became the leader, for runs started under another).
	primed bool
}

// diff returns the runs that started and those that ended since the last
// call, given the jobs now running or completing and a lookup of any job.
func (h *ctlHooks) diff(running []*api.Job, lookup func(api.JobID) *api.Job) (started, ended []*api.Job) {
	now := make(map[api.TaskRef]bool, len(running))
	for _, j := range running {
		ref := api.TaskRef{JobID: j.ID, Attempt: j.Restarts}
		now[ref] = true
		if !h.live[ref] && h.primed {
			started = append(started, j)
		}
	}
	for ref := range h.live {
		if now[ref] {
			continue
		}
		j := lookup(ref.JobID)
		if j == nil {
			j = &api.Job{ID: ref.JobID, Restarts: ref.Attempt} // purged already
		} else if j.Restarts != ref.Attempt {
			// Requeued (maybe already running again): the ended run.
			ended1 := *j
			ended1.Restarts, ended1.State = ref.Attempt, api.StatePending
			j = &ended1
		}
		ended = append(ended, j)
	}
	h.live, h.primed = now, true
	return started, ended
}

// ctlHooksLoop runs controller.prolog and controller.epilog on the leader
// in the background: the scheduler and the RPCs never wait for them. A
// failure or time-out is logged; it does not change the job.
func (s *Server) ctlHooksLoop(ctx context.Context) {
	// Only these fields: the rest of the controller section is not this
	// loop's to read.
	prolog, epilog := s.cfg.Controller.Prolog, s.cfg.Controller.Epilog
	prologTimeout, epilogTimeout := s.cfg.Controller.PrologTimeout.Duration, s.cfg.Controller.EpilogTimeout.Duration
	if prolog == "" && epilog == "" {
		return
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	sem := make(chan struct{}, maxCtlHooks)
	run := func(prog, context string, timeout time.Duration, j *api.Job) {
		if prog == "" {
			return
		}
		job := *j
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			return
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			env := hooks.JobEnv(&job, "", context, s.cfg.ClusterName, s.cfg.SlurmEnv)
			r := hooks.Run(ctx, prog, env, timeout)
			if r.Err != nil && ctx.Err() == nil {
				s.log.Warn("controller "+context+" failed", zap.Uint64("job", uint64(job.ID)),
					zap.Int("attempt", job.Restarts), zap.Error(r.Err), zap.String("reason", r.Reason()))
				return
			}
			s.log.Debug("controller "+context+" done", zap.Uint64("job", uint64(job.ID)), zap.Duration("took", r.Elapsed))
		}()
	}
	h := &ctlHooks{}
	for ctx.Err() == nil {
		if !s.leading() {
			h = &ctlHooks{} // a new leader primes again
			sleep(ctx, 250*time.Millisecond)
			continue
		}
		snap := s.store.Snapshot()
		ws := memdb.NewWatchSet()
		var running []*api.Job
		for _, st := range []api.JobState{api.StateRunning, api.StateCompleting} {
			running = append(running, snap.JobsBy(ws, state.IndexState, string(st))...)
		}
		started, ended := h.diff(running, func(id api.JobID) *api.Job { return snap.Job(nil, id) })
		for _, j := range started {
			run(prolog, hooks.ControllerProlog, prologTimeout, j)
		}
		for _, j := range ended {
			run(epilog, hooks.ControllerEpilog, epilogTimeout, j)
		}
		wctx, cancel := context.WithTimeout(ctx, time.Second) // and re-check leadership
		_ = ws.WatchCtx(wctx)
		cancel()
	}
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
