package runc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/gsched/gsched/pkg/runtime"
	"github.com/gsched/gsched/pkg/stepio"
)

// Job steps run as further processes of the job's container: runc exec
// with a process.json. The process is the in-container init in step mode
// (initStepFlag), which starts the command in its own process group as
// the user, forwards signals to that group and, once asked to stop,
// SIGKILLs the group after the grace. The step's shim is runc exec's
// parent: runc exec waits for the process and exits with its status
// (128+n for a signal) and proxies the signals the shim sends it.

// processFile is a step task's OCI process (runc exec --process).
const processFile = "process.json"

// initStepFlag puts the in-container init in step mode.
const initStepFlag = "-step"

// ioDialTimeout bounds the connection to grun.
const ioDialTimeout = 10 * time.Second

// outputDrain is how long output still buffered in the pipes is relayed
// after the step's process ended (children may hold the pipes open).
const outputDrain = 2 * time.Second

// buildProcess returns the OCI process of a step task.
func buildProcess(ts runtime.TaskSpec, noFile uint64) (*specs.Process, error) {
	if len(ts.Argv) == 0 || ts.Argv[0] == "" {
		return nil, errors.New("step: empty command")
	}
	if !filepath.IsAbs(ts.Cwd) {
		return nil, fmt.Errorf("cwd %q is not absolute", ts.Cwd)
	}
	args := []string{initPath, initStepFlag, "-cwd", ts.Cwd, "-kill-grace", ts.KillGrace.String()}
	if ts.TTY {
		if ts.IOAddr == "" {
			return nil, errors.New("step: a terminal needs grun's address")
		}
		args = append(args, initTTYFlag)
	}
	if ts.IOAddr == "" {
		args = append(args, "-stdout", ts.Stdout, "-stderr", ts.Stderr)
		if ts.Append {
			args = append(args, "-append")
		}
	}
	args = append(append(args, "--"), ts.Argv...)
	var console *specs.Box
	if ts.TTY && ts.TTYRows > 0 && ts.TTYCols > 0 {
		console = &specs.Box{Height: uint(ts.TTYRows), Width: uint(ts.TTYCols)}
	}
	return &specs.Process{
		Terminal:        ts.TTY,
		ConsoleSize:     console,
		User:            specs.User{UID: ts.UID, GID: ts.GID, AdditionalGids: append([]uint32(nil), ts.Groups...)},
		Args:            args,
		Env:             append([]string(nil), ts.Env...),
		Cwd:             "/",
		Capabilities:    capabilities(ts.UID),
		Rlimits:         []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Hard: noFile, Soft: noFile}},
		NoNewPrivileges: true,
	}, nil
}

// startExec records a step task's process and hands it to a shim.
func (r *Runtime) startExec(ctx context.Context, spec runtime.TaskSpec, dir string) error {
	if !validID.MatchString(spec.ExecIn) {
		return fmt.Errorf("step: invalid container %q", spec.ExecIn)
	}
	if spec.UID == 0 && spec.Groups == nil {
		spec.Groups = []uint32{}
	}
	p, err := buildProcess(spec, r.noFile)
	if err != nil {
		return err
	}
	if err := writeJSONAtomic(filepath.Join(dir, processFile), p); err != nil {
		return fmt.Errorf("step process: %w", err)
	}
	return r.launchShim(ctx, spec.ID, dir)
}

