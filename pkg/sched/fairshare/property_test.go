package fairshare

import (
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/gsched/gsched/pkg/api"
)

// randomAccounts builds a valid random tree: each account hangs under root
// or an earlier account; users come from a small pool so that one user is
// often in several accounts.
func randomAccounts(r *rand.Rand, nAccounts, maxUsers int) []api.Account {
	accts := make([]api.Account, nAccounts)
	for i := range accts {
		a := api.Account{Name: fmt.Sprintf("acct%d", i), Shares: r.IntN(5), UserShares: r.IntN(4)}
		if i > 0 && r.IntN(3) > 0 {
			a.Parent = accts[r.IntN(i)].Name
		}
		for _, u := range r.Perm(2 * maxUsers)[:r.IntN(maxUsers+1)] {
			a.Users = append(a.Users, "u"+strconv.Itoa(u))
		}
		accts[i] = a
	}
	if r.IntN(4) == 0 {
		accts = append(accts, api.Account{Name: "root", Users: []string{"admin"}})
	}
	return accts
}

// randomUsage gives most associations a usage from a few fixed values (so
// that ties are common) or a random one, some none at all.
func randomUsage(r *rand.Rand, assocs []api.Assoc) map[api.Assoc]float64 {
	fixed := []float64{1, 2, 5, 10, 100}
	u := map[api.Assoc]float64{}
	for _, a := range assocs {
		switch r.IntN(4) {
		case 0: // none
		case 1:
			u[a] = fixed[r.IntN(len(fixed))]
		default:
			u[a] = r.Float64() * 1e6
		}
	}
	return u
}

func TestProperties(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for iter := range 400 {
		accts := randomAccounts(r, 1+r.IntN(25), 4)
		tr := mustNew(t, accts)
		assocs := tr.Assocs()
		if len(assocs) == 0 {
			continue
		}
		usage := randomUsage(r, assocs)
		for _, algo := range []string{FairTree, Classic} {
			name := fmt.Sprintf("iter %d %s", iter, algo)
			f, err := tr.Factors(algo, usage)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if len(f) != len(assocs) {
				t.Fatalf("%s: %d factors for %d associations", name, len(f), len(assocs))
			}
			for a, v := range f {
				if !(v >= 0 && v <= 1) {
					t.Fatalf("%s: %v factor %v outside [0,1]", name, a, v)
				}
			}
			// Deterministic: same answer from a copy of the input, and from
			// a tree built again.
			again, _ := mustNew(t, accts).Factors(algo, maps.Clone(usage))
			if !maps.Equal(f, again) {
				t.Fatalf("%s: not deterministic:\n%v\n%v", name, f, again)
			}
			if algo == FairTree {
				checkRanks(t, name, tr, f, usage)
			}
			// Monotone: more usage for one association never raises its factor.
			for range 3 {
				a := assocs[r.IntN(len(assocs))]
				more := maps.Clone(usage)
				more[a] += []float64{1e-9, 1, 1000, 1e6, r.Float64() * 1e5}[r.IntN(5)]
				g, err := tr.Factors(algo, more)
				if err != nil {
					t.Fatal(err)
				}
				if g[a] > f[a]+1e-12 {
					t.Fatalf("%s: adding usage to %v raised its factor %v -> %v\naccounts %+v\nusage %v",
						name, a, f[a], g[a], accts, usage)
				}
			}
		}
	}
}

