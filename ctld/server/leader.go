package server

import (
	"context"
	"time"

	"go.uber.org/zap"

	"github.com/gsched/gsched/pkg/api"
)

// leading reports whether this controller leads and has caught up, so
// it may schedule and judge node liveness.
func (s *Server) leading() bool {
	if s.raft.single {
		return true
	}
	return s.ready.Load() && s.raft.isLeader()
}

// leadershipLoop follows raft leadership changes (HA only). A new leader
// first applies every committed entry (barrier), then gives every node a
// full heartbeat timeout (it has not heard from them yet) and schedules.
// A controller that loses leadership drops its plan: it forwards from now
// on.
func (s *Server) leadershipLoop(ctx context.Context) {
	if s.raft.leader == nil {
		return
	}
	for {
		select {
		case <-ctx.Done():
			return
		case lead := <-s.raft.leader:
			if !lead {
				s.ready.Store(false)
				s.log.Info("lost leadership; forwarding to the new leader")
				s.mu.Lock()
				s.reasons, s.starts, s.prios = map[api.JobID]string{}, nil, nil
				s.mu.Unlock()
				continue
			}
			if err := s.raft.r.Barrier(15 * time.Second).Error(); err != nil {
				s.log.Error("new leader could not catch up", zap.Error(err))
				continue
			}
			now := s.now()
			s.mu.Lock()
			for _, n := range s.store.Snapshot().Nodes() {
				s.lastSeen[n.Name] = now
			}
			s.mu.Unlock()
			s.ready.Store(s.raft.isLeader())
			s.log.Info("became the leader", zap.String("id", s.cfg.ControllerID()))
			s.Kick()
		}
	}
}
