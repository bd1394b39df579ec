package testcluster

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gsched/gsched/pkg/api"
)

// A partition between a node and the controller shorter than the node
// timeout: the node stays UP, its running job keeps running, a job that
// ends during the partition has its exit status reported once the network
// heals, and nothing runs twice.
func TestShortPartitionKeepsJobsRunning(t *testing.T) {
	c := Start(t, Options{Nodes: 1, Partitionable: true, Heartbeat: 300 * time.Millisecond, NodeTimeout: 4 * time.Second})
	dir := c.WorkDir(0, 0)
	long := c.Submit(api.JobSpec{WorkDir: dir, Script: "#!/bin/sh\necho start $GSCHED_RESTART_COUNT\nsleep 4\necho done\n"})
	short := c.Submit(api.JobSpec{WorkDir: dir, Script: "#!/bin/sh\necho start\nsleep 1\nexit 3\n"})
	for _, id := range []api.JobID{long, short} {
		c.WaitFor(id, 30*time.Second, func(j api.Job) bool {
			return j.State == api.StateRunning && strings.HasPrefix(readOutMaybe(dir, id), "start")
		})
	}
	c.Partition(1, true)
	time.Sleep(2500 * time.Millisecond) // the short job ends meanwhile
	if j := c.Job(short); j.State != api.StateRunning {
		t.Fatalf("during the partition the controller already knows the short job as %s", j.State)
	}
	for _, n := range c.Nodes().Nodes {
		if n.State == api.NodeDown {
			t.Fatalf("node DOWN after a partition shorter than node_timeout")
		}
	}
	c.Partition(1, false)
	if j := c.WaitJob(short, 15*time.Second); j.State != api.StateFailed || j.ExitCode != 3 {
		t.Fatalf("job that ended during the partition: %s exit %d, want FAILED 3", j.State, j.ExitCode)
	}
	if j := c.WaitJob(long, 15*time.Second); j.State != api.StateCompleted || j.Restarts != 0 {
		t.Fatalf("job running through the partition: %s, restarts %d", j.State, j.Restarts)
	}
	if out := readOut(t, dir, long); out != "start 0\ndone\n" {
		t.Fatalf("job output %q: it should have run once, unbroken", out)
	}
}

// A partition longer than the node timeout: the node is DOWN and its
// batch job is requeued onto the other node. The partitioned node's daemon
// never died and its container went on running; when the network heals
// and the node registers again, that stale container is killed, so the
// job does not run twice.
func TestLongPartitionRequeuesAndKillsStaleCopy(t *testing.T) {
	c := Start(t, Options{Nodes: 2, Partitionable: true, Heartbeat: 300 * time.Millisecond, NodeTimeout: 2 * time.Second})
	dir := c.WorkDir(0, 0)
	id := c.Submit(api.JobSpec{WorkDir: dir, Script: "#!/bin/sh\necho run $GSCHED_RESTART_COUNT\nsleep 300\n"})
	j := c.WaitFor(id, 30*time.Second, func(j api.Job) bool { return j.State == api.StateRunning && readOutMaybe(dir, id) == "run 0\n" })
	first := j.Allocs[0].Node
	node := 1
	if first == "n2" {
		node = 2
	}
	cut := time.Now()
	c.Partition(node, true)
	j = c.WaitFor(id, 20*time.Second, func(j api.Job) bool {
		return j.State == api.StateRunning && j.Restarts == 1 && strings.Contains(readOutMaybe(dir, id), "run 1\n")
	})
	t.Logf("partition to the job running again elsewhere: %s", time.Since(cut).Round(time.Millisecond))
	if j.Allocs[0].Node == first {
		t.Fatalf("requeued onto the partitioned node %s", first)
	}
	// The stale copy is still running on the partitioned node.
	taskDir := filepath.Join(c.Dir, "node-"+first, "tasks", "job-"+id.String())
	if _, err := os.Stat(taskDir); err != nil {
		t.Fatalf("the partitioned node lost its task before healing: %v", err)
	}
	c.Partition(node, false)
	deadline := time.Now().Add(20 * time.Second)
	for {
		if _, err := os.Stat(taskDir); os.IsNotExist(err) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("stale copy %s still there after healing", taskDir)
		}
		time.Sleep(50 * time.Millisecond)
	}
	c.WaitNodesUp(2, 20*time.Second)
	if j := c.Job(id); j.State != api.StateRunning || j.Restarts != 1 || j.Allocs[0].Node == first {
		t.Fatalf("after healing: %s restarts %d on %s", j.State, j.Restarts, j.Allocs[0].Node)
	}
	if out := readOutMaybe(dir, id); out != "run 0\nrun 1\n" {
		t.Fatalf("output %q", out)
	}
}
