package testcluster

import (
	"strings"
	"testing"
	"time"

	"github.com/gsched/gsched/pkg/api"
)

// An operator drains a node with gcontrol: its running job goes on, no new
// job starts there; resume lets the waiting job start. Taking a node down
// requeues its job. A user may not change nodes, and the denial changes
// nothing.
func TestGcontrolDrainResumeDown(t *testing.T) {
	c := Start(t, Options{Nodes: 2, CPUsPerNode: 1})
	dir := c.WorkDir(0, 0) // c.Submit submits as root
	a := c.Submit(api.JobSpec{WorkDir: dir, Script: "#!/bin/sh\nsleep 300\n"})
	ja := c.WaitFor(a, 30*time.Second, func(j api.Job) bool { return j.State == api.StateRunning })
	busy := ja.Allocs[0].Node
	free := "n1"
	if busy == "n1" {
		free = "n2"
	}

	r := c.CLI(nobody, nobody, dir, "gcontrol", "update", "nodename="+free, "state=drain", "reason=maintenance")
	if r.Code == 0 || !strings.Contains(r.Stderr, "only operators") {
		t.Fatalf("user drain: %d %q", r.Code, r.Stderr)
	}
	for _, n := range []string{busy, free} {
		if r := c.CLI(0, 0, dir, "gcontrol", "update", "nodename="+n, "state=drain", "reason=maintenance"); r.Code != 0 {
			t.Fatalf("drain %s: %d %q", n, r.Code, r.Stderr)
		}
	}
	r = c.CLI(nobody, nobody, dir, "gcontrol", "show", "node", busy)
	if r.Code != 0 || !strings.Contains(r.Stdout, "State=DRAIN Reason=maintenance [root@") {
		t.Fatalf("show node: %d %q %q", r.Code, r.Stdout, r.Stderr)
	}
	b := c.Submit(api.JobSpec{WorkDir: dir, Script: "#!/bin/sh\ntrue\n"})
	time.Sleep(time.Second) // several scheduling passes
	if j := c.Job(b); j.State != api.StatePending {
		t.Fatalf("job %d on drained nodes: %s", b, j.State)
	}
	if j := c.Job(a); j.State != api.StateRunning {
		t.Fatalf("running job on a drained node: %s %q exit %d", j.State, j.Reason, j.ExitCode)
	}

	if r := c.CLI(0, 0, dir, "gcontrol", "update", "nodename="+free, "state=resume"); r.Code != 0 {
		t.Fatalf("resume: %d %q", r.Code, r.Stderr)
	}
	jb := c.WaitJob(b, 30*time.Second)
	if jb.State != api.StateCompleted || jb.Allocs[0].Node != free {
		t.Fatalf("job %d after resume: %s on %v", b, jb.State, jb.NodeNames())
	}

	if r := c.CLI(0, 0, dir, "gcontrol", "update", "nodename="+busy, "state=down", "reason=PSU"); r.Code != 0 {
		t.Fatalf("down: %d %q", r.Code, r.Stderr)
	}
	ja = c.WaitFor(a, 30*time.Second, func(j api.Job) bool { return j.Restarts == 1 && j.State == api.StateRunning })
	if ja.Allocs[0].Node != free {
		t.Fatalf("requeued job on %s", ja.Allocs[0].Node)
	}
	// Its daemon is alive and syncing, but the node stays DOWN.
	time.Sleep(time.Second)
	r = c.CLI(0, 0, dir, "gcontrol", "show", "node", busy)
	if !strings.Contains(r.Stdout, "State=DOWN Reason=PSU [root@") {
		t.Fatalf("node taken down came back by itself: %q %q", r.Stdout, r.Stderr)
	}
	if r := c.CLI(0, 0, dir, "gcontrol", "update", "nodename="+busy, "state=resume"); r.Code != 0 {
		t.Fatalf("resume: %d %q", r.Code, r.Stderr)
	}
	c.WaitNodesUp(2, 10*time.Second)
	if r := c.CLI(0, 0, dir, "gcancel", a.String()); r.Code != 0 {
		t.Fatalf("gcancel: %d %q", r.Code, r.Stderr)
	}
	c.WaitJob(a, 20*time.Second)
}
