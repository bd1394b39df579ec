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

const gib = int64(1) << 30

var t0 = time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)

// ---- builders ----

type jobOpt func(*api.Job)

// job is a pending one-CPU, 1 GiB job of partition "main", submitted id
// seconds after t0.
func job(id api.JobID, opts ...jobOpt) *api.Job {
	j := &api.Job{
		ID:         id,
		State:      api.StatePending,
		SubmitTime: t0.Add(time.Duration(id) * time.Second),
		Spec:       &api.JobSpec{Name: fmt.Sprintf("j%d", id), Partition: "main", Nodes: 1, NTasks: 1, CPUsPerTask: 1, MemBytes: gib},
	}
	for _, o := range opts {
		o(j)
	}
	return j
}

func cpus(n int) jobOpt           { return func(j *api.Job) { j.Spec.NTasks, j.Spec.CPUsPerTask = 1, n } }
func mem(b int64) jobOpt          { return func(j *api.Job) { j.Spec.MemBytes = b } }
func gpus(n int) jobOpt           { return func(j *api.Job) { j.Spec.GPUs = n } }
func prio(p int64) jobOpt         { return func(j *api.Job) { j.Priority = p } }
func part(p string) jobOpt        { return func(j *api.Job) { j.Spec.Partition = p } }
func held() jobOpt                { return func(j *api.Job) { j.Spec.Hold = true } }
func state(s api.JobState) jobOpt { return func(j *api.Job) { j.State = s } }
func submitted(d time.Duration) jobOpt {
	return func(j *api.Job) { j.SubmitTime = t0.Add(d) }
}

type nodeOpt func(*sched.NodeFree)

// node is an UP node with the given free CPUs and memory; its GPUs are
// 0..7 and all of them are free unless freeGPUs is used.
func node(name string, c int, m int64, opts ...nodeOpt) sched.NodeFree {
	n := &api.Node{Name: name, CPUs: c, MemBytes: m, State: api.NodeUp}
	nf := sched.NodeFree{Node: n, CPUs: c, MemBytes: m}
	for _, o := range opts {
		o(&nf)
	}
	return nf
}

// withGPUs gives the node total GPUs 0..total-1, of which free are free.
func withGPUs(total int, free ...int) nodeOpt {
	return func(nf *sched.NodeFree) {
		nf.Node.GPUs = nil
		for i := 0; i < total; i++ {
			nf.Node.GPUs = append(nf.Node.GPUs, api.GPU{Index: i, Minor: i})
		}
		nf.GPUs = append([]int(nil), free...)
	}
}

func nodeState(s api.NodeState) nodeOpt {
	return func(nf *sched.NodeFree) { nf.Node.State = s }
}

func inParts(p ...string) nodeOpt { return func(nf *sched.NodeFree) { nf.Node.Partitions = p } }

func partition(name string, nodes ...string) api.Partition {
	return api.Partition{Name: name, Nodes: nodes, State: "UP"}
}

func downPartition(name, st string) api.Partition {
	return api.Partition{Name: name, State: st}
}

func place(id api.JobID, n string, c int, m int64, g ...int) sched.Placement {
	return sched.Placement{JobID: id, Allocs: []api.Allocation{{Node: n, CPUs: c, MemBytes: m, GPUs: g}}}
}

type reasons = map[api.JobID]string

// ---- table tests ----

