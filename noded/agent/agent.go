// Package agent is the node daemon's control loop: register the node's
// resources with the controller, then repeatedly report what runs here and
// what ended (a long-polling heartbeat), and reconcile the tasks the
// controller wants against the tasks the runtime has: start new ones, kill
// cancelled and orphaned ones, deliver signals, forget acknowledged ones.
// The runtime's records are the truth after a restart, so a restarted
// agent picks up running jobs without touching them.
package agent

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"go.uber.org/zap"

	"github.com/gsched/gsched/pkg/api"
	"github.com/gsched/gsched/pkg/runtime"
)

// Controller is the part of the RPC client the agent uses.
type Controller interface {
	Call(ctx context.Context, path string, req, resp any) error
}

// Options configure an agent.
type Options struct {
	Node       api.Node
	Controller Controller
	Runtime    runtime.Runtime
	Log        *zap.Logger
	// Heartbeat is the long-poll length (the controller may shorten it).
	Heartbeat time.Duration
	// KillGrace is the time between SIGTERM and SIGKILL.
	KillGrace time.Duration
	// CgroupParent and PidsLimit feed the task specs.
	PidsLimit   int64
	ClusterName string
	// SlurmEnv also sets SLURM_* variables in jobs (see EnvOptions).
	SlurmEnv bool
	// NCCLSocketIfname and NCCLIBHCA are passed to jobs (EnvOptions).
	NCCLSocketIfname string
	NCCLIBHCA        string
	// Level is Log's level, set from the controller's sync answers when
	// an operator changes it (nil: left alone). Launched, when set, sees
	// each task start attempt (metrics).
	Level    *zap.AtomicLevel
	Launched func(kind string, d time.Duration, err error)
	// Hooks are the health check, prolog and epilog (hooks.go).
	Hooks Hooks
	// GPUUsage, when set, gives the GPUs' latest usage figures, sent
	// with every sync (NVML GPUs only). It is called once per sync, so
	// it must be cheap: the daemon's reads NVML at most every few
	// seconds.
	GPUUsage func() []api.GPUUsage
}

// Agent runs one node.
type Agent struct {
	opts Options
	log  *zap.Logger

	mu        sync.Mutex
	killing   map[string]bool   // tasks being killed (cancel, preemption, orphan)
	delivered map[string]uint64 // highest signal seq delivered per task
	synthetic map[string]api.TaskReport
	// stepSynthetic holds reports of step tasks that could not start.
	stepSynthetic map[string]api.StepReport
	watching      map[string]bool
	changed       chan struct{}
	allocGPUs     map[int]bool // GPUs held by the node's jobs (observe.go)
	hooks         hookState
	wg            sync.WaitGroup // prolog, epilog and health goroutines
}

// New returns an agent.
func New(opts Options) *Agent {
	if opts.Log == nil {
		opts.Log = zap.NewNop()
	}
	if opts.Heartbeat <= 0 {
		opts.Heartbeat = 5 * time.Second
	}
	return &Agent{
		opts: opts, log: opts.Log,
		killing:   map[string]bool{},
		delivered: map[string]uint64{},
		synthetic: map[string]api.TaskReport{},
		watching:  map[string]bool{},

		stepSynthetic: map[string]api.StepReport{},
		changed:       make(chan struct{}, 1),
		hooks:         hookState{prologs: map[string]bool{}, epilogs: map[string]*epilogRun{}, jobs: map[string]api.Job{}},
	}
}

// TaskID is the runtime ID of a job's task on this node for one attempt
// (run) of the job: job-N for the first, job-N.A after A requeues.
func TaskID(job api.JobID, attempt int) string {
	if attempt == 0 {
		return fmt.Sprintf("job-%d", uint64(job))
	}
	return fmt.Sprintf("job-%d.%d", uint64(job), attempt)
}

