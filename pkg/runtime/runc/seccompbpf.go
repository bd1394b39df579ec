package runc

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"strconv"
	"strings"
	"sync"
	"time"
	"unsafe"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"go.uber.org/zap"
	"golang.org/x/sys/unix"

	"github.com/gsched/gsched/pkg/runtime"
)

// The seccomp filter, compiled once per node daemon.
//
// runc compiles a spec's linux.seccomp with libseccomp in `runc init` of
// every container: for Docker's default profile, about a fifth of the CPU
// a trivial job costs (docs/BENCHMARKS.md). The profile is the same for
// every job of a node (one for users, one for root at most), so the node
// daemon has runc compile each distinct profile once and keeps the
// result:
//
//  1. capture: a probe container with the profile is created (`runc
//     create`), so that runc's init loads the filter (libseccomp's program
//     plus runc's -ENOSYS stub: exactly what a job would get) and then
//     waits on its exec fifo; the daemon reads the loaded program back
//     with ptrace(PTRACE_SECCOMP_GET_FILTER) and deletes the probe.
//  2. check: the init binary the jobs will use loads the program in a
//     throw-away process (the seccompCheckName role), which proves that it
//     is new enough to load it and that the kernel takes it.
//  3. per task: the program is hard-linked into the task dir as
//     seccomp.bpf, and the spec carries no linux.seccomp; the init loads
//     it with TSYNC before anything of the user's runs (seccompload.go),
//     or fails the task.
//
// The init of such a task is always the static gsched-init, through a
// private execute-only copy: a static binary does not honour LD_PRELOAD
// and the like from the job's environment (the dynamic loader would run
// the user's code before the filter is loaded), and a binary its user may
// not read (mode 0111: root jobs have no CAP_DAC_OVERRIDE) runs
// non-dumpable (unless fs.suid_dumpable is 1), so that the job's processes
// cannot ptrace a step's init (runc exec) before it has loaded the filter.
//
// When any of this is not possible (no static init, no ptrace of seccomp
// filters in the kernel, a profile with flags...), runc compiles the
// profile as before, the task's init is what it was before (gnoded for a
// host-root task), and the daemon says why once.

// seccompCheckName is the role (argv[0]) in which the init binary loads the
// filter file given and reports its seccomp mode.
const seccompCheckName = "gsched-seccomp-check"

// privateInitName is the execute-only copy of the static init, with
// privateInitMode.
const (
	privateInitName = "gsched-init"
	privateInitMode = 0o111
)

// seccompCache holds the precompiled filters of a Runtime.
type seccompCache struct {
	dir string // <StateDir>/../seccomp

	mu      sync.Mutex
	init    string            // the private init; "" until made
	initErr error             // why there is none (then runc compiles)
	filters map[string]string // profile hash -> filter file; "" = runc compiles it
}

// newSeccompCache returns the cache of r, or nil when runc cannot apply a
// profile at all or there is no static init for the jobs.
func newSeccompCache(r *Runtime) *seccompCache {
	if !r.seccomp.Enabled {
		return nil
	}
	if r.opts.StaticInit == "" {
		r.log.Info("seccomp: runc compiles the profile for every container: no static init (gsched-init) to load a precompiled filter")
		return nil
	}
	return &seccompCache{dir: filepath.Join(filepath.Dir(r.opts.StateDir), "seccomp"), filters: make(map[string]string)}
}

// precompiledSeccomp links the precompiled filter of profile (a task's)
// into the task dir and returns the init that loads it: the task's spec
// must then have no profile and this init. ok is false when there is no
// such filter, and then runc compiles the profile (and the task's init is
// as it would be without this file).
func (r *Runtime) precompiledSeccomp(profile *specs.LinuxSeccomp, dir string) (init string, ok bool) {
	if profile == nil || r.bpf == nil {
		return "", false
	}
	init, file := r.seccompFilter(profile)
	if file == "" {
		return "", false
	}
	if err := linkOrCopy(file, filepath.Join(dir, seccompFile)); err != nil {
		r.log.Warn("seccomp: runc compiles the profile of this task", zap.String("dir", dir), zap.Error(err))
		return "", false
	}
	return init, true
}

