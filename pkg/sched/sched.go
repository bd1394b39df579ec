// Package sched is gsched's scheduler as a pure function: Schedule takes an
// immutable Input (nodes with their free resources, pending jobs,
// partitions, the time) and returns a Plan (placements and a pending reason
// for every job left waiting). It uses no store, no RPC, no goroutines and
// no wall clock, iterates in sorted order and breaks ties stably, so the
// same input always gives the same plan.
//
// This first policy is strict priority order with first fit per partition:
// jobs are taken by (priority desc, submit time, id); each goes to the first
// node (by name) of its partition with enough free CPUs, memory and GPUs.
// Once a job of a partition cannot start, later jobs of that partition wait
// with reason Priority (no backfill yet), so a large job is never starved.
package sched

import (
	"sort"
	"time"

	"github.com/gsched/gsched/pkg/api"
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
	Config Config
}

// Placement starts a job on a node.
type Placement struct {
	JobID api.JobID
	Alloc api.Allocation
}

// Plan is the outcome of one pass.
type Plan struct {
	Placements []Placement
	// Reasons holds why each job not placed still waits.
	Reasons map[api.JobID]string
	// Starts holds the expected start of each waiting job that got a
	// backfill reservation (gqueue --start).
	Starts map[api.JobID]time.Time
	// Priorities holds the priority computed for every pending job.
	Priorities map[api.JobID]int64
	Stats      Stats
}

// Stats describe a pass.
type Stats struct {
	Considered int // pending jobs looked at
	Started    int // placed in priority order
	Backfilled int // placed ahead of a higher-priority waiting job
	Reserved   int // waiting jobs given a reservation
}

// Schedule computes a plan. It does not modify its input.
func Schedule(in Input) Plan {
	plan := Plan{Reasons: map[api.JobID]string{}}

	parts := map[string]api.Partition{}
	for _, p := range in.Partitions {
		parts[p.Name] = p
	}

	nodes := make([]*NodeFree, 0, len(in.Nodes))
	for i := range in.Nodes {
		n := in.Nodes[i]
		n.GPUs = append([]int(nil), n.GPUs...)
		sort.Ints(n.GPUs)
		nodes = append(nodes, &n)
	}
	sort.Slice(nodes, func(a, b int) bool { return nodes[a].Node.Name < nodes[b].Node.Name })

	jobs := append([]*api.Job(nil), in.Pending...)
	sort.SliceStable(jobs, func(a, b int) bool { return Before(jobs[a], jobs[b]) })

	blocked := map[string]bool{}
	for _, j := range jobs {
		if j.State != api.StatePending {
			continue
		}
		if j.Spec.Hold {
			plan.Reasons[j.ID] = api.ReasonHeld
			continue
		}
		p, ok := parts[j.Spec.Partition]
		if !ok {
			plan.Reasons[j.ID] = api.ReasonNodeNotAvail
			continue
		}
		if p.State != "" && p.State != "UP" {
			plan.Reasons[j.ID] = api.ReasonPartitionDown
			continue
		}
		if blocked[p.Name] {
			plan.Reasons[j.ID] = api.ReasonPriority
			continue
		}
		n, reason := firstFit(j, &p, nodes)
		if n == nil {
			plan.Reasons[j.ID] = reason
			blocked[p.Name] = true
			continue
		}
		plan.Placements = append(plan.Placements, take(j, n))
	}
	return plan
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

// Fits reports whether the job could run on the node when it is empty.
func Fits(j *api.Job, n *api.Node) bool {
	return j.Spec.CPUsOnNode() <= n.CPUs && j.Spec.MemBytes <= n.MemBytes && j.Spec.GPUsOnNode() <= len(n.GPUs)
}

func firstFit(j *api.Job, p *api.Partition, nodes []*NodeFree) (*NodeFree, string) {
	cpus, mem, gpus := j.Spec.CPUsOnNode(), j.Spec.MemBytes, j.Spec.GPUsOnNode()
	anyUp := false
	for _, n := range nodes {
		if n.Node.State != api.NodeUp || !InPartition(n.Node, p) {
			continue
		}
		anyUp = true
		if n.CPUs >= cpus && n.MemBytes >= mem && len(n.GPUs) >= gpus {
			return n, ""
		}
	}
	if !anyUp {
		return nil, api.ReasonNodeNotAvail
	}
	return nil, api.ReasonResources
}

func take(j *api.Job, n *NodeFree) Placement {
	cpus, mem, gpus := j.Spec.CPUsOnNode(), j.Spec.MemBytes, j.Spec.GPUsOnNode()
	alloc := api.Allocation{Node: n.Node.Name, CPUs: cpus, MemBytes: mem}
	if gpus > 0 {
		alloc.GPUs = append([]int(nil), n.GPUs[:gpus]...)
		n.GPUs = n.GPUs[gpus:]
	}
	n.CPUs -= cpus
	n.MemBytes -= mem
	return Placement{JobID: j.ID, Alloc: alloc}
}
