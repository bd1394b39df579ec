package server

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	memdb "github.com/hashicorp/go-memdb"
	"go.uber.org/zap"

	"github.com/gsched/gsched/pkg/api"
	"github.com/gsched/gsched/pkg/fsm"
	"github.com/gsched/gsched/pkg/rpc"
	"github.com/gsched/gsched/pkg/sched"
	"github.com/gsched/gsched/pkg/state"
	"github.com/gsched/gsched/pkg/topology"
)

// maxNodeName bounds a node's name; maxNodeLabels its features,
// partitions and extra devices, each.
const (
	maxNodeName   = 128
	maxNodeLabels = 256
)

// validNodeName reports whether name may name a node: a host name, which
// hostlists, job environments and every listing carry unchanged.
func validNodeName(name string) bool {
	if name == "" || len(name) > maxNodeName {
		return false
	}
	for _, c := range []byte(name) {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// checkNodeCert: with mutual TLS, a node daemon's certificate must name
// the node it speaks for (its subject CN or a DNS name), so one node's
// credentials cannot act for another; a controller's certificate (an HA
// peer id) may, since followers relay their node daemons' requests.
func (s *Server) checkNodeCert(ctx context.Context, node string) error {
	names, ok := rpc.CertNames(ctx)
	if !ok || slices.Contains(names, node) {
		return nil
	}
	for _, n := range names {
		if _, peer := s.cfg.Peer(n); !peer {
			continue
		}
		// A follower relaying a node daemon's request: the node's own
		// certificate must name it.
		relayed, ok := rpc.RelayedCertNames(ctx)
		if !ok || slices.Contains(relayed, node) {
			return nil
		}
		names = relayed
		break
	}
	s.log.Warn("denied: node request with another node's certificate",
		zap.String("node", truncate(node, 64)), zap.Strings("certificate", names))
	return fmt.Errorf("%w: the TLS certificate names %s, not node %s", api.ErrPermission, strings.Join(names, ","), truncate(node, 64))
}

func (s *Server) touch(node string) {
	s.mu.Lock()
	s.lastSeen[node] = s.now()
	s.mu.Unlock()
}

func (s *Server) registerNode(ctx context.Context, req *api.RegisterRequest) (any, error) {
	n := req.Node
	if !validNodeName(n.Name) {
		return nil, invalid("node name %q is not a host name (1 to %d letters, digits, '-', '_' and '.')", truncate(n.Name, 64), maxNodeName)
	}
	if err := s.checkNodeCert(ctx, n.Name); err != nil {
		return nil, err
	}
	for _, c := range []struct{ what, v string }{
		{"node address", n.Addr}, {"GPU source", n.GPUSource}, {"driver version", n.DriverVersion},
		{"CUDA version", n.CUDAVersion}, {"boot id", n.BootID}, {"version", n.Version},
	} {
		if err := checkLine(c.what, c.v, maxNameLen); err != nil {
			return nil, fmt.Errorf("node %s: %w", n.Name, err)
		}
	}
	for _, list := range []struct {
		what string
		v    []string
	}{{"feature", n.Features}, {"partition", n.Partitions}, {"extra device", n.ExtraDevices}} {
		if len(list.v) > maxNodeLabels {
			return nil, invalid("node %s: more than %d %ss", n.Name, maxNodeLabels, list.what)
		}
		for _, v := range list.v {
			if err := checkLine(list.what, v, maxPathLen); err != nil {
				return nil, fmt.Errorf("node %s: %w", n.Name, err)
			}
		}
	}
	if n.CPUs < 1 || n.CPUs > maxCount || n.MemBytes < 0 || n.MemBytes > maxMemBytes || len(n.GPUs) > maxGPUs {
		return nil, invalid("node %s: implausible resources (%d CPUs, %d bytes, %d GPUs)", n.Name, n.CPUs, n.MemBytes, len(n.GPUs))
	}
	seen := map[int]bool{}
	for _, g := range n.GPUs {
		if g.Index < 0 || seen[g.Index] {
			return nil, invalid("node %s: bad or duplicate GPU index %d", n.Name, g.Index)
		}
		seen[g.Index] = true
		for _, v := range []string{g.UUID, g.Model, g.PCIBusID, g.DevicePath} {
			if err := checkLine("GPU description", v, maxPathLen); err != nil {
				return nil, fmt.Errorf("node %s GPU %d: %w", n.Name, g.Index, err)
			}
		}
	}
	nTopo, err := checkReserved(&n)
	if err != nil {
		return nil, err
	}
	if err := topology.Validate(n.Topology, nTopo); err != nil {
		return nil, invalid("node %s: bad GPU topology: %v", n.Name, err)
	}
	n.Health, n.HealthDrain = nil, false // the controller's to set
	if _, err := s.apply(&fsm.Command{Type: fsm.CmdRegisterNode, Register: &fsm.RegisterCmd{Node: n}}); err != nil {
		return nil, err
	}
	if err := s.applyHealth(n.Name, req.Health); err != nil {
		return nil, err
	}
	s.touch(n.Name)
	s.gpuUse.forget(n.Name) // a restarted daemon's figures start afresh
	s.log.Info("node registered", zap.String("node", n.Name), zap.Int("cpus", n.CPUs),
		zap.Int64("mem_bytes", n.MemBytes), zap.Int("gpus", len(n.GPUs)), zap.String("gpu_source", n.GPUSource))
	s.Kick()
	return &api.RegisterResponse{HeartbeatMs: s.cfg.Controller.HeartbeatInterval.Milliseconds()}, nil
}

// syncNode is the node's heartbeat and long poll: it records finished
// tasks, then answers with the jobs the node should run as soon as that
// differs from what the node reported, or when WaitMs passes.
func (s *Server) syncNode(ctx context.Context, req *api.SyncRequest) (any, error) {
	if err := s.checkNodeCert(ctx, req.Node); err != nil {
		return nil, err
	}
	snap := s.store.Snapshot()
	n := snap.Node(req.Node)
	if n == nil || (n.State == api.NodeDown && !n.HeldDown) {
		return &api.SyncResponse{Reregister: true, Jobs: []api.Job{}}, nil
	}
	// A node held DOWN by an operator syncs as usual: it has no jobs, so
	// it stops whatever it still runs, and it stays DOWN.
	s.touch(req.Node)
	s.recordGPUUsage(n, req.GPUUsage)
	if err := s.applyHealth(req.Node, req.Health); err != nil {
		return nil, err
	}

	var finished []api.TaskReport
	var acked []api.TaskRef
	reports := map[api.TaskRef]*api.TaskReport{}
	for i := range req.Reports {
		r := &req.Reports[i]
		ref := api.TaskRef{JobID: r.JobID, Attempt: r.Attempt}
		reports[ref] = r
		j := snap.Job(nil, r.JobID)
		var a *api.Allocation
		if j != nil {
			a = j.AllocOn(req.Node)
		}
		mine := a != nil && !a.Done && !j.State.Final() && j.Restarts == r.Attempt
		switch {
		case r.State == api.TaskRunning:
			if mine && len(j.Signals) > 0 && r.SignalSeq >= j.Signals[0].Seq {
				if _, err := s.apply(&fsm.Command{Type: fsm.CmdAckSignals, Ack: &fsm.AckCmd{JobID: j.ID, Seq: r.SignalSeq}}); err != nil {
					return nil, err
				}
			}
		case mine:
			finished = append(finished, *r)
			acked = append(acked, ref)
		default:
			acked = append(acked, ref) // final, purged, another node's or an earlier attempt: forget it
		}
	}
	finished, err := s.prologFailures(req.Node, finished)
	if err != nil {
		return nil, err
	}
	if len(finished) > 0 {
		if _, err := s.apply(&fsm.Command{Type: fsm.CmdFinish, Finish: &fsm.FinishCmd{Node: req.Node, Reports: finished}}); err != nil {
			return nil, err
		}
		if err := s.epilogFailures(req.Node, finished); err != nil {
			return nil, err
		}
		for _, r := range finished {
			s.log.Info("job ended", zap.Uint64("job", uint64(r.JobID)), zap.Int("attempt", r.Attempt), zap.String("node", req.Node),
				zap.Int("exit_code", r.ExitCode), zap.Int("signal", r.Signal), zap.Bool("oom", r.OOMKilled),
				zap.Bool("timeout", r.TimedOut), zap.String("error", r.Error))
		}
		s.Kick()
	}

	if len(req.StepReports) > 0 {
		if err := s.recordStepReports(s.store.Snapshot(), req.Node, req.StepReports); err != nil {
			return nil, err
		}
	}

	wait := time.Duration(req.WaitMs) * time.Millisecond
	if max := s.cfg.Controller.HeartbeatInterval.Duration; wait > max {
		wait = max
	}
	wctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	for {
		snap = s.store.Snapshot()
		ws := memdb.NewWatchSet()
		jobs := snap.JobsBy(ws, state.IndexNode, req.Node)
		steps := nodeSteps(snap, ws, req.Node, jobs)
		if len(acked) > 0 || wait <= 0 || needsAction(jobs, reports) || stepsNeedAction(steps, req.Node, req) {
			return syncResponse(jobs, steps, acked), nil
		}
		ws.Add(snap.Abandoned())
		if ws.WatchCtx(wctx) != nil {
			return syncResponse(jobs, steps, acked), nil
		}
	}
}

func syncResponse(jobs []*api.Job, steps []*api.Step, acked []api.TaskRef) *api.SyncResponse {
	resp := &api.SyncResponse{Jobs: make([]api.Job, 0, len(jobs)), Acked: acked}
	for _, j := range jobs {
		resp.Jobs = append(resp.Jobs, *j)
	}
	for _, st := range steps {
		resp.Steps = append(resp.Steps, *st)
	}
	return resp
}

// needsAction reports whether the node's view differs from the wanted one:
// a job (attempt) to start, a stop or signal not yet under way, or a task
// the node should not be running.
func needsAction(jobs []*api.Job, reports map[api.TaskRef]*api.TaskReport) bool {
	want := map[api.TaskRef]bool{}
	for _, j := range jobs {
		ref := api.TaskRef{JobID: j.ID, Attempt: j.Restarts}
		want[ref] = true
		r, ok := reports[ref]
		if !ok {
			return true
		}
		if r.State != api.TaskRunning {
			continue
		}
		if j.Stopping() && !r.Cancelled {
			return true
		}
		if n := len(j.Signals); n > 0 && j.Signals[n-1].Seq > r.SignalSeq {
			return true
		}
	}
	for ref, r := range reports {
		if !want[ref] && r.State == api.TaskRunning && !r.Cancelled {
			return true
		}
	}
	return false
}

func (s *Server) listNodes(ctx context.Context, _ *struct{}) (any, error) {
	if _, _, err := s.caller(ctx); err != nil {
		return nil, err
	}
	snap := s.store.Snapshot()
	usage := snap.Usage()
	out := &api.NodeList{Nodes: []api.NodeInfo{}, Partitions: s.pol.parts}
	known := map[string]bool{}
	for _, n := range snap.Nodes() {
		u := usage[n.Name]
		info := api.NodeInfo{Node: *n, Alloc: u, DisplayState: api.DisplayState(n, u)}
		known[n.Name] = true
		info.GPUUsage, info.GPUUsageTime = s.nodeGPUUsage(n)
		s.mu.Lock()
		info.LastHeartbeat = s.lastSeen[n.Name]
		s.mu.Unlock()
		if len(info.Partitions) == 0 {
			for i := range s.pol.parts {
				if sched.InPartition(n, &s.pol.parts[i]) {
					info.Partitions = append(info.Partitions, s.pol.parts[i].Name)
				}
			}
		}
		out.Nodes = append(out.Nodes, info)
	}
	s.gpuUse.retain(known)
	sort.Slice(out.Nodes, func(a, b int) bool { return out.Nodes[a].Name < out.Nodes[b].Name })
	return out, nil
}

// updateNodes is an operator's drain, resume or down of nodes (gcontrol
// update node=...).
func (s *Server) updateNodes(ctx context.Context, req *api.NodeUpdateRequest) (any, error) {
	p, op, err := s.caller(ctx)
	if err != nil {
		return nil, err
	}
	if !op {
		s.log.Warn("denied: node update by a non-operator", zap.Uint32("uid", p.UID), zap.String("user", p.User),
			zap.Strings("nodes", req.Nodes), zap.String("state", req.State))
		return nil, fmt.Errorf("%w: only operators may change node states", api.ErrPermission)
	}
	if len(req.Nodes) == 0 || len(req.Nodes) > 100_000 {
		return nil, invalid("node update: give 1 to 100000 nodes")
	}
	if err := checkLine("reason", req.Reason, 1024); err != nil {
		return nil, err
	}
	state, err := api.NodeUpdateState(req.State, req.Reason)
	if err != nil {
		return nil, invalid("node update: %v", err)
	}
	snap := s.store.Snapshot()
	for _, name := range req.Nodes {
		if snap.Node(name) == nil {
			return nil, fmt.Errorf("%w: node %q does not exist", api.ErrNotFound, truncate(name, 64))
		}
	}
	reason := req.Reason
	if state != "RESUME" {
		reason = fmt.Sprintf("%s [%s@%s]", req.Reason, p.User, s.now().UTC().Format(time.RFC3339))
	}
	switch state {
	case "DOWN":
		for _, name := range req.Nodes {
			if _, err := s.apply(&fsm.Command{Type: fsm.CmdNodeDown, NodeDown: &fsm.NodeDownCmd{Node: name, Reason: reason, Held: true}}); err != nil {
				return nil, err
			}
		}
	default:
		st := api.NodeDrain
		if state == "RESUME" {
			st = api.NodeUp
			// A resumed node gets a full heartbeat timeout to show it
			// is alive before it can be marked DOWN again.
			s.mu.Lock()
			for _, name := range req.Nodes {
				s.lastSeen[name] = s.now()
			}
			s.mu.Unlock()
		}
		if _, err := s.apply(&fsm.Command{Type: fsm.CmdNodeState, NodeState: &fsm.NodeStateCmd{Nodes: req.Nodes, State: st, Reason: reason}}); err != nil {
			return nil, err
		}
	}
	s.log.Info("nodes updated", zap.Strings("nodes", req.Nodes), zap.String("state", state), zap.String("reason", req.Reason),
		zap.String("by", p.User))
	s.Kick()
	return &api.NodeUpdateResponse{Nodes: req.Nodes}, nil
}

// livenessLoop marks nodes DOWN when they miss heartbeats for NodeTimeout.
func (s *Server) livenessLoop(ctx context.Context) {
	timeout := s.cfg.Controller.NodeTimeout.Duration
	tick := timeout / 4
	if tick > time.Second {
		tick = time.Second
	}
	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if !s.leading() {
			continue
		}
		now := s.now()
		for _, n := range s.store.Snapshot().Nodes() {
			if n.State == api.NodeDown {
				continue
			}
			s.mu.Lock()
			seen, ok := s.lastSeen[n.Name]
			if !ok {
				s.lastSeen[n.Name] = now
				seen = now
			}
			s.mu.Unlock()
			if now.Sub(seen) <= timeout {
				continue
			}
			reason := fmt.Sprintf("Not responding (no heartbeat for %s)", now.Sub(seen).Round(time.Second))
			s.log.Warn("node down", zap.String("node", n.Name), zap.String("reason", reason))
			if _, err := s.apply(&fsm.Command{Type: fsm.CmdNodeDown, NodeDown: &fsm.NodeDownCmd{Node: n.Name, Reason: reason}}); err != nil {
				s.log.Error("mark node down", zap.String("node", n.Name), zap.Error(err))
			}
			s.Kick()
		}
	}
}

// purgeLoop forgets finished jobs older than the retention.
func (s *Server) purgeLoop(ctx context.Context) {
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if !s.leading() {
			continue
		}
		before := s.now().Add(-s.cfg.Controller.JobRetention.Duration)
		if !anyPurgeable(s.store.Snapshot(), before) {
			continue
		}
		if _, err := s.apply(&fsm.Command{Type: fsm.CmdPurge, Purge: &fsm.PurgeCmd{Before: before}}); err != nil {
			s.log.Error("purge finished jobs", zap.Error(err))
		}
	}
}

func anyPurgeable(snap *state.Snapshot, before time.Time) bool {
	for _, j := range snap.Jobs() {
		if j.State.Final() && !j.EndTime.IsZero() && j.EndTime.Before(before) {
			return true
		}
	}
	return false
}