// seccompFilter returns the file of the precompiled filter of profile,
// compiling it on first use, and the init that loads it; "" when it cannot
// be had.
func (r *Runtime) seccompFilter(profile *specs.LinuxSeccomp) (init, file string) {
	c := r.bpf
	b, err := json.Marshal(profile)
	if err != nil {
		return "", ""
	}
	sum := sha256.Sum256(b)
	key := hex.EncodeToString(sum[:])
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.init == "" && c.initErr == nil {
		c.init, c.initErr = privateInit(r.opts.StaticInit, c.dir)
		if c.initErr != nil {
			r.log.Warn("seccomp: runc compiles the profile for every container", zap.Error(c.initErr))
		}
	}
	if c.initErr != nil {
		return "", ""
	}
	if file, ok := c.filters[key]; ok {
		return c.init, file
	}
	t0 := time.Now()
	// Not the task's context: a failure is kept for good.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	file, n, err := r.precompile(ctx, profile, key)
	if err != nil {
		r.log.Warn("seccomp: runc compiles the profile for every container: cannot precompile it", zap.Error(err))
		file = ""
	} else {
		r.log.Info("seccomp: profile compiled once for this node", zap.String("file", file),
			zap.Int("instructions", n), zap.Duration("took", time.Since(t0)))
	}
	// A failure is not retried: every task would pay for a probe.
	c.filters[key] = file
	if file == "" {
		return "", ""
	}
	return c.init, file
}

// precompile captures the filter runc makes of profile, writes it to
// <dir>/<key>.bpf and has the jobs' init load it once.
func (r *Runtime) precompile(ctx context.Context, profile *specs.LinuxSeccomp, key string) (string, int, error) {
	c := r.bpf
	if len(profile.Flags) > 0 || len(profile.ListenerPath) > 0 {
		return "", 0, errors.New("the profile has flags or a listener, which a captured program does not carry")
	}
	for _, sc := range profile.Syscalls {
		if sc.Action == specs.ActNotify {
			return "", 0, errors.New("the profile notifies a listener")
		}
	}
	prog, err := r.captureSeccomp(ctx, profile, "gsched-seccomp-"+key[:12])
	if err != nil {
		return "", 0, err
	}
	file := filepath.Join(c.dir, key+".bpf")
	if err := writeFileMode(file, prog, 0o444); err != nil {
		return "", 0, fmt.Errorf("write filter: %w", err)
	}
	if err := checkSeccompInit(ctx, c.init, file); err != nil {
		_ = os.Remove(file)
		return "", 0, err
	}
	return file, len(prog) / int(unsafe.Sizeof(unix.SockFilter{})), nil
}

