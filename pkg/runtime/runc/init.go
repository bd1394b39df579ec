package runc

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"golang.org/x/sys/unix"
)

// Re-exec role names. Main dispatches on filepath.Base(os.Args[0]).
const (
	shimName = "gsched-shim"
	initName = "gsched-init"
	// initMountName is the base name of initPath: runc execs the init with
	// argv[0] = "/.gsched-init".
	initMountName = ".gsched-init"
)

// Lines the in-container init writes to its original stderr (the task's
// shim.log) for the shim to pick up.
const (
	initErrPrefix = "gsched-init: error: "
	initSigPrefix = "gsched-init: signal "
)

// seccompFailCode is the init's exit code when it cannot load the
// container's seccomp filter (the user's command never ran).
const seccompFailCode = 126

// Main runs the re-exec roles of the binary that embeds this package: the
// per-task supervisor (argv[0] "gsched-shim") and the in-container init
// (argv[0] "gsched-init" or "/.gsched-init"). For those it never returns
// (it calls os.Exit); otherwise it returns false at once. gnoded's main and
// the TestMain of every test binary that starts runc tasks call it first.
func Main() bool {
	switch filepath.Base(os.Args[0]) {
	case shimName:
		os.Exit(shimMain(os.Args[1:]))
	case initName, initMountName:
		os.Exit(initMain(os.Args[1:]))
	case seccompCheckName:
		os.Exit(seccompCheckMain(os.Args[1:]))
	}
	return false
}

// forwarded are the signals the init passes on to every process of the
// task (Runtime.Signal sends the others to each process itself).
var forwarded = []os.Signal{
	unix.SIGTERM, unix.SIGINT, unix.SIGHUP, unix.SIGQUIT, unix.SIGUSR1, unix.SIGUSR2,
	unix.SIGCONT, unix.SIGTSTP, unix.SIGTTIN, unix.SIGTTOU, unix.SIGWINCH, unix.SIGALRM,
	unix.SIGXCPU, unix.SIGXFSZ,
}

// isForwarded reports whether the init forwards sig.
func isForwarded(sig unix.Signal) bool {
	for _, f := range forwarded {
		if f == sig {
			return true
		}
	}
	return false
}

// initMain is pid 1 of the container, running as the job's user: it opens
// the output files as the user, changes to the working directory, runs the
// script as a child, forwards signals to all processes, reaps zombies and
// exits with the script's status (128+n when a signal killed it).
func initMain(args []string) int {
	// First of all, before the user's flags, files or command are
	// looked at: the precompiled seccomp filter, when there is one.
	if err := loadTaskSeccomp(seccompPath); err != nil {
		return initFail(seccompFailCode, "%v", err)
	}
	fs := flag.NewFlagSet(initName, flag.ContinueOnError)
	fs.SetOutput(os.Stderr)
	stdout := fs.String("stdout", "", "file for the script's stdout")
	stderr := fs.String("stderr", "", "file for the script's stderr (default: stdout)")
	appendOut := fs.Bool("append", false, "append to the output files")
	cwd := fs.String("cwd", "/", "working directory")
	step := fs.Bool(initStepFlag[1:], false, "run a job step's command (not pid 1)")
	grace := fs.String("kill-grace", "10s", "step mode: SIGTERM-to-SIGKILL time")
	tty := fs.Bool(initTTYFlag[1:], false, "step mode: on a terminal, become the command")
	if err := fs.Parse(args); err != nil {
		return initFail(2, "usage: %v", err)
	}
	argv := fs.Args()
	if len(argv) == 0 {
		return initFail(2, "usage: no script")
	}
	if *step && *tty {
		// No handler of ours: a hang-up arriving before the exec must
		// end this process as it would end the command.
		return ttyInit(argv, *cwd)
	}
	sigs := make(chan os.Signal, 32)
	signal.Notify(sigs, append([]os.Signal{unix.SIGCHLD}, forwarded...)...)
	var files []uintptr
	var err error
	if *step && *stdout == "" {
		// The step's shim relays our stdout and stderr.
		null, nerr := os.Open(os.DevNull)
		if nerr != nil {
			return initFail(1, "open %s: %v", os.DevNull, nerr)
		}
		keep = append(keep, null)
		files = []uintptr{null.Fd(), 1, 2}
	} else if files, err = openOutputs(*stdout, *stderr, *appendOut); err != nil {
		return initFail(1, "%v", err)
	}
	if err := unix.Chdir(*cwd); err != nil {
		return initFail(1, "chdir %s: %v", *cwd, err)
	}
	if *step {
		return stepInit(argv, *cwd, files, parseGrace(*grace), sigs)
	}
	pid, err := forkExec(argv[0], argv, *cwd, files, false)
	if err != nil {
		return initFail(126, "exec %s: %v", argv[0], err)
	}
	for sig := range sigs {
		if sig != unix.SIGCHLD {
			// kill(-1) reaches every process in the pid namespace but
			// this one.
			_ = unix.Kill(-1, sig.(syscall.Signal))
			continue
		}
		if ws, done := reap(pid); done {
			switch {
			case ws.Exited():
				return ws.ExitStatus()
			case ws.Signaled():
				fmt.Fprintf(os.Stderr, "%s%d\n", initSigPrefix, int(ws.Signal()))
				return 128 + int(ws.Signal())
			}
			return 1
		}
	}
	return 1
}