// ParseTaskID is the inverse of TaskID.
func ParseTaskID(id string) (api.TaskRef, bool) {
	rest, ok := strings.CutPrefix(id, "job-")
	if !ok {
		return api.TaskRef{}, false
	}
	jobPart, attPart, hasAtt := strings.Cut(rest, ".")
	job, err := strconv.ParseUint(jobPart, 10, 64)
	if err != nil {
		return api.TaskRef{}, false
	}
	ref := api.TaskRef{JobID: api.JobID(job)}
	if hasAtt {
		a, err := strconv.Atoi(attPart)
		if err != nil || a < 1 {
			return api.TaskRef{}, false
		}
		ref.Attempt = a
	}
	if TaskID(ref.JobID, ref.Attempt) != id {
		return api.TaskRef{}, false // "job-05", "job-+5": not a name TaskID gives
	}
	return ref, true
}

// Run registers and then syncs until ctx is done. Running tasks are left
// alone when it returns: they belong to their supervisors.
func (a *Agent) Run(ctx context.Context) error {
	defer a.wg.Wait()
	if a.opts.Hooks.Health != nil {
		// Before joining: a node failing its check registers drained.
		a.runHealth(ctx)
		if a.opts.Hooks.HealthInterval > 0 {
			a.wg.Add(1)
			go func() { defer a.wg.Done(); a.healthLoop(ctx) }()
		}
	}
	backoff := 100 * time.Millisecond
	registered := false
	for ctx.Err() == nil {
		if !registered {
			if err := a.register(ctx); err != nil {
				a.log.Warn("register with controller failed; retrying", zap.Error(err), zap.Duration("in", backoff))
				sleep(ctx, backoff)
				backoff = min(backoff*2, 5*time.Second)
				continue
			}
			registered = true
			backoff = 100 * time.Millisecond
		}
		rereg, err := a.syncOnce(ctx)
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			a.log.Warn("sync with controller failed; retrying", zap.Error(err), zap.Duration("in", backoff))
			sleep(ctx, backoff)
			backoff = min(backoff*2, 5*time.Second)
			continue
		}
		backoff = 100 * time.Millisecond
		if rereg {
			registered = false
		}
	}
	return nil
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

func (a *Agent) register(ctx context.Context) error {
	n := a.opts.Node
	n.RegisterTime = time.Now()
	var resp api.RegisterResponse
	if err := a.opts.Controller.Call(ctx, api.PathNodeRegister, &api.RegisterRequest{Node: n, Health: a.currentHealth()}, &resp); err != nil {
		return err
	}
	if resp.HeartbeatMs > 0 {
		a.opts.Heartbeat = time.Duration(resp.HeartbeatMs) * time.Millisecond
	}
	a.log.Info("registered with controller", zap.Duration("heartbeat", a.opts.Heartbeat))
	return nil
}

// syncOnce reports, long-polls and reconciles once. A task ending while
// the poll is open cuts it short so the report goes out at once.
func (a *Agent) syncOnce(ctx context.Context) (reregister bool, err error) {
	select { // drain: the reports built next include every change so far
	case <-a.changed:
	default:
	}
	reports, err := a.reports(ctx)
	if err != nil {
		return false, err
	}
	steps, err := a.stepState(ctx)
	if err != nil {
		return false, err
	}
	pctx, cancel := context.WithTimeout(ctx, a.opts.Heartbeat+10*time.Second)
	defer cancel()
	go func() {
		select {
		case <-a.changed:
			cancel()
			a.notify() // keep the signal for the next round
		case <-pctx.Done():
		}
	}()
	req := &api.SyncRequest{Node: a.opts.Node.Name, BootID: a.opts.Node.BootID, Reports: reports, WaitMs: a.opts.Heartbeat.Milliseconds(),
		StepReports: steps.reports, StepTasks: steps.running, StepKilling: steps.killing, Health: a.currentHealth()}
	if a.opts.GPUUsage != nil {
		req.GPUUsage = a.opts.GPUUsage()
	}
	var resp api.SyncResponse
	if err := a.opts.Controller.Call(pctx, api.PathNodeSync, req, &resp); err != nil {
		if ctx.Err() == nil && errors.Is(err, context.Canceled) {
			return false, nil // cut short by a task change
		}
		return false, err
	}
	if resp.Reregister {
		return true, nil
	}
	a.observe(&resp)
	a.reconcile(ctx, &resp)
	return false, nil
}

