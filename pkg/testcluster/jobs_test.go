package testcluster

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gsched/gsched/pkg/api"
	"github.com/gsched/gsched/pkg/config"
)

const nobody = 65534

func readOut(t *testing.T, dir string, id api.JobID) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "gsched-"+id.String()+".out"))
	if err != nil {
		t.Fatalf("job %d output: %v", id, err)
	}
	return string(b)
}

// A non-root user submits through the real CLI; the job runs with that
// uid/gid, its output file belongs to the user, and gsub --wait returns
// the job's exit code.
func TestNonRootSubmitterRunsAsThemselves(t *testing.T) {
	c := Start(t, Options{})
	dir := c.WorkDir(nobody, nobody)
	r := c.CLI(nobody, nobody, dir, "gsub", "--wait", "--parsable", "--wrap", "echo uid=$(id -u) gid=$(id -g); touch /etc/x 2>/dev/null || echo ro; exit 4")
	if r.Code != 4 {
		t.Fatalf("gsub --wait exit code %d, want 4 (the job's); stderr %q", r.Code, r.Stderr)
	}
	id, err := strconv.ParseUint(strings.TrimSpace(r.Stdout), 10, 64)
	if err != nil {
		t.Fatalf("--parsable printed %q", r.Stdout)
	}
	out := readOut(t, dir, api.JobID(id))
	if out != "uid=65534 gid=65534\nro\n" {
		t.Fatalf("job output %q", out)
	}
	st, err := os.Stat(filepath.Join(dir, "gsched-"+strconv.FormatUint(id, 10)+".out"))
	if err != nil {
		t.Fatal(err)
	}
	if sys := st.Sys().(*syscall.Stat_t); sys.Uid != nobody {
		t.Fatalf("output file owned by uid %d, want %d", sys.Uid, nobody)
	}
	j := c.Job(api.JobID(id))
	if j.User != "nobody" || j.UID != nobody || j.State != api.StateFailed || j.ExitCode != 4 {
		t.Fatalf("job record %+v", j)
	}
	// The user sees the job with gqueue/gacct.
	if r := c.CLI(nobody, nobody, dir, "gacct", "-j", strconv.FormatUint(id, 10)); r.Code != 0 || !strings.Contains(r.Stdout, "FAILED") || !strings.Contains(r.Stdout, "4:0") {
		t.Fatalf("gacct: code %d out %q err %q", r.Code, r.Stdout, r.Stderr)
	}
}

// A user cannot write where they could not write on the host, even though
// the node daemon (root) sets the job up.
func TestOutputFileCreatedAsUser(t *testing.T) {
	c := Start(t, Options{})
	dir := c.WorkDir(0, 0) // root-owned, 0755: nobody cannot create files here
	work := c.WorkDir(nobody, nobody)
	r := c.CLI(nobody, nobody, work, "gsub", "--wait", "--parsable", "-o", filepath.Join(dir, "stolen.out"), "--wrap", "echo hi")
	if r.Code == 0 {
		t.Fatalf("job writing into a root-owned dir succeeded; stdout %q", r.Stdout)
	}
	if _, err := os.Stat(filepath.Join(dir, "stolen.out")); !os.IsNotExist(err) {
		t.Fatalf("output file was created in a dir the user cannot write: %v", err)
	}
}

func TestMemoryLimitEndsOutOfMemory(t *testing.T) {
	c := Start(t, Options{})
	id := c.Submit(api.JobSpec{MemBytes: 64 << 20, Script: "#!/bin/bash\nhead -c 600M /dev/zero | tail\necho survived\n"})
	j := c.WaitJob(id, 60*time.Second)
	if j.State != api.StateOutOfMemory {
		t.Fatalf("state %s (%s) exit %d, want OUT_OF_MEMORY", j.State, j.Reason, j.ExitCode)
	}
}

