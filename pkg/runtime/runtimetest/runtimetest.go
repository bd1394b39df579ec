// Package runtimetest is the contract test suite of runtime.Runtime. It
// runs against the fake runtime always, and against runc where root, the
// runc binary and cgroups are available.
//
// Cases that only need the interface's bookkeeping (exit codes, Kill,
// deadlines, restarts, List, Destroy, errors) run on every runtime. Cases
// that need scripts to really run (output files, users, read-only root,
// memory limits, signals reaching a trap, device access) run only when
// Config.Real is set.
package runtimetest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gsched/gsched/pkg/runtime"
)

// Config tells the suite what the runtime under test can do.
type Config struct {
	// Real means the runtime runs the scripts in containers on this host.
	// Then Dir is required; the other hooks are not used.
	Real bool
	// Dir returns a fresh dir for a case's files: writable by the task's
	// user and visible to tasks (so not under /tmp, which is private).
	Dir func(t *testing.T) string
	// UID and GID of the tasks in Real mode; both default to 65534
	// (nobody) when zero.
	UID, GID uint32

	// Exit makes a running task end with code, for runtimes that do not
	// run scripts (the fake). Required unless Real.
	Exit func(rt runtime.Runtime, id string, code int)
	// Reopen returns a new Runtime over the same state as rt, as the
	// node daemon sees it after a restart. Nil skips the restart case.
	Reopen func(t *testing.T, rt runtime.Runtime) runtime.Runtime
	// Timeout bounds every wait of a case; default 30 s.
	Timeout time.Duration
}

// Run runs the contract suite; newRuntime returns a fresh runtime with
// empty state for each case.
func Run(t *testing.T, newRuntime func(t *testing.T) runtime.Runtime, cfg Config) {
	if cfg.Timeout == 0 {
		cfg.Timeout = 30 * time.Second
	}
	if cfg.UID == 0 && cfg.GID == 0 {
		cfg.UID, cfg.GID = 65534, 65534
	}
	if !cfg.Real && cfg.Exit == nil {
		t.Fatal("runtimetest: Config.Exit is required unless Config.Real")
	}
	if cfg.Real && cfg.Dir == nil {
		t.Fatal("runtimetest: Config.Dir is required with Config.Real")
	}
	cases := []struct {
		name string
		real bool
		fn   func(*testing.T, *suite)
	}{
		{"ExitCode", false, testExitCode},
		{"RunningStatusAndList", false, testRunningStatusAndList},
		{"StartTwice", false, testStartTwice},
		{"NotFound", false, testNotFound},
		{"Kill", false, testKill},
		{"Deadline", false, testDeadline},
		{"WaitContext", false, testWaitContext},
		{"DestroyRunning", false, testDestroyRunning},
		{"Restart", false, testRestart},
		{"Concurrent", false, testConcurrent},
		{"SignalRunning", false, testSignalRunning},
		{"Output", true, testOutput},
		{"AppendOutput", true, testAppendOutput},
		{"User", true, testUser},
		{"Filesystem", true, testFilesystem},
		{"OOM", true, testOOM},
		{"Limits", true, testLimits},
		{"SignalTrap", true, testSignalTrap},
		{"Devices", true, testDevices},
		{"BadCwd", true, testBadCwd},
		{"UnwritableStdout", true, testUnwritableStdout},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.real && !cfg.Real {
				t.Skip("needs a runtime that runs scripts (Config.Real)")
			}
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), cfg.Timeout)
			defer cancel()
			s := &suite{cfg: cfg, rt: newRuntime(t), ctx: ctx}
			if cfg.Real {
				s.dir = cfg.Dir(t)
			}
			c.fn(t, s)
		})
	}
}

// suite is one case's runtime and helpers.
type suite struct {
	cfg Config
	rt  runtime.Runtime
	ctx context.Context
	dir string
}

// spec returns a task running body (bash) as the configured user, with
// output to <dir>/<id>.out in Real mode.
func (s *suite) spec(id, body string) runtime.TaskSpec {
	ts := runtime.TaskSpec{
		ID:     id,
		JobID:  42,
		UID:    s.cfg.UID,
		GID:    s.cfg.GID,
		Script: []byte("#!/bin/bash\n" + body + "\n"),
		Env:    []string{"PATH=/usr/local/bin:/usr/bin:/bin", "HOME=/"},
		Cwd:    "/",
	}
	if s.cfg.Real {
		ts.Cwd = s.dir
		ts.Stdout = s.path(id + ".out")
		ts.Stderr = ts.Stdout
		ts.WritableDirs = []string{s.dir}
		ts.Env = append(ts.Env, "WD="+s.dir)
	}
	return ts
}

