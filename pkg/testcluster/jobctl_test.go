package testcluster

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gsched/gsched/pkg/api"
	"github.com/gsched/gsched/pkg/config"
)

// gcontrol hold, release, update job= and requeue, by a user on their own
// jobs and by an operator: a user's hold is JobHeldUser, an operator's
// JobHeldAdmin, which the user cannot release; a user may lower a time
// limit but not raise it; another user's job is refused; a requeued
// running job runs again with SLURM_RESTART_COUNT=1 and its output
// appended; a finished job can be requeued too.
func TestGcontrolHoldReleaseUpdateRequeue(t *testing.T) {
	c := Start(t, Options{CPUsPerNode: 1})
	dir := c.WorkDir(nobody, nobody)
	a := gsubID(t, c, dir, "-o", "a.out", "--wrap", "echo run $SLURM_RESTART_COUNT; exec sleep 300")
	c.WaitFor(a, 30*time.Second, func(j api.Job) bool { return j.State == api.StateRunning })
	b := gsubID(t, c, dir, "-t", "10:00", "--wrap", "true")
	gc := func(uid int, args ...string) Result {
		t.Helper()
		return c.CLI(uid, uid, dir, "gcontrol", args...)
	}
	ok := func(r Result) {
		t.Helper()
		if r.Code != 0 {
			t.Fatalf("gcontrol: exit %d: %s", r.Code, r.Stderr)
		}
	}
	reason := func(id api.JobID, want string) {
		t.Helper()
		c.WaitFor(id, 10*time.Second, func(j api.Job) bool { return j.State == api.StatePending && j.Reason == want })
	}

	ok(gc(nobody, "hold", b.String()))
	reason(b, api.ReasonHeld)
	ok(gc(nobody, "release", b.String()))
	reason(b, api.ReasonResources)
	ok(gc(0, "hold", b.String()))
	reason(b, api.ReasonHeldAdmin)
	if r := gc(nobody, "release", b.String()); r.Code != 1 || !strings.Contains(r.Stderr, "only an operator can release it") {
		t.Fatalf("user release of an operator's hold: %d %q", r.Code, r.Stderr)
	}
	reason(b, api.ReasonHeldAdmin)

	// Updates: lower the limit (user), raise it (refused; operator).
	ok(gc(nobody, "update", "jobid="+b.String(), "TimeLimit=5:00", "Comment=shorter", "JobName=bee"))
	if j := c.Job(b); j.Spec.TimeLimit != 300 || j.Spec.Comment != "shorter" || j.Spec.Name != "bee" {
		t.Fatalf("after update: limit %d comment %q name %q", j.Spec.TimeLimit, j.Spec.Comment, j.Spec.Name)
	}
	if r := gc(nobody, "update", "job="+b.String(), "timelimit=20:00"); r.Code != 1 || !strings.Contains(r.Stderr, "only operators may raise") {
		t.Fatalf("user raising the limit: %d %q", r.Code, r.Stderr)
	}
	if r := gc(nobody, "update", "job="+b.String(), "partition=nosuch"); r.Code != 1 || !strings.Contains(r.Stderr, "invalid partition") {
		t.Fatalf("update to an unknown partition: %d %q", r.Code, r.Stderr)
	}
	if r := gc(nobody, "update", "job="+a.String(), "timelimit=1:00"); r.Code != 1 || !strings.Contains(r.Stderr, "not pending") {
		t.Fatalf("update of a running job: %d %q", r.Code, r.Stderr)
	}
	ok(gc(0, "update", "job="+b.String(), "timelimit=20:00"))
	if j := c.Job(b); j.Spec.TimeLimit != 1200 {
		t.Fatalf("operator's update: limit %d", j.Spec.TimeLimit)
	}

	// Another user's job: refused, unchanged.
	root := c.Submit(api.JobSpec{WorkDir: dir, Hold: true, Script: "#!/bin/sh\ntrue\n"})
	if r := gc(nobody, "release", root.String()); r.Code != 1 || !strings.Contains(r.Stderr, "permission denied") {
		t.Fatalf("release of root's job by nobody: %d %q", r.Code, r.Stderr)
	}
	reason(root, api.ReasonHeld)

	// Requeue the running job (b stays held by the operator).
	out := filepath.Join(dir, "a.out")
	waitFile(t, out, "run 0\n")
	ok(gc(nobody, "requeue", a.String()))
	c.WaitFor(a, 30*time.Second, func(j api.Job) bool { return j.State == api.StateRunning && j.Restarts == 1 })
	waitFile(t, out, "run 0\nrun 1\n")
	// Requeue it once it has ended: a finished batch job goes back too.
	if r := c.CLI(nobody, nobody, dir, "gcancel", a.String()); r.Code != 0 {
		t.Fatalf("gcancel: %d %q", r.Code, r.Stderr)
	}
	c.WaitJob(a, 30*time.Second)
	ok(gc(nobody, "requeue", a.String()))
	c.WaitFor(a, 30*time.Second, func(j api.Job) bool { return j.State == api.StateRunning && j.Restarts == 2 })
	waitFile(t, out, "run 0\nrun 1\nrun 2\n")
	if r := gc(nobody, "requeue", b.String()); r.Code != 1 || !strings.Contains(r.Stderr, "nothing to requeue") {
		t.Fatalf("requeue of a pending job: %d %q", r.Code, r.Stderr)
	}
	if r := gc(nobody, "hold", a.String()+"_3"); r.Code != 1 || !strings.Contains(r.Stderr, "no array task") {
		t.Fatalf("hold of a task of a job that is no array: %d %q", r.Code, r.Stderr)
	}
}

