package topology

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"

	"github.com/gsched/gsched/pkg/api"
)

// without returns 0..n-1 minus busy.
func without(n int, busy ...int) []int {
	var out []int
	for g := 0; g < n; g++ {
		if !slices.Contains(busy, g) {
			out = append(out, g)
		}
	}
	return out
}

// TestSelectPresets: every answer here was worked out by hand from the
// rules in doc.go; the comment says which rule decides.
func TestSelectPresets(t *testing.T) {
	nic := Options{NearNIC: true}
	tests := []struct {
		preset string
		free   []int
		n      int
		opts   Options
		want   []int
	}{
		// pcie-8gpu-2socket: switches {0,1} {2,3} | {4,5} {6,7}; NICs on {2,3} and {6,7}.
		{"pcie-8gpu-2socket", without(8), 1, Options{}, []int{0}},                // all equal; keep NIC-near GPUs; lowest
		{"pcie-8gpu-2socket", without(8), 2, Options{}, []int{0, 1}},             // PIX pair, not the NIC pairs
		{"pcie-8gpu-2socket", without(8), 4, Options{}, []int{0, 1, 2, 3}},       // one socket: worst NODE not SYS
		{"pcie-8gpu-2socket", without(8), 5, Options{}, []int{0, 1, 2, 3, 4}},    // 4+1 (sum 48) beats 3+2 (50)
		{"pcie-8gpu-2socket", without(8), 8, Options{}, without(8)},              // everything
		{"pcie-8gpu-2socket", without(8, 1, 4), 2, Options{}, []int{2, 3}},       // intact switch pair, not {0,5} (SYS)
		{"pcie-8gpu-2socket", without(8, 2), 1, Options{}, []int{3}},             // best fit: 3 lost its partner
		{"pcie-8gpu-2socket", without(8, 6), 2, Options{}, []int{4, 5}},          // keeps socket 0 whole for a 4-GPU job
		{"pcie-8gpu-2socket", without(8, 0), 3, Options{}, []int{1, 2, 3}},       // fills the broken socket
		{"pcie-8gpu-2socket", without(8, 0, 2, 4, 6), 2, Options{}, []int{1, 3}}, // no pair left: NODE on one socket
		{"pcie-8gpu-2socket", without(8), 2, nic, []int{2, 3}},                   // NearNIC: the pair on mlx5_0's switch
		{"pcie-8gpu-2socket", without(8), 1, nic, []int{2}},                      // NearNIC: PIX to a NIC
		{"pcie-8gpu-2socket", without(8, 2, 3), 2, nic, []int{6, 7}},             // NearNIC: the other NIC's pair
		{"pcie-8gpu-2socket", []int{0, 1, 6}, 2, nic, []int{0, 1}},               // links first: PIX pair beats NIC
		{"nvlink-pairs-4gpu", without(4), 2, Options{}, []int{0, 1}},             // NVLink pair
		{"nvlink-pairs-4gpu", without(4, 0), 2, Options{}, []int{2, 3}},          // NVLink {2,3}, not {1,2} (PHB)
		{"nvlink-pairs-4gpu", without(4, 1), 2, Options{}, []int{2, 3}},          // same
		{"nvlink-pairs-4gpu", without(4, 2), 1, Options{}, []int{3}},             // leaves the 0-1 bridge intact
		{"nvlink-pairs-4gpu", without(4), 3, Options{}, []int{0, 1, 2}},          // every triple costs 9
		{"dgx-h100", without(8), 4, Options{}, []int{0, 1, 2, 3}},                // one NUMA node
		{"dgx-h100", without(8, 1), 4, Options{}, []int{4, 5, 6, 7}},             // node 0 has only 3 left
		{"dgx-h100", without(8, 4), 1, Options{}, []int{5}},                      // best fit: keep node 0 whole
		{"dgx-h100", without(8, 0), 2, Options{}, []int{1, 2}},                   // best fit on node 0
		{"dgx-h100", without(8), 5, Options{}, []int{0, 1, 2, 3, 4}},             // 4+1 leaves 3 together
		{"dgx-h100", without(8), 1, nic, []int{0}},                               // every GPU has a PIX NIC
		{"dgx-h100", without(8), 8, Options{}, without(8)},                       // everything
		{"dgx-h100", without(8), 9, Options{}, nil},                              // too many
		{"dgx-h100", []int{7, 7, 3, -1}, 2, Options{}, []int{3, 7}},              // duplicates and negatives dropped
		{"dgx-h100", []int{7, 3}, 0, Options{}, nil},                             // nothing asked
	}
	for _, tc := range tests {
		name := fmt.Sprintf("%s/free=%v/n=%d/nic=%v", tc.preset, tc.free, tc.n, tc.opts.NearNIC)
		t.Run(name, func(t *testing.T) {
			got := Select(mustPreset(t, tc.preset), tc.free, tc.n, tc.opts)
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Select = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestSelectNilTopology(t *testing.T) {
	tests := []struct {
		free []int
		n    int
		want []int
	}{
		{[]int{5, 3, 1, 3}, 2, []int{1, 3}},
		{[]int{5, 3, 1}, 3, []int{1, 3, 5}},
		{[]int{5}, 2, nil},
		{nil, 1, nil},
	}
	for _, tc := range tests {
		if got := Select(nil, tc.free, tc.n, Options{}); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Select(nil, %v, %d) = %v, want %v", tc.free, tc.n, got, tc.want)
		}
	}
	if got := Select(&api.GPUTopology{}, []int{2, 0}, 1, Options{}); !reflect.DeepEqual(got, []int{0}) {
		t.Errorf("empty topology: %v", got)
	}
}

func TestScore(t *testing.T) {
	pcie := mustPreset(t, "pcie-8gpu-2socket")
	tests := []struct {
		t     *api.GPUTopology
		gpus  []int
		worst Link
		sum   int
	}{
		{pcie, nil, Self, 0},
		{pcie, []int{3}, Self, 0},
		{pcie, []int{0, 1}, PIX, 2},
		{pcie, []int{0, 1, 2}, NODE, 12},
		{pcie, []int{0, 4}, SYS, 6},
		{mustPreset(t, "dgx-h100"), []int{0, 1, 2, 3, 4, 5, 6, 7}, NVLink, 28},
		{nil, []int{0, 1}, SYS, 6},
	}
	for _, tc := range tests {
		w, s := Score(tc.t, tc.gpus)
		if w != tc.worst || s != tc.sum {
			t.Errorf("Score(%v) = %v, %d; want %v, %d", tc.gpus, w, s, tc.worst, tc.sum)
		}
	}
}

func TestCPUsFor(t *testing.T) {
	dgx := mustPreset(t, "dgx-h100")
	unknown := mustPreset(t, "dgx-h100")
	unknown.NUMA[2] = -1
	tests := []struct {
		name string
		t    *api.GPUTopology
		gpus []int
		want string
	}{
		{"one node", dgx, []int{1, 3}, "0-55"},
		{"both nodes", dgx, []int{0, 5}, "0-111"},
		{"node 1", dgx, []int{7}, "56-111"},
		{"unknown NUMA", unknown, []int{1, 2}, ""},
		{"out of range", dgx, []int{8}, ""},
		{"nil", nil, []int{0}, ""},
		{"no GPUs", dgx, nil, ""},
	}
	for _, tc := range tests {
		got := CPUsFor(tc.t, tc.gpus)
		if FormatList(got) != tc.want || (tc.want == "" && got != nil) {
			t.Errorf("%s: CPUsFor = %v, want %q", tc.name, FormatList(got), tc.want)
		}
	}
}

// randomTopology builds a symmetric topology of m GPUs. Hierarchical ones
// look like real machines (NVLink pairs, switches, sockets, NICs); the
// others have arbitrary links and NUMA nodes.
func randomTopology(r *rand.Rand, m int, hierarchical bool) *api.GPUTopology {
	t := &api.GPUTopology{Links: square(m, func(i, j int) int { return 0 }), NUMA: make([]int, m)}
	sw := make([]int, m)
	for g := range sw {
		sw[g] = r.IntN(4)
		t.NUMA[g] = sw[g] / 2
		if !hierarchical {
			t.NUMA[g] = r.IntN(3) - 1
		}
	}
	between := [4][4]Link{}
	for a := 0; a < 4; a++ {
		for b := a; b < 4; b++ {
			l := PIX
			switch {
			case a != b && a/2 == b/2:
				l = []Link{PXB, PHB, NODE}[r.IntN(3)]
			case a != b:
				l = SYS
			}
			between[a][b], between[b][a] = l, l
		}
	}
	for i := 0; i < m; i++ {
		for j := i + 1; j < m; j++ {
			l := between[sw[i]][sw[j]]
			if r.IntN(4) == 0 {
				l = NVLink
			}
			if !hierarchical {
				l = Link(1 + r.IntN(6))
			}
			t.Links[i][j], t.Links[j][i] = int(l), int(l)
		}
	}
	for k := r.IntN(3); k > 0; k-- {
		nic := api.NIC{Name: fmt.Sprintf("mlx5_%d", k), NUMA: -1, Links: make([]int, m)}
		for g := range nic.Links {
			nic.Links[g] = 2 + r.IntN(5)
		}
		t.NICs = append(t.NICs, nic)
	}
	return t
}

// nextComb advances comb to the next n-subset of 0..m-1 in lexicographic
// order and reports whether there was one.
func nextComb(comb []int, m int) bool {
	n := len(comb)
	i := n - 1
	for i >= 0 && comb[i] == m-n+i {
		i--
	}
	if i < 0 {
		return false
	}
	comb[i]++
	for j := i + 1; j < n; j++ {
		comb[j] = comb[j-1] + 1
	}
	return true
}

func subsets(m, n int) [][]int {
	var out [][]int
	comb := make([]int, n)
	for i := range comb {
		comb[i] = i
	}
	for {
		out = append(out, append([]int(nil), comb...))
		if !nextComb(comb, m) {
			return out
		}
	}
}

// TestSelectProperties: on random topologies Select returns n distinct
// free GPUs (or nil), is deterministic, and its primary cost (worst link,
// sum, NUMA spread, NIC distance) equals the best of a brute force search;
// among the sets of that cost it leaves the best free set.
func TestSelectProperties(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for iter := 0; iter < 400; iter++ {
		m := 1 + r.IntN(10)
		topo := randomTopology(r, m, iter%2 == 0)
		free := r.Perm(m)[:r.IntN(m+1)]
		n := r.IntN(m + 2)
		opts := Options{NearNIC: r.IntN(2) == 0}
		got := Select(topo, free, n, opts)
		if again := Select(topo, slices.Clone(free), n, opts); !reflect.DeepEqual(got, again) {
			t.Fatalf("not deterministic: %v then %v", got, again)
		}
		if n < 1 || n > len(free) {
			if got != nil {
				t.Fatalf("free %v n %d: got %v, want nil", free, n, got)
			}
			continue
		}
		if len(got) != n || !slices.IsSorted(got) || len(slices.Compact(slices.Clone(got))) != n {
			t.Fatalf("free %v n %d: got %v", free, n, got)
		}
		for _, g := range got {
			if !slices.Contains(free, g) {
				t.Fatalf("free %v: chose busy GPU %d", free, g)
			}
		}
		// Brute force over the free GPUs in local numbering.
		cand := normalize(free)
		s := newSelector(topo, cand, opts)
		local := make([]int, n)
		for k, g := range got {
			local[k] = slices.Index(cand, g)
		}
		gotCost, gotRest := s.cost(local), s.rest(nil, local)
		bw, _ := Score(topo, got)
		for _, sub := range subsets(len(cand), n) {
			c := s.cost(sub)
			if c.less(gotCost) {
				t.Fatalf("free %v n %d: %v has cost %+v, better than chosen %v %+v", free, n, sub, c, got, gotCost)
			}
			globals := make([]int, n)
			for k, a := range sub {
				globals[k] = cand[a]
			}
			if w, _ := Score(topo, globals); w < bw {
				t.Fatalf("worst link %v of %v beats chosen %v (%v)", w, globals, got, bw)
			}
			if gotCost.less(c) {
				continue
			}
			switch r := compareRest(s.rest(nil, sub), gotRest); {
			case r > 0:
				t.Fatalf("free %v n %d: %v leaves a better free set than %v", free, n, sub, got)
			case r == 0 && lexLess(globals, got):
				t.Fatalf("free %v n %d: %v ties with %v and is smaller", free, n, globals, got)
			}
		}
	}
}

// TestGreedy checks the fallback for big searches: valid, deterministic,
// and on hierarchical machines as good on worst link as the exact search.
func TestGreedy(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for iter := 0; iter < 200; iter++ {
		m := 2 + r.IntN(12)
		topo := randomTopology(r, m, true)
		for g := range topo.Links { // no NVLink: keeps the hierarchy clean
			for h := range topo.Links[g] {
				if topo.Links[g][h] == int(NVLink) {
					topo.Links[g][h] = int(PIX)
				}
			}
		}
		cand := without(m)
		n := 1 + r.IntN(m)
		s := newSelector(topo, cand, Options{})
		g1, g2 := s.greedy(n), s.greedy(n)
		if !reflect.DeepEqual(g1, g2) || len(g1) != n || !slices.IsSorted(g1) || len(slices.Compact(slices.Clone(g1))) != n {
			t.Fatalf("greedy(%d) = %v, %v", n, g1, g2)
		}
		if gc, ec := s.cost(g1), s.cost(s.exhaustive(s.twins(), n)); gc.worst > ec.worst {
			t.Errorf("m %d n %d: greedy worst %v, exact %v\n%s", m, n, gc.worst, ec.worst, Format(topo))
		}
	}
	// Past 64 GPUs Select always takes the greedy path.
	big := &api.GPUTopology{Links: square(80, func(i, j int) int {
		if i/8 == j/8 {
			return int(NVLink)
		}
		return int(SYS)
	})}
	if got := Select(big, without(80, 0, 9), 8, Options{}); !reflect.DeepEqual(got, []int{16, 17, 18, 19, 20, 21, 22, 23}) {
		t.Errorf("80 GPUs: %v", got)
	}
}

// TestSelectMalformed: Select must not panic on topologies that fail
// Validate (ragged rows, values out of range, short NUMA or NIC lists).
func TestSelectMalformed(t *testing.T) {
	bad := &api.GPUTopology{
		Links: [][]int{{0, 9}, {-3}, {1, 1, 1, 1}},
		NUMA:  []int{0},
		NICs:  []api.NIC{{Links: []int{99}}},
	}
	for n := 0; n <= 5; n++ {
		got := Select(bad, []int{0, 1, 2, 3, 4}, n, Options{NearNIC: n%2 == 0})
		if n > 0 && len(got) != n {
			t.Errorf("n %d: %v", n, got)
		}
	}
}

func benchTopo(b *testing.B, name string) *api.GPUTopology {
	if name == "nvswitch-16" {
		return &api.GPUTopology{
			Links: square(16, func(i, j int) int { return int(NVLink) }),
			NUMA:  []int{0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1},
		}
	}
	if name == "random-16" { // no two GPUs alike: the slowest exact search
		return randomTopology(rand.New(rand.NewPCG(5, 6)), 16, false)
	}
	return mustPreset(b, name)
}

func BenchmarkSelect(b *testing.B) {
	cases := []struct {
		topo string
		free []int
		n    int
	}{
		{"dgx-h100", without(8), 1},
		{"dgx-h100", without(8), 4},
		{"dgx-h100", without(8, 2), 3},
		{"pcie-8gpu-2socket", without(8), 4},
		{"pcie-8gpu-2socket", without(8, 1, 4), 2},
		{"nvswitch-16", without(16), 8},
		{"nvswitch-16", without(16, 3), 4},
		{"random-16", without(16), 8},
		{"random-16", without(16), 2},
	}
	for _, tc := range cases {
		topo := benchTopo(b, tc.topo)
		b.Run(fmt.Sprintf("%s/free=%d/n=%d", tc.topo, len(tc.free), tc.n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				Select(topo, tc.free, tc.n, Options{})
			}
		})
	}
}