func (s *suite) path(name string) string { return filepath.Join(s.dir, name) }

func (s *suite) start(t *testing.T, ts runtime.TaskSpec) {
	t.Helper()
	if err := s.rt.Start(s.ctx, ts); err != nil {
		t.Fatalf("Start(%s): %v", ts.ID, err)
	}
}

// exit makes a running task end with code where the runtime does not run
// scripts; real scripts end by themselves.
func (s *suite) exit(t *testing.T, rt runtime.Runtime, id string, code int) {
	t.Helper()
	if !s.cfg.Real {
		s.cfg.Exit(rt, id, code)
	}
}

func (s *suite) wait(t *testing.T, rt runtime.Runtime, id string) runtime.Status {
	t.Helper()
	st, err := rt.Wait(s.ctx, id)
	if err != nil {
		t.Fatalf("Wait(%s): %v", id, err)
	}
	if st.Running {
		t.Fatalf("Wait(%s) returned a running status: %+v", id, st)
	}
	if st.ID != id {
		t.Fatalf("Wait(%s) returned ID %q", id, st.ID)
	}
	return st
}

// output returns a task's output file.
func (s *suite) output(t *testing.T, id string) string {
	t.Helper()
	b, err := os.ReadFile(s.path(id + ".out"))
	if err != nil {
		t.Fatalf("read output of %s: %v", id, err)
	}
	return string(b)
}

