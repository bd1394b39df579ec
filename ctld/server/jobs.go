package server

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	memdb "github.com/hashicorp/go-memdb"
	"go.uber.org/zap"

	"github.com/gsched/gsched/pkg/api"
	"github.com/gsched/gsched/pkg/auth"
	"github.com/gsched/gsched/pkg/fsm"
	"github.com/gsched/gsched/pkg/image/imageref"
	"github.com/gsched/gsched/pkg/sched"
	"github.com/gsched/gsched/pkg/state"
	"github.com/gsched/gsched/pkg/units"
)

// Request bounds (beyond the body size limit).
const (
	maxNameLen    = 256
	maxPathLen    = 4096
	maxEnvEntries = 4096
	maxArgs       = 4096
	maxCount      = 1 << 20
	maxGPUs       = 1024
	maxMemBytes   = 1 << 50
)

func (s *Server) submit(ctx context.Context, req *api.SubmitRequest) (any, error) {
	p, op, err := s.caller(ctx)
	if err != nil {
		return nil, err
	}
	job, err := s.newJob(p, op, &req.Spec)
	if err != nil {
		return nil, err
	}
	res, err := s.apply(&fsm.Command{Type: fsm.CmdSubmit, Submit: &fsm.SubmitCmd{Jobs: []api.Job{*job}}})
	if err != nil {
		return nil, err
	}
	ids := res.(*fsm.SubmitResult).IDs
	s.Kick()
	return &api.SubmitResponse{JobID: ids[0]}, nil
}

// submitBatch validates every spec, then applies them all as one raft
// entry: a batch of 1,000 costs one fsync, where 1,000 submissions cost
// as many as raft's batching of concurrent applies leaves.
func (s *Server) submitBatch(ctx context.Context, req *api.SubmitBatchRequest) (any, error) {
	p, op, err := s.caller(ctx)
	if err != nil {
		return nil, err
	}
	switch n := len(req.Specs); {
	case n == 0:
		return nil, invalid("no job in the batch")
	case n > api.MaxSubmitBatch:
		return nil, invalid("%d jobs in one batch: at most %d", n, api.MaxSubmitBatch)
	}
	jobs := make([]api.Job, len(req.Specs))
	for i := range req.Specs {
		job, err := s.newJob(p, op, &req.Specs[i])
		if err != nil {
			return nil, fmt.Errorf("%w (job %d of the batch)", err, i)
		}
		jobs[i] = *job
	}
	res, err := s.apply(&fsm.Command{Type: fsm.CmdSubmit, Submit: &fsm.SubmitCmd{Jobs: jobs}})
	if err != nil {
		return nil, err
	}
	s.Kick()
	return &api.SubmitBatchResponse{JobIDs: res.(*fsm.SubmitResult).IDs}, nil
}

func invalid(format string, a ...any) error {
	return fmt.Errorf("%w: %s", api.ErrInvalid, fmt.Sprintf(format, a...))
}

func checkText(what, v string, max int) error {
	if len(v) > max {
		return invalid("%s is longer than %d bytes", what, max)
	}
	if !utf8.ValidString(v) {
		return invalid("%s is not valid UTF-8", what)
	}
	if strings.IndexByte(v, 0) >= 0 {
		return invalid("%s contains a NUL byte", what)
	}
	return nil
}

// checkLine is checkText for values shown on one line (names, paths,
// reasons): control characters, line breaks and escapes included, would
// garble or forge the lines of gqueue, ginfo and the logs.
func checkLine(what, v string, max int) error {
	if err := checkText(what, v, max); err != nil {
		return err
	}
	if strings.ContainsFunc(v, unicode.IsControl) {
		return invalid("%s contains a control character (it must be one line of text)", what)
	}
	return nil
}

// newJob validates a spec and fills in defaults; the identity comes from
// the kernel, never from the request.
func (s *Server) newJob(p auth.Peer, op bool, in *api.JobSpec) (*api.Job, error) {
	return s.checkJob(p, op, in, 0)
}

