package topology

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"
	"unicode"

	"github.com/gsched/gsched/pkg/hostlist"
)

// Switch is one switch of the cluster network as configured, in the style
// of a Slurm topology.conf line: a leaf switch lists the nodes attached to
// it ("SwitchName=s1 Nodes=gpu[01-08]"), an inner switch lists its child
// switches ("SwitchName=top Switches=s[1-2]").
type Switch struct {
	// Name is the switch name; it must be a single hostlist name (no white
	// space, commas or brackets) so that other switches can list it.
	Name string `toml:"name"`
	// Nodes is the hostlist of the nodes attached directly (leaf switch),
	// e.g. "gpu[01-08]".
	Nodes string `toml:"nodes,omitempty"`
	// Switches is the hostlist of the child switch names (inner switch),
	// e.g. "leaf[1-4]".
	Switches string `toml:"switches,omitempty"`
}

// Network is a validated switch tree (or forest) built by NewNetwork, used
// to place multi-node jobs on nodes under as few leaf switches as
// possible.
//
// The level of a switch is its number of levels above the leaves: 0 for a
// leaf switch, one more than the highest of its children for an inner
// switch. A Network is immutable: its methods are safe for concurrent use.
// A nil *Network is usable and behaves as a network without switches.
type Network struct {
	config   []Switch
	sw       []netSwitch        // post-order: children before their parent
	leafName []string           // leaf number (tree order) -> switch name
	nodes    map[string]netNode // attached node -> its leaf
}

// netSwitch is one switch of a Network, numbered in post-order.
type netSwitch struct {
	level    int
	leaf     int   // leaf number, or -1 for an inner switch
	lo, hi   int   // the leaves of its subtree are leaf numbers [lo, hi)
	children []int // switch numbers, in configured order
}

// netNode is an attached node: its number (for de-duplication) and leaf.
type netNode struct {
	id, leaf int32
}

// netErr returns an error wrapping ErrInvalid about a network.
func netErr(format string, a ...any) error {
	return fmt.Errorf("%w: network: %s", ErrInvalid, fmt.Sprintf(format, a...))
}

// listError is a hostlist error in a switch; it wraps both ErrInvalid and
// the hostlist error.
type listError struct {
	msg string
	err error
}

func (e *listError) Error() string   { return e.msg }
func (e *listError) Unwrap() []error { return []error{ErrInvalid, e.err} }

// listErr reports the hostlist error err in the field of switch name, on
// one line (control characters in the expression are escaped).
func listErr(name, field string, err error) error {
	msg := strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			return '?'
		}
		return r
	}, err.Error())
	return &listError{msg: fmt.Sprintf("%v: network: switch %q: %s: %s", ErrInvalid, name, field, msg), err: err}
}

