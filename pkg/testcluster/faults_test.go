package testcluster

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gsched/gsched/pkg/api"
	"github.com/gsched/gsched/pkg/rpc"
)

// kill -9 of the controller while clients submit: every job whose ID was
// returned is there after the restart, in the state it had, and IDs are
// never reused. GSCHED_FAULT_KILLS repeats the kill (make faults: 20).
func TestControllerKill9LosesNoAcknowledgedJob(t *testing.T) {
	kills := envCount(t, "GSCHED_FAULT_KILLS", 1)
	c := Start(t, Options{Binaries: true})
	dir := c.WorkDir(0, 0)
	spec := api.JobSpec{Name: "held", Hold: true, WorkDir: dir, MemBytes: 1 << 20, Script: "#!/bin/sh\ntrue\n"}
	seen := map[api.JobID]int{} // acknowledged IDs, over all rounds
	var totalTried, totalAcked, totalLost, dups int
	var maxID api.JobID
	for k := 1; k <= kills; k++ {
		acked, tried := submitUntilKill(t, c, spec)
		c.RestartController()
		cl := c.Client()
		var jl api.JobList
		err := cl.Call(context.Background(), api.PathListJobs, &api.JobFilter{IncludeFinished: true}, &jl)
		cl.Close()
		if err != nil {
			t.Fatal(err)
		}
		have := map[api.JobID]api.Job{}
		for _, j := range jl.Jobs {
			have[j.ID] = j
		}
		lost, roundDups := 0, 0
		for _, id := range acked {
			if id <= maxID || seen[id] > 0 {
				roundDups++ // reused after a restart, or acknowledged twice
			}
			seen[id]++
			j, ok := have[id]
			if !ok {
				lost++
				continue
			}
			if j.State != api.StatePending || j.Reason != api.ReasonHeld || j.Spec.Name != "held" {
				t.Errorf("job %d came back as %s/%s", id, j.State, j.Reason)
			}
		}
		for _, id := range acked {
			maxID = max(maxID, id)
		}
		totalTried += tried
		totalAcked += len(acked)
		totalLost += lost
		dups += roundDups
		t.Logf("FAULTS kill %d/%d: attempted %d, acknowledged %d, lost %d, duplicated %d", k, kills, tried, len(acked), lost, roundDups)
		if len(acked) < 50 {
			t.Fatalf("only %d submissions acknowledged before kill %d", len(acked), k)
		}
	}
	t.Logf("FAULTS total: controller kills %d, attempted %d, acknowledged %d, lost %d, duplicated %d",
		kills, totalTried, totalAcked, totalLost, dups)
	if totalLost > 0 || dups > 0 {
		t.Fatalf("%d acknowledged jobs lost, %d duplicated", totalLost, dups)
	}
	next := c.Submit(api.JobSpec{Hold: true, Script: "#!/bin/sh\ntrue\n"})
	if next <= maxID {
		t.Fatalf("job ID %d reused (max before restart %d)", next, maxID)
	}
	// The node reconnects to the restarted controller and runs work.
	c.WaitNodesUp(1, 20*time.Second)
	id := c.Submit(api.JobSpec{Script: "#!/bin/sh\necho after restart\n", WorkDir: dir})
	if j := c.WaitJob(id, 30*time.Second); j.State != api.StateCompleted {
		t.Fatalf("job after restart: %s (%s)", j.State, j.Reason)
	}
}

// submitUntilKill runs 4 submitting clients, kills the controller with
// SIGKILL once at least 200 submissions are acknowledged (or 20 s passed),
// and returns the acknowledged IDs and the number of attempts.
func submitUntilKill(t *testing.T, c *Cluster, spec api.JobSpec) ([]api.JobID, int) {
	var mu sync.Mutex
	var acked []api.JobID
	tried := 0
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cl := rpc.Dial(c.Socket)
			defer cl.Close()
			for {
				select {
				case <-stop:
					return
				default:
				}
				var resp api.SubmitResponse
				ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
				err := cl.Call(ctx, api.PathSubmit, &api.SubmitRequest{Spec: spec}, &resp)
				cancel()
				mu.Lock()
				tried++
				if err == nil { // else the controller is down: not acknowledged
					acked = append(acked, resp.JobID)
				}
				mu.Unlock()
			}
		}()
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		mu.Lock()
		n := len(acked)
		mu.Unlock()
		if n >= 200 || time.Now().After(deadline) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	c.KillController()
	time.Sleep(100 * time.Millisecond)
	close(stop)
	wg.Wait()
	return acked, tried
}