func (a *Agent) notify() {
	select {
	case a.changed <- struct{}{}:
	default:
	}
}

// reports builds the node's report of every task the runtime knows.
func (a *Agent) reports(ctx context.Context) ([]api.TaskReport, error) {
	list, err := a.opts.Runtime.List(ctx)
	if err != nil {
		return nil, fmt.Errorf("list tasks: %w", err)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make([]api.TaskReport, 0, len(list)+len(a.synthetic))
	have := map[string]bool{}
	for _, st := range list {
		if isStepTask(st.ID) {
			continue // see stepState
		}
		have[st.ID] = true
		ref, ok := ParseTaskID(st.ID)
		if !ok {
			ref = api.TaskRef{JobID: api.JobID(st.JobID)}
		}
		r := api.TaskReport{JobID: ref.JobID, Attempt: ref.Attempt, StartTime: st.StartedAt}
		if st.Running {
			r.State = api.TaskRunning
			r.Cancelled = a.killing[st.ID]
			r.SignalSeq = a.delivered[st.ID]
			a.watch(st.ID)
		} else {
			r.State = api.TaskExited
			if st.Lost {
				r.State = api.TaskLost
			}
			r.ExitCode, r.Signal = st.ExitCode, st.Signal
			r.OOMKilled, r.TimedOut, r.Cancelled = st.OOMKilled, st.TimedOut, st.Killed
			r.MaxRSS = st.MaxMemBytes
			r.EndTime, r.Error = st.FinishedAt, st.Error
			if !a.epilogReport(ctx, st.ID, &r) {
				// Still stopping: its epilog runs.
				r = api.TaskReport{JobID: ref.JobID, Attempt: ref.Attempt, StartTime: st.StartedAt,
					State: api.TaskRunning, Cancelled: true, SignalSeq: allSignals}
			}
		}
		out = append(out, r)
	}
	for _, r := range a.synthetic {
		out = append(out, r)
	}
	out = append(out, a.prologReports(have)...)
	return out, nil
}

// watch starts a goroutine that wakes the sync loop when the task ends.
// Called with a.mu held.
func (a *Agent) watch(id string) {
	if a.watching[id] {
		return
	}
	a.watching[id] = true
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 24*time.Hour)
		defer cancel()
		_, _ = a.opts.Runtime.Wait(ctx, id)
		a.mu.Lock()
		delete(a.watching, id)
		a.mu.Unlock()
		a.notify()
	}()
}

func (a *Agent) reconcile(ctx context.Context, resp *api.SyncResponse) {
	for _, id := range resp.Acked {
		a.forget(ctx, id)
	}
	list, err := a.opts.Runtime.List(ctx)
	if err != nil {
		a.log.Error("list tasks", zap.Error(err))
		return
	}
	have := map[string]runtime.Status{}
	for _, st := range list {
		have[st.ID] = st
	}
	want := map[string]bool{}
	a.rememberJobs(resp.Jobs)
	for i := range resp.Jobs {
		j := &resp.Jobs[i]
		tid := TaskID(j.ID, j.Restarts)
		want[tid] = true
		st, ok := have[tid]
		stop := j.Stopping()
		if !ok && a.inProlog(tid, stop) {
			continue
		}
		switch {
		case !ok && stop:
			a.report(api.TaskReport{JobID: j.ID, Attempt: j.Restarts, State: api.TaskExited, Cancelled: true, EndTime: time.Now()})
		case !ok:
			a.launch(ctx, j)
		case st.Running && stop:
			a.kill(ctx, st.ID, j.ID, "cancelled or preempted", a.grace(j))
		case st.Running:
			a.signal(ctx, st.ID, j)
		}
	}
	for _, st := range list {
		if st.Running && !want[st.ID] && !isStepTask(st.ID) {
			a.kill(ctx, st.ID, api.JobID(st.JobID), "not assigned to this node (orphan)", a.opts.KillGrace)
		}
	}
	a.stopOrphanPrologs(want)
	a.reconcileSteps(ctx, resp, have)
}