// checkRanks checks Fair Tree's ranking: factor·N is an integer rank in
// 1..N equal to N minus the number of users ranked strictly above
// (competition ranking, the best is N), and where two users' ancestors
// just below their closest common ancestor differ in Level Fairness, every
// user under the higher one ranks strictly above.
func checkRanks(t *testing.T, name string, tr *Tree, f map[api.Assoc]float64, usage map[api.Assoc]float64) {
	t.Helper()
	n := float64(len(f))
	ranks := map[api.Assoc]int{}
	for a, v := range f {
		rk := v * n
		if math.Abs(rk-math.Round(rk)) > 1e-9 || rk < 1-1e-9 || rk > n+1e-9 {
			t.Fatalf("%s: %v factor %v is not rank/N", name, a, v)
		}
		ranks[a] = int(math.Round(rk))
	}
	best := 0
	for a, rk := range ranks {
		above := 0
		for _, o := range ranks {
			if o > rk {
				above++
			}
		}
		if rk != len(ranks)-above {
			t.Fatalf("%s: %v rank %d but %d users rank above (N=%d)", name, a, rk, above, len(ranks))
		}
		best = max(best, rk)
	}
	if best != len(ranks) {
		t.Fatalf("%s: best rank %d, want N=%d", name, best, len(ranks))
	}
	c, err := tr.compute(FairTree, usage)
	if err != nil {
		t.Fatal(err)
	}
	path := func(a api.Assoc) []int { // root .. the user
		var p []int
		for x := tr.index[a]; x >= 0; x = tr.nodes[x].parent {
			p = append([]int{x}, p...)
		}
		return p
	}
	for a := range ranks {
		pa := path(a)
		for b := range ranks {
			pb := path(b)
			k := 0
			for k < len(pa) && k < len(pb) && pa[k] == pb[k] {
				k++
			}
			if k == len(pa) || k == len(pb) {
				continue // the same association
			}
			if c.lf[pa[k]] > c.lf[pb[k]] && ranks[a] <= ranks[b] {
				t.Fatalf("%s: %v (LF %v at the split) ranks %d, not above %v (LF %v) at %d",
					name, a, c.lf[pa[k]], ranks[a], b, c.lf[pb[k]], ranks[b])
			}
		}
	}
}

// FuzzNew feeds New arbitrary account lists, one account a line:
// "name,parent,shares,usershares,user user ...". It must never panic; a
// tree it accepts must compute factors in [0,1].
func FuzzNew(f *testing.F) {
	f.Add("a,,1,1,u v\nb,a,2,0,w\n")
	f.Add("a,b,1,1,u\nb,a,1,1,v\n")
	f.Add("root,,0,0,admin\nx,root,-1,3,u u\n,,,,\n")
	f.Add("a,a,0,0,\nb,zz,5,5,x\nb,,1,1,y")
	f.Fuzz(func(t *testing.T, spec string) {
		var accts []api.Account
		for line := range strings.SplitSeq(spec, "\n") {
			fields := strings.SplitN(line, ",", 5)
			for len(fields) < 5 {
				fields = append(fields, "")
			}
			shares, _ := strconv.Atoi(fields[2])
			userShares, _ := strconv.Atoi(fields[3])
			a := api.Account{Name: fields[0], Parent: fields[1], Shares: shares, UserShares: userShares}
			if fields[4] != "" {
				a.Users = strings.Split(fields[4], " ")
			}
			accts = append(accts, a)
		}
		tr, err := New(accts)
		if err != nil {
			return
		}
		usage := map[api.Assoc]float64{}
		for i, a := range tr.Assocs() {
			usage[a] = float64(i % 3)
			if _, ok := tr.DefaultAccount(a.User); !ok {
				t.Fatalf("%v: no default account", a)
			}
		}
		for _, algo := range []string{FairTree, Classic} {
			fs, err := tr.Factors(algo, usage)
			if err != nil {
				t.Fatal(err)
			}
			for a, v := range fs {
				if !(v >= 0 && v <= 1) {
					t.Fatalf("%s: %v factor %v", algo, a, v)
				}
			}
			if _, err := tr.Report(algo, usage); err != nil {
				t.Fatal(err)
			}
		}
	})
}

// BenchmarkFactors: 1,000 accounts three levels deep (10 under root, 90
// under those, 900 under those) with 10 users each: 10,000 associations.
func BenchmarkFactors(b *testing.B) {
	r := rand.New(rand.NewPCG(3, 4))
	accts := make([]api.Account, 1000)
	for i := range accts {
		a := api.Account{Name: fmt.Sprintf("acct%04d", i), Shares: 1 + r.IntN(10)}
		switch {
		case i >= 100:
			a.Parent = accts[10+(i-100)/10].Name
		case i >= 10:
			a.Parent = accts[(i-10)/9].Name
		}
		for u := range 10 {
			a.Users = append(a.Users, fmt.Sprintf("user%05d", i*10+u))
		}
		accts[i] = a
	}
	tr, err := New(accts)
	if err != nil {
		b.Fatal(err)
	}
	usage := randomUsage(r, tr.Assocs())
	for _, algo := range []string{FairTree, Classic} {
		b.Run(algo, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := tr.Factors(algo, usage); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