// kill -9 of the node daemon while a job runs: the job keeps running under
// its supervisor, and after gnoded restarts its real exit status reaches the
// controller.
func TestNodeDaemonKill9KeepsJobAndReportsExit(t *testing.T) {
	c := Start(t, Options{Binaries: true, NodeTimeout: 20 * time.Second})
	dir := c.WorkDir(0, 0)
	marker := filepath.Join(dir, "started")
	id := c.Submit(api.JobSpec{WorkDir: dir, Script: "#!/bin/sh\ntouch " + marker + "\nsleep 3\necho finished\nexit 5\n"})
	c.WaitFor(id, 30*time.Second, func(j api.Job) bool {
		_, err := os.Stat(marker)
		return j.State == api.StateRunning && err == nil
	})
	c.KillNode(1)
	// The job ends while its node daemon is dead.
	deadline := time.Now().Add(20 * time.Second)
	for readOutMaybe(dir, id) != "finished\n" {
		if time.Now().After(deadline) {
			t.Fatalf("job did not finish while gnoded was down; output %q", readOutMaybe(dir, id))
		}
		time.Sleep(50 * time.Millisecond)
	}
	if j := c.Job(id); j.State != api.StateRunning {
		t.Fatalf("controller already decided %s without the node", j.State)
	}
	c.RestartNode(1)
	j := c.WaitJob(id, 30*time.Second)
	if j.State != api.StateFailed || j.ExitCode != 5 {
		t.Fatalf("after gnoded restart: %s exit %d (%s), want FAILED exit 5", j.State, j.ExitCode, j.Reason)
	}
}

func readOutMaybe(dir string, id api.JobID) string {
	b, _ := os.ReadFile(filepath.Join(dir, "gsched-"+id.String()+".out"))
	return string(b)
}