// runExec is the shim's loop for a step task.
func (s *shim) runExec(wake <-chan os.Signal) runtime.Status {
	st := runtime.Status{ID: s.spec.ID, JobID: s.spec.JobID}
	if _, ok := readKill(s.dir); ok {
		st.Killed = true
		st.ExitCode = 128 + int(unix.SIGTERM)
		return st
	}
	if err := s.waitContainer(wake); err != nil {
		return s.failExec(st, nil, "step", err)
	}
	if s.spec.TTY {
		return s.runExecTTY(wake, st)
	}
	var outW, errW io.Writer = io.Discard, io.Discard
	var ioc *stepio.Client
	if s.spec.IOAddr != "" {
		ctx, cancel := context.WithTimeout(context.Background(), ioDialTimeout)
		c, err := stepio.Dial(ctx, s.spec.IOAddr, s.spec.IOToken, s.spec.Rank)
		cancel()
		if err != nil {
			// Without its grun the output has nowhere to go; the task
			// still runs (grun may be gone while its job goes on).
			s.log.Printf("output relay to %s: %v", s.spec.IOAddr, err)
		} else {
			ioc = c
			outW, errW = c.Stdout(), c.Stderr()
		}
	}
	cmd := exec.Command(s.runc, "--root", s.root, "exec", "--process", filepath.Join(s.dir, processFile), s.spec.ExecIn)
	cmd.Dir = s.dir
	var copies sync.WaitGroup
	var pipes, childEnds []*os.File // our read ends, the child's write ends
	if s.spec.IOAddr != "" {
		for _, w := range []io.Writer{outW, errW} {
			pr, pw, err := os.Pipe()
			if err != nil {
				return s.failExec(st, ioc, "pipe", err)
			}
			pipes, childEnds = append(pipes, pr), append(childEnds, pw)
			copies.Add(1)
			go func(w io.Writer) {
				defer copies.Done()
				_, _ = io.Copy(w, pr)
			}(w)
		}
		cmd.Stdout, cmd.Stderr = childEnds[0], childEnds[1]
	} else {
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr // runc's own messages: shim.log
	}
	err := cmd.Start()
	for _, f := range childEnds {
		_ = f.Close() // the child holds its copies
	}
	if err != nil {
		return s.failExec(st, ioc, "runc exec", err)
	}
	st.StartedAt = time.Now()
	if err := writeFileAtomic(filepath.Join(s.dir, startedFile), []byte(st.StartedAt.Format(time.RFC3339Nano))); err != nil {
		s.log.Printf("write started: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	var killC <-chan time.Time
	checkKill := func() {
		grace, ok := readKill(s.dir)
		if !ok || killC != nil {
			return
		}
		st.Killed = true
		s.log.Printf("SIGTERM to step task %s (grace %v)", s.spec.ID, grace)
		_ = cmd.Process.Signal(unix.SIGTERM) // runc exec passes it on
		killC = time.After(grace + 5*time.Second)
	}
	checkKill()
	var werr error
wait:
	for {
		select {
		case werr = <-exited:
			break wait
		case <-wake:
			checkKill()
		case <-killC:
			// The init in step mode SIGKILLs its group after the grace;
			// this is the backstop should runc exec hang.
			s.log.Printf("SIGKILL to runc exec of %s", s.spec.ID)
			_ = cmd.Process.Kill()
		}
	}
	st.FinishedAt = time.Now()
	if ps := cmd.ProcessState; ps != nil {
		if ws, ok := ps.Sys().(unix.WaitStatus); ok && ws.Signaled() {
			st.Signal = int(ws.Signal())
			st.ExitCode = 128 + st.Signal
		} else {
			st.ExitCode = ps.ExitCode()
		}
	} else if werr != nil {
		st.ExitCode, st.Error = failExitCode, fmt.Sprintf("runc exec: %v", werr)
	}
	if st.ExitCode > 128 && st.Signal == 0 {
		st.Signal = st.ExitCode - 128 // runc exec reports a signal as 128+n
	}
	done := make(chan struct{})
	go func() { copies.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(outputDrain):
		for _, p := range pipes {
			_ = p.Close()
		}
		<-done
	}
	if ioc != nil {
		_ = ioc.Close()
	}
	if errs, _ := s.initReports(); len(errs) > 0 && st.Error == "" {
		st.Error = errs[0]
	}
	return st
}

// containerWait bounds how long a step task waits for its job's container
// to start (a step may be requested as the job starts).
const containerWait = 60 * time.Second

// waitContainer waits until the job's container has started, judging by
// its task dir (a sibling of ours): started, and not ended.
func (s *shim) waitContainer(wake <-chan os.Signal) error {
	job := filepath.Join(filepath.Dir(s.dir), s.spec.ExecIn)
	deadline := time.Now().Add(containerWait)
	for {
		if _, err := os.Stat(filepath.Join(job, statusFile)); err == nil {
			return fmt.Errorf("the job's container %s has ended", s.spec.ExecIn)
		}
		if _, err := os.Stat(filepath.Join(job, startedFile)); err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the job's container %s did not start within %v", s.spec.ExecIn, containerWait)
		}
		select {
		case <-wake:
			if _, ok := readKill(s.dir); ok {
				return errors.New("stopped before it started")
			}
		case <-time.After(10 * time.Millisecond):
		}
	}
}

func (s *shim) failExec(st runtime.Status, ioc *stepio.Client, what string, err error) runtime.Status {
	if ioc != nil {
		_, _ = fmt.Fprintf(ioc.Stderr(), "gsched: %s: %v\n", what, err)
		_ = ioc.Close()
	}
	st.ExitCode = failExitCode
	st.Error = fmt.Sprintf("%s: %v", what, err)
	s.log.Printf("%s: %v", what, err)
	return st
}

// stepInit is the in-container init in step mode: it runs as the user,
// starts argv in its own process group with the given files, forwards
// signals to the group, and, after the first SIGTERM/SIGINT, SIGKILLs the
// group once grace has passed. It returns the command's status.
func stepInit(argv []string, cwd string, files []uintptr, grace time.Duration, sigs chan os.Signal) int {
	pid, err := forkExecGroup(argv, cwd, files)
	if err != nil {
		return initFail(127, "exec %s: %v", argv[0], err)
	}
	var killC <-chan time.Time
	for {
		select {
		case <-killC:
			_ = unix.Kill(-pid, unix.SIGKILL)
			killC = nil
		case sig := <-sigs:
			if sig != unix.SIGCHLD {
				s := sig.(unix.Signal)
				_ = unix.Kill(-pid, s)
				if (s == unix.SIGTERM || s == unix.SIGINT) && killC == nil {
					killC = time.After(grace)
				}
				continue
			}
			if ws, done := reap(pid); done {
				if ws.Signaled() {
					return 128 + int(ws.Signal())
				}
				return ws.ExitStatus()
			}
		}
	}
}

// forkExecGroup starts argv (looked up in PATH) in a new process group.
func forkExecGroup(argv []string, cwd string, files []uintptr) (int, error) {
	path, err := exec.LookPath(argv[0])
	if err != nil {
		return 0, err
	}
	return forkExec(path, argv, cwd, files, true)
}

// parseGrace reads the -kill-grace flag value (a Go duration; 10 s when
// unreadable).
func parseGrace(v string) time.Duration {
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		return 10 * time.Second
	}
	return d
}
