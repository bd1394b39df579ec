package fsm

import (
	"fmt"

	"github.com/gsched/gsched/pkg/api"
	"github.com/gsched/gsched/pkg/state"
)

// JobsCmd names the jobs to hold, release or requeue (already
// authorised by the server; the FSM re-checks each job's state).
type JobsCmd struct {
	IDs []api.JobID `json:"ids"`
	// Admin: an operator acts. An operator's hold is JobHeldAdmin, and
	// only an operator's release lifts it.
	Admin bool `json:"admin,omitempty"`
	// Reason is a requeued job's pending reason ("" = JobRequeued).
	Reason string `json:"reason,omitempty"`
}

// JobsResult lists the jobs a CmdHold, CmdRelease, CmdRequeue or
// CmdUpdateJob changed; the others no longer were in a state that
// allowed it when the command was applied.
type JobsResult struct {
	Done []api.JobID
}

// JobFields are the fields of a pending job's spec that `gcontrol update
// job=` changes, as the server validated them (defaults filled in).
type JobFields struct {
	Name      string `json:"name"`
	Partition string `json:"partition"`
	Nodes     int    `json:"nodes"`
	NTasks    int    `json:"ntasks"`
	TimeLimit int64  `json:"time_limit_s"`
	QOS       string `json:"qos,omitempty"`
	Account   string `json:"account,omitempty"`
	Nice      int    `json:"nice,omitempty"`
	Comment   string `json:"comment,omitempty"`
}

// FieldsOf returns the updatable fields of a spec.
func FieldsOf(s *api.JobSpec) JobFields {
	return JobFields{Name: s.Name, Partition: s.Partition, Nodes: s.Nodes, NTasks: s.NTasks, TimeLimit: s.TimeLimit,
		QOS: s.QOS, Account: s.Account, Nice: s.Nice, Comment: s.Comment}
}

func (f *JobFields) applyTo(s *api.JobSpec) {
	s.Name, s.Partition, s.Nodes, s.NTasks, s.TimeLimit = f.Name, f.Partition, f.Nodes, f.NTasks, f.TimeLimit
	s.QOS, s.Account, s.Nice, s.Comment = f.QOS, f.Account, f.Nice, f.Comment
}

// JobChange is one pending job's new fields. Old holds the fields the
// server validated the change against: if another change came first, the
// job is left alone (its user sees it unchanged and may try again).
type JobChange struct {
	ID  api.JobID `json:"id"`
	Old JobFields `json:"old"`
	New JobFields `json:"new"`
}

// UpdateJobCmd changes pending jobs' specs.
type UpdateJobCmd struct {
	Jobs []JobChange `json:"jobs"`
}

func applyJobs(t *state.Txn, c *Command) (*JobsResult, error) {
	if c.Jobs == nil {
		return nil, fmt.Errorf("%s: empty command", c.Type)
	}
	snap := t.Snapshot()
	res := &JobsResult{}
	for _, id := range c.Jobs.IDs {
		j := snap.Job(nil, id)
		if j == nil {
			continue
		}
		var done bool
		var err error
		switch c.Type {
		case CmdHold:
			done, err = hold(t, j, c.Jobs.Admin)
		case CmdRelease:
			done, err = release(t, j, c.Jobs.Admin)
		case CmdRequeue:
			reason := c.Jobs.Reason
			if reason == "" {
				reason = api.ReasonRequeued
			}
			done, err = RequeueJob(t, j, c, reason)
		default:
			err = fmt.Errorf("job command %q: not a hold, release or requeue", c.Type)
		}
		if err != nil {
			return nil, err
		}
		if done {
			res.Done = append(res.Done, id)
		}
	}
	return res, nil
}

// hold holds a pending job; an operator's hold (admin) makes or keeps it
// JobHeldAdmin, a user's keeps an operator's hold as it is.
func hold(t *state.Txn, j *api.Job, admin bool) (bool, error) {
	if j.State != api.StatePending {
		return false, nil
	}
	nj := *j
	nj.OwnSpec().Hold = true
	nj.HoldAdmin = j.HoldAdmin && j.Spec.Hold || admin
	nj.Reason = api.ReasonHeld
	if nj.HoldAdmin {
		nj.Reason = api.ReasonHeldAdmin
	}
	return true, t.PutJob(&nj)
}

// release lifts a pending job's hold, unless it is an operator's and the
// release is not.
func release(t *state.Txn, j *api.Job, admin bool) (bool, error) {
	if j.State != api.StatePending || !j.Spec.Hold || j.HoldAdmin && !admin {
		return false, nil
	}
	nj := *j
	nj.OwnSpec().Hold, nj.HoldAdmin = false, false
	nj.Reason = api.ReasonNone
	return true, t.PutJob(&nj)
}

// RequeueJob puts a job back in the queue as a new attempt (its restart
// count, GSCHED_RESTART_COUNT and SLURM_RESTART_COUNT, one higher; its
// output appended to): a RUNNING job is stopped first (COMPLETING; it
// becomes PENDING with reason once its nodes report it ended, as a job
// preempted in REQUEUE mode), a finished one is PENDING at once (its
// usage was charged when it ended). It reports whether it changed the
// job: a PENDING job, one already stopping, and one submitted with
// --no-requeue are left alone. Every requeue of a job goes through here
// or through the stop it starts (see finalize and applyNodeDown).
func RequeueJob(t *state.Txn, j *api.Job, c *Command, reason string) (bool, error) {
	switch {
	case j.Spec.NoRequeue:
		return false, nil
	case j.State == api.StateRunning && !j.Stopping():
		nj := *j
		nj.State = api.StateCompleting
		nj.Requeue, nj.RequeueReason = true, reason
		return true, t.PutJob(&nj)
	case j.State.Final():
		nj := *j
		backToQueue(&nj, reason)
		return true, t.PutJob(&nj)
	}
	return false, nil
}

// requeueReason is the pending reason of a job stopped to be requeued.
func requeueReason(j *api.Job) string {
	if j.RequeueReason != "" {
		return j.RequeueReason
	}
	return api.ReasonPreempted
}

func applyUpdateJob(t *state.Txn, c *Command) (*JobsResult, error) {
	if c.UpdateJob == nil {
		return nil, fmt.Errorf("update job: empty command")
	}
	snap := t.Snapshot()
	res := &JobsResult{}
	for i := range c.UpdateJob.Jobs {
		ch := &c.UpdateJob.Jobs[i]
		j := snap.Job(nil, ch.ID)
		if j == nil || j.State != api.StatePending || FieldsOf(j.Spec) != ch.Old {
			continue
		}
		nj := *j
		ch.New.applyTo(nj.OwnSpec())
		if err := t.PutJob(&nj); err != nil {
			return nil, err
		}
		res.Done = append(res.Done, ch.ID)
	}
	return res, nil
}
