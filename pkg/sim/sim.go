package sim

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/gsched/gsched/pkg/api"
	"github.com/gsched/gsched/pkg/sched"
	"github.com/gsched/gsched/pkg/sched/fairshare"
)

// Policy names (Options.Policy): the backfill mode of each pass.
const (
	PolicyFIFO         = "fifo"
	PolicyEASY         = "easy"
	PolicyConservative = "conservative"
)

// Policies lists the policy names in the order gsim compares them.
var Policies = []string{PolicyFIFO, PolicyEASY, PolicyConservative}

// FairShareNone (Options.FairShare) turns fair-share off: weight 0, no
// factors. The other values are fairshare.FairTree and fairshare.Classic.
const FairShareNone = "none"

// FairShares lists the fair-share settings in the order gsim compares them.
var FairShares = []string{FairShareNone, fairshare.FairTree, fairshare.Classic}

// Epoch is simulated time zero: a trace's second 0.
var Epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// Options tune a simulation. The zero value is FIFO without fair-share,
// a pass every 60 simulated seconds and on every arrival and end.
type Options struct {
	// Policy is fifo (the default), easy or conservative.
	Policy string
	// FairShare is none (the default), fair_tree or classic.
	FairShare string
	// Config is the scheduler configuration (nil: SchedConfig()). gsim sets
	// its Backfill.Mode from Policy, and Priority.WeightFairShare to 0 when
	// FairShare is none.
	Config *sched.Config
	// Tick is the interval of periodic passes, at multiples of Tick from
	// time zero while jobs wait: 0 means 60 s, negative means none.
	Tick time.Duration
	// NoEventPasses turns off the pass after every arrival and end (events
	// at the same timestamp always share one pass).
	NoEventPasses bool
	// HalfLife is the fair-share usage decay half-life (0: 7 days).
	HalfLife time.Duration
	// Billing is a job's usage rate in billing units per second of its
	// allocation (nil: fairshare.DefaultBillingWeights).
	Billing func(api.TRES) float64
	// Series records the pending-queue length and allocated resources at
	// every step (for plots).
	Series bool
	// Check re-derives every node's free resources from the running jobs
	// after each pass and fails on any difference (slow; for tests).
	Check bool
}

// SchedConfig is gsim's default scheduler configuration: the scheduler's
// default, with priority from age (FIFO order) and fair-share only.
func SchedConfig() sched.Config {
	c := sched.DefaultConfig()
	c.Priority = sched.PriorityConfig{WeightAge: 1000, WeightFairShare: 10000, MaxAge: 7 * 24 * time.Hour}
	return c
}

// BackfillMode maps a policy name to sched's backfill mode.
func BackfillMode(policy string) (string, error) {
	switch policy {
	case "", PolicyFIFO:
		return sched.BackfillNone, nil
	case PolicyEASY:
		return sched.BackfillEASY, nil
	case PolicyConservative:
		return sched.BackfillConservative, nil
	}
	return "", fmt.Errorf("unknown policy %q (want %s)", policy, strings.Join(Policies, ", "))
}

// CheckFairShare validates a fair-share setting.
func CheckFairShare(fs string) error {
	if fs == "" || slices.Contains(FairShares, fs) {
		return nil
	}
	return fmt.Errorf("unknown fair-share setting %q (want %s)", fs, strings.Join(FairShares, ", "))
}

// simJob is a job and its simulated life.
type simJob struct {
	job   api.Job
	trace *TraceJob
	run   int64 // seconds it will run: min(trace run, requested time)
	start int64
	end   int64
	ri    int   // index in Sim.running while running
	nodes []int // indices in Sim.nodes while running, one per allocation
}

