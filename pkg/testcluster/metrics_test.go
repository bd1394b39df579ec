package testcluster

import (
	"strings"
	"testing"
	"time"

	"github.com/gsched/gsched/pkg/api"
)

// Both daemons serve /metrics: the node's registered resources, a job's
// submission, start and end, its GPUs while it runs, the node daemon's
// launches, and the raft and scheduler series. An operator changes the
// log level of the controller and, with the next heartbeat, of the node
// daemons; a user may not.
func TestMetricsAndLogLevel(t *testing.T) {
	c := Start(t, Options{Nodes: 1, CPUsPerNode: 2, GPUsPerNode: 2, Metrics: true})
	type want struct {
		name   string
		labels []string
		value  float64
	}
	check := func(s Scrape, who string, ws ...want) {
		t.Helper()
		for _, w := range ws {
			if v, ok := s.Value(w.name, w.labels...); !ok || v != w.value {
				t.Errorf("%s: %s%v = %v (found %v), want %v", who, w.name, w.labels, v, ok, w.value)
			}
		}
	}
	// An RPC's duration is recorded once its answer is written, so the
	// node daemon may hear back before the controller counts it.
	ctl := c.ControllerMetrics()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); ctl = c.ControllerMetrics() {
		if _, ok := ctl.Value("gsched_rpc_duration_seconds", "listener", "node", "path", api.PathNodeRegister, "code", "ok"); ok {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	check(ctl, "controller",
		want{"gsched_node_cpus", []string{"node", "n1"}, 2},
		want{"gsched_node_memory_bytes", []string{"node", "n1"}, 4 << 30},
		want{"gsched_node_gpus", []string{"node", "n1"}, 2},
		want{"gsched_nodes", []string{"state", "IDLE"}, 1},
		want{"gsched_raft_leader", nil, 1},
		want{"gsched_build_info", []string{"daemon", "gctld"}, 1},
		want{"gsched_rpc_duration_seconds", []string{"listener", "node", "path", api.PathNodeRegister, "code", "ok"}, 1},
	)

	dir := c.WorkDir(0, 0)
	id := c.Submit(api.JobSpec{WorkDir: dir, GPUs: 1, Script: "#!/bin/sh\nsleep 300\n"})
	c.WaitFor(id, 30*time.Second, func(j api.Job) bool { return j.State == api.StateRunning })
	check(c.ControllerMetrics(), "controller, job running",
		want{"gsched_job_submissions_total", []string{"result", "accepted"}, 1},
		want{"gsched_jobs_submitted_total", []string{"partition", "main"}, 1},
		want{"gsched_job_starts_total", []string{"partition", "main"}, 1},
		want{"gsched_jobs", []string{"state", "RUNNING", "user", "root", "partition", "main"}, 1},
		want{"gsched_node_gpus_allocated", []string{"node", "n1"}, 1},
		want{"gsched_nodes", []string{"state", "MIXED"}, 1},
	)
	// The node daemon learns its jobs' GPUs with the sync that starts
	// them, and counts the launch once the container runs.
	deadline := time.Now().Add(10 * time.Second)
	for {
		nd := c.NodeMetrics(1)
		gpus, _ := nd.Value("gsched_gpu_allocated", "node", "n1")
		launches, _ := nd.Value("gsched_noded_task_launches_total", "kind", "job")
		// The launch counter and the start-latency histogram are two
		// series; a scrape may fall between their updates.
		starts, _ := nd.Value("gsched_noded_task_start_duration_seconds", "kind", "job")
		if gpus == 1 && launches == 1 && starts == 1 {
			check(nd, "node, job running",
				want{"gsched_noded_tasks_running", []string{"node", "n1"}, 1},
				want{"gsched_noded_task_launch_failures_total", []string{"kind", "job"}, 0},
				want{"gsched_noded_task_start_duration_seconds", []string{"kind", "job"}, 1},
				want{"gsched_gpu_memory_total_bytes", []string{"gpu", "0", "model", "fake-gpu"}, 16 << 30},
			)
			if _, ok := nd.Value("gsched_gpu_utilization_ratio"); ok {
				t.Error("fake GPUs export a utilisation")
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("node daemon: GPUs allocated %v, launches %v, start latencies %v; want 1 each", gpus, launches, starts)
		}
		time.Sleep(100 * time.Millisecond)
	}

	// Log level: refused to a user, applied for an operator.
	r := c.CLI(nobody, nobody, dir, "gcontrol", "setdebug", "debug")
	if r.Code == 0 || !strings.Contains(r.Stderr, "only operators") {
		t.Fatalf("user setdebug: %d %q", r.Code, r.Stderr)
	}
	if got := c.NodeLogLevel(1); got != "info" {
		t.Fatalf("node log level %s before any change", got)
	}
	r = c.CLI(0, 0, dir, "gcontrol", "setdebug", "warn")
	if r.Code != 0 || !strings.HasPrefix(r.Stdout, "controller log level warn (was ") || !strings.HasSuffix(r.Stdout, "node daemons warn\n") {
		t.Fatalf("setdebug: %d %q %q", r.Code, r.Stdout, r.Stderr)
	}
	for deadline := time.Now().Add(10 * time.Second); c.NodeLogLevel(1) != "warn"; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("node log level still %s", c.NodeLogLevel(1))
		}
	}

	if r := c.CLI(0, 0, dir, "gcancel", id.String()); r.Code != 0 {
		t.Fatalf("gcancel: %d %q", r.Code, r.Stderr)
	}
	c.WaitJob(id, 30*time.Second)
	ok := c.Submit(api.JobSpec{WorkDir: dir, Script: "#!/bin/sh\ntrue\n"})
	if j := c.WaitJob(ok, 30*time.Second); j.State != api.StateCompleted {
		t.Fatalf("job %d: %s", ok, j.State)
	}
	ctl = c.ControllerMetrics()
	check(ctl, "controller, jobs ended",
		want{"gsched_job_ends_total", []string{"partition", "main", "state", "CANCELLED"}, 1},
		want{"gsched_job_ends_total", []string{"partition", "main", "state", "COMPLETED"}, 1},
		want{"gsched_job_starts_total", []string{"partition", "main"}, 2},
		want{"gsched_jobs", []string{"state", "COMPLETED", "user", "root"}, 1},
		want{"gsched_node_gpus_allocated", []string{"node", "n1"}, 0},
	)
	if v, _ := ctl.Value("gsched_schedule_cycles_total", "result", "ok"); v < 2 {
		t.Errorf("%v scheduling passes counted", v)
	}
	nd := c.NodeMetrics(1)
	check(nd, "node, jobs ended", want{"gsched_noded_task_launches_total", []string{"kind", "job"}, 2},
		want{"gsched_gpu_allocated", []string{"node", "n1"}, 0})
	t.Logf("controller /metrics: %d families, %d bytes, %s; node: %d families, %d bytes, %s",
		len(ctl.Families), ctl.Bytes, ctl.Took, len(nd.Families), nd.Bytes, nd.Took)
}
