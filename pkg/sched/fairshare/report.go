package fairshare

import "github.com/gsched/gsched/pkg/api"

// Row is one line of the sshare-style report: an account (User "") or a
// user association.
type Row struct {
	Account string `json:"account"`
	User    string `json:"user,omitempty"`
	// Depth is 0 for root, 1 for what hangs directly under it, and so on.
	Depth int `json:"depth"`
	// RawShares are the configured shares (0 taken as 1); NormShares is
	// RawShares over the sum of the sibling set's (itself included).
	RawShares  int     `json:"raw_shares"`
	NormShares float64 `json:"norm_shares"`
	// RawUsage is the usage of the subtree; NormUsage is RawUsage over the
	// usage of the whole tree (0 when the tree has none).
	RawUsage  float64 `json:"raw_usage"`
	NormUsage float64 `json:"norm_usage"`
	// EffectiveUsage is Slurm's effective usage under Classic; under
	// FairTree it equals NormUsage.
	EffectiveUsage float64 `json:"effective_usage"`
	// LevelFS is Fair Tree's S/U at the row's level (+Inf without usage:
	// render it "inf"); 0 under Classic.
	LevelFS float64 `json:"level_fs"`
	// FairShare is the factor of a user association; 0 on accounts.
	FairShare float64 `json:"fairshare"`
}

// Report returns the sshare-style table for algo: one Row per account
// (root first) and per user association, depth-first in tree order (an
// account, then its users, then its sub-accounts, each in configuration
// order). The root row stands alone in its sibling set: RawShares 1,
// NormShares 1, NormUsage 1 when the tree has usage, and under FairTree a
// LevelFS of 1, or +Inf without usage. usage is read as by Factors, with
// the same errors.
func (t *Tree) Report(algo string, usage map[api.Assoc]float64) ([]Row, error) {
	c, err := t.compute(algo, usage)
	if err != nil {
		return nil, err
	}
	rows := make([]Row, 0, len(t.pre))
	total := c.sub[0]
	for _, n := range t.pre {
		nd := &t.nodes[n]
		r := Row{
			Depth:      nd.depth,
			RawShares:  nd.shares,
			NormShares: c.shareFrac(n),
			RawUsage:   c.sub[n] * c.scale,
		}
		if total > 0 {
			r.NormUsage = c.sub[n] / total
		}
		if nd.user {
			r.Account, r.User = nd.assoc.Account, nd.assoc.User
			r.FairShare = c.fs[n]
		} else {
			r.Account = nd.name
		}
		if algo == Classic {
			r.EffectiveUsage = c.ueff[n]
		} else {
			r.EffectiveUsage = r.NormUsage
			r.LevelFS = c.lf[n]
		}
		rows = append(rows, r)
	}
	return rows, nil
}