// checkJob is newJob for a spec that job self (0: none), already queued,
// would have: self does not count against its own QOS's job limits.
func (s *Server) checkJob(p auth.Peer, op bool, in *api.JobSpec, self api.JobID) (*api.Job, error) {
	spec := *in
	if spec.Script == "" {
		return nil, invalid("the job has no script")
	}
	if len(spec.Script) > api.MaxScriptBytes {
		return nil, fmt.Errorf("%w: script is %d bytes, the limit is %d", api.ErrTooLarge, len(spec.Script), api.MaxScriptBytes)
	}
	if !strings.HasPrefix(spec.Script, "#!") {
		return nil, invalid("this does not look like a batch script: the first line must start with #! followed by the path to an interpreter")
	}
	if err := checkText("script", spec.Script, api.MaxScriptBytes); err != nil {
		return nil, err
	}
	for _, c := range []struct {
		what, v string
		max     int
	}{
		{"job name", spec.Name, maxNameLen},
		{"partition", spec.Partition, maxNameLen}, {"work dir", spec.WorkDir, maxPathLen},
		{"output", spec.Output, maxPathLen}, {"error", spec.Error, maxPathLen},
		{"submit host", spec.SubmitHost, maxNameLen}, {"account", spec.Account, maxNameLen},
		{"qos", spec.QOS, maxNameLen}, {"gpu type", spec.GPUType, maxNameLen}, {"constraint", spec.Constraint, maxPathLen},
		{"comment", spec.Comment, maxPathLen},
	} {
		if err := checkLine(c.what, c.v, c.max); err != nil {
			return nil, err
		}
	}
	if err := api.CheckContainerSpec(spec.Image, spec.ContainerMounts); err != nil {
		return nil, invalid("%v", err)
	}
	if spec.Image != "" {
		if _, err := imageref.Parse(spec.Image); err != nil {
			return nil, invalid("%v", err)
		}
	}
	if len(spec.Env) > maxEnvEntries || len(spec.Args) > maxArgs {
		return nil, invalid("too many environment entries or arguments")
	}
	for _, e := range spec.Env {
		if err := checkText("environment entry", e, 1<<20); err != nil {
			return nil, err
		}
		if !strings.Contains(e, "=") {
			return nil, invalid("environment entry %q is not KEY=VALUE", truncate(e, 40))
		}
	}
	for _, a := range spec.Args {
		if err := checkText("argument", a, 1<<20); err != nil {
			return nil, err
		}
	}
	if spec.WorkDir == "" || !filepath.IsAbs(spec.WorkDir) {
		return nil, invalid("work dir must be an absolute path, got %q", spec.WorkDir)
	}
	spec.WorkDir = filepath.Clean(spec.WorkDir)
	if spec.Name == "" {
		spec.Name = "script"
	}
	if spec.CPUsPerTask == 0 {
		spec.CPUsPerTask = 1
	}
	switch {
	case spec.Nodes < 0 || spec.NTasks < 0 || spec.CPUsPerTask < 0 || spec.GPUs < 0 || spec.GPUsPerNode < 0 || spec.MemBytes < 0 ||
		spec.TimeLimit < api.TimeUnlimited || spec.NTasksPerNode < 0 || spec.GPUsPerTask < 0 || spec.CPUsPerGPU < 0 ||
		spec.Switches < 0 || spec.SwitchWait < 0:
		return nil, invalid("counts, memory and time limit must not be negative")
	case spec.Nodes > maxNodes:
		return nil, invalid("too many nodes requested (at most %d)", maxNodes)
	case spec.NTasks > maxCount || spec.NTasksPerNode > maxCount || spec.CPUsPerTask > maxCount || spec.NTasks*spec.CPUsPerTask > maxCount ||
		spec.NTasksPerNode*spec.CPUsPerTask > maxCount || spec.CPUsPerGPU > maxCount:
		return nil, invalid("too many CPUs requested (%d tasks x %d CPUs)", max(spec.NTasks, spec.NTasksPerNode), spec.CPUsPerTask)
	case spec.GPUs > maxGPUs || spec.GPUsPerNode > maxGPUs || spec.GPUsPerTask > maxGPUs ||
		spec.GPUsPerTask*max(spec.NTasksPerNode, 1) > maxGPUs || spec.GPUsPerTask*max(spec.NTasks, 1) > maxGPUs:
		return nil, invalid("too many GPUs requested (at most %d per job)", maxGPUs)
	case spec.Switches > units.MaxSwitches:
		return nil, invalid("too many switches requested")
	case spec.MemBytes > maxMemBytes:
		return nil, invalid("too much memory requested")
	case spec.GPUMemMin < 0 || spec.GPUMemMin > maxMemBytes:
		return nil, invalid("GPU memory minimum out of range")
	case (spec.GPUType != "" || spec.GPUMemMin > 0) && spec.GPUsOnNode() == 0:
		return nil, invalid("a GPU type or GPU memory minimum needs GPUs (--gpus)")
	}
	switch spec.OpenMode {
	case "":
		spec.OpenMode = api.OpenTruncate
	case api.OpenTruncate, api.OpenAppend:
	default:
		return nil, invalid("open mode must be %q or %q", api.OpenAppend, api.OpenTruncate)
	}
	if spec.Output == "" {
		spec.Output = "gsched-%j.out"
	}
	part, err := s.partition(spec.Partition)
	if err != nil {
		return nil, err
	}
	spec.Partition = part.Name
	snap := s.store.Snapshot()
	if err := s.checkArrayDeps(snap, &spec); err != nil {
		return nil, err
	}
	excluded, err := namedNodes(snap, &spec, &part)
	if err != nil {
		return nil, err
	}
	if err := s.shapeJob(snap, &spec, &part); err != nil {
		return nil, err
	}
	if spec.MemBytes == 0 {
		spec.MemBytes = int64(spec.CPUsOnNode()) * s.defMemPerCPU
	}
	if part.State == "DRAIN" || part.State == "INACTIVE" {
		return nil, invalid("partition %s is %s: it accepts no new jobs", part.Name, part.State)
	}
	switch spec.TimeLimit {
	case 0:
		spec.TimeLimit = part.DefaultTime
		if spec.TimeLimit == 0 {
			spec.TimeLimit = part.MaxTime
		}
	case api.TimeUnlimited:
		if part.MaxTime > 0 {
			return nil, invalid("an unlimited time limit exceeds partition %s's maximum of %s", part.Name, units.FormatTimeLimit(part.MaxTime))
		}
		spec.TimeLimit = 0
	}
	if part.MaxTime > 0 && spec.TimeLimit > part.MaxTime {
		return nil, invalid("time limit %s exceeds partition %s's maximum of %s",
			units.FormatTimeLimit(spec.TimeLimit), part.Name, units.FormatTimeLimit(part.MaxTime))
	}
	if err := checkMail(&spec, p.User); err != nil {
		return nil, err
	}
	job := &api.Job{Spec: &spec, User: p.User, UID: p.UID, GID: p.GID}
	if err := s.pol.checkAccountQOS(snap, job, &part, op, self); err != nil {
		return nil, err
	}
	// Reject what no node of the partition could ever hold (nodes known).
	known, ever := 0, 0
	for _, n := range snap.Nodes() {
		if !sched.InPartition(n, &part) || excluded[n.Name] {
			continue
		}
		known++
		if sched.Fits(job, n) && n.HasFeatures(spec.Features()) && n.MatchingGPUs(&spec) >= spec.GPUsOnNode() {
			ever++
		}
	}
	if known > 0 && ever < spec.NodeCount() {
		what := fmt.Sprintf("%d CPUs, %s of memory and %d GPUs", spec.CPUsOnNode(), units.FormatMemoryHuman(spec.MemBytes), spec.GPUsOnNode())
		if spec.NodeCount() > 1 {
			what = fmt.Sprintf("%d nodes with %s each (%d such nodes)", spec.NodeCount(), what, ever)
		}
		if spec.GPUType != "" || spec.GPUMemMin > 0 {
			what += fmt.Sprintf(" (type %q, at least %s each)", spec.GPUType, units.FormatMemoryHuman(spec.GPUMemMin))
		}
		if f := spec.Features(); len(f) > 0 {
			what += " with features " + strings.Join(f, "&")
		}
		return nil, invalid("requested node configuration is not available: no node of partition %s has %s", part.Name, what)
	}
	if err := checkListed(snap, job); err != nil {
		return nil, err
	}
	return job, nil
}

