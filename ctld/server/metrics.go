package server

import (
	"context"
	"fmt"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/gsched/gsched/pkg/api"
	"github.com/gsched/gsched/pkg/metrics"
	"github.com/gsched/gsched/pkg/rpc"
	"github.com/gsched/gsched/pkg/sched"
)

// Version is the controller's version (gsched_build_info).
const Version = "0.1.0"

// observability is the controller's metrics and run-time log level.
type observability struct {
	met  *metrics.Controller // nil in unit tests that build a bare Server
	reg  *prometheus.Registry
	http *metrics.Server // nil: controller.metrics_listen is empty
	// level is the controller logger's level; nodeLevel the level node
	// daemons are told with each sync (nil: their own).
	level     zap.AtomicLevel
	nodeLevel atomic.Pointer[string]
}

// initObservability registers the log-level call, instruments the RPC
// handlers (call it once every handler is registered), counts job events
// from the state's changes and opens the metrics listener if configured.
func (s *Server) initObservability(opts Options) error {
	if opts.Level != nil {
		s.obs.level = *opts.Level
	} else {
		s.obs.level = zap.NewAtomicLevel()
	}
	rpc.Handle(s.userSrv, api.PathLogLevel, s.setLogLevel)
	if s.remoteSrv != nil {
		rpc.Handle(s.remoteSrv, api.PathLogLevel, s.setLogLevel)
	}
	s.nodeSrv.Wrap(api.PathNodeSync, s.withNodeLevel)

	var parts []string
	for _, p := range s.pol.parts {
		parts = append(parts, p.Name)
	}
	s.obs.met = metrics.NewController(parts)
	s.userSrv.Instrument(s.obs.met.RPCObserver("user"))
	s.nodeSrv.Instrument(s.obs.met.RPCObserver("node"))
	if s.remoteSrv != nil {
		s.remoteSrv.Instrument(s.obs.met.RPCObserver("remote"))
	}
	// Set after the raft log is replayed (single controller): events
	// committed before this start are not counted again.
	s.store.SetJobHook(s.obs.met.JobChanged)

	reg, own := metrics.NewRegistry("gctld", Version, nil)
	s.obs.reg = reg
	cs := append(s.obs.met.Collectors(),
		metrics.NewCluster(metrics.ClusterOptions{View: s.clusterView}),
		metrics.NewRaft(s.raftStatus))
	if err := metrics.Register(own, cs...); err != nil {
		return err
	}
	if addr := s.cfg.Controller.MetricsListen; addr != "" {
		srv, err := metrics.Listen(addr, s.cfg.Controller.StateDir, reg, s.log.Named("metrics"))
		if err != nil {
			return err
		}
		s.obs.http = srv
	}
	return nil
}

// Gatherer returns the controller's metrics registry (for tests and tools).
func (s *Server) Gatherer() prometheus.Gatherer { return s.obs.reg }

// MetricsAddr is the /metrics address really bound ("" when off).
func (s *Server) MetricsAddr() string {
	if s.obs.http == nil {
		return ""
	}
	return s.obs.http.Addr()
}

// serveMetrics serves /metrics until ctx is done (a loop of Run).
func (s *Server) serveMetrics(ctx context.Context) {
	if s.obs.http == nil {
		return
	}
	s.log.Info("metrics endpoint ready", zap.String("addr", s.obs.http.Addr()))
	if err := s.obs.http.Serve(ctx); err != nil {
		s.log.Error("metrics endpoint stopped", zap.Error(err))
	}
}

// clusterView is what the cluster collector exports: only the leader
// answers, so that a sum over an HA set counts every job once.
func (s *Server) clusterView() (metrics.ClusterView, bool) {
	if !s.leading() {
		return metrics.ClusterView{}, false
	}
	snap := s.store.Snapshot()
	s.mu.Lock()
	reasons := s.reasons // replaced whole by each pass, never modified
	s.mu.Unlock()
	return metrics.ClusterView{
		Jobs: snap.Jobs(), Nodes: snap.Nodes(), Usage: snap.Usage(),
		PendingReason: func(id api.JobID) string { return reasons[id] },
	}, true
}

func (s *Server) raftStatus() metrics.RaftStatus {
	r := s.raft.r
	peers := len(s.cfg.Controller.Peers)
	if peers == 0 {
		peers = 1
	}
	return metrics.RaftStatus{
		Leader: s.leading(), State: r.State().String(), Term: r.CurrentTerm(),
		LastIndex: r.LastIndex(), CommitIndex: r.CommitIndex(), Applied: r.AppliedIndex(), Peers: peers,
	}
}

func passStats(st sched.Stats) metrics.PassStats {
	return metrics.PassStats{Considered: st.Considered, Started: st.Started, Backfilled: st.Backfilled,
		Reserved: st.Reserved, Preempted: st.Preempted}
}

// withNodeLevel adds the operator's node log level to each sync answer.
func (s *Server) withNodeLevel(h rpc.HandlerFunc) rpc.HandlerFunc {
	return func(ctx context.Context, body []byte) (any, error) {
		resp, err := h(ctx, body)
		if r, ok := resp.(*api.SyncResponse); ok {
			if l := s.obs.nodeLevel.Load(); l != nil {
				r.LogLevel = *l
			}
		}
		return resp, err
	}
}

// setLogLevel is an operator's `gcontrol setdebug LEVEL [TARGET]`. The
// change is not replicated: with HA it is the leader's, and it lasts
// until the daemon restarts.
func (s *Server) setLogLevel(ctx context.Context, req *api.LogLevelRequest) (any, error) {
	p, op, err := s.caller(ctx)
	if err != nil {
		return nil, err
	}
	if !op {
		s.log.Warn("denied: log level change by a non-operator", zap.Uint32("uid", p.UID), zap.String("user", p.User),
			zap.String("level", truncate(req.Level, 32)))
		return nil, fmt.Errorf("%w: only operators may change the log level", api.ErrPermission)
	}
	level, err := api.ParseLogLevel(req.Level)
	if err != nil {
		return nil, invalid("%v", err)
	}
	target, err := api.ParseLogTarget(req.Target)
	if err != nil {
		return nil, invalid("%v", err)
	}
	prev := s.obs.level.Level().String()
	// Logged before and at warn, so that the line shows whichever way
	// the level goes.
	s.log.Warn("log level change", zap.String("level", level), zap.String("target", target),
		zap.String("previous", prev), zap.String("by", p.User))
	if target != api.LogTargetNodes {
		if err := s.obs.level.UnmarshalText([]byte(level)); err != nil {
			return nil, invalid("%v", err)
		}
	}
	if target != api.LogTargetController {
		s.obs.nodeLevel.Store(&level)
	}
	resp := &api.LogLevelResponse{Controller: s.obs.level.Level().String(), Previous: prev}
	if l := s.obs.nodeLevel.Load(); l != nil {
		resp.Nodes = *l
	}
	return resp, nil
}
