package runc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	ps "github.com/mitchellh/go-ps"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"go.uber.org/zap"
	"golang.org/x/sys/unix"

	"github.com/gsched/gsched/pkg/runtime"
)

// Files of a task dir <StateDir>/<id>/.
const (
	taskFile    = "task.json"   // the TaskSpec
	bundleDir   = "bundle"      // the OCI bundle (config.json)
	scriptFile  = "script"      // the job script, owned by the user, 0500
	shimPidFile = "shim.pid"    // "<pid> <executable>"
	shimLogFile = "shim.log"    // shim, runc and init messages
	startedFile = "started"     // when the container started (RFC 3339)
	statusFile  = "status.json" // the final Status, written atomically
	killFile    = "kill"        // Kill was requested; holds the grace
)

// pollInterval is how often Wait polls a task it did not start itself.
const pollInterval = 100 * time.Millisecond

// Options configure a Runtime.
type Options struct {
	// StateDir holds one dir per task (e.g. var/node/n1/tasks).
	StateDir string
	// RuncPath is the runc binary.
	RuncPath string
	// RuncRoot is runc's --root, one per node.
	RuncRoot string
	// CgroupParent is the absolute cgroup under which every task gets
	// CgroupParent/<id> (e.g. "/gsched/n1").
	CgroupParent string
	Logger       *zap.Logger

	// RootfsDir is the skeleton rootfs that binds the host tree; default
	// <StateDir>/../rootfs. Runtimes may share it.
	RootfsDir string
	// InitBinary is bind-mounted as the in-container init; default
	// os.Executable(). It must call Main first thing.
	InitBinary string
	// ShimBinary is started as each task's supervisor (argv[0]
	// gsched-shim); default /proc/self/exe. It must call Main first
	// thing. gnoded uses the small static gsched-init for both, whose
	// start costs about half of gnoded's own (docs/BENCHMARKS.md).
	ShimBinary string

	// Image tasks (TaskSpec.Image); see image.go.
	// ImageDir is the node's image cache (default <StateDir>/../images).
	ImageDir string
	// ImageCacheSize is the size the cache is collected back under (0 =
	// no limit).
	ImageCacheSize int64
	// StaticInit is a statically linked init for image tasks, whose
	// rootfs may have no C library (gsched-init); default InitBinary when
	// that is static.
	StaticInit string
	// CDISpecDirs hold the CDI specs that image tasks' GPUs are looked up
	// in (default /etc/cdi, /var/run/cdi).
	CDISpecDirs []string
	// CopyRootfs copies image layers instead of mounting overlayfs (the
	// fallback, forced: for tests).
	CopyRootfs bool
}

// Runtime runs each task in a runc container held by its own supervisor
// process (the shim), so tasks outlive the node daemon.
type Runtime struct {
	opts       Options
	log        *zap.Logger
	hostname   string
	hostMounts []specs.Mount
	noFile     uint64
	seccomp    SeccompSupport
	bpf        *seccompCache // nil: runc compiles the profile of every task

	mu    sync.Mutex
	shims map[string]*shimProc // shims started by this process
	// starting holds the tasks whose Start is under way: their dir
	// exists before their shim does, and they are not orphans.
	starting map[string]bool
}

var _ runtime.Runtime = (*Runtime)(nil)

// shimProc is a shim started by this process; done closes once it exited
// and was reaped.
type shimProc struct {
	pid  int
	done chan struct{}
}

