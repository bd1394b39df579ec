package fairshare

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/gsched/gsched/pkg/api"
)

// as turns "account/user" into an association.
func as(s string) api.Assoc {
	acct, user, _ := strings.Cut(s, "/")
	return api.Assoc{Account: acct, User: user}
}

// usageOf turns {"account/user": usage} into a usage map.
func usageOf(m map[string]float64) map[api.Assoc]float64 {
	out := make(map[api.Assoc]float64, len(m))
	for k, v := range m {
		out[as(k)] = v
	}
	return out
}

// checkFactors compares every association's factor with want (within tol)
// and that no other association is returned.
func checkFactors(t *testing.T, got map[api.Assoc]float64, want map[string]float64, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%d factors, want %d: %v", len(got), len(want), got)
	}
	for k, w := range want {
		g, ok := got[as(k)]
		if !ok {
			t.Errorf("%s: no factor", k)
			continue
		}
		if math.Abs(g-w) > tol {
			t.Errorf("%s: factor %.6f, want %.6f", k, g, w)
		}
	}
}

func TestFairTree(t *testing.T) {
	tests := []struct {
		name     string
		accounts []api.Account
		usage    map[string]float64
		want     map[string]float64
	}{
		{
			// root: busy S=.5 U=1 LF=.5; idle S=.5 U=0 LF=+Inf, so idle first.
			// idle's users all have U=0: tied at rank 4. busy: b2 (U=0, +Inf)
			// rank 2, b1 (S=.5 U=1, .5) rank 1. N=4.
			name: "idle account ranks above busy one",
			accounts: []api.Account{
				{Name: "busy", Users: []string{"b1", "b2"}},
				{Name: "idle", Users: []string{"i1", "i2"}},
			},
			usage: map[string]float64{"busy/b1": 100},
			want:  map[string]float64{"idle/i1": 1, "idle/i2": 1, "busy/b2": 2.0 / 4, "busy/b1": 1.0 / 4},
		},
		{
			// Slurm's fair_tree page: root => Acct1 => Acct12 => UserA and
			// root => Acct1 => Acct16 => UserB; UserB ranks higher exactly
			// when Acct16's Level FS is higher than Acct12's.
			// Acct1 alone under root. Acct12: S=.5, U=30/40=.75, LF=.667;
			// Acct16: S=.5, U=10/40=.25, LF=2. So UserB rank 2, UserA rank 1.
			name: "slurm fair_tree page example",
			accounts: []api.Account{
				{Name: "Acct1"},
				{Name: "Acct12", Parent: "Acct1", Users: []string{"UserA"}},
				{Name: "Acct16", Parent: "Acct1", Users: []string{"UserB"}},
			},
			usage: map[string]float64{"Acct12/UserA": 30, "Acct16/UserB": 10},
			want:  map[string]float64{"Acct16/UserB": 1, "Acct12/UserA": 0.5},
		},
		{
			// The classic_fair_share example tree (A 40 {B 30, C 10}, D 60
			// {E 25, F 35}) with its usage: user1 .20, user2 .25, user4 .25.
			// root: A S=.4 U=45/70=.643 LF=.622; D S=.6 U=25/70=.357 LF=1.68: D first.
			// D: E S=25/60 U=1 LF=.417; F S=35/60 U=0 LF=+Inf: user5 (5), user4 (4).
			// A: B S=.75 U=20/45 LF=1.69; C S=.25 U=25/45 LF=.45: user1 (3).
			// C: user3 U=0 LF=+Inf (2); user2 S=.5 U=1 LF=.5 (1).
			// The same order as the classic factors .749 > .5 > .408 > .125 > .022.
			name:     "classic page tree",
			accounts: multiLevel(),
			usage:    map[string]float64{"B/user1": .20, "C/user2": .25, "E/user4": .25},
			want: map[string]float64{
				"F/user5": 5.0 / 5, "E/user4": 4.0 / 5, "B/user1": 3.0 / 5, "C/user3": 2.0 / 5, "C/user2": 1.0 / 5,
			},
		},
		{
			// No usage anywhere: every LF is +Inf and everybody ties at rank N.
			name:     "no usage: all tied",
			accounts: multiLevel(),
			want: map[string]float64{
				"F/user5": 1, "E/user4": 1, "B/user1": 1, "C/user3": 1, "C/user2": 1,
			},
		},
		{
			// Sibling users tied: u3 +Inf (rank 3); u1 and u2 both S=1/3
			// U=.5 LF=.667, tied at rank 2 (competition ranking).
			name:     "sibling users tie",
			accounts: []api.Account{{Name: "a", Users: []string{"u1", "u2", "u3"}}},
			usage:    map[string]float64{"a/u1": 10, "a/u2": 10},
			want:     map[string]float64{"a/u3": 3.0 / 3, "a/u1": 2.0 / 3, "a/u2": 2.0 / 3},
		},
		{
			// Ties after a tie: u1,u2 +Inf tie at rank 4; u3,u4 (same
			// usage) tie at rank 4-2 = 2.
			name:     "competition ranks",
			accounts: []api.Account{{Name: "a", Users: []string{"u1", "u2", "u3", "u4"}}},
			usage:    map[string]float64{"a/u3": 7, "a/u4": 7},
			want:     map[string]float64{"a/u1": 1, "a/u2": 1, "a/u3": 2.0 / 4, "a/u4": 2.0 / 4},
		},
		{
			// Tied accounts merge their children. root: A and B S=1/3
			// U=10/40=.25 LF=1.33 (tied); C S=1/3 U=.5 LF=.667.
			// Merged {a1, a2, b1, b2} by their own LF: a2 +Inf; b1 S=.5 U=.2
			// LF=2.5; b2 S=.5 U=.8 LF=.625; a1 S=.5 U=1 LF=.5.
			// So a2 5, b1 4, b2 3, a1 2, then C: c1 1. (Without merging, an
			// arbitrary A-first would give a2, a1, b1, b2.)
			name: "tied accounts merge children",
			accounts: []api.Account{
				{Name: "A", Users: []string{"a1", "a2"}},
				{Name: "B", Users: []string{"b1", "b2"}},
				{Name: "C", Users: []string{"c1"}},
			},
			usage: map[string]float64{"A/a1": 10, "B/b1": 2, "B/b2": 8, "C/c1": 20},
			want:  map[string]float64{"A/a2": 1, "B/b1": .8, "B/b2": .6, "A/a1": .4, "C/c1": .2},
		},
		{
			// A user tied with a sibling account gets the rank of that
			// account's best user. Under P: p1 S=.5 U=10/20 LF=1; Q S=.5
			// U=.5 LF=1 (tied). Q: q2 +Inf, q1 S=.5 U=1 LF=.5.
			// p1 rank 3; q2, first under Q, ties with it at 3; q1 rank 1.
			name: "user tied with account",
			accounts: []api.Account{
				{Name: "P", Users: []string{"p1"}},
				{Name: "Q", Parent: "P", Users: []string{"q1", "q2"}},
			},
			usage: map[string]float64{"P/p1": 10, "Q/q1": 10},
			want:  map[string]float64{"P/p1": 1, "Q/q2": 1, "Q/q1": 1.0 / 3},
		},
		{
			// Depth-first: every user of the lightly used account ranks above
			// every user of the heavy one, even hx who used almost nothing.
			// root: light S=.5 U=150/651 LF=2.17; heavy S=.5 U=501/651 LF=.65.
			// light: l2 S=.5 U=50/150 LF=1.5 (5); l1 S=.5 U=100/150 LF=.75 (4).
			// heavy: team1 S=.5 U=1/501 LF=250.5; team2 S=.5 U=500/501 LF≈.5.
			// team1: hx (3). team2 => team2a (sole child, LF=1): hz +Inf (2),
			// hy S=.5 U=1 LF=.5 (1).
			name: "deep tree depth-first",
			accounts: []api.Account{
				{Name: "heavy"},
				{Name: "light", Users: []string{"l1", "l2"}},
				{Name: "team1", Parent: "heavy", Users: []string{"hx"}},
				{Name: "team2", Parent: "heavy"},
				{Name: "team2a", Parent: "team2", Users: []string{"hy", "hz"}},
			},
			usage: map[string]float64{"light/l1": 100, "light/l2": 50, "team1/hx": 1, "team2a/hy": 500},
			want: map[string]float64{
				"light/l2": 1, "light/l1": .8, "team1/hx": .6, "team2a/hz": .4, "team2a/hy": .2,
			},
		},
		{
			// Shares weigh in: big has 3 shares, small 1, same usage.
			// big S=.75 U=.5 LF=1.5; small S=.25 U=.5 LF=.5.
			name: "shares matter",
			accounts: []api.Account{
				{Name: "small", Shares: 1, Users: []string{"s"}},
				{Name: "big", Shares: 3, Users: []string{"b"}},
			},
			usage: map[string]float64{"small/s": 5, "big/b": 5},
			want:  map[string]float64{"big/b": 1, "small/s": .5},
		},
		{
			// Usage of associations outside the tree is ignored.
			name:     "unknown associations ignored",
			accounts: []api.Account{{Name: "a", Users: []string{"u1", "u2"}}},
			usage:    map[string]float64{"a/u1": 1, "zz/u2": 1e9, "a/nobody": 5},
			want:     map[string]float64{"a/u2": 1, "a/u1": .5},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr := mustNew(t, tc.accounts)
			got, err := tr.Factors(FairTree, usageOf(tc.usage))
			if err != nil {
				t.Fatal(err)
			}
			checkFactors(t, got, tc.want, 1e-12)
		})
	}
}