// forkExec starts argv[0] (a path) with the environment and files given,
// in a new process group if group is set.
func forkExec(path string, argv []string, cwd string, files []uintptr, group bool) (int, error) {
	return syscall.ForkExec(path, argv, &syscall.ProcAttr{
		Dir:   cwd,
		Env:   os.Environ(),
		Files: files,
		Sys:   &syscall.SysProcAttr{Setpgid: group},
	})
}

// reap collects every exited child; done is true once main has exited.
func reap(main int) (unix.WaitStatus, bool) {
	var mainWS unix.WaitStatus
	found := false
	for {
		var ws unix.WaitStatus
		pid, err := unix.Wait4(-1, &ws, unix.WNOHANG, nil)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil || pid <= 0 {
			return mainWS, found
		}
		if pid == main {
			mainWS, found = ws, true
		}
	}
}

// openOutputs opens stdin (/dev/null), stdout and stderr for the script;
// it runs as the job's user, so the user's permissions apply.
func openOutputs(stdout, stderr string, appendOut bool) ([]uintptr, error) {
	null, err := os.Open(os.DevNull)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", os.DevNull, err)
	}
	flags := os.O_CREATE | os.O_WRONLY | os.O_TRUNC
	if appendOut {
		flags = os.O_CREATE | os.O_WRONLY | os.O_APPEND
	}
	open := func(p string) (*os.File, error) {
		if p == "" {
			return os.OpenFile(os.DevNull, os.O_WRONLY, 0)
		}
		return os.OpenFile(p, flags, 0o644)
	}
	out, err := open(stdout)
	if err != nil {
		return nil, fmt.Errorf("open stdout: %w", err)
	}
	errf := out
	if stderr != "" && stderr != stdout {
		if errf, err = open(stderr); err != nil {
			return nil, fmt.Errorf("open stderr: %w", err)
		}
	}
	// The files stay open (and referenced) until the init exits.
	keep = append(keep, null, out, errf)
	return []uintptr{null.Fd(), out.Fd(), errf.Fd()}, nil
}

// keep holds the script's files so they are not finalized (closed) while
// the init waits.
var keep []*os.File

// initFail reports an error for the shim (on the init's own stderr, which is
// the task's shim.log) and returns code.
func initFail(code int, format string, a ...any) int {
	fmt.Fprintf(os.Stderr, initErrPrefix+format+"\n", a...)
	return code
}
