package server

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/gsched/gsched/pkg/api"
	"github.com/gsched/gsched/pkg/config"
	"github.com/gsched/gsched/pkg/sched"
	"github.com/gsched/gsched/pkg/sched/fairshare"
	"github.com/gsched/gsched/pkg/sched/priority"
	"github.com/gsched/gsched/pkg/state"
	"github.com/gsched/gsched/pkg/topology"
	"github.com/gsched/gsched/pkg/units"
)

// policy is the scheduling policy read from the configuration: partitions,
// QOS, the fair-share tree and the scheduler's knobs.
type policy struct {
	parts    []api.Partition
	qos      []api.QOS
	tree     *fairshare.Tree // nil: no accounts, no fair-share
	algo     string
	billing  fairshare.BillingWeights
	halfLife time.Duration
	sched    sched.Config
	network  *topology.Network // nil: flat
}

func newPolicy(c *config.Config) (*policy, error) {
	p := &policy{algo: c.Priority.FairShare, halfLife: c.Priority.DecayHalfLife.Duration}
	if p.algo == "" {
		p.algo = fairshare.FairTree
	}
	parts, err := partitions(c)
	if err != nil {
		return nil, err
	}
	p.parts = parts
	if len(c.Switches) > 0 {
		if p.network, err = topology.NewNetwork(c.Switches); err != nil {
			return nil, fmt.Errorf("switch: %w", err)
		}
	}
	for _, q := range c.QOS {
		aq := api.QOS{Name: q.Name, Priority: q.Priority, MaxJobsPerUser: q.MaxJobsPerUser,
			MaxSubmitJobsPerUser: q.MaxSubmitJobsPerUser, Preempt: q.Preempt,
			PreemptMode: strings.ToUpper(q.PreemptMode), GraceTime: int64(q.GraceTime.Seconds())}
		if aq.MaxTRESPerUser, err = units.ParseTRES(q.MaxTRESPerUser); err != nil {
			return nil, fmt.Errorf("qos %s max_tres_per_user: %w", q.Name, err)
		}
		if aq.GrpTRES, err = units.ParseTRES(q.GrpTRES); err != nil {
			return nil, fmt.Errorf("qos %s grp_tres: %w", q.Name, err)
		}
		if q.MaxWall != "" {
			if aq.MaxWall, _, err = units.ParseTimeLimit(q.MaxWall); err != nil {
				return nil, fmt.Errorf("qos %s max_wall: %w", q.Name, err)
			}
		}
		p.qos = append(p.qos, aq)
	}
	if len(c.Accounts) > 0 {
		accts := make([]api.Account, len(c.Accounts))
		for i, a := range c.Accounts {
			accts[i] = api.Account{Name: a.Name, Parent: a.Parent, Shares: a.Shares, Users: a.Users, UserShares: a.UserShares}
		}
		if p.tree, err = fairshare.New(accts); err != nil {
			return nil, fmt.Errorf("accounts: %w", err)
		}
	}
	w := c.Priority.BillingWeights
	p.billing = fairshare.BillingWeights{CPU: w["cpu"], MemGB: w["mem_gb"], GPU: w["gpu"]}
	p.sched = sched.Config{
		Backfill: sched.BackfillConfig{Mode: c.Scheduler.Backfill, Window: c.Scheduler.BFWindow.Duration,
			MaxJobTest: c.Scheduler.BFMaxJobTest, Resolution: c.Scheduler.BFResolution.Duration},
		Priority: sched.PriorityConfig{
			WeightAge: c.Priority.WeightAge, WeightFairShare: c.Priority.WeightFairShare,
			WeightJobSize: c.Priority.WeightJobSize, WeightPartition: c.Priority.WeightPartition,
			WeightQOS: c.Priority.WeightQOS, WeightTRES: c.Priority.WeightTRES,
			MaxAge: c.Priority.MaxAge.Duration, FavorSmall: c.Priority.FavorSmall,
		},
	}
	return p, nil
}

func (p *policy) qosNamed(name string) (api.QOS, bool) {
	for _, q := range p.qos {
		if q.Name == name {
			return q, true
		}
	}
	return api.QOS{}, false
}

