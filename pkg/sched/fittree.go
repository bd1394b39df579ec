package sched

// fitTree answers "which is the first node (by name) of this partition with
// at least these CPUs, memory and GPUs free now?" in about O(log n): a
// segment tree over the partition's UP nodes in name order whose inner
// entries hold the largest free amount of each resource below them.
// A subtree is entered only if each of its maxima is large enough; the
// maxima may come from different nodes, so a search can back out of a
// subtree, but on real clusters that is rare.
type fitTree struct {
	size int // leaves, a power of two
	cpus []int
	mem  []int64
	gpus []int
}

func newFitTree(n int) *fitTree {
	size := 1
	for size < n {
		size *= 2
	}
	t := &fitTree{size: size, cpus: make([]int, 2*size), mem: make([]int64, 2*size), gpus: make([]int, 2*size)}
	for i := range t.cpus {
		t.cpus[i], t.mem[i], t.gpus[i] = -1, -1, -1 // empty leaves never fit
	}
	return t
}

// set records what leaf pos has free and updates the maxima above it.
func (t *fitTree) set(pos, cpus int, mem int64, gpus int) {
	x := pos + t.size
	t.cpus[x], t.mem[x], t.gpus[x] = cpus, mem, gpus
	for x > 1 {
		x /= 2
		l, r := 2*x, 2*x+1
		t.cpus[x] = max(t.cpus[l], t.cpus[r])
		t.mem[x] = max(t.mem[l], t.mem[r])
		t.gpus[x] = max(t.gpus[l], t.gpus[r])
	}
}

// find returns the first leaf at or after from where d fits now, or -1.
func (t *fitTree) find(from int, d *demand) int {
	return t.descend(1, 0, t.size, from, d)
}

func (t *fitTree) descend(x, lo, hi, from int, d *demand) int {
	if hi <= from || t.cpus[x] < d.cpus || t.mem[x] < d.mem || t.gpus[x] < d.gpus {
		return -1
	}
	if hi-lo == 1 {
		return lo
	}
	mid := (lo + hi) / 2
	if r := t.descend(2*x, lo, mid, from, d); r >= 0 {
		return r
	}
	return t.descend(2*x+1, mid, hi, from, d)
}
