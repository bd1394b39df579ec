package fsm

import (
	"fmt"
	"strings"

	"github.com/gsched/gsched/pkg/api"
	"github.com/gsched/gsched/pkg/state"
)

// Sources of a NodeStateCmd other than an operator.
const (
	NodeSourceHealth = "health"
	NodeSourceScript = "script"
)

// PrologFailedCmd is a node's report that node.prolog failed for a run
// of a job: the job never started there.
type PrologFailedCmd struct {
	Node   string         `json:"node"`
	Report api.TaskReport `json:"report"`
}

// nodeStateFrom applies a health check's or a failed script's state
// change to a node, Slurm-like:
//   - a DOWN node (by heartbeat or an operator) is left alone;
//   - a failing health check drains an UP node (and updates the reason
//     of a node it drained itself), never one an operator drained;
//   - a passing one resumes only a node it drained itself;
//   - a failed prolog or epilog drains the node until an operator
//     resumes it (it also takes over a health drain).
//
// ok is false when nothing changes.
func nodeStateFrom(old *api.Node, cmd *NodeStateCmd) (n api.Node, ok bool) {
	n = *old
	if cmd.Source == NodeSourceHealth && cmd.Health != nil {
		h := *cmd.Health
		n.Health = &h
	}
	changed := cmd.Source == NodeSourceHealth && !sameHealth(old.Health, n.Health)
	if n.State == api.NodeDown {
		return n, changed
	}
	switch {
	case cmd.Source == NodeSourceScript:
		if n.State == api.NodeDrain && !n.HealthDrain {
			return n, changed // an operator's (or an earlier script's) drain stands
		}
		n.State, n.Reason, n.HealthDrain = api.NodeDrain, cmd.Reason, false
		return n, true
	case cmd.Source != NodeSourceHealth:
		return n, changed
	case cmd.State == api.NodeDrain && n.State == api.NodeUp:
		n.State, n.Reason, n.HealthDrain = api.NodeDrain, cmd.Reason, true
		return n, true
	case cmd.State == api.NodeDrain && n.HealthDrain && n.Reason != cmd.Reason:
		n.Reason = cmd.Reason
		return n, true
	case cmd.State == api.NodeUp && n.HealthDrain:
		n.State, n.Reason, n.HealthDrain = api.NodeUp, "", false
		return n, true
	}
	return n, changed
}

func sameHealth(a, b *api.NodeHealth) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.OK == b.OK && a.Reason == b.Reason
}

// HealthCmd is the NodeStateCmd for a node's health-check result.
func HealthCmd(node string, h api.NodeHealth) *NodeStateCmd {
	cmd := &NodeStateCmd{Nodes: []string{node}, State: api.NodeUp, Source: NodeSourceHealth, Health: &h}
	if !h.OK {
		cmd.State = api.NodeDrain
		cmd.Reason = api.HealthReasonPrefix + h.Reason
	}
	return cmd
}

// HealthChange reports whether a health result would change the stored
// node (so that a sync need not write to the log when nothing changed).
func HealthChange(n *api.Node, h api.NodeHealth) bool {
	_, ok := nodeStateFrom(n, HealthCmd(n.Name, h))
	return ok
}

// applyPrologFailed drains the node and puts the job back in the queue as
// a new attempt (the same requeue as a node failure), unless the job is
// already stopping: then the report ends the run as any other would.
func applyPrologFailed(t *state.Txn, c *Command) error {
	cmd := c.PrologFailed
	if cmd == nil || cmd.Node == "" {
		return fmt.Errorf("prolog failed: empty command")
	}
	r := cmd.Report
	snap := t.Snapshot()
	if old := snap.Node(cmd.Node); old != nil {
		reason := "prolog failed: " + strings.TrimSpace(r.PrologError)
		if n, ok := nodeStateFrom(old, &NodeStateCmd{Nodes: []string{cmd.Node}, State: api.NodeDrain, Reason: reason, Source: NodeSourceScript}); ok {
			if err := t.PutNode(&n); err != nil {
				return err
			}
		}
	}
	j := snap.Job(nil, r.JobID)
	if j == nil || j.State.Final() || r.Attempt != j.Restarts {
		return nil
	}
	if a := j.AllocOn(cmd.Node); a == nil || a.Done {
		return nil
	}
	if j.State != api.StateRunning || j.CancelRequested {
		fin := &Command{Type: CmdFinish, Time: c.Time, HalfLife: c.HalfLife,
			Finish: &FinishCmd{Node: cmd.Node, Reports: []api.TaskReport{r}}}
		return applyFinish(t, fin)
	}
	if err := endSteps(t, j.ID, c.Time); err != nil {
		return err
	}
	return requeue(t, j, c, c.Time, api.ReasonPrologFailed)
}
