package testcluster

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gsched/gsched/pkg/api"
	"github.com/gsched/gsched/pkg/config"
)

// EASY backfill through the controller: a big job blocked behind a running
// one holds a reservation; a short small job starts ahead of it, a long
// small job (which would delay the big one) does not.
func TestBackfillStartsShortJobAheadOfBlockedBigOne(t *testing.T) {
	c := Start(t, Options{CPUsPerNode: 4, Configure: func(cf *config.Config) {
		cf.Scheduler.Backfill = "easy"
		cf.Scheduler.BFResolution = config.Duration{}
	}})
	sleeper := "#!/bin/sh\nsleep 300\n"
	running := c.Submit(api.JobSpec{Name: "running", NTasks: 2, TimeLimit: 600, Script: sleeper})
	c.WaitFor(running, 20*time.Second, func(j api.Job) bool { return j.State == api.StateRunning })
	big := c.Submit(api.JobSpec{Name: "big", NTasks: 4, TimeLimit: 600, Script: sleeper})
	long := c.Submit(api.JobSpec{Name: "long", NTasks: 1, TimeLimit: 3600, Script: sleeper})
	short := c.Submit(api.JobSpec{Name: "short", NTasks: 1, TimeLimit: 60, Script: sleeper})

	c.WaitFor(short, 20*time.Second, func(j api.Job) bool { return j.State == api.StateRunning })
	b := c.WaitFor(big, 10*time.Second, func(j api.Job) bool { return !j.ExpectedStart.IsZero() })
	if b.State != api.StatePending || b.Reason != api.ReasonResources {
		t.Fatalf("big job: %s (%s)", b.State, b.Reason)
	}
	r := c.Job(running)
	if want := r.Deadline; b.ExpectedStart.Before(want.Add(-time.Second)) || b.ExpectedStart.After(want.Add(time.Second)) {
		t.Fatalf("big job expected at %v, want the running job's end %v", b.ExpectedStart, want)
	}
	if l := c.Job(long); l.State != api.StatePending || l.Reason != api.ReasonPriority {
		t.Fatalf("long small job: %s (%s), want PENDING (Priority): it would delay the reservation", l.State, l.Reason)
	}
	out := c.CLI(0, 0, c.Dir, "gqueue", "--start")
	if out.Code != 0 || !strings.Contains(out.Stdout, "big") || strings.Contains(lineOf(out.Stdout, "big"), "N/A") {
		t.Fatalf("gqueue --start does not show the big job's start:\n%s%s", out.Stdout, out.Stderr)
	}
}

func lineOf(text, word string) string {
	for _, l := range strings.Split(text, "\n") {
		if strings.Contains(l, word) {
			return l
		}
	}
	return ""
}

// Fair-share through the controller: after nobody's account has used the
// cluster, daemon's job (submitted later) is ranked and started first.
func TestFairShareReordersAccounts(t *testing.T) {
	const daemonUID = 1
	c := Start(t, Options{CPUsPerNode: 1, Configure: func(cf *config.Config) {
		cf.Scheduler.Backfill = "none"
		cf.Accounts = []config.AccountConfig{
			{Name: "alpha", Shares: 1, Users: []string{"nobody"}},
			{Name: "beta", Shares: 1, Users: []string{"daemon"}},
			{Name: "ops", Shares: 1, Users: []string{"root"}},
		}
	}})
	nobodyDir, daemonDir := c.WorkDir(nobody, nobody), c.WorkDir(daemonUID, daemonUID)
	submit := func(uid int, dir string, args ...string) api.JobID {
		t.Helper()
		r := c.CLI(uid, uid, dir, "gsub", append([]string{"--parsable"}, args...)...)
		id, err := strconv.ParseUint(strings.TrimSpace(r.Stdout), 10, 64)
		if r.Code != 0 || err != nil {
			t.Fatalf("gsub as uid %d: code %d out %q err %q", uid, r.Code, r.Stdout, r.Stderr)
		}
		return api.JobID(id)
	}
	// nobody (account alpha) uses the cluster for a while.
	used := submit(nobody, nobodyDir, "--wait", "-t", "1", "--wrap", "sleep 2")
	if j := c.Job(used); j.State != api.StateCompleted || j.Spec.Account != "alpha" {
		t.Fatalf("usage job: %s account %q", j.State, j.Spec.Account)
	}
	// Occupy the only CPU, then queue nobody's job before daemon's.
	blocker := c.Submit(api.JobSpec{Name: "blocker", TimeLimit: 60, Script: "#!/bin/sh\nsleep 3\n"})
	c.WaitFor(blocker, 20*time.Second, func(j api.Job) bool { return j.State == api.StateRunning })
	first := submit(nobody, nobodyDir, "-t", "1", "--wrap", "sleep 1")
	second := submit(daemonUID, daemonDir, "-t", "1", "--wrap", "sleep 1")

	pr := c.CLI(0, 0, c.Dir, "gqueue", "--priority")
	if pr.Code != 0 || !strings.Contains(pr.Stdout, "FAIRSHARE") {
		t.Fatalf("gqueue --priority: %d %s %s", pr.Code, pr.Stdout, pr.Stderr)
	}
	a, b := c.Job(first), c.Job(second)
	if a.State != api.StatePending || b.State != api.StatePending || b.Priority <= a.Priority {
		t.Fatalf("while queued: nobody's job %s prio %d, daemon's job %s prio %d; want daemon's higher\n%s",
			a.State, a.Priority, b.State, b.Priority, pr.Stdout)
	}
	a = c.WaitJob(first, 60*time.Second)
	b = c.WaitJob(second, 60*time.Second)
	if !b.StartTime.Before(a.StartTime) {
		t.Fatalf("daemon's job started %v, nobody's %v: fair-share did not reorder them", b.StartTime, a.StartTime)
	}
	sh := c.CLI(0, 0, c.Dir, "gshare")
	if sh.Code != 0 || !strings.Contains(sh.Stdout, "alpha") || !strings.Contains(sh.Stdout, "nobody") {
		t.Fatalf("gshare: %d\n%s%s", sh.Code, sh.Stdout, sh.Stderr)
	}
}

