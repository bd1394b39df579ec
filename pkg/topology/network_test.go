package topology

import (
	"errors"
	"fmt"
	"math/bits"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/gsched/gsched/pkg/hostlist"
)

func mustNetwork(t testing.TB, sw ...Switch) *Network {
	t.Helper()
	n, err := NewNetwork(sw)
	if err != nil {
		t.Fatalf("NewNetwork: %v", err)
	}
	return n
}

func split(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

// twoLeaves is s1: n[1-4], s2: n[5-8] under top.
var twoLeaves = []Switch{
	{Name: "s1", Nodes: "n[1-4]"},
	{Name: "s2", Nodes: "n[5-8]"},
	{Name: "top", Switches: "s[1-2]"},
}

// threeLevels is core over pods pa (la1: a[1-4], la2: a[5-8]) and pb
// (lb1: b[1-4], lb2: b[5-8]), configured out of order.
var threeLevels = []Switch{
	{Name: "core", Switches: "pa,pb"},
	{Name: "pb", Switches: "lb[1-2]"},
	{Name: "la1", Nodes: "a[1-4]"},
	{Name: "la2", Nodes: "a[5-8]"},
	{Name: "lb1", Nodes: "b[1-4]"},
	{Name: "lb2", Nodes: "b[5-8]"},
	{Name: "pa", Switches: "la1,la2"},
}

// bestFit has two pods of one level: p1 holds three leaves of 2 nodes
// (6), p2 one leaf of 5 and three of 1 (8).
var bestFit = []Switch{
	{Name: "l1", Nodes: "a[1-2]"},
	{Name: "l2", Nodes: "b[1-2]"},
	{Name: "l3", Nodes: "c[1-2]"},
	{Name: "l4", Nodes: "d[1-5]"},
	{Name: "l5", Nodes: "e1"},
	{Name: "l6", Nodes: "f1"},
	{Name: "l7", Nodes: "g1"},
	{Name: "p1", Switches: "l[1-3]"},
	{Name: "p2", Switches: "l[4-7]"},
	{Name: "top", Switches: "p[1-2]"},
}

func TestNetworkSelect(t *testing.T) {
	forest := []Switch{{Name: "s1", Nodes: "n[1-4]"}, {Name: "s2", Nodes: "n[5-8]"}}
	tests := []struct {
		name      string
		sw        []Switch
		cands     string
		count     int
		maxLeaves int
		want      string
		leaves    int
		ok        bool
	}{
		// Two leaves under one top switch.
		{"one fits best", twoLeaves, "n1,n2,n5,n6,n7", 2, 0, "n1,n2", 1, true},
		{"one smallest leaf", twoLeaves, "n1,n2,n5,n6,n7", 1, 0, "n1", 1, true},
		{"bigger leaf", twoLeaves, "n1,n2,n5,n6,n7", 3, 0, "n5,n6,n7", 1, true},
		{"top biggest leaf first", twoLeaves, "n1,n2,n5,n6,n7", 4, 0, "n1,n5,n6,n7", 2, true},
		{"all", twoLeaves, "n1,n2,n5,n6,n7", 5, 0, "n1,n2,n5,n6,n7", 2, true},
		{"too many", twoLeaves, "n1,n2,n5,n6,n7", 6, 0, "", 0, false},
		{"zero", twoLeaves, "n1,n2,n5,n6,n7", 0, 0, "", 0, false},
		{"negative", twoLeaves, "n1,n2,n5,n6,n7", -1, 0, "", 0, false},
		{"max 1 impossible", twoLeaves, "n1,n2,n5,n6,n7", 4, 1, "", 2, false},
		{"max 2 fits", twoLeaves, "n1,n2,n5,n6,n7", 4, 2, "n1,n5,n6,n7", 2, true},
		{"max 1 fits", twoLeaves, "n1,n2,n5,n6,n7", 3, 1, "n5,n6,n7", 1, true},
		{"cands order kept", twoLeaves, "n7,n1,n5,n2,n6", 4, 0, "n7,n1,n5,n6", 2, true},
		{"leaf tie earliest first", twoLeaves, "n5,n1,n6,n2", 2, 0, "n5,n6", 1, true},
		{"top tie earliest leaf first", twoLeaves, "n5,n1,n6,n2", 3, 0, "n5,n1,n6", 2, true},
		{"partial leaf in cands order", twoLeaves, "n8,n4,n6,n3,n5,n1", 4, 0, "n8,n4,n6,n5", 2, true},
		{"empty cands", twoLeaves, "", 1, 0, "", 0, false},

		// Duplicates count once.
		{"dups leaf", twoLeaves, "n1,n1,n2,n5,n5", 2, 0, "n1,n2", 1, true},
		{"dups top", twoLeaves, "n1,n1,n2,n5,n5", 3, 0, "n1,n2,n5", 2, true},
		{"dups too few", twoLeaves, "n1,n1,n2,n5,n5", 4, 0, "", 0, false},
		{"dups unattached", twoLeaves, "x1,x1,n1", 2, 0, "x1,n1", 2, true},

		// Unattached nodes: one leaf each, after attached ones.
		{"unattached skipped", twoLeaves, "x1,n1,x2,n5,n6", 3, 0, "n1,n5,n6", 2, true},
		{"unattached after attached", twoLeaves, "x1,n1,x2,n5,n6", 4, 0, "x1,n1,n5,n6", 3, true},
		{"unattached all", twoLeaves, "x1,n1,x2,n5,n6", 5, 0, "x1,n1,x2,n5,n6", 4, true},
		{"unattached max", twoLeaves, "x1,n1,x2,n5,n6", 4, 2, "", 3, false},
		{"only unknown", twoLeaves, "x1,x2,x3", 2, 0, "x1,x2", 2, true},
		{"only unknown max", twoLeaves, "x1,x2,x3", 2, 1, "", 2, false},

		// A forest: no switch holds n1,n2,n5.
		{"forest", forest, "n5,n1,n2", 3, 0, "n5,n1,n2", 2, true},
		{"forest one tree", forest, "n5,n1,n2", 2, 0, "n1,n2", 1, true},

		// Three levels: la1 a1-a3, la2 a5, lb1 b1-b2, lb2 b5-b6.
		{"deep leaf", threeLevels, "a1,b1,a5,b5,a2,b2,a3,b6", 3, 0, "a1,a2,a3", 1, true},
		{"deep leaf tie", threeLevels, "a1,b1,a5,b5,a2,b2,a3,b6", 2, 0, "b1,b2", 1, true},
		{"deep pod tie", threeLevels, "a1,b1,a5,b5,a2,b2,a3,b6", 4, 0, "a1,a5,a2,a3", 2, true},
		{"deep pod fewest", threeLevels, "a1,b1,a5,b5,a2,b2,a3,b6,b7", 4, 0, "a1,a5,a2,a3", 2, true},
		{"deep pod b", threeLevels, "b1,a1,a5,b5,a2,b2,a3,b6", 4, 0, "b1,b5,b2,b6", 2, true},
		{"deep core", threeLevels, "a1,b1,a5,b5,a2,b2,a3,b6", 5, 0, "a1,b1,a2,b2,a3", 2, true},
		{"deep core 3 leaves", threeLevels, "a1,b1,a5,b5,a2,b2,a3,b6", 6, 0, "a1,b1,b5,a2,b2,a3", 3, true},
		{"deep max 2", threeLevels, "a1,b1,a5,b5,a2,b2,a3,b6", 6, 2, "", 3, false},
		{"deep max 1", threeLevels, "a1,b1,a5,b5,a2,b2,a3,b6", 4, 1, "", 2, false},

		// Best fit by candidates, unless maxLeaves rules it out.
		{"best fit", bestFit, "a1,a2,b1,b2,c1,c2,d1,d2,d3,d4,d5,e1,f1,g1", 6, 0, "a1,a2,b1,b2,c1,c2", 3, true},
		{"best fit max 3", bestFit, "a1,a2,b1,b2,c1,c2,d1,d2,d3,d4,d5,e1,f1,g1", 6, 3, "a1,a2,b1,b2,c1,c2", 3, true},
		{"best fit max 2", bestFit, "a1,a2,b1,b2,c1,c2,d1,d2,d3,d4,d5,e1,f1,g1", 6, 2, "d1,d2,d3,d4,d5,e1", 2, true},
		{"best fit max 1", bestFit, "a1,a2,b1,b2,c1,c2,d1,d2,d3,d4,d5,e1,f1,g1", 6, 1, "", 2, false},
		{"best fit tie among ones", bestFit, "g1,a1,a2,b1,b2,c1,c2,d1,d2,d3,d4,d5,e1,f1", 6, 2, "g1,d1,d2,d3,d4,d5", 2, true},
		{"best fit leaf", bestFit, "a1,a2,b1,b2,c1,c2,d1,d2,d3,d4,d5,e1,f1,g1", 5, 0, "d1,d2,d3,d4,d5", 1, true},
		{"best fit top", bestFit, "a1,a2,b1,b2,c1,c2,d1,d2,d3,d4,d5,e1,f1,g1", 9, 0, "a1,a2,b1,b2,d1,d2,d3,d4,d5", 3, true},

		// No topology: the first count distinct candidates.
		{"empty network", nil, "c,a,a,b", 3, 1, "c,a,b", 0, true},
		{"empty network too many", nil, "c,a,a,b", 4, 0, "", 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n := mustNetwork(t, tc.sw...)
			cands := split(tc.cands)
			orig := slices.Clone(cands)
			got, leaves, ok := n.Select(cands, tc.count, tc.maxLeaves)
			if !slices.Equal(got, split(tc.want)) || leaves != tc.leaves || ok != tc.ok {
				t.Errorf("Select(%s, %d, %d) = %q, %d, %v; want %q, %d, %v",
					tc.cands, tc.count, tc.maxLeaves, got, leaves, ok, split(tc.want), tc.leaves, tc.ok)
			}
			if !tc.ok && got != nil {
				t.Errorf("failed Select returned non-nil %q", got)
			}
			if !slices.Equal(cands, orig) {
				t.Errorf("Select modified cands: %q", cands)
			}
			checkSelect(t, n, cands, tc.count, tc.maxLeaves, got, leaves, ok)
		})
	}
}

