package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gsched/gsched/pkg/api"
)

// Controller holds the controller's event metrics: counters and
// histograms updated where things happen. Its methods are safe for
// concurrent use; a nil *Controller ignores every call.
type Controller struct {
	submissions *prometheus.CounterVec
	submitted   *prometheus.CounterVec
	starts      *prometheus.CounterVec
	ends        *prometheus.CounterVec
	requeues    *prometheus.CounterVec
	cycles      *prometheus.CounterVec
	cycle       prometheus.Histogram
	plan        prometheus.Histogram
	considered  prometheus.Histogram
	lastPass    *prometheus.GaugeVec
	passJobs    *prometheus.CounterVec
	rpc         *prometheus.HistogramVec
	raftApply   *prometheus.HistogramVec
}

// PassStats is what one scheduling pass did (sched.Stats).
type PassStats struct {
	Considered, Started, Backfilled, Reserved, Preempted int
}

// passOutcomes label gsched_schedule_last_pass_jobs and
// gsched_schedule_jobs_total.
var passOutcomes = []string{"considered", "started", "backfilled", "reserved", "preempted"}

// rpcBuckets span a local call (100µs) to a long poll (a heartbeat, ~30s).
var rpcBuckets = prometheus.ExponentialBuckets(0.0001, 4, 10)

// NewController returns the controller's event metrics. Counters with a
// partition label start at zero for each of partitions, so that a
// dashboard's rate() sees the first event.
func NewController(partitions []string) *Controller {
	c := &Controller{
		submissions: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "gsched_job_submissions_total",
			Help: "Submit requests handled by this controller, by result (accepted, rejected) and error code (ok when accepted)."},
			[]string{"result", "code"}),
		submitted: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "gsched_jobs_submitted_total",
			Help: "Jobs added to the state (each task of an array counts), by partition."}, []string{"partition"}),
		starts: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "gsched_job_starts_total",
			Help: "Job starts (each attempt of a requeued job counts), by partition."}, []string{"partition"}),
		ends: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "gsched_job_ends_total",
			Help: "Jobs that reached a final state, by partition and state."}, []string{"partition", "state"}),
		requeues: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "gsched_job_requeues_total",
			Help: "Running jobs put back in the queue (preemption, node failure), by partition."}, []string{"partition"}),
		cycles: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "gsched_schedule_cycles_total",
			Help: "Scheduling passes run by the leader, by result (ok, error)."}, []string{"result"}),
		cycle: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "gsched_schedule_cycle_duration_seconds",
			Help:    "Duration of a whole scheduling pass: snapshot, plan, and the raft commit of its starts and preemptions.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2.5, 12)}),
		plan: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "gsched_schedule_plan_duration_seconds",
			Help:    "Duration of the pure scheduler (sched.Schedule) in a pass.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 2.5, 12)}),
		considered: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "gsched_schedule_jobs_considered",
			Help:    "Pending jobs a scheduling pass looked at (its backfill depth).",
			Buckets: prometheus.ExponentialBuckets(1, 4, 9)}),
		lastPass: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "gsched_schedule_last_pass_jobs",
			Help: "Jobs of the latest scheduling pass by outcome: considered, started, backfilled, reserved, preempted."},
			[]string{"outcome"}),
		passJobs: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "gsched_schedule_jobs_total",
			Help: "Jobs of all scheduling passes by outcome: considered, started, backfilled, reserved, preempted."},
			[]string{"outcome"}),
		rpc: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "gsched_rpc_duration_seconds",
			Help:    "RPCs handled by this controller, by listener (user, remote, node), path and result code (ok or an error code). Node syncs are long polls.",
			Buckets: rpcBuckets}, []string{"listener", "path", "code"}),
		raftApply: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "gsched_raft_apply_duration_seconds",
			Help:    "Time from proposing a command to raft until it is committed and applied, by command.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 2.5, 12)}, []string{"command"}),
	}
	for _, p := range partitions {
		c.submitted.WithLabelValues(p)
		c.starts.WithLabelValues(p)
		c.requeues.WithLabelValues(p)
		for _, st := range api.AllJobStates {
			if st.Final() {
				c.ends.WithLabelValues(p, string(st))
			}
		}
	}
	c.submissions.WithLabelValues("accepted", "ok")
	for _, r := range []string{"ok", "error"} {
		c.cycles.WithLabelValues(r)
	}
	for _, o := range passOutcomes {
		c.lastPass.WithLabelValues(o)
		c.passJobs.WithLabelValues(o)
	}
	return c
}

// Collectors lists the metrics, to register.
func (c *Controller) Collectors() []prometheus.Collector {
	return []prometheus.Collector{c.submissions, c.submitted, c.starts, c.ends, c.requeues, c.cycles, c.cycle,
		c.plan, c.considered, c.lastPass, c.passJobs, c.rpc, c.raftApply}
}

