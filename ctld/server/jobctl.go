package server

import (
	"context"
	"fmt"

	"go.uber.org/zap"

	"github.com/gsched/gsched/pkg/api"
	"github.com/gsched/gsched/pkg/auth"
	"github.com/gsched/gsched/pkg/fsm"
	"github.com/gsched/gsched/pkg/state"
	"github.com/gsched/gsched/pkg/units"
)

// requestTargets checks that a request names at least one and at most
// maxCancelIDs jobs, then resolves them as jobTargets does.
func requestTargets(snap *state.Snapshot, ids []api.JobID, tasks []api.ArrayTaskRef) ([]*api.Job, []api.CancelError, error) {
	if len(ids) == 0 && len(tasks) == 0 {
		return nil, nil, invalid("no job id given")
	}
	if len(ids)+len(tasks) > maxCancelIDs {
		return nil, nil, invalid("more than %d job ids in one request", maxCancelIDs)
	}
	targets, errs := jobTargets(snap, ids, tasks)
	return targets, errs, nil
}

// jobTargets resolves job IDs (an array's ID stands for every task of
// it, as scancel takes it) and array tasks ("123_7") to jobs, with an
// error for each that names no job.
func jobTargets(snap *state.Snapshot, ids []api.JobID, tasks []api.ArrayTaskRef) ([]*api.Job, []api.CancelError) {
	var targets []*api.Job
	var errs []api.CancelError
	indices := map[api.JobID][]int{}
	for _, id := range ids {
		j := snap.Job(nil, id)
		switch {
		case j == nil:
			errs = append(errs, api.CancelError{JobID: id, Code: api.CodeNotFound, Message: "invalid job id specified"})
		case j.IsArrayHead():
			targets = append(targets, arrayTasks(snap, j, indices)...)
		default:
			targets = append(targets, j)
		}
	}
	for _, ref := range tasks {
		var t *api.Job
		if head := snap.Job(nil, ref.Array); head != nil && head.IsArrayHead() {
			t = arrayTask(snap, head, ref.Task, indices)
		}
		if t == nil {
			errs = append(errs, api.CancelError{JobID: ref.Array, Code: api.CodeNotFound,
				Message: fmt.Sprintf("invalid job id specified: no array task %s", ref)})
			continue
		}
		targets = append(targets, t)
	}
	return targets, errs
}

// ownJob checks that the caller may change job j: their own, or any job
// for an operator.
func (s *Server) ownJob(p auth.Peer, op bool, j *api.Job, what string) *api.CancelError {
	if op || j.UID == p.UID {
		return nil
	}
	s.log.Warn("denied: "+what+" of another user's job", zap.Uint32("uid", p.UID), zap.String("user", p.User),
		zap.Uint64("job", uint64(j.ID)), zap.String("owner", j.User))
	return &api.CancelError{JobID: j.ID, Code: api.CodePermission, Message: fmt.Sprintf("permission denied: the job belongs to %s", j.User)}
}

func jobConflict(j *api.Job, format string, a ...any) api.CancelError {
	return api.CancelError{JobID: j.ID, Code: api.CodeConflict, Message: fmt.Sprintf(format, a...)}
}

// controlCheck says why action cannot apply to job j now, or nil. The
// FSM checks the state again when it applies the command.
func controlCheck(action string, j *api.Job, op bool) *api.CancelError {
	var e api.CancelError
	switch {
	case action == api.ActionHold && j.State != api.StatePending:
		e = jobConflict(j, "job is not pending (%s): only pending jobs can be held", j.State)
	case action == api.ActionRelease && (j.State != api.StatePending || !j.Spec.Hold):
		e = jobConflict(j, "job is not held")
	case action == api.ActionRelease && j.HoldAdmin && !op:
		e = api.CancelError{JobID: j.ID, Code: api.CodePermission,
			Message: "permission denied: the job was held by an operator (JobHeldAdmin); only an operator can release it"}
	case action == api.ActionRequeue && j.Spec.NoRequeue:
		e = jobConflict(j, "the job was submitted with --no-requeue")
	case action == api.ActionRequeue && j.State == api.StatePending:
		e = jobConflict(j, "job is pending: there is nothing to requeue")
	case action == api.ActionRequeue && !j.State.Final() && j.Stopping():
		e = jobConflict(j, "job is stopping (%s): try again once it has ended", j.State)
	default:
		return nil
	}
	return &e
}

