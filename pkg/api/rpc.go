package api

import (
	"fmt"
	"strings"
	"time"
)

// RPC paths. User RPCs are served on the controller's Unix socket, where the
// caller's uid comes from the kernel (SO_PEERCRED); node RPCs are served on
// its TCP address and must carry a valid cluster-key signature.
const (
	PathSubmit       = "/v1/jobs/submit"
	PathSubmitBatch  = "/v1/jobs/submit-batch"
	PathListJobs     = "/v1/jobs/list"
	PathCancel       = "/v1/jobs/cancel"
	PathWaitJob      = "/v1/jobs/wait"
	PathListNodes    = "/v1/nodes/list"
	PathUpdateNodes  = "/v1/nodes/update"
	PathWhoAmI       = "/v1/whoami"
	PathToken        = "/v1/token"
	PathPriority     = "/v1/jobs/priority"
	PathShares       = "/v1/shares"
	PathStepStart    = "/v1/steps/start"
	PathStepWait     = "/v1/steps/wait"
	PathStepCancel   = "/v1/steps/cancel"
	PathNodeRegister = "/v1/node/register"
	PathNodeSync     = "/v1/node/sync"
)

// Job control (gcontrol hold/release/requeue/update job=) and dry runs
// (gsub --test-only): see jobctl.go.
const (
	PathJobControl = "/v1/jobs/control"
	PathUpdateJob  = "/v1/jobs/update"
	PathTestJob    = "/v1/jobs/test"
)

// Size limits.
const (
	// MaxRequestBytes bounds any RPC body.
	MaxRequestBytes = 4 << 20
	// MaxScriptBytes bounds a batch script (sbatch's default is 4 MiB too).
	MaxScriptBytes = 4<<20 - 64<<10
)

// SubmitRequest asks the controller to queue a job.
type SubmitRequest struct {
	Spec JobSpec `json:"spec"`
}

// SubmitResponse carries the new job's ID: once returned, the job is on disk.
type SubmitResponse struct {
	JobID JobID `json:"job_id"`
}

// SubmitBatchRequest submits several jobs in one request and one raft
// entry (one fsync): all are accepted or, when one is invalid, none.
type SubmitBatchRequest struct {
	Specs []JobSpec `json:"specs"`
}

// SubmitBatchResponse holds the new jobs' IDs in the order of the specs
// (an array's ID is its first task's); once returned, all are on disk.
type SubmitBatchResponse struct {
	JobIDs []JobID `json:"job_ids"`
}

// MaxSubmitBatch bounds the jobs of one SubmitBatchRequest (the request
// size limit, MaxRequestBytes, applies too).
const MaxSubmitBatch = 10000

// JobFilter selects jobs. Empty fields match everything. Without
// IncludeFinished (or explicit IDs/States) only live jobs are returned.
type JobFilter struct {
	IDs []JobID `json:"ids,omitempty"`
	// Refs names jobs as gqueue -j does: "123" is job 123 or, when 123
	// is a job array, all of its tasks; "123_7" is one task. Like IDs,
	// it includes finished jobs.
	Refs            []JobRef   `json:"refs,omitempty"`
	Users           []string   `json:"users,omitempty"`
	States          []JobState `json:"states,omitempty"`
	Partitions      []string   `json:"partitions,omitempty"`
	Names           []string   `json:"names,omitempty"`
	IncludeFinished bool       `json:"include_finished,omitempty"`
	// Brief leaves each job's script, arguments and environment out of
	// the answer: the bulk of a job's record, which listings (gqueue,
	// gacct) do not show.
	Brief bool `json:"brief,omitempty"`
	// OnlyFinished returns only jobs in a final state (gacct).
	OnlyFinished bool `json:"only_finished,omitempty"`
	// Since keeps jobs that ended (or, if not ended, were submitted) at or
	// after this time.
	Since time.Time `json:"since,omitzero"`
}

// JobList is the answer to a job listing.
type JobList struct {
	Jobs []Job     `json:"jobs"`
	Now  time.Time `json:"now"`
}