// captureSeccomp creates a probe container (id) with profile, reads back
// the filter runc loaded into its init and deletes the probe.
func (r *Runtime) captureSeccomp(ctx context.Context, profile *specs.LinuxSeccomp, id string) ([]byte, error) {
	c := r.bpf
	probe := filepath.Join(c.dir, "probe")
	root := filepath.Join(c.dir, "runc")
	runcCmd := func(args ...string) error {
		cmd := exec.CommandContext(ctx, r.opts.RuncPath, append([]string{"--root", root}, args...)...)
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("runc %s: %w: %s", args[0], err, strings.TrimSpace(string(out)))
		}
		return nil
	}
	// One probe at a time per dir (two Runtimes over one state dir, in
	// tests): then whatever is in the probes' runc root was left by a
	// daemon that died, its init still waiting.
	lock, err := os.OpenFile(filepath.Join(c.dir, "probe.lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("probe: %w", err)
	}
	defer lock.Close() // unlocks
	if err := unix.Flock(int(lock.Fd()), unix.LOCK_EX); err != nil {
		return nil, fmt.Errorf("probe: lock: %w", err)
	}
	if out, err := exec.CommandContext(ctx, r.opts.RuncPath, "--root", root, "list", "-q").Output(); err == nil {
		for _, left := range strings.Fields(string(out)) {
			_ = runcCmd("delete", "--force", left)
		}
	}
	if err := os.RemoveAll(probe); err != nil {
		return nil, fmt.Errorf("probe: %w", err)
	}
	if err := os.MkdirAll(filepath.Join(probe, bundleDir), 0o711); err != nil {
		return nil, fmt.Errorf("probe: %w", err)
	}
	defer os.RemoveAll(probe)
	ts := runtime.TaskSpec{ID: id, UID: 65534, GID: 65534, Cwd: "/"}
	s, err := buildSpec(ts, specParams{
		Hostname: r.hostname, Rootfs: r.opts.RootfsDir, TaskDir: probe, InitBinary: c.init,
		CgroupsPath: r.cgroupsPath(id), NoFile: r.noFile,
	})
	if err != nil {
		return nil, fmt.Errorf("probe spec: %w", err)
	}
	s.Process.Args = []string{initPath} // never runs: the probe is deleted first
	s.Linux.Seccomp = profile
	if err := writeJSONAtomic(filepath.Join(probe, bundleDir, "config.json"), s); err != nil {
		return nil, fmt.Errorf("probe: %w", err)
	}
	// The container's stdio is a file: with pipes, waiting for runc
	// create would wait for the init too.
	logf, err := os.Create(filepath.Join(probe, "stdio"))
	if err != nil {
		return nil, fmt.Errorf("probe: %w", err)
	}
	defer logf.Close()
	pidFile := filepath.Join(probe, "init.pid")
	cmd := exec.CommandContext(ctx, r.opts.RuncPath, "--root", root, "create",
		"--bundle", filepath.Join(probe, bundleDir), "--pid-file", pidFile, id)
	cmd.Dir, cmd.Stdout, cmd.Stderr = probe, logf, logf
	if err := cmd.Run(); err != nil {
		b, _ := os.ReadFile(logf.Name())
		return nil, fmt.Errorf("probe: runc create: %w: %s", err, strings.TrimSpace(string(b)))
	}
	defer func() {
		if err := runcCmd("delete", "--force", id); err != nil {
			r.log.Warn("seccomp: probe container left", zap.String("id", id), zap.Error(err))
		}
	}()
	b, err := os.ReadFile(pidFile)
	if err != nil {
		return nil, fmt.Errorf("probe: %w", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return nil, fmt.Errorf("probe: bad pid %q", b)
	}
	return readSeccompFilter(pid)
}

// readSeccompFilter returns the one seccomp filter of process pid, which
// must be stopped nowhere else: it is seized and interrupted for the
// reading (ptrace needs a stopped tracee), then let go. This needs
// CAP_SYS_ADMIN and a kernel with CONFIG_CHECKPOINT_RESTORE.
func readSeccompFilter(pid int) ([]byte, error) {
	type result struct {
		b   []byte
		err error
	}
	done := make(chan result, 1)
	go func() {
		// ptrace requests come from the thread that attached. The
		// thread is not unlocked: it ends with the goroutine, which
		// detaches the tracee should an error come first.
		goruntime.LockOSThread()
		b, err := ptraceFilter(pid)
		done <- result{b, err}
	}()
	r := <-done
	return r.b, r.err
}

func ptraceFilter(pid int) ([]byte, error) {
	if err := unix.PtraceSeize(pid); err != nil {
		return nil, fmt.Errorf("ptrace seize %d: %w", pid, err)
	}
	if err := unix.PtraceInterrupt(pid); err != nil {
		return nil, fmt.Errorf("ptrace interrupt %d: %w", pid, err)
	}
	for {
		var ws unix.WaitStatus
		_, err := unix.Wait4(pid, &ws, unix.WALL, nil)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("wait for %d: %w", pid, err)
		}
		if !ws.Stopped() {
			return nil, fmt.Errorf("probe %d: not stopped (%v)", pid, ws)
		}
		break
	}
	getFilter := func(index int, buf []unix.SockFilter) (int, error) {
		var p uintptr
		if len(buf) > 0 {
			p = uintptr(unsafe.Pointer(&buf[0]))
		}
		n, _, errno := unix.Syscall6(unix.SYS_PTRACE, unix.PTRACE_SECCOMP_GET_FILTER, uintptr(pid), uintptr(index), p, 0, 0)
		if errno != 0 {
			return 0, errno
		}
		return int(n), nil
	}
	n, err := getFilter(0, nil)
	if err != nil {
		return nil, fmt.Errorf("read filter of %d: %w", pid, err)
	}
	if n <= 0 || n > bpfMaxInsns {
		return nil, fmt.Errorf("read filter of %d: %d instructions", pid, n)
	}
	// runc loads one filter; a second one would come from the daemon's
	// own (and the kernel would refuse the reading anyway).
	if _, err := getFilter(1, nil); !errors.Is(err, unix.ENOENT) {
		return nil, fmt.Errorf("read filter of %d: more than one filter (%v)", pid, err)
	}
	prog := make([]unix.SockFilter, n)
	if m, err := getFilter(0, prog); err != nil || m != n {
		return nil, fmt.Errorf("read filter of %d: %d of %d instructions: %v", pid, m, n, err)
	}
	if err := unix.PtraceDetach(pid); err != nil {
		return nil, fmt.Errorf("ptrace detach %d: %w", pid, err)
	}
	size := n * int(unsafe.Sizeof(unix.SockFilter{}))
	return append([]byte(nil), unsafe.Slice((*byte)(unsafe.Pointer(&prog[0])), size)...), nil
}

