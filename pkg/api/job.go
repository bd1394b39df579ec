package api

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gsched/gsched/pkg/hostlist"
)

// JobID identifies a job. IDs start at 1, grow by one per accepted
// submission and are never reused, even across controller restarts.
type JobID uint64

func (id JobID) String() string { return strconv.FormatUint(uint64(id), 10) }

// JobState is the life-cycle state of a job, with Slurm's names.
type JobState string

// Job states. PENDING and RUNNING are live; COMPLETING means the controller
// has asked the node to stop the job (cancel, time limit, node loss) and
// waits for its report; every other state is final.
const (
	StatePending     JobState = "PENDING"
	StateRunning     JobState = "RUNNING"
	StateCompleting  JobState = "COMPLETING"
	StateCompleted   JobState = "COMPLETED"
	StateFailed      JobState = "FAILED"
	StateCancelled   JobState = "CANCELLED"
	StateTimeout     JobState = "TIMEOUT"
	StateOutOfMemory JobState = "OUT_OF_MEMORY"
	StateNodeFail    JobState = "NODE_FAIL"
)

// AllJobStates lists every state, in life-cycle order.
var AllJobStates = []JobState{
	StatePending, StateRunning, StateCompleting, StateCompleted, StateFailed,
	StateCancelled, StateTimeout, StateOutOfMemory, StateNodeFail,
}

// Final reports whether the state is an end state.
func (s JobState) Final() bool {
	switch s {
	case StateCompleted, StateFailed, StateCancelled, StateTimeout, StateOutOfMemory, StateNodeFail:
		return true
	}
	return false
}

// Short is the two-letter code gqueue prints (squeue's %t).
func (s JobState) Short() string {
	switch s {
	case StatePending:
		return "PD"
	case StateRunning:
		return "R"
	case StateCompleting:
		return "CG"
	case StateCompleted:
		return "CD"
	case StateFailed:
		return "F"
	case StateCancelled:
		return "CA"
	case StateTimeout:
		return "TO"
	case StateOutOfMemory:
		return "OOM"
	case StateNodeFail:
		return "NF"
	}
	return "??"
}

// ParseJobState accepts a full state name or its short code, any case.
func ParseJobState(s string) (JobState, error) {
	for _, st := range AllJobStates {
		if strings.EqualFold(s, string(st)) || strings.EqualFold(s, st.Short()) {
			return st, nil
		}
	}
	return "", fmt.Errorf("%w: unknown job state %q", ErrInvalid, s)
}

// Pending reasons (Slurm's names).
const (
	ReasonNone          = "None"
	ReasonPriority      = "Priority"
	ReasonResources     = "Resources"
	ReasonHeld          = "JobHeldUser"
	ReasonNodeNotAvail  = "ReqNodeNotAvail"
	ReasonPartitionDown = "PartitionDown"
	ReasonTimeLimit     = "TimeLimit"
	ReasonCancelled     = "Cancelled"
	ReasonNodeDown      = "NodeDown"
	ReasonPreempted     = "Preempted"
	// Array and dependency reasons.
	ReasonDependencyNever   = "DependencyNeverSatisfied"
	ReasonArrayTaskLimit    = "JobArrayTaskLimit"
	ReasonInvalidDependency = "InvalidDependency"
)

// OpenMode says how output files are opened.
const (
	OpenTruncate = "truncate"
	OpenAppend   = "append"
)

