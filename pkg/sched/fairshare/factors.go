package fairshare

import (
	"cmp"
	"fmt"
	"math"
	"slices"

	"github.com/gsched/gsched/pkg/api"
)

// calc holds the per-node quantities of one computation, indexed like
// Tree.nodes.
type calc struct {
	t     *Tree
	scale float64   // the largest usage; sub holds usage divided by it
	sub   []float64 // subtree usage, scaled
	lf    []float64 // fair tree: level fairness
	fs    []float64 // the factor of user nodes
	ueff  []float64 // classic: effective usage
	snorm []float64 // classic: normalised shares (product along the path)

	// Fair Tree ranking state.
	rank    float64 // rank given to the last user visited
	untied  float64 // rank the next user gets unless tied
	visited int
}

// Factors returns each user association's fair-share factor in [0,1], for
// algo FairTree or Classic.
//
// usage holds each association's decayed raw usage (billing-seconds); a
// missing association has 0, and associations that are not in the tree are
// ignored. A negative, NaN or infinite usage of an association in the tree
// is an error wrapping api.ErrInvalid, as is an unknown algorithm.
func (t *Tree) Factors(algo string, usage map[api.Assoc]float64) (map[api.Assoc]float64, error) {
	c, err := t.compute(algo, usage)
	if err != nil {
		return nil, err
	}
	out := make(map[api.Assoc]float64, len(t.users))
	for _, u := range t.users {
		out[t.nodes[u].assoc] = c.fs[u]
	}
	return out, nil
}

func (t *Tree) compute(algo string, usage map[api.Assoc]float64) (*calc, error) {
	if algo != FairTree && algo != Classic {
		return nil, fmt.Errorf("%w: unknown fair-share algorithm %q (want %q or %q)", api.ErrInvalid, algo, FairTree, Classic)
	}
	c := &calc{t: t, sub: make([]float64, len(t.nodes)), fs: make([]float64, len(t.nodes))}
	// Read usage in tree order (deterministic), checking it.
	for _, u := range t.users {
		v := usage[t.nodes[u].assoc]
		if v < 0 || math.IsNaN(v) || math.IsInf(v, 0) {
			a := t.nodes[u].assoc
			return nil, fmt.Errorf("%w: usage of %s/%s is %v: want a finite number ≥ 0", api.ErrInvalid, a.Account, a.User, v)
		}
		c.sub[u] = v
		c.scale = max(c.scale, v)
	}
	// Scale by the largest usage so that sums cannot overflow; every
	// quantity used below is a ratio, so scaling changes nothing else.
	if c.scale > 0 {
		for _, u := range t.users {
			c.sub[u] /= c.scale
		}
	}
	// Subtree sums, children before parents (reverse pre-order).
	for k := len(t.pre) - 1; k > 0; k-- {
		n := t.pre[k]
		c.sub[t.nodes[n].parent] += c.sub[n]
	}
	if algo == FairTree {
		c.fairTree()
	} else {
		c.classic()
	}
	return c, nil
}

// shareFrac is a node's shares over the sum of its siblings' shares
// (itself included); root's is 1.
func (c *calc) shareFrac(n int) float64 {
	p := c.t.nodes[n].parent
	if p < 0 {
		return 1
	}
	if c.t.sibShares[p] == 0 {
		return 0
	}
	return float64(c.t.nodes[n].shares) / float64(c.t.sibShares[p])
}

// usageFrac is a node's subtree usage over its siblings' (itself
// included); 0 when none of them has usage. Root's is 1 when the tree has
// usage.
func (c *calc) usageFrac(n int) float64 {
	p := c.t.nodes[n].parent
	if p < 0 {
		if c.sub[n] > 0 {
			return 1
		}
		return 0
	}
	if c.sub[p] == 0 {
		return 0
	}
	return c.sub[n] / c.sub[p]
}

// levelFS is Fair Tree's Level Fairness S/U: 0 without shares, +Inf
// without usage.
func levelFS(s, u float64) float64 {
	switch {
	case s == 0:
		return 0
	case u == 0:
		return math.Inf(1)
	}
	return s / u
}

func (c *calc) fairTree() {
	t := c.t
	c.lf = make([]float64, len(t.nodes))
	for _, n := range t.pre {
		c.lf[n] = levelFS(c.shareFrac(n), c.usageFrac(n))
	}
	if t.userCount == 0 {
		return
	}
	c.untied = float64(t.userCount)
	c.visit(slices.Clone(t.nodes[0].children), false)
}

// visit ranks the users under a group of siblings: the children of one
// account, or of several accounts that tied at the level above, each
// compared by its own Level Fairness. Siblings are taken in runs of equal
// Level Fairness, best first. The users of a run share one rank; the
// accounts of a run have their children merged into one group, visited
// next, whose first user shares that rank too when the run had users
// (Slurm: "a user with the same Level Fairshare as a sibling account
// receives the same rank as its highest ranked user"). entryTied makes the
// first run of the group tie with the user ranked just before it.
func (c *calc) visit(group []int, entryTied bool) {
	slices.SortFunc(group, func(a, b int) int {
		if c := cmp.Compare(c.lf[b], c.lf[a]); c != 0 {
			return c
		}
		return cmp.Compare(a, b) // only for a fixed order; runs ignore it
	})
	for i := 0; i < len(group); {
		j := i + 1
		for j < len(group) && c.lf[group[j]] == c.lf[group[i]] {
			j++
		}
		tied := entryTied && i == 0
		var merged []int
		for _, n := range group[i:j] {
			if c.t.nodes[n].user {
				c.assign(n, tied)
				tied = true
			} else {
				merged = append(merged, c.t.nodes[n].children...)
			}
		}
		if len(merged) > 0 {
			c.visit(merged, tied)
		}
		i = j
	}
}

// assign gives the next user its rank: a fresh one (the count of users not
// yet ranked) or, tied, the rank of the user before it.
func (c *calc) assign(n int, tied bool) {
	if !tied || c.visited == 0 {
		c.rank = c.untied
	}
	c.fs[n] = c.rank / float64(c.t.userCount)
	c.untied--
	c.visited++
}

// classic is Slurm's classic algorithm: F = 2^(−U_eff/S_norm).
func (c *calc) classic() {
	t := c.t
	c.snorm = make([]float64, len(t.nodes))
	c.ueff = make([]float64, len(t.nodes))
	total := c.sub[0]
	for _, n := range t.pre {
		p := t.nodes[n].parent
		if p < 0 {
			c.snorm[n] = 1
			c.ueff[n] = c.usageFrac(n)
			continue
		}
		sf := c.shareFrac(n)
		c.snorm[n] = c.snorm[p] * sf
		un := 0.0
		if total > 0 {
			un = c.sub[n] / total
		}
		if p == 0 {
			// The first tier below root: effective usage is the actual one.
			c.ueff[n] = un
		} else {
			c.ueff[n] = un + (c.ueff[p]-un)*sf
		}
	}
	for _, u := range t.users {
		switch {
		case c.snorm[u] == 0:
			c.fs[u] = 0
		case total == 0:
			c.fs[u] = 1
		default:
			c.fs[u] = clamp01(math.Exp2(-c.ueff[u] / c.snorm[u]))
		}
	}
}

func clamp01(v float64) float64 {
	switch {
	case math.IsNaN(v) || v < 0:
		return 0
	case v > 1:
		return 1
	}
	return v
}