// checkSeccompInit has init load the filter file in a process of its own
// and report its seccomp mode: an init too old to know the file would run
// jobs with no filter at all.
func checkSeccompInit(ctx context.Context, init, file string) error {
	cmd := &exec.Cmd{Path: init, Args: []string{seccompCheckName, file}, Dir: "/"}
	out, err := cmd.CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "Seccomp:2" {
		return fmt.Errorf("%s cannot load the filter: %v: %q", init, err, out)
	}
	return ctx.Err()
}

// seccompCheckMain is the seccompCheckName role: load the filter file
// args[0], then print the seccomp mode of this process.
func seccompCheckMain(args []string) int {
	if len(args) != 1 {
		fmt.Fprintln(os.Stderr, "usage: "+seccompCheckName+" FILTER")
		return 2
	}
	b, err := os.ReadFile(args[0])
	if err == nil {
		err = loadSeccompProgram(b)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	for l := range strings.Lines(string(status)) {
		if v, ok := strings.CutPrefix(l, "Seccomp:"); ok {
			fmt.Printf("Seccomp:%s\n", strings.TrimSpace(v))
			return 0
		}
	}
	fmt.Fprintln(os.Stderr, "no Seccomp line in /proc/self/status")
	return 1
}

// privateInit copies the static init to <dir>/gsched-init, mode 0111 (see
// the comment at the top), unless an identical copy is there.
func privateInit(static, dir string) (string, error) {
	if !isStatic(static) {
		return "", fmt.Errorf("init %s is not a static binary", static)
	}
	// 1 makes every process dumpable, an unreadable binary too.
	if b, err := os.ReadFile("/proc/sys/fs/suid_dumpable"); err != nil || strings.TrimSpace(string(b)) == "1" {
		return "", fmt.Errorf("fs.suid_dumpable is 1 (or unknown: %v): a job could ptrace a step's init before its filter is loaded", err)
	}
	if err := os.MkdirAll(dir, 0o711); err != nil {
		return "", fmt.Errorf("private init: %w", err)
	}
	dst := filepath.Join(dir, privateInitName)
	src, err := os.Open(static)
	if err != nil {
		return "", fmt.Errorf("private init: %w", err)
	}
	defer src.Close()
	sfi, err := src.Stat()
	if err != nil {
		return "", fmt.Errorf("private init: %w", err)
	}
	if dfi, err := os.Stat(dst); err == nil && dfi.Size() == sfi.Size() && dfi.ModTime().Equal(sfi.ModTime()) && dfi.Mode().Perm() == privateInitMode {
		return dst, nil
	}
	tmp, err := os.CreateTemp(dir, "."+privateInitName+".tmp*")
	if err != nil {
		return "", fmt.Errorf("private init: %w", err)
	}
	_, err = io.Copy(tmp, src)
	if err == nil {
		err = tmp.Chmod(privateInitMode)
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chtimes(tmp.Name(), sfi.ModTime(), sfi.ModTime())
	}
	if err == nil {
		// A rename leaves running containers their own (bound) copy.
		err = os.Rename(tmp.Name(), dst)
	}
	if err != nil {
		_ = os.Remove(tmp.Name())
		return "", fmt.Errorf("private init: %w", err)
	}
	return dst, nil
}

// linkOrCopy hard-links src to dst, or copies it (another file system).
func linkOrCopy(src, dst string) error {
	if err := os.Link(src, dst); err == nil {
		return nil
	}
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	return os.WriteFile(dst, b, 0o444)
}
