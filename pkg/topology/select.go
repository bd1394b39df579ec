package topology

import (
	"math/bits"
	"slices"
	"sort"

	"github.com/gsched/gsched/pkg/api"
)

// Options tune Select.
type Options struct {
	// NearNIC prefers GPUs close to a NIC: set it for jobs that span nodes.
	NearNIC bool
}

// maxExhaustive is the most choices Select scores one by one; C(16,8) =
// 12870 fits, so every choice on a node of up to 16 GPUs is exact.
const maxExhaustive = 1 << 15

// Select chooses n GPUs among free (GPU indices) by the rules of the
// package documentation and returns them sorted. It returns nil when n < 1
// or fewer than n distinct free GPUs exist. With a nil topology it returns
// the n lowest free indices. Negative indices are ignored; indices the
// topology does not cover count as SYS to every other GPU, on an unknown
// NUMA node. Select does not modify its arguments and is deterministic.
func Select(t *api.GPUTopology, free []int, n int, opts Options) []int {
	cand := normalize(free)
	if n < 1 || n > len(cand) {
		return nil
	}
	if t == nil || len(t.Links) == 0 || n == len(cand) {
		return cand[:n:n]
	}
	s := newSelector(t, cand, opts)
	var local []int
	if classes := s.twins(); s.m <= 64 && countChoices(classes, n) <= maxExhaustive {
		local = s.exhaustive(classes, n)
	} else {
		local = s.greedy(n)
	}
	out := make([]int, n)
	for k, a := range local {
		out[k] = cand[a]
	}
	return out
}

// Score returns the worst link between any two of gpus and the sum of the
// links of all pairs (Self and 0 for fewer than two GPUs).
func Score(t *api.GPUTopology, gpus []int) (worst Link, sum int) {
	for i := range gpus {
		for j := i + 1; j < len(gpus); j++ {
			l := Between(t, gpus[i], gpus[j])
			worst = max(worst, l)
			sum += int(l)
		}
	}
	return worst, sum
}

// CPUsFor returns the CPUs of the NUMA nodes of gpus, sorted, for CPU
// binding. It returns nil (no binding) when the topology is nil or when
// any of the GPUs has no known NUMA node with known CPUs.
func CPUsFor(t *api.GPUTopology, gpus []int) []int {
	if t == nil || len(gpus) == 0 {
		return nil
	}
	seen := map[int]bool{}
	var out []int
	for _, g := range gpus {
		if g < 0 || g >= len(t.NUMA) || t.NUMA[g] < 0 || len(t.CPUs[t.NUMA[g]]) == 0 {
			return nil
		}
		if nd := t.NUMA[g]; !seen[nd] {
			seen[nd] = true
			out = append(out, t.CPUs[nd]...)
		}
	}
	return union(nil, out)
}

// normalize returns the distinct non-negative indices of free, sorted.
func normalize(free []int) []int {
	out := make([]int, 0, len(free))
	for _, g := range free {
		if g >= 0 {
			out = append(out, g)
		}
	}
	return union(nil, out)
}

// selector holds the candidates of one Select call in local numbering
// (0..m-1 over the sorted free list).
type selector struct {
	m      int
	link   [][]Link
	numa   []int  // NUMA node; unknown ones get distinct ids below -1
	nic    []Link // best link to any NIC (SYS when there is none)
	hasNIC bool
	opts   Options
	// Anti-stranding, only when m <= 64: adjacency masks per link level
	// (levels below the worst one present) and one mask per NUMA node.
	adj  [][]uint64
	numG []uint64
	all  uint64
}

func newSelector(t *api.GPUTopology, cand []int, opts Options) *selector {
	m := len(cand)
	s := &selector{m: m, opts: opts, hasNIC: len(t.NICs) > 0,
		link: make([][]Link, m), numa: make([]int, m), nic: make([]Link, m)}
	var present [SYS + 1]bool
	for a, g := range cand {
		s.link[a] = make([]Link, m)
		for b, h := range cand {
			s.link[a][b] = max(Between(t, g, h), Between(t, h, g))
			if a != b {
				present[s.link[a][b]] = true
			}
		}
		s.numa[a] = -2 - a
		if g < len(t.NUMA) && t.NUMA[g] >= 0 {
			s.numa[a] = t.NUMA[g]
		}
		s.nic[a] = SYS
		for _, nic := range t.NICs {
			s.nic[a] = min(s.nic[a], nicLink(nic, g))
		}
	}
	if m > 64 {
		return s
	}
	s.all = uint64(1)<<m - 1
	if m == 64 {
		s.all = ^uint64(0)
	}
	var levels []Link
	for l := NVLink; l <= SYS; l++ {
		if present[l] {
			levels = append(levels, l)
		}
	}
	if len(levels) > 0 {
		levels = levels[:len(levels)-1] // at the worst level all is one group
	}
	for _, l := range levels {
		adj := make([]uint64, m)
		for a := 0; a < m; a++ {
			for b := 0; b < m; b++ {
				if a != b && s.link[a][b] <= l {
					adj[a] |= 1 << b
				}
			}
		}
		s.adj = append(s.adj, adj)
	}
	var ids []int // NUMA node of each group in numG
	for a := 0; a < m; a++ {
		k := slices.Index(ids, s.numa[a])
		if k < 0 {
			k = len(ids)
			ids = append(ids, s.numa[a])
			s.numG = append(s.numG, 0)
		}
		s.numG[k] |= 1 << a
	}
	return s
}

