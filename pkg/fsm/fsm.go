package fsm

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"sort"
	"time"

	"github.com/hashicorp/raft"
	"go.uber.org/zap"

	"github.com/gsched/gsched/pkg/api"
	"github.com/gsched/gsched/pkg/state"
)

// FSM applies commands to a state.Store.
type FSM struct {
	store *state.Store
	log   *zap.Logger
}

var _ raft.FSM = (*FSM)(nil)

// New returns an FSM over store.
func New(store *state.Store, log *zap.Logger) *FSM {
	return &FSM{store: store, log: log}
}

// Apply implements raft.FSM. It returns the command's result, or an error.
func (f *FSM) Apply(l *raft.Log) any {
	if l.Type != raft.LogCommand {
		return nil
	}
	var c Command
	if err := json.Unmarshal(l.Data, &c); err != nil {
		f.log.Error("undecodable raft entry", zap.Uint64("index", l.Index), zap.Error(err))
		return fmt.Errorf("decode raft entry %d: %w", l.Index, err)
	}
	res, err := f.ApplyCommand(&c)
	if err != nil {
		return err
	}
	return res
}

// ApplyCommand applies one decoded command (exported for tests).
func (f *FSM) ApplyCommand(c *Command) (any, error) {
	var res any
	err := f.store.Write(func(t *state.Txn) error {
		var err error
		switch c.Type {
		case CmdSubmit:
			res, err = applySubmit(t, c)
		case CmdStart:
			res, err = applyStart(t, c)
		case CmdFinish:
			err = applyFinish(t, c)
		case CmdCancel:
			err = applyCancel(t, c)
		case CmdSignal:
			err = applySignal(t, c)
		case CmdAckSignals:
			err = applyAck(t, c)
		case CmdRegisterNode:
			err = applyRegister(t, c)
		case CmdNodeDown:
			err = applyNodeDown(t, c)
		case CmdPurge:
			res, err = applyPurge(t, c)
		case CmdPreempt:
			err = applyPreempt(t, c)
		case CmdStepStart:
			res, err = applyStepStart(t, c)
		case CmdStepEnd:
			err = applyStepEnd(t, c)
		case CmdStepCancel:
			err = applyStepCancel(t, c)
		case CmdNodeState:
			err = applyNodeState(t, c)
		case CmdPrologFailed:
			err = applyPrologFailed(t, c)
		case CmdHold, CmdRelease, CmdRequeue:
			res, err = applyJobs(t, c)
		case CmdUpdateJob:
			res, err = applyUpdateJob(t, c)
		default:
			err = fmt.Errorf("unknown command type %q", c.Type)
		}
		return err
	})
	return res, err
}

func applySubmit(t *state.Txn, c *Command) (*SubmitResult, error) {
	if c.Submit == nil {
		return nil, fmt.Errorf("submit: empty command")
	}
	res := &SubmitResult{}
	for i := range c.Submit.Jobs {
		tmpl := &c.Submit.Jobs[i]
		if tmpl.Spec == nil {
			return nil, fmt.Errorf("submit: job %d has no spec", i) // a corrupt command
		}
		if i > 0 {
			shareSpec(tmpl, &c.Submit.Jobs[i-1])
		}
		// A job array becomes one job per task, with consecutive IDs;
		// the array's ID is its first task's. The tasks share the
		// template's spec (stored once in memory).
		tasks := []int{-1}
		if tmpl.Spec.Array != "" {
			a, err := api.ParseArray(tmpl.Spec.Array, 0)
			if err != nil {
				return nil, err // the server checked it: a corrupt command
			}
			tasks = a.Tasks
		}
		var arrayID api.JobID
		for _, task := range tasks {
			id, err := t.NextMeta(state.MetaNextJobID)
			if err != nil {
				return nil, err
			}
			j := *tmpl
			j.ID = api.JobID(id)
			if task >= 0 {
				if arrayID == 0 {
					arrayID = j.ID
				}
				j.ArrayJobID, j.ArrayTaskID = arrayID, task
			}
			j.State = api.StatePending
			j.SubmitTime = c.Time
			j.Reason = api.ReasonNone
			if j.Spec.Hold {
				j.Reason = api.ReasonHeld
			}
			if err := t.PutJob(&j); err != nil {
				return nil, err
			}
			if task < 0 || j.ID == arrayID {
				res.IDs = append(res.IDs, j.ID)
			}
		}
	}
	return res, nil
}

