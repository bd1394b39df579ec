package server

import (
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"go.uber.org/zap"

	"github.com/gsched/gsched/pkg/api"
	"github.com/gsched/gsched/pkg/fsm"
)

// maxReservedCPUs bounds a node's reserved and usable CPU lists.
const maxReservedCPUs = 1 << 16

// cleanReason makes a node-supplied reason one short line of text: a
// health check's or a script's output is not the node daemon's to shape
// into several lines of ginfo.
func cleanReason(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, strings.TrimSpace(s))
	if len(s) > api.MaxHealthReason {
		s = s[:api.MaxHealthReason]
		for len(s) > 0 && !utf8.ValidString(s) {
			s = s[:len(s)-1] // do not end inside a UTF-8 sequence
		}
	}
	if s == "" {
		s = "(no reason given)"
	}
	return s
}

// checkReserved refuses an implausible reservation and returns the number
// of GPU indices the node's topology must cover (registered and reserved
// GPUs together).
func checkReserved(n *api.Node) (int, error) {
	r := n.Reserved
	if r == nil {
		return len(n.GPUs), nil
	}
	if len(r.CPUs) > maxReservedCPUs || len(r.UsableCPUs) > maxReservedCPUs || len(r.GPUs) > maxGPUs ||
		r.MemBytes < 0 || r.MemBytes > maxMemBytes {
		return 0, invalid("node %s: implausible reservation", n.Name)
	}
	for _, c := range slices.Concat(r.CPUs, r.UsableCPUs) {
		if c < 0 || c >= maxReservedCPUs {
			return 0, invalid("node %s: bad CPU id %d in its reservation", n.Name, c)
		}
	}
	for _, g := range r.GPUs {
		if g < 0 || slices.ContainsFunc(n.GPUs, func(x api.GPU) bool { return x.Index == g }) {
			return 0, invalid("node %s: reserved GPU %d is negative or also offered to jobs", n.Name, g)
		}
	}
	return len(n.GPUs) + len(r.GPUs), nil
}

// applyHealth records a node's health-check result when it changes the
// node (drain on failure, resume what a health check drained on success):
// an unchanged result costs no raft write.
func (s *Server) applyHealth(node string, h *api.NodeHealth) error {
	if h == nil {
		return nil
	}
	res := *h
	if !res.OK {
		res.Reason = cleanReason(res.Reason)
	} else {
		res.Reason = ""
	}
	n := s.store.Snapshot().Node(node)
	if n == nil || !fsm.HealthChange(n, res) {
		return nil
	}
	if _, err := s.apply(&fsm.Command{Type: fsm.CmdNodeState, NodeState: fsm.HealthCmd(node, res)}); err != nil {
		return fmt.Errorf("health of node %s: %w", node, err)
	}
	if res.OK {
		s.log.Info("node health check passed", zap.String("node", node), zap.String("was", n.Reason))
	} else {
		s.log.Warn("node health check failed", zap.String("node", node), zap.String("reason", res.Reason))
	}
	s.Kick()
	return nil
}

// prologFailures applies the reports of runs whose node prolog failed
// (requeue and drain, fsm.CmdPrologFailed) and returns the others.
func (s *Server) prologFailures(node string, reports []api.TaskReport) ([]api.TaskReport, error) {
	rest := reports[:0:0]
	for _, r := range reports {
		if r.PrologError == "" {
			rest = append(rest, r)
			continue
		}
		r.PrologError = cleanReason(r.PrologError)
		if _, err := s.apply(&fsm.Command{Type: fsm.CmdPrologFailed, PrologFailed: &fsm.PrologFailedCmd{Node: node, Report: r}}); err != nil {
			return nil, err
		}
		s.log.Warn("node prolog failed: job requeued, node drained", zap.Uint64("job", uint64(r.JobID)),
			zap.Int("attempt", r.Attempt), zap.String("node", node), zap.String("error", r.PrologError))
		s.Kick()
	}
	return rest, nil
}

// epilogFailures drains the node for each recorded report whose epilog
// failed (the jobs' outcomes stand).
func (s *Server) epilogFailures(node string, reports []api.TaskReport) error {
	for _, r := range reports {
		if r.EpilogError == "" {
			continue
		}
		reason := "epilog failed: " + cleanReason(r.EpilogError)
		cmd := &fsm.NodeStateCmd{Nodes: []string{node}, State: api.NodeDrain, Reason: reason, Source: fsm.NodeSourceScript}
		if _, err := s.apply(&fsm.Command{Type: fsm.CmdNodeState, NodeState: cmd}); err != nil {
			return err
		}
		s.log.Warn("node epilog failed: node drained", zap.Uint64("job", uint64(r.JobID)), zap.String("node", node),
			zap.String("error", reason))
	}
	return nil
}
