package testcluster

import (
	"fmt"
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

// The isolation tests: what a job cannot do to the node or to other jobs.
// Device, memory and the uid of a non-root submitter are in jobs_test.go.

// submitAs submits job.sh (written into dir) as nobody with gsub --wait and
// the extra gsub args, and returns the job's record and output.
func submitAs(t *testing.T, c *Cluster, dir, script string, args ...string) (api.Job, string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, "job.sh"), []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	r := c.CLI(nobody, nobody, dir, "gsub", append(append([]string{"--wait", "--parsable"}, args...), "job.sh")...)
	id, err := strconv.ParseUint(strings.TrimSpace(r.Stdout), 10, 64)
	if err != nil {
		t.Fatalf("gsub %v: code %d stdout %q stderr %q", args, r.Code, r.Stdout, r.Stderr)
	}
	return c.Job(api.JobID(id)), readOutMaybe(dir, api.JobID(id))
}

// fields parses "k=v k=v" words of out into a map.
func fields(out string) map[string]string {
	m := map[string]string{}
	for _, w := range strings.Fields(out) {
		if k, v, ok := strings.Cut(w, "="); ok {
			m[k] = v
		}
	}
	return m
}

// A job given one CPU (-c 1) that runs two busy loops for 2 s gets about
// one CPU-second per wall second: the CFS quota holds, measured from the
// job's own cgroup counter.
func TestCPUQuotaHolds(t *testing.T) {
	c := Start(t, Options{CPUsPerNode: 2})
	dir := c.WorkDir(nobody, nobody)
	script := `#!/bin/bash
cg=/sys/fs/cgroup
usage() {
  for f in $cg/cpuacct/cpuacct.usage $cg/cpu,cpuacct/cpuacct.usage; do
    if [ -r $f ]; then cat $f; return; fi
  done
  echo $(( $(sed -n 's/^usage_usec //p' $cg/cpu.stat) * 1000 ))
}
if [ -r $cg/cpu/cpu.cfs_quota_us ]; then
  echo quota=$(cat $cg/cpu/cpu.cfs_quota_us)/$(cat $cg/cpu/cpu.cfs_period_us)
  throttled=$cg/cpu/cpu.stat
else
  echo quota=$(tr ' ' / < $cg/cpu.max)
  throttled=$cg/cpu.stat
fi
u0=$(usage); t0=$(date +%s%N)
timeout 2 bash -c 'while :; do :; done' &
timeout 2 bash -c 'while :; do :; done' &
wait
u1=$(usage); t1=$(date +%s%N)
echo cpu_ns=$((u1 - u0)) wall_ns=$((t1 - t0)) $(sed -n 's/^nr_throttled /throttled=/p' $throttled)
`
	j, out := submitAs(t, c, dir, script, "-c", "1")
	if j.State != api.StateCompleted || len(j.Allocs) != 1 || j.Allocs[0].CPUs != 1 {
		t.Fatalf("job %s (%s) allocs %+v; output %q", j.State, j.Reason, j.Allocs, out)
	}
	f := fields(out)
	if f["quota"] != "100000/100000" {
		t.Fatalf("cgroup CPU quota %q, want 100000/100000 (one CPU); output %q", f["quota"], out)
	}
	cpu, err1 := strconv.ParseFloat(f["cpu_ns"], 64)
	wall, err2 := strconv.ParseFloat(f["wall_ns"], 64)
	if err1 != nil || err2 != nil || wall < 1.5e9 {
		t.Fatalf("could not measure: output %q", out)
	}
	rate := cpu / wall
	t.Logf("two busy loops under a 1-CPU quota: %.2f CPU-s in %.2f s wall = %.2f CPUs (nr_throttled %s)",
		cpu/1e9, wall/1e9, rate, f["throttled"])
	if rate > 1.2 {
		t.Fatalf("job used %.2f CPUs with a quota of 1", rate)
	}
	if cpu < 0.05e9 {
		t.Fatalf("job used only %.3f CPU-s: the busy loops did not run", cpu/1e9)
	}
	if f["throttled"] == "0" {
		// Other load kept the job under its quota: the bound above held
		// but was not put to the test.
		t.Logf("the host was too busy for the job to reach its quota")
	}
}

