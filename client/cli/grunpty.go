package cli

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"golang.org/x/term"

	"github.com/gsched/gsched/pkg/api"
	"github.com/gsched/gsched/pkg/stepio"
)

// grun --pty (and gattach): the step's one task runs on a pseudo-terminal
// on the node, and grun's terminal stands in for it: grun's terminal goes
// into raw mode (so Ctrl-C, Ctrl-Z and every other key travel as bytes to
// the remote terminal, whose line discipline acts on them), stdin is
// forwarded, the window size is sent at the start and on every SIGWINCH,
// and the terminal is restored before grun reports anything or exits.
// SIGTERM and SIGHUP to grun cancel the step (grun.go).

// runPtyStep runs a --pty step with grun's terminal attached.
func (e *Env) runPtyStep(ctx context.Context, cl Caller, srv *stepio.Server, job api.JobID, spec api.StepSpec) (int, error) {
	fd := terminalFd(e.Stdin)
	re := *e
	if fd >= 0 {
		if cols, rows, err := term.GetSize(fd); err == nil && validTermSize(rows, cols) {
			spec.TermRows, spec.TermCols = rows, cols
			srv.Resize(uint16(rows), uint16(cols))
		}
		old, err := term.MakeRaw(fd)
		if err != nil {
			return 1, fmt.Errorf("terminal raw mode: %w", err)
		}
		defer func() { _ = term.Restore(fd, old) }()
		// Messages grun writes meanwhile need their carriage returns.
		re.Stderr = crlfWriter{e.Stderr}

		winch := make(chan os.Signal, 1)
		signal.Notify(winch, syscall.SIGWINCH)
		done := make(chan struct{})
		defer func() {
			signal.Stop(winch)
			close(done)
		}()
		go func() {
			for {
				select {
				case <-winch:
					if cols, rows, err := term.GetSize(fd); err == nil && validTermSize(rows, cols) {
						srv.Resize(uint16(rows), uint16(cols))
					}
				case <-done:
					return
				}
			}
		}()
	}
	if e.Stdin != nil {
		// Ends with grun: a read of the terminal cannot be interrupted.
		go func() {
			_, _ = io.Copy(srv.Stdin(), e.Stdin)
			_ = srv.Stdin().Close()
		}()
	}
	return re.runStep(ctx, cl, srv, job, spec)
}

// terminalFd returns r's file descriptor if r is a terminal, else -1.
func terminalFd(r io.Reader) int {
	f, ok := r.(*os.File)
	if !ok || f == nil {
		return -1
	}
	if fd := int(f.Fd()); term.IsTerminal(fd) {
		return fd
	}
	return -1
}

func validTermSize(rows, cols int) bool {
	return rows > 0 && cols > 0 && rows <= api.MaxTermSize && cols <= api.MaxTermSize
}

// crlfWriter writes "\r\n" for every "\n": a terminal in raw mode does not
// return the carriage by itself.
type crlfWriter struct{ w io.Writer }

func (c crlfWriter) Write(p []byte) (int, error) {
	if _, err := c.w.Write(bytes.ReplaceAll(p, []byte("\n"), []byte("\r\n"))); err != nil {
		return 0, err
	}
	return len(p), nil
}