// Sim is one simulation: a cluster, the jobs to replay and the options.
// Build it with New, then call Run once.
type Sim struct {
	opts    Options
	cfg     sched.Config
	cluster *Cluster
	totals  api.TRES
	jobs    []*simJob // by submit time; job i has ID i+1
	skipped []Skip

	nodes   []sched.NodeFree // what is free on each node, in Cluster.Nodes order
	nodeIdx map[string]int
	pending []*api.Job // arrival order
	running []*api.Job
	ends    endHeap
	tick    int64

	// Fair-share.
	tree     *fairshare.Tree
	billing  func(api.TRES) float64
	halfLife time.Duration
	usage    map[api.Assoc]float64 // charged usage, decayed to usageAt
	usageAt  int64

	allocGPUs, allocCPUs int

	passes    int
	schedSum  time.Duration
	schedMax  time.Duration
	series    []Sample
	lastStart int64
}

// Sample is the cluster's state from time T until the next sample.
type Sample struct {
	T       int64 // seconds
	Pending int
	GPUs    int // allocated GPUs
	CPUs    int // allocated CPUs
}

// New prepares a simulation of jobs (as Normalize returns them) on c. Jobs
// that could never start (no node of their partition is big enough, an
// unknown partition, a time beyond the partition's limit) are left out and
// reported in the Result's Skipped. Users not listed in any account of c
// get an account of their own (named after the user, 1 share, under root).
func New(c *Cluster, jobs []TraceJob, o Options) (*Sim, error) {
	mode, err := BackfillMode(o.Policy)
	if err != nil {
		return nil, err
	}
	if err := CheckFairShare(o.FairShare); err != nil {
		return nil, err
	}
	if o.Policy == "" {
		o.Policy = PolicyFIFO
	}
	if o.FairShare == "" {
		o.FairShare = FairShareNone
	}
	s := &Sim{opts: o, cluster: c, totals: c.Totals(), nodeIdx: map[string]int{}, usage: map[api.Assoc]float64{}}
	if o.Config != nil {
		s.cfg = *o.Config
	} else {
		s.cfg = SchedConfig()
	}
	s.cfg.Backfill.Mode = mode
	if o.FairShare == FairShareNone {
		s.cfg.Priority.WeightFairShare = 0
	}
	switch {
	case o.Tick == 0:
		s.tick = 60
	case o.Tick > 0:
		s.tick = max(1, int64(o.Tick/time.Second))
	}
	if s.tick == 0 && o.NoEventPasses {
		return nil, errors.New("no scheduling passes: a negative tick needs passes on events")
	}
	s.halfLife = o.HalfLife
	if s.halfLife == 0 {
		s.halfLife = 7 * 24 * time.Hour
	}
	s.billing = o.Billing
	if s.billing == nil {
		s.billing = fairshare.DefaultBillingWeights().Billing
	}

	for i := range c.Nodes {
		n := &c.Nodes[i]
		nf := sched.NodeFree{Node: n, CPUs: n.CPUs, MemBytes: n.MemBytes}
		for _, g := range n.GPUs {
			nf.GPUs = append(nf.GPUs, g.Index)
		}
		sort.Ints(nf.GPUs)
		s.nodeIdx[n.Name] = i
		s.nodes = append(s.nodes, nf)
	}

	parts := map[string]*api.Partition{}
	for i := range c.Partitions {
		parts[c.Partitions[i].Name] = &c.Partitions[i]
	}
	defPart := c.DefaultPartition()
	fits := map[[4]int64]bool{}
	accounts, userAcct := accountsFor(c.Accounts, jobs)
	for i := range jobs {
		tj := &jobs[i]
		p := parts[defPart]
		if tj.Partition != "" {
			p = parts[tj.Partition]
		}
		reason := ""
		switch {
		case p == nil:
			reason = fmt.Sprintf("unknown partition %q", tj.Partition)
		case p.MaxTime > 0 && tj.ReqTime > p.MaxTime:
			reason = fmt.Sprintf("requested time %d s exceeds partition %s's limit %d s", tj.ReqTime, p.Name, p.MaxTime)
		}
		j := api.Job{
			ID: api.JobID(len(s.jobs) + 1), User: tj.User, State: api.StatePending,
			SubmitTime: Epoch.Add(time.Duration(tj.Submit) * time.Second),
			Spec: &api.JobSpec{Name: tj.ID, Nodes: 1, NTasks: 1, CPUsPerTask: tj.CPUs, MemBytes: tj.MemBytes,
				GPUs: tj.GPUs, TimeLimit: tj.ReqTime},
		}
		if reason == "" {
			j.Spec.Partition = p.Name
			key := [4]int64{int64(partIndex(c.Partitions, p.Name)), int64(tj.CPUs), tj.MemBytes, int64(tj.GPUs)}
			ok, seen := fits[key]
			if !seen {
				ok = s.fitsSomewhere(&j, p)
				fits[key] = ok
			}
			if !ok {
				reason = fmt.Sprintf("no node of partition %s has %d CPUs, %d MiB and %d GPUs", p.Name, tj.CPUs, tj.MemBytes>>20, tj.GPUs)
			}
		}
		if reason != "" {
			s.skipped = append(s.skipped, Skip{ID: tj.ID, Reason: reason})
			continue
		}
		j.Spec.Account = tj.Account
		if j.Spec.Account == "" {
			j.Spec.Account = userAcct[tj.User]
		}
		s.jobs = append(s.jobs, &simJob{job: j, trace: tj, run: min(tj.Run, tj.ReqTime), start: -1, end: -1, ri: -1})
	}
	if o.FairShare != FairShareNone {
		if s.tree, err = fairshare.New(accounts); err != nil {
			return nil, fmt.Errorf("fair-share accounts: %w", err)
		}
	}
	return s, nil
}