func TestNewNetworkErrors(t *testing.T) {
	leaf := Switch{Name: "s1", Nodes: "n[1-4]"}
	tests := []struct {
		name string
		sw   []Switch
		want string
	}{
		{"empty name", []Switch{leaf, {Nodes: "n5"}}, "switch #2 has an empty name"},
		{"blank name", []Switch{{Name: "  ", Nodes: "n5"}}, "switch #1 has an empty name"},
		{"space in name", []Switch{{Name: "a b", Nodes: "n5"}}, `switch "a b": invalid name`},
		{"padded name", []Switch{{Name: " a", Nodes: "n5"}}, `switch " a": invalid name`},
		{"bracket name", []Switch{{Name: "s[1-2]", Nodes: "n5"}}, `switch "s[1-2]": invalid name`},
		{"comma name", []Switch{{Name: "a,b", Nodes: "n5"}}, `switch "a,b": invalid name`},
		{"duplicate", []Switch{leaf, {Name: "s1", Nodes: "n5"}}, `duplicate switch name "s1" (switches #1 and #2)`},
		{"both", []Switch{{Name: "s2", Nodes: "n5", Switches: "s1"}, leaf}, `switch "s2" has both nodes and switches`},
		{"neither", []Switch{leaf, {Name: "s2"}}, `switch "s2" has neither nodes nor switches`},
		{"blank lists", []Switch{{Name: "s2", Nodes: " ", Switches: "\t"}}, `switch "s2" has neither nodes nor switches`},
		{"bad nodes", []Switch{{Name: "s2", Nodes: "n[1-"}}, `switch "s2": nodes: invalid hostlist`},
		{"bad nodes range", []Switch{{Name: "s2", Nodes: "n[3-1]"}}, `switch "s2": nodes: invalid hostlist`},
		{"bad nodes newline", []Switch{{Name: "s2", Nodes: "n[,\n]"}}, `switch "s2": nodes: invalid hostlist`},
		{"bad switches", []Switch{leaf, {Name: "top", Switches: "s[1,,2]"}}, `switch "top": switches: invalid hostlist`},
		{"unknown child", []Switch{leaf, {Name: "top", Switches: "s[1-2]"}}, `switch "top": unknown child switch "s2"`},
		{"two parents", []Switch{leaf, {Name: "a", Switches: "s1"}, {Name: "b", Switches: "s1"}}, `switch "s1" has two parents: "a" and "b"`},
		{"self cycle", []Switch{{Name: "a", Switches: "a"}}, `switch "a" is in a cycle: a -> a`},
		{"cycle", []Switch{leaf, {Name: "a", Switches: "b"}, {Name: "b", Switches: "a"}}, `is in a cycle`},
		{"cycle above leaf", []Switch{{Name: "a", Switches: "b"}, {Name: "b", Switches: "a,s1"}, leaf}, `switch "a" is in a cycle: a -> b -> a`},
		{"node on two leaves", []Switch{leaf, {Name: "s2", Nodes: "n[4-6]"}}, `node "n4" is attached to two switches: "s1" and "s2"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n, err := NewNetwork(tc.sw)
			if err == nil {
				t.Fatalf("NewNetwork succeeded, want error %q", tc.want)
			}
			if n != nil {
				t.Errorf("NewNetwork returned a network with error %v", err)
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("error %v does not wrap ErrInvalid", err)
			}
			if strings.Contains(tc.want, "invalid hostlist") && !errors.Is(err, hostlist.ErrInvalid) {
				t.Errorf("error %v does not wrap hostlist.ErrInvalid", err)
			}
			if !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
				t.Errorf("error %q, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestNewNetworkAccepts(t *testing.T) {
	// A name repeated inside one list counts once; trees of one switch and
	// forests are fine.
	n := mustNetwork(t,
		Switch{Name: "s1", Nodes: "n[1-2],n1"},
		Switch{Name: "top", Switches: "s1,s1"},
		Switch{Name: "lone", Nodes: "m1"},
	)
	if leaf, ok := n.Leaf("n1"); !ok || leaf != "s1" {
		t.Errorf("Leaf(n1) = %q, %v", leaf, ok)
	}
	got, leaves, ok := n.Select([]string{"n1", "m1", "n2"}, 3, 0)
	if !slices.Equal(got, []string{"n1", "m1", "n2"}) || leaves != 2 || !ok {
		t.Errorf("Select = %q, %d, %v", got, leaves, ok)
	}
}

func TestNetworkLeaf(t *testing.T) {
	n := mustNetwork(t, threeLevels...)
	for _, tc := range []struct {
		node, leaf string
		ok         bool
	}{
		{"a1", "la1", true}, {"a5", "la2", true}, {"b4", "lb1", true}, {"b8", "lb2", true},
		{"b9", "", false}, {"la1", "", false}, {"", "", false},
	} {
		if leaf, ok := n.Leaf(tc.node); leaf != tc.leaf || ok != tc.ok {
			t.Errorf("Leaf(%q) = %q, %v; want %q, %v", tc.node, leaf, ok, tc.leaf, tc.ok)
		}
	}
}

func TestNetworkSwitches(t *testing.T) {
	n := mustNetwork(t, threeLevels...)
	got := n.Switches()
	if !slices.Equal(got, threeLevels) {
		t.Fatalf("Switches() = %v, want %v", got, threeLevels)
	}
	got[0].Name = "changed"
	if n.Switches()[0].Name != "core" {
		t.Error("Switches() shares its slice with the Network")
	}
	if sw := mustNetwork(t).Switches(); sw != nil {
		t.Errorf("empty Switches() = %v", sw)
	}
}

func TestNilNetwork(t *testing.T) {
	empty, err := NewNetwork(nil)
	if err != nil || empty == nil {
		t.Fatalf("NewNetwork(nil) = %v, %v", empty, err)
	}
	for name, n := range map[string]*Network{"nil": nil, "empty": empty} {
		t.Run(name, func(t *testing.T) {
			if leaf, ok := n.Leaf("n1"); leaf != "" || ok {
				t.Errorf("Leaf = %q, %v", leaf, ok)
			}
			if sw := n.Switches(); sw != nil {
				t.Errorf("Switches = %v", sw)
			}
			cands := []string{"b", "a", "b", "c"}
			for _, tc := range []struct {
				count, maxLeaves int
				want             []string
				ok               bool
			}{
				{2, 0, []string{"b", "a"}, true},
				{3, 1, []string{"b", "a", "c"}, true},
				{4, 0, nil, false},
				{0, 0, nil, false},
				{-3, 0, nil, false},
			} {
				got, leaves, ok := n.Select(cands, tc.count, tc.maxLeaves)
				if !slices.Equal(got, tc.want) || leaves != 0 || ok != tc.ok {
					t.Errorf("Select(%d, %d) = %q, %d, %v; want %q, 0, %v", tc.count, tc.maxLeaves, got, leaves, ok, tc.want, tc.ok)
				}
			}
		})
	}
}

// checkSelect checks what holds for every Select result: count distinct
// candidates in cands order, the right number of leaves, maxLeaves kept,
// and on failure the fewest leaves that count candidates need.
func checkSelect(t testing.TB, n *Network, cands []string, count, maxLeaves int, got []string, leaves int, ok bool) {
	t.Helper()
	pos := make(map[string]int)
	var uniq []string
	for i, c := range cands {
		if _, dup := pos[c]; !dup {
			pos[c] = i
			uniq = append(uniq, c)
		}
	}
	empty := n == nil || len(n.Switches()) == 0
	if !ok {
		if got != nil {
			t.Fatalf("Select(%q, %d, %d) failed but returned %q", cands, count, maxLeaves, got)
		}
		if count <= 0 || count > len(uniq) || empty {
			if leaves != 0 || (count > 0 && count <= len(uniq)) {
				t.Fatalf("Select(%q, %d, %d) = nil, %d, false", cands, count, maxLeaves, leaves)
			}
			return
		}
		if maxLeaves <= 0 || leaves <= maxLeaves || leaves != fewestLeaves(n, uniq, count) {
			t.Fatalf("Select(%q, %d, %d) = nil, %d, false; fewest leaves %d", cands, count, maxLeaves, leaves, fewestLeaves(n, uniq, count))
		}
		return
	}
	if len(got) != count {
		t.Fatalf("Select(%q, %d, %d) = %q: %d nodes", cands, count, maxLeaves, got, len(got))
	}
	last := -1
	for _, g := range got {
		p, in := pos[g]
		if !in || p <= last {
			t.Fatalf("Select(%q, %d, %d) = %q: not distinct candidates in cands order", cands, count, maxLeaves, got)
		}
		last = p
	}
	want := 0
	if !empty {
		want = len(groupsOf(n, got))
	}
	if leaves != want {
		t.Fatalf("Select(%q, %d, %d) = %q, %d leaves; it uses %d", cands, count, maxLeaves, got, leaves, want)
	}
	if !empty && maxLeaves > 0 && leaves > maxLeaves {
		t.Fatalf("Select(%q, %d, %d) = %q, %d leaves: over maxLeaves", cands, count, maxLeaves, got, leaves)
	}
}

// groupOf is the leaf of node, or the node itself when unattached.
func groupOf(n *Network, node string) string {
	if leaf, ok := n.Leaf(node); ok {
		return "switch " + leaf
	}
	return "node " + node
}

// groupsOf counts the nodes under each leaf (unattached: one each).
func groupsOf(n *Network, nodes []string) map[string]int {
	g := make(map[string]int)
	for _, node := range nodes {
		g[groupOf(n, node)]++
	}
	return g
}

// fewestLeaves is the fewest leaves count of the distinct nodes fit in.
func fewestLeaves(n *Network, nodes []string, count int) int {
	var sizes []int
	for _, s := range groupsOf(n, nodes) {
		sizes = append(sizes, s)
	}
	slices.Sort(sizes)
	slices.Reverse(sizes)
	k := 0
	for ; count > 0; k++ {
		count -= sizes[k]
	}
	return k
}

// bruteLeaves tries every subset of count of the distinct nodes and
// returns the fewest leaves one uses (-1 if none has count nodes).
func bruteLeaves(n *Network, nodes []string, count int) int {
	best := -1
	for mask := uint(0); mask < 1<<len(nodes); mask++ {
		if bits.OnesCount(mask) != count {
			continue
		}
		var set []string
		for i, node := range nodes {
			if mask&(1<<i) != 0 {
				set = append(set, node)
			}
		}
		if k := len(groupsOf(n, set)); best < 0 || k < best {
			best = k
		}
	}
	return best
}

// refTree is a reference model of a switch tree, computed naively from the
// configuration.
type refTree struct {
	levels map[string]int
	under  map[string]map[string]bool // switch -> the nodes of its subtree
	top    int
}

func newRefTree(t testing.TB, sw []Switch) *refTree {
	byName := make(map[string]Switch)
	for _, s := range sw {
		byName[s.Name] = s
	}
	r := &refTree{levels: make(map[string]int), under: make(map[string]map[string]bool)}
	var walk func(name string) int
	walk = func(name string) int {
		if l, ok := r.levels[name]; ok {
			return l
		}
		s := byName[name]
		set := make(map[string]bool)
		level := 0
		if s.Nodes != "" {
			names, err := hostlist.Expand(s.Nodes)
			if err != nil {
				t.Fatal(err)
			}
			for _, node := range names {
				set[node] = true
			}
		} else {
			names, err := hostlist.Expand(s.Switches)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range names {
				level = max(level, walk(c)+1)
				for node := range r.under[c] {
					set[node] = true
				}
			}
		}
		r.levels[name], r.under[name] = level, set
		r.top = max(r.top, level+1)
		return level
	}
	for _, s := range sw {
		walk(s.Name)
	}
	return r
}

// randomNetwork returns random switches (leaves of 1 to 8 nodes n#,
// grouped at random into a tree or a forest, or with pods into pods of 1
// to 3 leaves under a top switch; in random order), with the attached
// nodes.
func randomNetwork(r *rand.Rand, pods bool) ([]Switch, []string) {
	var sw []Switch
	var nodes, roots []string
	leaves := 1 + r.IntN(8)
	if pods {
		leaves = 4 + r.IntN(6)
	}
	for l := range leaves {
		var mine []string
		for range 1 + r.IntN(1+r.IntN(8)) {
			mine = append(mine, fmt.Sprintf("n%d", len(nodes)+1))
			nodes = append(nodes, mine[len(mine)-1])
		}
		name := fmt.Sprintf("l%d", l+1)
		sw = append(sw, Switch{Name: name, Nodes: hostlist.Compress(mine)})
		roots = append(roots, name)
	}
	if pods {
		// Pods: the leaves cut into runs, each under a pod, under one top.
		var pods []string
		for len(roots) > 0 {
			take := 1 + r.IntN(min(3, len(roots)))
			name := fmt.Sprintf("p%d", len(pods)+1)
			sw = append(sw, Switch{Name: name, Switches: strings.Join(roots[:take], ",")})
			pods, roots = append(pods, name), roots[take:]
		}
		roots = []string{"top"}
		sw = append(sw, Switch{Name: "top", Switches: strings.Join(pods, ",")})
	}
	for k := range r.IntN(7) {
		if len(roots) < 2 && r.IntN(2) == 0 {
			break
		}
		r.Shuffle(len(roots), func(i, j int) { roots[i], roots[j] = roots[j], roots[i] })
		take := 1 + r.IntN(len(roots))
		name := fmt.Sprintf("i%d", k+1)
		sw = append(sw, Switch{Name: name, Switches: strings.Join(roots[:take], ",")})
		roots = append([]string{name}, roots[take:]...)
	}
	r.Shuffle(len(sw), func(i, j int) { sw[i], sw[j] = sw[j], sw[i] })
	return sw, nodes
}

// TestNetworkSelectProperties checks Select on random small trees against
// a naive model: the switch it works in is the lowest one holding count
// candidates (then fewest candidates, then earliest first candidate) among
// those that can keep maxLeaves, and no choice of count candidates under
// it uses fewer leaves.
func TestNetworkSelectProperties(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for iter := range 4000 {
		sw, nodes := randomNetwork(r, iter%2 == 1)
		n := mustNetwork(t, sw...)
		ref := newRefTree(t, sw)
		pool := append(slices.Clone(nodes), "x1", "x2", "x3")
		var cands []string
		if r.IntN(2) == 0 {
			for range r.IntN(13) {
				cands = append(cands, pool[r.IntN(len(pool))])
			}
		} else { // a dense random subset, in random order
			p := 1 + r.IntN(4)
			for _, node := range pool {
				if r.IntN(5) < p {
					cands = append(cands, node)
				}
			}
			r.Shuffle(len(cands), func(i, j int) { cands[i], cands[j] = cands[j], cands[i] })
		}
		var uniq []string
		first := make(map[string]int)
		for i, c := range cands {
			if _, dup := first[c]; !dup {
				first[c] = i
				uniq = append(uniq, c)
			}
		}
		count := r.IntN(len(uniq)+2) - (r.IntN(10) / 9)
		maxLeaves := r.IntN(4)
		if count > 0 && count <= len(uniq) && r.IntN(3) > 0 {
			// Near the fewest leaves possible, where switches get passed over.
			maxLeaves = max(0, fewestLeaves(n, uniq, count)+r.IntN(3)-1)
		}
		got, leaves, ok := n.Select(cands, count, maxLeaves)
		fail := func(format string, a ...any) {
			t.Helper()
			t.Fatalf("iteration %d: switches %v, Select(%q, %d, %d) = %q, %d, %v: %s",
				iter, sw, cands, count, maxLeaves, got, leaves, ok, fmt.Sprintf(format, a...))
		}
		checkSelect(t, n, cands, count, maxLeaves, got, leaves, ok)
		if count <= 0 || count > len(uniq) {
			if ok {
				fail("want failure")
			}
			continue
		}

		// The expected switch, "" for the virtual root over everything.
		type place struct {
			name         string
			level, held  int
			first, least int
			nodes        []string
		}
		var places []place
		for _, s := range sw {
			var mine []string
			for _, c := range uniq {
				if ref.under[s.Name][c] {
					mine = append(mine, c)
				}
			}
			if len(mine) >= count {
				places = append(places, place{s.Name, ref.levels[s.Name], len(mine), first[mine[0]], 0, mine})
			}
		}
		slices.SortFunc(places, func(a, b place) int {
			if a.level != b.level {
				return a.level - b.level
			}
			if a.held != b.held {
				return a.held - b.held
			}
			return a.first - b.first
		})
		places = append(places, place{"", ref.top, len(uniq), 0, 0, uniq})
		var want *place
		for i := range places {
			places[i].least = fewestLeaves(n, places[i].nodes, count)
			if len(places[i].nodes) <= 10 {
				if b := bruteLeaves(n, places[i].nodes, count); b != places[i].least {
					t.Fatalf("fewestLeaves(%q, %d) = %d, brute force %d", places[i].nodes, count, places[i].least, b)
				}
			}
			if maxLeaves <= 0 || places[i].least <= maxLeaves {
				want = &places[i]
				break
			}
		}
		if want == nil {
			if ok || leaves != places[len(places)-1].least {
				fail("want nil, %d, false", places[len(places)-1].least)
			}
			continue
		}
		if !ok {
			fail("want switch %q", want.name)
		}
		if leaves != want.least {
			fail("switch %q: want %d leaves", want.name, want.least)
		}
		for _, g := range got {
			if !slices.Contains(want.nodes, g) {
				fail("%q is not under switch %q", g, want.name)
			}
		}
		if want.name == "" && slices.ContainsFunc(got, func(g string) bool { _, in := n.Leaf(g); return !in }) {
			// Unattached nodes only once every attached one is taken.
			for _, c := range uniq {
				if _, in := n.Leaf(c); in && !slices.Contains(got, c) {
					fail("unattached node taken before attached %q", c)
				}
			}
		}
	}
}

// benchNetwork is 10,000 nodes on 250 leaf switches of 40 nodes under one
// top switch (two levels).
func benchNetwork(b *testing.B) (*Network, []string) {
	var sw []Switch
	var nodes []string
	for l := range 250 {
		sw = append(sw, Switch{Name: fmt.Sprintf("leaf%03d", l+1), Nodes: fmt.Sprintf("gpu[%05d-%05d]", 40*l+1, 40*l+40)})
		for k := range 40 {
			nodes = append(nodes, fmt.Sprintf("gpu%05d", 40*l+k+1))
		}
	}
	sw = append(sw, Switch{Name: "top", Switches: "leaf[001-250]"})
	n, err := NewNetwork(sw)
	if err != nil {
		b.Fatal(err)
	}
	rand.New(rand.NewPCG(3, 4)).Shuffle(len(nodes), func(i, j int) { nodes[i], nodes[j] = nodes[j], nodes[i] })
	return n, nodes
}

func BenchmarkNetworkSelect(b *testing.B) {
	n, nodes := benchNetwork(b)
	for _, bc := range []struct {
		name      string
		cands     []string
		maxLeaves int
	}{
		{"free=10000", nodes, 0},
		{"free=3000", nodes[:3000], 0},
		{"free=3000/maxLeaves=3", nodes[:3000], 3}, // fails: needs more leaves
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, _, ok := n.Select(bc.cands, 64, bc.maxLeaves); ok == (bc.maxLeaves > 0) {
					b.Fatalf("Select ok = %v", ok)
				}
			}
		})
	}
}