// Two jobs on one node: the second lists every process it can see and
// finds only its own (low pids, its own init as pid 1), not the first
// job's, whose marker the host does see.
func TestJobsCannotSeeEachOthersProcesses(t *testing.T) {
	c := Start(t, Options{CPUsPerNode: 2})
	marker := fmt.Sprintf("gsched-pidns-marker-%d", time.Now().UnixNano())
	dirA := c.WorkDir(0, 0)
	a := c.Submit(api.JobSpec{WorkDir: dirA, Args: []string{marker}, Script: "#!/bin/bash\necho ready\nsleep 300\n"})
	c.WaitFor(a, 30*time.Second, func(j api.Job) bool {
		return j.State == api.StateRunning && readOutMaybe(dirA, a) == "ready\n"
	})
	if !hostSeesMarker(marker) {
		t.Fatalf("the host does not see job %d's marker: the check below would prove nothing", a)
	}
	// Root in job B (the strongest reader of /proc) looks for the marker
	// without ever putting it in an argv of its own.
	script := `#!/bin/bash
n=0; found=0; max=0
for d in /proc/[0-9]*; do
  p=${d#/proc/}; n=$((n + 1)); [ $p -gt $max ] && max=$p
  c=$(tr '\0' ' ' < $d/cmdline 2>/dev/null)
  [[ $c == *"$M"* ]] && found=1
done
echo self=$$ procs=$n maxpid=$max found=$found
echo init=$(tr '\0' ' ' < /proc/1/cmdline | cut -d' ' -f1)
`
	dirB := c.WorkDir(0, 0)
	b := c.Submit(api.JobSpec{WorkDir: dirB, Env: []string{"M=" + marker}, Script: script})
	jb := c.WaitJob(b, 30*time.Second)
	out := readOutMaybe(dirB, b)
	if jb.State != api.StateCompleted {
		t.Fatalf("job B %s (%s): %q", jb.State, jb.Reason, out)
	}
	if ja := c.Job(a); ja.State != api.StateRunning || ja.NodeList() != jb.NodeList() {
		t.Fatalf("job A %s on %s, job B on %s: not side by side", ja.State, ja.NodeList(), jb.NodeList())
	}
	f := fields(out)
	if f["found"] != "0" {
		t.Fatalf("job B sees job A's process: %q", out)
	}
	self, _ := strconv.Atoi(f["self"])
	procs, _ := strconv.Atoi(f["procs"])
	maxPid, _ := strconv.Atoi(f["maxpid"])
	// The init's Go threads take a few pids of the namespace too.
	if self < 2 || self > 100 || procs < 2 || procs > 5 || maxPid > 100 || f["init"] != "/.gsched-init" {
		t.Fatalf("job B is not alone in a pid namespace of its own: %q", out)
	}
	t.Logf("job B: %s", strings.ReplaceAll(strings.TrimSpace(out), "\n", "; "))
}

// hostSeesMarker reports whether some host process has marker in its argv.
func hostSeesMarker(marker string) bool {
	cmdlines, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, f := range cmdlines {
		if b, err := os.ReadFile(f); err == nil && strings.Contains(string(b), marker) {
			return true
		}
	}
	return false
}

// A non-root job writes only to its work dir, its output dir, a private
// /tmp and /dev/shm: the host tree is read-only to it, including dirs the
// host lets everyone write (another user's 0777 dir, /var/tmp).
func TestJobWritesOnlyWhereAllowed(t *testing.T) {
	c := Start(t, Options{})
	dir := c.WorkDir(nobody, nobody)
	other := c.WorkDir(1000, 1000)
	if err := os.Chmod(other, 0o777); err != nil {
		t.Fatal(err)
	}
	name := fmt.Sprintf("gsched-probe-%d", time.Now().UnixNano())
	targets := []string{"/" + name, "/usr/" + name, "/etc/" + name, "/var/tmp/" + name, other + "/" + name,
		"/tmp/" + name, "/dev/shm/" + name, dir + "/" + name}
	t.Cleanup(func() {
		for _, p := range targets {
			if p != dir+"/"+name {
				os.Remove(p)
			}
		}
	})
	script := "#!/bin/bash\nfor p in " + strings.Join(targets, " ") + `; do
  if err=$( (echo x > "$p") 2>&1 ); then echo "$p: written"; else echo "$p: ${err##*: }"; fi
done
`
	j, out := submitAs(t, c, dir, script)
	if j.State != api.StateCompleted {
		t.Fatalf("job %s (%s): %q", j.State, j.Reason, out)
	}
	want := map[string]string{
		"/" + name:         "Read-only file system",
		"/usr/" + name:     "Read-only file system",
		"/etc/" + name:     "Read-only file system",
		"/var/tmp/" + name: "Read-only file system",
		other + "/" + name: "Read-only file system",
		"/tmp/" + name:     "written",
		"/dev/shm/" + name: "written",
		dir + "/" + name:   "written",
	}
	got := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if p, res, ok := strings.Cut(line, ": "); ok {
			got[p] = res
		}
	}
	for _, p := range targets {
		if got[p] != want[p] {
			t.Errorf("writing %s: %q, want %q", p, got[p], want[p])
		}
	}
	// Nothing reached the host but the work dir, and that as the user.
	for _, p := range targets[:len(targets)-1] {
		if _, err := os.Stat(p); err == nil {
			t.Errorf("the job's write to %s reached the host", p)
		}
	}
	st, err := os.Stat(dir + "/" + name)
	if err != nil {
		t.Fatalf("work dir file: %v", err)
	}
	if uid := st.Sys().(*syscall.Stat_t).Uid; uid != nobody {
		t.Errorf("work dir file owned by uid %d, want %d", uid, nobody)
	}
}

