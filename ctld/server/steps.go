package server

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	memdb "github.com/hashicorp/go-memdb"
	"go.uber.org/zap"

	"github.com/gsched/gsched/pkg/api"
	"github.com/gsched/gsched/pkg/fsm"
	"github.com/gsched/gsched/pkg/state"
)

// Steps (grun): a user starts a command as every task of a running job
// they own; the controller lays the tasks out over the job's nodes, the
// nodes' syncs carry the step to them, their reports of ended tasks come
// back through syncs, and grun long-polls until the step is over. A
// failing task stops the others unless the step asked to keep them.

// checkStepSpec validates what grun sent.
func checkStepSpec(sp *api.StepSpec) error {
	if len(sp.Argv) == 0 || sp.Argv[0] == "" {
		return invalid("step: no command")
	}
	if len(sp.Argv) > 65536 || len(sp.Env) > 65536 {
		return invalid("step: too many arguments or environment entries")
	}
	for _, a := range sp.Argv {
		if err := checkText("argument", a, 1<<20); err != nil {
			return err
		}
	}
	for _, e := range sp.Env {
		if err := checkText("environment entry", e, 1<<20); err != nil {
			return err
		}
		if !strings.Contains(e, "=") {
			return invalid("environment entry %q is not KEY=VALUE", truncate(e, 40))
		}
	}
	if sp.Cwd != "" && (!filepath.IsAbs(sp.Cwd) || len(sp.Cwd) > maxPathLen) {
		return invalid("step: working directory must be an absolute path")
	}
	if err := checkText("step I/O address", sp.IOAddr, 256); err != nil {
		return err
	}
	if err := checkText("step I/O token", sp.IOToken, 128); err != nil {
		return err
	}
	if sp.NTasks < 0 || sp.NTasks > api.MaxStepTasks || sp.NTasksPerNode < 0 || sp.NTasksPerNode > api.MaxStepTasks {
		return invalid("step: task count out of range (0 to %d)", api.MaxStepTasks)
	}
	if sp.NNodes < 0 || sp.NNodes > api.MaxStepTasks || len(sp.Nodes) > api.MaxStepTasks {
		return invalid("step: node count out of range (0 to %d)", api.MaxStepTasks)
	}
	for _, n := range sp.Nodes {
		if err := checkText("step node name", n, 256); err != nil {
			return err
		}
	}
	return checkPtySpec(sp)
}

// layoutStep places a step's tasks on the job's nodes (all of them, or
// those the step names), ranks in node order (block distribution: balanced
// counts, the first nodes taking the extra tasks), each task seeing its own
// GPUs when the job has --gpus-per-task.
func layoutStep(j *api.Job, sp *api.StepSpec) ([]api.StepTask, error) {
	nodes, err := stepNodes(j, sp)
	if err != nil {
		return nil, err
	}
	nn := len(nodes)
	perCap := j.Spec.TasksOnNode()
	counts := make([]int, nn)
	switch {
	case sp.NTasksPerNode > 0:
		if sp.NTasksPerNode > perCap {
			return nil, invalid("step: %d tasks per node exceed the job's %d", sp.NTasksPerNode, perCap)
		}
		if sp.NTasks > 0 && sp.NTasks != sp.NTasksPerNode*nn {
			return nil, invalid("step: --ntasks=%d does not match %d tasks on each of %d nodes", sp.NTasks, sp.NTasksPerNode, nn)
		}
		for i := range counts {
			counts[i] = sp.NTasksPerNode
		}
	default:
		n := sp.NTasks
		switch {
		case n > 0:
		case sp.Pty:
			n = 1 // one terminal
		case nn < len(j.Allocs):
			n = perCap * nn
		default:
			n = j.Spec.NTasks
		}
		if n > perCap*nn {
			return nil, invalid("step: %d tasks exceed the job's %d (%d per node on %d nodes)", n, perCap*nn, perCap, nn)
		}
		if n < nn && (sp.NNodes > 0 || len(sp.Nodes) > 0) {
			return nil, invalid("step: %d tasks cannot cover %d nodes", n, nn)
		}
		counts = api.BlockCounts(n, nn)
	}
	var tasks []api.StepTask
	for i, a := range nodes {
		g := j.Spec.GPUsPerTask
		for l := 0; l < counts[i]; l++ {
			tk := api.StepTask{Rank: len(tasks), Node: a.Node, LocalRank: l}
			switch {
			case sp.Overlap:
				tk.GPUs = append([]int(nil), a.GPUs...)
			case g > 0 && (l+1)*g <= len(a.GPUs):
				tk.GPUs = append([]int(nil), a.GPUs[l*g:(l+1)*g]...)
			default:
				tk.GPUs = append([]int(nil), a.GPUs...)
			}
			tasks = append(tasks, tk)
		}
	}
	if len(tasks) == 0 {
		return nil, invalid("step: no tasks")
	}
	if sp.Pty && len(tasks) != 1 {
		return nil, invalid("step: a --pty step runs one task, not %d", len(tasks))
	}
	return tasks, nil
}

