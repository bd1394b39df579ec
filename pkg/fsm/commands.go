// Package fsm is the raft finite-state machine of the controller: every
// change of cluster state is a Command appended to the raft log, and Apply
// replays it onto pkg/state deterministically (the command carries the
// leader's clock; nothing here reads the wall clock). Snapshot and Restore
// serialise the whole store.
package fsm

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/gsched/gsched/pkg/api"
)

// CmdType names a command.
type CmdType string

// Command types.
const (
	CmdSubmit       CmdType = "submit"
	CmdStart        CmdType = "start"
	CmdFinish       CmdType = "finish"
	CmdCancel       CmdType = "cancel"
	CmdSignal       CmdType = "signal"
	CmdAckSignals   CmdType = "ack_signals"
	CmdRegisterNode CmdType = "register_node"
	CmdNodeDown     CmdType = "node_down"
	CmdPurge        CmdType = "purge"
	CmdPreempt      CmdType = "preempt"
	CmdStepStart    CmdType = "step_start"
	CmdStepEnd      CmdType = "step_end"
	CmdStepCancel   CmdType = "step_cancel"
	CmdNodeState    CmdType = "node_state"
	// CmdPrologFailed requeues a job whose node prolog failed and drains
	// the node (nodeops.go).
	CmdPrologFailed CmdType = "prolog_failed"
	// Job control (jobctl.go).
	CmdHold      CmdType = "hold"
	CmdRelease   CmdType = "release"
	CmdRequeue   CmdType = "requeue"
	CmdUpdateJob CmdType = "update_job"
)

// Command is one raft log entry.
type Command struct {
	Type CmdType   `json:"type"`
	Time time.Time `json:"time"`
	// HalfLife decays fair-share usage when a command charges it; it
	// travels with the command so replays do not depend on the config.
	HalfLife time.Duration `json:"half_life,omitempty"`

	Submit   *SubmitCmd   `json:"submit,omitempty"`
	Start    *StartCmd    `json:"start,omitempty"`
	Finish   *FinishCmd   `json:"finish,omitempty"`
	Cancel   *CancelCmd   `json:"cancel,omitempty"`
	Signal   *SignalCmd   `json:"signal,omitempty"`
	Ack      *AckCmd      `json:"ack,omitempty"`
	Register *RegisterCmd `json:"register,omitempty"`
	NodeDown *NodeDownCmd `json:"node_down,omitempty"`
	Purge    *PurgeCmd    `json:"purge,omitempty"`
	Preempt  *PreemptCmd  `json:"preempt,omitempty"`
	// Step carries a new step (CmdStepStart); StepEnd ended step tasks
	// (CmdStepEnd); StepCancel the step to stop (CmdStepCancel).
	Step       *api.Step     `json:"step,omitempty"`
	StepEnd    *StepEndCmd   `json:"step_end,omitempty"`
	StepCancel *api.StepRef  `json:"step_cancel,omitempty"`
	NodeState  *NodeStateCmd `json:"node_state,omitempty"`
	// PrologFailed carries a node's failed-prolog report.
	PrologFailed *PrologFailedCmd `json:"prolog_failed,omitempty"`
	// Jobs names the jobs of CmdHold, CmdRelease and CmdRequeue;
	// UpdateJob carries CmdUpdateJob's changes (see jobctl.go).
	Jobs      *JobsCmd      `json:"jobs,omitempty"`
	UpdateJob *UpdateJobCmd `json:"update_job,omitempty"`
}

// NodeStateCmd is an operator's change of nodes' states: DRAIN (running
// jobs go on, no new ones start) or UP (resume). Taking a node DOWN is a
// CmdNodeDown.
type NodeStateCmd struct {
	Nodes  []string      `json:"nodes"`
	State  api.NodeState `json:"state"`
	Reason string        `json:"reason,omitempty"`
	// Source is who asks: "" an operator; NodeSourceHealth the node's
	// health check (Health holds its result); NodeSourceScript a failed
	// prolog or epilog. Neither of the latter touches a DOWN node, and
	// only a health check resumes what a health check drained
	// (nodeops.go).
	Source string          `json:"source,omitempty"`
	Health *api.NodeHealth `json:"health,omitempty"`
}

