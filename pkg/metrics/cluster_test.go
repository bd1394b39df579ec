package metrics

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/gsched/gsched/pkg/api"
)

// ---- builders ----

func job(id api.JobID, user, part string, st api.JobState) *api.Job {
	return &api.Job{ID: id, User: user, State: st, Spec: &api.JobSpec{Partition: part}}
}

func node(name string, cpus int, mem int64, gpus int, st api.NodeState) *api.Node {
	n := &api.Node{Name: name, CPUs: cpus, MemBytes: mem, State: st}
	for i := 0; i < gpus; i++ {
		n.GPUs = append(n.GPUs, api.GPU{Index: i})
	}
	return n
}

func testView() ClusterView {
	pendingRes := job(3, "bob", "gpu", api.StatePending)
	held := job(4, "bob", "gpu", api.StatePending)
	held.Reason = api.ReasonHeld
	return ClusterView{
		Jobs: []*api.Job{
			job(1, "alice", "main", api.StateRunning),
			job(2, "alice", "main", api.StateCompleted),
			pendingRes, held,
			job(5, "carol", "gpu", api.StatePending),
		},
		Nodes: []*api.Node{node("n1", 8, 32<<30, 4, api.NodeUp), node("n2", 4, 16<<30, 0, api.NodeDrain)},
		Usage: map[string]api.NodeUsage{"n1": {CPUs: 2, MemBytes: 4 << 30, GPUs: []int{0, 3}, Jobs: 1}},
		PendingReason: func(id api.JobID) string {
			return map[api.JobID]string{3: api.ReasonResources, 5: "Priority (behind job 3)"}[id]
		},
	}
}

func TestClusterCollector(t *testing.T) {
	c := NewCluster(ClusterOptions{View: func() (ClusterView, bool) { return testView(), true }})
	want := `
# HELP gsched_jobs Jobs in the controller's state (final ones until job_retention), by state, partition and user.
# TYPE gsched_jobs gauge
gsched_jobs{partition="gpu",state="PENDING",user="bob"} 2
gsched_jobs{partition="gpu",state="PENDING",user="carol"} 1
gsched_jobs{partition="main",state="COMPLETED",user="alice"} 1
gsched_jobs{partition="main",state="RUNNING",user="alice"} 1
# HELP gsched_jobs_pending Pending jobs by partition and pending reason (from the latest scheduling pass).
# TYPE gsched_jobs_pending gauge
gsched_jobs_pending{partition="gpu",reason="JobHeldUser"} 1
gsched_jobs_pending{partition="gpu",reason="Priority"} 1
gsched_jobs_pending{partition="gpu",reason="Resources"} 1
# HELP gsched_node_cpus CPUs a node registered.
# TYPE gsched_node_cpus gauge
gsched_node_cpus{node="n1"} 8
gsched_node_cpus{node="n2"} 4
# HELP gsched_node_cpus_allocated CPUs allocated to live jobs on a node.
# TYPE gsched_node_cpus_allocated gauge
gsched_node_cpus_allocated{node="n1"} 2
gsched_node_cpus_allocated{node="n2"} 0
# HELP gsched_node_gpus_allocated GPUs allocated to live jobs on a node.
# TYPE gsched_node_gpus_allocated gauge
gsched_node_gpus_allocated{node="n1"} 2
gsched_node_gpus_allocated{node="n2"} 0
# HELP gsched_node_memory_allocated_bytes Memory allocated to live jobs on a node, in bytes.
# TYPE gsched_node_memory_allocated_bytes gauge
gsched_node_memory_allocated_bytes{node="n1"} 4.294967296e+09
gsched_node_memory_allocated_bytes{node="n2"} 0
# HELP gsched_nodes Nodes by state (IDLE, MIXED, ALLOCATED, DRAIN, DOWN).
# TYPE gsched_nodes gauge
gsched_nodes{state="ALLOCATED"} 0
gsched_nodes{state="DOWN"} 0
gsched_nodes{state="DRAIN"} 1
gsched_nodes{state="IDLE"} 0
gsched_nodes{state="MIXED"} 1
`
	if err := testutil.CollectAndCompare(c, strings.NewReader(want), "gsched_jobs", "gsched_jobs_pending", "gsched_node_cpus",
		"gsched_node_cpus_allocated", "gsched_node_gpus_allocated", "gsched_node_memory_allocated_bytes", "gsched_nodes"); err != nil {
		t.Error(err)
	}
	// Every node has a 0/1 series per state.
	if n := testutil.CollectAndCount(c, "gsched_node_state"); n != 2*len(nodeStates) {
		t.Errorf("%d gsched_node_state series, want %d", n, 2*len(nodeStates))
	}
	if probs, err := testutil.CollectAndLint(c); err != nil || len(probs) > 0 {
		t.Errorf("lint: %v %v", err, probs)
	}
}

// Beyond MaxUsers, the users with the fewest live jobs are summed under
// OtherUsers; a follower (ok = false) exports nothing.
func TestClusterUserLimit(t *testing.T) {
	v := ClusterView{Jobs: []*api.Job{
		job(1, "a", "main", api.StateRunning), job(2, "a", "main", api.StatePending),
		job(3, "b", "main", api.StateRunning),
		job(4, "c", "main", api.StateCompleted), job(5, "c", "main", api.StateCompleted),
		job(6, "d", "main", api.StateCompleted),
	}}
	c := NewCluster(ClusterOptions{MaxUsers: 2, View: func() (ClusterView, bool) { return v, true }})
	want := `
# HELP gsched_jobs Jobs in the controller's state (final ones until job_retention), by state, partition and user.
# TYPE gsched_jobs gauge
gsched_jobs{partition="main",state="COMPLETED",user="(other)"} 3
gsched_jobs{partition="main",state="PENDING",user="a"} 1
gsched_jobs{partition="main",state="RUNNING",user="a"} 1
gsched_jobs{partition="main",state="RUNNING",user="b"} 1
`
	if err := testutil.CollectAndCompare(c, strings.NewReader(want), "gsched_jobs"); err != nil {
		t.Error(err)
	}
	off := NewCluster(ClusterOptions{View: func() (ClusterView, bool) { return v, false }})
	if n := testutil.CollectAndCount(off); n != 0 {
		t.Errorf("a follower exported %d series", n)
	}
}