var controlCmds = map[string]fsm.CmdType{api.ActionHold: fsm.CmdHold, api.ActionRelease: fsm.CmdRelease, api.ActionRequeue: fsm.CmdRequeue}

// controlJobs is gcontrol hold, release and requeue.
func (s *Server) controlJobs(ctx context.Context, req *api.JobControlRequest) (any, error) {
	p, op, err := s.caller(ctx)
	if err != nil {
		return nil, err
	}
	typ, ok := controlCmds[req.Action]
	if !ok {
		return nil, invalid("unknown job action %q (use hold, release or requeue)", truncate(req.Action, 32))
	}
	snap := s.store.Snapshot()
	targets, errs, err := requestTargets(snap, req.IDs, req.Tasks)
	if err != nil {
		return nil, err
	}
	resp := &api.JobControlResponse{Done: []api.JobID{}, Errors: errs}
	var ids []api.JobID
	for _, j := range targets {
		if e := s.ownJob(p, op, j, req.Action); e != nil {
			resp.Errors = append(resp.Errors, *e)
			continue
		}
		if e := controlCheck(req.Action, j, op); e != nil {
			// A whole array: its tasks in other states are passed over,
			// as gcancel passes over its finished tasks.
			if !j.IsArrayTask() || len(req.Tasks) > 0 {
				resp.Errors = append(resp.Errors, *e)
			}
			continue
		}
		ids = append(ids, j.ID)
	}
	if len(ids) == 0 {
		return resp, nil
	}
	res, err := s.apply(&fsm.Command{Type: typ, Jobs: &fsm.JobsCmd{IDs: ids, Admin: op}})
	if err != nil {
		return nil, err
	}
	resp.Done = append(resp.Done, res.(*fsm.JobsResult).Done...)
	resp.Errors = append(resp.Errors, notDone(ids, resp.Done)...)
	s.log.Info("job control", zap.String("action", req.Action), zap.String("user", p.User), zap.Int("jobs", len(resp.Done)))
	s.Kick()
	return resp, nil
}

// notDone reports the jobs of ids that the FSM left alone: their state
// changed between the check and the commit.
func notDone(ids, done []api.JobID) []api.CancelError {
	got := make(map[api.JobID]bool, len(done))
	for _, id := range done {
		got[id] = true
	}
	var out []api.CancelError
	for _, id := range ids {
		if !got[id] {
			out = append(out, api.CancelError{JobID: id, Code: api.CodeConflict, Message: "the job changed meanwhile; try again"})
		}
	}
	return out
}

// updateJobs is gcontrol update job=: pending jobs get new values, each
// checked as a submission with them would be.
func (s *Server) updateJobs(ctx context.Context, req *api.JobUpdateRequest) (any, error) {
	p, op, err := s.caller(ctx)
	if err != nil {
		return nil, err
	}
	if req.Set.Empty() {
		return nil, invalid("nothing to change")
	}
	snap := s.store.Snapshot()
	targets, errs, err := requestTargets(snap, req.IDs, req.Tasks)
	if err != nil {
		return nil, err
	}
	resp := &api.JobControlResponse{Done: []api.JobID{}, Errors: errs}
	cmd := &fsm.UpdateJobCmd{}
	var ids []api.JobID
	for _, j := range targets {
		if e := s.ownJob(p, op, j, "update"); e != nil {
			resp.Errors = append(resp.Errors, *e)
			continue
		}
		if j.State != api.StatePending {
			if !j.IsArrayTask() || len(req.Tasks) > 0 {
				resp.Errors = append(resp.Errors, jobConflict(j, "job is not pending (%s): only pending jobs can be updated", j.State))
			}
			continue
		}
		spec, err := s.updatedSpec(j, &req.Set, op)
		if err != nil {
			resp.Errors = append(resp.Errors, api.CancelError{JobID: j.ID, Code: api.CodeOf(err), Message: err.Error()})
			continue
		}
		cmd.Jobs = append(cmd.Jobs, fsm.JobChange{ID: j.ID, Old: fsm.FieldsOf(j.Spec), New: fsm.FieldsOf(spec)})
		ids = append(ids, j.ID)
	}
	if len(ids) == 0 {
		return resp, nil
	}
	res, err := s.apply(&fsm.Command{Type: fsm.CmdUpdateJob, UpdateJob: cmd})
	if err != nil {
		return nil, err
	}
	resp.Done = append(resp.Done, res.(*fsm.JobsResult).Done...)
	resp.Errors = append(resp.Errors, notDone(ids, resp.Done)...)
	s.log.Info("jobs updated", zap.String("user", p.User), zap.Int("jobs", len(resp.Done)))
	s.Kick()
	return resp, nil
}

