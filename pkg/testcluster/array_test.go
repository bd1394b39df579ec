package testcluster

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gsched/gsched/pkg/api"
)

// gsubID runs gsub --parsable as nobody in dir and returns the job ID.
func gsubID(t *testing.T, c *Cluster, dir string, args ...string) api.JobID {
	t.Helper()
	r := c.CLI(nobody, nobody, dir, "gsub", append([]string{"--parsable"}, args...)...)
	n, err := strconv.ParseUint(strings.TrimSpace(r.Stdout), 10, 64)
	if r.Code != 0 || err != nil {
		t.Fatalf("gsub %v: code %d out %q err %q", args, r.Code, r.Stdout, r.Stderr)
	}
	return api.JobID(n)
}

// An #SBATCH array script runs unchanged: one submission makes six tasks,
// %A_%a names their output, SLURM_ARRAY_* describe the array, and the %2
// throttle keeps at most two running at once.
func TestArrayJob(t *testing.T) {
	c := Start(t, Options{CPUsPerNode: 4})
	dir := c.WorkDir(nobody, nobody)
	script := "#!/bin/sh\n#SBATCH --array=0-10:2%2 -o %A_%a.out\n#SBATCH -J sweep\n" +
		"echo $SLURM_ARRAY_JOB_ID $SLURM_ARRAY_TASK_ID $SLURM_ARRAY_TASK_COUNT $SLURM_ARRAY_TASK_MIN $SLURM_ARRAY_TASK_MAX $SLURM_ARRAY_TASK_STEP $SLURM_JOB_ID\nsleep 0.3\n"
	if err := os.WriteFile(filepath.Join(dir, "array.sh"), []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	arr := gsubID(t, c, dir, "array.sh")
	var tasks []api.Job
	for k := 0; k < 6; k++ {
		j := c.WaitJob(arr+api.JobID(k), 60*time.Second)
		if j.State != api.StateCompleted || j.ArrayJobID != arr || j.ArrayTaskID != 2*k {
			t.Fatalf("task %d: job %d state %s array %d task %d", k, j.ID, j.State, j.ArrayJobID, j.ArrayTaskID)
		}
		b, err := os.ReadFile(filepath.Join(dir, arr.String()+"_"+strconv.Itoa(2*k)+".out"))
		if err != nil {
			t.Fatal(err)
		}
		want := arr.String() + " " + strconv.Itoa(2*k) + " 6 0 10 2 " + j.ID.String() + "\n"
		if string(b) != want {
			t.Fatalf("task %d printed %q, want %q", 2*k, b, want)
		}
		tasks = append(tasks, j)
	}
	// The throttle: at no task's start were two others running.
	for _, a := range tasks {
		running := 0
		for _, b := range tasks {
			if !b.StartTime.After(a.StartTime) && b.EndTime.After(a.StartTime) {
				running++
			}
		}
		if running > 2 {
			t.Fatalf("%d tasks were running when task %d started (throttle 2)", running, a.ArrayTaskID)
		}
	}
	if r := c.CLI(nobody, nobody, dir, "gacct", "-j", arr.String()); r.Code != 0 || !strings.Contains(r.Stdout, "COMPLETED") {
		t.Fatalf("gacct -j %d: code %d out %q err %q", arr, r.Code, r.Stdout, r.Stderr)
	}
}

// gcancel ID_TASK cancels one task, gcancel ID the rest of the array.
func TestCancelArrayTasks(t *testing.T) {
	c := Start(t, Options{})
	dir := c.WorkDir(nobody, nobody)
	arr := gsubID(t, c, dir, "--hold", "--array=0-4", "--wrap", "true")
	if r := c.CLI(nobody, nobody, dir, "gcancel", arr.String()+"_3"); r.Code != 0 {
		t.Fatalf("gcancel %d_3: code %d err %q", arr, r.Code, r.Stderr)
	}
	for k := 0; k < 5; k++ {
		want := api.StatePending
		if k == 3 {
			want = api.StateCancelled
		}
		if j := c.Job(arr + api.JobID(k)); j.State != want {
			t.Fatalf("after gcancel %d_3, task %d is %s", arr, k, j.State)
		}
	}
	if r := c.CLI(nobody, nobody, dir, "gcancel", arr.String()+"_9"); r.Code == 0 || !strings.Contains(r.Stderr, "no array task") {
		t.Fatalf("gcancel of a task the array lacks: code %d err %q", r.Code, r.Stderr)
	}
	if r := c.CLI(nobody, nobody, dir, "gcancel", arr.String()); r.Code != 0 {
		t.Fatalf("gcancel %d: code %d err %q", arr, r.Code, r.Stderr)
	}
	for k := 0; k < 5; k++ {
		if j := c.Job(arr + api.JobID(k)); j.State != api.StateCancelled {
			t.Fatalf("after gcancel %d, task %d is %s", arr, k, j.State)
		}
	}
}

// An afterok chain runs in order; afterok on a failed job leaves the
// dependent pending as DependencyNeverSatisfied, or cancels it with
// --kill-on-invalid-dep=yes; afternotok runs; a dependency on an unknown
// job is refused at submission.
func TestDependencies(t *testing.T) {
	c := Start(t, Options{CPUsPerNode: 4})
	dir := c.WorkDir(nobody, nobody)
	a := gsubID(t, c, dir, "--wrap", "sleep 0.5")
	b := gsubID(t, c, dir, "-d", "afterok:"+a.String(), "--wrap", "true")
	cc := gsubID(t, c, dir, "--dependency=afterok:"+b.String(), "--wrap", "true")
	fail := gsubID(t, c, dir, "--wrap", "exit 3")
	never := gsubID(t, c, dir, "-d", "afterok:"+fail.String(), "--wrap", "true")
	killed := gsubID(t, c, dir, "-d", "afterok:"+fail.String(), "--kill-on-invalid-dep=yes", "--wrap", "true")
	notok := gsubID(t, c, dir, "-d", "afternotok:"+fail.String(), "--wrap", "true")

	ja, jb, jc := c.WaitJob(a, 30*time.Second), c.WaitJob(b, 30*time.Second), c.WaitJob(cc, 30*time.Second)
	for _, j := range []api.Job{ja, jb, jc} {
		if j.State != api.StateCompleted {
			t.Fatalf("chain job %d ended %s (%s)", j.ID, j.State, j.Reason)
		}
	}
	if jb.StartTime.Before(ja.EndTime) || jc.StartTime.Before(jb.EndTime) {
		t.Fatalf("chain out of order: a ended %v, b started %v ended %v, c started %v", ja.EndTime, jb.StartTime, jb.EndTime, jc.StartTime)
	}
	if j := c.WaitJob(notok, 30*time.Second); j.State != api.StateCompleted {
		t.Fatalf("afternotok on a failed job ended %s (%s)", j.State, j.Reason)
	}
	if j := c.WaitJob(killed, 30*time.Second); j.State != api.StateCancelled || j.Reason != api.ReasonDependencyNever {
		t.Fatalf("--kill-on-invalid-dep=yes job: %s (%s)", j.State, j.Reason)
	}
	if j := c.WaitFor(never, 30*time.Second, func(j api.Job) bool { return j.Reason == api.ReasonDependencyNever }); j.State != api.StatePending {
		t.Fatalf("job whose dependency can never be satisfied is %s", j.State)
	}
	if r := c.CLI(nobody, nobody, dir, "gqueue", "-j", never.String()); r.Code != 0 || !strings.Contains(r.Stdout, api.ReasonDependencyNever) {
		t.Fatalf("gqueue does not show DependencyNeverSatisfied: %q %q", r.Stdout, r.Stderr)
	}
	if r := c.CLI(nobody, nobody, dir, "gsub", "-d", "afterok:999999", "--wrap", "true"); r.Code == 0 || !strings.Contains(r.Stderr, "job dependency problem") {
		t.Fatalf("dependency on an unknown job: code %d err %q", r.Code, r.Stderr)
	}
	// --begin holds a job until its time.
	later := gsubID(t, c, dir, "--begin=now+1hour", "--wrap", "true")
	if j := c.WaitFor(later, 10*time.Second, func(j api.Job) bool { return j.Reason == api.ReasonBeginTime }); j.State != api.StatePending {
		t.Fatalf("--begin job is %s", j.State)
	}
}