// checkAccountQOS fills in and checks the job's account, QOS and nice.
// Jobs that could never run under the limits are refused here. Job self
// (0: none) is the queued job being changed, not counted in the limits.
func (p *policy) checkAccountQOS(snap *state.Snapshot, job *api.Job, part *api.Partition, op bool, self api.JobID) error {
	spec := job.Spec // the job's own: checkJob made it
	if p.tree != nil {
		if spec.Account == "" {
			acct, ok := p.tree.DefaultAccount(job.User)
			if !ok {
				return invalid("user %s has no account: an administrator must add them to an [[account]]", job.User)
			}
			spec.Account = acct
		} else if !p.tree.Has(api.Assoc{Account: spec.Account, User: job.User}) {
			return invalid("invalid account or account/user combination: %s is not in account %q", job.User, spec.Account)
		}
	}
	if len(part.AllowAccounts) > 0 && p.tree == nil {
		// Config validation refuses this; without accounts a job's claim
		// to one cannot be checked.
		return invalid("partition %s admits only some accounts, and no accounts are configured", part.Name)
	}
	if len(part.AllowAccounts) > 0 && !slices.Contains(part.AllowAccounts, spec.Account) {
		return invalid("account %q may not use partition %s", spec.Account, part.Name)
	}
	if spec.Nice < 0 && !op {
		return fmt.Errorf("%w: only operators may set a negative nice value", api.ErrPermission)
	}
	if spec.Nice > 10_000_000 || spec.Nice < -10_000_000 {
		return invalid("nice value %d out of range", spec.Nice)
	}
	if spec.QOS == "" {
		spec.QOS = part.DefaultQOS
	}
	if spec.QOS == "" {
		return nil
	}
	q, ok := p.qosNamed(spec.QOS)
	if !ok {
		return invalid("invalid qos specified: %s", spec.QOS)
	}
	if q.MaxWall > 0 && (spec.TimeLimit == 0 || spec.TimeLimit > q.MaxWall) {
		return invalid("time limit %s exceeds QOS %s's MaxWall of %s",
			units.FormatTimeLimit(spec.TimeLimit), q.Name, units.FormatTimeLimit(q.MaxWall))
	}
	need := api.TRES{CPUs: spec.CPUsOnNode(), MemBytes: spec.MemBytes, GPUs: spec.GPUsOnNode(), Nodes: 1}
	if over := exceeds(need, q.MaxTRESPerUser); over != "" {
		return invalid("job can never run: it asks for more %s than QOS %s allows per user (MaxTRESPerUser)", over, q.Name)
	}
	if over := exceeds(need, q.GrpTRES); over != "" {
		return invalid("job can never run: it asks for more %s than QOS %s allows in all (GrpTRES)", over, q.Name)
	}
	if q.MaxSubmitJobsPerUser > 0 {
		n := 0
		for _, j := range snap.JobsBy(nil, state.IndexUser, job.User) {
			if !j.State.Final() && j.Spec.QOS == q.Name && j.ID != self {
				n++
			}
		}
		if n >= q.MaxSubmitJobsPerUser {
			return invalid("QOSMaxSubmitJobPerUserLimit: %s already has %d jobs in QOS %s", job.User, n, q.Name)
		}
	}
	return nil
}

// exceeds names the first resource of t above a non-zero limit.
func exceeds(t, limit api.TRES) string {
	switch {
	case limit.CPUs > 0 && t.CPUs > limit.CPUs:
		return "cpu"
	case limit.MemBytes > 0 && t.MemBytes > limit.MemBytes:
		return "mem"
	case limit.GPUs > 0 && t.GPUs > limit.GPUs:
		return "gpu"
	case limit.Nodes > 0 && t.Nodes > limit.Nodes:
		return "node"
	}
	return ""
}

// billingRate is the usage a job accrues per second of its allocation.
func (p *policy) billingRate(allocs []api.Allocation) float64 {
	j := api.Job{Allocs: allocs}
	return p.billing.Billing(j.AllocTotals())
}

// usageNow is every association's usage decayed to now, plus what running
// jobs have accrued so far (charged for good when they end).
func (p *policy) usageNow(snap *state.Snapshot, running []*api.Job, now time.Time) map[api.Assoc]float64 {
	u := map[api.Assoc]float64{}
	for _, rec := range snap.AllUsage() {
		u[rec.Assoc] += fairshare.Decay(rec.Value, now.Sub(rec.At), p.halfLife)
	}
	for _, j := range running {
		if j.Billing > 0 && j.Spec.Account != "" && now.After(j.StartTime) {
			u[api.Assoc{Account: j.Spec.Account, User: j.User}] += j.Billing * now.Sub(j.StartTime).Seconds()
		}
	}
	return u
}