// updatedSpec is job j's spec with u applied, validated as a submission
// by j's user would be (partition, its time limit and accounts, QOS
// limits, node shapes), with op's rights. Raising the time limit is for
// operators only.
func (s *Server) updatedSpec(j *api.Job, u *api.JobUpdate, op bool) (*api.JobSpec, error) {
	spec := *j.Spec // changed here: a copy
	// Checked on submission and not changed here: a dependency on a job
	// since purged must not fail the update.
	spec.Dependency = ""
	old := spec.TimeLimit // 0: unlimited
	if spec.TimeLimit == 0 {
		spec.TimeLimit = api.TimeUnlimited // not "the partition's default"
	}
	if u.TimeLimit != nil {
		nl := *u.TimeLimit
		if nl == 0 || nl < api.TimeUnlimited {
			return nil, invalid("the time limit must be positive or UNLIMITED")
		}
		if raise := old > 0 && (nl == api.TimeUnlimited || nl > old); raise && !op {
			to := "UNLIMITED"
			if nl > 0 {
				to = units.FormatTimeLimit(nl)
			}
			return nil, fmt.Errorf("%w: only operators may raise a job's time limit (from %s to %s)", api.ErrPermission,
				units.FormatTimeLimit(old), to)
		}
		spec.TimeLimit = nl
	}
	if u.Nodes != nil {
		n := *u.Nodes
		if n < 1 || n > maxNodes {
			return nil, invalid("the node count must be between 1 and %d", maxNodes)
		}
		switch {
		case spec.NTasksPerNode > 0:
			spec.NTasks = spec.NTasksPerNode * n
		case spec.NTasks == spec.Nodes || spec.NTasks < n:
			spec.NTasks = n // one task per node, as on submission
		}
		spec.Nodes = n
	}
	set := func(dst *string, v *string) {
		if v != nil {
			*dst = *v
		}
	}
	set(&spec.Partition, u.Partition)
	set(&spec.QOS, u.QOS)
	set(&spec.Comment, u.Comment)
	set(&spec.Name, u.Name)
	set(&spec.Account, u.Account)
	if u.Partition != nil && u.QOS == nil && spec.QOS == s.partDefaultQOS(j.Spec.Partition) {
		spec.QOS = "" // the new partition's default QOS
	}
	if u.Nice != nil {
		spec.Nice = *u.Nice
	}
	if u.Name != nil && *u.Name == "" {
		return nil, invalid("the job name must not be empty")
	}
	owner := auth.Peer{UID: j.UID, GID: j.GID, User: j.User}
	checked, err := s.checkJob(owner, op, &spec, j.ID)
	if err != nil {
		return nil, err
	}
	return checked.Spec, nil
}

// partDefaultQOS is the default QOS of the partition named ("" if none).
func (s *Server) partDefaultQOS(name string) string {
	for _, p := range s.pol.parts {
		if p.Name == name {
			return p.DefaultQOS
		}
	}
	return ""
}
