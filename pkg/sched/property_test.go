package sched_test

import (
	"fmt"
	"maps"
	"math/rand"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/gsched/gsched/pkg/api"
	"github.com/gsched/gsched/pkg/sched"
)

// randomCluster builds a random, consistent cluster: nodes whose free
// resources are their totals minus running jobs with various deadlines
// (none, passed, within hours), a queue of pending jobs of random shapes,
// limits, partitions and QOS, and a random scheduler configuration.
func randomCluster(r *rand.Rand) sched.Input {
	in := sched.Input{Now: t0.Add(time.Duration(r.Intn(3600)) * time.Second)}
	// Requirements (GPU models, node features) draw from their own
	// source, so that they barely change the rest of the cluster.
	x := rand.New(rand.NewSource(r.Int63()))
	in.Partitions = []api.Partition{
		{Name: "a", State: "UP", PriorityTier: r.Intn(2)},
		{Name: "b", State: "UP", PriorityTier: r.Intn(3), PriorityJobFactor: r.Intn(3)},
		{Name: "c", State: "UP", Nodes: []string{"n00", "n03", "n04"}},
		{Name: "d", State: []string{"UP", "DOWN"}[r.Intn(2)]},
	}
	in.QOS = []api.QOS{
		{Name: "lim", Priority: 5, MaxJobsPerUser: 1 + r.Intn(3), MaxTRESPerUser: api.TRES{CPUs: 8 + r.Intn(16), GPUs: 1 + r.Intn(4)}},
		{Name: "grp", Priority: 1, GrpTRES: api.TRES{CPUs: 10 + r.Intn(30), GPUs: 2 + r.Intn(8), MemBytes: int64(20+r.Intn(60)) * gib}},
		{Name: "plain", Priority: 10},
	}
	// Preemption, two times in three: plain may preempt grp and lim (and
	// lists itself, which must not count), lim may preempt grp; modes in
	// any case, or none.
	if r.Intn(3) > 0 {
		modes := []string{"", api.PreemptOff, "cancel", api.PreemptCancel, "Requeue", api.PreemptRequeue}
		in.QOS[2].Preempt = []string{"grp", "lim", "plain"}
		if r.Intn(2) == 0 {
			in.QOS[0].Preempt = []string{"grp"}
		}
		for i := range in.QOS {
			in.QOS[i].PreemptMode, in.QOS[i].GraceTime = modes[r.Intn(len(modes))], int64(r.Intn(3)*30)
		}
	}
	users := []string{"ann", "bob", "cy"}
	qosNames := []string{"", "lim", "grp", "plain", "unknown"}
	// Deadlines on whole minutes now and then, so that events coincide.
	deadline := func() time.Time {
		switch r.Intn(10) {
		case 0:
			return time.Time{}
		case 1:
			return in.Now.Add(-time.Duration(r.Intn(600)) * time.Second)
		case 2, 3:
			return t0.Add(time.Duration(1+r.Intn(240)) * time.Minute)
		}
		return in.Now.Add(time.Duration(1+r.Intn(4*3600)) * time.Second)
	}
	var id api.JobID
	states := []api.NodeState{api.NodeUp, api.NodeUp, api.NodeUp, api.NodeUp, api.NodeDown, api.NodeDrain}
	for i, nn := 0, 1+r.Intn(6); i < nn; i++ {
		n := &api.Node{Name: fmt.Sprintf("n%02d", i), CPUs: 4 + r.Intn(29), MemBytes: int64(8+r.Intn(57)) * gib,
			State: states[r.Intn(len(states))]}
		total := []int{0, 0, 2, 4, 8}[r.Intn(5)]
		// GPU models: none, all A10, all H100, or mixed (A10 first).
		kind := x.Intn(4)
		for g := 0; g < total; g++ {
			gpu := api.GPU{Index: g, Minor: g}
			switch {
			case kind == 1 || kind == 3 && g < total/2:
				gpu.Model, gpu.MemBytes = "NVIDIA A10", 24*gib
			case kind >= 2:
				gpu.Model, gpu.MemBytes = "NVIDIA H100 80GB HBM3", 80*gib
			}
			n.GPUs = append(n.GPUs, gpu)
		}
		n.Features = [][]string{nil, nil, {"ib"}, {"nvme"}, {"ib", "nvme"}}[x.Intn(5)]
		if r.Intn(3) == 0 {
			n.Partitions = []string{[]string{"a", "b", "d"}[r.Intn(3)]}
		}
		nf := sched.NodeFree{Node: n, CPUs: n.CPUs, MemBytes: n.MemBytes}
		freeGPUs := r.Perm(total) // in no order
		for k := r.Intn(4); k > 0 && nf.CPUs > 0; k-- {
			id++
			g := r.Intn(len(freeGPUs) + 1)
			j := &api.Job{ID: id, State: api.StateRunning, User: users[r.Intn(3)], Deadline: deadline(),
				Priority: int64(r.Intn(3)), StartTime: in.Now.Add(-time.Duration(r.Intn(4)) * time.Hour),
				Spec: &api.JobSpec{QOS: qosNames[r.Intn(len(qosNames))], Nodes: 1, NTasks: 1, CPUsPerTask: 1 + r.Intn(nf.CPUs)}}
			switch r.Intn(10) { // being stopped
			case 0:
				j.State = api.StateCompleting
			case 1:
				j.CancelRequested = true
			}
			j.Allocs = []api.Allocation{{Node: n.Name, CPUs: j.Spec.CPUsPerTask, MemBytes: r.Int63n(nf.MemBytes/2 + 1),
				GPUs: slices.Clone(freeGPUs[:g])}}
			freeGPUs = freeGPUs[g:]
			nf.CPUs -= j.Allocs[0].CPUs
			nf.MemBytes -= j.Allocs[0].MemBytes
			in.Running = append(in.Running, j)
		}
		nf.GPUs = freeGPUs
		in.Nodes = append(in.Nodes, nf)
	}
	jobStates := []api.JobState{api.StatePending, api.StatePending, api.StatePending, api.StatePending, api.StatePending, api.StateRunning}
	for i, nj := 0, r.Intn(30); i < nj; i++ {
		id++
		j := &api.Job{ID: id, State: jobStates[r.Intn(len(jobStates))], User: users[r.Intn(3)],
			Priority: int64(r.Intn(4)), SubmitTime: t0.Add(-time.Duration(r.Intn(5)) * time.Hour),
			Spec: &api.JobSpec{
				Partition:   []string{"a", "a", "b", "c", "d", "missing"}[r.Intn(6)],
				Nodes:       1,
				NTasks:      1 + r.Intn(2),
				CPUsPerTask: 1 + r.Intn(8),
				MemBytes:    int64(1+r.Intn(16)) * gib / 2,
				GPUs:        []int{0, 0, 1, 2, 4}[r.Intn(5)],
				TimeLimit:   int64([]time.Duration{0, 15 * m, 30 * m, time.Hour, 2 * time.Hour, 4 * time.Hour}[r.Intn(6)] / time.Second),
				Hold:        r.Intn(12) == 0,
				QOS:         qosNames[r.Intn(len(qosNames))],
				Account:     "acct",
			}}
		if r.Intn(4) == 0 { // identical shapes, to exercise the shape caches
			j.Spec.NTasks, j.Spec.CPUsPerTask, j.Spec.MemBytes, j.Spec.GPUs, j.Spec.TimeLimit = 1, 2, gib, 1, 3600
		}
		if x.Intn(3) == 0 { // requirements: GPU model, GPU memory, features
			j.Spec.GPUType = []string{"", "h100", "h100", "A10", "h200"}[x.Intn(5)]
			j.Spec.GPUMemMin = []int64{0, 0, 0, 40 * gib}[x.Intn(4)]
			j.Spec.Constraint = []string{"", "", "", "ib", "ib&nvme", "nvme,ib", "gpu-x"}[x.Intn(7)]
			if j.Spec.GPUs == 0 && x.Intn(2) == 0 {
				j.Spec.GPUs = 1 + x.Intn(2)
			}
		}
		in.Pending = append(in.Pending, j)
	}
	in.Config.Backfill = sched.BackfillConfig{
		Mode:       []string{"", sched.BackfillNone, sched.BackfillEASY, sched.BackfillEASY, sched.BackfillConservative, sched.BackfillConservative}[r.Intn(6)],
		Window:     []time.Duration{0, 0, 30 * m, 2 * time.Hour}[r.Intn(4)],
		Resolution: []time.Duration{0, 0, time.Minute, 10 * time.Minute}[r.Intn(4)],
		MaxJobTest: []int{0, 0, 3, 10}[r.Intn(4)],
	}
	if r.Intn(3) == 0 {
		in.Config.Priority = sched.DefaultConfig().Priority
		in.FairShare = map[api.Assoc]float64{{Account: "acct", User: "ann"}: 0.1, {Account: "acct", User: "bob"}: 0.9}
	}
	return in
}

