package agent

import (
	"context"
	"math"
	"time"

	"go.uber.org/zap"

	"github.com/gsched/gsched/pkg/api"
	"github.com/gsched/gsched/pkg/hooks"
)

// HealthCheck runs the node's health checks once.
type HealthCheck func(ctx context.Context) api.NodeHealth

// Hooks are the node's health check and the per-job prolog and epilog
// (node.health_check_*, node.prolog, node.epilog).
type Hooks struct {
	Health         HealthCheck
	HealthInterval time.Duration
	Prolog         string
	Epilog         string
	PrologTimeout  time.Duration
	EpilogTimeout  time.Duration
}

// hookState is the agent's record of health, prologs and epilogs, under
// Agent.mu.
type hookState struct {
	health *api.NodeHealth
	// prologs are the tasks whose prolog runs now (their task starts
	// after it).
	prologs map[string]bool
	// epilogs are the ended tasks whose epilog ran or runs.
	epilogs map[string]*epilogRun
	// jobs are the jobs seen in the controller's answers, for the
	// scripts' environment.
	jobs map[string]api.Job
}

type epilogRun struct {
	done bool
	err  string
}

// allSignals marks a report of a task that cannot take signals (its
// prolog or epilog runs): the controller drops what is pending.
const allSignals = math.MaxUint64

// runHealth runs the health check and records the result; it says whether
// the result differs from the previous one.
func (a *Agent) runHealth(ctx context.Context) bool {
	h := a.opts.Hooks.Health(ctx)
	if h.Time.IsZero() {
		h.Time = time.Now()
	}
	a.mu.Lock()
	old := a.hooks.health
	a.hooks.health = &h
	a.mu.Unlock()
	changed := old == nil || old.OK != h.OK || old.Reason != h.Reason
	if changed {
		if h.OK {
			a.log.Info("health check passed")
		} else {
			a.log.Warn("health check failed", zap.String("reason", h.Reason))
		}
	}
	return changed
}

// healthLoop reruns the health check every interval and wakes the sync
// loop when the result changes, so the controller hears it at once.
func (a *Agent) healthLoop(ctx context.Context) {
	t := time.NewTicker(a.opts.Hooks.HealthInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if a.runHealth(ctx) {
			a.notify()
		}
	}
}

func (a *Agent) currentHealth() *api.NodeHealth {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.hooks.health == nil {
		return nil
	}
	h := *a.hooks.health
	return &h
}

// launch starts a job's task, after its prolog when one is configured.
// The prolog runs in the background; meanwhile the task is reported
// running, so the controller neither waits nor asks again.
func (a *Agent) launch(ctx context.Context, j *api.Job) {
	if a.opts.Hooks.Prolog == "" {
		a.start(ctx, j)
		return
	}
	tid := TaskID(j.ID, j.Restarts)
	a.mu.Lock()
	if a.hooks.prologs[tid] {
		a.mu.Unlock()
		return
	}
	a.hooks.prologs[tid] = true
	a.mu.Unlock()
	job := *j
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		r := hooks.Run(ctx, a.opts.Hooks.Prolog, a.scriptEnv(&job, hooks.NodeProlog), a.opts.Hooks.PrologTimeout)
		if ctx.Err() != nil {
			// Shutting down: the next daemon runs the prolog again.
			a.endProlog(tid)
			return
		}
		a.mu.Lock()
		cancelled := a.killing[tid]
		a.mu.Unlock()
		switch {
		case cancelled:
			a.report(api.TaskReport{JobID: job.ID, Attempt: job.Restarts, State: api.TaskExited, Cancelled: true, EndTime: time.Now()})
		case r.Err != nil:
			a.log.Warn("prolog failed", zap.Uint64("job", uint64(job.ID)), zap.Error(r.Err), zap.String("output", oneLine(r.Output)))
			a.report(api.TaskReport{JobID: job.ID, Attempt: job.Restarts, State: api.TaskExited, ExitCode: 1,
				PrologError: r.Reason(), EndTime: time.Now()})
		default:
			a.log.Debug("prolog done", zap.Uint64("job", uint64(job.ID)), zap.Duration("took", r.Elapsed))
			a.start(ctx, &job)
		}
		a.endProlog(tid)
	}()
}

