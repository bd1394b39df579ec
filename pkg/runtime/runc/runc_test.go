package runc_test

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"
	"golang.org/x/sys/unix"

	"github.com/gsched/gsched/pkg/runtime"
	"github.com/gsched/gsched/pkg/runtime/runc"
	"github.com/gsched/gsched/pkg/runtime/runtimetest"
)

// env is what the runc tests need from the host; newEnv skips the test
// when it is not there.
type env struct {
	runc string // runc binary
	base string // per-process dir visible to containers (not under /tmp)
	// staticInit is bin/gsched-init when `make build` made it: as with
	// gnoded, tasks then get the precompiled seccomp filter.
	staticInit string
}

var (
	envOnce sync.Once
	envVal  *env
	envSkip string
)

func newEnv(tb testing.TB) *env {
	tb.Helper()
	envOnce.Do(func() { envVal, envSkip = probeEnv() })
	if envSkip != "" {
		tb.Skip(envSkip)
	}
	return envVal
}

func probeEnv() (*env, string) {
	if os.Geteuid() != 0 {
		return nil, "runc tests need root"
	}
	if err := runc.CgroupsUsable(); err != nil {
		return nil, fmt.Sprintf("runc tests need cgroups: %v", err)
	}
	root, err := moduleRoot()
	if err != nil {
		return nil, err.Error()
	}
	bin := os.Getenv("GSCHED_RUNC")
	if bin == "" {
		bin = filepath.Join(root, "bin", "runc")
	}
	if err := unix.Access(bin, unix.X_OK); err != nil {
		return nil, fmt.Sprintf("runc tests need the runc binary %s (set GSCHED_RUNC or run "+
			"`go build -o bin/runc github.com/opencontainers/runc`): %v", bin, err)
	}
	parent := os.Getenv("GSCHED_TEST_DIR")
	if parent == "" {
		parent = filepath.Join(root, "var", "test-tmp")
	}
	if strings.HasPrefix(filepath.Clean(parent)+"/", "/tmp/") {
		return nil, "GSCHED_TEST_DIR must not be under /tmp (private in containers)"
	}
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return nil, fmt.Sprintf("test dir: %v", err)
	}
	base, err := os.MkdirTemp(parent, "runc-")
	if err != nil {
		return nil, fmt.Sprintf("test dir: %v", err)
	}
	if err := os.Chmod(base, 0o755); err != nil {
		return nil, fmt.Sprintf("test dir: %v", err)
	}
	cleanups = append(cleanups, func() {
		_ = os.RemoveAll(base)
		_ = os.Remove(parent) // only if no other run uses it
		removeCgroup("/gsched-test")
	})
	e := &env{runc: bin, base: base}
	if init := filepath.Join(root, "bin", "gsched-init"); unix.Access(init, unix.X_OK) == nil {
		e.staticInit = init
	}
	return e, ""
}

// cleanups run after all tests, from TestMain.
var cleanups []func()

// TestMain lets the test binary serve as the shim and the in-container
// init, as gnoded does.
func TestMain(m *testing.M) {
	if runc.Main() {
		return
	}
	code := m.Run()
	for _, f := range cleanups {
		f()
	}
	os.Exit(code)
}

func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		up := filepath.Dir(dir)
		if up == dir {
			return "", errors.New("go.mod not found above the test's dir")
		}
		dir = up
	}
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// dir returns a fresh dir under the env's base with the given mode.
func (e *env) dir(tb testing.TB, prefix string, mode os.FileMode) string {
	tb.Helper()
	d, err := os.MkdirTemp(e.base, prefix)
	if err != nil {
		tb.Fatal(err)
	}
	if err := os.Chmod(d, mode); err != nil {
		tb.Fatal(err)
	}
	return d
}