// NewNetwork validates the switches and builds the tree. It refuses, with
// an error wrapping ErrInvalid that names the switch: an empty, malformed
// or duplicate switch name, a switch with both Nodes and Switches or with
// neither, an unparsable hostlist, an unknown child switch, a switch
// listed by two parents, a cycle, and a node attached to two leaf
// switches. A name repeated inside one list counts once. An empty slice
// gives a usable empty Network.
func NewNetwork(sw []Switch) (*Network, error) {
	n := len(sw)
	index := make(map[string]int, n)
	for i, s := range sw {
		if strings.TrimSpace(s.Name) == "" {
			return nil, netErr("switch #%d has an empty name", i+1)
		}
		if names, err := hostlist.Expand(s.Name); err != nil || len(names) != 1 || names[0] != s.Name {
			return nil, netErr("switch %q: invalid name (want one host name without spaces, commas or brackets)", s.Name)
		}
		if j, dup := index[s.Name]; dup {
			return nil, netErr("duplicate switch name %q (switches #%d and #%d)", s.Name, j+1, i+1)
		}
		index[s.Name] = i
		hasNodes, hasSwitches := strings.TrimSpace(s.Nodes) != "", strings.TrimSpace(s.Switches) != ""
		switch {
		case hasNodes && hasSwitches:
			return nil, netErr("switch %q has both nodes and switches", s.Name)
		case !hasNodes && !hasSwitches:
			return nil, netErr("switch %q has neither nodes nor switches", s.Name)
		}
	}

	parent := make([]int, n)
	children := make([][]int, n)
	attached := make([][]string, n) // leaf switch -> its nodes, de-duplicated
	owner := make(map[string]int)   // node -> leaf switch
	for i := range parent {
		parent[i] = -1
	}
	for i, s := range sw {
		if strings.TrimSpace(s.Nodes) != "" {
			names, err := hostlist.Expand(s.Nodes)
			if err != nil {
				return nil, listErr(s.Name, "nodes", err)
			}
			for _, name := range names {
				if j, ok := owner[name]; ok {
					if j != i {
						return nil, netErr("node %q is attached to two switches: %q and %q", name, sw[j].Name, s.Name)
					}
					continue
				}
				owner[name] = i
				attached[i] = append(attached[i], name)
			}
			continue
		}
		names, err := hostlist.Expand(s.Switches)
		if err != nil {
			return nil, listErr(s.Name, "switches", err)
		}
		for _, name := range names {
			if _, ok := index[name]; !ok {
				return nil, netErr("switch %q: unknown child switch %q", s.Name, name)
			}
		}
		for _, name := range names {
			j := index[name]
			switch parent[j] {
			case i:
				continue // listed twice by the same switch
			case -1:
				parent[j] = i
				children[i] = append(children[i], j)
			default:
				return nil, netErr("switch %q has two parents: %q and %q", name, sw[parent[j]].Name, s.Name)
			}
		}
	}

	net := &Network{
		config: slices.Clone(sw),
		sw:     make([]netSwitch, 0, n),
		nodes:  make(map[string]netNode, len(owner)),
	}
	num := make([]int, n) // configured index -> switch number
	reached := make([]bool, n)
	type frame struct{ i, next, lo int }
	var stack []frame
	for root := range n {
		if parent[root] != -1 {
			continue
		}
		reached[root] = true
		stack = append(stack[:0], frame{i: root, lo: len(net.leafName)})
		for len(stack) > 0 {
			f := &stack[len(stack)-1]
			if f.next < len(children[f.i]) {
				c := children[f.i][f.next]
				f.next++
				reached[c] = true
				stack = append(stack, frame{i: c, lo: len(net.leafName)})
				continue
			}
			ns := netSwitch{leaf: -1, lo: f.lo}
			if len(children[f.i]) == 0 {
				ns.leaf = len(net.leafName)
				for _, name := range attached[f.i] {
					net.nodes[name] = netNode{id: int32(len(net.nodes)), leaf: int32(ns.leaf)}
				}
				net.leafName = append(net.leafName, sw[f.i].Name)
			}
			for _, c := range children[f.i] {
				ns.level = max(ns.level, net.sw[num[c]].level+1)
				ns.children = append(ns.children, num[c])
			}
			ns.hi = len(net.leafName)
			num[f.i] = len(net.sw)
			net.sw = append(net.sw, ns)
			stack = stack[:len(stack)-1]
		}
	}
	for i := range n {
		if !reached[i] {
			// Every switch has at most one parent, so a switch no root
			// reaches has a cycle above it: follow the parents to it.
			on := make(map[int]bool)
			j := i
			for !on[j] {
				on[j] = true
				j = parent[j]
			}
			path := []string{sw[j].Name}
			for k := parent[j]; k != j; k = parent[k] {
				path = append(path, sw[k].Name)
			}
			path = append(path, sw[j].Name)
			slices.Reverse(path)
			return nil, netErr("switch %q is in a cycle: %s", sw[j].Name, strings.Join(path, " -> "))
		}
	}
	return net, nil
}

// Leaf returns the leaf switch node is attached to, and false when it is
// attached to none.
func (n *Network) Leaf(node string) (string, bool) {
	if n == nil {
		return "", false
	}
	nd, ok := n.nodes[node]
	if !ok {
		return "", false
	}
	return n.leafName[nd.leaf], true
}

// Switches returns a copy of the configured switches, in the configured
// order (nil for a nil or empty Network).
func (n *Network) Switches() []Switch {
	if n == nil || len(n.config) == 0 {
		return nil
	}
	return slices.Clone(n.config)
}

// groupKey is the sort key of a group of candidates that share a leaf
// switch (or of one unattached candidate): the biggest group first, then
// attached before unattached, then the earliest first candidate (its
// position in cands). Sizes and positions are below 1<<31.
func groupKey(size int, unattached bool, first int) uint64 {
	k := (math.MaxUint32-uint64(size))<<32 | uint64(first)
	if unattached {
		k |= 1 << 31
	}
	return k
}

// groupOfKey returns the size and the first position of a groupKey.
func groupOfKey(k uint64) (size, first int) {
	return int(math.MaxUint32 - k>>32), int(k & (1<<31 - 1))
}

