package runc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gsched/gsched/pkg/runtime"
	"github.com/gsched/gsched/pkg/stepio"
)

// Terminal steps (grun --pty, gattach). The step's process gets a
// pseudo-terminal made by runc inside the container: the shim runs
// `runc exec --detach` with a console socket in the task dir, receives
// the pty master over it (SCM_RIGHTS) and relays between the master and
// grun's stepio connection: grun's input to the master, the master's
// output to grun, window sizes to TIOCSWINSZ. runc makes the process a
// session leader with the pty as its controlling terminal; the in-container
// init (initTTYFlag) then becomes the command, so that the command is the
// terminal's foreground process and Ctrl-C/Ctrl-Z typed at grun reach it
// through the line discipline. Once runc exits the process is reparented
// to the shim (a child subreaper), which reaps it and records its status.
// The shim, not gnoded, holds the relay, so a node daemon restart does not
// break the session.
//
// Stopping: a kill (step cancelled, job ending) or the loss of grun's
// connection hangs the session up: SIGHUP and SIGCONT to the command's
// process group and to the terminal's foreground group, then SIGKILL to
// both after the grace.

// initTTYFlag makes the init in step mode exec the command on the
// terminal runc gave it.
const initTTYFlag = "-tty"

// consoleSocket is the socket in the task dir on which runc hands over the
// pty master; execPidFile is where runc exec writes the process's pid.
const (
	consoleSocket = "console.sock"
	execPidFile   = "exec.pid"
)

// consoleWait bounds the wait for runc to hand over the pty master.
const consoleWait = 30 * time.Second

// ttyInit is the in-container init on a terminal: it changes to cwd and
// becomes argv (looked up in PATH). It returns only on failure, after
// telling the user on the terminal.
func ttyInit(argv []string, cwd string) int {
	if err := unix.Chdir(cwd); err != nil {
		return initFail(1, "chdir %s: %v", cwd, err)
	}
	path, err := exec.LookPath(argv[0])
	if err != nil {
		return initFail(127, "exec %s: %v", argv[0], err)
	}
	err = unix.Exec(path, argv, os.Environ())
	return initFail(126, "exec %s: %v", argv[0], err)
}

// runExecTTY is the shim's loop for a step task on a terminal; st holds
// the task's identity.
func (s *shim) runExecTTY(wake <-chan os.Signal, st runtime.Status) runtime.Status {
	ctx, cancel := context.WithTimeout(context.Background(), ioDialTimeout)
	ioc, err := stepio.DialTTY(ctx, s.spec.IOAddr, s.spec.IOToken, s.spec.Rank)
	cancel()
	if err != nil {
		// Nobody could type at the terminal: do not start the command.
		return s.failExec(st, nil, "terminal relay to grun", err)
	}
	master, pid, err := s.execConsole()
	if err != nil {
		return s.failExec(st, ioc, "runc exec", err)
	}
	st.StartedAt = time.Now()
	if err := writeFileAtomic(filepath.Join(s.dir, startedFile), []byte(st.StartedAt.Format(time.RFC3339Nano))); err != nil {
		s.log.Printf("write started: %v", err)
	}
	s.log.Printf("step task %s on a terminal: pid %d", s.spec.ID, pid)

	outDone := make(chan struct{})
	go func() {
		defer close(outDone)
		_, _ = io.Copy(ioc.Stdout(), master) // ends with EIO once no process holds the terminal
	}()
	gone := make(chan struct{})
	go relayInput(ioc, master, gone)
	exited := make(chan unix.WaitStatus, 1)
	waitErr := make(chan error, 1)
	go func() {
		var ws unix.WaitStatus
		for {
			_, err := unix.Wait4(pid, &ws, 0, nil)
			if errors.Is(err, unix.EINTR) {
				continue
			}
			if err != nil {
				waitErr <- err
				return
			}
			exited <- ws
			return
		}
	}()

	var killC <-chan time.Time
	hangup := func(why string, grace time.Duration) {
		if killC != nil {
			return
		}
		s.log.Printf("hang up step task %s (%s; grace %v)", s.spec.ID, why, grace)
		signalSession(master, pid, unix.SIGHUP, unix.SIGCONT)
		killC = time.After(grace)
	}
	checkKill := func() {
		if grace, ok := readKill(s.dir); ok {
			st.Killed = true
			hangup("stopped", grace)
		}
	}
	checkKill()
wait:
	for {
		select {
		case ws := <-exited:
			switch {
			case ws.Signaled():
				st.Signal = int(ws.Signal())
				st.ExitCode = 128 + st.Signal
			default:
				st.ExitCode = ws.ExitStatus()
			}
			break wait
		case err := <-waitErr:
			st.Lost, st.ExitCode, st.Error = true, failExitCode, fmt.Sprintf("wait for the step's process: %v", err)
			break wait
		case <-wake:
			checkKill()
		case <-gone:
			gone = nil
			hangup("grun is gone", s.spec.KillGrace)
		case <-killC:
			s.log.Printf("SIGKILL to step task %s", s.spec.ID)
			signalSession(master, pid, unix.SIGKILL)
			killC = nil
		}
	}
	st.FinishedAt = time.Now()
	select {
	case <-outDone:
	case <-time.After(outputDrain):
		// Background processes still hold the terminal: closing the
		// master hangs them up.
	}
	_ = master.Close()
	<-outDone
	_ = ioc.Close()
	return st
}