func TestSchedule(t *testing.T) {
	main := []api.Partition{partition("main")}
	tests := []struct {
		name       string
		nodes      []sched.NodeFree
		jobs       []*api.Job
		partitions []api.Partition
		want       []sched.Placement
		reasons    reasons
	}{
		{
			name:       "empty input gives an empty plan",
			partitions: main,
		},
		{
			name:       "first fit by node name, not input order",
			nodes:      []sched.NodeFree{node("n3", 8, 8*gib), node("n1", 8, 8*gib), node("n2", 8, 8*gib)},
			jobs:       []*api.Job{job(1, cpus(6)), job(2, cpus(4)), job(3, cpus(2))},
			partitions: main,
			want:       []sched.Placement{place(1, "n1", 6, gib), place(2, "n2", 4, gib), place(3, "n1", 2, gib)},
		},
		{
			name:       "higher priority first",
			nodes:      []sched.NodeFree{node("n1", 4, 8*gib)},
			jobs:       []*api.Job{job(1, cpus(4), prio(1)), job(2, cpus(4), prio(10))},
			partitions: main,
			want:       []sched.Placement{place(2, "n1", 4, gib)},
			reasons:    reasons{1: api.ReasonResources},
		},
		{
			name:  "equal priority: earlier submission first",
			nodes: []sched.NodeFree{node("n1", 4, 8*gib)},
			jobs: []*api.Job{
				job(1, cpus(4), submitted(3*time.Second)),
				job(2, cpus(4), submitted(1*time.Second)),
				job(3, cpus(4), submitted(2*time.Second)),
			},
			partitions: main,
			want:       []sched.Placement{place(2, "n1", 4, gib)},
			reasons:    reasons{3: api.ReasonResources, 1: api.ReasonPriority},
		},
		{
			name:       "equal priority and submit time: lower id first",
			nodes:      []sched.NodeFree{node("n1", 4, 8*gib)},
			jobs:       []*api.Job{job(9, cpus(4), submitted(0)), job(5, cpus(4), submitted(0)), job(7, cpus(4), submitted(0))},
			partitions: main,
			want:       []sched.Placement{place(5, "n1", 4, gib)},
			reasons:    reasons{7: api.ReasonResources, 9: api.ReasonPriority},
		},
		{
			name: "strict FIFO per partition; other partitions proceed",
			nodes: []sched.NodeFree{
				node("a1", 2, 8*gib), node("b1", 4, 8*gib),
			},
			jobs: []*api.Job{
				job(1, part("a"), cpus(4), prio(10)), // too big for a1: blocks a
				job(2, part("a"), cpus(1), prio(5)),  // would fit, but waits behind 1
				job(3, part("b"), cpus(1), prio(1)),
				job(4, part("a"), cpus(1), prio(1)),
				job(5, part("b"), cpus(2), prio(0)),
			},
			partitions: []api.Partition{partition("a", "a1"), partition("b", "b1")},
			want:       []sched.Placement{place(3, "b1", 1, gib), place(5, "b1", 2, gib)},
			reasons:    reasons{1: api.ReasonResources, 2: api.ReasonPriority, 4: api.ReasonPriority},
		},
		{
			name:       "held job waits, blocks nobody and is not in the plan",
			nodes:      []sched.NodeFree{node("n1", 4, 8*gib)},
			jobs:       []*api.Job{job(1, cpus(4), prio(100), held()), job(2, cpus(4))},
			partitions: main,
			want:       []sched.Placement{place(2, "n1", 4, gib)},
			reasons:    reasons{},
		},
		{
			name:  "partition DOWN, DRAIN or INACTIVE: PartitionDown; UP partitions proceed",
			nodes: []sched.NodeFree{node("n1", 8, 8*gib)},
			jobs: []*api.Job{
				job(1, part("down"), prio(3)), job(2, part("drain"), prio(3)),
				job(3, part("inactive"), prio(3)), job(4),
			},
			partitions: []api.Partition{
				downPartition("down", "DOWN"), downPartition("drain", "DRAIN"),
				downPartition("inactive", "INACTIVE"), partition("main"),
			},
			want: []sched.Placement{place(4, "n1", 1, gib)},
			reasons: reasons{
				1: api.ReasonPartitionDown, 2: api.ReasonPartitionDown, 3: api.ReasonPartitionDown,
			},
		},
		{
			name:       "partition with an empty state counts as UP",
			nodes:      []sched.NodeFree{node("n1", 8, 8*gib)},
			jobs:       []*api.Job{job(1)},
			partitions: []api.Partition{{Name: "main"}},
			want:       []sched.Placement{place(1, "n1", 1, gib)},
		},
		{
			name:       "unknown partition: ReqNodeNotAvail",
			nodes:      []sched.NodeFree{node("n1", 8, 8*gib)},
			jobs:       []*api.Job{job(1, part("nope")), job(2)},
			partitions: main,
			want:       []sched.Placement{place(2, "n1", 1, gib)},
			reasons:    reasons{1: api.ReasonNodeNotAvail},
		},
		{
			name: "no UP node in the partition: ReqNodeNotAvail, later jobs Priority",
			nodes: []sched.NodeFree{
				node("n1", 8, 8*gib, nodeState(api.NodeDown)),
				node("n2", 8, 8*gib, nodeState(api.NodeDrain)),
			},
			jobs:       []*api.Job{job(1, prio(2)), job(2, prio(1))},
			partitions: main,
			reasons:    reasons{1: api.ReasonNodeNotAvail, 2: api.ReasonPriority},
		},
		{
			name: "DOWN and DRAIN nodes are skipped even when they have room",
			nodes: []sched.NodeFree{
				node("n1", 8, 8*gib, nodeState(api.NodeDown)),
				node("n2", 8, 8*gib, nodeState(api.NodeDrain)),
				node("n3", 2, 8*gib),
			},
			jobs:       []*api.Job{job(1, cpus(2)), job(2, cpus(2))},
			partitions: main,
			want:       []sched.Placement{place(1, "n3", 2, gib)},
			reasons:    reasons{2: api.ReasonResources},
		},
		{
			name:       "GPUs: lowest free indices, never a busy one",
			nodes:      []sched.NodeFree{node("n1", 64, 64*gib, withGPUs(8, 7, 1, 5, 3))},
			jobs:       []*api.Job{job(1, gpus(2)), job(2, gpus(2)), job(3, gpus(1))},
			partitions: main,
			want:       []sched.Placement{place(1, "n1", 1, gib, 1, 3), place(2, "n1", 1, gib, 5, 7)},
			reasons:    reasons{3: api.ReasonResources},
		},
		{
			name: "GPUs: a node without enough free GPUs is passed over",
			nodes: []sched.NodeFree{
				node("n1", 64, 64*gib, withGPUs(4, 2)),
				node("n2", 64, 64*gib, withGPUs(4, 0, 1, 2, 3)),
			},
			jobs:       []*api.Job{job(1, gpus(2)), job(2, gpus(1)), job(3)},
			partitions: main,
			want: []sched.Placement{
				place(1, "n2", 1, gib, 0, 1), place(2, "n1", 1, gib, 2), place(3, "n1", 1, gib),
			},
		},
		{
			name:       "GPUsPerNode wins over GPUs",
			nodes:      []sched.NodeFree{node("n1", 64, 64*gib, withGPUs(4, 0, 1, 2, 3))},
			jobs:       []*api.Job{job(1, gpus(1), func(j *api.Job) { j.Spec.GPUsPerNode = 3 })},
			partitions: main,
			want:       []sched.Placement{place(1, "n1", 1, gib, 0, 1, 2)},
		},
		{
			name: "CPU and memory accounted across several placements",
			nodes: []sched.NodeFree{
				node("n1", 8, 8*gib), node("n2", 8, 32*gib),
			},
			jobs: []*api.Job{
				job(1, cpus(4), mem(6*gib)), // n1: 4 CPUs, 2 GiB left
				job(2, cpus(2), mem(4*gib)), // n1 lacks memory: n2
				job(3, cpus(4), mem(2*gib)), // n1: 0 CPUs, 0 GiB left
				job(4, cpus(1), mem(1)),     // n1 full: n2
				job(5, cpus(6), mem(gib)),   // n2 has 5 CPUs left
				job(6, cpus(1), mem(gib)),   // FIFO: waits behind 5
			},
			partitions: main,
			want: []sched.Placement{
				place(1, "n1", 4, 6*gib), place(2, "n2", 2, 4*gib),
				place(3, "n1", 4, 2*gib), place(4, "n2", 1, 1),
			},
			reasons: reasons{5: api.ReasonResources, 6: api.ReasonPriority},
		},
		{
			name: "multi-task jobs take NTasks*CPUsPerTask CPUs",
			nodes: []sched.NodeFree{
				node("n1", 5, 8*gib), node("n2", 6, 8*gib),
			},
			jobs:       []*api.Job{job(1, func(j *api.Job) { j.Spec.NTasks, j.Spec.CPUsPerTask = 3, 2 })},
			partitions: main,
			want:       []sched.Placement{place(1, "n2", 6, gib)},
		},
		{
			name: "node partitions: an empty partition node list takes nodes listing it or listing none",
			nodes: []sched.NodeFree{
				node("n1", 1, 8*gib, inParts("cpu")),
				node("n2", 1, 8*gib, inParts("cpu", "gpu")),
				node("n3", 1, 8*gib),
			},
			jobs:       []*api.Job{job(1, part("gpu")), job(2, part("gpu")), job(3, part("gpu"))},
			partitions: []api.Partition{partition("gpu"), partition("cpu")},
			want:       []sched.Placement{place(1, "n2", 1, gib), place(2, "n3", 1, gib)},
			reasons:    reasons{3: api.ReasonResources},
		},
		{
			name: "node partitions: an explicit node list wins over the node's own list",
			nodes: []sched.NodeFree{
				node("n1", 1, 8*gib, inParts("gpu")),
				node("n2", 1, 8*gib, inParts("other")),
			},
			jobs:       []*api.Job{job(1, part("gpu")), job(2, part("gpu"))},
			partitions: []api.Partition{partition("gpu", "n2")},
			want:       []sched.Placement{place(1, "n2", 1, gib)},
			reasons:    reasons{2: api.ReasonResources},
		},
		{
			name:       "jobs that are not PENDING are ignored",
			nodes:      []sched.NodeFree{node("n1", 1, 8*gib)},
			jobs:       []*api.Job{job(1, state(api.StateRunning), prio(9)), job(2, state(api.StateCompleted), prio(9)), job(3)},
			partitions: main,
			want:       []sched.Placement{place(3, "n1", 1, gib)},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plan := sched.Schedule(sched.Input{Now: t0, Nodes: tt.nodes, Pending: tt.jobs, Partitions: tt.partitions})
			if !reflect.DeepEqual(plan.Placements, tt.want) {
				t.Errorf("placements:\n got %+v\nwant %+v", plan.Placements, tt.want)
			}
			if !maps.Equal(plan.Reasons, tt.reasons) {
				t.Errorf("reasons:\n got %v\nwant %v", plan.Reasons, tt.reasons)
			}
		})
	}
}