// waitFile waits until the file holds want.
func waitFile(t *testing.T, path, want string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		b, _ := os.ReadFile(path)
		if string(b) == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s holds %q, want %q", path, b, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// gsub --nodelist and --exclude place jobs on named nodes only: a listed
// node is used (a two-node job takes it and another one not excluded), an
// excluded one never; an unknown name is refused at submission; a listed
// node that is drained keeps the job waiting with ReqNodeNotAvail until it
// is resumed.
func TestNodelistAndExclude(t *testing.T) {
	c := Start(t, Options{Nodes: 3})
	dir := c.WorkDir(nobody, nobody)
	a := gsubID(t, c, dir, "-w", "n3", "--wrap", "true")
	b := gsubID(t, c, dir, "--exclude=n[1-2]", "--wrap", "true")
	g := gsubID(t, c, dir, "-N", "2", "--nodelist=n2", "-x", "n1", "--wrap", "true")
	for id, want := range map[api.JobID]string{a: "n3", b: "n3", g: "n[2-3]"} {
		if j := c.WaitJob(id, 30*time.Second); j.State != api.StateCompleted || j.NodeList() != want {
			t.Fatalf("job %d: %s on %s, want COMPLETED on %s", id, j.State, j.NodeList(), want)
		}
	}
	if r := c.CLI(nobody, nobody, dir, "gsub", "-w", "n[3-4]", "--wrap", "true"); r.Code == 0 || !strings.Contains(r.Stderr, "invalid node name specified: n4") {
		t.Fatalf("gsub -w n[3-4]: %d %q", r.Code, r.Stderr)
	}
	if r := c.CLI(0, 0, dir, "gcontrol", "update", "nodename=n1", "state=drain", "reason=test"); r.Code != 0 {
		t.Fatalf("drain: %d %q", r.Code, r.Stderr)
	}
	d := gsubID(t, c, dir, "-w", "n1", "--wrap", "true")
	c.WaitFor(d, 10*time.Second, func(j api.Job) bool { return j.State == api.StatePending && j.Reason == api.ReasonNodeNotAvail })
	if r := c.CLI(0, 0, dir, "gcontrol", "update", "nodename=n1", "state=resume"); r.Code != 0 {
		t.Fatalf("resume: %d %q", r.Code, r.Stderr)
	}
	if j := c.WaitJob(d, 30*time.Second); j.State != api.StateCompleted || j.NodeList() != "n1" {
		t.Fatalf("job %d after resume: %s on %s", d, j.State, j.NodeList())
	}
}

// gsub --test-only on a busy node: the job would start when the running
// job's time limit ends (rounded up to bf_resolution, a minute here), on
// that node; on an idle cluster, now. Nothing is submitted.
func TestGsubTestOnly(t *testing.T) {
	c := Start(t, Options{CPUsPerNode: 1})
	dir := c.WorkDir(nobody, nobody)
	r := c.CLI(nobody, nobody, dir, "gsub", "--test-only", "--wrap", "true")
	if r.Code != 0 || !strings.HasPrefix(r.Stderr, "gsub: Job 0 to start at ") ||
		!strings.HasSuffix(r.Stderr, " using 1 processors on nodes n1 in partition main\n") || r.Stdout != "" {
		t.Fatalf("idle cluster: %d %q %q", r.Code, r.Stdout, r.Stderr)
	}
	busy := gsubID(t, c, dir, "-t", "2:00", "--wrap", "exec sleep 300")
	j := c.WaitFor(busy, 30*time.Second, func(j api.Job) bool { return j.State == api.StateRunning })
	want := j.Deadline.Truncate(time.Minute)
	if want.Before(j.Deadline) {
		want = want.Add(time.Minute)
	}
	r = c.CLI(nobody, nobody, dir, "gsub", "--test-only", "-t", "1:00", "--wrap", "true")
	line := "gsub: Job 0 to start at " + want.Local().Format("2006-01-02T15:04:05") + " using 1 processors on nodes n1 in partition main\n"
	if r.Code != 0 || r.Stderr != line {
		t.Fatalf("busy cluster: %d %q, want %q (the running job ends %s)", r.Code, r.Stderr, line, j.Deadline)
	}
	if next := gsubID(t, c, dir, "--hold", "--wrap", "true"); next != busy+1 {
		t.Fatalf("a dry run took a job ID: the next job is %d, want %d", next, busy+1)
	}
}

// --mail-type mails through controller.mail_program (here a script that
// appends its standard input to a file): BEGIN and END to the submitting
// user by default, FAIL to --mail-user.
func TestMailNotifications(t *testing.T) {
	tmp := t.TempDir()
	box := filepath.Join(tmp, "mailbox")
	prog := filepath.Join(tmp, "sendmail")
	if err := os.WriteFile(prog, []byte("#!/bin/sh\n[ \"$1\" = -t ] || exit 2\ncat >> "+box+"\necho . >> "+box+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	c := Start(t, Options{Configure: func(cfg *config.Config) { cfg.Controller.MailProgram = prog + " -t" }})
	dir := c.WorkDir(nobody, nobody)
	ok := gsubID(t, c, dir, "--mail-type=BEGIN,END", "-J", "hello", "--wrap", "true")
	bad := gsubID(t, c, dir, "--mail-type=fail", "--mail-user=ops@example.org", "-J", "oops", "--wrap", "exit 3")
	c.WaitJob(ok, 30*time.Second)
	c.WaitJob(bad, 30*time.Second)
	want := []string{
		"To: nobody\nSubject: gsched Job_id=" + ok.String() + " Name=hello Began, Queued time 00:00:0",
		"To: nobody\nSubject: gsched Job_id=" + ok.String() + " Name=hello Ended, Run time 00:00:0",
		", COMPLETED, ExitCode 0\n\nJob:",
		"To: ops@example.org\nSubject: gsched Job_id=" + bad.String() + " Name=oops Failed, Run time 00:00:0",
		", FAILED, ExitCode 3\n\nJob:",
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		b, _ := os.ReadFile(box)
		missing := ""
		for _, w := range want {
			if !strings.Contains(string(b), w) {
				missing = w
			}
		}
		if missing == "" {
			if n := strings.Count(string(b), "\n.\n"); n != 3 {
				t.Fatalf("%d mails, want 3:\n%s", n, b)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("mailbox lacks %q:\n%s", missing, b)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
