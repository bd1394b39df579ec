// Package fake is a scripted in-memory runtime.Runtime for unit tests of
// the node agent. Tasks "run" until the test ends them with Finish or Exit;
// Kill ends them at once with Killed set; a Deadline ends them with
// TimedOut. Every Start spec, signal and kill is recorded.
package fake

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"syscall"
	"time"

	"github.com/gsched/gsched/pkg/runtime"
)

// Runtime is the fake. The zero value is not usable; call New.
type Runtime struct {
	s *state
}

var _ runtime.Runtime = (*Runtime)(nil)

type state struct {
	mu       sync.Mutex
	tasks    map[string]*task
	starts   []runtime.TaskSpec
	failNext map[string]string // id -> Error for its next Start
	startErr error             // returned by every Start while set
	// exitAfter, when set, ends every task started since SetExitAfter
	// with exit status 0 that long after its start (benchmarks).
	exitAfter *time.Duration
	changed   chan struct{} // closed and replaced on every change
}

type task struct {
	spec    runtime.TaskSpec
	status  runtime.Status
	signals []syscall.Signal
	kills   []time.Duration
	timer   *time.Timer
	done    chan struct{}
}

// New returns an empty fake runtime.
func New() *Runtime {
	return &Runtime{s: &state{
		tasks:    make(map[string]*task),
		failNext: make(map[string]string),
		changed:  make(chan struct{}),
	}}
}

// Reopen returns a second Runtime over the same tasks, as a node daemon
// that restarted would see them.
func (r *Runtime) Reopen() *Runtime { return &Runtime{s: r.s} }

// notify wakes everyone waiting for a change; s.mu must be held.
func (s *state) notify() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// Start records the task as running. A Deadline is enforced with a timer.
func (r *Runtime) Start(_ context.Context, spec runtime.TaskSpec) error {
	s := r.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.startErr != nil {
		return s.startErr
	}
	if spec.ID == "" {
		return fmt.Errorf("start task: empty id")
	}
	if _, ok := s.tasks[spec.ID]; ok {
		return fmt.Errorf("start task %s: %w", spec.ID, runtime.ErrExists)
	}
	spec = cloneSpec(spec)
	s.starts = append(s.starts, spec)
	t := &task{
		spec:   spec,
		status: runtime.Status{ID: spec.ID, JobID: spec.JobID, Running: true, StartedAt: time.Now()},
		done:   make(chan struct{}),
	}
	s.tasks[spec.ID] = t
	if msg, ok := s.failNext[spec.ID]; ok {
		delete(s.failNext, spec.ID)
		s.end(t, runtime.Status{ExitCode: 1, Error: msg, StartedAt: time.Time{}})
	} else if s.exitAfter != nil {
		id := spec.ID
		t.timer = time.AfterFunc(*s.exitAfter, func() {
			s.mu.Lock()
			defer s.mu.Unlock()
			if t := s.tasks[id]; t != nil && t.status.Running {
				s.end(t, runtime.Status{})
			}
		})
	} else if !spec.Deadline.IsZero() {
		id := spec.ID
		t.timer = time.AfterFunc(time.Until(spec.Deadline), func() {
			s.mu.Lock()
			defer s.mu.Unlock()
			if t := s.tasks[id]; t != nil && t.status.Running {
				s.end(t, runtime.Status{TimedOut: true, Signal: int(syscall.SIGTERM), ExitCode: 128 + int(syscall.SIGTERM)})
			}
		})
	}
	s.notify()
	return nil
}

// end finishes t with the exit fields of st; s.mu must be held.
func (s *state) end(t *task, st runtime.Status) {
	if t.timer != nil {
		t.timer.Stop()
	}
	started := t.status.StartedAt
	if st.StartedAt.IsZero() && st.Error == "" {
		st.StartedAt = started
	}
	st.ID, st.JobID, st.Running = t.spec.ID, t.spec.JobID, false
	if st.FinishedAt.IsZero() {
		st.FinishedAt = time.Now()
	}
	t.status = st
	close(t.done)
	s.notify()
}

func (r *Runtime) get(id string) (*task, error) {
	t, ok := r.s.tasks[id]
	if !ok {
		return nil, fmt.Errorf("task %s: %w", id, runtime.ErrNotFound)
	}
	return t, nil
}

// Status returns the task's status.
func (r *Runtime) Status(_ context.Context, id string) (runtime.Status, error) {
	r.s.mu.Lock()
	defer r.s.mu.Unlock()
	t, err := r.get(id)
	if err != nil {
		return runtime.Status{}, err
	}
	return t.status, nil
}

// Wait blocks until the task ends or ctx is done.
func (r *Runtime) Wait(ctx context.Context, id string) (runtime.Status, error) {
	r.s.mu.Lock()
	t, err := r.get(id)
	r.s.mu.Unlock()
	if err != nil {
		return runtime.Status{}, err
	}
	select {
	case <-t.done:
		return r.Status(ctx, id)
	case <-ctx.Done():
		return runtime.Status{}, fmt.Errorf("wait %s: %w", id, ctx.Err())
	}
}

// Signal records sig; the task keeps running.
func (r *Runtime) Signal(_ context.Context, id string, sig syscall.Signal) error {
	r.s.mu.Lock()
	defer r.s.mu.Unlock()
	t, err := r.get(id)
	if err != nil {
		return err
	}
	if t.status.Running {
		t.signals = append(t.signals, sig)
		r.s.notify()
	}
	return nil
}

