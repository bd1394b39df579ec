package agent

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/gsched/gsched/pkg/api"
	"github.com/gsched/gsched/pkg/auth"
	"github.com/gsched/gsched/pkg/hostlist"
	"github.com/gsched/gsched/pkg/runtime"
)

// Step tasks (grun) run as runtime tasks with ExecIn set: further
// processes of the job's container on this node. The node reports each
// ended one until the controller no longer lists it as running here, then
// forgets it. A running step task the controller does not list is killed.

// StepTaskID is the runtime ID of a step task: step-JOB.STEP.RANK.
func StepTaskID(job api.JobID, step, rank int) string {
	return "step-" + api.StepTaskKey(job, step, rank)
}

// parseStepTaskID is the inverse of StepTaskID.
func parseStepTaskID(id string) (api.StepReport, bool) {
	rest, ok := strings.CutPrefix(id, "step-")
	if !ok {
		return api.StepReport{}, false
	}
	f := strings.Split(rest, ".")
	if len(f) != 3 {
		return api.StepReport{}, false
	}
	job, err1 := strconv.ParseUint(f[0], 10, 64)
	step, err2 := strconv.Atoi(f[1])
	rank, err3 := strconv.Atoi(f[2])
	if err1 != nil || err2 != nil || err3 != nil || step < 0 || rank < 0 || StepTaskID(api.JobID(job), step, rank) != id {
		return api.StepReport{}, false
	}
	return api.StepReport{JobID: api.JobID(job), Step: step, Rank: rank}, true
}

func isStepTask(id string) bool { return strings.HasPrefix(id, "step-") }

// stepSync is what a sync tells the controller about step tasks.
type stepSync struct {
	reports          []api.StepReport
	running, killing []string
}