// JobSpec is what a user asks for: everything gsub sends. The controller
// fills in defaults (partition, time limit) and validates it; it never takes
// the submitter's identity from here.
type JobSpec struct {
	Name        string `json:"name"`
	Partition   string `json:"partition,omitempty"`
	Nodes       int    `json:"nodes"`         // number of nodes (0 on submission: as many as the GPUs need, at least 1)
	NTasks      int    `json:"ntasks"`        // tasks in the job
	CPUsPerTask int    `json:"cpus_per_task"` // CPUs per task
	// NTasksPerNode, when set, is the number of tasks on each node
	// (--ntasks-per-node); NTasks is then NTasksPerNode × Nodes.
	NTasksPerNode int `json:"ntasks_per_node,omitempty"`
	// GPUsPerTask (--gpus-per-task) gives each task its own GPUs; the
	// job's GPUs per node are then GPUsPerTask × tasks on the node.
	GPUsPerTask int `json:"gpus_per_task,omitempty"`
	// CPUsPerGPU (--cpus-per-gpu), when set with GPUs, sizes the CPUs per
	// node as CPUsPerGPU × GPUs on the node.
	CPUsPerGPU int `json:"cpus_per_gpu,omitempty"`
	// Exclusive (--exclusive) takes whole nodes: every CPU, all memory
	// and every GPU of each node allocated.
	Exclusive bool `json:"exclusive,omitempty"`
	// Switches (--switches=N[@wait]) asks for nodes under at most N leaf
	// switches of the network topology; SwitchWait (seconds) is how long
	// the job may wait for that before any nodes will do (0: for ever).
	Switches   int   `json:"switches,omitempty"`
	SwitchWait int64 `json:"switch_wait_s,omitempty"`
	// MemBytes is the memory per node, the container's hard limit.
	MemBytes int64 `json:"mem_bytes"`
	// GPUs is the total number of GPUs; GPUsPerNode, when set, wins.
	GPUs        int `json:"gpus,omitempty"`
	GPUsPerNode int `json:"gpus_per_node,omitempty"`
	// GPUType restricts the job to GPUs whose model contains it, case
	// insensitively ("h100" matches "NVIDIA H100 80GB HBM3"): --gpus=h100:4.
	GPUType string `json:"gpu_type,omitempty"`
	// GPUMemMin restricts the job to GPUs with at least this much memory
	// (--gpu-mem=40G).
	GPUMemMin int64 `json:"gpu_mem_min,omitempty"`
	// Constraint lists node features the job needs, all of them
	// (--constraint=ib&nvme; "," also separates).
	Constraint string `json:"constraint,omitempty"`
	// TimeLimit is the wall-clock limit in seconds. On submission 0 asks
	// for the partition's default and TimeUnlimited for no limit; in a
	// stored job 0 means unlimited.
	TimeLimit int64 `json:"time_limit_s,omitempty"`
	// Output and Error are file name patterns (%j %x %u %N %%), relative to
	// WorkDir unless absolute. Empty Error means "same as Output".
	Output   string `json:"output,omitempty"`
	Error    string `json:"error,omitempty"`
	OpenMode string `json:"open_mode,omitempty"`
	// NoRequeue keeps the job from going back to the queue when one of
	// its nodes fails (--no-requeue): it ends NODE_FAIL instead.
	NoRequeue bool `json:"no_requeue,omitempty"`
	// WorkDir is the absolute directory the job starts in (the submit
	// directory unless --chdir).
	WorkDir string `json:"work_dir"`
	// Env is the job's environment as KEY=VALUE (what --export selected).
	Env []string `json:"env,omitempty"`
	// Script is the batch script; it must start with "#!".
	Script string   `json:"script"`
	Args   []string `json:"args,omitempty"`
	Hold   bool     `json:"hold,omitempty"`
	// Account charged for the job ("" = the user's default account) and
	// QOS ("" = the default QOS). Nice lowers the job's priority; only
	// operators may give a negative value.
	Account string `json:"account,omitempty"`
	QOS     string `json:"qos,omitempty"`
	Nice    int    `json:"nice,omitempty"`
	// SubmitHost is the host gsub ran on (informational).
	SubmitHost string `json:"submit_host,omitempty"`

	// Array (--array) makes the submission a job array: "0-15",
	// "1,3,5-7", "0-99:4", with an optional "%N" throttle (at most N
	// tasks running at once). Each task becomes its own job.
	Array string `json:"array,omitempty"`
	// Dependency (--dependency) holds the job until other jobs reach the
	// given states: "afterok:12:13,afterany:14", "after:12+5?afterok:13",
	// "singleton".
	Dependency string `json:"dependency,omitempty"`
	// KillOnInvalidDep (--kill-on-invalid-dep=yes) cancels the job when
	// its dependency can never be satisfied instead of leaving it pending
	// with reason DependencyNeverSatisfied.
	KillOnInvalidDep bool `json:"kill_on_invalid_dep,omitempty"`
	// Begin (--begin) keeps the job pending until this time.
	Begin time.Time `json:"begin,omitzero"`
	// Comment (--comment) is kept with the job for the user.
	Comment string `json:"comment,omitempty"`

	// Image (--image, --container-image) runs the job's tasks from this
	// OCI image instead of the host's root filesystem (docs/CONTAINERS.md):
	// oci:/dir[:tag], oci-archive:/x.tar, docker-archive:/x.tar, a plain
	// directory or archive path, or a registry reference (docker://...).
	Image string `json:"image,omitempty"`
	// ContainerMounts are bind mounts into the image's container
	// (--container-mounts, --mount).
	ContainerMounts []ContainerMount `json:"container_mounts,omitempty"`
	// ChdirSet records that --chdir was given: an image job starts in
	// WorkDir then, else in the image's WorkingDir when it has one.
	ChdirSet bool `json:"chdir_set,omitempty"`
	// NodeList (--nodelist) names nodes that must all be in the job's
	// allocation; Exclude (--exclude) nodes it must never use. Both in
	// hostlist syntax ("n[1-3],gpu7").
	NodeList string `json:"nodelist,omitempty"`
	Exclude  string `json:"exclude,omitempty"`
	// MailType (--mail-type) lists the events the controller mails
	// about (canonical, see ParseMailType); MailUser (--mail-user) is the
	// recipient, the submitting user by default.
	MailType string `json:"mail_type,omitempty"`
	MailUser string `json:"mail_user,omitempty"`
}

