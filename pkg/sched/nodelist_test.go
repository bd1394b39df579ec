package sched_test

import (
	"testing"
	"time"

	"github.com/gsched/gsched/pkg/api"
	"github.com/gsched/gsched/pkg/sched"
)

func nodelist(l string) jobOpt { return func(j *api.Job) { j.Spec.NodeList = l } }
func exclude(l string) jobOpt  { return func(j *api.Job) { j.Spec.Exclude = l } }

// TestNamedNodes: --nodelist and --exclude in every mode. An excluded node
// is never used; every listed node is in the allocation, a gang needing
// more nodes taking the rest by name; a listed node that is down keeps the
// job waiting (ReqNodeNotAvail), one that is busy gives it a reservation
// there.
func TestNamedNodes(t *testing.T) {
	none, easy, cons := bf(sched.BackfillNone), bf(sched.BackfillEASY), bf(sched.BackfillConservative)
	three := func() []sched.NodeFree {
		return []sched.NodeFree{node("n1", 8, 16*gib), node("n2", 8, 16*gib), node("n3", 8, 16*gib)}
	}
	var tests []scenario
	for _, cfg := range []sched.Config{none, easy, cons} {
		mode := cfg.Backfill.Mode + ": "
		tests = append(tests,
			scenario{
				name:  mode + "a listed node, not the first free one",
				cfg:   cfg,
				nodes: three(),
				jobs:  []*api.Job{job(1, nodelist("n3"))},
				want:  []sched.Placement{place(1, "n3", 1, gib)},
			},
			scenario{
				name:    mode + "excluded nodes are passed over",
				cfg:     cfg,
				nodes:   three(),
				jobs:    []*api.Job{job(1, exclude("n[1-2]")), job(2, exclude("n[1-3]"))},
				want:    []sched.Placement{place(1, "n3", 1, gib)},
				reasons: reasons{2: api.ReasonNodeNotAvail},
			},
			scenario{
				name:  mode + "a gang takes every listed node and the rest by name",
				cfg:   cfg,
				nodes: three(),
				jobs:  []*api.Job{job(1, onNodes(2), tasks(2, 1), nodelist("n3"))},
				want:  []sched.Placement{placeOn(1, alloc("n1", 1, gib), alloc("n3", 1, gib))},
			},
			scenario{
				name:  mode + "a gang with an exclusion and a list",
				cfg:   cfg,
				nodes: three(),
				jobs:  []*api.Job{job(1, onNodes(2), tasks(2, 1), nodelist("n3"), exclude("n1"))},
				want:  []sched.Placement{placeOn(1, alloc("n2", 1, gib), alloc("n3", 1, gib))},
			},
			scenario{
				name:    mode + "a listed node down: ReqNodeNotAvail, and it blocks nothing",
				cfg:     cfg,
				nodes:   []sched.NodeFree{node("n1", 8, 16*gib), node("n2", 8, 16*gib, nodeState(api.NodeDown))},
				jobs:    []*api.Job{job(1, nodelist("n2")), job(2, onNodes(2), tasks(2, 1), nodelist("n2")), job(3)},
				want:    []sched.Placement{place(3, "n1", 1, gib)},
				reasons: reasons{1: api.ReasonNodeNotAvail, 2: api.ReasonNodeNotAvail},
			},
		)
	}
	// A busy listed node: the job waits for it although another is free,
	// with a reservation there in the backfill modes.
	busy := func(cfg sched.Config, st starts) scenario {
		return scenario{
			name:    cfg.Backfill.Mode + ": a busy listed node",
			cfg:     cfg,
			nodes:   []sched.NodeFree{node("n1", 0, 16*gib, total(8)), node("n2", 8, 16*gib)},
			running: []*api.Job{running(9, "n1", 8, 30*time.Minute)},
			jobs:    []*api.Job{job(1, nodelist("n1"), limit(time.Hour))},
			reasons: reasons{1: api.ReasonResources},
			starts:  st,
		}
	}
	tests = append(tests, busy(none, starts{}), busy(easy, starts{1: t0.Add(30 * time.Minute)}),
		busy(cons, starts{1: t0.Add(30 * time.Minute)}))
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.run(t) })
	}
}