// shareSpec makes j, a job of the same submission as prev, use prev's
// spec when the two are equal, and otherwise prev's copy of each string
// and list they have in common: a batch of like jobs then keeps one spec
// in memory, not one per job, as an array's tasks do. Stored jobs and
// their specs are never changed in place (api.Job.OwnSpec), so sharing
// is safe; a field left out here is only not shared.
func shareSpec(j, prev *api.Job) {
	str := func(dst *string, src string) {
		if *dst == src {
			*dst = src
		}
	}
	list := func(dst *[]string, src []string) {
		if len(*dst) > 0 && slices.Equal(*dst, src) {
			*dst = slices.Clip(src)
		}
	}
	str(&j.User, prev.User)
	if j.Spec.Equal(prev.Spec) {
		j.Spec = prev.Spec
		return
	}
	s, p := j.Spec, prev.Spec
	str(&s.Name, p.Name)
	str(&s.Partition, p.Partition)
	str(&s.Output, p.Output)
	str(&s.Error, p.Error)
	str(&s.WorkDir, p.WorkDir)
	str(&s.Script, p.Script)
	str(&s.Account, p.Account)
	str(&s.QOS, p.QOS)
	str(&s.SubmitHost, p.SubmitHost)
	str(&s.Comment, p.Comment)
	str(&s.Image, p.Image)
	str(&s.Constraint, p.Constraint)
	str(&s.GPUType, p.GPUType)
	list(&s.Env, p.Env)
	list(&s.Args, p.Args)
}

// fits reports whether alloc fits on node n next to usage u.
func fits(n *api.Node, u api.NodeUsage, a *api.Allocation) bool {
	if n.State != api.NodeUp {
		return false
	}
	if u.CPUs+a.CPUs > n.CPUs || u.MemBytes+a.MemBytes > n.MemBytes {
		return false
	}
	used := map[int]bool{}
	for _, g := range u.GPUs {
		used[g] = true
	}
	have := map[int]bool{}
	for _, g := range n.GPUs {
		have[g.Index] = true
	}
	for _, g := range a.GPUs {
		if !have[g] || used[g] {
			return false
		}
		used[g] = true
	}
	return true
}

// matchesRequest reports whether an allocation gives the job at least what
// it asked for on each of its nodes (a smaller one would, for instance,
// set a lower memory limit than the user requested), on as many distinct
// nodes as it asked for.
func matchesRequest(j *api.Job, allocs []api.Allocation) bool {
	if len(allocs) != j.Spec.NodeCount() {
		return false
	}
	seen := map[string]bool{}
	for i := range allocs {
		a := &allocs[i]
		if seen[a.Node] || a.Done {
			return false
		}
		seen[a.Node] = true
		if a.CPUs < j.Spec.CPUsOnNode() || a.MemBytes < j.Spec.MemBytes || len(a.GPUs) < j.Spec.GPUsOnNode() {
			return false
		}
	}
	return true
}

// Master ports: each job gets the lowest port of this range that no other
// live job on its head node holds.
const (
	MasterPortBase  = 29500
	MasterPortRange = 2000
)

func masterPort(snap *state.Snapshot, head string) int {
	used := map[int]bool{}
	for _, o := range snap.JobsBy(nil, state.IndexNode, head) {
		if h := o.Head(); h != nil && h.Node == head {
			used[o.MasterPort] = true
		}
	}
	for p := MasterPortBase; p < MasterPortBase+MasterPortRange; p++ {
		if !used[p] {
			return p
		}
	}
	return 0 // more live jobs on one node than ports: none
}