// deepClone copies everything Schedule reads, every allocation of
// multi-node jobs included (the network is immutable).
func deepClone(in sched.Input) sched.Input {
	out := in
	out.Nodes = nil
	for _, n := range in.Nodes {
		nn := *n.Node
		nn.GPUs, nn.Partitions = slices.Clone(n.Node.GPUs), slices.Clone(n.Node.Partitions)
		nn.Features = slices.Clone(n.Node.Features)
		n.Node, n.GPUs = &nn, slices.Clone(n.GPUs)
		out.Nodes = append(out.Nodes, n)
	}
	cloneJobs := func(js []*api.Job) []*api.Job {
		var out []*api.Job
		for _, j := range js {
			jj := *j
			jj.Allocs = nil
			for _, a := range j.Allocs {
				a.GPUs = slices.Clone(a.GPUs)
				jj.Allocs = append(jj.Allocs, a)
			}
			out = append(out, &jj)
		}
		return out
	}
	out.Pending, out.Running = cloneJobs(in.Pending), cloneJobs(in.Running)
	out.Partitions = nil
	for _, p := range in.Partitions {
		p.Nodes = slices.Clone(p.Nodes)
		out.Partitions = append(out.Partitions, p)
	}
	out.QOS = slices.Clone(in.QOS)
	out.FairShare = maps.Clone(in.FairShare)
	out.Config.Priority.WeightTRES = maps.Clone(in.Config.Priority.WeightTRES)
	return out
}

