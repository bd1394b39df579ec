package api

import "time"

// Job control actions (JobControlRequest.Action), as scontrol's commands.
const (
	// ActionHold holds pending jobs: JobHeldUser when their user holds
	// them, JobHeldAdmin when an operator does.
	ActionHold = "hold"
	// ActionRelease releases held jobs; only an operator releases an
	// operator's hold.
	ActionRelease = "release"
	// ActionRequeue sends running jobs back to the queue (stopped first)
	// and puts finished jobs back in it, as new attempts.
	ActionRequeue = "requeue"
)

// Pending reasons of job control.
const (
	// ReasonHeldAdmin: held by an operator; only an operator releases it.
	ReasonHeldAdmin = "JobHeldAdmin"
	// ReasonRequeued is the reason of a job requeued by gcontrol requeue
	// until the scheduler gives it another.
	ReasonRequeued = "JobRequeued"
)

// JobControlRequest holds, releases or requeues jobs named as gcancel
// names them.
type JobControlRequest struct {
	Action string `json:"action"`
	// IDs are jobs; the ID of a job array stands for all its tasks.
	IDs []JobID `json:"ids,omitempty"`
	// Tasks are single tasks of job arrays ("123_7").
	Tasks []ArrayTaskRef `json:"tasks,omitempty"`
}

// JobControlResponse lists the jobs changed and those refused, with why.
type JobControlResponse struct {
	Done   []JobID       `json:"done"`
	Errors []CancelError `json:"errors,omitempty"`
}

// JobUpdate is what `gcontrol update job=ID` changes in a pending job's
// spec; nil fields stay as they are. A time limit may be lowered by the
// job's user, raised only by an operator (Slurm's rule).
type JobUpdate struct {
	// TimeLimit in seconds, or TimeUnlimited.
	TimeLimit *int64  `json:"time_limit_s,omitempty"`
	Partition *string `json:"partition,omitempty"`
	Nodes     *int    `json:"nodes,omitempty"`
	QOS       *string `json:"qos,omitempty"`
	Nice      *int    `json:"nice,omitempty"`
	Comment   *string `json:"comment,omitempty"`
	Name      *string `json:"name,omitempty"`
	Account   *string `json:"account,omitempty"`
}

// Empty reports whether the update changes nothing.
func (u *JobUpdate) Empty() bool { return *u == JobUpdate{} }

// JobUpdateRequest changes pending jobs named as gcancel names them.
type JobUpdateRequest struct {
	IDs   []JobID        `json:"ids,omitempty"`
	Tasks []ArrayTaskRef `json:"tasks,omitempty"`
	Set   JobUpdate      `json:"set"`
}

// TestJobResponse is the answer to a dry run (gsub --test-only): where
// and when the job would start if it were submitted now. Nothing is
// submitted.
type TestJobResponse struct {
	// Start is the expected start (Now when it would start at once);
	// zero when no start can be predicted (see Reason).
	Start time.Time `json:"start,omitzero"`
	Now   time.Time `json:"now"`
	// Nodes are the nodes it would run on, in hostlist syntax.
	Nodes     string `json:"nodes,omitempty"`
	CPUs      int    `json:"cpus"`
	Partition string `json:"partition"`
	// Reason is why it would wait, when it would not start at once.
	Reason string `json:"reason,omitempty"`
}