// New checks the options, creates the state dirs and the skeleton rootfs.
func New(opts Options) (*Runtime, error) {
	if opts.StateDir == "" || opts.RuncPath == "" || opts.RuncRoot == "" {
		return nil, errors.New("runc runtime: StateDir, RuncPath and RuncRoot are required")
	}
	if !strings.HasPrefix(opts.CgroupParent, "/") {
		return nil, fmt.Errorf("runc runtime: CgroupParent %q must be absolute", opts.CgroupParent)
	}
	var err error
	for _, p := range []*string{&opts.StateDir, &opts.RuncRoot, &opts.RuncPath} {
		if *p, err = filepath.Abs(*p); err != nil {
			return nil, fmt.Errorf("runc runtime: %w", err)
		}
	}
	if opts.RootfsDir == "" {
		opts.RootfsDir = filepath.Join(filepath.Dir(opts.StateDir), "rootfs")
	}
	if opts.InitBinary == "" {
		if opts.InitBinary, err = os.Executable(); err != nil {
			return nil, fmt.Errorf("runc runtime: init binary: %w", err)
		}
	}
	if opts.ShimBinary == "" {
		opts.ShimBinary = "/proc/self/exe"
	}
	if opts.Logger == nil {
		opts.Logger = zap.NewNop()
	}
	if opts.ImageDir == "" {
		opts.ImageDir = filepath.Join(filepath.Dir(opts.StateDir), "images")
	}
	if opts.StaticInit == "" && isStatic(opts.InitBinary) {
		opts.StaticInit = opts.InitBinary
	}
	if opts.CDISpecDirs == nil {
		opts.CDISpecDirs = DefaultCDISpecDirs
	}
	if err := unix.Access(opts.RuncPath, unix.X_OK); err != nil {
		return nil, fmt.Errorf("runc runtime: runc %s: %w", opts.RuncPath, err)
	}
	if err := os.MkdirAll(opts.StateDir, 0o711); err != nil {
		return nil, fmt.Errorf("runc runtime: %w", err)
	}
	if err := os.MkdirAll(opts.RuncRoot, 0o700); err != nil {
		return nil, fmt.Errorf("runc runtime: %w", err)
	}
	ro := "ro"
	if recursiveReadOnly() {
		ro = "rro"
	}
	mounts, err := buildSkeleton("/", opts.RootfsDir, ro)
	if err != nil {
		return nil, fmt.Errorf("runc runtime: %w", err)
	}
	host, err := os.Hostname()
	if err != nil {
		return nil, fmt.Errorf("runc runtime: %w", err)
	}
	r := &Runtime{
		opts:       opts,
		log:        opts.Logger.Named("runc"),
		hostname:   host,
		hostMounts: mounts,
		noFile:     noFileLimit(),
		shims:      make(map[string]*shimProc),
		starting:   make(map[string]bool),
	}
	r.seccomp = r.probeSeccomp()
	r.bpf = newSeccompCache(r)
	r.cleanupEndedImages()
	return r, nil
}

// probeSeccomp asks runc once whether it can apply a seccomp profile and
// logs the answer: without it, jobs run with no syscall filter.
func (r *Runtime) probeSeccomp() SeccompSupport {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	sc, err := ProbeSeccomp(ctx, r.opts.RuncPath)
	switch {
	case err != nil:
		r.log.Warn("seccomp is off: cannot tell whether runc supports it", zap.String("runc", r.opts.RuncPath), zap.Error(err))
	case !sc.Enabled:
		r.log.Warn("seccomp is off: runc was built without libseccomp; jobs run with no syscall filter "+
			"(build runc with -tags seccomp, which needs libseccomp-dev)", zap.String("runc", r.opts.RuncPath))
	default:
		r.log.Info("seccomp is on: jobs run under the default profile", zap.String("runc", r.opts.RuncPath),
			zap.String("libseccomp", sc.Libseccomp))
	}
	return sc
}

// Seccomp reports whether jobs get the default seccomp profile (the runc
// in use supports seccomp).
func (r *Runtime) Seccomp() bool { return r.seccomp.Enabled }

// recursiveReadOnly reports whether the kernel has mount_setattr, which
// runc needs for "rro" (recursive read-only binds).
func recursiveReadOnly() bool {
	err := unix.MountSetattr(-1, "", 0, &unix.MountAttr{})
	return !errors.Is(err, unix.ENOSYS)
}