// Select picks count nodes from cands (node names, in the caller's
// preference order; nodes the network does not know are allowed) for one
// gang job, using as few leaf switches as it can:
//
//  1. it finds the lowest switch (by level) whose subtree holds at least
//     count candidates; among switches of that level the one with the
//     fewest candidates (best fit: bigger holes stay whole for bigger
//     jobs), then the one whose first candidate comes earliest in cands.
//     When no switch holds count candidates, a virtual root above every
//     switch and every unattached candidate is used;
//  2. inside it, it takes whole leaves, those with the most candidates
//     first (ties: the leaf whose first candidate comes earliest in cands),
//     then what is still needed from the next leaf;
//  3. within a leaf it takes candidates in cands order.
//
// A candidate attached to no switch counts as a leaf of its own, taken only
// after every attached candidate. With maxLeaves > 0 the result may use at
// most maxLeaves leaves: switches whose choice would need more are passed
// over, and when even the virtual root needs more Select returns nil, the
// fewest leaves count nodes need, and false.
//
// The result is in cands order, without duplicates (a name repeated in
// cands counts once); leaves is the number of distinct leaves it uses. With
// a nil or empty Network Select returns the first count distinct
// candidates and leaves = 0. When count <= 0 or count exceeds the distinct
// candidates it returns nil, 0, false. Select is deterministic and does not
// modify cands.
func (n *Network) Select(cands []string, count int, maxLeaves int) (chosen []string, leaves int, ok bool) {
	if count <= 0 || uint64(len(cands)) >= 1<<31 {
		return nil, 0, false
	}
	if n == nil || len(n.sw) == 0 {
		return firstDistinct(cands, count)
	}

	// Group the distinct candidates: by leaf for attached ones
	// (0..nl-1), one group each for the others (nl, nl+1, ...).
	nl := len(n.leafName)
	group := make([]int32, len(cands)) // -1: a duplicate
	size := make([]int, nl)
	first := make([]int, nl)
	seen := make([]bool, len(n.nodes))
	var unattached []int // positions of the unattached candidates
	var otherSeen map[string]bool
	distinct := 0
	for pos, name := range cands {
		group[pos] = -1
		if nd, ok := n.nodes[name]; ok {
			if seen[nd.id] {
				continue
			}
			seen[nd.id] = true
			if size[nd.leaf] == 0 {
				first[nd.leaf] = pos
			}
			size[nd.leaf]++
			group[pos] = nd.leaf
		} else {
			if otherSeen == nil {
				otherSeen = make(map[string]bool)
			}
			if otherSeen[name] {
				continue
			}
			otherSeen[name] = true
			group[pos] = int32(nl + len(unattached))
			unattached = append(unattached, pos)
		}
		distinct++
	}
	if count > distinct {
		return nil, 0, false
	}

	// Candidates under each switch, children before parents.
	held := make([]int, len(n.sw))
	earliest := make([]int, len(n.sw))
	for i, s := range n.sw {
		if s.leaf >= 0 {
			held[i], earliest[i] = size[s.leaf], first[s.leaf]
			continue
		}
		earliest[i] = len(cands)
		for _, c := range s.children {
			if held[c] > 0 {
				held[i] += held[c]
				earliest[i] = min(earliest[i], earliest[c])
			}
		}
	}
	better := func(a, b int) int {
		return cmp.Or(
			cmp.Compare(n.sw[a].level, n.sw[b].level),
			cmp.Compare(held[a], held[b]),
			cmp.Compare(earliest[a], earliest[b]),
			cmp.Compare(a, b))
	}

	// plan puts the keys of the groups of switch s (-1: the virtual
	// root) in order and returns how many groups count nodes take.
	var keys []uint64
	plan := func(s int) int {
		keys = keys[:0]
		lo, hi := 0, nl
		if s >= 0 {
			lo, hi = n.sw[s].lo, n.sw[s].hi
		}
		for l := lo; l < hi; l++ {
			if size[l] > 0 {
				keys = append(keys, groupKey(size[l], false, first[l]))
			}
		}
		if s < 0 {
			for _, pos := range unattached {
				keys = append(keys, groupKey(1, true, pos))
			}
		}
		slices.Sort(keys)
		need, k := count, 0
		for need > 0 {
			sz, _ := groupOfKey(keys[k])
			need -= sz
			k++
		}
		return k
	}

	best := -1
	for i := range n.sw {
		if held[i] >= count && (best < 0 || better(i, best) < 0) {
			best = i
		}
	}
	leaves = -1
	if best >= 0 {
		leaves = plan(best)
	}
	if maxLeaves > 0 && leaves > maxLeaves {
		// Slow path: try the other switches that hold enough, in order.
		var fit []int
		for i := range n.sw {
			if held[i] >= count && i != best {
				fit = append(fit, i)
			}
		}
		slices.SortFunc(fit, better)
		leaves = -1
		for _, i := range fit {
			if k := plan(i); k <= maxLeaves {
				leaves = k
				break
			}
		}
	}
	if leaves < 0 {
		leaves = plan(-1)
		if maxLeaves > 0 && leaves > maxLeaves {
			return nil, leaves, false
		}
	}

	// Quotas: whole groups, then the rest from the next one.
	quota := make([]int, nl+len(unattached))
	need := count
	for _, k := range keys[:leaves] {
		sz, pos := groupOfKey(k)
		g := group[pos]
		quota[g] = min(sz, need)
		need -= quota[g]
	}
	chosen = make([]string, 0, count)
	for pos, g := range group {
		if g >= 0 && quota[g] > 0 {
			quota[g]--
			chosen = append(chosen, cands[pos])
		}
	}
	return chosen, leaves, true
}

// firstDistinct returns the first count distinct names of cands.
func firstDistinct(cands []string, count int) ([]string, int, bool) {
	seen := make(map[string]bool, count)
	out := make([]string, 0, count)
	for _, name := range cands {
		if len(out) == count {
			break
		}
		if !seen[name] {
			seen[name] = true
			out = append(out, name)
		}
	}
	if len(out) < count {
		return nil, 0, false
	}
	return out, 0, true
}