// options returns Options with a fresh state dir, runc root and cgroup
// parent; the cleanup destroys the tasks and removes the cgroup parent.
func (e *env) options(tb testing.TB) runc.Options {
	tb.Helper()
	d := e.dir(tb, "rt-", 0o755)
	opts := runc.Options{
		StateDir:     filepath.Join(d, "tasks"),
		RuncPath:     e.runc,
		RuncRoot:     filepath.Join(d, "runc"),
		CgroupParent: "/gsched-test/" + randHex(6),
		RootfsDir:    filepath.Join(e.base, "rootfs"),
		StaticInit:   e.staticInit,
	}
	if t, ok := tb.(*testing.T); ok {
		opts.Logger = zaptest.NewLogger(t)
	}
	tb.Cleanup(func() {
		rt, err := runc.New(opts)
		if err != nil {
			tb.Errorf("cleanup: %v", err)
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		list, err := rt.List(ctx)
		if err != nil {
			tb.Errorf("cleanup: %v", err)
		}
		for _, st := range list {
			if err := rt.Destroy(ctx, st.ID); err != nil {
				tb.Errorf("cleanup: %v", err)
			}
		}
		removeCgroup(opts.CgroupParent)
	})
	return opts
}

// removeCgroup removes a cgroup in every hierarchy. The shared parent
// "/gsched-test" is removed once, after all tests (TestMain's cleanups):
// removing it whenever it is momentarily empty races with a parallel
// test's runc creating its own cgroup under it.
func removeCgroup(path string) {
	hier, _ := filepath.Glob("/sys/fs/cgroup/*")
	for _, h := range hier {
		_ = unix.Rmdir(filepath.Join(h, path))
	}
}

func (e *env) newRuntime(tb testing.TB, opts runc.Options) *runc.Runtime {
	tb.Helper()
	rt, err := runc.New(opts)
	if err != nil {
		tb.Fatalf("New: %v", err)
	}
	return rt
}

func TestContract(t *testing.T) {
	e := newEnv(t)
	var mu sync.Mutex
	optsOf := map[runtime.Runtime]runc.Options{}
	runtimetest.Run(t, func(t *testing.T) runtime.Runtime {
		opts := e.options(t)
		rt := e.newRuntime(t, opts)
		mu.Lock()
		optsOf[rt] = opts
		mu.Unlock()
		return rt
	}, runtimetest.Config{
		Real: true,
		Dir:  func(t *testing.T) string { return e.dir(t, "case-", 0o777) },
		Reopen: func(t *testing.T, old runtime.Runtime) runtime.Runtime {
			mu.Lock()
			opts := optsOf[old]
			mu.Unlock()
			return e.newRuntime(t, opts)
		},
	})
}

func spec(id, body, dir string) runtime.TaskSpec {
	return runtime.TaskSpec{
		ID: id, JobID: 1, UID: 65534, GID: 65534,
		Script: []byte("#!/bin/bash\n" + body + "\n"),
		Env:    []string{"PATH=/usr/bin:/bin"},
		Cwd:    dir, Stdout: filepath.Join(dir, id+".out"), Stderr: filepath.Join(dir, id+".out"),
		WritableDirs: []string{dir},
	}
}

// TestShimOwnSession checks that the shim does not share the daemon's
// session or process group, so it survives the daemon.
func TestShimOwnSession(t *testing.T) {
	e := newEnv(t)
	opts := e.options(t)
	rt := e.newRuntime(t, opts)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	dir := e.dir(t, "case-", 0o777)
	if err := rt.Start(ctx, spec("sess", "sleep 60", dir)); err != nil {
		t.Fatal(err)
	}
	pid := shimPid(t, opts, "sess")
	sid, err := unix.Getsid(pid)
	if err != nil || sid != pid {
		t.Fatalf("shim %d: sid %d, %v; want its own session", pid, sid, err)
	}
	comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
	if err != nil || strings.TrimSpace(string(comm)) != "gsched-shim" {
		t.Fatalf("shim comm = %q, %v", comm, err)
	}
	if err := rt.Destroy(ctx, "sess"); err != nil {
		t.Fatal(err)
	}
}

// A finished task leaves nothing behind, and its supervisor (the static
// init where make build made it, as gnoded runs it) removed the stopped
// container itself, not through runc delete: runc's state and the
// container's cgroups, which existed while it ran, are gone.
func TestFinishedTaskRemoved(t *testing.T) {
	e := newEnv(t)
	opts := e.options(t)
	if e.staticInit != "" {
		opts.ShimBinary = e.staticInit
	}
	// runc through a wrapper that lists its commands.
	calls := filepath.Join(t.TempDir(), "calls")
	wrapper := filepath.Join(t.TempDir(), "runc")
	if err := os.WriteFile(wrapper, []byte("#!/bin/sh\necho \"$@\" >>"+calls+"\nexec "+opts.RuncPath+" \"$@\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	opts.RuncPath = wrapper
	rt := e.newRuntime(t, opts)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	dir := e.dir(t, "case-", 0o777)
	if err := rt.Start(ctx, spec("gone", "sleep 60", dir)); err != nil {
		t.Fatal(err)
	}
	cgroups := func() []string {
		m, err := filepath.Glob("/sys/fs/cgroup/*" + strings.TrimSuffix(opts.CgroupParent, "/") + "/gone")
		if err != nil {
			t.Fatal(err)
		}
		u, _ := filepath.Glob("/sys/fs/cgroup/unified" + strings.TrimSuffix(opts.CgroupParent, "/") + "/gone")
		return append(m, u...)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if st, err := rt.Status(ctx, "gone"); err == nil && !st.StartedAt.IsZero() && len(cgroups()) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no cgroup of the running task found (%v)", cgroups())
		}
	}
	if _, err := os.Stat(filepath.Join(opts.RuncRoot, "gone", "state.json")); err != nil {
		t.Fatalf("runc state of the running task: %v", err)
	}
	if err := rt.Kill(ctx, "gone", time.Second); err != nil {
		t.Fatal(err)
	}
	if st, err := rt.Wait(ctx, "gone"); err != nil || !st.Killed {
		t.Fatalf("wait: %+v %v", st, err)
	}
	if _, err := os.Stat(filepath.Join(opts.RuncRoot, "gone")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("runc state left: %v", err)
	}
	if left := cgroups(); len(left) > 0 {
		t.Errorf("cgroups left: %v", left)
	}
	b, err := os.ReadFile(calls)
	if err != nil || !strings.Contains(string(b), " run ") || strings.Contains(string(b), "delete gone") || strings.Contains(string(b), "delete --force gone") {
		log, _ := os.ReadFile(filepath.Join(opts.StateDir, "gone", "shim.log"))
		t.Errorf("runc commands %q (%v), want a run and no delete of the task; shim.log:\n%s", b, err, log)
	}
	if err := rt.Destroy(ctx, "gone"); err != nil {
		t.Fatal(err)
	}
}

func shimPid(t *testing.T, opts runc.Options, id string) int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(opts.StateDir, id, "shim.pid"))
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.Fields(string(b))[0])
	if err != nil {
		t.Fatal(err)
	}
	return pid
}

