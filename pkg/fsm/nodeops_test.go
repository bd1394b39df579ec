package fsm_test

import (
	"testing"

	"github.com/gsched/gsched/pkg/api"
	"github.com/gsched/gsched/pkg/fsm"
)

func healthy(ok bool, reason string) api.NodeHealth {
	return api.NodeHealth{OK: ok, Reason: reason, Time: t0}
}

// Health checks drain and resume only what they drained; operators'
// drains and DOWN nodes are left alone; a failed script drains until an
// operator resumes.
func TestNodeStateFromHealth(t *testing.T) {
	tests := []struct {
		name        string
		state       api.NodeState
		reason      string
		healthDrain bool
		cmd         *fsm.NodeStateCmd
		wantState   api.NodeState
		wantReason  string
		wantHealth  bool // HealthDrain after
	}{
		{"fail drains an up node", api.NodeUp, "", false, fsm.HealthCmd("n1", healthy(false, "7 GPUs, expected 8")),
			api.NodeDrain, "health: 7 GPUs, expected 8", true},
		{"fail updates its own reason", api.NodeDrain, "health: old", true, fsm.HealthCmd("n1", healthy(false, "new")),
			api.NodeDrain, "health: new", true},
		{"fail keeps an operator's drain", api.NodeDrain, "fan", false, fsm.HealthCmd("n1", healthy(false, "x")),
			api.NodeDrain, "fan", false},
		{"fail leaves a down node", api.NodeDown, "Not responding", false, fsm.HealthCmd("n1", healthy(false, "x")),
			api.NodeDown, "Not responding", false},
		{"pass resumes its own drain", api.NodeDrain, "health: x", true, fsm.HealthCmd("n1", healthy(true, "")),
			api.NodeUp, "", false},
		{"pass keeps an operator's drain", api.NodeDrain, "fan", false, fsm.HealthCmd("n1", healthy(true, "")),
			api.NodeDrain, "fan", false},
		{"pass leaves an up node up", api.NodeUp, "", false, fsm.HealthCmd("n1", healthy(true, "")),
			api.NodeUp, "", false},
		{"script drains an up node", api.NodeUp, "", false,
			&fsm.NodeStateCmd{Nodes: []string{"n1"}, State: api.NodeDrain, Reason: "epilog failed: rc 3", Source: fsm.NodeSourceScript},
			api.NodeDrain, "epilog failed: rc 3", false},
		{"script takes over a health drain", api.NodeDrain, "health: x", true,
			&fsm.NodeStateCmd{Nodes: []string{"n1"}, State: api.NodeDrain, Reason: "epilog failed: rc 3", Source: fsm.NodeSourceScript},
			api.NodeDrain, "epilog failed: rc 3", false},
		{"script keeps an operator's reason", api.NodeDrain, "fan", false,
			&fsm.NodeStateCmd{Nodes: []string{"n1"}, State: api.NodeDrain, Reason: "epilog failed", Source: fsm.NodeSourceScript},
			api.NodeDrain, "fan", false},
		{"operator resume clears a health drain", api.NodeDrain, "health: x", true,
			&fsm.NodeStateCmd{Nodes: []string{"n1"}, State: api.NodeUp},
			api.NodeUp, "", false},
		{"operator drain is not a health drain", api.NodeDrain, "health: x", true,
			&fsm.NodeStateCmd{Nodes: []string{"n1"}, State: api.NodeDrain, Reason: "mine"},
			api.NodeDrain, "mine", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			n := nodeNamed("n1")
			n.State, n.Reason, n.HealthDrain = tc.state, tc.reason, tc.healthDrain
			h.setNode(n)
			h.apply(&fsm.Command{Type: fsm.CmdNodeState, NodeState: tc.cmd})
			got := h.node("n1")
			if got.State != tc.wantState || got.Reason != tc.wantReason || got.HealthDrain != tc.wantHealth {
				t.Errorf("got %s %q health-drain=%v, want %s %q %v", got.State, got.Reason, got.HealthDrain,
					tc.wantState, tc.wantReason, tc.wantHealth)
			}
			if tc.cmd.Source == fsm.NodeSourceHealth && (got.Health == nil || got.Health.OK != tc.cmd.Health.OK) {
				t.Errorf("health not stored: %+v", got.Health)
			}
		})
	}
}

// A health drain survives the node registering again (a daemon restart),
// and so does the stored result; HealthChange says when a result is news.
func TestHealthDrainSurvivesRegister(t *testing.T) {
	h := newHarness(t)
	h.register(nodeNamed("n1"))
	h.apply(&fsm.Command{Type: fsm.CmdNodeState, NodeState: fsm.HealthCmd("n1", healthy(false, "ECC"))})
	h.register(nodeNamed("n1"))
	n := h.node("n1")
	if n.State != api.NodeDrain || !n.HealthDrain || n.Health == nil || n.Health.Reason != "ECC" {
		t.Fatalf("after register: %+v", n)
	}
	if fsm.HealthChange(n, healthy(false, "ECC")) {
		t.Error("the same failing result counts as a change")
	}
	if !fsm.HealthChange(n, healthy(false, "XID 79")) || !fsm.HealthChange(n, healthy(true, "")) {
		t.Error("a new reason or a pass is not a change")
	}
}

// A failed prolog requeues the job (a new attempt, PENDING) and drains
// the node; a stale report (earlier attempt) only drains.
func TestPrologFailed(t *testing.T) {
	h := running(t)
	rep := api.TaskReport{JobID: 1, State: api.TaskExited, ExitCode: 1, PrologError: "exit status 3: no scratch"}
	h.apply(&fsm.Command{Type: fsm.CmdPrologFailed, PrologFailed: &fsm.PrologFailedCmd{Node: "n1", Report: rep}})
	j := h.job(1)
	if j.State != api.StatePending || j.Restarts != 1 || j.Reason != api.ReasonPrologFailed || len(j.Allocs) != 0 {
		t.Fatalf("job after failed prolog: %s %q restarts=%d allocs=%v", j.State, j.Reason, j.Restarts, j.Allocs)
	}
	n := h.node("n1")
	if n.State != api.NodeDrain || n.Reason != "prolog failed: exit status 3: no scratch" || n.HealthDrain {
		t.Fatalf("node: %s %q %v", n.State, n.Reason, n.HealthDrain)
	}
	// The same report again (attempt 0) is stale now.
	h.apply(&fsm.Command{Type: fsm.CmdPrologFailed, PrologFailed: &fsm.PrologFailedCmd{Node: "n1", Report: rep}})
	if j := h.job(1); j.Restarts != 1 || j.State != api.StatePending {
		t.Fatalf("stale report changed the job: %s restarts=%d", j.State, j.Restarts)
	}
}

// A job being cancelled when its prolog fails ends CANCELLED, not requeued.
func TestPrologFailedWhileCancelling(t *testing.T) {
	h := running(t)
	h.cancel(1)
	rep := api.TaskReport{JobID: 1, State: api.TaskExited, ExitCode: 1, PrologError: "boom"}
	h.apply(&fsm.Command{Type: fsm.CmdPrologFailed, PrologFailed: &fsm.PrologFailedCmd{Node: "n1", Report: rep}})
	if j := h.job(1); j.State != api.StateCancelled || j.Restarts != 0 {
		t.Fatalf("job: %s restarts=%d", j.State, j.Restarts)
	}
	if n := h.node("n1"); n.State != api.NodeDrain {
		t.Fatalf("node not drained: %s", n.State)
	}
}