// A user without shares has LF 0 and ranks last among its siblings. Shares
// of 0 cannot come from a configuration (0 means 1), so set it directly.
func TestFairTreeZeroShares(t *testing.T) {
	tr := mustNew(t, []api.Account{{Name: "a", Users: []string{"u1", "u2"}}})
	zeroShares(tr, as("a/u1"))
	// u1 LF 0 (no shares) though it has no usage; u2 S=1 U=1 LF=1.
	got, err := tr.Factors(FairTree, usageOf(map[string]float64{"a/u2": 3}))
	if err != nil {
		t.Fatal(err)
	}
	checkFactors(t, got, map[string]float64{"a/u2": 1, "a/u1": .5}, 0)
}

// zeroShares sets an association's shares to 0 and fixes its parent's sum.
func zeroShares(tr *Tree, a api.Assoc) {
	n := tr.index[a]
	p := tr.nodes[n].parent
	tr.sibShares[p] -= tr.nodes[n].shares
	tr.nodes[n].shares = 0
}

func TestFactorsErrors(t *testing.T) {
	tr := mustNew(t, []api.Account{{Name: "a", Users: []string{"u"}}})
	tests := []struct {
		name  string
		algo  string
		usage map[api.Assoc]float64
	}{
		{"unknown algorithm", "lottery", nil},
		{"empty algorithm", "", nil},
		{"negative usage", FairTree, map[api.Assoc]float64{as("a/u"): -1}},
		{"NaN usage", Classic, map[api.Assoc]float64{as("a/u"): math.NaN()}},
		{"infinite usage", FairTree, map[api.Assoc]float64{as("a/u"): math.Inf(1)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := tr.Factors(tc.algo, tc.usage); !errors.Is(err, api.ErrInvalid) {
				t.Errorf("Factors error %v, want api.ErrInvalid", err)
			}
			if _, err := tr.Report(tc.algo, tc.usage); !errors.Is(err, api.ErrInvalid) {
				t.Errorf("Report error %v, want api.ErrInvalid", err)
			}
		})
	}
	// Bad usage outside the tree is ignored like any other.
	if _, err := tr.Factors(FairTree, map[api.Assoc]float64{as("b/u"): math.NaN()}); err != nil {
		t.Errorf("NaN outside the tree: %v", err)
	}
}

// Huge usages do not overflow the sums.
func TestFactorsHugeUsage(t *testing.T) {
	tr := mustNew(t, []api.Account{{Name: "a", Users: []string{"u1", "u2", "u3"}}})
	u := usageOf(map[string]float64{"a/u1": math.MaxFloat64, "a/u2": math.MaxFloat64 / 2})
	for _, algo := range []string{FairTree, Classic} {
		got, err := tr.Factors(algo, u)
		if err != nil {
			t.Fatal(err)
		}
		if !(got[as("a/u3")] > got[as("a/u2")] && got[as("a/u2")] > got[as("a/u1")]) {
			t.Errorf("%s: want u3 > u2 > u1, got %v", algo, got)
		}
	}
}