// signalSession sends sigs to the step's process group and to the
// terminal's foreground process group (a job the shell started).
func signalSession(master *os.File, pid int, sigs ...unix.Signal) {
	groups := []int{pid}
	if rc, err := master.SyscallConn(); err == nil {
		_ = rc.Control(func(fd uintptr) {
			if fg, err := unix.IoctlGetInt(int(fd), unix.TIOCGPGRP); err == nil && fg > 0 && fg != pid {
				groups = append(groups, fg)
			}
		})
	}
	for _, sig := range sigs {
		for _, g := range groups {
			_ = unix.Kill(-g, sig)
		}
		_ = unix.Kill(pid, sig)
	}
}

// relayInput writes grun's input to the terminal until grun's connection
// ends; it closes gone if grun went away (rather than the shim closing the
// connection, which also ends it).
func relayInput(ioc *stepio.Client, master *os.File, gone chan<- struct{}) {
	for {
		in, err := ioc.ReadInput()
		switch {
		case errors.Is(err, io.EOF):
			// grun's input ended: what a user's Ctrl-D would do.
			_, _ = master.Write([]byte{eofChar(master)})
		case err != nil:
			close(gone)
			return
		case in.Resize:
			setWinsize(master, in.Rows, in.Cols)
		default:
			if _, err := master.Write(in.Data); err != nil {
				close(gone) // the terminal is gone; nothing more to relay
				return
			}
		}
	}
}

// eofChar is the terminal's end-of-file character (normally Ctrl-D).
func eofChar(master *os.File) byte {
	c := byte(4)
	if rc, err := master.SyscallConn(); err == nil {
		_ = rc.Control(func(fd uintptr) {
			if t, err := unix.IoctlGetTermios(int(fd), unix.TCGETS); err == nil && t.Cc[unix.VEOF] != 0 {
				c = t.Cc[unix.VEOF]
			}
		})
	}
	return c
}

// setWinsize sets the terminal's window size; the kernel sends SIGWINCH
// to its foreground process group.
func setWinsize(master *os.File, rows, cols uint16) {
	if rc, err := master.SyscallConn(); err == nil {
		_ = rc.Control(func(fd uintptr) {
			_ = unix.IoctlSetWinsize(int(fd), unix.TIOCSWINSZ, &unix.Winsize{Row: rows, Col: cols})
		})
	}
}

