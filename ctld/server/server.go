// Package server is the controller daemon's machinery: the raft-backed
// state, the RPC handlers for users and node daemons, the scheduling loop
// that feeds pkg/sched snapshots and applies its plans, and the node
// liveness tracker. Policy lives in pkg/sched, not here.
package server

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/gsched/gsched/pkg/api"
	"github.com/gsched/gsched/pkg/auth"
	"github.com/gsched/gsched/pkg/config"
	"github.com/gsched/gsched/pkg/fsm"
	"github.com/gsched/gsched/pkg/rpc"
	"github.com/gsched/gsched/pkg/sched"
	"github.com/gsched/gsched/pkg/state"
	"github.com/gsched/gsched/pkg/units"
)

// Options are what a controller needs beyond its configuration.
type Options struct {
	Config *config.Config
	Key    []byte
	Log    *zap.Logger
	// RaftLog receives raft's own log lines (default: discarded).
	RaftLog io.Writer
	// Now is the clock (default time.Now); tests may inject one.
	Now func() time.Time
	// Level is Log's level, which `gcontrol setdebug` changes (default:
	// a level of its own, which changes nothing visible).
	Level *zap.AtomicLevel
}

// Server is a running controller.
type Server struct {
	cfg          *config.Config
	log          *zap.Logger
	now          func() time.Time
	store        *state.Store
	raft         *raftNode
	pol          *policy
	defMemPerCPU int64

	userSrv   *rpc.Server
	nodeSrv   *rpc.Server
	remoteSrv *rpc.Server // users over TCP with tokens (nil: off)
	tokens    *auth.TokenAuthority

	kick  chan struct{}
	ready atomic.Bool // HA: leader and caught up (see leading)

	mu       sync.Mutex
	reasons  map[api.JobID]string
	starts   map[api.JobID]time.Time
	prios    map[api.JobID]int64
	lastSeen map[string]time.Time

	userL, nodeL, remoteL net.Listener
	// forwardTLS is the client TLS configuration followers use to reach
	// the leader (nil without TLS).
	forwardTLS *tls.Config
	obs        observability // metrics and run-time log level (metrics.go)
	web        *webShared    // REST API and dashboard (rest.go, dashboard.go)
	mail       *mailer       // nil: no controller.mail_program (mail.go)
	gpuUse     gpuUsageStore // nodes' latest GPU usage, in memory only (gpuusage.go)
}

// useTLS puts the TCP listeners behind TLS: mutual for node daemons (and
// controllers forwarding for them), server-side for remote users, who
// may still present a certificate.
func (s *Server) useTLS() error {
	files := rpc.TLSFiles(s.cfg.TLS)
	nodeConf, err := rpc.ServerTLS(files, true)
	if err != nil {
		return err
	}
	userConf := nodeConf.Clone()
	userConf.ClientAuth = tls.VerifyClientCertIfGiven
	if s.forwardTLS, err = rpc.ClientTLS(files); err != nil {
		return err
	}
	s.nodeL = tls.NewListener(s.nodeL, nodeConf)
	if s.remoteL != nil {
		s.remoteL = tls.NewListener(s.remoteL, userConf)
	}
	return nil
}