// StepEndCmd records ended step tasks reported by a node.
type StepEndCmd struct {
	Node    string           `json:"node"`
	Reports []api.StepReport `json:"reports"`
}

// StepStartResult is what applying a CmdStepStart returns: the stored step.
type StepStartResult struct {
	Step *api.Step
}

// PreemptCmd stops running jobs for higher-QOS ones: in CANCEL mode they
// end CANCELLED, in REQUEUE mode they go back to the queue.
type PreemptCmd struct {
	Jobs []PreemptJob `json:"jobs"`
}

// PreemptJob is one job to preempt.
type PreemptJob struct {
	JobID api.JobID `json:"job_id"`
	// For is the waiting job the preemption makes room for; if it no
	// longer waits, the preemption is skipped.
	For api.JobID `json:"for,omitempty"`
	// Mode is api.PreemptCancel or api.PreemptRequeue.
	Mode string `json:"mode"`
	// GraceSec is the SIGTERM-to-SIGKILL time (0 = the node's default).
	GraceSec int64 `json:"grace_s,omitempty"`
}

// SubmitCmd queues jobs; the FSM assigns their IDs. The job records are
// complete (identity, defaults, priority) apart from ID, state and times.
type SubmitCmd struct {
	Jobs []api.Job `json:"jobs"`
}

// SubmitResult is what applying a SubmitCmd returns.
type SubmitResult struct {
	IDs []api.JobID
}

// Placement starts one job on its nodes (all of them or none).
type Placement struct {
	JobID  api.JobID        `json:"job_id"`
	Allocs []api.Allocation `json:"allocs"`
	// Billing is the job's usage rate per second (see api.Job.Billing).
	Billing float64 `json:"billing,omitempty"`
}

// StartCmd applies a scheduling plan. Each placement is re-checked against
// the state at apply time; those that no longer fit are skipped.
type StartCmd struct {
	Placements []Placement `json:"placements"`
}

// StartResult lists the jobs started and those skipped.
type StartResult struct {
	Started []api.JobID
	Skipped []api.JobID
}

// FinishCmd records task reports of ended jobs from a node.
type FinishCmd struct {
	Node    string           `json:"node"`
	Reports []api.TaskReport `json:"reports"`
}

// CancelCmd cancels jobs (already authorised by the server).
type CancelCmd struct {
	IDs []api.JobID `json:"ids"`
	// Reason replaces Cancelled as a pending job's end reason (e.g.
	// DependencyNeverSatisfied).
	Reason string `json:"reason,omitempty"`
}

// SignalCmd queues a signal for running jobs.
type SignalCmd struct {
	IDs    []api.JobID `json:"ids"`
	Signal int         `json:"signal"`
}

// AckCmd drops signals a node has delivered.
type AckCmd struct {
	JobID api.JobID `json:"job_id"`
	Seq   uint64    `json:"seq"`
}

// RegisterCmd adds or updates a node; it comes UP unless drained.
type RegisterCmd struct {
	Node api.Node `json:"node"`
}

// NodeDownCmd marks a node DOWN and fails its live jobs.
type NodeDownCmd struct {
	Node   string `json:"node"`
	Reason string `json:"reason"`
	// Held is an operator's down: the node stays DOWN until resumed.
	Held bool `json:"held,omitempty"`
}

// PurgeCmd deletes final jobs that ended before Before.
type PurgeCmd struct {
	Before time.Time `json:"before"`
}

// Encode serialises a command for the raft log.
func Encode(c *Command) ([]byte, error) {
	b, err := json.Marshal(c)
	if err != nil {
		return nil, fmt.Errorf("encode %s command: %w", c.Type, err)
	}
	return b, nil
}
