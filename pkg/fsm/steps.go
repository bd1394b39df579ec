package fsm

import (
	"fmt"
	"slices"
	"time"

	"github.com/gsched/gsched/pkg/api"
	"github.com/gsched/gsched/pkg/state"
)

// applyStepStart stores a new step of a running job. The server lays out
// its tasks; the FSM numbers it and re-checks that the job still runs the
// same attempt on the nodes the tasks name.
func applyStepStart(t *state.Txn, c *Command) (*StepStartResult, error) {
	if c.Step == nil {
		return nil, fmt.Errorf("step start: empty command")
	}
	snap := t.Snapshot()
	j := snap.Job(nil, c.Step.JobID)
	if j == nil || j.State != api.StateRunning || j.Restarts != c.Step.Attempt {
		return &StepStartResult{}, nil
	}
	for _, tk := range c.Step.Tasks {
		if a := j.AllocOn(tk.Node); a == nil || a.Done {
			return &StepStartResult{}, nil
		}
	}
	st := *c.Step
	st.ID = j.Steps
	st.State = api.StepRunning
	st.StartTime = c.Time
	st.Kill, st.Cancelled, st.ExitCode, st.EndTime = false, false, 0, time.Time{}
	st.Tasks = slices.Clone(c.Step.Tasks)
	nj := *j
	nj.Steps++
	if err := t.PutJob(&nj); err != nil {
		return nil, err
	}
	if err := t.PutStep(&st); err != nil {
		return nil, err
	}
	return &StepStartResult{Step: &st}, nil
}

// taskFailed reports whether an ended task counts as a failure, and the
// status it gives the step.
func taskFailed(r *api.StepReport) (int, bool) {
	switch {
	case r.Signal != 0:
		return 128 + r.Signal, true
	case r.ExitCode != 0:
		return r.ExitCode, true
	case r.Error != "" || r.OOM:
		return 1, true
	}
	return 0, false
}

func applyStepEnd(t *state.Txn, c *Command) error {
	if c.StepEnd == nil {
		return fmt.Errorf("step end: empty command")
	}
	snap := t.Snapshot()
	changed := map[string]*api.Step{}
	for i := range c.StepEnd.Reports {
		r := &c.StepEnd.Reports[i]
		key := api.StepKey(r.JobID, r.Step)
		st := changed[key]
		if st == nil {
			old := snap.Step(nil, r.JobID, r.Step)
			if old == nil || old.State.Final() {
				continue
			}
			cp := *old
			cp.Tasks = slices.Clone(old.Tasks)
			st = &cp
		}
		k := slices.IndexFunc(st.Tasks, func(tk api.StepTask) bool { return tk.Rank == r.Rank })
		if k < 0 || st.Tasks[k].Node != c.StepEnd.Node || st.Tasks[k].Done {
			continue
		}
		tk := &st.Tasks[k]
		tk.Done, tk.ExitCode, tk.Signal, tk.OOM, tk.Killed, tk.Error = true, r.ExitCode, r.Signal, r.OOM, r.Killed, r.Error
		if code, bad := taskFailed(r); bad && !st.Kill && !st.Cancelled {
			if st.ExitCode == 0 {
				st.ExitCode = code
			}
			if !st.Spec.KeepOnBadExit {
				st.Kill = true
			}
		}
		changed[key] = st
	}
	for _, st := range changed {
		if !slices.ContainsFunc(st.Tasks, func(tk api.StepTask) bool { return !tk.Done }) {
			closeStep(st, c.Time)
		}
		if err := t.PutStep(st); err != nil {
			return err
		}
	}
	return nil
}

// closeStep gives a step whose tasks are all accounted for its final state.
func closeStep(st *api.Step, at time.Time) {
	switch {
	case st.Cancelled:
		st.State = api.StepCancelled
		if st.ExitCode == 0 {
			st.ExitCode = 128 + 15
		}
	case st.ExitCode != 0:
		st.State = api.StepFailed
	default:
		st.State = api.StepCompleted
	}
	st.Kill = false
	st.EndTime = at
}

func applyStepCancel(t *state.Txn, c *Command) error {
	if c.StepCancel == nil {
		return fmt.Errorf("step cancel: empty command")
	}
	old := t.Snapshot().Step(nil, c.StepCancel.JobID, c.StepCancel.Step)
	if old == nil || old.State.Final() {
		return nil
	}
	st := *old
	st.Kill, st.Cancelled = true, true
	return t.PutStep(&st)
}

// endSteps closes the live steps of a job that ends: tasks not reported
// died with the job's containers.
func endSteps(t *state.Txn, job api.JobID, at time.Time) error {
	for _, old := range t.Snapshot().StepsOf(nil, job) {
		if old.State.Final() {
			continue
		}
		st := *old
		st.Tasks = slices.Clone(old.Tasks)
		for i := range st.Tasks {
			if !st.Tasks[i].Done {
				st.Tasks[i].Done, st.Tasks[i].Killed = true, true
				st.Tasks[i].Error = "the job ended"
			}
		}
		if st.ExitCode == 0 {
			st.Cancelled = true
		}
		closeStep(&st, at)
		if err := t.PutStep(&st); err != nil {
			return err
		}
	}
	return nil
}