// TestShimKilled: a task whose shim is SIGKILLed keeps running (an orphan)
// and, once it stops, is recorded as Lost.
func TestShimKilled(t *testing.T) {
	e := newEnv(t)
	opts := e.options(t)
	rt := e.newRuntime(t, opts)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	dir := e.dir(t, "case-", 0o777)
	if err := rt.Start(ctx, spec("orphan", "touch $PWD/orphan.ready; sleep 60", dir)); err != nil {
		t.Fatal(err)
	}
	waitFile(ctx, t, filepath.Join(dir, "orphan.ready"))
	pid := shimPid(t, opts, "orphan")
	if err := unix.Kill(pid, unix.SIGKILL); err != nil {
		t.Fatal(err)
	}
	rt2 := e.newRuntime(t, opts) // a restarted daemon: no in-memory shim
	for {
		if _, err := os.Stat(fmt.Sprintf("/proc/%d", pid)); err != nil {
			break // reaped by rt's goroutine
		}
		if s, _ := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); strings.Contains(string(s), ") Z ") {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatal("shim did not die")
		case <-time.After(10 * time.Millisecond):
		}
	}
	st, err := rt2.Status(ctx, "orphan")
	if err != nil || !st.Running {
		t.Fatalf("orphan status = %+v, %v; want running", st, err)
	}
	if err := rt2.Kill(ctx, "orphan", time.Second); err != nil {
		t.Fatal(err)
	}
	st, err = rt2.Wait(ctx, "orphan")
	if err != nil || st.Running || !st.Lost || !st.Killed || st.Error == "" {
		t.Fatalf("orphan end = %+v, %v; want Lost and Killed", st, err)
	}
}

// TestStartFailureRecorded: a device that does not exist fails the task
// before the shim; Start records it and returns nil.
func TestStartFailureRecorded(t *testing.T) {
	e := newEnv(t)
	opts := e.options(t)
	rt := e.newRuntime(t, opts)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	dir := e.dir(t, "case-", 0o777)
	ts := spec("nodev", "exit 0", dir)
	ts.Devices = []runtime.Device{{Path: "/dev/nvidia9", HostPath: filepath.Join(dir, "missing")}}
	if err := rt.Start(ctx, ts); err != nil {
		t.Fatalf("Start: %v", err)
	}
	st, err := rt.Wait(ctx, "nodev")
	if err != nil || st.ExitCode == 0 || !strings.Contains(st.Error, "missing") {
		t.Fatalf("status = %+v, %v; want the device error", st, err)
	}
	if err := rt.Start(ctx, runtime.TaskSpec{ID: "../x"}); err == nil {
		t.Fatal("Start accepted an invalid ID")
	}
}