// QOS preemption through the whole system: a high-QOS job stops a running
// low-QOS one. In REQUEUE mode the victim runs again afterwards (appending
// to its output, GSCHED_RESTART_COUNT=1); in CANCEL mode it ends CANCELLED.
func TestPreemption(t *testing.T) {
	for _, mode := range []string{"requeue", "cancel"} {
		t.Run(mode, func(t *testing.T) {
			c := Start(t, Options{CPUsPerNode: 1, KillWait: 5 * time.Second, Configure: func(cf *config.Config) {
				cf.QOS = []config.QOSConfig{
					{Name: "low", PreemptMode: mode, GraceTime: config.Duration{Duration: time.Second}},
					{Name: "high", Priority: 100, Preempt: []string{"low"}},
				}
				cf.Partitions[0].DefaultQOS = "low"
			}})
			dir := c.WorkDir(0, 0)
			low := c.Submit(api.JobSpec{Name: "low", WorkDir: dir, TimeLimit: 600,
				Script: "#!/bin/bash\necho run $GSCHED_RESTART_COUNT\nif [ $GSCHED_RESTART_COUNT = 0 ]; then sleep 300; fi\n"})
			c.WaitFor(low, 20*time.Second, func(j api.Job) bool { return j.State == api.StateRunning && readOutMaybe(dir, low) != "" })
			high := c.Submit(api.JobSpec{Name: "high", QOS: "high", WorkDir: dir, TimeLimit: 60, Script: "#!/bin/sh\necho high\n"})
			if j := c.WaitJob(high, 30*time.Second); j.State != api.StateCompleted {
				t.Fatalf("high-QOS job: %s (%s)", j.State, j.Reason)
			}
			if mode == "cancel" {
				j := c.WaitJob(low, 20*time.Second)
				if j.State != api.StateCancelled || j.Reason != api.ReasonPreempted {
					t.Fatalf("preempted job: %s (%s), want CANCELLED (Preempted)", j.State, j.Reason)
				}
				return
			}
			j := c.WaitJob(low, 30*time.Second)
			if j.State != api.StateCompleted || j.Restarts != 1 {
				t.Fatalf("requeued job: %s restarts %d (%s)", j.State, j.Restarts, j.Reason)
			}
			if out := readOutMaybe(dir, low); out != "run 0\nrun 1\n" {
				t.Fatalf("requeued job's output %q: want both runs, appended", out)
			}
			if h := c.Job(high); !h.StartTime.Before(j.StartTime) {
				t.Fatalf("the requeued job restarted (%v) before the high-QOS job ran (%v)", j.StartTime, h.StartTime)
			}
		})
	}
}

// QOS limits through the controller: a job over MaxJobsPerUser waits with
// the limit as its reason (and runs once the first job ends); a job that
// could never run under MaxTRESPerUser is refused at submission.
func TestQOSLimits(t *testing.T) {
	c := Start(t, Options{CPUsPerNode: 4, GPUsPerNode: 2, Configure: func(cf *config.Config) {
		cf.QOS = []config.QOSConfig{{Name: "normal", MaxJobsPerUser: 1, MaxTRESPerUser: "gpu=1"}}
		cf.Partitions[0].DefaultQOS = "normal"
	}})
	first := c.Submit(api.JobSpec{TimeLimit: 60, Script: "#!/bin/sh\nsleep 2\n"})
	second := c.Submit(api.JobSpec{TimeLimit: 60, Script: "#!/bin/sh\ntrue\n"})
	c.WaitFor(first, 20*time.Second, func(j api.Job) bool { return j.State == api.StateRunning })
	j := c.WaitFor(second, 10*time.Second, func(j api.Job) bool { return j.Reason != api.ReasonNone })
	if j.State != api.StatePending || j.Reason != api.ReasonQOSMaxJobsPerUser {
		t.Fatalf("second job: %s (%s), want PENDING (%s)", j.State, j.Reason, api.ReasonQOSMaxJobsPerUser)
	}
	if j := c.WaitJob(second, 30*time.Second); j.State != api.StateCompleted {
		t.Fatalf("second job after the first ended: %s", j.State)
	}
	r := c.CLI(0, 0, c.Dir, "gsub", "--gpus=2", "--wrap", "true")
	if r.Code == 0 || !strings.Contains(r.Stderr, "MaxTRESPerUser") {
		t.Fatalf("a job over MaxTRESPerUser: code %d stderr %q", r.Code, r.Stderr)
	}
}