func partIndex(ps []api.Partition, name string) int {
	for i := range ps {
		if ps[i].Name == name {
			return i
		}
	}
	return -1
}

func (s *Sim) fitsSomewhere(j *api.Job, p *api.Partition) bool {
	for i := range s.cluster.Nodes {
		n := &s.cluster.Nodes[i]
		if n.State == api.NodeUp && sched.InPartition(n, p) && sched.Fits(j, n) {
			return true
		}
	}
	return false
}

// accountsFor returns the account tree with every trace association in it,
// and each user's default account. A user listed in the cluster's accounts
// gets the first one listing it; other users get an account of their own.
// An account named in the trace but missing from the cluster is added under
// root.
func accountsFor(base []api.Account, jobs []TraceJob) ([]api.Account, map[string]string) {
	accts := make([]api.Account, len(base))
	idx := map[string]int{}
	userAcct := map[string]string{}
	for i, a := range base {
		a.Users = slices.Clone(a.Users)
		accts[i] = a
		idx[a.Name] = i
		for _, u := range a.Users {
			if _, ok := userAcct[u]; !ok {
				userAcct[u] = a.Name
			}
		}
	}
	has := func(acct, user string) bool { return slices.Contains(accts[idx[acct]].Users, user) }
	add := func(acct, user string) {
		i, ok := idx[acct]
		if !ok {
			i = len(accts)
			idx[acct] = i
			accts = append(accts, api.Account{Name: acct, Shares: 1})
		}
		if !has(acct, user) {
			accts[i].Users = append(accts[i].Users, user)
		}
	}
	for i := range jobs {
		j := &jobs[i]
		switch {
		case j.Account != "":
			add(j.Account, j.User)
		default:
			if _, ok := userAcct[j.User]; ok {
				continue
			}
			name := j.User
			for _, taken := idx[name]; taken; _, taken = idx[name] {
				name += "_acct"
			}
			add(name, j.User)
			userAcct[j.User] = name
		}
	}
	return accts, userAcct
}