// Kill records the grace and ends a running task with Killed set (as if it
// died of SIGTERM).
func (r *Runtime) Kill(_ context.Context, id string, grace time.Duration) error {
	r.s.mu.Lock()
	defer r.s.mu.Unlock()
	t, err := r.get(id)
	if err != nil {
		return err
	}
	if !t.status.Running {
		return nil
	}
	t.kills = append(t.kills, grace)
	r.s.end(t, runtime.Status{Killed: true, Signal: int(syscall.SIGTERM), ExitCode: 128 + int(syscall.SIGTERM)})
	return nil
}

// Destroy forgets the task (killing it first if it runs).
func (r *Runtime) Destroy(_ context.Context, id string) error {
	r.s.mu.Lock()
	defer r.s.mu.Unlock()
	t, err := r.get(id)
	if err != nil {
		return err
	}
	if t.status.Running {
		t.kills = append(t.kills, 0)
		r.s.end(t, runtime.Status{Killed: true, Signal: int(syscall.SIGKILL), ExitCode: 128 + int(syscall.SIGKILL)})
	}
	delete(r.s.tasks, id)
	r.s.notify()
	return nil
}

// List returns every task, sorted by ID.
func (r *Runtime) List(context.Context) ([]runtime.Status, error) {
	r.s.mu.Lock()
	defer r.s.mu.Unlock()
	out := make([]runtime.Status, 0, len(r.s.tasks))
	for _, t := range r.s.tasks {
		out = append(out, t.status)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// Finish ends a running task with st's exit fields (ExitCode, Signal,
// OOMKilled, TimedOut, Killed, Lost, Error); ID, JobID, Running and the
// times are filled in.
func (r *Runtime) Finish(id string, st runtime.Status) error {
	r.s.mu.Lock()
	defer r.s.mu.Unlock()
	t, err := r.get(id)
	if err != nil {
		return err
	}
	if !t.status.Running {
		return fmt.Errorf("finish %s: task already ended", id)
	}
	r.s.end(t, st)
	return nil
}

// Exit ends a running task with an exit code.
func (r *Runtime) Exit(id string, code int) error {
	return r.Finish(id, runtime.Status{ExitCode: code})
}

// SetExitAfter makes every task started from now on end by itself, with
// exit status 0, d after its start: a node that runs trivial jobs, for
// benchmarks of the controller's launch path.
func (r *Runtime) SetExitAfter(d time.Duration) {
	r.s.mu.Lock()
	defer r.s.mu.Unlock()
	r.s.exitAfter = &d
}

// FailStart makes the next Start of id record the task as ended at once
// with the given Error (as a task whose container could not be created).
func (r *Runtime) FailStart(id, msg string) {
	r.s.mu.Lock()
	defer r.s.mu.Unlock()
	r.s.failNext[id] = msg
}

// SetStartError makes every Start return err (nil to stop).
func (r *Runtime) SetStartError(err error) {
	r.s.mu.Lock()
	defer r.s.mu.Unlock()
	r.s.startErr = err
}

// Add records a task as if a previous node daemon had started it (for
// recovery tests); st.Running decides whether it still runs.
func (r *Runtime) Add(spec runtime.TaskSpec, st runtime.Status) {
	r.s.mu.Lock()
	defer r.s.mu.Unlock()
	st.ID, st.JobID = spec.ID, spec.JobID
	t := &task{spec: cloneSpec(spec), status: st, done: make(chan struct{})}
	if !st.Running {
		close(t.done)
	}
	r.s.tasks[spec.ID] = t
	r.s.notify()
}

// Starts returns every spec given to Start, in order.
func (r *Runtime) Starts() []runtime.TaskSpec {
	r.s.mu.Lock()
	defer r.s.mu.Unlock()
	out := make([]runtime.TaskSpec, len(r.s.starts))
	for i, s := range r.s.starts {
		out[i] = cloneSpec(s)
	}
	return out
}

// Spec returns the spec the task was started with.
func (r *Runtime) Spec(id string) (runtime.TaskSpec, bool) {
	r.s.mu.Lock()
	defer r.s.mu.Unlock()
	t, ok := r.s.tasks[id]
	if !ok {
		return runtime.TaskSpec{}, false
	}
	return cloneSpec(t.spec), true
}

// Signals returns the signals sent to the task, in order.
func (r *Runtime) Signals(id string) []syscall.Signal {
	r.s.mu.Lock()
	defer r.s.mu.Unlock()
	if t, ok := r.s.tasks[id]; ok {
		return append([]syscall.Signal(nil), t.signals...)
	}
	return nil
}

// Kills returns the grace of every Kill of the task (0 for Destroy).
func (r *Runtime) Kills(id string) []time.Duration {
	r.s.mu.Lock()
	defer r.s.mu.Unlock()
	if t, ok := r.s.tasks[id]; ok {
		return append([]time.Duration(nil), t.kills...)
	}
	return nil
}

// WaitStarted blocks until a task with id has been started (or added).
func (r *Runtime) WaitStarted(ctx context.Context, id string) (runtime.TaskSpec, error) {
	for {
		r.s.mu.Lock()
		t, ok := r.s.tasks[id]
		ch := r.s.changed
		r.s.mu.Unlock()
		if ok {
			return cloneSpec(t.spec), nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return runtime.TaskSpec{}, fmt.Errorf("wait for start of %s: %w", id, ctx.Err())
		}
	}
}

func cloneSpec(s runtime.TaskSpec) runtime.TaskSpec {
	s.Groups = append([]uint32(nil), s.Groups...)
	s.Script = append([]byte(nil), s.Script...)
	s.Args = append([]string(nil), s.Args...)
	s.Env = append([]string(nil), s.Env...)
	s.WritableDirs = append([]string(nil), s.WritableDirs...)
	s.Devices = append([]runtime.Device(nil), s.Devices...)
	return s
}