// noFileLimit is the tasks' RLIMIT_NOFILE: 65536, or less if this process
// may not raise its own hard limit that far (and never below 1024).
func noFileLimit() uint64 {
	const want, least = 65536, 1024
	var rl unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &rl); err != nil {
		return least
	}
	return max(least, min(want, rl.Max))
}

var validID = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.+-]*$`)

func (r *Runtime) taskDir(id string) string { return filepath.Join(r.opts.StateDir, id) }

func (r *Runtime) cgroupsPath(id string) string {
	return strings.TrimSuffix(r.opts.CgroupParent, "/") + "/" + id
}

// Start records the task in its dir and hands it to a new shim. Once the
// task dir exists, failures are recorded as the task's Error and Start
// returns nil; it returns an error only when nothing could be recorded.
func (r *Runtime) Start(ctx context.Context, spec runtime.TaskSpec) error {
	if !validID.MatchString(spec.ID) || len(spec.ID) > 200 {
		return fmt.Errorf("start task %q: invalid id", spec.ID)
	}
	dir := r.taskDir(spec.ID)
	r.mu.Lock()
	if r.starting[spec.ID] {
		r.mu.Unlock()
		return fmt.Errorf("start task %s: %w", spec.ID, runtime.ErrExists)
	}
	r.starting[spec.ID] = true
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		delete(r.starting, spec.ID)
		r.mu.Unlock()
	}()
	if err := os.Mkdir(dir, 0o711); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("start task %s: %w", spec.ID, runtime.ErrExists)
		}
		return fmt.Errorf("start task %s: %w", spec.ID, err)
	}
	if err := writeJSONAtomic(filepath.Join(dir, taskFile), spec); err != nil {
		_ = os.RemoveAll(dir)
		return fmt.Errorf("start task %s: %w", spec.ID, err)
	}
	start := r.start
	if spec.ExecIn != "" {
		start = r.startExec
	}
	if err := start(ctx, spec, dir); err != nil {
		r.log.Warn("task failed to start", zap.Uint64("job", spec.JobID), zap.String("task", spec.ID), zap.Error(err))
		st := runtime.Status{
			ID: spec.ID, JobID: spec.JobID, ExitCode: failExitCode,
			Error: err.Error(), FinishedAt: time.Now(),
		}
		if werr := writeJSONAtomic(filepath.Join(dir, statusFile), st); werr != nil {
			return fmt.Errorf("start task %s: %w (recording: %v)", spec.ID, err, werr)
		}
	}
	return nil
}

func (r *Runtime) start(ctx context.Context, spec runtime.TaskSpec, dir string) error {
	if err := writeScript(filepath.Join(dir, scriptFile), spec); err != nil {
		return err
	}
	for name, content := range spec.Files {
		if name != filepath.Base(name) || name == scriptFile || !validID.MatchString(name) {
			return fmt.Errorf("task file %q: invalid name", name)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o444); err != nil {
			return fmt.Errorf("task file %s: %w", name, err)
		}
	}
	var err error
	devs := make([]runtime.Device, 0, len(spec.Devices))
	for _, d := range spec.Devices {
		rd, err := resolveDevice(d)
		if err != nil {
			return err
		}
		devs = append(devs, rd)
	}
	var writable []string
	for _, d := range spec.WritableDirs {
		if fi, err := os.Stat(d); err == nil && fi.IsDir() {
			writable = append(writable, d)
		}
	}
	spec.WritableDirs = writable
	p := specParams{
		Hostname:    r.hostname,
		Rootfs:      r.opts.RootfsDir,
		HostMounts:  r.hostMounts,
		TaskDir:     dir,
		InitBinary:  r.opts.InitBinary,
		CgroupsPath: r.cgroupsPath(spec.ID),
		Devices:     devs,
		NoFile:      r.noFile,
		Seccomp:     r.seccomp.Enabled,
	}
	var cdiNames []string
	if spec.Image != nil {
		if r.opts.StaticInit == "" {
			return errors.New("image jobs need the static init gsched-init beside gnoded or runc (make build)")
		}
		// The image's layers are mounted here by the shim; the host
		// tree is not bound in.
		p.Rootfs, p.HostMounts, p.InitBinary, p.Writable = filepath.Join(dir, imageRootfsDir), nil, r.opts.StaticInit, true
		p.Devices, cdiNames, err = r.splitCDI(devs)
		if err != nil {
			return err
		}
	}
	s, err := buildSpec(spec, p)
	if err != nil {
		return fmt.Errorf("oci spec: %w", err)
	}
	// The profile compiled once, loaded by the init (seccompbpf.go).
	if init, ok := r.precompiledSeccomp(s.Linux.Seccomp, dir); ok {
		p.InitBinary, p.Seccomp = init, false
		if s, err = buildSpec(spec, p); err != nil {
			return fmt.Errorf("oci spec: %w", err)
		}
	}
	if len(cdiNames) > 0 {
		if err := r.injectCDI(s, cdiNames); err != nil {
			return err
		}
	}
	if err := os.Mkdir(filepath.Join(dir, bundleDir), 0o700); err != nil {
		return fmt.Errorf("bundle: %w", err)
	}
	if err := writeJSONAtomic(filepath.Join(dir, bundleDir, "config.json"), s); err != nil {
		return fmt.Errorf("bundle: %w", err)
	}
	return r.launchShim(ctx, spec.ID, dir)
}

// writeScript writes the job script owned by the task's user, mode 0500.
func writeScript(path string, spec runtime.TaskSpec) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o500)
	if err != nil {
		return fmt.Errorf("script: %w", err)
	}
	_, err = f.Write(spec.Script)
	if err == nil {
		err = f.Chown(int(spec.UID), int(spec.GID))
	}
	if err == nil {
		err = f.Chmod(0o500)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("script: %w", err)
	}
	return nil
}

// launchShim re-execs this binary as the task's shim in its own session
// and waits until it is ready to take signals.
func (r *Runtime) launchShim(ctx context.Context, id, dir string) error {
	logf, err := os.OpenFile(filepath.Join(dir, shimLogFile), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("shim log: %w", err)
	}
	defer logf.Close()
	rd, wr, err := os.Pipe()
	if err != nil {
		return fmt.Errorf("shim: %w", err)
	}
	defer rd.Close()
	cmd := &exec.Cmd{
		Path: r.opts.ShimBinary,
		Args: append([]string{shimName, "-dir", dir, "-runc", r.opts.RuncPath,
			"-root", r.opts.RuncRoot, "-cgroup", r.cgroupsPath(id)}, r.imageShimArgs()...),
		Dir:         "/",
		Stdout:      logf,
		Stderr:      logf,
		ExtraFiles:  []*os.File{wr},
		SysProcAttr: &syscall.SysProcAttr{Setsid: true},
	}
	err = cmd.Start()
	wr.Close()
	if err != nil {
		return fmt.Errorf("start shim: %w", err)
	}
	sp := &shimProc{pid: cmd.Process.Pid, done: make(chan struct{})}
	r.mu.Lock()
	r.shims[id] = sp
	r.mu.Unlock()
	go func() {
		// Reap the shim (no zombie while we live); it outlives us if we
		// die first.
		_ = cmd.Wait()
		close(sp.done)
	}()
	if err := writeFileAtomic(filepath.Join(dir, shimPidFile), fmt.Appendf(nil, "%d %s\n", sp.pid, shimName)); err != nil {
		_ = cmd.Process.Kill()
		<-sp.done
		return fmt.Errorf("shim pid: %w", err)
	}
	deadline := time.Now().Add(30 * time.Second)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	_ = rd.SetReadDeadline(deadline)
	if _, err := rd.Read(make([]byte, 1)); err != nil {
		_ = cmd.Process.Kill()
		<-sp.done
		return fmt.Errorf("shim not ready: %w", err)
	}
	r.log.Debug("task handed to shim", zap.String("task", id), zap.Int("shim_pid", sp.pid))
	return nil
}

// Status reports the task's state from its dir.
func (r *Runtime) Status(ctx context.Context, id string) (runtime.Status, error) {
	if !validID.MatchString(id) {
		return runtime.Status{}, fmt.Errorf("status %q: %w", id, runtime.ErrNotFound)
	}
	dir := r.taskDir(id)
	var spec runtime.TaskSpec
	if err := readJSON(filepath.Join(dir, taskFile), &spec); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return runtime.Status{}, fmt.Errorf("status %s: %w", id, runtime.ErrNotFound)
		}
		return runtime.Status{}, fmt.Errorf("status %s: %w", id, err)
	}
	if st, ok, err := readStatus(dir); ok || err != nil {
		return st, err
	}
	if r.shimAlive(id) {
		return r.running(spec), nil
	}
	return r.orphan(ctx, spec)
}

func (r *Runtime) running(spec runtime.TaskSpec) runtime.Status {
	st := runtime.Status{ID: spec.ID, JobID: spec.JobID, Running: true}
	if b, err := os.ReadFile(filepath.Join(r.taskDir(spec.ID), startedFile)); err == nil {
		st.StartedAt, _ = time.Parse(time.RFC3339Nano, string(b))
	}
	return st
}

func readStatus(dir string) (runtime.Status, bool, error) {
	var st runtime.Status
	err := readJSON(filepath.Join(dir, statusFile), &st)
	if errors.Is(err, fs.ErrNotExist) {
		return st, false, nil
	}
	if err != nil {
		return st, false, fmt.Errorf("status %s: %w", filepath.Base(dir), err)
	}
	return st, true, nil
}

// shimPid returns the task's shim pid if that process is alive (and still
// the shim: its executable name was recorded next to the pid).
func (r *Runtime) shimPid(id string) (int, bool) {
	r.mu.Lock()
	sp := r.shims[id]
	r.mu.Unlock()
	if sp != nil {
		select {
		case <-sp.done:
			return 0, false
		default:
			return sp.pid, true
		}
	}
	b, err := os.ReadFile(filepath.Join(r.taskDir(id), shimPidFile))
	if err != nil {
		return 0, false
	}
	f := strings.Fields(string(b))
	if len(f) != 2 {
		return 0, false
	}
	pid, err := strconv.Atoi(f[0])
	if err != nil {
		return 0, false
	}
	p, err := ps.FindProcess(pid)
	if err != nil || p == nil || p.Executable() != f[1] || zombie(pid) {
		return 0, false
	}
	return pid, true
}

// zombie reports whether pid has exited but is not reaped yet.
func zombie(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// The state follows the ")" that ends the command name.
	i := strings.LastIndexByte(string(b), ')')
	return i >= 0 && i+2 < len(b) && b[i+2] == 'Z'
}

func (r *Runtime) shimAlive(id string) bool {
	_, ok := r.shimPid(id)
	return ok
}

// runcState returns runc's status of the container ("running", "created",
// "stopped", "paused") or "" if runc does not know it.
func (r *Runtime) runcState(ctx context.Context, id string) string {
	out, err := exec.CommandContext(ctx, r.opts.RuncPath, "--root", r.opts.RuncRoot, "state", id).Output()
	if err != nil {
		return ""
	}
	var s specs.State
	if json.Unmarshal(out, &s) != nil {
		return ""
	}
	return string(s.Status)
}

// orphan handles a task whose shim died without recording a status: while
// runc says the container lives it is Running; afterwards it is recorded
// as Lost (the exit status died with the shim).
func (r *Runtime) orphan(ctx context.Context, spec runtime.TaskSpec) (runtime.Status, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	dir := r.taskDir(spec.ID)
	if st, ok, err := readStatus(dir); ok || err != nil {
		return st, err // the shim finished meanwhile
	}
	if r.starting[spec.ID] {
		// Start has not handed it to a shim yet (a List or Status
		// from another goroutine): under way, not lost.
		return r.running(spec), nil
	}
	switch r.runcState(ctx, spec.ID) {
	case "running", "paused":
		return r.running(spec), nil
	}
	st := r.running(spec)
	st.Running = false
	st.Lost = true
	st.Error = "task supervisor exited without recording how the task ended"
	st.FinishedAt = time.Now()
	if _, ok := readKill(dir); ok {
		st.Killed = true
	}
	if n, err := oomKillCount(cgroupRoot, r.cgroupsPath(spec.ID)); err == nil {
		st.OOMKilled = n > 0
	}
	if err := r.runc(ctx, "delete", "--force", spec.ID); err != nil {
		r.log.Debug("runc delete of orphan", zap.Uint64("job", spec.JobID), zap.String("task", spec.ID), zap.Error(err))
	}
	if err := cleanupImage(dir); err != nil {
		r.log.Warn("clean up the image rootfs of an orphan", zap.Uint64("job", spec.JobID), zap.String("task", spec.ID), zap.Error(err))
	}
	if err := writeJSONAtomic(filepath.Join(dir, statusFile), st); err != nil {
		return st, fmt.Errorf("status %s: %w", spec.ID, err)
	}
	r.log.Warn("task lost its supervisor", zap.Uint64("job", spec.JobID), zap.String("task", spec.ID))
	return st, nil
}

// Wait blocks until the task ends: it wakes when a shim it started exits,
// and polls the task dir otherwise.
func (r *Runtime) Wait(ctx context.Context, id string) (runtime.Status, error) {
	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	for {
		st, err := r.Status(ctx, id)
		if err != nil || !st.Running {
			return st, err
		}
		r.mu.Lock()
		sp := r.shims[id]
		r.mu.Unlock()
		var done <-chan struct{}
		if sp != nil {
			done = sp.done
		}
		select {
		case <-ctx.Done():
			return st, fmt.Errorf("wait %s: %w", id, ctx.Err())
		case <-done:
		case <-tick.C:
		}
	}
}

// Signal delivers sig to every process of the task: through the
// container's init for the signals it forwards (and SIGKILL, which ends the
// pid namespace), directly to each process of the task's cgroup for the
// others (SIGSTOP...). It waits for the container to start; a task that has
// ended is not an error.
func (r *Runtime) Signal(ctx context.Context, id string, sig syscall.Signal) error {
	for {
		st, err := r.Status(ctx, id)
		if err != nil {
			return err
		}
		if !st.Running {
			return nil
		}
		if !st.StartedAt.IsZero() {
			break
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("signal %s: %w", id, ctx.Err())
		case <-time.After(5 * time.Millisecond):
		}
	}
	if sig != unix.SIGKILL && !isForwarded(sig) {
		// SIGSTOP and the like: the init would not pass them on (or
		// must not get them), so send them to each process.
		if err := signalCgroup(cgroupRoot, r.cgroupsPath(id), sig); err != nil {
			return fmt.Errorf("signal %s: %w", id, err)
		}
		return nil
	}
	// SIGKILL kills the init and with it the pid namespace; the init
	// forwards the others to every process.
	if err := r.runc(ctx, "kill", id, strconv.Itoa(int(sig))); err != nil {
		if st, serr := r.Status(ctx, id); serr == nil && !st.Running {
			return nil // it ended meanwhile
		}
		return fmt.Errorf("signal %s: %w", id, err)
	}
	return nil
}

// Kill asks the shim to stop the task (SIGTERM, SIGKILL after grace) and
// returns without waiting.
func (r *Runtime) Kill(ctx context.Context, id string, grace time.Duration) error {
	st, err := r.Status(ctx, id)
	if err != nil {
		return err
	}
	if !st.Running {
		return nil
	}
	dir := r.taskDir(id)
	if err := writeFileAtomic(filepath.Join(dir, killFile), []byte(grace.String())); err != nil {
		return fmt.Errorf("kill %s: %w", id, err)
	}
	if pid, ok := r.shimPid(id); ok {
		if err := unix.Kill(pid, wakeSignal); err != nil && !errors.Is(err, unix.ESRCH) {
			return fmt.Errorf("kill %s: %w", id, err)
		}
		return nil
	}
	// No shim: nobody enforces the grace; kill at once.
	if err := r.runc(ctx, "kill", id, "KILL"); err != nil {
		r.log.Debug("runc kill of orphan", zap.String("task", id), zap.Error(err))
	}
	return nil
}

// Destroy kills a running task, waits for it, and removes its records.
func (r *Runtime) Destroy(ctx context.Context, id string) error {
	st, err := r.Status(ctx, id)
	if err != nil {
		return err
	}
	if st.Running {
		if err := r.Kill(ctx, id, 0); err != nil {
			return err
		}
		if _, err := r.Wait(ctx, id); err != nil {
			return fmt.Errorf("destroy %s: %w", id, err)
		}
	}
	if r.runcState(ctx, id) != "" {
		if err := r.runc(ctx, "delete", "--force", id); err != nil {
			return fmt.Errorf("destroy %s: %w", id, err)
		}
	}
	r.mu.Lock()
	delete(r.shims, id)
	r.mu.Unlock()
	// Never remove through a mount (a user's data bound into an image
	// task): unmount first, and stop if one is left.
	if err := cleanupImage(r.taskDir(id)); err != nil {
		return fmt.Errorf("destroy %s: %w", id, err)
	}
	if err := os.RemoveAll(r.taskDir(id)); err != nil {
		return fmt.Errorf("destroy %s: %w", id, err)
	}
	return nil
}

// List returns the status of every task dir, sorted by ID.
func (r *Runtime) List(ctx context.Context) ([]runtime.Status, error) {
	entries, err := os.ReadDir(r.opts.StateDir)
	if err != nil {
		return nil, fmt.Errorf("list tasks: %w", err)
	}
	var out []runtime.Status
	for _, e := range entries {
		if !e.IsDir() || !validID.MatchString(e.Name()) {
			continue
		}
		st, err := r.Status(ctx, e.Name())
		if errors.Is(err, runtime.ErrNotFound) {
			continue // being created or destroyed
		}
		if err != nil {
			return nil, fmt.Errorf("list tasks: %w", err)
		}
		out = append(out, st)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// runc runs a short runc command, returning its output in the error.
func (r *Runtime) runc(ctx context.Context, args ...string) error {
	cmd := exec.CommandContext(ctx, r.opts.RuncPath, append([]string{"--root", r.opts.RuncRoot}, args...)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("runc %s: %w: %s", args[0], err, strings.TrimSpace(string(out)))
	}
	return nil
}

// writeJSONAtomic writes v as JSON to path atomically.
func writeJSONAtomic(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(path, append(b, '\n'))
}

// writeFileAtomic writes a tmp file, fsyncs it and renames it over path.
func writeFileAtomic(path string, b []byte) error { return writeFileMode(path, b, 0o600) }

// writeFileMode is writeFileAtomic with the file's mode.
func writeFileMode(path string, b []byte, mode os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	_, err = tmp.Write(b)
	if err == nil {
		err = tmp.Chmod(mode)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		_ = os.Remove(tmp.Name())
		return err
	}
	if d, derr := os.Open(filepath.Dir(path)); derr == nil {
		_ = d.Sync()
		_ = d.Close()
	}
	return nil
}

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s: %w", filepath.Base(path), err)
	}
	return nil
}
