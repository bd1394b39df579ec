package sched

import (
	"time"

	"github.com/gsched/gsched/pkg/api"
	"github.com/gsched/gsched/pkg/topology"
)

// NodeFree is a node and what is free on it now.
type NodeFree struct {
	Node     *api.Node
	CPUs     int
	MemBytes int64
	// GPUs holds the free GPU indices, ascending.
	GPUs []int
}

// Input is everything one scheduling pass looks at.
type Input struct {
	Now time.Time
	// Nodes with what is free on each now (every node, any state).
	Nodes []NodeFree
	// Pending jobs, any order.
	Pending []*api.Job
	// Running (and COMPLETING) jobs with their allocations: their
	// Deadline (zero = no limit) says when their resources come back,
	// which backfill plans on; they also count against QOS limits.
	Running    []*api.Job
	Partitions []api.Partition
	QOS        []api.QOS
	// FairShare is each association's fair-share factor in [0,1]
	// (computed by pkg/sched/fairshare); a missing entry counts as 1.
	FairShare map[api.Assoc]float64
	// Totals are the cluster's resources, for the size and TRES factors
	// (zero: summed from Nodes).
	Totals api.TRES
	// Network is the cluster's switch tree for placing multi-node jobs
	// (nil: none, nodes are taken in name order).
	Network *topology.Network
	Config  Config
	// Blocked holds pending jobs the controller keeps from starting in
	// this pass (unmet dependencies, a --begin time not reached), with
	// the reason to show.
	Blocked map[api.JobID]string
}

// Placement starts a job on its nodes, all at once.
type Placement struct {
	JobID  api.JobID
	Allocs []api.Allocation
}

// Plan is the outcome of one pass.
type Plan struct {
	Placements []Placement
	// Reasons holds why each job not placed still waits, held jobs
	// excepted: theirs is the job's own Reason (JobHeldUser or
	// JobHeldAdmin, set when it was held).
	Reasons map[api.JobID]string
	// Starts holds the expected start of each waiting job that got a
	// backfill reservation (gqueue --start).
	Starts map[api.JobID]time.Time
	// Priorities holds the priority computed for every pending job (its
	// stored priority when every priority weight is zero).
	Priorities map[api.JobID]int64
	// Reservations are the backfill reservations behind Starts, in queue
	// order: where each reserved job is expected to run and what it holds
	// there (for gqueue --start, simulators and checks).
	Reservations []Reservation
	// Preemptions lists running jobs to stop so that higher-QOS waiting
	// jobs can start (see Preemption), by preemptor in queue order, each
	// preemptor's victims in the order chosen. A preemptor is not placed:
	// it keeps its reason and starts in a later pass, once its victims
	// have ended.
	Preemptions []Preemption
	Stats       Stats
}

// Preemption stops a running job (JobID) to make room for a waiting one
// (For). Mode is the victim QOS's preempt mode (api.PreemptCancel or
// api.PreemptRequeue); Grace is the SIGTERM-to-SIGKILL time.
type Preemption struct {
	JobID api.JobID
	For   api.JobID
	Mode  string
	Grace time.Duration
}

// Reservation is a waiting job's planned start: from Start until End (zero:
// no time limit) it holds CPUs, MemBytes and GPUs (a count) on Node. Jobs
// placed in the same pass never use those resources before End. A
// multi-node job has one reservation per node, with the same times.
type Reservation struct {
	JobID    api.JobID
	Node     string
	Start    time.Time
	End      time.Time
	CPUs     int
	MemBytes int64
	GPUs     int
}

// Stats describe a pass.
type Stats struct {
	Considered int // pending jobs looked at
	Started    int // placed in priority order
	Backfilled int // placed while a higher-priority job of its partition waits
	Reserved   int // waiting jobs given a reservation
	Preempted  int // running jobs to preempt (len(Plan.Preemptions))
}

// Schedule computes a plan. It does not modify its input.
func Schedule(in Input) Plan {
	p := newPass(&in)
	p.run()
	return p.plan
}

// Before is the queue order: higher priority first, then earlier
// submission, then lower ID.
func Before(a, b *api.Job) bool {
	if a.Priority != b.Priority {
		return a.Priority > b.Priority
	}
	if !a.SubmitTime.Equal(b.SubmitTime) {
		return a.SubmitTime.Before(b.SubmitTime)
	}
	return a.ID < b.ID
}

// InPartition reports whether the node belongs to the partition.
func InPartition(n *api.Node, p *api.Partition) bool {
	if len(p.Nodes) == 0 {
		if len(n.Partitions) == 0 {
			return true
		}
		for _, name := range n.Partitions {
			if name == p.Name {
				return true
			}
		}
		return false
	}
	for _, name := range p.Nodes {
		if name == n.Name {
			return true
		}
	}
	return false
}

// Fits reports whether the job could run on the node when it is empty
// (on its share of the node for a multi-node job).
func Fits(j *api.Job, n *api.Node) bool {
	return j.Spec.CPUsOnNode() <= n.CPUs && j.Spec.MemBytes <= n.MemBytes && j.Spec.GPUsOnNode() <= len(n.GPUs)
}
