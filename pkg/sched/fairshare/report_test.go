package fairshare

import (
	"math"
	"testing"
)

// The classic example tree with usage user1 20, user2 25, user4 25,
// user5 30 (total 100).
var reportUsage = map[string]float64{"B/user1": 20, "C/user2": 25, "E/user4": 25, "F/user5": 30}

func TestReportFairTree(t *testing.T) {
	tr := mustNew(t, multiLevel())
	rows, err := tr.Report(FairTree, usageOf(reportUsage))
	if err != nil {
		t.Fatal(err)
	}
	inf := math.Inf(1)
	// Fair Tree ranking: root: A LF .4/.45 = .889, D .6/.55 = 1.09: D first.
	// D: E (25/60)/(25/55) = .917, F (35/60)/(30/55) = 1.069: user5 5, user4 4.
	// A: B .75/(20/45) = 1.6875, C .25/(25/45) = .45: user1 3.
	// C: user3 +Inf 2, user2 .5/1 = .5: 1.
	want := []struct {
		acct, user string
		depth, raw int
		normShares float64
		rawUsage   float64
		normUsage  float64
		levelFS    float64
		fs         float64
	}{
		{"root", "", 0, 1, 1, 100, 1, 1, 0},
		{"A", "", 1, 40, .4, 45, .45, .4 / .45, 0},
		{"B", "", 2, 30, .75, 20, .2, .75 / (20.0 / 45), 0},
		{"B", "user1", 3, 1, 1, 20, .2, 1, .6},
		{"C", "", 2, 10, .25, 25, .25, .25 / (25.0 / 45), 0},
		{"C", "user2", 3, 1, .5, 25, .25, .5, .2},
		{"C", "user3", 3, 1, .5, 0, 0, inf, .4},
		{"D", "", 1, 60, .6, 55, .55, .6 / .55, 0},
		{"E", "", 2, 25, 25.0 / 60, 25, .25, (25.0 / 60) / (25.0 / 55), 0},
		{"E", "user4", 3, 1, 1, 25, .25, 1, .8},
		{"F", "", 2, 35, 35.0 / 60, 30, .3, (35.0 / 60) / (30.0 / 55), 0},
		{"F", "user5", 3, 1, 1, 30, .3, 1, 1},
	}
	if len(rows) != len(want) {
		t.Fatalf("%d rows, want %d: %+v", len(rows), len(want), rows)
	}
	near := func(a, b float64) bool { return a == b || math.Abs(a-b) < 1e-9 }
	for i, w := range want {
		r := rows[i]
		if r.Account != w.acct || r.User != w.user || r.Depth != w.depth || r.RawShares != w.raw {
			t.Errorf("row %d: %s/%s depth %d raw %d; want %s/%s depth %d raw %d",
				i, r.Account, r.User, r.Depth, r.RawShares, w.acct, w.user, w.depth, w.raw)
		}
		if !near(r.NormShares, w.normShares) || !near(r.RawUsage, w.rawUsage) || !near(r.NormUsage, w.normUsage) ||
			!near(r.EffectiveUsage, w.normUsage) || !near(r.LevelFS, w.levelFS) || !near(r.FairShare, w.fs) {
			t.Errorf("row %d (%s/%s): %+v\nwant norm shares %v, raw usage %v, norm usage %v (also effective), level fs %v, fairshare %v",
				i, r.Account, r.User, r, w.normShares, w.rawUsage, w.normUsage, w.levelFS, w.fs)
		}
	}
	checkSiblingShares(t, rows)
}

func TestReportClassic(t *testing.T) {
	tr := mustNew(t, multiLevel())
	rows, err := tr.Report(Classic, usageOf(reportUsage))
	if err != nil {
		t.Fatal(err)
	}
	// Effective usages and factors as computed in TestClassic; root's
	// effective usage is its normalised usage, 1.
	want := []struct {
		name string
		ueff float64
		fs   float64
	}{
		{"root", 1, 0}, {"A", .45, 0}, {"B", .3875, 0}, {"user1", .3875, .408479},
		{"C", .30, 0}, {"user2", .275, .022097}, {"user3", .15, .125},
		{"D", .55, 0}, {"E", .375, 0}, {"user4", .375, .353553}, {"F", .445833, 0}, {"user5", .445833, .413566},
	}
	if len(rows) != len(want) {
		t.Fatalf("%d rows, want %d", len(rows), len(want))
	}
	for i, w := range want {
		r := rows[i]
		name := r.Account
		if r.User != "" {
			name = r.User
		}
		if name != w.name || math.Abs(r.EffectiveUsage-w.ueff) > 1e-6 || math.Abs(r.FairShare-w.fs) > 1e-6 || r.LevelFS != 0 {
			t.Errorf("row %d: %s effective %.6f fairshare %.6f level fs %v; want %s %.6f %.6f 0",
				i, name, r.EffectiveUsage, r.FairShare, r.LevelFS, w.name, w.ueff, w.fs)
		}
	}
	checkSiblingShares(t, rows)
}

func TestReportNoUsage(t *testing.T) {
	tr := mustNew(t, multiLevel())
	for _, algo := range []string{FairTree, Classic} {
		rows, err := tr.Report(algo, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			if r.RawUsage != 0 || r.NormUsage != 0 || r.EffectiveUsage != 0 {
				t.Errorf("%s: %s/%s has usage %+v", algo, r.Account, r.User, r)
			}
			if algo == FairTree && !math.IsInf(r.LevelFS, 1) {
				t.Errorf("%s: %s/%s level fs %v, want +Inf", algo, r.Account, r.User, r.LevelFS)
			}
			if r.User != "" && r.FairShare != 1 {
				t.Errorf("%s: %s/%s fairshare %v, want 1", algo, r.Account, r.User, r.FairShare)
			}
		}
	}
}

// checkSiblingShares checks that NormShares sums to 1 over every sibling
// set; a row's parent is the last row before it one level up.
func checkSiblingShares(t *testing.T, rows []Row) {
	t.Helper()
	sums := map[int]float64{} // parent row index -> sum
	var stack []int           // row index per depth
	for i, r := range rows {
		stack = append(stack[:r.Depth], i)
		p := -1
		if r.Depth > 0 {
			p = stack[r.Depth-1]
		}
		sums[p] += r.NormShares
	}
	for p, s := range sums {
		if math.Abs(s-1) > 1e-9 {
			t.Errorf("children of row %d: NormShares sum to %v", p, s)
		}
	}
}