// stepNodes returns the job's allocations a step runs on, in the job's
// node order: the named ones, topped up to NNodes from the others.
func stepNodes(j *api.Job, sp *api.StepSpec) ([]*api.Allocation, error) {
	all := len(j.Allocs)
	if all == 0 {
		return nil, conflict("job %d has no nodes", j.ID)
	}
	if sp.NNodes > all {
		return nil, invalid("step: %d nodes exceed the job's %d", sp.NNodes, all)
	}
	if len(sp.Nodes) > all {
		return nil, invalid("step: %d nodes listed, the job has %d", len(sp.Nodes), all)
	}
	want := map[string]bool{}
	for _, n := range sp.Nodes {
		if j.AllocOn(n) == nil {
			return nil, invalid("step: node %q is not one of job %d's (%s)", truncate(n, 64), j.ID, j.NodeList())
		}
		want[n] = true
	}
	if sp.NNodes > 0 && sp.NNodes < len(want) {
		return nil, invalid("step: %d nodes listed but --nodes=%d", len(want), sp.NNodes)
	}
	count := sp.NNodes
	if count == 0 {
		count = len(want)
	}
	if count == 0 {
		count = all
	}
	var out []*api.Allocation
	extra := count - len(want)
	for i := range j.Allocs {
		a := &j.Allocs[i]
		switch {
		case want[a.Node]:
		case extra > 0:
			extra--
		default:
			continue
		}
		out = append(out, a)
	}
	return out, nil
}

func conflict(format string, a ...any) error {
	return fmt.Errorf("%w: %s", api.ErrConflict, fmt.Sprintf(format, a...))
}

func (s *Server) startStep(ctx context.Context, req *api.StepStartRequest) (any, error) {
	p, op, err := s.caller(ctx)
	if err != nil {
		return nil, err
	}
	if err := checkStepSpec(&req.Spec); err != nil {
		return nil, err
	}
	j := s.store.Snapshot().Job(nil, req.JobID)
	if j == nil {
		return nil, fmt.Errorf("%w: job %d: invalid job id specified", api.ErrNotFound, req.JobID)
	}
	if err := s.mayStartStep(p, op, j, &req.Spec); err != nil {
		return nil, err
	}
	if j.State != api.StateRunning {
		return nil, conflict("job %d is %s, not RUNNING", j.ID, j.State)
	}
	tasks, err := layoutStep(j, &req.Spec)
	if err != nil {
		return nil, err
	}
	res, err := s.apply(&fsm.Command{Type: fsm.CmdStepStart, Step: &api.Step{
		JobID: j.ID, Attempt: j.Restarts, Spec: req.Spec, Tasks: tasks}})
	if err != nil {
		return nil, err
	}
	st := res.(*fsm.StepStartResult).Step
	if st == nil {
		return nil, conflict("job %d ended", j.ID)
	}
	s.log.Info("step started", zap.Uint64("job", uint64(st.JobID)), zap.String("step", st.Key()), zap.Int("tasks", len(st.Tasks)), zap.String("user", p.User))
	return st, nil
}

