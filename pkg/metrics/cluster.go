package metrics

import (
	"sort"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gsched/gsched/pkg/api"
)

// OtherUsers is the user label of the jobs of users beyond the limit of
// ClusterOptions.MaxUsers. No user can be named so.
const OtherUsers = "(other)"

// DefaultMaxUsers bounds the user label of gsched_jobs (see ClusterOptions).
const DefaultMaxUsers = 200

// ClusterView is the controller's state at one instant: one store
// snapshot and the latest scheduling pass's reasons.
type ClusterView struct {
	Jobs  []*api.Job
	Nodes []*api.Node
	// Usage is what live jobs hold on each node (state.Snapshot.Usage).
	Usage map[string]api.NodeUsage
	// PendingReason is why a pending job waits ("" = unknown: its stored
	// reason, else None, is used).
	PendingReason func(id api.JobID) string
}

// ClusterOptions configure a Cluster collector.
type ClusterOptions struct {
	// View reads the state; it is called once per scrape. ok = false
	// (a follower controller, or no state yet) exports nothing.
	View func() (ClusterView, bool)
	// MaxUsers bounds the distinct values of gsched_jobs' user label:
	// the users with the most live jobs (then the most jobs) keep their
	// name, the rest are summed under OtherUsers. 0 = DefaultMaxUsers;
	// negative = no limit.
	MaxUsers int
}

// Cluster exports the controller's state at scrape time.
type Cluster struct {
	opts ClusterOptions

	jobs, pending                   *prometheus.Desc
	cpus, cpusAlloc, mem, memAlloc  *prometheus.Desc
	gpus, gpusAlloc, nodeJobs, node *prometheus.Desc
	nodes                           *prometheus.Desc
}

var _ prometheus.Collector = (*Cluster)(nil)

// NewCluster returns the collector.
func NewCluster(opts ClusterOptions) *Cluster {
	if opts.MaxUsers == 0 {
		opts.MaxUsers = DefaultMaxUsers
	}
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc(name, help, labels, nil)
	}
	return &Cluster{
		opts:      opts,
		jobs:      d("gsched_jobs", "Jobs in the controller's state (final ones until job_retention), by state, partition and user.", "state", "partition", "user"),
		pending:   d("gsched_jobs_pending", "Pending jobs by partition and pending reason (from the latest scheduling pass).", "partition", "reason"),
		cpus:      d("gsched_node_cpus", "CPUs a node registered.", "node"),
		cpusAlloc: d("gsched_node_cpus_allocated", "CPUs allocated to live jobs on a node.", "node"),
		mem:       d("gsched_node_memory_bytes", "Memory a node registered, in bytes.", "node"),
		memAlloc:  d("gsched_node_memory_allocated_bytes", "Memory allocated to live jobs on a node, in bytes.", "node"),
		gpus:      d("gsched_node_gpus", "GPUs a node registered.", "node"),
		gpusAlloc: d("gsched_node_gpus_allocated", "GPUs allocated to live jobs on a node.", "node"),
		nodeJobs:  d("gsched_node_jobs", "Live jobs with an allocation on a node.", "node"),
		node:      d("gsched_node_state", "1 for a node's current state (IDLE, MIXED, ALLOCATED, DRAIN or DOWN, as ginfo shows it).", "node", "state"),
		nodes:     d("gsched_nodes", "Nodes by state (IDLE, MIXED, ALLOCATED, DRAIN, DOWN).", "state"),
	}
}

// Describe implements prometheus.Collector.
func (c *Cluster) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.jobs, c.pending, c.cpus, c.cpusAlloc, c.mem, c.memAlloc,
		c.gpus, c.gpusAlloc, c.nodeJobs, c.node, c.nodes} {
		ch <- d
	}
}

// nodeStates are the display states, each exported for every node so that
// a state change shows as 1 -> 0 rather than as a series that vanishes.
var nodeStates = []string{"IDLE", "MIXED", "ALLOCATED", "DRAIN", "DOWN"}

// Collect implements prometheus.Collector.
func (c *Cluster) Collect(ch chan<- prometheus.Metric) {
	v, ok := c.opts.View()
	if !ok {
		return
	}
	gauge := func(d *prometheus.Desc, val float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, val, labels...)
	}
	keep := c.users(v.Jobs)
	type jobKey struct{ state, part, user string }
	type pendKey struct{ part, reason string }
	jobs := map[jobKey]int{}
	pend := map[pendKey]int{}
	for _, j := range v.Jobs {
		user := j.User
		if keep != nil && !keep[user] {
			user = OtherUsers
		}
		jobs[jobKey{string(j.State), j.Spec.Partition, user}]++
		if j.State != api.StatePending {
			continue
		}
		reason := ""
		if v.PendingReason != nil {
			reason = v.PendingReason(j.ID)
		}
		if reason == "" {
			reason = j.Reason
		}
		pend[pendKey{j.Spec.Partition, reasonLabel(reason)}]++
	}
	for k, n := range jobs {
		gauge(c.jobs, float64(n), k.state, k.part, k.user)
	}
	for k, n := range pend {
		gauge(c.pending, float64(n), k.part, k.reason)
	}
	byState := map[string]int{}
	for _, s := range nodeStates {
		byState[s] = 0
	}
	for _, n := range v.Nodes {
		u := v.Usage[n.Name]
		gauge(c.cpus, float64(n.CPUs), n.Name)
		gauge(c.cpusAlloc, float64(u.CPUs), n.Name)
		gauge(c.mem, float64(n.MemBytes), n.Name)
		gauge(c.memAlloc, float64(u.MemBytes), n.Name)
		gauge(c.gpus, float64(len(n.GPUs)), n.Name)
		gauge(c.gpusAlloc, float64(len(u.GPUs)), n.Name)
		gauge(c.nodeJobs, float64(u.Jobs), n.Name)
		st := api.DisplayState(n, u)
		byState[st]++
		for _, s := range nodeStates {
			val := 0.0
			if s == st {
				val = 1
			}
			gauge(c.node, val, n.Name, s)
		}
	}
	for s, n := range byState {
		gauge(c.nodes, float64(n), s)
	}
}

// users returns the users that keep their own label (nil: all of them).
func (c *Cluster) users(jobs []*api.Job) map[string]bool {
	if c.opts.MaxUsers < 0 {
		return nil
	}
	type count struct{ live, all int }
	per := map[string]*count{}
	for _, j := range jobs {
		n := per[j.User]
		if n == nil {
			n = &count{}
			per[j.User] = n
		}
		n.all++
		if !j.State.Final() {
			n.live++
		}
	}
	if len(per) <= c.opts.MaxUsers {
		return nil
	}
	names := make([]string, 0, len(per))
	for u := range per {
		names = append(names, u)
	}
	sort.Slice(names, func(a, b int) bool {
		x, y := per[names[a]], per[names[b]]
		if x.live != y.live {
			return x.live > y.live
		}
		if x.all != y.all {
			return x.all > y.all
		}
		return names[a] < names[b]
	})
	keep := make(map[string]bool, c.opts.MaxUsers)
	for _, u := range names[:c.opts.MaxUsers] {
		keep[u] = true
	}
	return keep
}

// reasonLabel keeps a pending reason a bounded label: Slurm's reasons are
// single words; anything after a space or past 64 bytes is dropped.
func reasonLabel(r string) string {
	if r == "" {
		return api.ReasonNone
	}
	if i := strings.IndexAny(r, " (:"); i > 0 {
		r = r[:i]
	}
	if len(r) > 64 {
		r = r[:64]
	}
	return r
}