// Run replays the trace and returns the outcome. It fails if the scheduler
// makes a placement that does not fit (oversubscription) or leaves jobs
// waiting for ever.
func (s *Sim) Run() (*Result, error) {
	ai := 0 // next arrival
	now := int64(-1)
	nextTick := int64(0)
	for {
		t := int64(-1)
		pick := func(x int64) {
			if t < 0 || x < t {
				t = x
			}
		}
		if ai < len(s.jobs) {
			pick(s.jobs[ai].trace.Submit)
		}
		if len(s.ends) > 0 {
			pick(s.ends[0].end)
		}
		if s.tick > 0 && len(s.pending) > 0 {
			if nextTick <= now {
				nextTick = (now/s.tick + 1) * s.tick
			}
			pick(nextTick)
		}
		if t < 0 {
			break
		}
		now = t
		event := false
		for len(s.ends) > 0 && s.ends[0].end == now {
			s.finish(s.jobs[s.ends.pop().id-1], now)
			event = true
		}
		for ai < len(s.jobs) && s.jobs[ai].trace.Submit == now {
			s.pending = append(s.pending, &s.jobs[ai].job)
			ai++
			event = true
		}
		isTick := s.tick > 0 && now >= nextTick && len(s.pending) > 0
		if s.tick > 0 && now >= nextTick {
			nextTick = (now/s.tick + 1) * s.tick
		}
		if len(s.pending) > 0 && ((event && !s.opts.NoEventPasses) || isTick) {
			started, reasons, err := s.pass(now)
			if err != nil {
				return nil, err
			}
			if started == 0 && len(s.running) == 0 && ai == len(s.jobs) && len(s.pending) > 0 {
				j := s.pending[0]
				return nil, fmt.Errorf("%d job(s) can never start: job %s waits with reason %s on an idle cluster",
					len(s.pending), j.Spec.Name, reasons[j.ID])
			}
		}
		s.sample(now)
	}
	return s.result(), nil
}

// pass runs one scheduling pass at now and starts what it places.
func (s *Sim) pass(now int64) (int, map[api.JobID]string, error) {
	at := Epoch.Add(time.Duration(now) * time.Second)
	in := sched.Input{
		Now: at, Nodes: s.nodes, Pending: s.pending, Running: s.running,
		Partitions: s.cluster.Partitions, Totals: s.totals, Config: s.cfg,
	}
	if s.tree != nil {
		fs, err := s.tree.Factors(s.opts.FairShare, s.usageNow(now))
		if err != nil {
			return 0, nil, fmt.Errorf("fair-share at %d s: %w", now, err)
		}
		in.FairShare = fs
	}
	wall := time.Now() // the one place gsim reads the real clock
	plan := sched.Schedule(in)
	d := time.Since(wall)
	s.passes++
	s.schedSum += d
	s.schedMax = max(s.schedMax, d)

	for i := range plan.Placements {
		if err := s.start(&plan.Placements[i], now); err != nil {
			return 0, nil, fmt.Errorf("pass at %d s: %w", now, err)
		}
	}
	if len(plan.Placements) > 0 {
		s.pending = slices.DeleteFunc(s.pending, func(j *api.Job) bool { return j.State != api.StatePending })
	}
	if s.opts.Check {
		if err := s.check(); err != nil {
			return 0, nil, fmt.Errorf("after the pass at %d s: %w", now, err)
		}
	}
	return len(plan.Placements), plan.Reasons, nil
}

