package api

import (
	"strconv"
	"time"
)

// A step is one grun launch inside a job: a command started as every task
// (rank) of the job's allocation, across its nodes, in the job's containers.
// Steps are numbered per job from 0 and never reused.

// StepState is the life-cycle state of a step.
type StepState string

// Step states.
const (
	StepRunning   StepState = "RUNNING"
	StepCompleted StepState = "COMPLETED"
	StepFailed    StepState = "FAILED"
	StepCancelled StepState = "CANCELLED"
)

// Final reports whether the step is over.
func (s StepState) Final() bool { return s != StepRunning && s != "" }

// MaxStepTasks bounds the tasks of one step.
const MaxStepTasks = 4096

// StepSpec is what grun asks for.
type StepSpec struct {
	// Argv is the command each task runs (looked up in PATH).
	Argv []string `json:"argv"`
	// Env is the tasks' environment before gsched's per-task variables
	// (grun sends its own, as srun does).
	Env []string `json:"env,omitempty"`
	// Cwd is the absolute directory the tasks start in ("" = the job's).
	Cwd string `json:"cwd,omitempty"`
	// NTasks is the number of tasks (0 = the job's); NTasksPerNode, when
	// set, places that many on each node instead (at most the job's
	// tasks per node).
	NTasks        int `json:"ntasks,omitempty"`
	NTasksPerNode int `json:"ntasks_per_node,omitempty"`
	// Nodes, when set, are the job's nodes the step runs on (srun
	// --nodelist); NNodes, when set, is how many (srun -N): the listed
	// nodes first, then the job's others in order. With neither, the step
	// spans all the job's nodes. A step on some of the nodes runs the
	// job's tasks per node on each, unless NTasks or NTasksPerNode say.
	Nodes  []string `json:"nodes,omitempty"`
	NNodes int      `json:"nnodes,omitempty"`
	// IOAddr and IOToken are where the tasks' output goes: grun's
	// listener (see pkg/stepio) and the secret it accepts.
	IOAddr  string `json:"io_addr,omitempty"`
	IOToken string `json:"io_token,omitempty"`
	// KeepOnBadExit keeps the other tasks running when one fails
	// (srun --kill-on-bad-exit=0); by default they are killed.
	KeepOnBadExit bool `json:"keep_on_bad_exit,omitempty"`
	// Pty runs the step's one task on a pseudo-terminal whose other end
	// is grun's terminal (grun --pty): the task's input and window size
	// come from grun over the I/O connection, its output goes back on it.
	// TermRows and TermCols are the initial window size (0: unknown).
	Pty      bool `json:"pty,omitempty"`
	TermRows int  `json:"term_rows,omitempty"`
	TermCols int  `json:"term_cols,omitempty"`
	// Overlap (srun --overlap) marks a step that shares the job's
	// resources with the job's own tasks instead of using some of them:
	// each task sees all the job's GPUs on its node. An operator may
	// start an Overlap step in another user's job (gattach); it runs as
	// the job's user.
	Overlap bool `json:"overlap,omitempty"`
}

// MaxTermSize bounds a step's terminal rows and columns.
const MaxTermSize = 1<<16 - 1

// StepTask is one task of a step: where it runs and how it ended.
type StepTask struct {
	Rank      int    `json:"rank"`
	Node      string `json:"node"`
	LocalRank int    `json:"local_rank"`
	// GPUs are the node-local GPU indices the task sees (all of the
	// job's GPUs on the node unless the job asked for --gpus-per-task).
	GPUs     []int  `json:"gpus,omitempty"`
	Done     bool   `json:"done,omitempty"`
	ExitCode int    `json:"exit_code"`
	Signal   int    `json:"signal,omitempty"`
	OOM      bool   `json:"oom,omitempty"`
	Killed   bool   `json:"killed,omitempty"`
	Error    string `json:"error,omitempty"`
}

// Step is a step as the controller stores it.
type Step struct {
	JobID JobID     `json:"job_id"`
	ID    int       `json:"id"`
	Spec  StepSpec  `json:"spec"`
	State StepState `json:"state"`
	// Attempt is the job run (Job.Restarts) the step belongs to.
	Attempt int        `json:"attempt,omitempty"`
	Tasks   []StepTask `json:"tasks"`
	// Kill asks the nodes to stop the step's tasks still running (a task
	// failed, or the step was cancelled).
	Kill bool `json:"kill,omitempty"`
	// Cancelled is set when the user cancelled the step.
	Cancelled bool `json:"cancelled,omitempty"`
	// ExitCode is the step's status: that of the first task to fail
	// (128+n for a signal), 0 when all succeeded.
	ExitCode  int       `json:"exit_code"`
	StartTime time.Time `json:"start_time"`
	EndTime   time.Time `json:"end_time,omitzero"`
}

// Key is the step's "JOB.STEP" name (Slurm's notation).
func (s *Step) Key() string { return StepKey(s.JobID, s.ID) }

// StepKey is the "JOB.STEP" name of a step.
func StepKey(job JobID, step int) string { return job.String() + "." + strconv.Itoa(step) }

// StepTaskKey names one task of a step: "JOB.STEP.RANK".
func StepTaskKey(job JobID, step, rank int) string {
	return StepKey(job, step) + "." + strconv.Itoa(rank)
}

// StepStartRequest starts a step in a running job the caller owns.
type StepStartRequest struct {
	JobID JobID    `json:"job_id"`
	Spec  StepSpec `json:"spec"`
}

// StepRef names a step.
type StepRef struct {
	JobID JobID `json:"job_id"`
	Step  int   `json:"step"`
}

// StepWaitRequest blocks until the step is over or TimeoutMs passes, and
// answers with the step.
type StepWaitRequest struct {
	JobID     JobID `json:"job_id"`
	Step      int   `json:"step"`
	TimeoutMs int64 `json:"timeout_ms"`
}

// StepReport is a node's account of one ended step task.
type StepReport struct {
	JobID    JobID  `json:"job_id"`
	Step     int    `json:"step"`
	Rank     int    `json:"rank"`
	ExitCode int    `json:"exit_code"`
	Signal   int    `json:"signal,omitempty"`
	OOM      bool   `json:"oom,omitempty"`
	Killed   bool   `json:"killed,omitempty"`
	Error    string `json:"error,omitempty"`
}

// BlockCounts spreads n tasks over nodes in blocks: balanced counts, the
// first nodes taking the extra tasks (Slurm's block distribution).
func BlockCounts(n, nodes int) []int {
	counts := make([]int, nodes)
	if nodes == 0 {
		return counts
	}
	for i := range counts {
		counts[i] = n / nodes
		if i < n%nodes {
			counts[i]++
		}
	}
	return counts
}