func TestBefore(t *testing.T) {
	tests := []struct {
		name string
		a, b *api.Job
		want bool
	}{
		{"higher priority first", job(2, prio(2)), job(1, prio(1)), true},
		{"lower priority later", job(1, prio(1)), job(2, prio(2)), false},
		{"earlier submit first", job(2, submitted(0)), job(1, submitted(time.Second)), true},
		{"later submit later", job(1, submitted(time.Second)), job(2, submitted(0)), false},
		{"lower id first", job(1, submitted(0)), job(2, submitted(0)), true},
		{"higher id later", job(2, submitted(0)), job(1, submitted(0)), false},
		{"not before itself", job(1), job(1), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := sched.Before(tt.a, tt.b); got != tt.want {
				t.Errorf("Before = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestInPartition(t *testing.T) {
	tests := []struct {
		name      string
		nodeParts []string
		part      api.Partition
		want      bool
	}{
		{"open partition, node lists none", nil, partition("p"), true},
		{"open partition, node lists it", []string{"x", "p"}, partition("p"), true},
		{"open partition, node lists others", []string{"x"}, partition("p"), false},
		{"explicit list names the node", []string{"x"}, partition("p", "a", "n"), true},
		{"explicit list does not name it", nil, partition("p", "a", "b"), false},
		{"explicit list does not name it though the node lists p", []string{"p"}, partition("p", "a"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := &api.Node{Name: "n", Partitions: tt.nodeParts}
			if got := sched.InPartition(n, &tt.part); got != tt.want {
				t.Errorf("InPartition = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestFits(t *testing.T) {
	n := node("n", 8, 8*gib, withGPUs(2)).Node
	tests := []struct {
		name string
		job  *api.Job
		want bool
	}{
		{"small", job(1), true},
		{"all of it", job(1, cpus(8), mem(8*gib), gpus(2)), true},
		{"too many CPUs", job(1, cpus(9)), false},
		{"too much memory", job(1, mem(8*gib+1)), false},
		{"too many GPUs", job(1, gpus(3)), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := sched.Fits(tt.job, n); got != tt.want {
				t.Errorf("Fits = %v, want %v", got, tt.want)
			}
		})
	}
}

// ---- properties ----

// randomInput builds a random cluster and queue from r.
func randomInput(r *rand.Rand) sched.Input {
	partNames := []string{"a", "b", "c"}
	in := sched.Input{Now: t0}
	for i, p := range partNames {
		ap := api.Partition{Name: p, State: "UP"}
		if r.Intn(8) == 0 {
			ap.State = "DOWN"
		}
		if i == 2 { // c has an explicit node list
			ap.Nodes = []string{"n00", "n03", "n05"}
		}
		in.Partitions = append(in.Partitions, ap)
	}
	states := []api.NodeState{api.NodeUp, api.NodeUp, api.NodeUp, api.NodeDown, api.NodeDrain}
	for i, nn := 0, 1+r.Intn(8); i < nn; i++ {
		total := r.Intn(9)
		n := &api.Node{Name: fmt.Sprintf("n%02d", i), CPUs: 1 + r.Intn(32), MemBytes: int64(1+r.Intn(64)) * gib, State: states[r.Intn(len(states))]}
		for g := 0; g < total; g++ {
			n.GPUs = append(n.GPUs, api.GPU{Index: g, Minor: g})
		}
		if r.Intn(3) == 0 {
			n.Partitions = []string{partNames[r.Intn(2)]}
		}
		nf := sched.NodeFree{Node: n, CPUs: r.Intn(n.CPUs + 1), MemBytes: r.Int63n(n.MemBytes + 1)}
		for _, g := range r.Perm(total) { // unsorted free list
			if r.Intn(3) > 0 {
				nf.GPUs = append(nf.GPUs, g)
			}
		}
		in.Nodes = append(in.Nodes, nf)
	}
	jobStates := []api.JobState{api.StatePending, api.StatePending, api.StatePending, api.StatePending, api.StateRunning}
	for i, nj := 0, r.Intn(40); i < nj; i++ {
		j := &api.Job{
			ID:         api.JobID(1 + r.Intn(1000)*50 + i), // unique, not in order
			State:      jobStates[r.Intn(len(jobStates))],
			Priority:   int64(r.Intn(4)),
			SubmitTime: t0.Add(time.Duration(r.Intn(5)) * time.Second),
			Spec: &api.JobSpec{
				Partition:   append(partNames, "missing")[r.Intn(4)],
				Nodes:       1,
				NTasks:      1 + r.Intn(3),
				CPUsPerTask: 1 + r.Intn(4),
				MemBytes:    int64(r.Intn(8)+1) * gib / 2,
				GPUs:        r.Intn(4),
				Hold:        r.Intn(10) == 0,
			},
		}
		in.Pending = append(in.Pending, j)
	}
	return in
}

func cloneInput(in sched.Input) sched.Input {
	out := sched.Input{Now: in.Now}
	for _, n := range in.Nodes {
		nn := *n.Node
		nn.GPUs = slices.Clone(n.Node.GPUs)
		nn.Partitions = slices.Clone(n.Node.Partitions)
		n.Node = &nn
		n.GPUs = slices.Clone(n.GPUs)
		out.Nodes = append(out.Nodes, n)
	}
	for _, j := range in.Pending {
		jj := *j
		out.Pending = append(out.Pending, &jj)
	}
	for _, p := range in.Partitions {
		p.Nodes = slices.Clone(p.Nodes)
		out.Partitions = append(out.Partitions, p)
	}
	return out
}

// checkPlan verifies the invariants of a plan for in.
// indexInput indexes a pass's input by node name, job ID and partition
// name, for the plan checkers.
func indexInput(in sched.Input) (map[string]sched.NodeFree, map[api.JobID]*api.Job, map[string]api.Partition) {
	nodes := map[string]sched.NodeFree{}
	for _, n := range in.Nodes {
		nodes[n.Node.Name] = n
	}
	jobs := map[api.JobID]*api.Job{}
	for _, j := range in.Pending {
		jobs[j.ID] = j
	}
	parts := map[string]api.Partition{}
	for _, p := range in.Partitions {
		parts[p.Name] = p
	}
	return nodes, jobs, parts
}

func checkPlan(t *testing.T, in sched.Input, plan sched.Plan) {
	t.Helper()
	nodes, jobs, parts := indexInput(in)
	type used struct {
		cpus int
		mem  int64
		gpus map[int]bool
	}
	use := map[string]*used{}
	placed := map[api.JobID]bool{}
	for _, p := range plan.Placements {
		j, n := jobs[p.JobID], nodes[p.Allocs[0].Node]
		if j == nil || n.Node == nil {
			t.Fatalf("placement %+v: unknown job or node", p)
		}
		if placed[j.ID] {
			t.Fatalf("job %d placed twice", j.ID)
		}
		placed[j.ID] = true
		if j.State != api.StatePending || j.Spec.Hold {
			t.Fatalf("job %d (state %s, hold %v) placed", j.ID, j.State, j.Spec.Hold)
		}
		if n.Node.State != api.NodeUp {
			t.Fatalf("job %d placed on %s node %s", j.ID, n.Node.State, n.Node.Name)
		}
		pp := parts[j.Spec.Partition]
		if !sched.InPartition(n.Node, &pp) {
			t.Fatalf("job %d of partition %s placed on %s outside it", j.ID, pp.Name, n.Node.Name)
		}
		if p.Allocs[0].CPUs != j.Spec.CPUsOnNode() || p.Allocs[0].MemBytes != j.Spec.MemBytes || len(p.Allocs[0].GPUs) != j.Spec.GPUsOnNode() {
			t.Fatalf("job %d: alloc %+v does not match its request %+v", j.ID, p.Allocs[0], j.Spec)
		}
		u := use[n.Node.Name]
		if u == nil {
			u = &used{gpus: map[int]bool{}}
			use[n.Node.Name] = u
		}
		u.cpus += p.Allocs[0].CPUs
		u.mem += p.Allocs[0].MemBytes
		for _, g := range p.Allocs[0].GPUs {
			if !slices.Contains(n.GPUs, g) {
				t.Fatalf("job %d got GPU %d of %s, which is not free (free %v)", j.ID, g, n.Node.Name, n.GPUs)
			}
			if u.gpus[g] {
				t.Fatalf("GPU %d of %s given twice", g, n.Node.Name)
			}
			u.gpus[g] = true
		}
		if u.cpus > n.CPUs || u.mem > n.MemBytes {
			t.Fatalf("node %s oversubscribed: %d CPUs / %d bytes used of %d / %d free", n.Node.Name, u.cpus, u.mem, n.CPUs, n.MemBytes)
		}
	}
	for _, j := range in.Pending {
		reason, waits := plan.Reasons[j.ID]
		switch {
		case j.State != api.StatePending:
			if waits || placed[j.ID] {
				t.Fatalf("non-pending job %d in the plan", j.ID)
			}
		case j.Spec.Hold:
			if waits || placed[j.ID] {
				t.Fatalf("held job %d in the plan: placed=%v, reason %q", j.ID, placed[j.ID], reason)
			}
		case placed[j.ID] == waits:
			t.Fatalf("job %d: placed=%v, reason %q: want exactly one", j.ID, placed[j.ID], reason)
		}
	}
	for id := range plan.Reasons {
		if jobs[id] == nil {
			t.Fatalf("reason for unknown job %d", id)
		}
	}
	// Strict FIFO: after a job of a partition waits for Resources or
	// nodes, no later job of that partition starts.
	order := slices.Clone(in.Pending)
	slices.SortStableFunc(order, func(a, b *api.Job) int {
		if sched.Before(a, b) {
			return -1
		}
		if sched.Before(b, a) {
			return 1
		}
		return 0
	})
	blocked := map[string]api.JobID{}
	for _, j := range order {
		if b, ok := blocked[j.Spec.Partition]; ok && placed[j.ID] {
			t.Fatalf("job %d of %s started after job %d of the same partition was blocked", j.ID, j.Spec.Partition, b)
		}
		if r := plan.Reasons[j.ID]; r == api.ReasonResources || r == api.ReasonNodeNotAvail {
			blocked[j.Spec.Partition] = j.ID
		}
	}
}

func TestScheduleProperties(t *testing.T) {
	r := rand.New(rand.NewSource(20250102))
	seen := map[string]int{} // outcomes, to show the generator covers them
	for i := 0; i < 2000; i++ {
		in := randomInput(r)
		before := cloneInput(in)
		plan := sched.Schedule(in)
		if !reflect.DeepEqual(in, before) {
			t.Fatalf("iteration %d: Schedule modified its input", i)
		}
		checkPlan(t, in, plan)
		seen["placed"] += len(plan.Placements)
		for _, reason := range plan.Reasons {
			seen[reason]++
		}
		for _, j := range in.Pending {
			if j.State == api.StatePending && j.Spec.Hold {
				seen["held"]++
			}
		}

		again := sched.Schedule(cloneInput(in))
		if !reflect.DeepEqual(plan, again) {
			t.Fatalf("iteration %d: not deterministic:\n%+v\n%+v", i, plan, again)
		}
		shuffled := cloneInput(in)
		r.Shuffle(len(shuffled.Nodes), func(a, b int) { shuffled.Nodes[a], shuffled.Nodes[b] = shuffled.Nodes[b], shuffled.Nodes[a] })
		r.Shuffle(len(shuffled.Pending), func(a, b int) {
			shuffled.Pending[a], shuffled.Pending[b] = shuffled.Pending[b], shuffled.Pending[a]
		})
		if got := sched.Schedule(shuffled); !reflect.DeepEqual(plan, got) {
			t.Fatalf("iteration %d: plan depends on input order:\n%+v\n%+v", i, plan, got)
		}
	}
	for _, outcome := range []string{"placed", api.ReasonResources, api.ReasonPriority, "held", api.ReasonPartitionDown, api.ReasonNodeNotAvail} {
		if seen[outcome] < 20 {
			t.Errorf("generator produced %q only %d times: %v", outcome, seen[outcome], seen)
		}
	}
}

// BenchmarkSchedule is one pass over 10k pending jobs and 1k nodes with
// room for about half of them.
func BenchmarkSchedule(b *testing.B) {
	r := rand.New(rand.NewSource(1))
	in := sched.Input{Now: t0, Partitions: []api.Partition{partition("main"), partition("gpu")}}
	for i := 0; i < 1000; i++ {
		n := &api.Node{Name: fmt.Sprintf("node%04d", i), CPUs: 64, MemBytes: 512 * gib, State: api.NodeUp}
		nf := sched.NodeFree{Node: n, CPUs: 64, MemBytes: 512 * gib}
		if i%2 == 0 {
			n.Partitions = []string{"gpu"}
			for g := 0; g < 8; g++ {
				n.GPUs = append(n.GPUs, api.GPU{Index: g, Minor: g})
				nf.GPUs = append(nf.GPUs, g)
			}
		} else {
			n.Partitions = []string{"main"}
		}
		in.Nodes = append(in.Nodes, nf)
	}
	for i := 0; i < 10000; i++ {
		opts := []jobOpt{prio(int64(r.Intn(100))), cpus(1 + r.Intn(16)), mem(int64(1+r.Intn(64)) * gib)}
		if i%2 == 0 {
			opts = append(opts, part("gpu"), gpus(1+r.Intn(4)))
		}
		in.Pending = append(in.Pending, job(api.JobID(i+1), opts...))
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		sched.Schedule(in)
	}
}