func (a *Agent) endProlog(tid string) {
	a.mu.Lock()
	delete(a.hooks.prologs, tid)
	a.mu.Unlock()
	a.notify()
}

// inProlog reports whether the task's prolog runs now; when stop is set
// (the job is cancelled, requeued or no longer this node's), the task is
// not started after it.
func (a *Agent) inProlog(tid string, stop bool) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if !a.hooks.prologs[tid] {
		return false
	}
	if stop {
		a.killing[tid] = true
	}
	return true
}

// stopOrphanPrologs marks prologs of tasks the controller no longer wants.
func (a *Agent) stopOrphanPrologs(want map[string]bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for tid := range a.hooks.prologs {
		if !want[tid] {
			a.killing[tid] = true
		}
	}
}

// prologReports are running reports for the tasks whose prolog runs.
// Called with a.mu held.
func (a *Agent) prologReports(have map[string]bool) []api.TaskReport {
	var out []api.TaskReport
	for tid := range a.hooks.prologs {
		ref, ok := ParseTaskID(tid)
		if !ok || have[tid] {
			continue
		}
		if _, synth := a.synthetic[tid]; synth {
			continue
		}
		out = append(out, api.TaskReport{JobID: ref.JobID, Attempt: ref.Attempt, State: api.TaskRunning,
			Cancelled: a.killing[tid], SignalSeq: allSignals})
	}
	return out
}

// epilogReport decides what to report of an ended task when an epilog is
// configured: while the epilog runs, the task is reported running
// (stopping); once done, the report carries the epilog's failure, if any.
// Called with a.mu held; ok is false while the epilog runs.
func (a *Agent) epilogReport(ctx context.Context, tid string, r *api.TaskReport) (ok bool) {
	if a.opts.Hooks.Epilog == "" {
		return true
	}
	e := a.hooks.epilogs[tid]
	if e == nil {
		e = &epilogRun{}
		a.hooks.epilogs[tid] = e
		job, known := a.hooks.jobs[tid]
		if !known {
			job = api.Job{ID: r.JobID, Restarts: r.Attempt} // after a restart: what the task ID says
		}
		a.wg.Add(1)
		go func() {
			defer a.wg.Done()
			res := hooks.Run(ctx, a.opts.Hooks.Epilog, a.scriptEnv(&job, hooks.NodeEpilog), a.opts.Hooks.EpilogTimeout)
			a.mu.Lock()
			if ctx.Err() != nil {
				delete(a.hooks.epilogs, tid) // shutting down: run it again next time
			} else {
				e.done, e.err = true, res.Reason()
			}
			a.mu.Unlock()
			if res.Err != nil && ctx.Err() == nil {
				a.log.Warn("epilog failed", zap.Uint64("job", uint64(job.ID)), zap.Error(res.Err), zap.String("output", oneLine(res.Output)))
			}
			a.notify()
		}()
	}
	if !e.done {
		return false
	}
	r.EpilogError = e.err
	return true
}

// rememberJobs keeps the jobs of a sync answer for the scripts.
func (a *Agent) rememberJobs(jobs []api.Job) {
	if a.opts.Hooks.Prolog == "" && a.opts.Hooks.Epilog == "" {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	for i := range jobs {
		a.hooks.jobs[TaskID(jobs[i].ID, jobs[i].Restarts)] = jobs[i]
	}
}

func (a *Agent) forgetHooks(tid string) {
	a.mu.Lock()
	delete(a.hooks.epilogs, tid)
	delete(a.hooks.jobs, tid)
	a.mu.Unlock()
}

func (a *Agent) scriptEnv(j *api.Job, context string) []string {
	return hooks.JobEnv(j, a.opts.Node.Name, context, a.opts.ClusterName, a.opts.SlurmEnv)
}