// New opens the state (replaying the raft log) and prepares the listeners.
func New(opts Options) (*Server, error) {
	if opts.Log == nil {
		opts.Log = zap.NewNop()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.RaftLog == nil {
		opts.RaftLog = io.Discard
	}
	pol, err := newPolicy(opts.Config)
	if err != nil {
		return nil, err
	}
	store, err := state.New()
	if err != nil {
		return nil, err
	}
	s := &Server{
		cfg: opts.Config, log: opts.Log, now: opts.Now, store: store, pol: pol,
		defMemPerCPU: 1 << 30,
		kick:         make(chan struct{}, 1),
		reasons:      map[api.JobID]string{},
		lastSeen:     map[string]time.Time{},
	}
	rn, err := openRaft(fsm.New(store, opts.Log.Named("fsm")), raftOptions{
		dir: opts.Config.Controller.StateDir, snapshotThreshold: opts.Config.Controller.SnapshotThreshold,
		logOut: opts.RaftLog, id: opts.Config.ControllerID(), bind: opts.Config.Controller.RaftListen,
		peers: opts.Config.Controller.Peers, key: opts.Key,
	})
	if err != nil {
		return nil, err
	}
	s.raft = rn
	s.mail = newMailer(opts.Config.Controller.MailProgram, opts.Log.Named("mail"))
	start := s.now()
	for _, n := range store.Snapshot().Nodes() {
		s.lastSeen[n.Name] = start // every known node gets a full timeout after a restart
	}

	s.userSrv = rpc.NewPeerServer(opts.Log.Named("rpc.user"))
	rpc.Handle(s.userSrv, api.PathSubmit, s.submit)
	rpc.Handle(s.userSrv, api.PathSubmitBatch, s.submitBatch)
	rpc.Handle(s.userSrv, api.PathListJobs, s.listJobs)
	rpc.Handle(s.userSrv, api.PathQueueText, s.queueText)
	rpc.Handle(s.userSrv, api.PathCancel, s.cancel)
	rpc.Handle(s.userSrv, api.PathWaitJob, s.waitJob)
	rpc.Handle(s.userSrv, api.PathListNodes, s.listNodes)
	rpc.Handle(s.userSrv, api.PathUpdateNodes, s.updateNodes)
	rpc.Handle(s.userSrv, api.PathWhoAmI, s.whoAmI)
	rpc.Handle(s.userSrv, api.PathPriority, s.listPriorities)
	rpc.Handle(s.userSrv, api.PathShares, s.listShares)
	rpc.Handle(s.userSrv, api.PathStepStart, s.startStep)
	rpc.Handle(s.userSrv, api.PathStepWait, s.waitStep)
	rpc.Handle(s.userSrv, api.PathStepCancel, s.cancelStep)
	rpc.Handle(s.userSrv, api.PathToken, s.issueToken)
	rpc.Handle(s.userSrv, api.PathJobControl, s.controlJobs)
	rpc.Handle(s.userSrv, api.PathUpdateJob, s.updateJobs)
	rpc.Handle(s.userSrv, api.PathTestJob, s.testJob)

	// Remote users: the same calls over TCP, each request signed with a
	// token that the controller issued (see auth.TokenAuthority).
	s.tokens = auth.NewTokenAuthority(opts.Key, opts.Config.Auth.MaxClockSkew.Duration)
	if opts.Config.Controller.UserListen != "" {
		s.remoteSrv = rpc.NewSignedServer(s.tokens, opts.Log.Named("rpc.remote"))
		s.remoteSrv.HandleAll(s.userSrv.Handlers())
	}

	s.nodeSrv = rpc.NewSignedServer(auth.NewVerifier(opts.Key, opts.Config.Auth.MaxClockSkew.Duration), opts.Log.Named("rpc.node"))
	rpc.Handle(s.nodeSrv, api.PathNodeRegister, s.registerNode)
	rpc.Handle(s.nodeSrv, api.PathNodeSync, s.syncNode)

	if s.userL, err = rpc.ListenUnix(opts.Config.Controller.Socket); err != nil {
		rn.close()
		return nil, err
	}
	if s.nodeL, err = net.Listen("tcp", opts.Config.Controller.Listen); err != nil {
		s.userL.Close()
		rn.close()
		return nil, fmt.Errorf("listen %s: %w", opts.Config.Controller.Listen, err)
	}
	if s.remoteSrv != nil {
		if s.remoteL, err = net.Listen("tcp", opts.Config.Controller.UserListen); err != nil {
			s.closeListeners()
			rn.close()
			return nil, fmt.Errorf("listen %s: %w", opts.Config.Controller.UserListen, err)
		}
	}
	if opts.Config.TLS.Enabled() {
		if err := s.useTLS(); err != nil {
			s.closeListeners()
			rn.close()
			return nil, err
		}
	}
	if err := s.mountREST(); err != nil {
		s.closeListeners()
		rn.close()
		return nil, err
	}
	if !rn.single {
		fw := newForwarder(s, s.forwardTLS)
		s.userSrv.SetForwarder(fw.hook(localUsers, s.userSrv))
		s.nodeSrv.SetForwarder(fw.hook(nodeDaemons, s.nodeSrv))
		if s.remoteSrv != nil {
			s.remoteSrv.SetForwarder(fw.hook(remoteUsers, s.remoteSrv))
		}
	}
	// The real addresses (listen may name port 0) for tools and test harnesses.
	addrs := map[string]net.Listener{"listen.addr": s.nodeL, "user.addr": s.remoteL}
	for name, l := range addrs {
		if l == nil {
			continue
		}
		addrFile := filepath.Join(opts.Config.Controller.StateDir, name)
		if err := os.WriteFile(addrFile, []byte(l.Addr().String()+"\n"), 0o644); err != nil {
			s.closeListeners()
			rn.close()
			return nil, fmt.Errorf("write %s: %w", addrFile, err)
		}
	}
	if err := s.initObservability(opts); err != nil {
		s.closeListeners()
		rn.close()
		return nil, err
	}
	return s, nil
}

func partitions(c *config.Config) ([]api.Partition, error) {
	var out []api.Partition
	for _, p := range c.Partitions {
		ap := api.Partition{Name: p.Name, Nodes: p.Nodes, Default: p.Default, State: "UP",
			PriorityTier: p.PriorityTier, PriorityJobFactor: p.PriorityJobFactor,
			AllowAccounts: p.AllowAccounts, DefaultQOS: p.DefaultQOS}
		if p.State != "" {
			ap.State = strings.ToUpper(p.State)
		}
		if p.MaxTime != "" {
			v, _, err := units.ParseTimeLimit(p.MaxTime)
			if err != nil {
				return nil, fmt.Errorf("partition %s max_time: %w", p.Name, err)
			}
			ap.MaxTime = v
		}
		if p.DefaultTime != "" {
			v, _, err := units.ParseTimeLimit(p.DefaultTime)
			if err != nil {
				return nil, fmt.Errorf("partition %s default_time: %w", p.Name, err)
			}
			ap.DefaultTime = v
		}
		out = append(out, ap)
	}
	if len(out) > 0 {
		hasDefault := false
		for _, p := range out {
			hasDefault = hasDefault || p.Default
		}
		if !hasDefault {
			out[0].Default = true
		}
	}
	return out, nil
}

// NodeAddr is the TCP address node daemons should use.
func (s *Server) NodeAddr() string { return s.nodeL.Addr().String() }

// UserAddr is the TCP address for remote commands ("" when off).
func (s *Server) UserAddr() string {
	if s.remoteL == nil {
		return ""
	}
	return s.remoteL.Addr().String()
}

func (s *Server) closeListeners() {
	for _, l := range []net.Listener{s.userL, s.nodeL, s.remoteL} {
		if l != nil {
			l.Close()
		}
	}
}

// Run serves until ctx is done, then shuts everything down.
func (s *Server) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	errc := make(chan error, 3)
	for _, srv := range []struct {
		s *rpc.Server
		l net.Listener
	}{{s.userSrv, s.userL}, {s.nodeSrv, s.nodeL}, {s.remoteSrv, s.remoteL}} {
		if srv.s == nil {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := srv.s.Serve(ctx, srv.l); err != nil {
				errc <- err
				cancel()
			}
		}()
	}
	loops := []func(context.Context){s.scheduleLoop, s.livenessLoop, s.purgeLoop, s.leadershipLoop, s.serveMetrics, s.ctlHooksLoop, s.mailLoop}
	for _, loop := range loops {
		wg.Add(1)
		go func() { defer wg.Done(); loop(ctx) }()
	}
	s.log.Info("controller ready", zap.String("socket", s.cfg.Controller.Socket), zap.String("listen", s.NodeAddr()), zap.String("user_listen", s.UserAddr()))
	s.Kick()
	<-ctx.Done()
	wg.Wait()
	err := s.raft.close()
	select {
	case e := <-errc:
		return e
	default:
	}
	return err
}

