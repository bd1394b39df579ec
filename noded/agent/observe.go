package agent

import (
	"context"
	"sort"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/gsched/gsched/pkg/api"
)

// launched reports one start attempt to Options.Launched.
func (a *Agent) launched(kind string, start time.Time, err error) {
	if a.opts.Launched != nil {
		a.opts.Launched(kind, time.Since(start), err)
	}
}

// observe takes what a sync answer says beyond jobs and steps: the GPUs
// the node's jobs hold (for metrics) and the log level an operator set
// (gcontrol setdebug).
func (a *Agent) observe(resp *api.SyncResponse) {
	gpus := map[int]bool{}
	for i := range resp.Jobs {
		j := &resp.Jobs[i]
		if al := j.AllocOn(a.opts.Node.Name); al != nil && !al.Done {
			for _, g := range al.GPUs {
				gpus[g] = true
			}
		}
	}
	a.mu.Lock()
	a.allocGPUs = gpus
	a.mu.Unlock()
	if resp.LogLevel == "" || a.opts.Level == nil {
		return
	}
	var l zapcore.Level
	if err := l.UnmarshalText([]byte(resp.LogLevel)); err != nil {
		a.log.Warn("controller sent an unknown log level", zap.String("level", resp.LogLevel))
		return
	}
	if prev := a.opts.Level.Level(); prev != l {
		a.log.Warn("log level change (gcontrol setdebug)", zap.Stringer("level", l), zap.Stringer("previous", prev))
		a.opts.Level.SetLevel(l)
	}
}

// AllocatedGPUs lists the indices of the GPUs that the node's jobs hold,
// as of the latest sync, in order.
func (a *Agent) AllocatedGPUs() []int {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make([]int, 0, len(a.allocGPUs))
	for g := range a.allocGPUs {
		out = append(out, g)
	}
	sort.Ints(out)
	return out
}

// RunningTasks counts the tasks (jobs and steps) the runtime runs.
func (a *Agent) RunningTasks(ctx context.Context) (int, error) {
	list, err := a.opts.Runtime.List(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, st := range list {
		if st.Running {
			n++
		}
	}
	return n, nil
}

// taskJob is the job field of a line about a runtime task (job-N.A or
// step-N.S.R), so that every line concerning a job carries its id.
func taskJob(id string) zap.Field {
	if ref, ok := ParseTaskID(id); ok {
		return zap.Uint64("job", uint64(ref.JobID))
	}
	if r, ok := parseStepTaskID(id); ok {
		return zap.Uint64("job", uint64(r.JobID))
	}
	return zap.Skip()
}