// maxNodes bounds the nodes of one job.
const maxNodes = 4096

// shapeJob settles a job's node and task counts: an unset node count is 1,
// or as many nodes as the GPUs asked for need on the partition's largest
// GPU nodes; tasks default to one per node.
func (s *Server) shapeJob(snap *state.Snapshot, spec *api.JobSpec, part *api.Partition) error {
	if spec.Nodes == 0 {
		spec.Nodes = 1
		if spec.GPUs > 0 && spec.GPUsPerNode == 0 && spec.GPUsPerTask == 0 {
			most := 0
			for _, n := range snap.Nodes() {
				if sched.InPartition(n, part) {
					most = max(most, n.MatchingGPUs(spec))
				}
			}
			if most > 0 && spec.GPUs > most {
				spec.Nodes = (spec.GPUs + most - 1) / most
			}
		}
	}
	if spec.NTasksPerNode > 0 {
		if spec.NTasks == 0 {
			spec.NTasks = spec.NTasksPerNode * spec.Nodes
		}
		if spec.NTasks > spec.NTasksPerNode*spec.Nodes {
			return invalid("--ntasks=%d does not fit %d tasks per node on %d nodes", spec.NTasks, spec.NTasksPerNode, spec.Nodes)
		}
	}
	if spec.NTasks == 0 {
		spec.NTasks = spec.Nodes
	}
	if spec.NTasks < spec.Nodes {
		return invalid("--ntasks=%d is less than --nodes=%d: every node needs a task", spec.NTasks, spec.Nodes)
	}
	if spec.GPUs > 0 && spec.GPUsPerNode == 0 && spec.GPUsPerTask == 0 && spec.GPUs%spec.Nodes != 0 {
		return invalid("--gpus=%d does not divide evenly over %d nodes; use --gpus-per-node", spec.GPUs, spec.Nodes)
	}
	if spec.Switches > 0 && s.pol.network == nil {
		return invalid("--switches needs a network topology ([[switch]] in the configuration); none is configured")
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

func (s *Server) partition(name string) (api.Partition, error) {
	for _, p := range s.pol.parts {
		if (name == "" && p.Default) || (name != "" && p.Name == name) {
			return p, nil
		}
	}
	if name == "" {
		return api.Partition{}, invalid("no default partition is configured")
	}
	return api.Partition{}, invalid("invalid partition specified: %s", name)
}

// matches reports whether a job passes a filter.
func matches(j *api.Job, f *api.JobFilter) bool {
	if len(f.IDs) > 0 && !slices.Contains(f.IDs, j.ID) {
		return false
	}
	if len(f.Refs) > 0 && !api.MatchesAny(f.Refs, j) {
		return false
	}
	if len(f.Users) > 0 && !slices.Contains(f.Users, j.User) {
		return false
	}
	if len(f.States) > 0 {
		ok := false
		for _, st := range f.States {
			ok = ok || st == j.State
		}
		if !ok {
			return false
		}
	} else if f.OnlyFinished && !j.State.Final() {
		return false
	} else if !f.IncludeFinished && !f.OnlyFinished && len(f.IDs) == 0 && len(f.Refs) == 0 && j.State.Final() {
		return false
	}
	if len(f.Partitions) > 0 && !slices.Contains(f.Partitions, j.Spec.Partition) {
		return false
	}
	if len(f.Names) > 0 && !slices.Contains(f.Names, j.Spec.Name) {
		return false
	}
	if !f.Since.IsZero() {
		t := j.EndTime
		if t.IsZero() {
			t = j.SubmitTime
		}
		if t.Before(f.Since) {
			return false
		}
	}
	return true
}

// candidates narrows the scan with an index where the filter allows.
func candidates(snap *state.Snapshot, f *api.JobFilter) []*api.Job {
	switch {
	case len(f.Refs) > 0:
		return refCandidates(snap, f.Refs)
	case len(f.IDs) > 0:
		var out []*api.Job
		for _, id := range f.IDs {
			if j := snap.Job(nil, id); j != nil {
				out = append(out, j)
			}
		}
		return out
	case len(f.Users) == 1:
		return snap.JobsBy(nil, state.IndexUser, f.Users[0])
	case len(f.States) > 0:
		var out []*api.Job
		for _, st := range f.States {
			out = append(out, snap.JobsBy(nil, state.IndexState, string(st))...)
		}
		return out
	case !f.IncludeFinished && !f.OnlyFinished:
		var out []*api.Job
		for _, st := range []api.JobState{api.StatePending, api.StateRunning, api.StateCompleting} {
			out = append(out, snap.JobsBy(nil, state.IndexState, string(st))...)
		}
		return out
	}
	return snap.Jobs()
}

// view is the job as the caller may see it, with what the latest pass
// said of it (plan): others' jobs lose their script, arguments and
// environment unless the caller is an operator, and all jobs do in a
// brief listing. The specs without them come from briefs (nil: made
// afresh).
func view(j *api.Job, plan passPlan, p auth.Peer, op, brief bool, briefs briefSpecs) api.Job {
	v := *j
	if r, start, prio, ok := plan.of(j); ok {
		v.Reason, v.ExpectedStart, v.Priority = r, start, prio
	}
	if brief || !op && j.UID != p.UID {
		v.Spec = briefs.of(v.Spec)
	}
	return v
}

// briefSpecs makes the copies of specs without a script, arguments and
// environment that listings show: one per spec, so that the jobs sharing
// a spec in the store share its brief copy too. Stored specs are never
// changed.
type briefSpecs map[*api.JobSpec]*api.JobSpec

func (b briefSpecs) of(s *api.JobSpec) *api.JobSpec {
	if s == nil || s.Script == "" && s.Env == nil && s.Args == nil {
		return s
	}
	if c, ok := b[s]; ok {
		return c
	}
	c := *s
	c.Script, c.Env, c.Args = "", nil, nil
	if b != nil {
		b[s] = &c
	}
	return &c
}

// selectJobs is the jobs a listing with filter f shows, unsorted.
func selectJobs(snap *state.Snapshot, f *api.JobFilter) ([]*api.Job, error) {
	if len(f.IDs)+len(f.Refs) > maxCancelIDs {
		return nil, invalid("more than %d job ids in one request", maxCancelIDs)
	}
	cands := candidates(snap, f)
	out := make([]*api.Job, 0, len(cands))
	for _, j := range cands {
		if matches(j, f) {
			out = append(out, j)
		}
	}
	return out, nil
}

func (s *Server) listJobs(ctx context.Context, f *api.JobFilter) (any, error) {
	p, op, err := s.caller(ctx)
	if err != nil {
		return nil, err
	}
	jobs, err := selectJobs(s.store.Snapshot(), f)
	if err != nil {
		return nil, err
	}
	plan := s.plan()
	out := &api.JobList{Now: s.now(), Jobs: make([]api.Job, 0, len(jobs))}
	briefs := briefSpecs{}
	for _, j := range jobs {
		out.Jobs = append(out.Jobs, view(j, plan, p, op, f.Brief, briefs))
	}
	sort.Slice(out.Jobs, func(a, b int) bool { return out.Jobs[a].ID < out.Jobs[b].ID })
	return out, nil
}

func (s *Server) cancel(ctx context.Context, req *api.CancelRequest) (any, error) {
	p, op, err := s.caller(ctx)
	if err != nil {
		return nil, err
	}
	if req.Signal < 0 || req.Signal > 64 {
		return nil, invalid("invalid signal %d", req.Signal)
	}
	if len(req.IDs) == 0 && len(req.Tasks) == 0 && req.User == "" && req.Name == "" && len(req.States) == 0 {
		return nil, invalid("no job id and no filter given")
	}
	if len(req.IDs)+len(req.Tasks) > maxCancelIDs {
		return nil, invalid("more than %d job ids in one request", maxCancelIDs)
	}
	snap := s.store.Snapshot()
	resp := &api.CancelResponse{Done: []api.JobID{}}
	var targets []*api.Job
	byID := len(req.IDs) > 0 || len(req.Tasks) > 0
	if byID {
		targets, resp.Errors = jobTargets(snap, req.IDs, req.Tasks)
	} else {
		f := &api.JobFilter{States: req.States}
		if req.User != "" {
			f.Users = []string{req.User}
		}
		if req.Name != "" {
			f.Names = []string{req.Name}
		}
		for _, j := range candidates(snap, f) {
			if matches(j, f) {
				targets = append(targets, j)
			}
		}
	}
	var ids []api.JobID
	for _, j := range targets {
		if byID && (req.User != "" && j.User != req.User || req.Name != "" && j.Spec.Name != req.Name) {
			continue
		}
		if !op && j.UID != p.UID {
			s.log.Warn("denied: cancel of another user's job", zap.Uint32("uid", p.UID), zap.String("user", p.User),
				zap.Uint64("job", uint64(j.ID)), zap.String("owner", j.User))
			resp.Errors = append(resp.Errors, api.CancelError{JobID: j.ID, Code: api.CodePermission,
				Message: fmt.Sprintf("permission denied: the job belongs to %s", j.User)})
			continue
		}
		if j.State.Final() {
			if byID && !j.IsArrayTask() {
				resp.Errors = append(resp.Errors, api.CancelError{JobID: j.ID, Code: api.CodeConflict,
					Message: fmt.Sprintf("job has already finished (%s)", j.State)})
			}
			continue
		}
		if req.Signal != 0 && j.State != api.StateRunning {
			resp.Errors = append(resp.Errors, api.CancelError{JobID: j.ID, Code: api.CodeConflict,
				Message: fmt.Sprintf("job is not running (%s), cannot signal it", j.State)})
			continue
		}
		ids = append(ids, j.ID)
	}
	if len(ids) == 0 {
		return resp, nil
	}
	cmd := &fsm.Command{Type: fsm.CmdCancel, Cancel: &fsm.CancelCmd{IDs: ids}}
	if req.Signal != 0 {
		cmd = &fsm.Command{Type: fsm.CmdSignal, Signal: &fsm.SignalCmd{IDs: ids, Signal: req.Signal}}
	}
	if _, err := s.apply(cmd); err != nil {
		return nil, err
	}
	resp.Done = ids
	s.Kick()
	return resp, nil
}

// maxCancelIDs bounds the job IDs of one cancel request.
const maxCancelIDs = 100_000

// pollTimeout is how long a long poll asked to last ms may block: 30 s
// when unset or over 5 minutes.
func pollTimeout(ms int64) time.Duration {
	d := time.Duration(ms) * time.Millisecond
	if d <= 0 || d > 5*time.Minute {
		return 30 * time.Second
	}
	return d
}

func (s *Server) waitJob(ctx context.Context, req *api.WaitRequest) (any, error) {
	p, op, err := s.caller(ctx)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, pollTimeout(req.TimeoutMs))
	defer cancel()
	for {
		snap := s.store.Snapshot()
		ws := memdb.NewWatchSet()
		j := snap.Job(ws, req.JobID)
		if j == nil {
			return nil, fmt.Errorf("%w: job %d: invalid job id specified", api.ErrNotFound, req.JobID)
		}
		if j.State.Final() {
			return view(j, s.plan(), p, op, false, nil), nil
		}
		ws.Add(snap.Abandoned())
		if ws.WatchCtx(ctx) != nil {
			return view(j, s.plan(), p, op, false, nil), nil
		}
	}
}

func (s *Server) whoAmI(ctx context.Context, _ *struct{}) (any, error) {
	p, op, err := s.caller(ctx)
	if err != nil {
		return nil, err
	}
	return &api.WhoAmI{UID: p.UID, GID: p.GID, User: p.User, Operator: op, Controller: s.cfg.ControllerID()}, nil
}

func (s *Server) listPriorities(ctx context.Context, _ *struct{}) (any, error) {
	if _, _, err := s.caller(ctx); err != nil {
		return nil, err
	}
	in, err := s.pol.input(s.store.Snapshot(), s.now())
	if err != nil {
		return nil, err
	}
	w := s.pol.sched.Priority
	return &api.PriorityList{Rows: s.pol.priorities(&in), Weights: map[string]int64{
		"age": w.WeightAge, "fairshare": w.WeightFairShare, "jobsize": w.WeightJobSize,
		"partition": w.WeightPartition, "qos": w.WeightQOS}}, nil
}

func (s *Server) listShares(ctx context.Context, _ *struct{}) (any, error) {
	if _, _, err := s.caller(ctx); err != nil {
		return nil, err
	}
	return s.pol.shares(s.store.Snapshot(), s.now())
}