// cost is the part of the ranking that depends on the set alone.
type cost struct {
	worst    Link
	sum      int
	numa     int
	nicWorst Link
	nicSum   int
}

func (c cost) less(d cost) bool {
	switch {
	case c.worst != d.worst:
		return c.worst < d.worst
	case c.sum != d.sum:
		return c.sum < d.sum
	case c.numa != d.numa:
		return c.numa < d.numa
	case c.nicWorst != d.nicWorst:
		return c.nicWorst < d.nicWorst
	}
	return c.nicSum < d.nicSum
}

func (s *selector) cost(set []int) cost {
	var c cost
	for i, a := range set {
		row := s.link[a]
		for _, b := range set[i+1:] {
			l := row[b]
			c.worst = max(c.worst, l)
			c.sum += int(l)
		}
		distinct := true
		for _, b := range set[:i] {
			if s.numa[b] == s.numa[a] {
				distinct = false
				break
			}
		}
		if distinct {
			c.numa++
		}
		if s.opts.NearNIC {
			c.nicWorst = max(c.nicWorst, s.nic[a])
			c.nicSum += int(s.nic[a])
		}
	}
	return c
}

// rest scores what a choice leaves free, into dst (higher is better,
// compared in order): per link level the sum of squared sizes of the
// groups of remaining GPUs connected at that level or better, the same
// per NUMA node, and without NearNIC how far the chosen GPUs are from a
// NIC. It returns nil when m > 64.
func (s *selector) rest(dst []int, set []int) []int {
	if s.m > 64 {
		return nil
	}
	var chosen uint64
	for _, a := range set {
		chosen |= 1 << a
	}
	left := s.all &^ chosen
	dst = dst[:0]
	for _, adj := range s.adj {
		sq := 0
		for rem := left; rem != 0; {
			comp := rem & -rem
			frontier := comp
			for frontier != 0 {
				a := bits.TrailingZeros64(frontier)
				frontier &^= 1 << a
				nb := adj[a] & rem &^ comp
				comp |= nb
				frontier |= nb
			}
			rem &^= comp
			k := bits.OnesCount64(comp)
			sq += k * k
		}
		dst = append(dst, sq)
	}
	sq := 0
	for _, g := range s.numG {
		k := bits.OnesCount64(g & left)
		sq += k * k
	}
	dst = append(dst, sq)
	if !s.opts.NearNIC && s.hasNIC {
		far := 0
		for _, a := range set {
			far += int(s.nic[a])
		}
		dst = append(dst, far)
	}
	return dst
}

// compareRest returns +1 when a leaves a better free set than b.
func compareRest(a, b []int) int {
	for i := range min(len(a), len(b)) {
		switch {
		case a[i] > b[i]:
			return 1
		case a[i] < b[i]:
			return -1
		}
	}
	return 0
}

// twins splits the candidates into classes of interchangeable GPUs: the
// same links to every other GPU, the same NUMA node and the same nearest
// NIC level. Swapping two twins changes neither a set's cost nor what it
// leaves free, so only how many GPUs are taken from each class matters.
// (Being twins is transitive for symmetric links, so comparing with the
// first member of a class is enough.) Classes and members are in index
// order.
func (s *selector) twins() [][]int {
	var classes [][]int
	for a := 0; a < s.m; a++ {
		placed := false
		for k, cl := range classes {
			if s.twin(cl[0], a) {
				classes[k] = append(cl, a)
				placed = true
				break
			}
		}
		if !placed {
			classes = append(classes, []int{a})
		}
	}
	return classes
}

func (s *selector) twin(a, b int) bool {
	if s.numa[a] != s.numa[b] || s.nic[a] != s.nic[b] {
		return false
	}
	for c := 0; c < s.m; c++ {
		if c != a && c != b && s.link[a][c] != s.link[b][c] {
			return false
		}
	}
	return true
}