func shuffled(r *rand.Rand, in sched.Input) sched.Input {
	out := deepClone(in)
	for _, s := range []interface{ swap(i, j int) }{
		swapper[sched.NodeFree](out.Nodes), swapper[*api.Job](out.Pending), swapper[*api.Job](out.Running),
		swapper[api.Partition](out.Partitions), swapper[api.QOS](out.QOS),
	} {
		n := reflect.ValueOf(s).Len()
		r.Shuffle(n, s.swap)
	}
	return out
}

type swapper[T any] []T

func (s swapper[T]) swap(i, j int) { s[i], s[j] = s[j], s[i] }

// TestBackfillProperties runs every mode on many random clusters: plans
// (preemptions included) satisfy the invariants (checkInvariants and
// checkPreemptions), equal the reference model's, and do not depend on
// input order or change the input.
func TestBackfillProperties(t *testing.T) {
	r := rand.New(rand.NewSource(20250611))
	seen := map[string]int{}
	iterations := 3000
	if testing.Short() {
		iterations = 500
	}
	for i := 0; i < iterations; i++ {
		in := randomCluster(r)
		before := deepClone(in)
		plan := sched.Schedule(in)
		if !reflect.DeepEqual(in, before) {
			t.Fatalf("iteration %d: Schedule modified its input", i)
		}
		checkInvariants(t, in, plan)
		want := modelSchedule(in)
		if !reflect.DeepEqual(plan, want) {
			t.Fatalf("iteration %d (mode %q): plan differs from the model:\n got %+v\nwant %+v", i, in.Config.Backfill.Mode, plan, want)
		}
		if again := sched.Schedule(deepClone(in)); !reflect.DeepEqual(plan, again) {
			t.Fatalf("iteration %d: not deterministic", i)
		}
		if got := sched.Schedule(shuffled(r, in)); !reflect.DeepEqual(plan, got) {
			t.Fatalf("iteration %d: plan depends on input order:\n got %+v\nwant %+v", i, got, plan)
		}
		mode := in.Config.Backfill.Mode
		seen[mode+"/placed"] += len(plan.Placements)
		seen[mode+"/backfilled"] += plan.Stats.Backfilled
		seen[mode+"/reserved"] += plan.Stats.Reserved
		seen["preempted"] += plan.Stats.Preempted
		for _, pr := range plan.Preemptions {
			seen["preempt/"+pr.Mode]++
		}
		for _, reason := range plan.Reasons {
			seen[reason]++
		}
		for _, j := range in.Pending {
			if j.State == api.StatePending && j.Spec.Hold {
				seen["held"]++
			}
		}
		withReq := map[api.JobID]*api.Job{}
		for _, j := range in.Pending {
			if hasReq(j) {
				withReq[j.ID] = j
			}
		}
		for _, pl := range plan.Placements {
			if j := withReq[pl.JobID]; j != nil {
				seen["req/placed"]++
				if gpuReq(j) {
					seen["req/gpu placed"]++
				}
			}
		}
		for _, rv := range plan.Reservations {
			if withReq[rv.JobID] != nil {
				seen["req/reserved"]++
			}
		}
		for id, reason := range plan.Reasons {
			if withReq[id] != nil && reason == api.ReasonNodeNotAvail {
				seen["req/"+reason]++
			}
		}
	}
	for _, outcome := range []string{
		"/placed", "none/placed", "easy/placed", "easy/backfilled", "easy/reserved", "conservative/placed",
		"conservative/backfilled", "conservative/reserved",
		"req/placed", "req/gpu placed", "req/reserved", "req/" + api.ReasonNodeNotAvail,
		api.ReasonResources, api.ReasonPriority, "held", api.ReasonPartitionDown, api.ReasonNodeNotAvail,
		api.ReasonQOSMaxJobsPerUser, api.ReasonQOSMaxTRESPerUser, api.ReasonQOSMaxGRESPerUser, api.ReasonQOSGrpTRES,
	} {
		if seen[outcome] < 20 {
			t.Errorf("generator produced %q only %d times: %v", outcome, seen[outcome], seen)
		}
	}
	for _, outcome := range []string{"preempted", "preempt/" + api.PreemptCancel, "preempt/" + api.PreemptRequeue} {
		if seen[outcome] < iterations/150 { // rarer: TestPreemptionProperties has more
			t.Errorf("generator produced %q only %d times: %v", outcome, seen[outcome], seen)
		}
	}
}