// start applies one placement, refusing any that oversubscribes its node.
func (s *Sim) start(p *sched.Placement, now int64) error {
	if p.JobID < 1 || int(p.JobID) > len(s.jobs) {
		return fmt.Errorf("placement of unknown job %d", p.JobID)
	}
	sj := s.jobs[p.JobID-1]
	j := &sj.job
	if j.State != api.StatePending || sj.trace.Submit > now {
		return fmt.Errorf("placement of job %s, which is not waiting", j.Spec.Name)
	}
	if len(p.Allocs) != j.Spec.NodeCount() {
		return fmt.Errorf("job %s placed on %d nodes, asked for %d", j.Spec.Name, len(p.Allocs), j.Spec.NodeCount())
	}
	sj.nodes = sj.nodes[:0]
	var tres api.TRES
	for i := range p.Allocs {
		a := &p.Allocs[i]
		ni, ok := s.nodeIdx[a.Node]
		if !ok {
			return fmt.Errorf("job %s placed on unknown node %q", j.Spec.Name, a.Node)
		}
		if slices.Contains(sj.nodes, ni) {
			return fmt.Errorf("job %s placed twice on %s", j.Spec.Name, a.Node)
		}
		nf := &s.nodes[ni]
		switch {
		case a.CPUs < j.Spec.CPUsOnNode() || a.MemBytes < j.Spec.MemBytes || len(a.GPUs) < j.Spec.GPUsOnNode():
			return fmt.Errorf("job %s got less than it asked for on %s", j.Spec.Name, a.Node)
		case a.CPUs > nf.CPUs || a.MemBytes > nf.MemBytes:
			return fmt.Errorf("job %s oversubscribes %s: %d CPUs and %d bytes asked, %d and %d free",
				j.Spec.Name, a.Node, a.CPUs, a.MemBytes, nf.CPUs, nf.MemBytes)
		}
		free := slices.Clone(nf.GPUs)
		for _, g := range a.GPUs {
			k, found := slices.BinarySearch(free, g)
			if !found {
				return fmt.Errorf("job %s oversubscribes %s: GPU %d is not free", j.Spec.Name, a.Node, g)
			}
			free = slices.Delete(free, k, k+1)
		}
		nf.GPUs = free
		nf.CPUs -= a.CPUs
		nf.MemBytes -= a.MemBytes
		s.allocCPUs += a.CPUs
		s.allocGPUs += len(a.GPUs)
		tres.CPUs += a.CPUs
		tres.MemBytes += a.MemBytes
		tres.GPUs += len(a.GPUs)
		tres.Nodes++
		sj.nodes = append(sj.nodes, ni)
	}

	at := Epoch.Add(time.Duration(now) * time.Second)
	j.State = api.StateRunning
	j.Allocs = make([]api.Allocation, len(p.Allocs))
	for i, a := range p.Allocs {
		a.GPUs = slices.Clone(a.GPUs)
		j.Allocs[i] = a
	}
	j.StartTime = at
	j.Deadline = at.Add(time.Duration(j.Spec.TimeLimit) * time.Second)
	j.Billing = s.billing(tres)
	sj.start, sj.end = now, now+sj.run
	sj.ri = len(s.running)
	s.running = append(s.running, j)
	s.ends.push(endEvent{end: sj.end, id: uint64(j.ID)})
	s.lastStart = now
	return nil
}

// finish ends a running job at now and charges its usage.
func (s *Sim) finish(sj *simJob, now int64) {
	j := &sj.job
	for k := range j.Allocs {
		a := &j.Allocs[k]
		nf := &s.nodes[sj.nodes[k]]
		nf.CPUs += a.CPUs
		nf.MemBytes += a.MemBytes
		nf.GPUs = slices.Clone(nf.GPUs)
		nf.GPUs = append(nf.GPUs, a.GPUs...)
		sort.Ints(nf.GPUs)
		s.allocCPUs -= a.CPUs
		s.allocGPUs -= len(a.GPUs)
	}

	last := len(s.running) - 1
	moved := s.running[last]
	s.running[sj.ri] = moved
	s.jobs[moved.ID-1].ri = sj.ri
	s.running[last] = nil
	s.running = s.running[:last]
	sj.ri = -1

	j.EndTime = Epoch.Add(time.Duration(now) * time.Second)
	j.State = api.StateCompleted
	if sj.trace.Run > sj.trace.ReqTime {
		j.State = api.StateTimeout
	}
	if s.tree != nil {
		s.decayTo(now)
		s.usage[api.Assoc{Account: j.Spec.Account, User: j.User}] += j.Billing * float64(now-sj.start)
	}
}

// decayTo decays the charged usage to now.
func (s *Sim) decayTo(now int64) {
	if now <= s.usageAt {
		return
	}
	d := time.Duration(now-s.usageAt) * time.Second
	for k, v := range s.usage {
		s.usage[k] = fairshare.Decay(v, d, s.halfLife)
	}
	s.usageAt = now
}