// CheckAnswer refuses a listing with a job the controller could not have
// sent: one without a spec (which every job has).
func (l *JobList) CheckAnswer() error {
	for i := range l.Jobs {
		if l.Jobs[i].Spec == nil {
			return fmt.Errorf("job %d has no spec", l.Jobs[i].ID)
		}
	}
	return nil
}

// CancelRequest cancels (or signals) jobs chosen by IDs and/or filters.
// With no IDs at least one filter is required.
type CancelRequest struct {
	// IDs are jobs; the ID of a job array stands for all its tasks.
	IDs []JobID `json:"ids,omitempty"`
	// Tasks are single tasks of job arrays ("123_7").
	Tasks  []ArrayTaskRef `json:"tasks,omitempty"`
	User   string         `json:"user,omitempty"`
	Name   string         `json:"name,omitempty"`
	States []JobState     `json:"states,omitempty"`
	// Signal, when non-zero, is delivered instead of cancelling.
	Signal int `json:"signal,omitempty"`
}

// CancelResponse lists what was done and what was refused.
type CancelResponse struct {
	Done   []JobID       `json:"done"`
	Errors []CancelError `json:"errors,omitempty"`
}

// CancelError is one job that could not be cancelled, and why.
type CancelError struct {
	JobID   JobID  `json:"job_id"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// WaitRequest blocks until the job is final or Timeout passes.
type WaitRequest struct {
	JobID     JobID `json:"job_id"`
	TimeoutMs int64 `json:"timeout_ms"`
}

// NodeList is the answer to ginfo.
type NodeList struct {
	Nodes      []NodeInfo  `json:"nodes"`
	Partitions []Partition `json:"partitions"`
}

// WhoAmI is who the daemon thinks the caller is.
type WhoAmI struct {
	UID      uint32 `json:"uid"`
	GID      uint32 `json:"gid"`
	User     string `json:"user"`
	Operator bool   `json:"operator"`
	// Controller is the id of the controller that answered (with HA,
	// the leader: followers forward every request to it).
	Controller string `json:"controller,omitempty"`
}

// TokenRequest asks for a token for remote (TCP) use of the commands.
type TokenRequest struct {
	// User is whom the token is for ("" = the caller; another user only
	// for operators, as `scontrol token username=`).
	User string `json:"user,omitempty"`
	// Lifespan in seconds (0 = the configured default).
	Lifespan int64 `json:"lifespan,omitempty"`
	// Host, when set, is the only host the token may be used from.
	Host string `json:"host,omitempty"`
}

// TokenResponse carries a token ("JWT~SECRET"; keep it secret).
type TokenResponse struct {
	Token   string    `json:"token"`
	User    string    `json:"user"`
	Expires time.Time `json:"expires"`
}

// RegisterRequest is sent by a node daemon at start-up and whenever its
// resources change.
type RegisterRequest struct {
	Node Node `json:"node"`
	// Health is the result of the health check run before joining (nil:
	// no check configured).
	Health *NodeHealth `json:"health,omitempty"`
}

// RegisterResponse acknowledges a registration.
type RegisterResponse struct {
	// HeartbeatMs is how often the controller wants to hear from the node.
	HeartbeatMs int64 `json:"heartbeat_ms"`
}

// Task report states.
const (
	TaskRunning = "running"
	TaskExited  = "exited"
	// TaskLost: the node has no record of how the task ended (its
	// supervisor died with it, or its state was removed).
	TaskLost = "lost"
)

// TaskReport is a node's account of one job it runs or ran.
type TaskReport struct {
	JobID JobID `json:"job_id"`
	// Attempt is the run of the job the report is about (Job.Restarts).
	Attempt   int    `json:"attempt,omitempty"`
	State     string `json:"state"`
	ExitCode  int    `json:"exit_code"`
	Signal    int    `json:"signal,omitempty"`
	OOMKilled bool   `json:"oom_killed,omitempty"`
	// MaxRSS is the task's peak memory (its cgroup's high-water mark,
	// page cache included), 0 when unknown.
	MaxRSS    int64     `json:"max_rss,omitempty"`
	TimedOut  bool      `json:"timed_out,omitempty"`
	Cancelled bool      `json:"cancelled,omitempty"`
	StartTime time.Time `json:"start_time,omitzero"`
	EndTime   time.Time `json:"end_time,omitzero"`
	Error     string    `json:"error,omitempty"`
	// SignalSeq is the highest SignalRequest.Seq delivered.
	SignalSeq uint64 `json:"signal_seq,omitempty"`
	// PrologError says why node.prolog failed for this run: the job
	// never started here; it is requeued and the node drained.
	PrologError string `json:"prolog_error,omitempty"`
	// EpilogError says why node.epilog failed after the task ended: the
	// job's outcome stands and the node is drained.
	EpilogError string `json:"epilog_error,omitempty"`
}

// SyncRequest is the node's heartbeat: what it runs, what ended. With
// WaitMs > 0 the controller holds the request until the node has work to
// do or the time passes (a long poll), so launches are event-driven.
type SyncRequest struct {
	Node    string       `json:"node"`
	BootID  string       `json:"boot_id"`
	Reports []TaskReport `json:"reports"`
	// StepReports are ended step tasks, sent until the controller no
	// longer lists them as running on the node.
	StepReports []StepReport `json:"step_reports,omitempty"`
	// StepTasks names the step tasks running on the node
	// (StepTaskKey), so the controller knows which are still to start.
	StepTasks []string `json:"step_tasks,omitempty"`
	// StepKilling are those of StepTasks the node is already stopping.
	StepKilling []string `json:"step_killing,omitempty"`
	WaitMs      int64    `json:"wait_ms"`
	// Health is the node's latest health-check result (nil: none).
	Health *NodeHealth `json:"health,omitempty"`
	// GPUUsage is the node's latest NVML sample of its GPUs'
	// utilisation and memory use (none for declared GPUs).
	GPUUsage []GPUUsage `json:"gpu_usage,omitempty"`
}

// TaskRef names one run of a job: its ID and attempt.
type TaskRef struct {
	JobID   JobID `json:"job_id"`
	Attempt int   `json:"attempt,omitempty"`
}

// SyncResponse holds the jobs the controller wants on the node now
// (RUNNING or COMPLETING there), and the finished reports it has recorded
// durably, so the node may forget them.
type SyncResponse struct {
	Jobs  []Job     `json:"jobs"`
	Acked []TaskRef `json:"acked,omitempty"`
	// Steps are the live steps with tasks on the node not yet done there.
	Steps []Step `json:"steps,omitempty"`
	// Reregister asks the node to register again (the controller does not
	// know it, or knows it as DOWN).
	Reregister bool `json:"reregister,omitempty"`
	// LogLevel, when set, is the log level an operator asked node daemons
	// to use (gcontrol setdebug).
	LogLevel string `json:"log_level,omitempty"`
}

// NodeUpdateRequest changes nodes' states (operators only): "DRAIN" (no new
// jobs; running ones go on), "RESUME" (back to UP) or "DOWN" (running jobs
// are requeued or end NODE_FAIL, as when the node fails). Reason is
// required for DRAIN and DOWN, as in Slurm.
type NodeUpdateRequest struct {
	Nodes  []string `json:"nodes"`
	State  string   `json:"state"`
	Reason string   `json:"reason,omitempty"`
}

// NodeUpdateResponse lists the nodes changed.
type NodeUpdateResponse struct {
	Nodes []string `json:"nodes"`
}

// NodeUpdateState checks a requested node state and reason (case aside:
// drain, down, or resume and its aliases up and idle) and returns the
// state as "DRAIN", "DOWN" or "RESUME". Drain and down need a reason.
func NodeUpdateState(state, reason string) (string, error) {
	st := strings.ToUpper(state)
	switch st {
	case "DRAIN", "DOWN":
		if strings.TrimSpace(reason) == "" {
			return "", fmt.Errorf("state=%s needs reason=TEXT", strings.ToLower(st))
		}
		return st, nil
	case "RESUME", "UP", "IDLE":
		return "RESUME", nil
	}
	if len(state) > 32 {
		state = state[:32] + "..."
	}
	return "", fmt.Errorf("unknown state %q (use drain, resume or down)", state)
}