// Equal reports whether s and o ask for the same job in every field. It
// runs for every job submitted in a batch (fsm shares equal specs), so it
// compares the fields one by one rather than by reflection (~50 ns, not
// ~2 µs); TestJobSpecEqualEveryField fails when a field is left out.
func (s *JobSpec) Equal(o *JobSpec) bool {
	if s == o {
		return true
	}
	if s == nil || o == nil {
		return false
	}
	return s.Name == o.Name && s.Partition == o.Partition && s.Nodes == o.Nodes && s.NTasks == o.NTasks &&
		s.CPUsPerTask == o.CPUsPerTask && s.NTasksPerNode == o.NTasksPerNode && s.GPUsPerTask == o.GPUsPerTask &&
		s.CPUsPerGPU == o.CPUsPerGPU && s.Exclusive == o.Exclusive && s.Switches == o.Switches &&
		s.SwitchWait == o.SwitchWait && s.MemBytes == o.MemBytes && s.GPUs == o.GPUs &&
		s.GPUsPerNode == o.GPUsPerNode && s.GPUType == o.GPUType && s.GPUMemMin == o.GPUMemMin &&
		s.Constraint == o.Constraint && s.TimeLimit == o.TimeLimit && s.Output == o.Output &&
		s.Error == o.Error && s.OpenMode == o.OpenMode && s.NoRequeue == o.NoRequeue &&
		s.WorkDir == o.WorkDir && slices.Equal(s.Env, o.Env) && s.Script == o.Script &&
		slices.Equal(s.Args, o.Args) && s.Hold == o.Hold && s.Account == o.Account && s.QOS == o.QOS &&
		s.Nice == o.Nice && s.SubmitHost == o.SubmitHost && s.Array == o.Array &&
		s.Dependency == o.Dependency && s.KillOnInvalidDep == o.KillOnInvalidDep &&
		s.Begin.Equal(o.Begin) && s.Comment == o.Comment && s.Image == o.Image &&
		slices.Equal(s.ContainerMounts, o.ContainerMounts) && s.ChdirSet == o.ChdirSet &&
		s.NodeList == o.NodeList && s.Exclude == o.Exclude && s.MailType == o.MailType &&
		s.MailUser == o.MailUser
}

