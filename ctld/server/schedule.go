package server

import (
	"context"
	"time"

	"go.uber.org/zap"

	"github.com/gsched/gsched/pkg/api"
	"github.com/gsched/gsched/pkg/fsm"
	"github.com/gsched/gsched/pkg/sched"
	"github.com/gsched/gsched/pkg/state"
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
		if err := s.schedulePass(); err != nil {
			s.log.Error("scheduling pass", zap.Error(err))
		}
	}
}

// Input builds the scheduler's input from a state snapshot.
func Input(snap *state.Snapshot, parts []api.Partition, now time.Time) sched.Input {
	usage := snap.Usage()
	in := sched.Input{Now: now, Partitions: parts, Pending: snap.JobsBy(nil, state.IndexState, string(api.StatePending))}
	for _, n := range snap.Nodes() {
		u := usage[n.Name]
		used := map[int]bool{}
		for _, g := range u.GPUs {
			used[g] = true
		}
		nf := sched.NodeFree{Node: n, CPUs: n.CPUs - u.CPUs, MemBytes: n.MemBytes - u.MemBytes}
		for _, g := range n.GPUs {
			if !used[g.Index] {
				nf.GPUs = append(nf.GPUs, g.Index)
			}
		}
		in.Nodes = append(in.Nodes, nf)
	}
	return in
}

func (s *Server) schedulePass() error {
	snap := s.store.Snapshot()
	plan := sched.Schedule(Input(snap, s.parts, s.now()))
	s.setReasons(plan.Reasons)
	if len(plan.Placements) == 0 {
		return nil
	}
	cmd := &fsm.StartCmd{}
	for _, p := range plan.Placements {
		cmd.Placements = append(cmd.Placements, fsm.Placement{JobID: p.JobID, Alloc: p.Alloc})
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
