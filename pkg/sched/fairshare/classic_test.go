package fairshare

import (
	"testing"

	"github.com/gsched/gsched/pkg/api"
)

func TestClassic(t *testing.T) {
	tests := []struct {
		name     string
		accounts []api.Account
		usage    map[string]float64
		want     map[string]float64
	}{
		{
			// Slurm's classic_fair_share example tree, its usage made to
			// sum to 1 by giving user5 the rest (.30).
			// S_norm: user1 .4·30/40 = .3; user2, user3 .4·10/40·1/2 = .05;
			//         user4 .6·25/60 = .25; user5 .6·35/60 = .35.
			// U_norm: user1 .20, user2 .25, user4 .25, user5 .30; A .45, D .55.
			// U_eff, first tier = U_norm: A .45, D .55.
			//   B = .20 + (.45-.20)·30/40 = .3875   C = .25 + (.45-.25)·10/40 = .30
			//   E = .25 + (.55-.25)·25/60 = .375    F = .30 + (.55-.30)·35/60 = .445833
			//   user1 = .20 + (.3875-.20)·1/1 = .3875
			//   user2 = .25 + (.30-.25)·1/2  = .275
			//   user3 = 0   + (.30-0)·1/2    = .15
			//   user4 = .25 + (.375-.25)·1/1 = .375
			//   user5 = .30 + (.445833-.30)·1/1 = .445833
			// F = 2^(-U_eff/S_norm):
			//   user1 2^(-.3875/.3)  = .408479 (as on Slurm's page)
			//   user2 2^(-.275/.05)  = 2^-5.5 = .022097 (as on Slurm's page)
			//   user3 2^(-.15/.05)   = 2^-3   = .125 (as on Slurm's page)
			//   user4 2^(-.375/.25)  = 2^-1.5 = .353553
			//   user5 2^(-.445833/.35)        = .413566
			name:     "slurm classic example",
			accounts: multiLevel(),
			usage:    map[string]float64{"B/user1": 20, "C/user2": 25, "E/user4": 25, "F/user5": 30},
			want: map[string]float64{
				"B/user1": .408479, "C/user2": .022097, "C/user3": .125, "E/user4": .353553, "F/user5": .413566,
			},
		},
		{
			// Two levels: phys (1 share) with alice (used 30) and bob (10);
			// chem (3 shares) with carol (used 60).
			// S_norm: alice, bob .25·1/2 = .125; carol .75.
			// U_norm: alice .3, bob .1, carol .6; phys .4, chem .6.
			// U_eff: phys .4, chem .6 (first tier);
			//   alice = .3 + (.4-.3)·1/2 = .35    bob = .1 + (.4-.1)·1/2 = .25
			//   carol = .6 + (.6-.6)·1/1 = .6
			// F: alice 2^(-.35/.125) = 2^-2.8 = .143587
			//    bob   2^(-.25/.125) = 2^-2   = .25
			//    carol 2^(-.6/.75)   = 2^-.8  = .574349
			name: "two levels",
			accounts: []api.Account{
				{Name: "phys", Shares: 1, Users: []string{"alice", "bob"}},
				{Name: "chem", Shares: 3, Users: []string{"carol"}},
			},
			usage: map[string]float64{"phys/alice": 30, "phys/bob": 10, "chem/carol": 60},
			want:  map[string]float64{"phys/alice": .143587, "phys/bob": .25, "chem/carol": .574349},
		},
		{
			// Users of root itself are first tier: U_eff = U_norm.
			// admin: S_norm 1/2, U_eff 1/2: 2^-1 = .5.
			// lab: U_eff .5 (first tier); u: S_norm 1/2, U_eff .5 + (.5-.5)·1 = .5: .5.
			name: "root users",
			accounts: []api.Account{
				{Name: "root", Users: []string{"admin"}},
				{Name: "lab", Users: []string{"u"}},
			},
			usage: map[string]float64{"root/admin": 5, "lab/u": 5},
			want:  map[string]float64{"root/admin": .5, "lab/u": .5},
		},
		{
			name:     "no usage: all 1",
			accounts: multiLevel(),
			want: map[string]float64{
				"B/user1": 1, "C/user2": 1, "C/user3": 1, "E/user4": 1, "F/user5": 1,
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr := mustNew(t, tc.accounts)
			got, err := tr.Factors(Classic, usageOf(tc.usage))
			if err != nil {
				t.Fatal(err)
			}
			checkFactors(t, got, tc.want, 1e-6)
		})
	}
}

// A user with no shares gets 0, with or without usage in the tree. Shares
// of 0 cannot come from a configuration (0 means 1), so set it directly.
func TestClassicZeroShares(t *testing.T) {
	tests := []struct {
		name  string
		usage map[string]float64
		want  map[string]float64
	}{
		// u1 has S_norm 0: factor 0. u2 holds all of a's shares: S_norm 1;
		// a is first tier, U_eff 1; u2 = .5 + (1-.5)·1/1 = 1: 2^-1 = .5.
		{"with usage", map[string]float64{"a/u1": 1, "a/u2": 1}, map[string]float64{"a/u1": 0, "a/u2": .5}},
		{"without usage", nil, map[string]float64{"a/u1": 0, "a/u2": 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr := mustNew(t, []api.Account{{Name: "a", Users: []string{"u1", "u2"}}})
			zeroShares(tr, as("a/u1"))
			got, err := tr.Factors(Classic, usageOf(tc.usage))
			if err != nil {
				t.Fatal(err)
			}
			checkFactors(t, got, tc.want, 1e-12)
		})
	}
}