// fairShare computes each association's factor (nil without accounts).
func (p *policy) fairShare(snap *state.Snapshot, running []*api.Job, now time.Time) (map[api.Assoc]float64, error) {
	if p.tree == nil {
		return nil, nil
	}
	return p.tree.Factors(p.algo, p.usageNow(snap, running, now))
}

// input builds the scheduler's input from a snapshot.
func (p *policy) input(snap *state.Snapshot, now time.Time) (sched.Input, error) {
	usage := snap.Usage()
	in := sched.Input{Now: now, Partitions: p.parts, QOS: p.qos, Config: p.sched, Network: p.network,
		Pending: snap.JobsBy(nil, state.IndexState, string(api.StatePending))}
	for _, st := range []api.JobState{api.StateRunning, api.StateCompleting} {
		in.Running = append(in.Running, snap.JobsBy(nil, state.IndexState, string(st))...)
	}
	for _, n := range snap.Nodes() {
		u := usage[n.Name]
		used := map[int]bool{}
		for _, g := range u.GPUs {
			used[g] = true
		}
		nf := sched.NodeFree{Node: n, CPUs: n.CPUs - u.CPUs, MemBytes: n.MemBytes - u.MemBytes}
		for _, g := range n.GPUs {
			if !used[g.Index] {
				nf.GPUs = append(nf.GPUs, g.Index)
			}
		}
		in.Nodes = append(in.Nodes, nf)
		if n.State == api.NodeUp {
			in.Totals.CPUs += n.CPUs
			in.Totals.MemBytes += n.MemBytes
			in.Totals.GPUs += len(n.GPUs)
			in.Totals.Nodes++
		}
	}
	fs, err := p.fairShare(snap, in.Running, now)
	if err != nil {
		return in, err
	}
	in.FairShare = fs
	return in, nil
}

// priorities computes the factors of every pending job (gqueue --priority).
func (p *policy) priorities(in *sched.Input) []api.PriorityRow {
	w := priority.Weights{Age: p.sched.Priority.WeightAge, FairShare: p.sched.Priority.WeightFairShare,
		JobSize: p.sched.Priority.WeightJobSize, Partition: p.sched.Priority.WeightPartition,
		QOS: p.sched.Priority.WeightQOS, TRES: p.sched.Priority.WeightTRES, MaxAge: p.sched.Priority.MaxAge,
		FavorSmall: p.sched.Priority.FavorSmall}
	ctx := priority.NewContext(in.Now, w, in.FairShare, in.Totals, in.Partitions, in.QOS)
	rows := make([]api.PriorityRow, 0, len(in.Pending))
	for _, j := range in.Pending {
		f := ctx.Compute(j)
		rows = append(rows, api.PriorityRow{JobID: j.ID, User: j.User, Account: j.Spec.Account,
			Partition: j.Spec.Partition, QOS: j.Spec.QOS, Priority: f.Priority, Age: f.Age,
			FairShare: f.FairShare, JobSize: f.JobSize, PartPrio: f.Partition, QOSPrio: f.QOS,
			TRES: f.TRES, Nice: f.Nice})
	}
	sort.Slice(rows, func(a, b int) bool {
		if rows[a].Priority != rows[b].Priority {
			return rows[a].Priority > rows[b].Priority
		}
		return rows[a].JobID < rows[b].JobID
	})
	return rows
}

// shares is the fair-share report.
func (p *policy) shares(snap *state.Snapshot, now time.Time) (*api.ShareList, error) {
	out := &api.ShareList{Algorithm: p.algo, Rows: []api.ShareRow{}}
	if p.tree == nil {
		return out, nil
	}
	var running []*api.Job
	for _, st := range []api.JobState{api.StateRunning, api.StateCompleting} {
		running = append(running, snap.JobsBy(nil, state.IndexState, string(st))...)
	}
	rows, err := p.tree.Report(p.algo, p.usageNow(snap, running, now))
	if err != nil {
		return nil, err
	}
	for _, r := range rows {
		lf := r.LevelFS
		if math.IsInf(lf, 1) {
			lf = -1
		}
		out.Rows = append(out.Rows, api.ShareRow{Account: r.Account, User: r.User, Depth: r.Depth,
			RawShares: r.RawShares, NormShares: r.NormShares, RawUsage: r.RawUsage, NormUsage: r.NormUsage,
			EffectiveUsage: r.EffectiveUsage, LevelFS: lf, FairShare: r.FairShare})
	}
	return out, nil
}