// Kick asks for a scheduling pass soon.
func (s *Server) Kick() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// apply commits a command through raft and returns the FSM's result.
func (s *Server) apply(c *fsm.Command) (any, error) {
	c.Time = s.now().UTC()
	c.HalfLife = s.pol.halfLife
	b, err := fsm.Encode(c)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	f := s.raft.r.Apply(b, 30*time.Second)
	err = f.Error()
	s.obs.met.RaftApply(string(c.Type), time.Since(start))
	if err != nil {
		return nil, fmt.Errorf("%w: commit %s: %v", api.ErrUnavailable, c.Type, err)
	}
	if err, ok := f.Response().(error); ok {
		return nil, fmt.Errorf("apply %s: %w", c.Type, err)
	}
	return f.Response(), nil
}

// Snapshot exposes a read view of the state (for tests and tools).
func (s *Server) Snapshot() *state.Snapshot { return s.store.Snapshot() }

func (s *Server) setPlan(p *sched.Plan) {
	s.mu.Lock()
	s.reasons, s.starts, s.prios = p.Reasons, p.Starts, p.Priorities
	s.mu.Unlock()
}

// passPlan is what the latest scheduling pass said of the pending jobs:
// its maps are replaced whole by each pass and never modified, so a
// listing reads them without the lock.
type passPlan struct {
	reasons map[api.JobID]string
	starts  map[api.JobID]time.Time
	prios   map[api.JobID]int64
}

func (s *Server) plan() passPlan {
	s.mu.Lock()
	defer s.mu.Unlock()
	return passPlan{s.reasons, s.starts, s.prios}
}

// of is what the pass said of a pending job beyond its record: why it
// waits, when it is expected to start, and its priority now (the
// record's when the pass gave none). ok is false when the pass said
// nothing newer: for jobs not pending, and for held jobs, which the pass
// gives their record's reason and nothing else.
func (p passPlan) of(j *api.Job) (reason string, start time.Time, prio int64, ok bool) {
	if j.State != api.StatePending || j.Spec.Hold {
		return "", time.Time{}, 0, false
	}
	if reason, ok = p.reasons[j.ID]; !ok {
		return "", time.Time{}, 0, false
	}
	if prio = p.prios[j.ID]; prio == 0 {
		prio = j.Priority
	}
	return reason, p.starts[j.ID], prio, true
}

func (s *Server) caller(ctx context.Context) (auth.Peer, bool, error) {
	p, ok := auth.PeerFrom(ctx)
	if !ok {
		return auth.Peer{}, false, fmt.Errorf("%w: caller identity unknown", api.ErrUnauthenticated)
	}
	return p, s.cfg.IsOperator(p.UID, p.User), nil
}