// waitFile polls until path exists.
func (s *suite) waitFile(t *testing.T, path string) {
	t.Helper()
	for {
		if _, err := os.Stat(path); err == nil {
			return
		}
		select {
		case <-s.ctx.Done():
			t.Fatalf("waiting for %s: %v", path, s.ctx.Err())
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// waitRunning polls until the task's script runs: in Real mode the body
// must create <dir>/<id>.ready; otherwise Running is enough.
func (s *suite) waitRunning(t *testing.T, id string) {
	t.Helper()
	if s.cfg.Real {
		s.waitFile(t, s.path(id+".ready"))
		return
	}
	st, err := s.rt.Status(s.ctx, id)
	if err != nil || !st.Running {
		t.Fatalf("Status(%s) = %+v, %v; want running", id, st, err)
	}
}

// sleeper is a body that signals readiness and then sleeps.
func sleeper(id string) string {
	return fmt.Sprintf("touch \"$WD/%s.ready\"\nsleep 60\n", id)
}

func testExitCode(t *testing.T, s *suite) {
	s.start(t, s.spec("exit7", "exit 7"))
	s.exit(t, s.rt, "exit7", 7)
	st := s.wait(t, s.rt, "exit7")
	if st.ExitCode != 7 || st.Signal != 0 || st.Killed || st.TimedOut || st.OOMKilled || st.Lost || st.Error != "" {
		t.Fatalf("status = %+v; want a plain exit 7", st)
	}
	if st.JobID != 42 {
		t.Fatalf("JobID = %d, want 42", st.JobID)
	}
	if st.FinishedAt.IsZero() || st.StartedAt.IsZero() || st.FinishedAt.Before(st.StartedAt) {
		t.Fatalf("times: started %v finished %v", st.StartedAt, st.FinishedAt)
	}
}

func testRunningStatusAndList(t *testing.T, s *suite) {
	s.start(t, s.spec("run1", sleeper("run1")))
	s.start(t, s.spec("done1", "exit 0"))
	s.exit(t, s.rt, "done1", 0)
	s.wait(t, s.rt, "done1")
	s.waitRunning(t, "run1")
	st, err := s.rt.Status(s.ctx, "run1")
	if err != nil || !st.Running || st.ID != "run1" || st.JobID != 42 {
		t.Fatalf("Status(run1) = %+v, %v; want running", st, err)
	}
	list, err := s.rt.List(s.ctx)
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	got := map[string]bool{}
	for _, l := range list {
		got[l.ID] = l.Running
	}
	if len(list) != 2 || !got["run1"] || got["done1"] {
		t.Fatalf("List = %+v; want run1 running and done1 ended", list)
	}
	if err := s.rt.Kill(s.ctx, "run1", 0); err != nil {
		t.Fatalf("Kill: %v", err)
	}
	s.wait(t, s.rt, "run1")
}

func testStartTwice(t *testing.T, s *suite) {
	ts := s.spec("twice", sleeper("twice"))
	s.start(t, ts)
	if err := s.rt.Start(s.ctx, ts); !errors.Is(err, runtime.ErrExists) {
		t.Fatalf("second Start: %v; want ErrExists", err)
	}
	if err := s.rt.Kill(s.ctx, "twice", 0); err != nil {
		t.Fatalf("Kill: %v", err)
	}
	s.wait(t, s.rt, "twice")
	if err := s.rt.Start(s.ctx, ts); !errors.Is(err, runtime.ErrExists) {
		t.Fatalf("Start after end: %v; want ErrExists", err)
	}
}

func testNotFound(t *testing.T, s *suite) {
	const id = "nosuchtask"
	if _, err := s.rt.Status(s.ctx, id); !errors.Is(err, runtime.ErrNotFound) {
		t.Errorf("Status: %v; want ErrNotFound", err)
	}
	if _, err := s.rt.Wait(s.ctx, id); !errors.Is(err, runtime.ErrNotFound) {
		t.Errorf("Wait: %v; want ErrNotFound", err)
	}
	if err := s.rt.Signal(s.ctx, id, syscall.SIGTERM); !errors.Is(err, runtime.ErrNotFound) {
		t.Errorf("Signal: %v; want ErrNotFound", err)
	}
	if err := s.rt.Kill(s.ctx, id, time.Second); !errors.Is(err, runtime.ErrNotFound) {
		t.Errorf("Kill: %v; want ErrNotFound", err)
	}
	if err := s.rt.Destroy(s.ctx, id); !errors.Is(err, runtime.ErrNotFound) {
		t.Errorf("Destroy: %v; want ErrNotFound", err)
	}
	list, err := s.rt.List(s.ctx)
	if err != nil || len(list) != 0 {
		t.Errorf("List = %v, %v; want empty", list, err)
	}
}

func testKill(t *testing.T, s *suite) {
	s.start(t, s.spec("kill1", sleeper("kill1")))
	s.waitRunning(t, "kill1")
	t0 := time.Now()
	if err := s.rt.Kill(s.ctx, "kill1", 5*time.Second); err != nil {
		t.Fatalf("Kill: %v", err)
	}
	st := s.wait(t, s.rt, "kill1")
	if !st.Killed || st.TimedOut || st.ExitCode == 0 {
		t.Fatalf("status = %+v; want Killed with a non-zero exit", st)
	}
	// bash dies of SIGTERM at once: the grace is not used up.
	if d := time.Since(t0); d > 4*time.Second {
		t.Fatalf("Kill took %v; SIGTERM should have ended the task", d)
	}
	if err := s.rt.Kill(s.ctx, "kill1", 0); err != nil {
		t.Fatalf("Kill of an ended task: %v", err)
	}
}

func testDeadline(t *testing.T, s *suite) {
	body := `trap 'echo term > "$WD/deadline.term"; exit 143' TERM
touch "$WD/deadline.ready"
sleep 60 &
wait`
	ts := s.spec("deadline", body)
	// Long enough for the container to start and set its trap even on a
	// loaded machine (with 1 s, a slow start under load met SIGTERM
	// before the trap existed).
	ts.Deadline = time.Now().Add(3 * time.Second)
	ts.KillGrace = 5 * time.Second
	s.start(t, ts)
	st := s.wait(t, s.rt, "deadline")
	if !st.TimedOut || st.Killed || st.ExitCode == 0 {
		t.Fatalf("status = %+v; want TimedOut with a non-zero exit", st)
	}
	if late := time.Since(ts.Deadline); late > 4*time.Second {
		t.Fatalf("ended %v after the deadline", late)
	}
	if s.cfg.Real {
		if got := strings.TrimSpace(readFile(t, s.path("deadline.term"))); got != "term" {
			t.Fatalf("TERM trap wrote %q", got)
		}
		if st.ExitCode != 143 {
			t.Fatalf("ExitCode = %d, want the trap's 143", st.ExitCode)
		}
	}
}

func testWaitContext(t *testing.T, s *suite) {
	s.start(t, s.spec("waitctx", sleeper("waitctx")))
	ctx, cancel := context.WithTimeout(s.ctx, 200*time.Millisecond)
	defer cancel()
	if _, err := s.rt.Wait(ctx, "waitctx"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Wait: %v; want context.DeadlineExceeded", err)
	}
	if err := s.rt.Destroy(s.ctx, "waitctx"); err != nil {
		t.Fatalf("Destroy: %v", err)
	}
}

func testDestroyRunning(t *testing.T, s *suite) {
	s.start(t, s.spec("destroy1", sleeper("destroy1")))
	s.waitRunning(t, "destroy1")
	if err := s.rt.Destroy(s.ctx, "destroy1"); err != nil {
		t.Fatalf("Destroy: %v", err)
	}
	if _, err := s.rt.Status(s.ctx, "destroy1"); !errors.Is(err, runtime.ErrNotFound) {
		t.Fatalf("Status after Destroy: %v; want ErrNotFound", err)
	}
	list, err := s.rt.List(s.ctx)
	if err != nil || len(list) != 0 {
		t.Fatalf("List after Destroy = %v, %v; want empty", list, err)
	}
	// The ID is free again.
	s.start(t, s.spec("destroy1", "exit 0"))
	s.exit(t, s.rt, "destroy1", 0)
	s.wait(t, s.rt, "destroy1")
}

func testRestart(t *testing.T, s *suite) {
	if s.cfg.Reopen == nil {
		t.Skip("no Config.Reopen")
	}
	s.start(t, s.spec("restart", "sleep 2\nexit 3"))
	rt2 := s.cfg.Reopen(t, s.rt)
	list, err := rt2.List(s.ctx)
	if err != nil || len(list) != 1 || list[0].ID != "restart" || !list[0].Running {
		t.Fatalf("List after restart = %+v, %v; want restart running", list, err)
	}
	s.exit(t, rt2, "restart", 3)
	st := s.wait(t, rt2, "restart")
	if st.ExitCode != 3 || st.Lost || st.Error != "" {
		t.Fatalf("status after restart = %+v; want exit 3", st)
	}
	if err := rt2.Destroy(s.ctx, "restart"); err != nil {
		t.Fatalf("Destroy: %v", err)
	}
	if list, err := rt2.List(s.ctx); err != nil || len(list) != 0 {
		t.Fatalf("List after Destroy = %+v, %v; want empty", list, err)
	}
}

func testConcurrent(t *testing.T, s *suite) {
	const n = 4
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id := fmt.Sprintf("conc%d", i)
			if err := s.rt.Start(s.ctx, s.spec(id, fmt.Sprintf("exit %d", i))); err != nil {
				errs <- err
				return
			}
			if !s.cfg.Real {
				s.cfg.Exit(s.rt, id, i)
			}
			st, err := s.rt.Wait(s.ctx, id)
			if err == nil && st.ExitCode != i {
				err = fmt.Errorf("%s: status %+v, want exit %d", id, st, i)
			}
			if err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func testSignalRunning(t *testing.T, s *suite) {
	s.start(t, s.spec("sig1", sleeper("sig1")))
	s.waitRunning(t, "sig1")
	if err := s.rt.Signal(s.ctx, "sig1", syscall.SIGCONT); err != nil {
		t.Fatalf("Signal: %v", err)
	}
	st, err := s.rt.Status(s.ctx, "sig1")
	if err != nil || !st.Running {
		t.Fatalf("after SIGCONT: %+v, %v; want running", st, err)
	}
	if err := s.rt.Signal(s.ctx, "sig1", syscall.SIGKILL); err != nil {
		t.Fatalf("Signal(KILL): %v", err)
	}
	if !s.cfg.Real {
		s.cfg.Exit(s.rt, "sig1", 137)
	}
	st = s.wait(t, s.rt, "sig1")
	if st.ExitCode != 137 {
		t.Fatalf("after SIGKILL: %+v; want exit 137", st)
	}
	if err := s.rt.Signal(s.ctx, "sig1", syscall.SIGTERM); err != nil {
		t.Fatalf("Signal of an ended task: %v", err)
	}
}

func testOutput(t *testing.T, s *suite) {
	ts := s.spec("out1", "echo hello; echo oops >&2; echo \"arg=$1 cwd=$(pwd)\"")
	ts.Args = []string{"first"}
	ts.Stderr = s.path("out1.err")
	s.start(t, ts)
	st := s.wait(t, s.rt, "out1")
	if st.ExitCode != 0 || st.Error != "" {
		t.Fatalf("status = %+v; want exit 0", st)
	}
	want := "hello\narg=first cwd=" + s.dir + "\n"
	if got := s.output(t, "out1"); got != want {
		t.Fatalf("stdout = %q, want %q", got, want)
	}
	if got := readFile(t, ts.Stderr); got != "oops\n" {
		t.Fatalf("stderr = %q, want %q", got, "oops\n")
	}
}

func testAppendOutput(t *testing.T, s *suite) {
	out := s.path("app.out")
	if err := os.WriteFile(out, []byte("old\n"), 0o666); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(out, 0o666); err != nil { // past the umask
		t.Fatal(err)
	}
	ts := s.spec("app", "echo new")
	ts.Append = true
	s.start(t, ts)
	if st := s.wait(t, s.rt, "app"); st.ExitCode != 0 {
		t.Fatalf("status = %+v", st)
	}
	if got := s.output(t, "app"); got != "old\nnew\n" {
		t.Fatalf("appended output = %q", got)
	}
	ts = s.spec("trunc", "echo new")
	ts.Stdout = out
	ts.Stderr = ts.Stdout
	s.start(t, ts)
	if st := s.wait(t, s.rt, "trunc"); st.ExitCode != 0 {
		t.Fatalf("status = %+v", st)
	}
	if got := s.output(t, "app"); got != "new\n" {
		t.Fatalf("truncated output = %q", got)
	}
}

func testUser(t *testing.T, s *suite) {
	s.start(t, s.spec("user1", "id -u; id -g"))
	st := s.wait(t, s.rt, "user1")
	if st.ExitCode != 0 {
		t.Fatalf("status = %+v", st)
	}
	want := fmt.Sprintf("%d\n%d\n", s.cfg.UID, s.cfg.GID)
	if got := s.output(t, "user1"); got != want {
		t.Fatalf("id output = %q, want %q", got, want)
	}
	var fi unix.Stat_t
	if err := unix.Stat(s.path("user1.out"), &fi); err != nil {
		t.Fatal(err)
	}
	if fi.Uid != s.cfg.UID || fi.Gid != s.cfg.GID {
		t.Fatalf("output owned by %d:%d, want %d:%d", fi.Uid, fi.Gid, s.cfg.UID, s.cfg.GID)
	}
}

func testFilesystem(t *testing.T, s *suite) {
	body := `touch /gsched-probe 2>&1 | grep -q 'Read-only file system' && echo root-ro
touch /usr/gsched-probe 2>&1 | grep -q 'Read-only file system' && echo usr-ro
echo x > "$WD/fs.w" && echo wd-rw
echo x > /tmp/fs.t && echo tmp-rw
[ -x /usr/bin/env ] && echo host-tools
[ "$(stat -c %a /tmp)" = 1777 ] && echo tmp-mode
exit 0`
	s.start(t, s.spec("fs", body))
	st := s.wait(t, s.rt, "fs")
	want := "root-ro\nusr-ro\nwd-rw\ntmp-rw\nhost-tools\ntmp-mode\n"
	if got := s.output(t, "fs"); st.ExitCode != 0 || got != want {
		t.Fatalf("status %+v, output %q; want %q", st, got, want)
	}
	if _, err := os.Stat("/gsched-probe"); err == nil {
		t.Fatal("the task wrote /gsched-probe on the host")
	}
	if _, err := os.Stat("/tmp/fs.t"); err == nil {
		t.Fatal("the task's /tmp is the host's")
	}
}

func testOOM(t *testing.T, s *suite) {
	ts := s.spec("oom", "head -c 600M /dev/zero | tail")
	ts.MemoryBytes = 64 << 20
	s.start(t, ts)
	st := s.wait(t, s.rt, "oom")
	if !st.OOMKilled || st.ExitCode == 0 {
		t.Fatalf("status = %+v; want OOMKilled and a non-zero exit", st)
	}
}

func testLimits(t *testing.T, s *suite) {
	body := `nproc
cat /sys/fs/cgroup/pids/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids.max
cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us 2>/dev/null || cut -d' ' -f1 /sys/fs/cgroup/cpu.max
cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max`
	ts := s.spec("limits", body)
	ts.CPUSet = "0"
	ts.CPUs = 0.5
	ts.PidsLimit = 50
	ts.MemoryBytes = 256 << 20
	s.start(t, ts)
	st := s.wait(t, s.rt, "limits")
	want := fmt.Sprintf("1\n50\n50000\n%d\n", 256<<20)
	if got := s.output(t, "limits"); st.ExitCode != 0 || got != want {
		t.Fatalf("status %+v, output %q; want %q", st, got, want)
	}
}

func testSignalTrap(t *testing.T, s *suite) {
	body := `trap 'echo usr1 > "$WD/trap.usr1"' USR1
touch "$WD/trap.ready"
while [ ! -e "$WD/trap.usr1" ]; do sleep 0.05; done
exit 5`
	s.start(t, s.spec("trap", body))
	s.waitFile(t, s.path("trap.ready"))
	if err := s.rt.Signal(s.ctx, "trap", syscall.SIGUSR1); err != nil {
		t.Fatalf("Signal: %v", err)
	}
	st := s.wait(t, s.rt, "trap")
	if st.ExitCode != 5 {
		t.Fatalf("status = %+v; want the script's exit 5 after the trap ran", st)
	}
}

func testDevices(t *testing.T, s *suite) {
	for i, name := range []string{"nvidia0", "nvidia1"} {
		if err := unix.Mknod(s.path(name), unix.S_IFCHR|0o666, int(unix.Mkdev(195, uint32(i)))); err != nil {
			t.Skipf("mknod: %v", err)
		}
		// 0666 past the umask: the open must fail on the device
		// cgroup (EPERM), not on permissions (EACCES).
		if err := os.Chmod(s.path(name), 0o666); err != nil {
			t.Fatal(err)
		}
	}
	body := `(exec 3<>/dev/nvidia0) 2>&1 | sed 's/.*: //'
(exec 3<>"$WD/nvidia1") 2>&1 | sed 's/.*: //'
(exec 3<>/dev/null) && echo null-ok`
	ts := s.spec("gpu", body)
	ts.Devices = []runtime.Device{{Path: "/dev/nvidia0", HostPath: s.path("nvidia0")}}
	s.start(t, ts)
	st := s.wait(t, s.rt, "gpu")
	want := "No such device or address\nOperation not permitted\nnull-ok\n"
	if got := s.output(t, "gpu"); st.ExitCode != 0 || got != want {
		t.Fatalf("status %+v, output %q; want %q", st, got, want)
	}
}

func testBadCwd(t *testing.T, s *suite) {
	ts := s.spec("badcwd", "echo should-not-run")
	ts.Cwd = s.path("no/such/dir")
	s.start(t, ts)
	st := s.wait(t, s.rt, "badcwd")
	if st.Error == "" || st.ExitCode == 0 {
		t.Fatalf("status = %+v; want an Error and a non-zero exit", st)
	}
	if !strings.Contains(st.Error, "no such file or directory") {
		t.Fatalf("Error = %q; want the chdir failure", st.Error)
	}
}

func testUnwritableStdout(t *testing.T, s *suite) {
	locked := s.path("locked")
	if err := os.Mkdir(locked, 0o755); err != nil { // owned by root
		t.Fatal(err)
	}
	ts := s.spec("noout", "echo should-not-run")
	ts.Stdout = filepath.Join(locked, "out")
	ts.Stderr = ts.Stdout
	s.start(t, ts)
	st := s.wait(t, s.rt, "noout")
	if st.ExitCode != 1 || !strings.Contains(st.Error, "permission denied") {
		t.Fatalf("status = %+v; want exit 1 and a permission error", st)
	}
	if _, err := os.Stat(ts.Stdout); err == nil {
		t.Fatal("the output file was created by someone other than the user")
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