// stepFor returns a step the caller may see (owner or operator).
func (s *Server) stepFor(snap *state.Snapshot, ws memdb.WatchSet, p uint32, op bool, job api.JobID, step int) (*api.Step, error) {
	j := snap.Job(nil, job)
	if j == nil {
		return nil, fmt.Errorf("%w: job %d: invalid job id specified", api.ErrNotFound, job)
	}
	if !op && j.UID != p {
		return nil, fmt.Errorf("%w: job %d belongs to %s", api.ErrPermission, j.ID, j.User)
	}
	st := snap.Step(ws, job, step)
	if st == nil {
		return nil, fmt.Errorf("%w: step %s does not exist", api.ErrNotFound, api.StepKey(job, step))
	}
	return st, nil
}

func (s *Server) waitStep(ctx context.Context, req *api.StepWaitRequest) (any, error) {
	p, op, err := s.caller(ctx)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, pollTimeout(req.TimeoutMs))
	defer cancel()
	for {
		snap := s.store.Snapshot()
		ws := memdb.NewWatchSet()
		st, err := s.stepFor(snap, ws, p.UID, op, req.JobID, req.Step)
		if err != nil {
			return nil, err
		}
		if st.State.Final() {
			return stepView(st, p.UID, snap), nil
		}
		ws.Add(snap.Abandoned())
		if ws.WatchCtx(ctx) != nil {
			return stepView(st, p.UID, snap), nil
		}
	}
}

// stepView hides the step's I/O token from all but the job's owner.
func stepView(st *api.Step, uid uint32, snap *state.Snapshot) *api.Step {
	if j := snap.Job(nil, st.JobID); j != nil && j.UID == uid {
		return st
	}
	c := *st
	c.Spec.IOToken = ""
	return &c
}

func (s *Server) cancelStep(ctx context.Context, req *api.StepRef) (any, error) {
	p, op, err := s.caller(ctx)
	if err != nil {
		return nil, err
	}
	st, err := s.stepFor(s.store.Snapshot(), nil, p.UID, op, req.JobID, req.Step)
	if err != nil {
		return nil, err
	}
	if st.State.Final() {
		return st, nil
	}
	if _, err := s.apply(&fsm.Command{Type: fsm.CmdStepCancel, StepCancel: req}); err != nil {
		return nil, err
	}
	s.log.Info("step cancelled", zap.Uint64("job", uint64(st.JobID)), zap.String("step", st.Key()), zap.String("by", p.User))
	return s.store.Snapshot().Step(nil, req.JobID, req.Step), nil
}

// recordStepReports applies a node's reports of ended step tasks that the
// controller still counts as running there.
func (s *Server) recordStepReports(snap *state.Snapshot, node string, reports []api.StepReport) error {
	var keep []api.StepReport
	for _, r := range reports {
		st := snap.Step(nil, r.JobID, r.Step)
		if st == nil || st.State.Final() {
			continue
		}
		for _, tk := range st.Tasks {
			if tk.Rank == r.Rank && tk.Node == node && !tk.Done {
				keep = append(keep, r)
				break
			}
		}
	}
	if len(keep) == 0 {
		return nil
	}
	_, err := s.apply(&fsm.Command{Type: fsm.CmdStepEnd, StepEnd: &fsm.StepEndCmd{Node: node, Reports: keep}})
	return err
}

// nodeSteps returns the live steps of the node's jobs with tasks there not
// yet done, watching them.
func nodeSteps(snap *state.Snapshot, ws memdb.WatchSet, node string, jobs []*api.Job) []*api.Step {
	var out []*api.Step
	for _, j := range jobs {
		for _, st := range snap.StepsOf(ws, j.ID) {
			if st.State.Final() {
				continue
			}
			for _, tk := range st.Tasks {
				if tk.Node == node && !tk.Done {
					out = append(out, st)
					break
				}
			}
		}
	}
	return out
}

// stepsNeedAction reports whether a step task must start on the node, or
// be stopped there.
func stepsNeedAction(steps []*api.Step, node string, req *api.SyncRequest) bool {
	running := map[string]bool{}
	for _, k := range req.StepTasks {
		running[k] = true
	}
	for _, k := range req.StepKilling {
		running[k] = false // running, already being stopped
	}
	for _, st := range steps {
		for _, tk := range st.Tasks {
			if tk.Node != node || tk.Done {
				continue
			}
			r, known := running[api.StepTaskKey(st.JobID, st.ID, tk.Rank)]
			if !known || r && st.Kill {
				return true
			}
		}
	}
	return false
}