// countChoices returns how many ways there are to take n GPUs from
// classes of the given sizes when only the count per class matters,
// stopping early past maxExhaustive.
func countChoices(classes [][]int, n int) int {
	ways := make([]int, n+1) // ways[k]: choices of k GPUs from the classes so far
	ways[0] = 1
	for _, cl := range classes {
		next := make([]int, n+1)
		for k, w := range ways {
			if w == 0 {
				continue
			}
			for c := 0; c <= len(cl) && k+c <= n; c++ {
				next[k+c] = min(next[k+c]+w, maxExhaustive+1)
			}
		}
		ways = next
	}
	return ways[n]
}

// exhaustive scores every choice of how many GPUs to take from each twin
// class (the lowest indices of each class) and keeps the best by cost,
// then by what it leaves free, then the smallest index list.
func (s *selector) exhaustive(classes [][]int, n int) []int {
	suffix := make([]int, len(classes)+1) // GPUs in classes[i:]
	for i := len(classes) - 1; i >= 0; i-- {
		suffix[i] = suffix[i+1] + len(classes[i])
	}
	var best, bestRest, curRest []int
	var bestCost cost
	set := make([]int, 0, n)
	sorted := make([]int, 0, n)
	// worst and sum of the links inside set only grow as GPUs are added,
	// so a partial set already worse than the best one is abandoned.
	var walk func(i, left int, worst Link, sum int)
	walk = func(i, left int, worst Link, sum int) {
		if best != nil && (worst > bestCost.worst || (worst == bestCost.worst && sum > bestCost.sum)) {
			return
		}
		if left == 0 {
			sorted = append(sorted[:0], set...)
			slices.Sort(sorted)
			c := s.cost(sorted)
			switch {
			case best == nil || c.less(bestCost):
				best, bestCost = append(best[:0], sorted...), c
				bestRest = s.rest(bestRest, best)
			case !bestCost.less(c):
				curRest = s.rest(curRest, sorted)
				if r := compareRest(curRest, bestRest); r > 0 || (r == 0 && lexLess(sorted, best)) {
					best = append(best[:0], sorted...)
					bestRest, curRest = curRest, bestRest
				}
			}
			return
		}
		if i == len(classes) || suffix[i] < left {
			return
		}
		// Take c = 0, 1, ... GPUs of class i, adding one at a time.
		base, w, sm := len(set), worst, sum
		walk(i+1, left, w, sm)
		for _, a := range classes[i][:min(left, len(classes[i]))] {
			for _, b := range set {
				w = max(w, s.link[a][b])
				sm += int(s.link[a][b])
			}
			set = append(set, a)
			walk(i+1, left-(len(set)-base), w, sm)
		}
		set = set[:base]
	}
	walk(0, n, Self, 0)
	return best
}

// greedy grows a set from every candidate in turn, each time adding the
// GPU with the best worst link to the set (then sum, then staying on the
// set's NUMA nodes, then NIC distance with NearNIC, then lowest index),
// and keeps the best grown set by the full ranking.
func (s *selector) greedy(n int) []int {
	var best, bestRest, curRest []int
	var bestCost cost
	in := make([]bool, s.m)
	for seed := 0; seed < s.m; seed++ {
		clear(in)
		set := []int{seed}
		in[seed] = true
		for len(set) < n {
			pick, pw, ps, pn, pnic := -1, SYS, 0, 0, SYS
			for b := 0; b < s.m; b++ {
				if in[b] {
					continue
				}
				w, sum, newNUMA := Self, 0, 1
				for _, a := range set {
					w = max(w, s.link[a][b])
					sum += int(s.link[a][b])
					if s.numa[a] == s.numa[b] {
						newNUMA = 0
					}
				}
				nic := Self
				if s.opts.NearNIC {
					nic = s.nic[b]
				}
				if pick < 0 || w < pw || (w == pw && (sum < ps || (sum == ps && (newNUMA < pn || (newNUMA == pn && nic < pnic))))) {
					pick, pw, ps, pn, pnic = b, w, sum, newNUMA, nic
				}
			}
			set = append(set, pick)
			in[pick] = true
		}
		sort.Ints(set)
		c := s.cost(set)
		switch {
		case best == nil || c.less(bestCost):
			best, bestCost = set, c
			bestRest = s.rest(bestRest, best)
		case !bestCost.less(c):
			curRest = s.rest(curRest, set)
			if r := compareRest(curRest, bestRest); r > 0 || (r == 0 && lexLess(set, best)) {
				best = set
				bestRest, curRest = curRest, bestRest
			}
		}
	}
	return best
}

func lexLess(a, b []int) bool {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return a[i] < b[i]
		}
	}
	return len(a) < len(b)
}
