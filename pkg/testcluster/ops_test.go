package testcluster

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gsched/gsched/pkg/api"
	"github.com/gsched/gsched/pkg/config"
)

// writeScript writes an executable shell script.
func writeScript(t *testing.T, path, body string) string {
	t.Helper()
	if err := os.WriteFile(path, []byte("#!/bin/sh\n"+body), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

// waitNode polls node name until ok says yes.
func (c *Cluster) waitNode(name string, timeout time.Duration, ok func(api.NodeInfo) bool) api.NodeInfo {
	c.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		for _, n := range c.Nodes().Nodes {
			if n.Name == name && ok(n) {
				return n
			}
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("node %s: condition not met after %s: %+v", name, timeout, c.Nodes().Nodes)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// The health check drains a node when its program fails (reason: the
// first line of its output) or a declared GPU disappears, and brings it
// back when the check passes again; an operator's drain stays.
func TestNodeHealthCheckDrainsAndResumes(t *testing.T) {
	scripts := t.TempDir()
	flag := filepath.Join(scripts, "broken")
	prog := writeScript(t, filepath.Join(scripts, "hc.sh"), "if [ -e "+flag+" ]; then echo 'fan 3 failed'; echo detail; exit 1; fi\n")
	c := Start(t, Options{GPUsPerNode: 2, ConfigureNode: func(_ int, nc *config.Config) {
		nc.Node.HealthCheckProgram = prog
		nc.Node.HealthCheckInterval = config.Duration{Duration: time.Second}
	}})
	dir := c.WorkDir(0, 0)
	if n := c.waitNode("n1", 10*time.Second, func(n api.NodeInfo) bool { return n.Health != nil }); !n.Health.OK || n.State != api.NodeUp {
		t.Fatalf("healthy node: %s %+v", n.State, n.Health)
	}

	// The program fails.
	if err := os.WriteFile(flag, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	c.waitNode("n1", 10*time.Second, func(n api.NodeInfo) bool {
		return n.State == api.NodeDrain && n.Reason == "health: fan 3 failed" && n.HealthDrain
	})
	r := c.CLI(nobody, nobody, dir, "ginfo", "-R")
	if r.Code != 0 || !strings.Contains(r.Stdout, "health: fan 3 failed") || !strings.HasSuffix(strings.Join(strings.Fields(r.Stdout), " "), "health drain n1") {
		t.Fatalf("ginfo -R: %d %q %q", r.Code, r.Stdout, r.Stderr)
	}
	id := c.Submit(api.JobSpec{WorkDir: dir, Script: "#!/bin/sh\ntrue\n"})
	time.Sleep(time.Second)
	if j := c.Job(id); j.State != api.StatePending {
		t.Fatalf("job on a node drained by its health check: %s", j.State)
	}
	// It passes again: back in service, and the waiting job runs.
	if err := os.Remove(flag); err != nil {
		t.Fatal(err)
	}
	c.waitNode("n1", 10*time.Second, func(n api.NodeInfo) bool { return n.State == api.NodeUp && n.Reason == "" })
	if j := c.WaitJob(id, 30*time.Second); j.State != api.StateCompleted {
		t.Fatalf("job after the node came back: %s %q", j.State, j.Reason)
	}

	// A declared GPU disappears, then comes back.
	gpu1 := c.FakeGPUPath(1, 1)
	if err := os.Remove(gpu1); err != nil {
		t.Fatal(err)
	}
	c.waitNode("n1", 10*time.Second, func(n api.NodeInfo) bool { return n.Reason == "health: 1 GPUs, expected 2" })
	r = c.CLI(nobody, nobody, dir, "gcontrol", "show", "node", "n1")
	if !strings.Contains(r.Stdout, "State=DRAIN Reason=health: 1 GPUs, expected 2") || !strings.Contains(r.Stdout, "Health=FAIL@") {
		t.Fatalf("gcontrol show node: %q %q", r.Stdout, r.Stderr)
	}
	if err := syscall.Mknod(gpu1, syscall.S_IFCHR|0o666, int(mkdev(195, 1))); err != nil {
		t.Fatal(err)
	}
	c.waitNode("n1", 10*time.Second, func(n api.NodeInfo) bool { return n.State == api.NodeUp })

	// An operator's drain is not the health check's to undo.
	if r := c.CLI(0, 0, dir, "gcontrol", "update", "nodename=n1", "state=drain", "reason=new fan"); r.Code != 0 {
		t.Fatalf("drain: %d %q", r.Code, r.Stderr)
	}
	time.Sleep(2500 * time.Millisecond) // two passing checks
	if n := c.waitNode("n1", time.Second, func(api.NodeInfo) bool { return true }); n.State != api.NodeDrain || !strings.HasPrefix(n.Reason, "new fan [root@") {
		t.Fatalf("operator drain undone by the health check: %s %q", n.State, n.Reason)
	}
}

// Node and controller prologs and epilogs run with the job's environment;
// a failed node prolog requeues the job and drains the node, a failed
// epilog drains the node and leaves the job's outcome alone.
func TestPrologEpilog(t *testing.T) {
	// Not under /tmp, which jobs do not see, and readable by them.
	scripts, err := os.MkdirTemp("/var/tmp", "gsched-hooks-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(scripts) })
	if err := os.Chmod(scripts, 0o755); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(scripts, "out")
	if err := os.Mkdir(out, 0o755); err != nil {
		t.Fatal(err)
	}
	record := `echo "$GSCHED_SCRIPT_CONTEXT $SLURM_SCRIPT_CONTEXT user=$GSCHED_JOB_USER uid=$SLURM_JOB_UID nodes=$GSCHED_JOB_NODELIST node=$GSCHED_NODENAME restarts=$GSCHED_RESTART_COUNT state=$GSCHED_JOB_STATE" > ` + out + `/$1-$GSCHED_JOB_ID.$GSCHED_RESTART_COUNT` + "\n"
	prolog := writeScript(t, filepath.Join(scripts, "prolog.sh"), "set -- prolog\n"+record+
		"if [ \"$GSCHED_JOB_NAME\" = badprolog ]; then echo 'no scratch space'; exit 3; fi\n")
	epilog := writeScript(t, filepath.Join(scripts, "epilog.sh"), "set -- epilog\n"+record+
		"if [ \"$GSCHED_JOB_NAME\" = badepilog ]; then echo 'scratch busy' >&2; exit 1; fi\n")
	ctlProlog := writeScript(t, filepath.Join(scripts, "ctl-prolog.sh"), "set -- ctlprolog\n"+record)
	ctlEpilog := writeScript(t, filepath.Join(scripts, "ctl-epilog.sh"), "set -- ctlepilog\n"+record)
	c := Start(t, Options{Configure: func(cfg *config.Config) {
		cfg.Node.Prolog, cfg.Node.Epilog = prolog, epilog
		cfg.Node.PrologTimeout = config.Duration{Duration: 10 * time.Second}
		cfg.Controller.Prolog, cfg.Controller.Epilog = ctlProlog, ctlEpilog
	}})
	read := func(name string) string {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			b, err := os.ReadFile(filepath.Join(out, name))
			if err == nil && len(b) > 0 {
				return strings.TrimSpace(string(b))
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s not written: %v", name, err)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}

	// A good job: the task starts after the prolog and ends before the epilog.
	dir := c.WorkDir(nobody, nobody)
	jid := gsubID(t, c, dir, "-J", "good", "--wrap", "ls "+out+" > seen; sleep 1")
	id := jid.String()
	j := c.WaitJob(jid, 30*time.Second)
	if j.State != api.StateCompleted {
		t.Fatalf("good job: %s %q", j.State, j.Reason)
	}
	if got, want := read("prolog-"+id+".0"), "prolog_gnoded prolog_slurmd user=nobody uid=65534 nodes=n1 node=n1 restarts=0 state="; got != want {
		t.Errorf("node prolog saw %q, want %q", got, want)
	}
	if got := read("epilog-" + id + ".0"); !strings.HasPrefix(got, "epilog_gnoded epilog_slurmd user=nobody") {
		t.Errorf("node epilog saw %q", got)
	}
	if got := read("ctlprolog-" + id + ".0"); !strings.HasPrefix(got, "prolog_gctld prolog_slurmctld user=nobody uid=65534 nodes=n1 node= ") {
		t.Errorf("controller prolog saw %q", got)
	}
	if got := read("ctlepilog-" + id + ".0"); !strings.HasSuffix(got, "state=COMPLETED") {
		t.Errorf("controller epilog saw %q", got)
	}
	if seen, err := os.ReadFile(filepath.Join(dir, "seen")); err != nil || !strings.Contains(string(seen), "prolog-"+id+".0") ||
		strings.Contains(string(seen), "epilog-"+id) {
		t.Errorf("the job saw %q (%v): want the prolog's file and not the epilog's", seen, err)
	}

	// A failing epilog: the job's outcome stands, the node is drained.
	bad := c.Submit(api.JobSpec{Name: "badepilog", Script: "#!/bin/sh\nexit 0\n"})
	if j := c.WaitJob(bad, 30*time.Second); j.State != api.StateCompleted {
		t.Fatalf("job with a failing epilog: %s %q", j.State, j.Reason)
	}
	c.waitNode("n1", 10*time.Second, func(n api.NodeInfo) bool {
		return n.State == api.NodeDrain && n.Reason == "epilog failed: scratch busy"
	})
	if r := c.CLI(0, 0, dir, "gcontrol", "update", "nodename=n1", "state=resume"); r.Code != 0 {
		t.Fatalf("resume: %d %q", r.Code, r.Stderr)
	}

	// A failing prolog: the job goes back to the queue (restart 1) and the
	// node is drained; the job never ran.
	bp := c.Submit(api.JobSpec{Name: "badprolog", WorkDir: dir, Script: "#!/bin/sh\ntouch ran\n"})
	j = c.WaitFor(bp, 30*time.Second, func(j api.Job) bool { return j.Restarts == 1 })
	if j.State != api.StatePending {
		t.Fatalf("job after a failed prolog: %s %q", j.State, j.Reason)
	}
	n := c.waitNode("n1", 10*time.Second, func(n api.NodeInfo) bool { return n.State == api.NodeDrain })
	if n.Reason != "prolog failed: no scratch space" {
		t.Fatalf("node after a failed prolog: %q", n.Reason)
	}
	if _, err := os.Stat(filepath.Join(dir, "ran")); err == nil {
		t.Fatal("the job ran although its prolog failed")
	}
	if got := read("ctlepilog-" + bp.String() + ".0"); !strings.HasSuffix(got, "state=PENDING") {
		t.Errorf("controller epilog of the requeued run saw %q", got)
	}
	if r := c.CLI(0, 0, dir, "gcancel", bp.String()); r.Code != 0 {
		t.Fatalf("gcancel: %d %q", r.Code, r.Stderr)
	}
	c.WaitJob(bp, 10*time.Second)
}

// Reserved CPUs, memory and GPUs are left out of what the node offers:
// jobs run on the other CPUs and get only unreserved GPUs.
func TestReservedResources(t *testing.T) {
	c := Start(t, Options{GPUsPerNode: 2, CPUsPerNode: 2, MemPerNode: "4G", ConfigureNode: func(_ int, nc *config.Config) {
		nc.Node.ReservedCPUs = config.CPUReserve{List: []int{0}}
		nc.Node.ReservedMemory = "1G"
		nc.Node.ReservedGPUs = []int{0}
	}})
	n := c.waitNode("n1", 5*time.Second, func(api.NodeInfo) bool { return true })
	if n.CPUs != 1 || n.MemBytes != 3<<30 || len(n.GPUs) != 1 || n.GPUs[0].Index != 1 {
		t.Fatalf("registered %d CPUs, %d bytes, GPUs %+v", n.CPUs, n.MemBytes, n.GPUs)
	}
	dir := c.WorkDir(0, 0)
	r := c.CLI(nobody, nobody, dir, "gcontrol", "show", "node", "n1")
	if !strings.Contains(r.Stdout, "CPUTot=1") || !strings.Contains(r.Stdout, "CPUSpecList=0 MemSpecLimit=1G GpuIDsReserved=0") {
		t.Fatalf("gcontrol show node: %q %q", r.Stdout, r.Stderr)
	}
	id := c.Submit(api.JobSpec{WorkDir: dir, GPUs: 1,
		Script: "#!/bin/sh\ngrep Cpus_allowed_list /proc/self/status | tr -d '\\t'\necho gpus=$CUDA_VISIBLE_DEVICES\n"})
	j := c.WaitJob(id, 30*time.Second)
	if j.State != api.StateCompleted || len(j.Allocs) != 1 || len(j.Allocs[0].GPUs) != 1 || j.Allocs[0].GPUs[0] != 1 {
		t.Fatalf("job: %s %q allocs %+v", j.State, j.Reason, j.Allocs)
	}
	got, err := os.ReadFile(filepath.Join(dir, "gsched-"+id.String()+".out"))
	if err != nil {
		t.Fatal(err)
	}
	if want := "Cpus_allowed_list:1\ngpus=0\n"; string(got) != want {
		t.Fatalf("job output %q, want %q", got, want)
	}
}