func (a *Agent) report(r api.TaskReport) {
	a.mu.Lock()
	a.synthetic[TaskID(r.JobID, r.Attempt)] = r
	a.mu.Unlock()
	a.notify()
}

func (a *Agent) forget(ctx context.Context, ref api.TaskRef) {
	tid := TaskID(ref.JobID, ref.Attempt)
	a.mu.Lock()
	delete(a.synthetic, tid)
	delete(a.killing, tid)
	delete(a.delivered, tid)
	a.mu.Unlock()
	a.forgetHooks(tid)
	if err := a.opts.Runtime.Destroy(ctx, tid); err != nil && !errors.Is(err, runtime.ErrNotFound) {
		a.log.Warn("destroy task", zap.Uint64("job", uint64(ref.JobID)), zap.String("task", tid), zap.Error(err))
	}
}

func (a *Agent) start(ctx context.Context, j *api.Job) {
	t0 := time.Now()
	spec, err := TaskSpec(j, &a.opts.Node, a.opts.PidsLimit, a.opts.KillGrace, a.envOptions())
	if err == nil {
		err = a.opts.Runtime.Start(ctx, spec)
		if errors.Is(err, runtime.ErrExists) {
			return
		}
	}
	a.launched("job", t0, err)
	if err != nil {
		a.log.Error("start job", zap.Uint64("job", uint64(j.ID)), zap.Error(err))
		a.report(api.TaskReport{JobID: j.ID, Attempt: j.Restarts, State: api.TaskExited, ExitCode: 1, Error: oneLine(err.Error()), EndTime: time.Now()})
		return
	}
	var gpus []int
	if al := j.AllocOn(a.opts.Node.Name); al != nil {
		gpus = al.GPUs
	}
	a.log.Info("job started", zap.Uint64("job", uint64(j.ID)), zap.String("user", j.User), zap.Ints("gpus", gpus))
	a.mu.Lock()
	a.watch(spec.ID)
	a.mu.Unlock()
}

func oneLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	if len(s) > 500 {
		s = s[:500]
	}
	return s
}

func (a *Agent) kill(ctx context.Context, taskID string, job api.JobID, why string, grace time.Duration) {
	a.mu.Lock()
	already := a.killing[taskID]
	a.killing[taskID] = true
	a.mu.Unlock()
	if already {
		return
	}
	a.log.Info("stopping job", zap.Uint64("job", uint64(job)), zap.String("task", taskID), zap.String("why", why))
	if err := a.opts.Runtime.Kill(ctx, taskID, grace); err != nil && !errors.Is(err, runtime.ErrNotFound) {
		a.log.Error("kill job", zap.Uint64("job", uint64(job)), zap.Error(err))
	}
	a.notify()
}

func (a *Agent) signal(ctx context.Context, taskID string, j *api.Job) {
	a.mu.Lock()
	last := a.delivered[taskID]
	a.mu.Unlock()
	for _, s := range j.Signals {
		if s.Seq <= last {
			continue
		}
		if err := a.opts.Runtime.Signal(ctx, taskID, syscall.Signal(s.Signal)); err != nil {
			a.log.Warn("signal job", zap.Uint64("job", uint64(j.ID)), zap.Int("signal", s.Signal), zap.Error(err))
		}
		last = s.Seq
	}
	a.mu.Lock()
	if last > a.delivered[taskID] {
		a.delivered[taskID] = last
		a.mu.Unlock()
		a.notify()
		return
	}
	a.mu.Unlock()
}