func applyStart(t *state.Txn, c *Command) (*StartResult, error) {
	if c.Start == nil {
		return nil, fmt.Errorf("start: empty command")
	}
	res := &StartResult{}
	snap := t.Snapshot()
	usage := snap.Usage()
	for _, p := range c.Start.Placements {
		j := snap.Job(nil, p.JobID)
		ok := j != nil && j.State == api.StatePending && !j.Spec.Hold && matchesRequest(j, p.Allocs)
		for i := 0; ok && i < len(p.Allocs); i++ {
			n := snap.Node(p.Allocs[i].Node)
			ok = n != nil && fits(n, usage[n.Name], &p.Allocs[i])
		}
		if !ok {
			res.Skipped = append(res.Skipped, p.JobID)
			continue
		}
		nj := *j
		nj.Allocs = make([]api.Allocation, len(p.Allocs))
		for i, a := range p.Allocs {
			a.GPUs = append([]int(nil), a.GPUs...)
			a.Addr = a.Node
			if n := snap.Node(a.Node); n != nil && n.Addr != "" {
				a.Addr = n.Addr
			}
			nj.Allocs[i] = a
		}
		nj.Billing = p.Billing
		nj.EndState, nj.EndReason = "", ""
		nj.State = api.StateRunning
		nj.Reason = api.ReasonNone
		nj.StartTime = c.Time
		if lim := nj.TimeLimitDuration(); lim > 0 {
			nj.Deadline = c.Time.Add(lim)
		}
		nj.MasterPort = masterPort(snap, nj.Allocs[0].Node)
		if err := t.PutJob(&nj); err != nil {
			return nil, err
		}
		for i := range nj.Allocs {
			a := &nj.Allocs[i]
			u := usage[a.Node]
			u.Add(a)
			usage[a.Node] = u
		}
		res.Started = append(res.Started, nj.ID)
	}
	return res, nil
}

// FinalState decides how a job ended from its node's report.
func FinalState(j *api.Job, r *api.TaskReport) (api.JobState, string) {
	switch {
	case j.Preempted:
		return api.StateCancelled, api.ReasonPreempted
	case j.CancelRequested || r.Cancelled:
		return api.StateCancelled, api.ReasonCancelled
	case r.TimedOut:
		return api.StateTimeout, api.ReasonTimeLimit
	case r.OOMKilled:
		return api.StateOutOfMemory, "OutOfMemory"
	case r.State == api.TaskLost:
		return api.StateFailed, "TaskLost"
	case r.Error != "":
		return api.StateFailed, "LaunchFailed: " + r.Error
	case r.ExitCode != 0 || r.Signal != 0:
		return api.StateFailed, "NonZeroExitCode"
	}
	return api.StateCompleted, api.ReasonNone
}

