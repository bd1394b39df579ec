package metrics

import (
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// GPUStat is one GPU of a node as the node daemon sees it at scrape time.
type GPUStat struct {
	Index int
	UUID  string
	Model string
	// MemTotal is its memory in bytes (declared, or from NVML).
	MemTotal int64
	// Allocated: a job on this node holds it.
	Allocated bool
	// Utilization (0..1, the share of NVML's last sample period in which
	// a kernel ran) and MemUsed (bytes) are NVML's, when HasUtilization
	// and HasMemUsed say so; fake (declared) GPUs export neither.
	Utilization    float64
	HasUtilization bool
	MemUsed        int64
	HasMemUsed     bool
}

// NodeOptions configure a node daemon's metrics.
type NodeOptions struct {
	// Tasks counts the tasks (jobs and steps) running on the node, at
	// scrape time; ok = false exports nothing (the runtime did not answer).
	Tasks func() (running int, ok bool)
	// GPUs describes the node's GPUs at scrape time (nil: none).
	GPUs func() []GPUStat
}

// Node holds a node daemon's metrics. Register them under a registerer
// that adds the node label (see NewRegistry). A nil *Node ignores calls.
type Node struct {
	opts     NodeOptions
	launches *prometheus.CounterVec
	failures *prometheus.CounterVec
	start    *prometheus.HistogramVec

	tasks, gpuMem, gpuAlloc, gpuUtil, gpuUsed *prometheus.Desc
}

var _ prometheus.Collector = (*Node)(nil)

// NewNode returns the node daemon's metrics.
func NewNode(opts NodeOptions) *Node {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc(name, help, labels, nil)
	}
	n := &Node{
		opts: opts,
		launches: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "gsched_noded_task_launches_total",
			Help: "Tasks this node daemon tried to start (successful or not), by kind: job (a batch script) or step (a grun task)."},
			[]string{"kind"}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "gsched_noded_task_launch_failures_total",
			Help: "Tasks that could not be started (bad spec, runc failure), by kind; a job then ends FAILED."},
			[]string{"kind"}),
		start: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "gsched_noded_task_start_duration_seconds",
			Help:    "Time to start a task's container (task spec, supervisor, runc create and start), by kind.",
			Buckets: prometheus.ExponentialBuckets(0.005, 2, 12)}, []string{"kind"}),
		tasks:    d("gsched_noded_tasks_running", "Tasks (batch jobs and steps) running on this node."),
		gpuMem:   d("gsched_gpu_memory_total_bytes", "A GPU's memory in bytes.", "gpu", "uuid", "model"),
		gpuAlloc: d("gsched_gpu_allocated", "1 if a job on this node holds the GPU, else 0.", "gpu"),
		gpuUtil:  d("gsched_gpu_utilization_ratio", "Share of the last NVML sample period in which a kernel ran on the GPU (0 to 1; NVML only).", "gpu"),
		gpuUsed:  d("gsched_gpu_memory_used_bytes", "GPU memory in use, in bytes (NVML only).", "gpu"),
	}
	for _, k := range []string{"job", "step"} {
		n.launches.WithLabelValues(k)
		n.failures.WithLabelValues(k)
	}
	return n
}

// Collectors lists what to register.
func (n *Node) Collectors() []prometheus.Collector {
	return []prometheus.Collector{n.launches, n.failures, n.start, n}
}

// Launch records one start attempt of a task of kind "job" or "step"
// and, if it worked, its latency.
func (n *Node) Launch(kind string, d time.Duration, err error) {
	if n == nil {
		return
	}
	// The latency (or the failure) first, then the attempt: a scrape
	// that sees the attempt mostly sees its outcome too (Gather reads
	// the series one by one, so it is not a promise).
	if err != nil {
		n.failures.WithLabelValues(kind).Inc()
	} else {
		n.start.WithLabelValues(kind).Observe(d.Seconds())
	}
	n.launches.WithLabelValues(kind).Inc()
}

// Describe implements prometheus.Collector.
func (n *Node) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{n.tasks, n.gpuMem, n.gpuAlloc, n.gpuUtil, n.gpuUsed} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (n *Node) Collect(ch chan<- prometheus.Metric) {
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	if n.opts.Tasks != nil {
		if running, ok := n.opts.Tasks(); ok {
			gauge(n.tasks, float64(running))
		}
	}
	if n.opts.GPUs == nil {
		return
	}
	for _, g := range n.opts.GPUs() {
		idx := strconv.Itoa(g.Index)
		gauge(n.gpuMem, float64(g.MemTotal), idx, g.UUID, g.Model)
		gauge(n.gpuAlloc, b2f(g.Allocated), idx)
		if g.HasUtilization {
			gauge(n.gpuUtil, g.Utilization, idx)
		}
		if g.HasMemUsed {
			gauge(n.gpuUsed, float64(g.MemUsed), idx)
		}
	}
}
