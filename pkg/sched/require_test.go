package sched_test

import (
	"testing"
	"time"

	"github.com/gsched/gsched/pkg/api"
	"github.com/gsched/gsched/pkg/sched"
)

// ---- requirement builders ----

func gpuType(s string) jobOpt    { return func(j *api.Job) { j.Spec.GPUType = s } }
func gpuMem(b int64) jobOpt      { return func(j *api.Job) { j.Spec.GPUMemMin = b } }
func constraint(c string) jobOpt { return func(j *api.Job) { j.Spec.Constraint = c } }

// models sets the model and memory of the node's GPUs with the given
// indices (all of them when none is given).
func models(model string, memBytes int64, idx ...int) nodeOpt {
	return func(nf *sched.NodeFree) {
		for i := range nf.Node.GPUs {
			g := &nf.Node.GPUs[i]
			if len(idx) == 0 || containsInt(idx, g.Index) {
				g.Model, g.MemBytes = model, memBytes
			}
		}
	}
}

func features(f ...string) nodeOpt { return func(nf *sched.NodeFree) { nf.Node.Features = f } }

func containsInt(s []int, v int) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

const (
	a10  = "NVIDIA A10"
	h100 = "NVIDIA H100 80GB HBM3"
)

func allGPUs() []int { return []int{0, 1, 2, 3, 4, 5, 6, 7} }

// TestRequirements: GPU model and memory requirements and node features
// (constraints) in every mode.
func TestRequirements(t *testing.T) {
	none, easy, cons := bf(sched.BackfillNone), bf(sched.BackfillEASY), bf(sched.BackfillConservative)
	a10Node := func(name string, free ...int) sched.NodeFree {
		return node(name, 64, 256*gib, withGPUs(8, free...), models(a10, 24*gib))
	}
	h100Node := func(name string, free ...int) sched.NodeFree {
		return node(name, 64, 256*gib, withGPUs(8, free...), models(h100, 80*gib))
	}
	// mixed: GPUs 0-3 are A10 (24 GiB), 4-7 H100 (80 GiB).
	mixed := func(name string, free ...int) sched.NodeFree {
		return node(name, 64, 256*gib, withGPUs(8, free...), models(a10, 24*gib, 0, 1, 2, 3), models(h100, 80*gib, 4, 5, 6, 7))
	}
	var tests []scenario
	for _, cfg := range []sched.Config{none, easy, cons} {
		mode := cfg.Backfill.Mode + ": "
		tests = append(tests,
			scenario{
				name:  mode + "a typed job skips the A10 node for the H100 one",
				cfg:   cfg,
				nodes: []sched.NodeFree{a10Node("n1", allGPUs()...), h100Node("n2", allGPUs()...)},
				jobs:  []*api.Job{job(1, gpus(2), gpuType("h100"))},
				want:  []sched.Placement{place(1, "n2", 1, gib, 0, 1)},
			},
			scenario{
				name:  mode + "on a mixed node a typed job gets only matching GPUs",
				cfg:   cfg,
				nodes: []sched.NodeFree{mixed("n1", allGPUs()...)},
				jobs:  []*api.Job{job(1, gpus(2), gpuType("H100")), job(2, gpus(3), gpuType("a10")), job(3, gpus(2))},
				want: []sched.Placement{place(1, "n1", 1, gib, 4, 5), place(2, "n1", 1, gib, 0, 1, 2),
					place(3, "n1", 1, gib, 3, 6)},
			},
			scenario{
				name:  mode + "GPUMemMin selects the big-memory GPUs",
				cfg:   cfg,
				nodes: []sched.NodeFree{a10Node("n1", allGPUs()...), mixed("n2", 0, 1, 2, 3, 5, 7)},
				jobs:  []*api.Job{job(1, gpus(2), gpuMem(40*gib))},
				want:  []sched.Placement{place(1, "n2", 1, gib, 5, 7)},
			},
			scenario{
				name: mode + "features route a job; a feature no node has: ReqNodeNotAvail, blocking nothing",
				cfg:  cfg,
				nodes: []sched.NodeFree{node("n1", 8, 16*gib, features("nvme")),
					node("n2", 8, 16*gib, features("IB", "nvme"))},
				jobs: []*api.Job{job(1, constraint("gpu-x"), prio(3)), job(2, constraint("ib&nvme"), prio(2)),
					job(3, cpus(8), constraint("nvme"), prio(1))},
				want:    []sched.Placement{place(2, "n2", 1, gib), place(3, "n1", 8, gib)},
				reasons: reasons{1: api.ReasonNodeNotAvail},
			},
			scenario{
				name:    mode + "no node with enough matching GPUs: ReqNodeNotAvail",
				cfg:     cfg,
				nodes:   []sched.NodeFree{mixed("n1", allGPUs()...), a10Node("n2", allGPUs()...)},
				jobs:    []*api.Job{job(1, gpus(5), gpuType("h100"))},
				reasons: reasons{1: api.ReasonNodeNotAvail},
			},
		)
	}
	// n1: A10, all free. n2: H100, all held by R until +60m.
	busyH100 := func() ([]sched.NodeFree, []*api.Job) {
		return []sched.NodeFree{a10Node("n1", allGPUs()...), h100Node("n2")},
			[]*api.Job{running(100, "n2", 8, 60*m, allGPUs()...)}
	}
	for _, cfg := range []sched.Config{easy, cons} {
		nodes, run := busyH100()
		tests = append(tests,
			scenario{
				name:    cfg.Backfill.Mode + ": a typed job reserves on an eligible node only",
				cfg:     cfg,
				nodes:   nodes,
				running: run,
				jobs:    []*api.Job{job(1, gpus(8), gpuType("h100"), limit(time.Hour))},
				reasons: reasons{1: api.ReasonResources},
				starts:  starts{1: t0.Add(60 * m)},
				resv: []sched.Reservation{{JobID: 1, Node: "n2", Start: t0.Add(60 * m), End: t0.Add(120 * m),
					CPUs: 1, MemBytes: gib, GPUs: 8}},
			},
			scenario{
				// Both jobs have the same size: a typed job that cannot
				// start must not make the untyped one wait.
				name:    cfg.Backfill.Mode + ": a typed job that cannot start does not block an untyped one of its size",
				cfg:     cfg,
				nodes:   nodes,
				running: run,
				jobs: []*api.Job{job(1, gpus(1), gpuType("h100"), limit(time.Hour), prio(2)),
					job(2, gpus(1), limit(time.Hour), prio(1))},
				want:    []sched.Placement{place(2, "n1", 1, gib, 0)},
				reasons: reasons{1: api.ReasonResources},
				starts:  starts{1: t0.Add(60 * m)},
			},
		)
	}
	for _, s := range tests {
		t.Run(s.name, func(t *testing.T) { s.run(t) })
	}
}