func applyFinish(t *state.Txn, c *Command) error {
	if c.Finish == nil {
		return fmt.Errorf("finish: empty command")
	}
	snap := t.Snapshot()
	for i := range c.Finish.Reports {
		r := &c.Finish.Reports[i]
		j := snap.Job(nil, r.JobID)
		if j == nil || j.State.Final() || r.Attempt != j.Restarts {
			continue // unknown, over, or a stale report of an earlier run
		}
		k := slices.IndexFunc(j.Allocs, func(a api.Allocation) bool { return a.Node == c.Finish.Node })
		if k < 0 || j.Allocs[k].Done {
			continue // not this node's, or already recorded
		}
		nj := *j
		nj.Allocs = slices.Clone(j.Allocs)
		nj.Allocs[k].Done = true
		nj.Allocs[k].MaxRSS = r.MaxRSS
		end := r.EndTime
		if end.IsZero() || end.After(c.Time) || end.Before(nj.StartTime) {
			end = c.Time
		}
		switch {
		case k == 0:
			// The head node's task is the batch script: it decides the
			// outcome (an OOM elsewhere still shows).
			st, reason := FinalState(j, r)
			if nj.EndState != api.StateOutOfMemory || st == api.StateCancelled || st == api.StateTimeout {
				nj.EndState, nj.EndReason = st, reason
			}
			nj.ExitCode, nj.Signal = r.ExitCode, r.Signal
			nj.EndTime = end
			if !r.StartTime.IsZero() && r.StartTime.After(nj.StartTime) && !r.StartTime.After(end) {
				nj.StartTime = r.StartTime
			}
		case r.OOMKilled && nj.EndState != api.StateCancelled && nj.EndState != api.StateTimeout:
			nj.EndState, nj.EndReason = api.StateOutOfMemory, "OutOfMemory"
		case nj.EndState == "" && nj.State == api.StateRunning:
			// A task on another node ended while the job ran: the job
			// cannot go on without that node.
			st, reason := FinalState(j, r)
			if st == api.StateCompleted {
				st, reason = api.StateFailed, "NodeTaskEnded"
			}
			nj.EndState, nj.EndReason = st, reason+" on "+c.Finish.Node
		}
		if slices.ContainsFunc(nj.Allocs, func(a api.Allocation) bool { return !a.Done }) {
			// Others still run: they are told to stop (COMPLETING).
			nj.State = api.StateCompleting
			nj.Signals = nil
			if err := t.PutJob(&nj); err != nil {
				return err
			}
			continue
		}
		if err := finalize(t, &nj, c, end); err != nil {
			return err
		}
	}
	return nil
}

// finalize ends a job whose every node is done: requeued, or final with
// the recorded outcome, its usage charged and its steps closed.
func finalize(t *state.Txn, nj *api.Job, c *Command, end time.Time) error {
	if err := endSteps(t, nj.ID, c.Time); err != nil {
		return err
	}
	if nj.Requeue {
		return requeue(t, nj, c, end, requeueReason(nj))
	}
	nj.State, nj.Reason = nj.EndState, nj.EndReason
	if nj.State == "" || !nj.State.Final() {
		nj.State, nj.Reason = api.StateFailed, "NodeTaskEnded"
	}
	if nj.EndTime.IsZero() {
		nj.EndTime = end
	}
	nj.EndState, nj.EndReason = "", ""
	nj.Signals = nil
	if err := t.PutJob(nj); err != nil {
		return err
	}
	return charge(t, nj, c)
}

// charge adds a job's usage (billing rate × run time) to its association.
func charge(t *state.Txn, j *api.Job, c *Command) error {
	if j.Billing <= 0 || j.Spec.Account == "" || j.StartTime.IsZero() || !j.EndTime.After(j.StartTime) {
		return nil
	}
	amount := j.Billing * j.EndTime.Sub(j.StartTime).Seconds()
	return t.Charge(api.Assoc{Account: j.Spec.Account, User: j.User}, amount, c.Time, c.HalfLife)
}

// requeue charges a stopped run's usage and puts the job back in the
// queue as a new attempt.
func requeue(t *state.Txn, j *api.Job, c *Command, end time.Time, reason string) error {
	ran := *j
	ran.EndTime = end
	if ran.EndTime.IsZero() || ran.EndTime.After(c.Time) || ran.EndTime.Before(ran.StartTime) {
		ran.EndTime = c.Time
	}
	if err := charge(t, &ran, c); err != nil {
		return err
	}
	nj := *j
	backToQueue(&nj, reason)
	return t.PutJob(&nj)
}