// stepState lists the step tasks: ended ones as reports, running ones by
// key.
func (a *Agent) stepState(ctx context.Context) (stepSync, error) {
	list, err := a.opts.Runtime.List(ctx)
	if err != nil {
		return stepSync{}, fmt.Errorf("list tasks: %w", err)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	var out stepSync
	for _, st := range list {
		r, ok := parseStepTaskID(st.ID)
		if !ok {
			continue
		}
		key := api.StepTaskKey(r.JobID, r.Step, r.Rank)
		if st.Running {
			out.running = append(out.running, key)
			if a.killing[st.ID] {
				out.killing = append(out.killing, key)
			}
			a.watch(st.ID)
			continue
		}
		r.ExitCode, r.Signal, r.OOM, r.Killed, r.Error = st.ExitCode, st.Signal, st.OOMKilled, st.Killed, st.Error
		if st.Lost && r.Error == "" {
			r.Error = "lost"
		}
		out.reports = append(out.reports, r)
	}
	for _, r := range a.stepSynthetic {
		out.reports = append(out.reports, r)
	}
	return out, nil
}

// reconcileSteps starts the step tasks listed for this node, stops those
// of killed steps and those no longer listed, and forgets ended ones the
// controller has recorded.
func (a *Agent) reconcileSteps(ctx context.Context, resp *api.SyncResponse, have map[string]runtime.Status) {
	jobs := map[api.JobID]*api.Job{}
	for i := range resp.Jobs {
		jobs[resp.Jobs[i].ID] = &resp.Jobs[i]
	}
	want := map[string]bool{}
	for i := range resp.Steps {
		st := &resp.Steps[i]
		j := jobs[st.JobID]
		for k := range st.Tasks {
			tk := &st.Tasks[k]
			if tk.Node != a.opts.Node.Name || tk.Done {
				continue
			}
			id := StepTaskID(st.JobID, st.ID, tk.Rank)
			want[id] = true
			cur, ok := have[id]
			a.mu.Lock()
			_, failed := a.stepSynthetic[id]
			a.mu.Unlock()
			switch {
			case failed:
			case !ok && st.Kill:
				a.stepReport(id, api.StepReport{JobID: st.JobID, Step: st.ID, Rank: tk.Rank, Killed: true, ExitCode: 128 + 15})
			case !ok && (j == nil || j.Restarts != st.Attempt):
				a.stepReport(id, api.StepReport{JobID: st.JobID, Step: st.ID, Rank: tk.Rank, ExitCode: 1, Error: "the job does not run here"})
			case !ok:
				a.startStep(ctx, j, st, tk)
			case cur.Running && st.Kill:
				a.kill(ctx, id, st.JobID, "step stopped", a.grace(j))
			}
		}
	}
	for id, cur := range have {
		if !isStepTask(id) || want[id] {
			continue
		}
		if cur.Running {
			a.kill(ctx, id, api.JobID(cur.JobID), "step not assigned to this node (orphan)", a.opts.KillGrace)
			continue
		}
		a.forgetStep(ctx, id) // recorded by the controller (or its step is over)
	}
	a.mu.Lock()
	for id := range a.stepSynthetic {
		if !want[id] {
			delete(a.stepSynthetic, id)
		}
	}
	a.mu.Unlock()
}

func (a *Agent) grace(j *api.Job) time.Duration {
	if j != nil && j.KillGrace > 0 {
		return time.Duration(j.KillGrace) * time.Second
	}
	return a.opts.KillGrace
}

func (a *Agent) stepReport(id string, r api.StepReport) {
	a.mu.Lock()
	a.stepSynthetic[id] = r
	a.mu.Unlock()
	a.notify()
}

func (a *Agent) forgetStep(ctx context.Context, id string) {
	a.mu.Lock()
	delete(a.killing, id)
	a.mu.Unlock()
	if err := a.opts.Runtime.Destroy(ctx, id); err != nil && !errors.Is(err, runtime.ErrNotFound) {
		a.log.Warn("destroy step task", taskJob(id), zap.String("task", id), zap.Error(err))
	}
}

func (a *Agent) envOptions() EnvOptions {
	return EnvOptions{Cluster: a.opts.ClusterName, SlurmCompat: a.opts.SlurmEnv,
		NCCLSocketIfname: a.opts.NCCLSocketIfname, NCCLIBHCA: a.opts.NCCLIBHCA}
}

func (a *Agent) startStep(ctx context.Context, j *api.Job, st *api.Step, tk *api.StepTask) {
	id := StepTaskID(st.JobID, st.ID, tk.Rank)
	t0 := time.Now()
	spec, err := StepTaskSpec(j, st, tk, &a.opts.Node, a.opts.KillGrace, a.envOptions())
	if err == nil {
		err = a.opts.Runtime.Start(ctx, spec)
		if errors.Is(err, runtime.ErrExists) {
			return
		}
	}
	a.launched("step", t0, err)
	if err != nil {
		a.log.Error("start step task", zap.Uint64("job", uint64(st.JobID)), zap.String("task", id), zap.Error(err))
		a.stepReport(id, api.StepReport{JobID: st.JobID, Step: st.ID, Rank: tk.Rank, ExitCode: 1, Error: oneLine(err.Error())})
		return
	}
	a.log.Info("step task started", zap.Uint64("job", uint64(st.JobID)), zap.String("task", id), zap.Ints("gpus", tk.GPUs))
	a.mu.Lock()
	a.watch(id)
	a.mu.Unlock()
}

// StepTaskSpec turns one task of a step into a runtime task in the job's
// container on node n.
func StepTaskSpec(j *api.Job, st *api.Step, tk *api.StepTask, n *api.Node, grace time.Duration, eo EnvOptions) (runtime.TaskSpec, error) {
	if j.AllocOn(n.Name) == nil {
		return runtime.TaskSpec{}, fmt.Errorf("job %d is not allocated to node %s", j.ID, n.Name)
	}
	if err := checkJob(j); err != nil {
		return runtime.TaskSpec{}, err
	}
	if st.ID < 0 || tk.Rank < 0 || len(st.Spec.Argv) == 0 || st.Spec.Argv[0] == "" || st.Spec.Cwd != "" && !filepath.IsAbs(st.Spec.Cwd) {
		return runtime.TaskSpec{}, fmt.Errorf("step %s rank %d: no command, a negative number or a relative directory", st.Key(), tk.Rank)
	}
	if err := noNUL(st.Spec.Argv, st.Spec.Env); err != nil {
		return runtime.TaskSpec{}, fmt.Errorf("step %s: %w", st.Key(), err)
	}
	cwd := st.Spec.Cwd
	if cwd == "" {
		cwd = j.Spec.WorkDir
	}
	spec := runtime.TaskSpec{
		ID:        StepTaskID(st.JobID, st.ID, tk.Rank),
		JobID:     uint64(j.ID),
		UID:       j.UID,
		GID:       j.GID,
		Groups:    auth.Groups(j.UID, j.GID),
		Argv:      st.Spec.Argv,
		Env:       StepEnv(j, st, tk, n, eo),
		Cwd:       cwd,
		ExecIn:    TaskID(j.ID, j.Restarts),
		IOAddr:    st.Spec.IOAddr,
		IOToken:   st.Spec.IOToken,
		Rank:      tk.Rank,
		KillGrace: grace,
		Stdout:    "/dev/null",
		Stderr:    "/dev/null",
	}
	if st.Spec.Pty {
		if st.Spec.IOAddr == "" || st.Spec.TermRows < 0 || st.Spec.TermRows > api.MaxTermSize ||
			st.Spec.TermCols < 0 || st.Spec.TermCols > api.MaxTermSize {
			return runtime.TaskSpec{}, fmt.Errorf("step %s: a terminal needs grun's address and a size in range", st.Key())
		}
		spec.TTY, spec.TTYRows, spec.TTYCols = true, uint16(st.Spec.TermRows), uint16(st.Spec.TermCols)
	}
	return spec, nil
}

// StepEnv is a step task's environment: grun's, then the job's node
// variables, then the task's own (ranks, GPUs), which win.
func StepEnv(j *api.Job, st *api.Step, tk *api.StepTask, n *api.Node, eo EnvOptions) []string {
	b := newEnvBuilder(st.Spec.Env)
	env, set := b.env, b.set
	for _, kv := range Env(j, n, eo) {
		k, v, _ := strings.Cut(kv, "=")
		if _, ok := env[k]; !ok || strings.HasPrefix(k, "GSCHED_") || strings.HasPrefix(k, "SLURM_") ||
			k == "MASTER_ADDR" || k == "MASTER_PORT" || k == "NODE_RANK" || k == "GROUP_RANK" || k == "SLURMD_NODENAME" {
			set(k, v)
		}
	}
	local, nodes, nodeID := 0, []string{}, 0
	perNode := map[string]int{}
	for _, t := range st.Tasks {
		if t.Node == tk.Node {
			local++
		}
		if perNode[t.Node] == 0 {
			if t.Node == tk.Node {
				nodeID = len(nodes)
			}
			nodes = append(nodes, t.Node)
		}
		perNode[t.Node]++
	}
	counts := make([]int, len(nodes))
	for i, nd := range nodes {
		counts[i] = perNode[nd]
	}
	rank, world := strconv.Itoa(tk.Rank), strconv.Itoa(len(st.Tasks))
	set("RANK", rank)
	set("LOCAL_RANK", strconv.Itoa(tk.LocalRank))
	set("WORLD_SIZE", world)
	set("LOCAL_WORLD_SIZE", strconv.Itoa(local))
	set("GSCHED_STEP_ID", strconv.Itoa(st.ID))
	set("GSCHED_PROCID", rank)
	set("GSCHED_LOCALID", strconv.Itoa(tk.LocalRank))
	set("GSCHED_NTASKS", world)
	set("GSCHED_STEP_NUM_TASKS", world)
	set("GSCHED_STEP_NUM_NODES", strconv.Itoa(len(nodes)))
	set("GSCHED_STEP_NODELIST", hostlist.Compress(nodes))
	set("GSCHED_STEP_TASKS_PER_NODE", hostlist.Counts(counts))
	// The node's index within the step, as srun sets SLURM_NODEID (Open
	// MPI's daemons name themselves by it).
	set("GSCHED_NODEID", strconv.Itoa(nodeID))
	// The task's GPUs, numbered as CUDA sees them in the container: the
	// node's allocated devices from 0, in index (PCI) order.
	if al := j.AllocOn(n.Name); al != nil && len(al.GPUs) > 0 {
		var vis, ids []string
		for _, g := range tk.GPUs {
			for i, ag := range al.GPUs {
				if ag == g {
					vis = append(vis, strconv.Itoa(i))
					ids = append(ids, strconv.Itoa(g))
				}
			}
		}
		set("CUDA_VISIBLE_DEVICES", strings.Join(vis, ","))
		set("GSCHED_STEP_GPUS", strings.Join(ids, ","))
	}
	if eo.SlurmCompat {
		for _, name := range []string{"PROCID", "LOCALID", "NODEID", "NTASKS", "STEP_ID", "STEP_NUM_TASKS", "STEP_NUM_NODES", "STEP_NODELIST", "STEP_TASKS_PER_NODE"} {
			set("SLURM_"+name, env["GSCHED_"+name])
		}
		set("SLURM_STEPID", env["GSCHED_STEP_ID"])
	}
	return b.list()
}
