package state

import (
	"cmp"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/gsched/gsched/pkg/api"
)

// runs builds jobs as the index yields them: n jobs dealt round-robin to
// k groups, each group's run in ID order.
func runs(n, k int) []*api.Job {
	var out []*api.Job
	for g := range k {
		for i := g; i < n; i += k {
			out = append(out, &api.Job{ID: api.JobID(i + 1)})
		}
	}
	return out
}

func TestSortByID(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	shuffled := runs(50, 1)
	rng.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	tests := []struct {
		name string
		in   []*api.Job
	}{
		{"empty", nil},
		{"one", runs(1, 1)},
		{"one run", runs(100, 1)},
		{"two runs", runs(100, 2)},
		{"three runs (odd)", runs(100, 3)},
		{"runs of one", runs(7, 7)},
		{"many uneven runs", runs(1000, 37)},
		{"no order at all", shuffled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := slices.Clone(tt.in)
			slices.SortFunc(want, func(a, b *api.Job) int { return cmp.Compare(a.ID, b.ID) })
			if got := sortByID(slices.Clone(tt.in)); !slices.Equal(got, want) {
				t.Errorf("sortByID = %v, want %v", ids(got), ids(want))
			}
		})
	}
}

func ids(jobs []*api.Job) []api.JobID {
	out := make([]api.JobID, len(jobs))
	for i, j := range jobs {
		out[i] = j.ID
	}
	return out
}

// BenchmarkSortByID: a million pending jobs of 1 and of 100 users, in the
// order the state index yields them.
func BenchmarkSortByID(b *testing.B) {
	for _, users := range []int{1, 100} {
		in := runs(1000000, users)
		b.Run(map[int]string{1: "1user", 100: "100users"}[users], func(b *testing.B) {
			for range b.N {
				sortByID(slices.Clone(in))
			}
		})
	}
}