// backToQueue turns a stopped or finished run of j into a new attempt
// waiting in the queue with the reason given.
func backToQueue(nj *api.Job, reason string) {
	nj.State, nj.Reason = api.StatePending, reason
	nj.Allocs, nj.Billing, nj.Signals, nj.MasterPort = nil, 0, nil, 0
	nj.EndState, nj.EndReason = "", ""
	nj.StartTime, nj.EndTime, nj.Deadline = time.Time{}, time.Time{}, time.Time{}
	nj.ExitCode, nj.Signal = 0, 0
	nj.Requeue, nj.Preempted, nj.CancelRequested, nj.KillGrace = false, false, false, 0
	nj.RequeueReason = ""
	nj.Restarts++
}

func applyPreempt(t *state.Txn, c *Command) error {
	if c.Preempt == nil {
		return fmt.Errorf("preempt: empty command")
	}
	snap := t.Snapshot()
	for _, p := range c.Preempt.Jobs {
		j := snap.Job(nil, p.JobID)
		if j == nil || j.State != api.StateRunning {
			continue // ended or already stopping
		}
		if p.For != 0 {
			if w := snap.Job(nil, p.For); w == nil || w.State != api.StatePending {
				continue // the job it was for no longer waits
			}
		}
		nj := *j
		nj.State = api.StateCompleting
		nj.KillGrace = p.GraceSec
		switch p.Mode {
		case api.PreemptRequeue:
			nj.Requeue = true
		case api.PreemptCancel:
			nj.Preempted = true
		default:
			return fmt.Errorf("preempt job %d: unknown mode %q", p.JobID, p.Mode)
		}
		if err := t.PutJob(&nj); err != nil {
			return err
		}
	}
	return nil
}

func applyCancel(t *state.Txn, c *Command) error {
	if c.Cancel == nil {
		return fmt.Errorf("cancel: empty command")
	}
	snap := t.Snapshot()
	for _, id := range c.Cancel.IDs {
		j := snap.Job(nil, id)
		if j == nil || j.State.Final() {
			continue
		}
		nj := *j
		switch j.State {
		case api.StatePending:
			nj.State = api.StateCancelled
			nj.Reason = api.ReasonCancelled
			if c.Cancel.Reason != "" {
				nj.Reason = c.Cancel.Reason
			}
			nj.EndTime = c.Time
		case api.StateRunning, api.StateCompleting:
			nj.State = api.StateCompleting
			nj.CancelRequested = true
			nj.Requeue = false // a user's cancel wins over a requeue in progress
		}
		if err := t.PutJob(&nj); err != nil {
			return err
		}
	}
	return nil
}

func applySignal(t *state.Txn, c *Command) error {
	if c.Signal == nil {
		return fmt.Errorf("signal: empty command")
	}
	snap := t.Snapshot()
	for _, id := range c.Signal.IDs {
		j := snap.Job(nil, id)
		if j == nil || j.State != api.StateRunning {
			continue
		}
		seq, err := t.NextMeta(state.MetaSignalSeq)
		if err != nil {
			return err
		}
		nj := *j
		nj.Signals = append(append([]api.SignalRequest(nil), j.Signals...), api.SignalRequest{Seq: seq, Signal: c.Signal.Signal})
		if err := t.PutJob(&nj); err != nil {
			return err
		}
	}
	return nil
}

func applyAck(t *state.Txn, c *Command) error {
	if c.Ack == nil {
		return fmt.Errorf("ack: empty command")
	}
	j := t.Snapshot().Job(nil, c.Ack.JobID)
	if j == nil || len(j.Signals) == 0 {
		return nil
	}
	nj := *j
	nj.Signals = nil
	for _, s := range j.Signals {
		if s.Seq > c.Ack.Seq {
			nj.Signals = append(nj.Signals, s)
		}
	}
	return t.PutJob(&nj)
}