// A fork bomb fills the job's pids limit and no more; the time limit (or
// bash giving up) ends it, the node daemon lives on and the next job on
// the node runs.
func TestForkBombHitsPidsLimit(t *testing.T) {
	const limit = 64
	c := Start(t, Options{Binaries: true, KillWait: time.Second, Configure: func(cf *config.Config) { cf.Node.PidsLimit = limit }})
	dir := c.WorkDir(nobody, nobody)
	if err := os.WriteFile(filepath.Join(dir, "bomb.sh"), []byte("#!/bin/bash\necho bombing\nb() { while :; do b & done; }\nb\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := c.CLI(nobody, nobody, dir, "gsub", "--parsable", "-t", "0:04", "bomb.sh")
	n, err := strconv.ParseUint(strings.TrimSpace(r.Stdout), 10, 64)
	if r.Code != 0 || err != nil {
		t.Fatalf("gsub: code %d stdout %q stderr %q", r.Code, r.Stdout, r.Stderr)
	}
	id := api.JobID(n)
	j := c.WaitFor(id, 30*time.Second, func(j api.Job) bool { return j.State == api.StateRunning || j.State.Final() })
	// From the host: the job's pids cgroup is at its limit and has
	// refused forks.
	cg := filepath.Join("/sys/fs/cgroup/pids", filepath.Base(c.Dir), j.NodeList(), "job-"+id.String())
	if _, err := os.Stat("/sys/fs/cgroup/pids"); err != nil {
		cg = filepath.Join("/sys/fs/cgroup", filepath.Base(c.Dir), j.NodeList(), "job-"+id.String())
	}
	var peak, refused int
	deadline := time.Now().Add(10 * time.Second)
	for refused == 0 && time.Now().Before(deadline) {
		if b, err := os.ReadFile(filepath.Join(cg, "pids.current")); err == nil {
			cur, _ := strconv.Atoi(strings.TrimSpace(string(b)))
			peak = max(peak, cur)
		}
		if b, err := os.ReadFile(filepath.Join(cg, "pids.events")); err == nil {
			refused, _ = strconv.Atoi(fields(strings.ReplaceAll(string(b), " ", "="))["max"])
		}
		time.Sleep(20 * time.Millisecond)
	}
	pidsMax, _ := os.ReadFile(filepath.Join(cg, "pids.max"))
	t.Logf("fork bomb: pids.max %s, peak pids.current %d, forks refused %d", strings.TrimSpace(string(pidsMax)), peak, refused)
	if refused == 0 {
		t.Fatalf("the bomb never hit the pids limit (cgroup %s, peak %d)", cg, peak)
	}
	if strings.TrimSpace(string(pidsMax)) != strconv.Itoa(limit) || peak > limit {
		t.Fatalf("pids.max %q, peak %d: want a limit of %d", pidsMax, peak, limit)
	}
	j = c.WaitJob(id, 30*time.Second)
	out := readOutMaybe(dir, id)
	// It ends by its time limit, or earlier when bash itself gives up
	// retrying a refused fork; either way the refusals are in its output.
	if (j.State != api.StateTimeout && j.State != api.StateFailed) || !strings.Contains(out, "Resource temporarily unavailable") {
		t.Fatalf("bomb job ended %s (%s); output %q", j.State, j.Reason, tail(out, 500))
	}
	// The node daemon is alive and the node usable.
	if err := c.nodes[0].cmd.Process.Signal(syscall.Signal(0)); err != nil {
		t.Fatalf("gnoded died: %v", err)
	}
	if st := c.Nodes().Nodes[0].State; st != api.NodeUp {
		t.Fatalf("node %s after the bomb", st)
	}
	after, out := submitAs(t, c, dir, "#!/bin/sh\necho alive\n")
	if after.State != api.StateCompleted || out != "alive\n" || after.NodeList() != j.NodeList() {
		t.Fatalf("next job on %s: %s %q", after.NodeList(), after.State, out)
	}
}

// A job has no capabilities (a root job keeps runc's three harmless ones),
// cannot gain privileges (no_new_privs), runs under the seccomp filter when
// runc has seccomp, finds /dev/null or an empty dir where the masked /proc
// and /sys paths are, and cannot write /proc/sys.
func TestJobHasNoPrivileges(t *testing.T) {
	c := Start(t, Options{})
	wantSeccomp := "0"
	if runcSeccomp(t, c) {
		wantSeccomp = "2" // SECCOMP_MODE_FILTER
	}
	script := `#!/bin/bash
grep -E '^(Uid|Gid|CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs|Seccomp):' /proc/self/status | tr -d ' \t' | tr : =
for p in /proc/kcore /proc/keys /proc/timer_list /proc/sched_debug /proc/latency_stats; do
  if [ -e $p ]; then
    [ -c $p ] && kind=chr || kind=other
    echo "masked$p=$kind,$(stat -c %t:%T $p),$(head -c 64 $p 2>/dev/null | wc -c)"
  fi
done
for p in /proc/acpi /proc/scsi /sys/firmware; do
  if [ -e $p ]; then echo "masked$p=$(ls -A $p | wc -l)"; fi
done
v=$(cat /proc/sys/fs/file-max)
err=$( (echo $v > /proc/sys/fs/file-max) 2>&1 ) && echo procsys=written || echo "procsys=${err##*: }" | tr -d ' '
`
	masks := func(t *testing.T, f map[string]string, out string) {
		n := 0
		for k, v := range f {
			if p, ok := strings.CutPrefix(k, "masked"); ok {
				n++
				if v != "chr,1:3,0" && v != "0" {
					t.Errorf("%s is %q: not masked (want /dev/null, or an empty dir)", p, v)
				}
			}
		}
		if _, ok := f["masked/proc/keys"]; !ok || n < 2 {
			t.Errorf("only %d masked paths seen (/proc/keys among them?): %q", n, out)
		}
	}
	check := func(t *testing.T, j api.Job, out string, want map[string]string) {
		if j.State != api.StateCompleted {
			t.Fatalf("job %s (%s): %q", j.State, j.Reason, out)
		}
		f := fields(out)
		for k, v := range want {
			if f[k] != v {
				t.Errorf("%s = %q, want %q", k, f[k], v)
			}
		}
		masks(t, f, out)
		if t.Failed() {
			t.Logf("output:\n%s", out)
		}
	}
	none := "0000000000000000"
	t.Run("user", func(t *testing.T) {
		dir := c.WorkDir(nobody, nobody)
		j, out := submitAs(t, c, dir, script)
		check(t, j, out, map[string]string{
			"Uid": "65534655346553465534", "Gid": "65534655346553465534",
			"CapInh": none, "CapPrm": none, "CapEff": none, "CapBnd": none, "CapAmb": none,
			"NoNewPrivs": "1", "Seccomp": wantSeccomp, "procsys": "Read-onlyfilesystem",
		})
	})
	t.Run("root", func(t *testing.T) {
		dir := c.WorkDir(0, 0)
		id := c.Submit(api.JobSpec{WorkDir: dir, Script: script})
		j := c.WaitJob(id, 30*time.Second)
		// CAP_KILL (5), CAP_NET_BIND_SERVICE (10), CAP_AUDIT_WRITE (29).
		three := "0000000020000420"
		check(t, j, readOutMaybe(dir, id), map[string]string{
			"Uid": "0000", "CapInh": none, "CapPrm": three, "CapEff": three, "CapBnd": three, "CapAmb": none,
			"NoNewPrivs": "1", "Seccomp": wantSeccomp, "procsys": "Read-onlyfilesystem",
		})
	})
}

// With runc's seccomp support, the default profile refuses what a job has
// no business doing: making a user namespace, which the host allows an
// unprivileged user, fails with EPERM in a job.
func TestSeccompBlocksSyscalls(t *testing.T) {
	c := Start(t, Options{})
	requireSeccomp(t, c)
	host := c.Run(nobody, nobody, "/", "/usr/bin/unshare", "-U", "true")
	t.Logf("unshare -U as nobody on the host: exit %d %s", host.Code, strings.TrimSpace(host.Stderr))
	dir := c.WorkDir(nobody, nobody)
	j, out := submitAs(t, c, dir, `#!/bin/bash
unshare -U true 2>&1 | sed 's/.*: //'
grep ^Seccomp: /proc/self/status | tr -d ' \t'
`)
	want := "Operation not permitted\nSeccomp:2\n"
	if j.State != api.StateCompleted || out != want {
		t.Fatalf("job %s: output %q, want %q", j.State, out, want)
	}
}
