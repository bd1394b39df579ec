package testcluster

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gsched/gsched/pkg/api"
)

// terminal is a command (grun --pty, gattach) running on a pseudo-terminal
// that the test holds the master side of, as a user's terminal emulator
// would.
type terminal struct {
	t      *testing.T
	master *os.File
	slave  string
	cmd    *exec.Cmd
	mu     sync.Mutex
	out    strings.Builder
	copied chan struct{}
}

// openTerminal starts a CLI command as uid in dir on a new pseudo-terminal
// of rows x cols; the command is a session leader with the terminal as its
// controlling terminal, so it gets SIGWINCH when the test resizes it.
func (c *Cluster) openTerminal(t *testing.T, uid int, dir string, rows, cols uint16, name string, args ...string) *terminal {
	t.Helper()
	master, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	var slaveName string
	rc, err := master.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var ierr error
	if err := rc.Control(func(fd uintptr) {
		if ierr = unix.IoctlSetPointerInt(int(fd), unix.TIOCSPTLCK, 0); ierr != nil {
			return
		}
		var n uint32
		if n, ierr = unix.IoctlGetUint32(int(fd), unix.TIOCGPTN); ierr == nil {
			slaveName = "/dev/pts/" + strconv.FormatUint(uint64(n), 10)
		}
	}); err != nil || ierr != nil {
		t.Fatalf("pty: %v %v", err, ierr)
	}
	slave, err := os.OpenFile(slaveName, os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer slave.Close()
	if err := os.Chown(slaveName, uid, uid); err != nil {
		t.Fatal(err)
	}
	tm := &terminal{t: t, master: master, slave: slaveName, copied: make(chan struct{})}
	tm.resize(rows, cols)
	cmd := exec.Command(filepath.Join(Binaries(t), name), args...)
	cmd.Dir = dir
	cmd.Env = []string{"GSCHED_CONF=" + c.Conf, "PATH=" + Binaries(t) + ":/usr/local/bin:/usr/bin:/bin", "HOME=" + dir,
		"LANG=C", "GSCHED_IO_HOST=127.0.0.1", "TERM=dumb", "SHELL=/bin/bash"}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if uid != 0 {
		cmd.SysProcAttr.Credential = &syscall.Credential{Uid: uint32(uid), Gid: uint32(uid)}
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	tm.cmd = cmd
	go func() {
		defer close(tm.copied)
		_, _ = io.Copy(tm, master)
	}()
	t.Cleanup(func() {
		if tm.cmd.ProcessState == nil {
			_ = tm.cmd.Process.Signal(syscall.SIGTERM)
			_ = tm.cmd.Wait()
		}
		master.Close()
		<-tm.copied
	})
	return tm
}

func (tm *terminal) Write(p []byte) (int, error) {
	tm.mu.Lock()
	defer tm.mu.Unlock()
	return tm.out.Write(p)
}

func (tm *terminal) output() string {
	tm.mu.Lock()
	defer tm.mu.Unlock()
	return tm.out.String()
}

// resize sets the terminal's size; the kernel sends SIGWINCH to the
// command.
func (tm *terminal) resize(rows, cols uint16) {
	tm.t.Helper()
	rc, err := tm.master.SyscallConn()
	if err != nil {
		tm.t.Fatal(err)
	}
	var ierr error
	if err := rc.Control(func(fd uintptr) {
		ierr = unix.IoctlSetWinsize(int(fd), unix.TIOCSWINSZ, &unix.Winsize{Row: rows, Col: cols})
	}); err != nil || ierr != nil {
		tm.t.Fatalf("resize: %v %v", err, ierr)
	}
}

// typeText types s at the terminal.
func (tm *terminal) typeText(s string) {
	tm.t.Helper()
	if _, err := tm.master.Write([]byte(s)); err != nil {
		tm.t.Fatalf("type %q: %v", s, err)
	}
}

// waitOutput waits until the terminal has shown want (after the first
// `after` bytes), and returns the length of the output then.
func (tm *terminal) waitOutput(want string, after int, timeout time.Duration) (int, bool) {
	deadline := time.Now().Add(timeout)
	for {
		out := tm.output()
		if i := strings.Index(out[min(after, len(out)):], want); i >= 0 {
			return len(out), true
		}
		if time.Now().After(deadline) {
			return len(out), false
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (tm *terminal) mustShow(want string, after int) int {
	tm.t.Helper()
	n, ok := tm.waitOutput(want, after, 30*time.Second)
	if !ok {
		tm.t.Fatalf("terminal did not show %q within 30s; it shows:\n%s", want, tm.output())
	}
	return n
}

// exitCode waits for the command to exit.
func (tm *terminal) exitCode(timeout time.Duration) int {
	tm.t.Helper()
	done := make(chan error, 1)
	go func() { done <- tm.cmd.Wait() }()
	select {
	case err := <-done:
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode()
		}
		if err != nil {
			tm.t.Fatalf("wait: %v", err)
		}
		return 0
	case <-time.After(timeout):
		tm.t.Fatalf("%s did not exit within %v; terminal:\n%s", tm.cmd.Path, timeout, tm.output())
		return -1
	}
}

// grun --pty outside a job: grun allocates a job, the shell in it gets
// grun's terminal (typed input, /dev/pts, the size set, resizes), grun
// exits with the shell's status, and the allocation is released.
func TestGrunPty(t *testing.T) {
	c := Start(t, Options{})
	dir := c.WorkDir(nobody, nobody)
	tm := c.openTerminal(t, nobody, dir, 30, 100, "grun", "--pty", "-t", "5", "/bin/bash", "--norc", "--noprofile")
	tm.typeText("echo $((6*7)); tty; stty size\r")
	n := tm.mustShow("30 100", 0)
	out := tm.output()
	if !strings.Contains(out, "\r\n42\r\n") || !strings.Contains(out, "/dev/pts/") {
		t.Fatalf("terminal lacks 42 or a /dev/pts name:\n%s", out)
	}
	// A resize while running: grun sends it on SIGWINCH, in its own time,
	// so ask until the shell sees it.
	tm.resize(40, 120)
	resized := false
	for try := 0; try < 10 && !resized; try++ {
		tm.typeText("stty size\r")
		n, resized = tm.waitOutput("40 120", n, time.Second)
	}
	if !resized {
		t.Fatalf("the shell never saw the new size 40 120:\n%s", tm.output())
	}
	tm.typeText("exit 3\r")
	if code := tm.exitCode(30 * time.Second); code != 3 {
		t.Fatalf("grun exited %d, want the shell's 3; terminal:\n%s", code, tm.output())
	}
	// The allocation is released (FAILED: the step failed).
	if j := c.WaitJob(1, 20*time.Second); j.State != api.StateFailed || j.User != "nobody" {
		t.Fatalf("allocation = %s %s of %s, want FAILED of nobody", j.State, j.Reason, j.User)
	}
}

// SIGHUP to grun (its terminal went away) hangs up the remote shell and
// releases the allocation.
func TestGrunPtyHangup(t *testing.T) {
	c := Start(t, Options{})
	dir := c.WorkDir(nobody, nobody)
	tm := c.openTerminal(t, nobody, dir, 24, 80, "grun", "--pty", "-t", "5", "/bin/bash", "--norc", "--noprofile")
	tm.typeText("echo ready-$((1+1))\r")
	tm.mustShow("ready-2", 0)
	if err := tm.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	if code := tm.exitCode(30 * time.Second); code == 0 {
		t.Fatalf("grun exited 0 after SIGHUP; terminal:\n%s", tm.output())
	}
	if j := c.WaitJob(1, 20*time.Second); !j.State.Final() {
		t.Fatalf("allocation still %s", j.State)
	}
	if st := c.step(t, 1, 0); st.State == api.StepCompleted {
		t.Fatalf("hung-up step = %+v, want it stopped", st)
	}
}

// gattach opens a shell in a running job that uses all its CPUs: the
// shell sees the job's variables and GPU, runs as the job's user (also
// when an operator attaches), leaving it leaves the job running, and
// another user is refused.
func TestGattach(t *testing.T) {
	c := Start(t, Options{CPUsPerNode: 2, GPUsPerNode: 2})
	dir := c.WorkDir(nobody, nobody)
	r := c.CLI(nobody, nobody, dir, "gsub", "--parsable", "-c", "2", "--gpus=1", "-t", "5", "--wrap", "sleep 600")
	id, err := strconv.ParseUint(strings.TrimSpace(r.Stdout), 10, 64)
	if r.Code != 0 || err != nil {
		t.Fatalf("gsub: %+v", r)
	}
	job := api.JobID(id)
	c.WaitFor(job, 20*time.Second, func(j api.Job) bool { return j.State == api.StateRunning })
	check := "echo id=$GSCHED_JOB_ID cvd=$CUDA_VISIBLE_DEVICES uid=$(id -u) tty=$(tty)\r"
	want := fmt.Sprintf("id=%d cvd=0 uid=%d tty=/dev/pts/", job, nobody)

	for _, who := range []struct {
		name string
		uid  int
	}{{"owner", nobody}, {"operator", 0}} {
		tm := c.openTerminal(t, who.uid, dir, 24, 80, "gattach", strconv.FormatUint(id, 10))
		tm.typeText(check)
		if _, ok := tm.waitOutput(want, 0, 30*time.Second); !ok {
			t.Fatalf("%s: terminal did not show %q; it shows:\n%q", who.name, want, tm.output())
		}
		tm.typeText("exit\r")
		if code := tm.exitCode(30 * time.Second); code != 0 {
			t.Fatalf("%s: gattach exited %d; terminal:\n%s", who.name, code, tm.output())
		}
	}
	// A command instead of a shell; its status is gattach's.
	r = c.CLI(nobody, nobody, dir, "gattach", strconv.FormatUint(id, 10), "sh", "-c", "echo in $GSCHED_JOB_ID; exit 4")
	if r.Code != 4 || !strings.Contains(r.Stdout, fmt.Sprintf("in %d", job)) {
		t.Fatalf("gattach with a command: %+v", r)
	}
	// Another user is refused, with the reason.
	const daemonUID = 1
	r = c.CLI(daemonUID, daemonUID, c.WorkDir(daemonUID, daemonUID), "gattach", strconv.FormatUint(id, 10))
	if r.Code != 1 || !strings.Contains(r.Stderr, "belongs to nobody") || !strings.Contains(r.Stderr, "only its owner or an operator") {
		t.Fatalf("gattach by another user: %+v", r)
	}
	if j := c.Job(job); j.State != api.StateRunning {
		t.Fatalf("job after the attaches: %s %s", j.State, j.Reason)
	}
}

// An attached shell outlives a kill -9 of its node daemon: the step's
// supervisor holds the terminal relay, and once gnoded is back the shell's
// exit status reaches gattach; the job runs on.
func TestGattachSurvivesNodeDaemonRestart(t *testing.T) {
	c := Start(t, Options{Binaries: true, NodeTimeout: 20 * time.Second})
	dir := c.WorkDir(nobody, nobody)
	r := c.CLI(nobody, nobody, dir, "gsub", "--parsable", "-t", "5", "--wrap", "sleep 600")
	id, err := strconv.ParseUint(strings.TrimSpace(r.Stdout), 10, 64)
	if r.Code != 0 || err != nil {
		t.Fatalf("gsub: %+v", r)
	}
	c.WaitFor(api.JobID(id), 20*time.Second, func(j api.Job) bool { return j.State == api.StateRunning })
	tm := c.openTerminal(t, nobody, dir, 24, 80, "gattach", strconv.FormatUint(id, 10), "/bin/sh")
	tm.typeText("echo before-$((1+1))\r")
	n := tm.mustShow("before-2", 0)
	c.KillNode(1)
	tm.typeText("echo during-$((2+3))\r")
	n = tm.mustShow("during-5", n)
	c.RestartNode(1)
	tm.typeText("exit 7\r")
	if code := tm.exitCode(30 * time.Second); code != 7 {
		t.Fatalf("gattach exited %d, want 7; terminal:\n%s", code, tm.output())
	}
	if j := c.Job(api.JobID(id)); j.State != api.StateRunning {
		t.Fatalf("job after the restart: %s %s", j.State, j.Reason)
	}
}

// step returns a step's record as the controller has it.
func (c *Cluster) step(t *testing.T, job api.JobID, step int) api.Step {
	t.Helper()
	cl := c.Client()
	defer cl.Close()
	var st api.Step
	if err := cl.Call(t.Context(), api.PathStepWait, &api.StepWaitRequest{JobID: job, Step: step, TimeoutMs: 1}, &st); err != nil {
		t.Fatalf("step %d.%d: %v", job, step, err)
	}
	return st
}