// usageNow is the charged usage decayed to now plus what running jobs have
// accrued so far (charged for good when they end), as the controller does.
func (s *Sim) usageNow(now int64) map[api.Assoc]float64 {
	s.decayTo(now)
	u := maps.Clone(s.usage)
	for _, j := range s.running {
		sj := s.jobs[j.ID-1]
		if now > sj.start {
			u[api.Assoc{Account: j.Spec.Account, User: j.User}] += j.Billing * float64(now-sj.start)
		}
	}
	return u
}

func (s *Sim) sample(now int64) {
	if !s.opts.Series {
		return
	}
	smp := Sample{T: now, Pending: len(s.pending), GPUs: s.allocGPUs, CPUs: s.allocCPUs}
	if n := len(s.series); n > 0 {
		last := &s.series[n-1]
		if last.T == now {
			*last = smp
			return
		}
		if last.Pending == smp.Pending && last.GPUs == smp.GPUs && last.CPUs == smp.CPUs {
			return
		}
	}
	s.series = append(s.series, smp)
}

// check re-derives each node's free resources from the running jobs.
func (s *Sim) check() error {
	type use struct {
		cpus int
		mem  int64
		gpus map[int]api.JobID
	}
	used := make([]use, len(s.nodes))
	for _, j := range s.running {
		for k := range j.Allocs {
			a := &j.Allocs[k]
			ni := s.nodeIdx[a.Node]
			u := &used[ni]
			u.cpus += a.CPUs
			u.mem += a.MemBytes
			if u.gpus == nil {
				u.gpus = map[int]api.JobID{}
			}
			for _, g := range a.GPUs {
				if other, dup := u.gpus[g]; dup {
					return fmt.Errorf("GPU %d of %s held by jobs %d and %d", g, a.Node, other, j.ID)
				}
				u.gpus[g] = j.ID
			}
		}
	}
	for i, nf := range s.nodes {
		n := nf.Node
		u := used[i]
		if u.cpus > n.CPUs || u.mem > n.MemBytes || len(u.gpus) > len(n.GPUs) {
			return fmt.Errorf("node %s oversubscribed: %d/%d CPUs, %d/%d bytes, %d/%d GPUs",
				n.Name, u.cpus, n.CPUs, u.mem, n.MemBytes, len(u.gpus), len(n.GPUs))
		}
		if nf.CPUs != n.CPUs-u.cpus || nf.MemBytes != n.MemBytes-u.mem || len(nf.GPUs) != len(n.GPUs)-len(u.gpus) {
			return fmt.Errorf("node %s: free resources out of step with the running jobs", n.Name)
		}
		for _, g := range nf.GPUs {
			if _, held := u.gpus[g]; held {
				return fmt.Errorf("node %s: GPU %d both free and held", n.Name, g)
			}
		}
	}
	return nil
}

// endEvent is a running job's end.
type endEvent struct {
	end int64
	id  uint64
}

// endHeap is a min-heap of ends by (time, job ID).
type endHeap []endEvent

func (h endHeap) less(a, b int) bool {
	if h[a].end != h[b].end {
		return h[a].end < h[b].end
	}
	return h[a].id < h[b].id
}

func (h *endHeap) push(e endEvent) {
	*h = append(*h, e)
	x := *h
	for i := len(x) - 1; i > 0; {
		p := (i - 1) / 2
		if !x.less(i, p) {
			break
		}
		x[i], x[p] = x[p], x[i]
		i = p
	}
}

func (h *endHeap) pop() endEvent {
	x := *h
	top := x[0]
	n := len(x) - 1
	x[0] = x[n]
	x = x[:n]
	for i := 0; ; {
		l, r, m := 2*i+1, 2*i+2, i
		if l < n && x.less(l, m) {
			m = l
		}
		if r < n && x.less(r, m) {
			m = r
		}
		if m == i {
			break
		}
		x[i], x[m] = x[m], x[i]
		i = m
	}
	*h = x
	return top
}