// NodeCount is Nodes, at least 1.
func (s *JobSpec) NodeCount() int { return max(s.Nodes, 1) }

// TasksOnNode is the number of tasks on each of the job's nodes (the
// most any node gets when NTasks does not divide evenly).
func (s *JobSpec) TasksOnNode() int {
	if s.NTasksPerNode > 0 {
		return s.NTasksPerNode
	}
	n := s.NodeCount()
	return max((max(s.NTasks, 1)+n-1)/n, 1)
}

// GPUsOnNode is the number of GPUs the job needs on each of its nodes.
func (s *JobSpec) GPUsOnNode() int {
	switch {
	case s.GPUsPerNode > 0:
		return s.GPUsPerNode
	case s.GPUsPerTask > 0:
		return s.GPUsPerTask * s.TasksOnNode()
	}
	n := s.NodeCount()
	return (s.GPUs + n - 1) / n
}

// TotalGPUs is the number of GPUs of the whole job.
func (s *JobSpec) TotalGPUs() int { return s.GPUsOnNode() * s.NodeCount() }

// CPUsOnNode is the number of CPUs the job needs on each of its nodes.
func (s *JobSpec) CPUsOnNode() int {
	if g := s.GPUsOnNode(); s.CPUsPerGPU > 0 && g > 0 {
		return s.CPUsPerGPU * g
	}
	return s.TasksOnNode() * max(s.CPUsPerTask, 1)
}

// Gang reports whether the job needs the scheduler's multi-node path:
// several nodes, whole nodes, or a switch count.
func (s *JobSpec) Gang() bool { return s.Nodes > 1 || s.Exclusive || s.Switches > 0 }

// GPUMatches reports whether GPU g satisfies the job's type and memory
// requirements.
func (s *JobSpec) GPUMatches(g *GPU) bool {
	if s.GPUMemMin > 0 && g.MemBytes < s.GPUMemMin {
		return false
	}
	return s.GPUType == "" || strings.Contains(strings.ToLower(g.Model), strings.ToLower(s.GPUType))
}