// A node that stops heartbeating goes DOWN and its --no-requeue jobs end
// NODE_FAIL; when it comes back, the job's container (an orphan now) is
// killed, not left running twice.
func TestSilentNodeGoesDownAndOrphanIsKilled(t *testing.T) {
	c := Start(t, Options{Nodes: 2, Heartbeat: 300 * time.Millisecond, NodeTimeout: 2 * time.Second})
	dir := c.WorkDir(0, 0)
	id := c.Submit(api.JobSpec{WorkDir: dir, NoRequeue: true, Script: "#!/bin/sh\necho up\nsleep 300\n"})
	j := c.WaitFor(id, 30*time.Second, func(j api.Job) bool { return j.State == api.StateRunning && readOutMaybe(dir, id) == "up\n" })
	node := 1
	if j.Allocs[0].Node == "n2" {
		node = 2
	}
	c.KillNode(node)
	j = c.WaitJob(id, 15*time.Second)
	if j.State != api.StateNodeFail {
		t.Fatalf("state %s, want NODE_FAIL", j.State)
	}
	var down bool
	for _, n := range c.Nodes().Nodes {
		down = down || (n.Name == j.Allocs[0].Node && n.State == api.NodeDown)
	}
	if !down {
		t.Fatalf("node %s not DOWN", j.Allocs[0].Node)
	}
	c.RestartNode(node)
	c.WaitNodesUp(2, 20*time.Second)
	// The orphan's task record is destroyed once it has been killed and
	// reported.
	taskDir := filepath.Join(c.Dir, "node-"+j.Allocs[0].Node, "tasks", "job-"+id.String())
	deadline := time.Now().Add(20 * time.Second)
	for {
		if _, err := os.Stat(taskDir); os.IsNotExist(err) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("orphaned task %s still present", taskDir)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if j := c.Job(id); j.State != api.StateNodeFail {
		t.Fatalf("the late report changed the final state to %s", j.State)
	}
}

// A batch job on a node that fails goes back to the queue and runs again on
// the other node as attempt 1 (GSCHED_RESTART_COUNT=1, output appended);
// when the failed node returns, its container of attempt 0 is killed.
// GSCHED_FAULT_REQUEUES repeats the node failure (make faults), each time
// on the node the job runs on now, for the requeue latency's spread.
func TestNodeFailureRequeuesJob(t *testing.T) {
	rounds := envCount(t, "GSCHED_FAULT_REQUEUES", 1)
	c := Start(t, Options{Nodes: 2, Heartbeat: 300 * time.Millisecond, NodeTimeout: 2 * time.Second})
	dir := c.WorkDir(0, 0)
	id := c.Submit(api.JobSpec{WorkDir: dir, Script: "#!/bin/sh\necho run $GSCHED_RESTART_COUNT $SLURM_RESTART_COUNT\nsleep 300\n"})
	j := c.WaitFor(id, 30*time.Second, func(j api.Job) bool {
		return j.State == api.StateRunning && readOutMaybe(dir, id) == "run 0 0\n"
	})
	want := "run 0 0\n"
	var lat []time.Duration
	for r := 1; r <= rounds; r++ {
		first := j.Allocs[0].Node
		node := 1
		if first == "n2" {
			node = 2
		}
		line := fmt.Sprintf("run %d %d\n", r, r)
		killed := time.Now()
		c.KillNode(node)
		j = c.WaitFor(id, 30*time.Second, func(j api.Job) bool {
			return j.State == api.StateRunning && j.Restarts == r && strings.Contains(readOutMaybe(dir, id), line)
		})
		lat = append(lat, time.Since(killed))
		t.Logf("FAULTS requeue %d/%d: node kill to the job running again elsewhere: %v (node timeout 2s)",
			r, rounds, lat[r-1].Round(time.Millisecond))
		if j.Allocs[0].Node == first {
			t.Fatalf("requeued job back on the DOWN node %s", first)
		}
		want += line
		if out := readOutMaybe(dir, id); out != want {
			t.Fatalf("output %q: want every run, appended: %q", out, want)
		}
		c.RestartNode(node)
		c.WaitNodesUp(2, 20*time.Second)
		orphan := filepath.Join(c.Dir, "node-"+first, "tasks", "job-"+id.String())
		deadline := time.Now().Add(20 * time.Second)
		for {
			if _, err := os.Stat(orphan); os.IsNotExist(err) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("attempt %d on %s still present: %s", r-1, first, orphan)
			}
			time.Sleep(50 * time.Millisecond)
		}
		if j = c.Job(id); j.State != api.StateRunning || j.Restarts != r || j.Allocs[0].Node == first {
			t.Fatalf("the orphan's report changed the job: %+v", j)
		}
	}
	slices.Sort(lat)
	t.Logf("FAULTS requeue: node failures %d, min %v, median %v, max %v, node timeout 2s, heartbeat 300ms", rounds,
		lat[0].Round(time.Millisecond), lat[len(lat)/2].Round(time.Millisecond), lat[len(lat)-1].Round(time.Millisecond))
	if r := c.CLI(0, 0, dir, "gcancel", id.String()); r.Code != 0 {
		t.Fatalf("gcancel: %d %s", r.Code, r.Stderr)
	}
	if j := c.WaitJob(id, 20*time.Second); j.State != api.StateCancelled {
		t.Fatalf("after gcancel: %s", j.State)
	}
}

// envCount reads a positive count from the environment, def when unset.
func envCount(t *testing.T, name string, def int) int {
	t.Helper()
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		t.Fatalf("%s=%q: want a count", name, s)
	}
	return n
}
