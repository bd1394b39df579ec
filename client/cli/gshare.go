package cli

import (
	"fmt"
	"io"
	"slices"
	"strings"

	ucli "github.com/urfave/cli/v2"

	"github.com/gsched/gsched/pkg/api"
)

// Gshare runs gshare: the fair-share tree with shares, usage and factors.
func (e *Env) Gshare(args []string) int {
	flags := []ucli.Flag{
		&ucli.BoolFlag{Name: "noheader", Aliases: []string{"h"}, Usage: "do not print the header line"},
		&ucli.StringFlag{Name: "user", Aliases: []string{"u"}, Usage: "only these users' rows (and their accounts; comma list)"},
		jsonFlag(), configFlag(), helpFlag(false),
	}
	app := e.newApp("gshare", "show fair-share shares, usage and factors (like sshare)", "", flags, e.gshareAction)
	if len(args) > 1 {
		args = append(args[:1:1], expandShortOptions(args[1:], flags, false)...)
	}
	return e.run(app, args)
}

func (e *Env) gshareAction(c *ucli.Context) error {
	if c.Args().Present() {
		return usagef("unexpected argument %q", c.Args().First())
	}
	cl, err := e.connect(c)
	if err != nil {
		return err
	}
	var sl api.ShareList
	if err := call(c.Context, cl, api.PathShares, struct{}{}, &sl); err != nil {
		return fmt.Errorf("list shares: %w", err)
	}
	if users := SplitList(c.String("user")); len(users) > 0 {
		sl.Rows = FilterShares(sl.Rows, users)
	}
	if c.Bool("json") {
		return writeJSON(e.Stdout, sl)
	}
	if len(sl.Rows) == 0 {
		fmt.Fprintln(e.Stdout, "fair-share is off: no [[account]] is configured")
		return nil
	}
	return RenderShares(e.Stdout, sl, !c.Bool("noheader"))
}

// FilterShares keeps the rows of the given users and the accounts above them.
func FilterShares(rows []api.ShareRow, users []string) []api.ShareRow {
	keepAcct := map[string]bool{}
	for _, r := range rows {
		if r.User != "" && slices.Contains(users, r.User) {
			keepAcct[r.Account] = true
		}
	}
	var out []api.ShareRow
	for _, r := range rows {
		if (r.User == "" && keepAcct[r.Account]) || (r.User != "" && slices.Contains(users, r.User)) {
			out = append(out, r)
		}
	}
	return out
}

// RenderShares prints the tree as sshare does: Account (indented by
// depth) User RawShares NormShares RawUsage EffectvUsage LevelFS FairShare.
func RenderShares(w io.Writer, sl api.ShareList, header bool) error {
	tw := newTable(w)
	if header {
		fmt.Fprintln(tw, "Account\tUser\tRawShares\tNormShares\tRawUsage\tEffectvUsage\tLevelFS\tFairShare")
	}
	for _, r := range sl.Rows {
		lf := "inf"
		if r.LevelFS >= 0 {
			lf = fmt.Sprintf("%.6f", r.LevelFS)
		}
		if sl.Algorithm != "fair_tree" {
			lf = ""
		}
		fs := ""
		if r.User != "" {
			fs = fmt.Sprintf("%.6f", r.FairShare)
		}
		fmt.Fprintf(tw, "%s%s\t%s\t%d\t%.6f\t%.0f\t%.6f\t%s\t%s\n", strings.Repeat(" ", r.Depth), r.Account, r.User,
			r.RawShares, r.NormShares, r.RawUsage, r.EffectiveUsage, lf, fs)
	}
	return tw.Flush()
}