// Features splits Constraint into the features required ("a&b", "a,b").
func (s *JobSpec) Features() []string {
	var out []string
	for _, f := range strings.FieldsFunc(s.Constraint, func(r rune) bool { return r == '&' || r == ',' }) {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// TimeUnlimited in JobSpec.TimeLimit asks for no time limit (--time=UNLIMITED).
const TimeUnlimited = -1

// Allocation is the resources a running job holds on one of its nodes.
type Allocation struct {
	Node string `json:"node"`
	// Addr is where the node is reached (its registered address, else
	// its name): MASTER_ADDR when it is the head node.
	Addr     string `json:"addr,omitempty"`
	CPUs     int    `json:"cpus"`
	MemBytes int64  `json:"mem_bytes"`
	// GPUs holds the node-local GPU indices (api.GPU.Index) allocated.
	GPUs []int `json:"gpus,omitempty"`
	// Done is set once the node has reported that the job's task there
	// ended: its resources are free again. A job stays COMPLETING until
	// every node is done.
	Done bool `json:"done,omitempty"`
	// MaxRSS is the peak memory of the job's task on the node, as its
	// report gave it once the task ended (0: unknown).
	MaxRSS int64 `json:"max_rss,omitempty"`
}

// MaxRSS is the largest peak memory of the job's tasks on any node, and
// that node (gacct MaxRSS, MaxRSSNode); 0 and "" while none is known.
func (j *Job) MaxRSS() (int64, string) {
	var peak int64
	node := ""
	for _, a := range j.Allocs {
		if a.MaxRSS > peak {
			peak, node = a.MaxRSS, a.Node
		}
	}
	return peak, node
}

// Job is a job as the controller stores and reports it.
//
// Spec is shared: the stored jobs of one submission whose specs are
// equal (an array's tasks, a batch of like jobs) point at one JobSpec.
// A stored job is never changed in place, and neither is its spec: code
// that changes a job's spec first gives the job its own (OwnSpec).
type Job struct {
	ID    JobID    `json:"id"`
	Spec  *JobSpec `json:"spec" openapi:"nonnull"`
	User  string   `json:"user"`
	UID   uint32   `json:"uid"`
	GID   uint32   `json:"gid"`
	State JobState `json:"state"`
	// Reason is why a pending job waits, or why a job ended as it did.
	Reason   string `json:"reason,omitempty"`
	Priority int64  `json:"priority"`

	SubmitTime time.Time `json:"submit_time"`
	StartTime  time.Time `json:"start_time,omitzero"`
	EndTime    time.Time `json:"end_time,omitzero"`
	// Deadline is StartTime + time limit; zero for unlimited jobs.
	Deadline time.Time `json:"deadline,omitzero"`

	// Allocs are the job's nodes and what it holds on each, in node
	// order: the batch script runs on the first (the head node), as in
	// Slurm. All are granted in one scheduling decision or none is.
	Allocs []Allocation `json:"allocs,omitempty"`
	// MasterPort is the TCP port for the job's rendezvous (MASTER_PORT),
	// unique among the live jobs sharing its head node.
	MasterPort int `json:"master_port,omitempty"`
	// EndState and EndReason hold the outcome decided by the head node's
	// report while the other nodes are still stopping (COMPLETING).
	EndState  JobState `json:"end_state,omitempty"`
	EndReason string   `json:"end_reason,omitempty"`
	// Steps counts the job's steps (grun launches) so far.
	Steps int `json:"steps,omitempty"`
	// Billing is the job's fair-share usage rate (billing units per
	// second of its allocation), fixed when it starts.
	Billing float64 `json:"billing,omitempty"`
	// ExpectedStart is a waiting job's planned start under backfill (not
	// stored: filled in from the latest scheduling pass).
	ExpectedStart time.Time `json:"expected_start,omitzero"`

	// ExitCode and Signal describe how the job's script ended.
	ExitCode int `json:"exit_code"`
	Signal   int `json:"signal,omitempty"`

	// CancelRequested is set when a user asked to cancel a running job;
	// the job ends CANCELLED when its node reports it stopped.
	CancelRequested bool `json:"cancel_requested,omitempty"`
	// Requeue is set when a running job is being stopped to go back to
	// the queue (preemption in REQUEUE mode); Preempted when it is being
	// stopped for a higher-QOS job. KillGrace (seconds, 0 = the default)
	// is the SIGTERM-to-SIGKILL time for that stop.
	Requeue   bool  `json:"requeue,omitempty"`
	Preempted bool  `json:"preempted,omitempty"`
	KillGrace int64 `json:"kill_grace_s,omitempty"`
	// Restarts counts how often the job was requeued; each run is an
	// attempt with that number, and reports of older attempts are stale.
	Restarts int `json:"restarts,omitempty"`
	// HoldAdmin marks a hold (Spec.Hold) an operator placed
	// (JobHeldAdmin): the job's user cannot release it.
	HoldAdmin bool `json:"hold_admin,omitempty"`
	// RequeueReason, with Requeue, is the pending reason the job gets
	// once stopped (gcontrol requeue: JobRequeued; "" = Preempted).
	RequeueReason string `json:"requeue_reason,omitempty"`
	// Signals holds signals the user asked to deliver (gcancel -s), not
	// yet acknowledged by the node. Each has a sequence number.
	Signals []SignalRequest `json:"signals,omitempty"`

	// ArrayJobID is, for a task of a job array, the ID of the array (the
	// job ID of its first task, as in Slurm); 0 for other jobs.
	// ArrayTaskID is then the task's index in the array.
	ArrayJobID  JobID `json:"array_job_id,omitempty"`
	ArrayTaskID int   `json:"array_task_id,omitempty"`
}

// OwnSpec gives j a copy of its spec of its own, to change without
// touching the jobs it shared the old one with, and returns it. Env and
// Args are clipped, so that appending to them copies. A nil spec becomes
// an empty one.
func (j *Job) OwnSpec() *JobSpec {
	var s JobSpec
	if j.Spec != nil {
		s = *j.Spec
	}
	s.Env, s.Args = slices.Clip(s.Env), slices.Clip(s.Args)
	s.ContainerMounts = slices.Clip(s.ContainerMounts)
	j.Spec = &s
	return j.Spec
}

// IsArrayTask reports whether the job is a task of a job array.
func (j *Job) IsArrayTask() bool { return j.ArrayJobID != 0 }

// IsArrayHead reports whether the job is the first task of a job array,
// whose job ID is the array's.
func (j *Job) IsArrayHead() bool { return j.ArrayJobID != 0 && j.ArrayJobID == j.ID }

// DisplayID is the ID users see: "123_7" for task 7 of array 123, the
// plain job ID otherwise (squeue's %i, sacct's JobID).
func (j *Job) DisplayID() string {
	if j.ArrayJobID != 0 {
		return j.ArrayJobID.String() + "_" + strconv.Itoa(j.ArrayTaskID)
	}
	return j.ID.String()
}

// SignalRequest is one gcancel --signal request for a running job.
type SignalRequest struct {
	Seq    uint64 `json:"seq"`
	Signal int    `json:"signal"`
}

// Stopping reports whether the controller wants the running job stopped:
// cancelled, preempted or being requeued, or COMPLETING (on a multi-node
// job, the batch script on the head node ended).
func (j *Job) Stopping() bool {
	return j.CancelRequested || j.Requeue || j.Preempted || j.State == StateCompleting
}

// TimeLimitDuration is the job's time limit as a duration (0 = unlimited).
func (j *Job) TimeLimitDuration() time.Duration {
	return time.Duration(j.Spec.TimeLimit) * time.Second
}

// Elapsed is how long the job has run (up to now for running jobs).
func (j *Job) Elapsed(now time.Time) time.Duration {
	if j.StartTime.IsZero() {
		return 0
	}
	end := j.EndTime
	if end.IsZero() {
		end = now
	}
	if end.Before(j.StartTime) {
		return 0
	}
	return end.Sub(j.StartTime)
}

// NodeList is the job's nodes in Slurm hostlist syntax ("gpu[01-04]"),
// "" for a job that never started.
func (j *Job) NodeList() string {
	if len(j.Allocs) == 0 {
		return ""
	}
	return hostlist.Compress(j.NodeNames())
}

// NodeNames are the job's nodes, head node first.
func (j *Job) NodeNames() []string {
	out := make([]string, len(j.Allocs))
	for i := range j.Allocs {
		out[i] = j.Allocs[i].Node
	}
	return out
}

// AllocOn returns the job's allocation on the node, nil if none.
func (j *Job) AllocOn(node string) *Allocation {
	for i := range j.Allocs {
		if j.Allocs[i].Node == node {
			return &j.Allocs[i]
		}
	}
	return nil
}

// Head is the allocation on the head node, nil for a job not started.
func (j *Job) Head() *Allocation {
	if len(j.Allocs) == 0 {
		return nil
	}
	return &j.Allocs[0]
}

// AllocTotals sums the job's allocation over its nodes.
func (j *Job) AllocTotals() TRES {
	var t TRES
	for i := range j.Allocs {
		a := &j.Allocs[i]
		t.CPUs += a.CPUs
		t.MemBytes += a.MemBytes
		t.GPUs += len(a.GPUs)
		t.Nodes++
	}
	return t
}
