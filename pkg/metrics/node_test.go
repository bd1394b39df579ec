package metrics

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// A node daemon exports its GPUs' memory and allocation always, and
// utilisation and memory use only for GPUs NVML measured; every metric
// carries the node label.
func TestNodeCollector(t *testing.T) {
	n := NewNode(NodeOptions{
		Tasks: func() (int, bool) { return 2, true },
		GPUs: func() []GPUStat {
			return []GPUStat{
				{Index: 0, UUID: "GPU-a", Model: "H100", MemTotal: 80 << 30, Allocated: true,
					Utilization: 0.75, HasUtilization: true, MemUsed: 10 << 30, HasMemUsed: true},
				{Index: 1, Model: "fake-gpu", MemTotal: 16 << 30}, // declared: no NVML figures
			}
		},
	})
	n.Launch("job", 120*time.Millisecond, nil)
	n.Launch("job", 0, errors.New("runc"))
	n.Launch("step", 80*time.Millisecond, nil)
	reg, own := NewRegistry("gnoded", "test", prometheus.Labels{"node": "n1"})
	if err := Register(own, n.Collectors()...); err != nil {
		t.Fatal(err)
	}
	want := `
# HELP gsched_gpu_allocated 1 if a job on this node holds the GPU, else 0.
# TYPE gsched_gpu_allocated gauge
gsched_gpu_allocated{gpu="0",node="n1"} 1
gsched_gpu_allocated{gpu="1",node="n1"} 0
# HELP gsched_gpu_memory_total_bytes A GPU's memory in bytes.
# TYPE gsched_gpu_memory_total_bytes gauge
gsched_gpu_memory_total_bytes{gpu="0",model="H100",node="n1",uuid="GPU-a"} 8.589934592e+10
gsched_gpu_memory_total_bytes{gpu="1",model="fake-gpu",node="n1",uuid=""} 1.7179869184e+10
# HELP gsched_gpu_memory_used_bytes GPU memory in use, in bytes (NVML only).
# TYPE gsched_gpu_memory_used_bytes gauge
gsched_gpu_memory_used_bytes{gpu="0",node="n1"} 1.073741824e+10
# HELP gsched_gpu_utilization_ratio Share of the last NVML sample period in which a kernel ran on the GPU (0 to 1; NVML only).
# TYPE gsched_gpu_utilization_ratio gauge
gsched_gpu_utilization_ratio{gpu="0",node="n1"} 0.75
# HELP gsched_noded_task_launch_failures_total Tasks that could not be started (bad spec, runc failure), by kind; a job then ends FAILED.
# TYPE gsched_noded_task_launch_failures_total counter
gsched_noded_task_launch_failures_total{kind="job",node="n1"} 1
gsched_noded_task_launch_failures_total{kind="step",node="n1"} 0
# HELP gsched_noded_task_launches_total Tasks this node daemon tried to start (successful or not), by kind: job (a batch script) or step (a grun task).
# TYPE gsched_noded_task_launches_total counter
gsched_noded_task_launches_total{kind="job",node="n1"} 2
gsched_noded_task_launches_total{kind="step",node="n1"} 1
# HELP gsched_noded_tasks_running Tasks (batch jobs and steps) running on this node.
# TYPE gsched_noded_tasks_running gauge
gsched_noded_tasks_running{node="n1"} 2
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "gsched_gpu_allocated", "gsched_gpu_memory_total_bytes",
		"gsched_gpu_memory_used_bytes", "gsched_gpu_utilization_ratio", "gsched_noded_task_launch_failures_total",
		"gsched_noded_task_launches_total", "gsched_noded_tasks_running"); err != nil {
		t.Error(err)
	}
	if probs, err := testutil.GatherAndLint(reg); err != nil || len(probs) > 0 {
		t.Errorf("lint: %v %v", err, probs)
	}
}
