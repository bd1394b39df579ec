package fairshare

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/gsched/gsched/pkg/api"
)

// Algorithms accepted by Factors and Report.
const (
	FairTree = "fair_tree"
	Classic  = "classic"
)

// rootName is the implicit top of the account tree.
const rootName = "root"

// node is an account or a user association in the tree. Index 0 is root.
type node struct {
	name     string    // account name, or user name for an association
	user     bool      // a user association (a leaf)
	assoc    api.Assoc // set for user associations
	parent   int       // -1 for root
	depth    int       // root 0
	shares   int       // raw shares (0 in the configuration already taken as 1)
	children []int     // tree order: the account's users, then its sub-accounts
}

// Tree is the fair-share tree of accounts and user associations. It is
// immutable once built and safe for concurrent use.
type Tree struct {
	nodes      []node
	pre        []int // every node in depth-first pre-order (tree order)
	users      []int // user association nodes in pre-order
	index      map[api.Assoc]int
	assocs     []api.Assoc // sorted
	defaults   map[string]string
	sibShares  []int // per account node: the sum of its children's shares
	userCount  int
	accountIdx map[string]int
}

// New builds the account tree. "root" is implicit: an account with Parent ""
// hangs under root. An account named "root" may be listed (with no Parent)
// to give users of root itself; its Shares are ignored. Shares and
// UserShares of 0 are taken as 1, as in api.Account.
//
// Every problem is reported, joined with errors.Join, each wrapping
// api.ErrInvalid: an empty account or user name, a duplicate account, a
// negative Shares or UserShares, a user listed twice in one account, an
// unknown parent, a parent on root, and a cycle of parents.
func New(accounts []api.Account) (*Tree, error) {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: "+format, append([]any{api.ErrInvalid}, args...)...))
	}

	// First pass: names, shares, users; the first definition of a name wins
	// for the checks that follow.
	byName := map[string]int{} // name -> index in accounts
	for i, a := range accounts {
		switch {
		case a.Name == "":
			bad("account #%d: empty name", i+1)
			continue
		case a.Name == rootName && a.Parent != "":
			bad("account %q: root cannot have a parent (got %q)", a.Name, a.Parent)
		}
		if _, dup := byName[a.Name]; dup {
			bad("account %q: defined more than once", a.Name)
			continue
		}
		byName[a.Name] = i
		if a.Shares < 0 {
			bad("account %q: negative shares %d", a.Name, a.Shares)
		}
		if a.UserShares < 0 {
			bad("account %q: negative user shares %d", a.Name, a.UserShares)
		}
		seen := map[string]bool{}
		for _, u := range a.Users {
			switch {
			case u == "":
				bad("account %q: empty user name", a.Name)
			case seen[u]:
				bad("account %q: user %q listed twice", a.Name, u)
			}
			seen[u] = true
		}
	}

	// Parents: unknown ones, then cycles among the known ones.
	parentOf := func(name string) string {
		p := accounts[byName[name]].Parent
		if p == "" {
			return rootName
		}
		return p
	}
	names := make([]string, 0, len(byName)) // each defined account once, config order, root left out
	for i, a := range accounts {
		if j, ok := byName[a.Name]; ok && j == i && a.Name != rootName {
			names = append(names, a.Name)
		}
	}
	unknown := map[string]bool{}
	for _, n := range names {
		p := parentOf(n)
		if p == rootName {
			continue
		}
		if _, ok := byName[p]; !ok {
			bad("account %q: unknown parent %q", n, p)
			unknown[n] = true
		}
	}
	// state: 0 unvisited, 1 on the current path, 2 reaches root (or an
	// unknown parent, already reported).
	state := map[string]int{}
	for _, start := range names {
		var path []string
		n := start
		for state[n] == 0 && n != rootName && !unknown[n] {
			state[n] = 1
			path = append(path, n)
			n = parentOf(n)
		}
		if n != rootName && state[n] == 1 {
			// n is on the current path: the cycle runs from n to the end.
			cyc := path[slices.Index(path, n):]
			sorted := slices.Clone(cyc)
			slices.Sort(sorted)
			bad("accounts %s: cycle of parents", strings.Join(quoteAll(sorted), ", "))
		}
		for _, p := range path {
			state[p] = 2
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return build(accounts), nil
}

func quoteAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = fmt.Sprintf("%q", s)
	}
	return out
}