func TestTimeLimitEndsTimeout(t *testing.T) {
	c := Start(t, Options{KillWait: 2 * time.Second})
	dir := c.WorkDir(0, 0)
	script := "#!/bin/bash\ntrap 'echo got TERM; exit 143' TERM\necho start\nsleep 60 & wait\n"
	start := time.Now()
	id := c.Submit(api.JobSpec{TimeLimit: 1, Script: script, WorkDir: dir})
	j := c.WaitJob(id, 30*time.Second)
	if j.State != api.StateTimeout {
		t.Fatalf("state %s (%s), want TIMEOUT", j.State, j.Reason)
	}
	if el := time.Since(start); el > 15*time.Second {
		t.Fatalf("time limit of 1s took %s to enforce", el)
	}
	if out := readOut(t, dir, id); out != "start\ngot TERM\n" {
		t.Fatalf("output %q: SIGTERM should reach the script before SIGKILL", out)
	}
}

// A job opens its allocated (fake) GPU — the device cgroup lets it through
// to a driver that is not there (ENXIO) — and is refused (EPERM) on a GPU
// it was not allocated, even through a device node it can see.
func TestGPUDeviceIsolation(t *testing.T) {
	c := Start(t, Options{GPUsPerNode: 2})
	dir := c.WorkDir(0, 0)
	other := c.FakeGPUPath(1, 1)
	script := "#!/bin/bash\n" +
		"echo visible=$CUDA_VISIBLE_DEVICES jobgpus=$GSCHED_JOB_GPUS\n" +
		"ls /dev | grep nvidia\n" +
		"( exec 3<>/dev/nvidia0 ) 2>&1 | sed 's/.*: //'\n" +
		"( exec 3<>" + other + " ) 2>&1 | sed 's/.*: //'\n"
	id := c.Submit(api.JobSpec{GPUs: 1, Script: script, WorkDir: dir})
	j := c.WaitJob(id, 30*time.Second)
	if j.State != api.StateCompleted || len(j.Allocs[0].GPUs) != 1 || j.Allocs[0].GPUs[0] != 0 {
		t.Fatalf("job %+v", j)
	}
	want := "visible=0 jobgpus=0\nnvidia0\nNo such device or address\nOperation not permitted\n"
	if out := readOut(t, dir, id); out != want {
		t.Fatalf("output:\n%s\nwant:\n%s", out, want)
	}
}

func TestCancelRunningJob(t *testing.T) {
	c := Start(t, Options{})
	dir := c.WorkDir(0, 0)
	id := c.Submit(api.JobSpec{WorkDir: dir, Script: "#!/bin/bash\necho running\nsleep 300\n"})
	c.WaitFor(id, 30*time.Second, func(j api.Job) bool {
		b, _ := os.ReadFile(filepath.Join(dir, "gsched-"+id.String()+".out"))
		return j.State == api.StateRunning && len(b) > 0
	})
	r := c.CLI(0, 0, dir, "gcancel", id.String())
	if r.Code != 0 {
		t.Fatalf("gcancel: %d %q", r.Code, r.Stderr)
	}
	start := time.Now()
	j := c.WaitJob(id, 20*time.Second)
	if j.State != api.StateCancelled {
		t.Fatalf("state %s, want CANCELLED", j.State)
	}
	if el := time.Since(start); el > 10*time.Second {
		t.Fatalf("cancel took %s", el)
	}
	// Its resources are free again: a job needing the whole node runs.
	id2 := c.Submit(api.JobSpec{NTasks: 2, Script: "#!/bin/sh\ntrue\n"})
	if j := c.WaitJob(id2, 20*time.Second); j.State != api.StateCompleted {
		t.Fatalf("follow-up job %s", j.State)
	}
}