func applyRegister(t *state.Txn, c *Command) error {
	if c.Register == nil || c.Register.Node.Name == "" {
		return fmt.Errorf("register: empty command")
	}
	n := c.Register.Node
	n.GPUs = append([]api.GPU(nil), n.GPUs...)
	sort.Slice(n.GPUs, func(a, b int) bool { return n.GPUs[a].Index < n.GPUs[b].Index })
	snap := t.Snapshot()
	old := snap.Node(n.Name)
	n.State, n.Reason = api.NodeUp, ""
	if old != nil && (old.State == api.NodeDrain || old.HeldDown) {
		n.State, n.Reason, n.HeldDown = old.State, old.Reason, old.HeldDown
		n.HealthDrain = old.HealthDrain
	}
	if old != nil {
		n.Health = old.Health // until the next health command
	}
	if why := shrunk(&n, snap.Usage()[n.Name]); why != "" && !n.HeldDown {
		n.HealthDrain = false
		// The running jobs go on; nothing new lands on the node until an
		// operator resumes it (Slurm drains a node whose resources shrank).
		n.State, n.Reason = api.NodeDrain, why
	}
	n.RegisterTime = c.Time
	n.LastHeartbeat = c.Time
	return t.PutNode(&n)
}

// shrunk says how a node registering with n's resources has less than
// its live jobs hold (u), or "".
func shrunk(n *api.Node, u api.NodeUsage) string {
	switch {
	case u.CPUs > n.CPUs:
		return fmt.Sprintf("registered with %d CPUs, running jobs hold %d", n.CPUs, u.CPUs)
	case u.MemBytes > n.MemBytes:
		return fmt.Sprintf("registered with %d bytes of memory, running jobs hold %d", n.MemBytes, u.MemBytes)
	}
	for _, g := range u.GPUs {
		if !slices.ContainsFunc(n.GPUs, func(x api.GPU) bool { return x.Index == g }) {
			return fmt.Sprintf("registered without GPU %d, which a running job holds", g)
		}
	}
	return ""
}

func applyNodeDown(t *state.Txn, c *Command) error {
	if c.NodeDown == nil {
		return fmt.Errorf("node down: empty command")
	}
	snap := t.Snapshot()
	old := snap.Node(c.NodeDown.Node)
	if old == nil {
		return nil
	}
	n := *old
	n.State, n.Reason = api.NodeDown, c.NodeDown.Reason
	n.HeldDown = n.HeldDown || c.NodeDown.Held
	if err := t.PutNode(&n); err != nil {
		return err
	}
	for _, j := range snap.JobsBy(nil, state.IndexNode, n.Name) {
		if err := endSteps(t, j.ID, c.Time); err != nil {
			return err
		}
		// A running job goes back to the queue, unless it is being
		// cancelled or opted out (a finished script's outcome stands):
		// a new attempt, so that the failed node's container, if
		// it comes back, is an orphan and killed.
		if j.Requeue || (j.State == api.StateRunning && !j.CancelRequested && !j.Spec.NoRequeue) {
			reason := api.ReasonNodeDown
			if j.Requeue {
				reason = requeueReason(j)
			}
			if err := requeue(t, j, c, c.Time, reason); err != nil {
				return err
			}
			continue
		}
		nj := *j
		nj.State = api.StateNodeFail
		if j.CancelRequested {
			nj.State = api.StateCancelled
		}
		nj.Reason = api.ReasonNodeDown
		nj.EndState, nj.EndReason = "", ""
		nj.EndTime = c.Time
		nj.Signals = nil
		if err := t.PutJob(&nj); err != nil {
			return err
		}
		if err := charge(t, &nj, c); err != nil {
			return err
		}
	}
	return nil
}