// RPCObserver returns the observer of one listener's handlers (see
// rpc.Server.Instrument). Submissions are counted here, where the call is
// handled (on the leader, once), not where a follower forwards it.
func (c *Controller) RPCObserver(listener string) func(path, code string, d time.Duration) {
	if c == nil {
		return nil
	}
	return func(path, code string, d time.Duration) {
		c.rpc.WithLabelValues(listener, path, code).Observe(d.Seconds())
		if path == api.PathSubmit {
			result := "accepted"
			if code != "ok" {
				result = "rejected"
			}
			c.submissions.WithLabelValues(result, code).Inc()
		}
	}
}

// JobChanged counts the events between two versions of a job in the
// state (nil before: a new job; nil after: purged).
func (c *Controller) JobChanged(before, after *api.Job) {
	if c == nil || after == nil {
		return
	}
	part := after.Spec.Partition
	if before == nil {
		c.submitted.WithLabelValues(part).Inc()
		if after.State.Final() { // refused at submission (e.g. an invalid dependency)
			c.ends.WithLabelValues(part, string(after.State)).Inc()
		}
		return
	}
	live := func(s api.JobState) bool { return s == api.StateRunning || s == api.StateCompleting }
	if after.State == api.StateRunning && (before.State == api.StatePending || before.Restarts != after.Restarts) {
		c.starts.WithLabelValues(part).Inc()
	}
	if after.State == api.StatePending && live(before.State) {
		c.requeues.WithLabelValues(part).Inc()
	}
	if after.State.Final() && !before.State.Final() {
		c.ends.WithLabelValues(part, string(after.State)).Inc()
	}
}

// SchedulePass records a whole pass.
func (c *Controller) SchedulePass(d time.Duration, err error) {
	if c == nil {
		return
	}
	result := "ok"
	if err != nil {
		result = "error"
	}
	c.cycles.WithLabelValues(result).Inc()
	c.cycle.Observe(d.Seconds())
}

// Plan records the pure scheduler's time and what it decided.
func (c *Controller) Plan(d time.Duration, st PassStats) {
	if c == nil {
		return
	}
	c.plan.Observe(d.Seconds())
	c.considered.Observe(float64(st.Considered))
	for i, n := range []int{st.Considered, st.Started, st.Backfilled, st.Reserved, st.Preempted} {
		c.lastPass.WithLabelValues(passOutcomes[i]).Set(float64(n))
		c.passJobs.WithLabelValues(passOutcomes[i]).Add(float64(n))
	}
}

// RaftApply records one command's commit-and-apply time.
func (c *Controller) RaftApply(command string, d time.Duration) {
	if c == nil {
		return
	}
	c.raftApply.WithLabelValues(command).Observe(d.Seconds())
}

// RaftStatus is the controller's raft state at one instant.
type RaftStatus struct {
	// Leader: this controller leads (and, with HA, has caught up).
	Leader bool
	// State is raft's: Leader, Follower, Candidate, Shutdown.
	State                                 string
	Term, LastIndex, CommitIndex, Applied uint64
	// Peers is the number of voters in the configuration, this one included.
	Peers int
}

// raftStates label gsched_raft_state.
var raftStates = []string{"Leader", "Follower", "Candidate", "Shutdown"}

// Raft exports a RaftStatus read at scrape time.
type Raft struct {
	status                                     func() RaftStatus
	leader, state, term, last, commit, applied *prometheus.Desc
	peers                                      *prometheus.Desc
}

var _ prometheus.Collector = (*Raft)(nil)

// NewRaft returns the collector.
func NewRaft(status func() RaftStatus) *Raft {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc(name, help, labels, nil)
	}
	return &Raft{
		status:  status,
		leader:  d("gsched_raft_leader", "1 if this controller is the leader and has applied every committed entry (it schedules), else 0."),
		state:   d("gsched_raft_state", "1 for this controller's raft state.", "state"),
		term:    d("gsched_raft_term", "Current raft term."),
		last:    d("gsched_raft_last_log_index", "Index of the last entry in this controller's raft log."),
		commit:  d("gsched_raft_commit_index", "Index of the last committed raft entry known here."),
		applied: d("gsched_raft_applied_index", "Index of the last raft entry applied to this controller's state."),
		peers:   d("gsched_raft_peers", "Voters in the raft configuration (1 without HA)."),
	}
}

// Describe implements prometheus.Collector.
func (r *Raft) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{r.leader, r.state, r.term, r.last, r.commit, r.applied, r.peers} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (r *Raft) Collect(ch chan<- prometheus.Metric) {
	st := r.status()
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	gauge(r.leader, b2f(st.Leader))
	for _, s := range raftStates {
		gauge(r.state, b2f(s == st.State), s)
	}
	gauge(r.term, float64(st.Term))
	gauge(r.last, float64(st.LastIndex))
	gauge(r.commit, float64(st.CommitIndex))
	gauge(r.applied, float64(st.Applied))
	gauge(r.peers, float64(st.Peers))
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
