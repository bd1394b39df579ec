package runc

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gsched/gsched/pkg/runtime"
)

// wakeSignal pokes a shim to look at its task's kill marker. Its default
// action is to be ignored, so a poke that comes before the shim installed
// its handler cannot kill it.
const wakeSignal = unix.SIGWINCH

// readyFD is the pipe on which a new shim tells Start it is ready.
const readyFD = 3

// failExitCode is the ExitCode of a task that could not be started.
const failExitCode = 1

// shim supervises one task: it creates and starts the container with runc,
// waits for the container's init as a child subreaper, enforces the deadline
// and Kill, and records how the task ended in status.json.
type shim struct {
	dir, runc, root, cgroup string
	log                     *log.Logger
	spec                    runtime.TaskSpec
	logOff                  int64 // size of shim.log before runc create
	img                     imageOpts
	// reaped is the container's init once the shim has reaped it: the
	// container is then stopped, and delete may remove it itself.
	reaped int
}

func shimMain(args []string) int {
	// Before anything else: the name (so pid checks recognise us), the
	// wake handler and the subreaper bit (so the container's init, whose
	// parent runc create exits, becomes our child).
	// The main thread's comm is what ps (and go-ps) show for the process.
	_ = os.WriteFile(fmt.Sprintf("/proc/self/task/%d/comm", os.Getpid()), []byte(shimName), 0)
	wake := make(chan os.Signal, 1)
	signal.Notify(wake, wakeSignal)
	// Caught rather than ignored: ignored dispositions would pass on
	// through exec to runc and the container.
	signal.Notify(make(chan os.Signal, 1), unix.SIGHUP, unix.SIGINT)
	lg := log.New(os.Stderr, shimName+": ", log.LstdFlags|log.Lmicroseconds)
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		lg.Printf("set child subreaper: %v", err)
		return 1
	}

	s := &shim{log: lg}
	fs := flag.NewFlagSet(shimName, flag.ContinueOnError)
	fs.StringVar(&s.dir, "dir", "", "task dir")
	fs.StringVar(&s.runc, "runc", "", "runc binary")
	fs.StringVar(&s.root, "root", "", "runc --root")
	fs.StringVar(&s.cgroup, "cgroup", "", "cgroups path")
	fs.StringVar(&s.img.dir, "images", "", "image cache dir")
	fs.Int64Var(&s.img.cacheSize, "image-cache-size", 0, "image cache size limit (bytes)")
	fs.BoolVar(&s.img.copyRootfs, "copy-rootfs", false, "copy image layers instead of overlayfs")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if ready := os.NewFile(readyFD, "ready"); ready != nil {
		_, _ = ready.Write([]byte{'1'})
		_ = ready.Close()
	}
	st := s.run(wake)
	st.FinishedAt = time.Now()
	if err := writeJSONAtomic(filepath.Join(s.dir, statusFile), st); err != nil {
		lg.Printf("write status: %v", err)
		return 1
	}
	return 0
}