// execConsole runs runc exec --detach with a console socket and returns
// the pty master and the process's pid.
func (s *shim) execConsole() (*os.File, int, error) {
	sock := filepath.Join(s.dir, consoleSocket)
	_ = os.Remove(sock)
	ln, err := listenConsole(s.dir)
	if err != nil {
		return nil, 0, fmt.Errorf("console socket: %w", err)
	}
	defer os.Remove(sock)
	defer ln.Close()
	type recv struct {
		f   *os.File
		err error
	}
	got := make(chan recv, 1)
	go func() {
		f, err := recvConsole(ln)
		got <- recv{f, err}
	}()
	cmd := exec.Command(s.runc, "--root", s.root, "exec", "--detach", "--pid-file", execPidFile,
		"--console-socket", consoleSocket, "--process", processFile, s.spec.ExecIn)
	cmd.Dir = s.dir
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr // runc's own messages: shim.log
	if err := cmd.Run(); err != nil {
		_ = ln.Close()
		if r := <-got; r.f != nil {
			_ = r.f.Close()
		}
		return nil, 0, fmt.Errorf("%w%s", err, s.runcMessage())
	}
	var r recv
	select {
	case r = <-got:
	case <-time.After(consoleWait):
		_ = ln.Close()
		r = <-got
		if r.err == nil {
			r.err = errors.New("timed out")
		}
	}
	if r.err != nil {
		if r.f != nil {
			_ = r.f.Close()
		}
		return nil, 0, fmt.Errorf("receive the terminal from runc: %w", r.err)
	}
	b, err := os.ReadFile(filepath.Join(s.dir, execPidFile))
	pid := 0
	if err == nil {
		pid, err = strconv.Atoi(strings.TrimSpace(string(b)))
	}
	if err != nil || pid <= 0 {
		_ = r.f.Close()
		return nil, 0, fmt.Errorf("read the step's pid: %q, %v", b, err)
	}
	return r.f, pid, nil
}

// runcMessage returns runc's last line in shim.log (its error), prefixed
// with ": ", or "".
func (s *shim) runcMessage() string {
	lines := strings.Split(strings.TrimSpace(string(s.logSince())), "\n")
	if l := strings.TrimSpace(lines[len(lines)-1]); l != "" {
		return ": " + l
	}
	return ""
}

// listenConsole listens on the console socket in dir. The socket is bound
// through /proc/self/fd so that a long task dir does not overflow the
// socket path; runc, running in dir, finds it by its relative name.
func listenConsole(dir string) (*net.UnixListener, error) {
	d, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	defer d.Close()
	addr := &net.UnixAddr{Net: "unix", Name: fmt.Sprintf("/proc/self/fd/%d/%s", d.Fd(), consoleSocket)}
	ln, err := net.ListenUnix("unix", addr)
	if err != nil {
		return nil, err
	}
	// Closing the listener must not try to unlink the /proc name.
	ln.SetUnlinkOnClose(false)
	return ln, nil
}

// recvConsole accepts runc's connection and receives the pty master.
func recvConsole(ln *net.UnixListener) (*os.File, error) {
	if err := ln.SetDeadline(time.Now().Add(consoleWait)); err != nil {
		return nil, err
	}
	conn, err := ln.AcceptUnix()
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	// Only root (runc) may hand us a terminal: the task dir is
	// traversable by everyone.
	if uid, err := peerUID(conn); err != nil || uid != 0 {
		return nil, fmt.Errorf("console socket: connection from uid %d (%v), not runc", uid, err)
	}
	if err := conn.SetReadDeadline(time.Now().Add(consoleWait)); err != nil {
		return nil, err
	}
	name := make([]byte, 4096)
	oob := make([]byte, unix.CmsgSpace(4*4))
	_, oobn, _, _, err := conn.ReadMsgUnix(name, oob)
	if err != nil {
		return nil, err
	}
	msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
	if err != nil {
		return nil, err
	}
	var fds []int
	for _, m := range msgs {
		if f, err := unix.ParseUnixRights(&m); err == nil {
			fds = append(fds, f...)
		}
	}
	if len(fds) == 0 {
		return nil, errors.New("no file descriptor in runc's message")
	}
	for _, fd := range fds[1:] {
		_ = unix.Close(fd)
	}
	// Non-blocking, so that the runtime poller serves it and Close ends
	// a pending Read.
	if err := unix.SetNonblock(fds[0], true); err != nil {
		_ = unix.Close(fds[0])
		return nil, err
	}
	unix.CloseOnExec(fds[0])
	return os.NewFile(uintptr(fds[0]), "pty-master"), nil
}

// peerUID returns the uid of the process at the other end of conn.
func peerUID(conn *net.UnixConn) (int, error) {
	rc, err := conn.SyscallConn()
	if err != nil {
		return -1, err
	}
	uid, uerr := -1, error(nil)
	if err := rc.Control(func(fd uintptr) {
		var cred *unix.Ucred
		if cred, uerr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED); uerr == nil {
			uid = int(cred.Uid)
		}
	}); err != nil {
		return -1, err
	}
	return uid, uerr
}
