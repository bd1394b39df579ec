package topology

import (
	"errors"
	"strings"
	"testing"

	"github.com/gsched/gsched/pkg/hostlist"
)

// parseSwitches reads fuzz input: switches separated by ";", each
// "name:nodes:switches".
func parseSwitches(spec string) []Switch {
	var sw []Switch
	for _, part := range strings.Split(spec, ";") {
		f := strings.SplitN(part, ":", 3)
		for len(f) < 3 {
			f = append(f, "")
		}
		sw = append(sw, Switch{Name: f[0], Nodes: f[1], Switches: f[2]})
	}
	return sw
}

// FuzzNewNetwork: NewNetwork never panics, its errors are one line
// wrapping ErrInvalid, and on a network it accepts, Leaf finds every
// configured node and Select returns valid results.
func FuzzNewNetwork(f *testing.F) {
	f.Add("s1:n[1-4]:;s2:n[5-8]:;top::s[1-2]", "n1,n2,n5,n6,n7", 4, 0)
	f.Add("s1:n[1-4]:;s2:n[5-8]:;top::s[1-2]", "n1,n2,n5,n6,n7", 4, 1)
	f.Add("core::pa,pb;pa::la[1-2];pb::lb[1-2];la1:a[1-4]:;la2:a[5-8]:;lb1:b[1-4]:;lb2:b[5-8]:", "a1,b1,x,a5,b5,a2,b2,a3,b6,a1", 6, 2)
	f.Add("s1:n[1-2]:;s2:n[3-4]:", "x1,n3,n1,n2", 3, 0)
	f.Add("a::b;b::a", "", 1, 0)
	f.Add("a::a", "", 1, 0)
	f.Add("s1:n[1-2]:;s2:n2:", "n1", 1, 0)
	f.Add("s1:n[1-2]:s2;s2:n3:", "n1", 1, 0)
	f.Add("s1::", "", 1, 0)
	f.Add("s1:n[1-2]:;s1:n3:", "", 1, 0)
	f.Add(":n1:", "", 1, 0)
	f.Add("s1:n[:", "", 1, 0)
	f.Add("0:[,\n]", "0", -51, 50)
	f.Add("s[1]:n1:", "n1", 1, 1)
	f.Add("a:n1:;b:n2:;t::a;u::a", "n1,n2", 2, 0)
	f.Add("", "a,b", 2, 0)
	f.Fuzz(func(t *testing.T, spec, extra string, count, maxLeaves int) {
		sw := parseSwitches(spec)
		if spec == "" {
			sw = nil
		}
		for _, s := range sw {
			for _, expr := range []string{s.Nodes, s.Switches} {
				if k, err := hostlist.Count(expr); err == nil && k > 2000 {
					return // keep the fuzzer fast
				}
			}
		}
		n, err := NewNetwork(sw)
		if err != nil {
			if n != nil || !errors.Is(err, ErrInvalid) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("NewNetwork(%q) = %v, %q", spec, n, err)
			}
			return
		}

		// Every configured node is on its switch; collect them.
		var nodes []string
		for _, s := range n.Switches() {
			if strings.TrimSpace(s.Nodes) == "" {
				continue
			}
			names, err := hostlist.Expand(s.Nodes)
			if err != nil {
				t.Fatalf("accepted switch %q with bad nodes: %v", s.Name, err)
			}
			for _, node := range names {
				if leaf, ok := n.Leaf(node); !ok || leaf != s.Name {
					t.Fatalf("Leaf(%q) = %q, %v; want %q", node, leaf, ok, s.Name)
				}
			}
			nodes = append(nodes, names...)
		}

		var cands []string
		if extra != "" {
			cands = strings.Split(extra, ",")
		}
		cands = append(cands, nodes...)
		count %= len(cands) + 2
		maxLeaves %= 5
		for _, c := range [][]string{cands, nodes, cands[:len(cands)/2]} {
			got, leaves, ok := n.Select(c, count, maxLeaves)
			checkSelect(t, n, c, count, maxLeaves, got, leaves, ok)
			again, leaves2, ok2 := n.Select(c, count, maxLeaves)
			if strings.Join(again, ",") != strings.Join(got, ",") || len(again) != len(got) || leaves2 != leaves || ok2 != ok {
				t.Fatalf("Select not deterministic: %q then %q", got, again)
			}
		}
	})
}