func TestCancelPendingAndOthersJobs(t *testing.T) {
	c := Start(t, Options{})
	id := c.Submit(api.JobSpec{Hold: true, Script: "#!/bin/sh\ntrue\n"})
	if j := c.Job(id); j.State != api.StatePending || j.Reason != api.ReasonHeld {
		t.Fatalf("held job: %s %s", j.State, j.Reason)
	}
	dir := c.WorkDir(nobody, nobody)
	r := c.CLI(nobody, nobody, dir, "gcancel", id.String())
	if r.Code == 0 || !strings.Contains(r.Stderr, "permission denied") {
		t.Fatalf("nobody cancelling root's job: code %d stderr %q", r.Code, r.Stderr)
	}
	if j := c.Job(id); j.State != api.StatePending {
		t.Fatalf("refused cancel changed the job: %s", j.State)
	}
	// Others' scripts are not shown to non-operators.
	r = c.CLI(nobody, nobody, dir, "gqueue", "--json")
	if r.Code != 0 || strings.Contains(r.Stdout, "#!/bin/sh") || !strings.Contains(r.Stdout, `"id": `+id.String()) {
		t.Fatalf("gqueue --json as nobody: code %d\n%s", r.Code, r.Stdout)
	}
	if r := c.CLI(0, 0, dir, "gcancel", id.String()); r.Code != 0 {
		t.Fatalf("root gcancel: %d %s", r.Code, r.Stderr)
	}
	if j := c.Job(id); j.State != api.StateCancelled {
		t.Fatalf("state %s", j.State)
	}
}

func TestSignalReachesJob(t *testing.T) {
	c := Start(t, Options{})
	dir := c.WorkDir(0, 0)
	script := "#!/bin/bash\ntrap 'echo got USR1; exit 0' USR1\necho ready\nwhile true; do sleep 0.1; done\n"
	id := c.Submit(api.JobSpec{WorkDir: dir, Script: script})
	c.WaitFor(id, 30*time.Second, func(j api.Job) bool {
		b, _ := os.ReadFile(filepath.Join(dir, "gsched-"+id.String()+".out"))
		return j.State == api.StateRunning && strings.Contains(string(b), "ready")
	})
	cl := c.Client()
	defer cl.Close()
	var resp api.CancelResponse
	if err := cl.Call(context.Background(), api.PathCancel, &api.CancelRequest{IDs: []api.JobID{id}, Signal: int(syscall.SIGUSR1)}, &resp); err != nil || len(resp.Done) != 1 {
		t.Fatalf("signal: %v %+v", err, resp)
	}
	// gsched signals every process of the job (like scancel --full): the
	// script's trap runs, and bash also notes its child dying of USR1.
	j := c.WaitJob(id, 20*time.Second)
	if out := readOut(t, dir, id); j.State != api.StateCompleted || !strings.HasSuffix(out, "got USR1\n") {
		t.Fatalf("state %s, output %q", j.State, out)
	}
}

// With backfill off the scheduler keeps a big job's place: strict
// priority order per partition, a pending reason for each waiting job.
func TestPendingReasons(t *testing.T) {
	c := Start(t, Options{CPUsPerNode: 2, Configure: func(cf *config.Config) { cf.Scheduler.Backfill = "none" }})
	big := c.Submit(api.JobSpec{NTasks: 2, Script: "#!/bin/sh\nsleep 300\n"})
	c.WaitFor(big, 20*time.Second, func(j api.Job) bool { return j.State == api.StateRunning })
	blocked := c.Submit(api.JobSpec{NTasks: 2, Script: "#!/bin/sh\ntrue\n"})
	behind := c.Submit(api.JobSpec{NTasks: 1, Script: "#!/bin/sh\ntrue\n"})
	c.WaitFor(behind, 10*time.Second, func(j api.Job) bool { return j.Reason == api.ReasonPriority })
	if j := c.Job(blocked); j.State != api.StatePending || j.Reason != api.ReasonResources {
		t.Fatalf("blocked job: %s %s", j.State, j.Reason)
	}
	r := c.CLI(0, 0, c.Dir, "gqueue")
	if !strings.Contains(r.Stdout, "(Resources)") || !strings.Contains(r.Stdout, "(Priority)") {
		t.Fatalf("gqueue does not show reasons:\n%s", r.Stdout)
	}
	// Impossible requests are refused at submission with a clear reason.
	cl := c.Client()
	defer cl.Close()
	err := cl.Call(context.Background(), api.PathSubmit, &api.SubmitRequest{Spec: api.JobSpec{
		Name: "huge", GPUs: 64, WorkDir: c.Dir, Script: "#!/bin/sh\ntrue\n"}}, nil)
	if err == nil || !strings.Contains(err.Error(), "not available") {
		t.Fatalf("impossible job accepted or unclear error: %v", err)
	}
}