func applyNodeState(t *state.Txn, c *Command) error {
	cmd := c.NodeState
	if cmd == nil || (cmd.State != api.NodeDrain && cmd.State != api.NodeUp) {
		return fmt.Errorf("node state: empty command or state other than DRAIN or UP")
	}
	snap := t.Snapshot()
	for _, name := range cmd.Nodes {
		old := snap.Node(name)
		if old == nil {
			continue
		}
		if cmd.Source != "" {
			if n, ok := nodeStateFrom(old, cmd); ok {
				if err := t.PutNode(&n); err != nil {
					return err
				}
			}
			continue
		}
		n := *old
		n.HealthDrain = false
		n.State, n.Reason, n.HeldDown = cmd.State, cmd.Reason, false
		if cmd.State == api.NodeUp {
			n.Reason = ""
		}
		if err := t.PutNode(&n); err != nil {
			return err
		}
	}
	return nil
}

func applyPurge(t *state.Txn, c *Command) (int, error) {
	if c.Purge == nil {
		return 0, fmt.Errorf("purge: empty command")
	}
	n := 0
	for _, j := range t.Snapshot().Jobs() {
		if j.State.Final() && !j.EndTime.IsZero() && j.EndTime.Before(c.Purge.Before) {
			if err := t.DeleteJob(j); err != nil {
				return n, err
			}
			if err := t.DeleteSteps(j.ID); err != nil {
				return n, err
			}
			n++
		}
	}
	return n, nil
}

// snapshotData is the serialised store.
type snapshotData struct {
	Meta  []state.Meta  `json:"meta"`
	Nodes []*api.Node   `json:"nodes"`
	Jobs  []*api.Job    `json:"jobs"`
	Usage []state.Usage `json:"usage"`
	Steps []*api.Step   `json:"steps,omitempty"`
	// Shared lists the array tasks written without their script,
	// environment and arguments, which are their array's first task's
	// (snapcompact.go).
	Shared []idRange `json:"shared,omitempty"`
}

// Snapshot implements raft.FSM; the snapshot is taken from a consistent
// memdb view, so Persist may run concurrently with Apply.
func (f *FSM) Snapshot() (raft.FSMSnapshot, error) {
	s := f.store.Snapshot()
	return &fsmSnapshot{data: snapshotData{Meta: s.AllMeta(), Nodes: s.Nodes(), Jobs: s.Jobs(), Usage: s.AllUsage(), Steps: s.Steps()}}, nil
}

// Restore implements raft.FSM.
func (f *FSM) Restore(rc io.ReadCloser) error {
	defer rc.Close()
	var d snapshotData
	if err := json.NewDecoder(rc).Decode(&d); err != nil {
		return fmt.Errorf("restore snapshot: %w", err)
	}
	for _, j := range d.Jobs {
		if j != nil && j.Spec == nil {
			return fmt.Errorf("restore snapshot: job %d has no spec", j.ID)
		}
	}
	expandArrays(d.Jobs, d.Shared)
	shareSpecs(d.Jobs)
	return f.store.Replace(d.Meta, d.Nodes, d.Jobs, d.Usage, d.Steps)
}

// shareSpecs makes like jobs share one spec again, as they did before
// the snapshot (which writes each job's spec in full): each job whose
// spec equals that of the job before it in ID order (an array's tasks, a
// batch of like jobs), or of its array's first task, takes that spec.
func shareSpecs(jobs []*api.Job) {
	laterTasks(jobs, func(_ int, j *api.Job, f *api.JobSpec) {
		if j.Spec.Equal(f) {
			j.Spec = f
		}
	})
	for i := 1; i < len(jobs); i++ {
		if prev, j := jobs[i-1], jobs[i]; prev != nil && j != nil && j.Spec.Equal(prev.Spec) {
			j.Spec = prev.Spec
		}
	}
}

type fsmSnapshot struct{ data snapshotData }

func (s *fsmSnapshot) Persist(sink raft.SnapshotSink) error {
	d := s.data
	d.Jobs, d.Shared = compactArrays(d.Jobs)
	if err := json.NewEncoder(sink).Encode(&d); err != nil {
		_ = sink.Cancel()
		return fmt.Errorf("persist snapshot: %w", err)
	}
	return sink.Close()
}

func (s *fsmSnapshot) Release() {}
