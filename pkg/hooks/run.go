package hooks

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// maxOutput bounds what is kept of a program's output.
const maxOutput = 64 << 10

// basePath is the PATH programs run with.
const basePath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// Result is how a program ended.
type Result struct {
	// Err is nil when it exited 0 within its time.
	Err error
	// TimedOut is set when it was killed at the time limit.
	TimedOut bool
	// Output is its stdout and stderr together (at most 64 KiB).
	Output string
	// Elapsed is how long it ran.
	Elapsed time.Duration
}

// FirstLine is the first non-empty line of the output ("" if none).
func (r Result) FirstLine() string {
	for _, l := range strings.Split(r.Output, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			return l
		}
	}
	return ""
}

// Reason says why the program failed, for a node's drain reason: the
// first line of its output, else its exit status or the time-out ("" when
// it succeeded).
func (r Result) Reason() string {
	switch {
	case r.Err == nil:
		return ""
	case r.TimedOut:
		if l := r.FirstLine(); l != "" {
			return fmt.Sprintf("timed out after %s: %s", r.Elapsed.Round(time.Second), l)
		}
		return fmt.Sprintf("timed out after %s", r.Elapsed.Round(time.Second))
	}
	if l := r.FirstLine(); l != "" {
		return l
	}
	return r.Err.Error()
}

// limitedBuffer keeps the first maxOutput bytes written to it (not an
// embedded bytes.Buffer: io.Copy would use its ReadFrom, past the limit).
type limitedBuffer struct{ buf bytes.Buffer }

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if room := maxOutput - b.buf.Len(); room > 0 {
		b.buf.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

func (b *limitedBuffer) String() string { return b.buf.String() }

// Run runs prog (no arguments) with env added to a minimal environment,
// stdin from /dev/null, in its own process group, which is killed when
// timeout passes or ctx is done.
func Run(ctx context.Context, prog string, env []string, timeout time.Duration) Result {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.Command(prog)
	cmd.Env = append([]string{basePath, "HOME=/root", "LANG=C"}, env...)
	cmd.Dir = "/"
	var out limitedBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	// A child left running with the output open does not hold Wait up
	// once the program itself has exited.
	cmd.WaitDelay = time.Second
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return Result{Err: fmt.Errorf("run %s: %w", prog, err)}
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var err error
	timedOut := false
	select {
	case err = <-done:
	case <-ctx.Done():
		timedOut = true
		// The whole group: a shell script's children die with it.
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		err = <-done
	}
	if errors.Is(err, exec.ErrWaitDelay) {
		err = nil // it exited 0; a child kept the output open
	}
	r := Result{Output: out.String(), Elapsed: time.Since(start), TimedOut: timedOut}
	switch {
	case timedOut:
		r.Err = fmt.Errorf("%s: %w", prog, context.DeadlineExceeded)
	case err != nil:
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			r.Err = fmt.Errorf("%s: %w", prog, ee)
		} else {
			r.Err = fmt.Errorf("%s: %w", prog, err)
		}
	}
	return r
}