// Topology-aware GPU selection through the controller: on a node whose 4
// GPUs are NVLink-bridged in pairs (0-1, 2-3), a 2-GPU job arriving while
// GPU 0 is busy gets the intact pair 2-3, not 1-2 (lowest free indices).
func TestGPUSelectionFollowsTopology(t *testing.T) {
	c := Start(t, Options{CPUsPerNode: 4, GPUsPerNode: 4, Configure: func(cf *config.Config) {
		cf.Node.GPUTopology = "nvlink-pairs-4gpu"
	}})
	info := c.Nodes().Nodes[0]
	if info.Topology == nil || len(info.Topology.Links) != 4 {
		t.Fatalf("node registered without its topology: %+v", info.Topology)
	}
	one := c.Submit(api.JobSpec{GPUs: 1, Script: "#!/bin/sh\nsleep 300\n"})
	j1 := c.WaitFor(one, 20*time.Second, func(j api.Job) bool { return j.State == api.StateRunning })
	two := c.Submit(api.JobSpec{GPUs: 2, Script: "#!/bin/sh\necho $CUDA_VISIBLE_DEVICES $GSCHED_JOB_GPUS\n"})
	j2 := c.WaitJob(two, 30*time.Second)
	if j2.State != api.StateCompleted {
		t.Fatalf("2-GPU job: %s (%s)", j2.State, j2.Reason)
	}
	if len(j1.Allocs[0].GPUs) != 1 || j1.Allocs[0].GPUs[0] != 0 {
		t.Fatalf("1-GPU job got %v, want [0]", j1.Allocs[0].GPUs)
	}
	if got := j2.Allocs[0].GPUs; len(got) != 2 || got[0] != 2 || got[1] != 3 {
		t.Fatalf("2-GPU job got GPUs %v, want the NVLink pair [2 3]", got)
	}
}

// GPU types, GPU memory and node features through the controller: n1 has
// small "A10" GPUs, n2 big "H100" ones and the feature "ib".
func TestGPUTypesAndFeatures(t *testing.T) {
	c := Start(t, Options{Nodes: 2, GPUsPerNode: 2, ConfigureNode: func(i int, cf *config.Config) {
		model, mem := "NVIDIA A10", "24G"
		if i == 2 {
			model, mem = "NVIDIA H100 80GB HBM3", "80G"
			cf.Node.Features = []string{"ib"}
		}
		for k := range cf.Node.GPU {
			cf.Node.GPU[k].Model, cf.Node.GPU[k].Memory = model, mem
		}
	}})
	dir := c.WorkDir(0, 0)
	tests := []struct {
		name string
		args []string
		node string
	}{
		{"by type", []string{"--gpus=h100:1"}, "n2"},
		{"by gpu memory", []string{"--gpus=1", "--gpu-mem=40G"}, "n2"},
		{"by feature", []string{"-C", "ib"}, "n2"},
		{"small type", []string{"--gres=gpu:a10:2"}, "n1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := c.CLI(0, 0, dir, "gsub", append(append([]string{"--wait", "--parsable"}, tc.args...), "--wrap", "true")...)
			id, err := strconv.ParseUint(strings.TrimSpace(r.Stdout), 10, 64)
			if r.Code != 0 || err != nil {
				t.Fatalf("gsub %v: code %d out %q err %q", tc.args, r.Code, r.Stdout, r.Stderr)
			}
			if j := c.Job(api.JobID(id)); j.State != api.StateCompleted || j.NodeList() != tc.node {
				t.Fatalf("job on %q (%s), want %s", j.NodeList(), j.State, tc.node)
			}
		})
	}
	r := c.CLI(0, 0, dir, "gsub", "--gpus=b200:1", "--wrap", "true")
	if r.Code == 0 || !strings.Contains(r.Stderr, "not available") {
		t.Fatalf("a GPU type no node has: code %d stderr %q", r.Code, r.Stderr)
	}
}
