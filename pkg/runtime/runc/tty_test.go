package runc_test

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gsched/gsched/pkg/runtime"
	"github.com/gsched/gsched/pkg/runtime/runc"
	"github.com/gsched/gsched/pkg/stepio"
)

// syncBuffer is a bytes.Buffer the test reads while the server writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// ttyStep starts a job container (sleep) and a terminal step in it whose
// grun end is a stepio server in the test; it returns the runtime, the
// server, the terminal's output and the step's id.
func ttyStep(t *testing.T, argv ...string) (*runc.Runtime, *stepio.Server, *syncBuffer, string) {
	t.Helper()
	e := newEnv(t)
	rt := e.newRuntime(t, e.options(t))
	dir := e.dir(t, "case-", 0o777)
	ctx := context.Background()
	job := spec("job-tty", "sleep 60", dir)
	if err := rt.Start(ctx, job); err != nil {
		t.Fatal(err)
	}
	srv, err := stepio.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	out := &syncBuffer{}
	go func() { _ = srv.Serve(stepio.Options{Stdout: out, Stderr: out}) }()
	t.Cleanup(func() { srv.Close() })
	step := runtime.TaskSpec{
		ID: "step-tty", JobID: 1, UID: 65534, GID: 65534, Argv: argv,
		Env: []string{"PATH=/usr/bin:/bin", "TERM=dumb", "PS1=$ "}, Cwd: dir, ExecIn: job.ID,
		IOAddr: srv.Addr().String(), IOToken: srv.Token(), TTY: true, TTYRows: 33, TTYCols: 101,
		KillGrace: time.Second, Stdout: "/dev/null", Stderr: "/dev/null",
	}
	if err := rt.Start(ctx, step); err != nil {
		t.Fatal(err)
	}
	return rt, srv, out, step.ID
}

func waitStep(t *testing.T, rt *runc.Runtime, id string, out *syncBuffer) runtime.Status {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := rt.Wait(ctx, id)
	if err != nil {
		t.Fatalf("wait %s: %v; terminal so far: %q", id, err, out.String())
	}
	return st
}

// A terminal step: what is typed reaches the shell, which sees a
// /dev/pts terminal of the size given, then a new size after a resize,
// runs as the task's user, and its exit status is the task's.
func TestStepOnTerminal(t *testing.T) {
	rt, srv, out, id := ttyStep(t, "/bin/sh")
	if _, err := srv.Stdin().Write([]byte("echo $((6*7)); tty; stty size; id -u\n")); err != nil {
		t.Fatal(err)
	}
	waitOutput(t, out, "33 101")
	srv.Resize(40, 132)
	if _, err := srv.Stdin().Write([]byte("stty size; exit 3\n")); err != nil {
		t.Fatal(err)
	}
	st := waitStep(t, rt, id, out)
	got := out.String()
	for _, want := range []string{"42\r\n", "/dev/pts/", "33 101\r\n", "65534\r\n", "40 132\r\n"} {
		if !strings.Contains(got, want) {
			t.Errorf("terminal output lacks %q:\n%s", want, got)
		}
	}
	if st.ExitCode != 3 || st.Killed || st.Error != "" {
		t.Errorf("status = %+v, want exit 3", st)
	}
}

// Ctrl-C typed at grun travels as a byte and interrupts the foreground
// command through the terminal; a kill hangs the session up.
func TestStepOnTerminalInterruptAndKill(t *testing.T) {
	rt, srv, out, id := ttyStep(t, "/bin/sh")
	if _, err := srv.Stdin().Write([]byte("sleep 100\n")); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond) // let sleep start
	// The shell abandons the rest of an interrupted command line: ask
	// for the status on the next one.
	if _, err := srv.Stdin().Write([]byte("\x03echo rc=$?\n")); err != nil {
		t.Fatal(err)
	}
	waitOutput(t, out, "rc=130")
	if _, err := srv.Stdin().Write([]byte("sleep 100\n")); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	t0 := time.Now()
	if err := rt.Kill(context.Background(), id, time.Second); err != nil {
		t.Fatal(err)
	}
	st := waitStep(t, rt, id, out)
	if !st.Killed || st.ExitCode == 0 {
		t.Errorf("status after kill = %+v", st)
	}
	if d := time.Since(t0); d > 10*time.Second {
		t.Errorf("kill took %v", d)
	}
}

// When grun goes away the session is hung up and the step ends.
func TestStepOnTerminalGrunGone(t *testing.T) {
	rt, srv, out, id := ttyStep(t, "/bin/sh")
	// Wait for the shell's answer, not the terminal's echo of the line:
	// a hang-up before the shell runs would test something else.
	if _, err := srv.Stdin().Write([]byte("echo $((40+2))ready\n")); err != nil {
		t.Fatal(err)
	}
	waitOutput(t, out, "42ready\r\n")
	srv.Close()
	st := waitStep(t, rt, id, out)
	if st.ExitCode != 128+1 || st.Killed {
		t.Errorf("status after grun left = %+v, want SIGHUP (129)", st)
	}
}

func waitOutput(t *testing.T, out *syncBuffer, want string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(out.String(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("terminal output lacks %q after 20s:\n%s", want, out.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}