func orOne(n int) int {
	if n == 0 {
		return 1
	}
	return n
}

// build assumes validated accounts.
func build(accounts []api.Account) *Tree {
	t := &Tree{
		index:      map[api.Assoc]int{},
		defaults:   map[string]string{},
		accountIdx: map[string]int{rootName: 0},
	}
	t.nodes = append(t.nodes, node{name: rootName, parent: -1, shares: 1})
	rootDef := -1
	for i, a := range accounts {
		if a.Name == rootName {
			rootDef = i
			continue
		}
		t.accountIdx[a.Name] = len(t.nodes)
		t.nodes = append(t.nodes, node{name: a.Name, shares: orOne(a.Shares)})
	}
	// Users first, then sub-accounts, each in configuration order.
	addUsers := func(acct int, a api.Account) {
		for _, u := range a.Users {
			as := api.Assoc{Account: a.Name, User: u}
			t.index[as] = len(t.nodes)
			t.nodes[acct].children = append(t.nodes[acct].children, len(t.nodes))
			t.nodes = append(t.nodes, node{name: u, user: true, assoc: as, parent: acct, shares: orOne(a.UserShares)})
		}
	}
	for i, a := range accounts {
		if i == rootDef {
			addUsers(0, a)
		} else if a.Name != rootName {
			addUsers(t.accountIdx[a.Name], a)
		}
	}
	// DefaultAccount follows configuration order, root included where it
	// is listed.
	for _, a := range accounts {
		for _, u := range a.Users {
			if _, ok := t.defaults[u]; !ok {
				t.defaults[u] = a.Name
			}
		}
	}
	for _, a := range accounts {
		if a.Name == rootName {
			continue
		}
		p := a.Parent
		if p == "" {
			p = rootName
		}
		pi, ci := t.accountIdx[p], t.accountIdx[a.Name]
		t.nodes[ci].parent = pi
		t.nodes[pi].children = append(t.nodes[pi].children, ci)
	}
	// Users of an account come before its sub-accounts.
	for i := range t.nodes {
		n := &t.nodes[i]
		slices.SortStableFunc(n.children, func(a, b int) int {
			return boolRank(t.nodes[a].user) - boolRank(t.nodes[b].user)
		})
	}
	// Pre-order, depths, sibling share sums.
	t.sibShares = make([]int, len(t.nodes))
	stack := []int{0}
	for len(stack) > 0 {
		n := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		t.pre = append(t.pre, n)
		nd := &t.nodes[n]
		if nd.parent >= 0 {
			nd.depth = t.nodes[nd.parent].depth + 1
		}
		if nd.user {
			t.users = append(t.users, n)
		}
		for k := len(nd.children) - 1; k >= 0; k-- {
			c := nd.children[k]
			t.sibShares[n] += t.nodes[c].shares
			stack = append(stack, c)
		}
	}
	t.userCount = len(t.users)
	t.assocs = make([]api.Assoc, 0, len(t.index))
	for a := range t.index {
		t.assocs = append(t.assocs, a)
	}
	slices.SortFunc(t.assocs, compareAssoc)
	return t
}

func boolRank(user bool) int {
	if user {
		return 0
	}
	return 1
}

func compareAssoc(a, b api.Assoc) int {
	if c := strings.Compare(a.Account, b.Account); c != 0 {
		return c
	}
	return strings.Compare(a.User, b.User)
}

// Assocs returns every user association, sorted by account then user.
func (t *Tree) Assocs() []api.Assoc { return slices.Clone(t.assocs) }

// DefaultAccount returns the first account, in configuration order, that
// lists the user.
func (t *Tree) DefaultAccount(user string) (string, bool) {
	a, ok := t.defaults[user]
	return a, ok
}

// Has reports whether the user association is in the tree.
func (t *Tree) Has(a api.Assoc) bool {
	_, ok := t.index[a]
	return ok
}
