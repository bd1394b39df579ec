package sched_test

import (
	"flag"
	"fmt"
	"math/rand"
	"strings"
	"testing"
	"time"

	"github.com/gsched/gsched/pkg/api"
	"github.com/gsched/gsched/pkg/sched"
	"github.com/gsched/gsched/pkg/topology"
)

// jobShape is a request users make: GPU jobs take 8 CPUs and 64 GiB per
// GPU, CPU jobs 4 GiB per CPU; limits are round numbers.
type jobShape struct {
	cpus int
	mem  int64
	gpus int
}

var (
	gpuShapes = []jobShape{{8, 64 * gib, 1}, {16, 128 * gib, 2}, {32, 256 * gib, 4}, {64, 512 * gib, 8}}
	cpuShapes = []jobShape{{1, 4 * gib, 0}, {2, 8 * gib, 0}, {4, 16 * gib, 0}, {8, 32 * gib, 0}, {16, 64 * gib, 0}}
	limits    = []time.Duration{30 * time.Minute, time.Hour, 2 * time.Hour, 4 * time.Hour, 8 * time.Hour,
		12 * time.Hour, 24 * time.Hour, 48 * time.Hour}
)

// scaleInput is a cluster of nodes × (64 CPUs, 512 GiB, 8 GPUs), about 80%
// busy with running jobs that end within the next day, and a queue of
// pending jobs of a realistic mix of shapes, users, accounts and QOS.
func scaleInput(nodes, pending int, cfg sched.Config) sched.Input {
	r := rand.New(rand.NewSource(int64(nodes)*7919 + int64(pending)))
	in := sched.Input{Now: t0, Config: cfg, FairShare: map[api.Assoc]float64{}}
	debug := make([]string, 0, nodes/20)
	for i := 0; i < nodes/20; i++ {
		debug = append(debug, fmt.Sprintf("gpu%05d", i))
	}
	in.Partitions = []api.Partition{
		{Name: "gpu", State: "UP", PriorityJobFactor: 1},
		{Name: "debug", State: "UP", Nodes: debug, PriorityTier: 1, PriorityJobFactor: 2},
	}
	in.QOS = []api.QOS{
		{Name: "normal", Priority: 10},
		{Name: "high", Priority: 100, MaxJobsPerUser: 20, MaxTRESPerUser: api.TRES{GPUs: 32}},
		{Name: "low", Priority: 1, GrpTRES: api.TRES{GPUs: 2000}},
	}
	users := make([]string, 300)
	for i := range users {
		users[i] = fmt.Sprintf("user%03d", i)
		in.FairShare[api.Assoc{Account: fmt.Sprintf("acct%02d", i%30), User: users[i]}] = r.Float64()
	}
	var id api.JobID
	newJob := func() *api.Job {
		id++
		u := r.Intn(len(users))
		var s jobShape
		if r.Intn(4) == 0 {
			s = cpuShapes[r.Intn(len(cpuShapes))]
		} else {
			s = gpuShapes[min(r.Intn(6), 3)] // more small GPU jobs than big ones
		}
		qos := "normal"
		switch r.Intn(10) {
		case 0:
			qos = "high"
		case 1:
			qos = "low"
		}
		return &api.Job{ID: id, User: users[u], State: api.StatePending,
			SubmitTime: t0.Add(-time.Duration(r.Intn(7*24*3600)) * time.Second),
			Spec: &api.JobSpec{Partition: "gpu", Nodes: 1, NTasks: 1, CPUsPerTask: s.cpus, MemBytes: s.mem,
				GPUs: s.gpus, TimeLimit: int64(limits[r.Intn(len(limits))] / time.Second),
				Account: fmt.Sprintf("acct%02d", u%30), QOS: qos}}
	}
	for i := 0; i < nodes; i++ {
		n := &api.Node{Name: fmt.Sprintf("gpu%05d", i), CPUs: 64, MemBytes: 512 * gib, State: api.NodeUp}
		for g := 0; g < 8; g++ {
			n.GPUs = append(n.GPUs, api.GPU{Index: g, Minor: g})
		}
		nf := sched.NodeFree{Node: n, CPUs: n.CPUs, MemBytes: n.MemBytes}
		target := 8
		if r.Intn(10) >= 6 {
			target = r.Intn(8)
		}
		used := 0
		for used < target {
			j := newJob()
			g := gpuShapes[r.Intn(4)]
			for g.gpus > target-used {
				g = gpuShapes[r.Intn(4)]
			}
			j.Spec.CPUsPerTask, j.Spec.MemBytes, j.Spec.GPUs = g.cpus, g.mem, g.gpus
			startRunning(r, j, &nf, used)
			used += g.gpus
			in.Running = append(in.Running, j)
		}
		if r.Intn(3) == 0 && nf.CPUs >= 16 && nf.MemBytes >= 64*gib { // a CPU job beside the GPU ones
			j := newJob()
			j.Spec.CPUsPerTask, j.Spec.MemBytes, j.Spec.GPUs = 8, 32*gib, 0
			startRunning(r, j, &nf, used)
			in.Running = append(in.Running, j)
		}
		for g := used; g < 8; g++ {
			nf.GPUs = append(nf.GPUs, g)
		}
		in.Nodes = append(in.Nodes, nf)
	}
	for i := 0; i < pending; i++ {
		j := newJob()
		if r.Intn(50) == 0 {
			j.Spec.Partition = "debug"
			j.Spec.TimeLimit = 1800
		}
		in.Pending = append(in.Pending, j)
	}
	return in
}