func (s *shim) run(wake <-chan os.Signal) runtime.Status {
	if err := readJSON(filepath.Join(s.dir, taskFile), &s.spec); err != nil {
		return runtime.Status{ID: filepath.Base(s.dir), ExitCode: failExitCode, Error: fmt.Sprintf("read task: %v", err)}
	}
	if fi, err := os.Stderr.Stat(); err == nil {
		s.logOff = fi.Size()
	}
	if s.spec.ExecIn != "" {
		return s.runExec(wake)
	}
	st := runtime.Status{ID: s.spec.ID, JobID: s.spec.JobID}
	if _, ok := readKill(s.dir); ok {
		st.Killed = true
		st.ExitCode = 128 + int(unix.SIGTERM)
		return st
	}

	if s.spec.Image != nil {
		// Released after the container is deleted (deferred calls run
		// after fail's and run's own delete).
		defer s.releaseImage()
		if err := s.prepareImage(); err != nil {
			if _, ok := readKill(s.dir); ok {
				st.Killed = true
				st.ExitCode = 128 + int(unix.SIGTERM)
				return st
			}
			return s.fail(st, "image", err)
		}
	}

	// One runc process creates and starts the container (run --detach):
	// create then start cost a second runc start-up, about 8 ms of CPU
	// per task (docs/BENCHMARKS.md). The init waits for nothing between
	// the two, so nothing is lost.
	pidFile := filepath.Join(s.dir, "init.pid")
	if err := s.runcCmd("run", "--detach", "--bundle", filepath.Join(s.dir, bundleDir), "--pid-file", pidFile, s.spec.ID); err != nil {
		return s.fail(st, "runc run", err)
	}
	b, err := os.ReadFile(pidFile)
	if err != nil {
		return s.fail(st, "read init pid", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return s.fail(st, "read init pid", fmt.Errorf("bad pid %q", b))
	}
	st.StartedAt = time.Now()
	if err := writeFileAtomic(filepath.Join(s.dir, startedFile), []byte(st.StartedAt.Format(time.RFC3339Nano))); err != nil {
		s.log.Printf("write started: %v", err)
	}

	// From here on no exec.Cmd may run until the init is reaped: the
	// reaper waits for any child.
	ws, werr := s.supervise(pid, wake, &st)
	st.FinishedAt = time.Now()
	if werr == nil {
		s.reaped = pid
	}
	switch {
	case werr != nil:
		st.Lost = true
		st.Error = fmt.Sprintf("wait for init: %v", werr)
	case ws.Exited():
		st.ExitCode = ws.ExitStatus()
	case ws.Signaled():
		st.Signal = int(ws.Signal())
		st.ExitCode = 128 + st.Signal
	}
	if n, err := oomKillCount(cgroupRoot, s.cgroup); err != nil {
		s.log.Printf("%v", err)
	} else {
		st.OOMKilled = n > 0
	}
	if peak, err := memoryPeak(cgroupRoot, s.cgroup); err != nil {
		s.log.Printf("%v", err)
	} else {
		st.MaxMemBytes = peak
	}
	errs, sig := s.initReports()
	if st.ExitCode > 128 && st.Signal == 0 && sig > 0 {
		st.Signal = sig
	}
	if len(errs) > 0 && st.Error == "" {
		st.Error = strings.Join(errs, "; ")
	}
	s.delete()
	return st
}

// supervise waits for the container's init (pid) to exit, enforcing the
// deadline and Kill meanwhile.
func (s *shim) supervise(pid int, wake <-chan os.Signal, st *runtime.Status) (unix.WaitStatus, error) {
	type result struct {
		ws  unix.WaitStatus
		err error
	}
	exited := make(chan result, 1)
	go func() {
		for {
			var ws unix.WaitStatus
			p, err := unix.Wait4(-1, &ws, 0, nil)
			if errors.Is(err, unix.EINTR) {
				continue
			}
			if err != nil {
				exited <- result{err: err}
				return
			}
			if p == pid {
				exited <- result{ws: ws}
				return
			}
		}
	}()

	var deadline <-chan time.Time
	if !s.spec.Deadline.IsZero() {
		t := time.NewTimer(time.Until(s.spec.Deadline))
		defer t.Stop()
		deadline = t.C
	}
	var killTimer *time.Timer
	var killC <-chan time.Time
	var killAt time.Time
	// terminate sends SIGTERM to the init (which forwards it to every
	// process) and arms SIGKILL, which kills the whole pid namespace.
	// The init is not reaped before exited fires, so pid stays ours.
	terminate := func(grace time.Duration) {
		at := time.Now().Add(grace)
		if killTimer != nil && !at.Before(killAt) {
			return
		}
		if killTimer == nil {
			s.log.Printf("SIGTERM to task %s (grace %v)", s.spec.ID, grace)
			_ = unix.Kill(pid, unix.SIGTERM)
		} else {
			killTimer.Stop()
		}
		killAt = at
		killTimer = time.NewTimer(grace)
		killC = killTimer.C
	}
	checkKill := func() {
		if grace, ok := readKill(s.dir); ok {
			st.Killed = true
			terminate(grace)
		}
	}
	checkKill() // Kill may have come while the container was created
	for {
		select {
		case r := <-exited:
			if killTimer != nil {
				killTimer.Stop()
			}
			return r.ws, r.err
		case <-deadline:
			deadline = nil
			st.TimedOut = true
			terminate(s.spec.KillGrace)
		case <-wake:
			checkKill()
		case <-killC:
			killC = nil
			s.log.Printf("SIGKILL to task %s", s.spec.ID)
			_ = unix.Kill(pid, unix.SIGKILL)
		}
	}
}

// runcCmd runs runc with the container's stdio and its own output going to
// shim.log (our stderr).
func (s *shim) runcCmd(args ...string) error {
	cmd := exec.Command(s.runc, append([]string{"--root", s.root}, args...)...)
	cmd.Stdout = os.Stderr
	cmd.Stderr = os.Stderr
	cmd.Dir = s.dir
	return cmd.Run()
}

// delete removes the container: itself when the container's init was
// reaped and runc's state is plain (delete.go), else with runc. A plain
// runc delete of a stopped container is about 100 ms faster than
// --force, which is the last resort.
func (s *shim) delete() {
	if s.reaped > 0 {
		err := deleteStopped(s.root, s.spec.ID, s.reaped)
		if err == nil {
			return
		}
		s.log.Printf("delete without runc: %v; runc deletes it", err)
	}
	if err := s.runcQuiet("delete", s.spec.ID); err == nil {
		return
	}
	if err := s.runcCmd("delete", "--force", s.spec.ID); err != nil {
		s.log.Printf("runc delete: %v", err)
	}
}

// runcQuiet runs runc with its output discarded.
func (s *shim) runcQuiet(args ...string) error {
	cmd := exec.Command(s.runc, append([]string{"--root", s.root}, args...)...)
	cmd.Dir = s.dir
	return cmd.Run()
}

// fail records a task that could not be started, with the tail of what
// runc and the init wrote to shim.log.
func (s *shim) fail(st runtime.Status, what string, err error) runtime.Status {
	st.ExitCode = failExitCode
	st.Error = fmt.Sprintf("%s: %v", what, err)
	if tail := s.logTail(1024); tail != "" {
		st.Error += ": " + tail
	}
	s.log.Printf("%s: %v", what, err)
	s.delete()
	return st
}

// logSince returns what was written to shim.log since runc create.
func (s *shim) logSince() []byte {
	f, err := os.Open(filepath.Join(s.dir, shimLogFile))
	if err != nil {
		return nil
	}
	defer f.Close()
	b, _ := io.ReadAll(io.NewSectionReader(f, s.logOff, 1<<20))
	return b
}

// logTail returns the last n bytes of shim.log since runc create, without
// the shim's own lines, on one line.
func (s *shim) logTail(n int) string {
	var keep []string
	sc := bufio.NewScanner(bytes.NewReader(s.logSince()))
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		if l == "" || strings.HasPrefix(l, shimName+": ") {
			continue
		}
		keep = append(keep, l)
	}
	out := strings.Join(keep, " | ")
	if len(out) > n {
		out = "..." + out[len(out)-n:]
	}
	return out
}

// initReports returns the errors and the killing signal that the init
// reported in shim.log.
func (s *shim) initReports() (errs []string, sig int) {
	sc := bufio.NewScanner(bytes.NewReader(s.logSince()))
	for sc.Scan() {
		l := sc.Text()
		switch {
		case strings.HasPrefix(l, initErrPrefix):
			errs = append(errs, strings.TrimPrefix(l, "gsched-init: "))
		case strings.HasPrefix(l, initSigPrefix):
			if n, err := strconv.Atoi(strings.TrimPrefix(l, initSigPrefix)); err == nil {
				sig = n
			}
		}
	}
	return errs, sig
}

// readKill reports whether Kill was requested, and with which grace.
func readKill(dir string) (time.Duration, bool) {
	b, err := os.ReadFile(filepath.Join(dir, killFile))
	if err != nil {
		return 0, false
	}
	d, err := time.ParseDuration(strings.TrimSpace(string(b)))
	if err != nil || d < 0 {
		d = 0
	}
	return d, true
}