// TestStatusWhileStarting: List and Status from other goroutines (the
// metrics scrape, the exit watchers) see a task whose Start is under way,
// its dir there but its shim not yet, as running, never as an orphan
// that lost its supervisor.
func TestStatusWhileStarting(t *testing.T) {
	e := newEnv(t)
	opts := e.options(t)
	rt := e.newRuntime(t, opts)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	dir := e.dir(t, "case-", 0o777)
	for i := 0; i < 5; i++ {
		id := fmt.Sprintf("starting%d", i)
		done := make(chan error, 1)
		go func() { done <- rt.Start(ctx, spec(id, "exit 3", dir)) }()
		seen := 0
	poll:
		for {
			select {
			case err := <-done:
				if err != nil {
					t.Fatal(err)
				}
				break poll
			default:
			}
			list, err := rt.List(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, st := range list {
				if st.ID == id {
					seen++
					if st.Lost || st.Error != "" {
						t.Fatalf("%s while starting: %+v", id, st)
					}
				}
			}
		}
		st, err := rt.Wait(ctx, id)
		if err != nil || st.Lost || st.ExitCode != 3 {
			t.Fatalf("%s ended %+v, %v; want exit 3 (seen %d times while starting)", id, st, err, seen)
		}
		if err := rt.Destroy(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
}

func waitFile(ctx context.Context, t *testing.T, path string) {
	t.Helper()
	for {
		if _, err := os.Stat(path); err == nil {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("waiting for %s: %v", path, ctx.Err())
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// BenchmarkStartWait measures a trivial task: Start returning (handed to
// the shim), Start to the container running (the script's first command,
// by its file's mtime) and end to end (Start to Wait returning), and
// reports their medians, and the CPU that each task cost all processes.
// GSCHED_BENCH_BINARY=PATH makes PATH (bin/gnoded, bin/gsched-init) the
// tasks' supervisor and init instead of this test binary.
func BenchmarkStartWait(b *testing.B) {
	e := newEnv(b)
	opts := e.options(b)
	if bin := os.Getenv("GSCHED_BENCH_BINARY"); bin != "" {
		opts.InitBinary, opts.ShimBinary = bin, bin
	}
	rt := e.newRuntime(b, opts)
	dir := e.dir(b, "bench-", 0o777)
	ctx := context.Background()
	var total, running, handed []time.Duration
	// One task first: what the node does once (the seccomp filter...)
	// is not per task.
	if err := rt.Start(ctx, spec("warm", "true", dir)); err != nil {
		b.Fatal(err)
	}
	if _, err := rt.Wait(ctx, "warm"); err != nil {
		b.Fatal(err)
	}
	if err := rt.Destroy(ctx, "warm"); err != nil {
		b.Fatal(err)
	}
	cpu0 := treeCPU()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		id := fmt.Sprintf("b%d", i)
		ready := filepath.Join(dir, id+".ready")
		t0 := time.Now()
		if err := rt.Start(ctx, spec(id, "touch "+ready, dir)); err != nil {
			b.Fatal(err)
		}
		handed = append(handed, time.Since(t0))
		st, err := rt.Wait(ctx, id)
		if err != nil || st.ExitCode != 0 {
			b.Fatalf("%+v %v", st, err)
		}
		total = append(total, time.Since(t0))
		if fi, err := os.Stat(ready); err == nil {
			running = append(running, fi.ModTime().Sub(t0))
		}
		b.StopTimer()
		if err := rt.Destroy(ctx, id); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	b.StopTimer()
	// CPU of this process and of every process it reaped (shims, runc,
	// the containers' processes): the last shims may still be exiting.
	cpu, n := treeCPU(), len(total)
	for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline); {
		time.Sleep(100 * time.Millisecond)
		c := treeCPU()
		if c == cpu {
			break
		}
		cpu = c
	}
	b.ReportMetric(float64((cpu-cpu0).Microseconds())/1000/float64(n), "ms-cpu/op")
	b.ReportMetric(float64(median(handed).Microseconds())/1000, "ms-median-start-return")
	b.ReportMetric(float64(median(total).Microseconds())/1000, "ms-median-e2e")
	b.ReportMetric(float64(median(running).Microseconds())/1000, "ms-median-to-running")
}

// treeCPU is the user and system CPU of this process and of its reaped
// descendants.
func treeCPU() time.Duration {
	var t time.Duration
	for _, who := range []int{unix.RUSAGE_SELF, unix.RUSAGE_CHILDREN} {
		var ru unix.Rusage
		if err := unix.Getrusage(who, &ru); err == nil {
			t += time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
		}
	}
	return t
}

func median(d []time.Duration) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}

// TestSignalStopCont: SIGSTOP (which the init cannot forward) stops every
// process of the task, SIGCONT resumes them.
func TestSignalStopCont(t *testing.T) {
	e := newEnv(t)
	opts := e.options(t)
	rt := e.newRuntime(t, opts)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	dir := e.dir(t, "case-", 0o777)
	tick := filepath.Join(dir, "tick")
	body := "touch $PWD/stop.ready\nwhile :; do date +%s%N > " + tick + "; sleep 0.02; done"
	if err := rt.Start(ctx, spec("stop", body, dir)); err != nil {
		t.Fatal(err)
	}
	waitFile(ctx, t, filepath.Join(dir, "stop.ready"))
	if err := rt.Signal(ctx, "stop", unix.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	procs := filepath.Join("/sys/fs/cgroup/pids", opts.CgroupParent, "stop", "cgroup.procs")
	for !allStopped(t, procs) {
		select {
		case <-ctx.Done():
			t.Fatal("task processes not stopped")
		case <-time.After(10 * time.Millisecond):
		}
	}
	before := readTick(tick)
	if err := rt.Signal(ctx, "stop", unix.SIGCONT); err != nil {
		t.Fatal(err)
	}
	for readTick(tick) == before {
		select {
		case <-ctx.Done():
			t.Fatal("task did not resume")
		case <-time.After(10 * time.Millisecond):
		}
	}
	if err := rt.Kill(ctx, "stop", time.Second); err != nil {
		t.Fatal(err)
	}
	if st, err := rt.Wait(ctx, "stop"); err != nil || !st.Killed {
		t.Fatalf("status = %+v, %v", st, err)
	}
}

func readTick(path string) string {
	b, _ := os.ReadFile(path)
	return string(b)
}

// allStopped reports whether every process listed in procs is stopped.
func allStopped(t *testing.T, procs string) bool {
	t.Helper()
	b, err := os.ReadFile(procs)
	if err != nil {
		t.Fatal(err)
	}
	pids := strings.Fields(string(b))
	if len(pids) == 0 {
		t.Fatal("no processes in the task's cgroup")
	}
	for _, p := range pids {
		s, err := os.ReadFile("/proc/" + p + "/stat")
		if err != nil {
			continue // exited
		}
		i := strings.LastIndexByte(string(s), ')')
		if i < 0 || i+2 >= len(s) || s[i+2] != 'T' {
			return false
		}
	}
	return true
}

// TestDaemonKilled: the node daemon (here a helper process running this
// test binary) is SIGKILLed right after Start; the task carries on under
// its shim, and a new Runtime over the same state gets its exit code.
func TestDaemonKilled(t *testing.T) {
	if os.Getenv("GSCHED_HELPER_STATE") != "" {
		helperDaemon()
		return
	}
	e := newEnv(t)
	opts := e.options(t)
	dir := e.dir(t, "case-", 0o777)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestDaemonKilled$")
	cmd.Env = append(os.Environ(),
		"GSCHED_HELPER_STATE="+opts.StateDir, "GSCHED_HELPER_RUNC="+opts.RuncPath,
		"GSCHED_HELPER_ROOT="+opts.RuncRoot, "GSCHED_HELPER_CGROUP="+opts.CgroupParent,
		"GSCHED_HELPER_ROOTFS="+opts.RootfsDir, "GSCHED_HELPER_DIR="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || strings.TrimSpace(line) != "started" {
		t.Fatalf("helper said %q, %v", line, err)
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	rt := e.newRuntime(t, opts)
	st, err := rt.Wait(ctx, "survivor")
	if err != nil || st.ExitCode != 3 || st.Lost {
		t.Fatalf("after the daemon died: %+v, %v; want exit 3", st, err)
	}
	if got := readTick(filepath.Join(dir, "survivor.out")); got != "done\n" {
		t.Fatalf("output = %q", got)
	}
}

// helperDaemon starts one task, says so, and waits to be killed.
func helperDaemon() {
	rt, err := runc.New(runc.Options{
		StateDir: os.Getenv("GSCHED_HELPER_STATE"), RuncPath: os.Getenv("GSCHED_HELPER_RUNC"),
		RuncRoot: os.Getenv("GSCHED_HELPER_ROOT"), CgroupParent: os.Getenv("GSCHED_HELPER_CGROUP"),
		RootfsDir: os.Getenv("GSCHED_HELPER_ROOTFS"),
	})
	if err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	if err := rt.Start(context.Background(), spec("survivor", "sleep 1; echo done; exit 3", os.Getenv("GSCHED_HELPER_DIR"))); err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	fmt.Println("started")
	time.Sleep(time.Hour) // until SIGKILLed
}