// startRunning makes j a running job on nf using GPUs from firstGPU on,
// started within the last day and ending within the next day.
func startRunning(r *rand.Rand, j *api.Job, nf *sched.NodeFree, firstGPU int) {
	j.State = api.StateRunning
	end := time.Duration(1+r.Intn(24*3600)) * time.Second
	j.Spec.TimeLimit = int64((end + time.Duration(r.Intn(24*3600))*time.Second) / time.Second)
	j.Deadline = t0.Add(end)
	j.StartTime = j.Deadline.Add(-j.TimeLimitDuration())
	a := &api.Allocation{Node: nf.Node.Name, CPUs: j.Spec.CPUsOnNode(), MemBytes: j.Spec.MemBytes}
	for g := firstGPU; g < firstGPU+j.Spec.GPUsOnNode(); g++ {
		a.GPUs = append(a.GPUs, g)
	}
	j.Allocs = []api.Allocation{*a}
	nf.CPUs -= a.CPUs
	nf.MemBytes -= a.MemBytes
}

// benchNamed reports whether -test.bench names the sub-benchmark literally
// (so "-bench ." does not start the 1M-job runs, which take gigabytes).
func benchNamed(name string) bool {
	f := flag.Lookup("test.bench")
	return f != nil && strings.Contains(f.Value.String(), name)
}

