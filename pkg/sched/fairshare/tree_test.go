package fairshare

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/gsched/gsched/pkg/api"
)

// mustNew builds a tree or fails the test.
func mustNew(t testing.TB, accounts []api.Account) *Tree {
	t.Helper()
	tr, err := New(accounts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return tr
}

func TestNewErrors(t *testing.T) {
	tests := []struct {
		name     string
		accounts []api.Account
		want     []string // substrings, one per expected problem
	}{
		{"empty name", []api.Account{{Name: ""}}, []string{"account #1: empty name"}},
		{"duplicate account", []api.Account{{Name: "a"}, {Name: "a"}}, []string{`"a": defined more than once`}},
		{"negative shares", []api.Account{{Name: "a", Shares: -1}}, []string{`"a": negative shares -1`}},
		{"negative user shares", []api.Account{{Name: "a", UserShares: -2, Users: []string{"u"}}}, []string{`"a": negative user shares -2`}},
		{"user twice in one account", []api.Account{{Name: "a", Users: []string{"u", "v", "u"}}}, []string{`"a": user "u" listed twice`}},
		{"empty user name", []api.Account{{Name: "a", Users: []string{""}}}, []string{`"a": empty user name`}},
		{"unknown parent", []api.Account{{Name: "a", Parent: "nope"}}, []string{`"a": unknown parent "nope"`}},
		{"self parent", []api.Account{{Name: "a", Parent: "a"}}, []string{`accounts "a": cycle of parents`}},
		{"cycle of three, and a tail into it", []api.Account{
			{Name: "c", Parent: "a"}, {Name: "a", Parent: "b"}, {Name: "b", Parent: "c"}, {Name: "tail", Parent: "a"},
		}, []string{`accounts "a", "b", "c": cycle of parents`}},
		{"root with a parent", []api.Account{{Name: "x"}, {Name: "root", Parent: "x"}}, []string{`"root": root cannot have a parent`}},
		{"every problem at once", []api.Account{
			{Name: ""}, {Name: "a", Shares: -1}, {Name: "a"}, {Name: "b", Parent: "zz"}, {Name: "c", Parent: "c", Users: []string{"u", "u"}},
		}, []string{"empty name", "negative shares", "defined more than once", `unknown parent "zz"`, `user "u" listed twice`, "cycle"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr, err := New(tc.accounts)
			if err == nil {
				t.Fatalf("New succeeded (%d assocs), want errors %q", len(tr.Assocs()), tc.want)
			}
			if !errors.Is(err, api.ErrInvalid) {
				t.Errorf("error %v does not wrap api.ErrInvalid", err)
			}
			msg := err.Error()
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q lacks %q", msg, w)
				}
			}
			if got := strings.Count(msg, "\n") + 1; got != len(tc.want) {
				t.Errorf("%d problems reported, want %d:\n%s", got, len(tc.want), msg)
			}
		})
	}
}

// multiLevel is the tree of Slurm's classic_fair_share example: A (40) with
// B (30, user1) and C (10, user2 and user3); D (60) with E (25, user4) and
// F (35, user5). A and D have no users of their own.
func multiLevel() []api.Account {
	return []api.Account{
		{Name: "A", Shares: 40},
		{Name: "D", Shares: 60},
		{Name: "B", Parent: "A", Shares: 30, Users: []string{"user1"}},
		{Name: "C", Parent: "A", Shares: 10, Users: []string{"user2", "user3"}},
		{Name: "E", Parent: "D", Shares: 25, Users: []string{"user4"}},
		{Name: "F", Parent: "D", Shares: 35, Users: []string{"user5"}},
	}
}

func TestNewBuilds(t *testing.T) {
	accts := append(multiLevel(),
		api.Account{Name: "root", Users: []string{"admin"}},
		api.Account{Name: "G", Parent: "root", Users: []string{"user1"}}, // Parent "root" spelled out
		api.Account{Name: "Z", Parent: "F"},                              // an account with no users
	)
	tr := mustNew(t, accts)
	want := []api.Assoc{
		{Account: "B", User: "user1"}, {Account: "C", User: "user2"}, {Account: "C", User: "user3"},
		{Account: "E", User: "user4"}, {Account: "F", User: "user5"}, {Account: "G", User: "user1"},
		{Account: "root", User: "admin"},
	}
	if got := tr.Assocs(); !slices.Equal(got, want) {
		t.Errorf("Assocs = %v\nwant %v", got, want)
	}
	for _, a := range want {
		if !tr.Has(a) {
			t.Errorf("Has(%v) = false", a)
		}
	}
	for _, a := range []api.Assoc{{Account: "A", User: "user1"}, {Account: "B", User: "nobody"}, {Account: "root"}} {
		if tr.Has(a) {
			t.Errorf("Has(%v) = true", a)
		}
	}
	defaults := []struct {
		user, acct string
		ok         bool
	}{
		{"user1", "B", true}, // B comes before G in the configuration
		{"user3", "C", true},
		{"admin", "root", true},
		{"ghost", "", false},
	}
	for _, d := range defaults {
		if a, ok := tr.DefaultAccount(d.user); a != d.acct || ok != d.ok {
			t.Errorf("DefaultAccount(%q) = %q, %v; want %q, %v", d.user, a, ok, d.acct, d.ok)
		}
	}
	// Assocs returns a copy.
	got := tr.Assocs()
	got[0].User = "mutated"
	if tr.Assocs()[0].User != "user1" {
		t.Error("Assocs exposes the tree's slice")
	}
}

func TestNewEmpty(t *testing.T) {
	tr := mustNew(t, nil)
	if n := len(tr.Assocs()); n != 0 {
		t.Fatalf("%d assocs, want 0", n)
	}
	for _, algo := range []string{FairTree, Classic} {
		f, err := tr.Factors(algo, nil)
		if err != nil || len(f) != 0 {
			t.Errorf("%s: Factors = %v, %v; want empty, nil", algo, f, err)
		}
	}
}