// BenchmarkScheduleScale is one pass over 10k/100k (and, when named
// explicitly with -bench 'ScheduleScale/1M', 1M) pending jobs on 10k
// nodes × 8 GPUs, about 80% busy, in each backfill mode.
func BenchmarkScheduleScale(b *testing.B) {
	modes := []struct {
		name    string
		bf      sched.BackfillConfig
		preempt bool // high may preempt low (REQUEUE)
	}{
		{"easy", sched.BackfillConfig{Mode: sched.BackfillEASY, Window: 24 * time.Hour, Resolution: time.Minute}, false},
		{"conservative", sched.BackfillConfig{Mode: sched.BackfillConservative, Window: 24 * time.Hour, Resolution: time.Minute}, false},
		{"conservative-test1000", sched.BackfillConfig{Mode: sched.BackfillConservative, Window: 24 * time.Hour,
			Resolution: time.Minute, MaxJobTest: 1000}, false},
		{"easy-preempt", sched.BackfillConfig{Mode: sched.BackfillEASY, Window: 24 * time.Hour, Resolution: time.Minute}, true},
		{"conservative-test1000-preempt", sched.BackfillConfig{Mode: sched.BackfillConservative, Window: 24 * time.Hour,
			Resolution: time.Minute, MaxJobTest: 1000}, true},
	}
	for _, size := range []struct {
		name    string
		pending int
	}{{"10k", 10_000}, {"100k", 100_000}, {"1M", 1_000_000}} {
		for _, m := range modes {
			name := size.name + "x10k/" + m.name
			b.Run(name, func(b *testing.B) {
				if size.pending >= 1_000_000 && !benchNamed("1M") {
					b.Skip("1M pending jobs: run with -bench 'ScheduleScale/1M'")
				}
				cfg := sched.DefaultConfig()
				cfg.Backfill = m.bf
				in := scaleInput(10_000, size.pending, cfg)
				if m.preempt {
					for i := range in.QOS {
						switch q := &in.QOS[i]; q.Name {
						case "high":
							q.Preempt = []string{"low"}
						case "low":
							q.PreemptMode, q.GraceTime = api.PreemptRequeue, 60
						}
					}
				}
				var plan sched.Plan
				b.ReportAllocs()
				for b.Loop() {
					plan = sched.Schedule(in)
				}
				b.ReportMetric(float64(len(plan.Placements)), "placed")
				b.ReportMetric(float64(plan.Stats.Reserved), "reserved")
				if m.preempt {
					b.ReportMetric(float64(plan.Stats.Preempted), "preempted")
				}
			})
		}
	}
}

// BenchmarkScheduleGang is BenchmarkScheduleScale's 10k pending × 10k node
// pass with 5% of the pending jobs turned into 2–16-node gangs of 8 GPUs
// per node, on a network of 40-node leaf switches under one spine.
func BenchmarkScheduleGang(b *testing.B) {
	for _, m := range []struct {
		name string
		bf   sched.BackfillConfig
	}{
		{"easy", sched.BackfillConfig{Mode: sched.BackfillEASY, Window: 24 * time.Hour, Resolution: time.Minute}},
		{"conservative-test1000", sched.BackfillConfig{Mode: sched.BackfillConservative, Window: 24 * time.Hour,
			Resolution: time.Minute, MaxJobTest: 1000}},
	} {
		b.Run("10kx10k/"+m.name, func(b *testing.B) {
			cfg := sched.DefaultConfig()
			cfg.Backfill = m.bf
			in := scaleInput(10_000, 10_000, cfg)
			r := rand.New(rand.NewSource(42))
			gangs := 0
			for _, j := range in.Pending {
				if r.Intn(20) == 0 {
					j.Spec.Nodes = 2 << r.Intn(4) // 2, 4, 8, 16
					j.Spec.GPUs, j.Spec.GPUsPerNode = 0, 8
					j.Spec.NTasks, j.Spec.CPUsPerTask, j.Spec.MemBytes = 8*j.Spec.Nodes, 8, 512*gib
					gangs++
				}
			}
			var sw []topology.Switch
			for l := 0; l < 250; l++ {
				sw = append(sw, topology.Switch{Name: fmt.Sprintf("leaf%03d", l),
					Nodes: fmt.Sprintf("gpu[%05d-%05d]", l*40, l*40+39)})
			}
			sw = append(sw, topology.Switch{Name: "spine", Switches: "leaf[000-249]"})
			net, err := topology.NewNetwork(sw)
			if err != nil {
				b.Fatal(err)
			}
			in.Network = net
			var plan sched.Plan
			b.ReportAllocs()
			for b.Loop() {
				plan = sched.Schedule(in)
			}
			b.ReportMetric(float64(gangs), "gangs")
			b.ReportMetric(float64(len(plan.Placements)), "placed")
			b.ReportMetric(float64(plan.Stats.Reserved), "reserved")
		})
	}
}
