package cli

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	ucli "github.com/urfave/cli/v2"

	"github.com/gsched/gsched/pkg/hostlist"
)

// ghostnamesEnv names the variables ghostnames reads when it is given no
// hostlist: gsched's, then Slurm's (for scripts written for Slurm).
var ghostnamesEnv = []string{"GSCHED_JOB_NODELIST", "SLURM_JOB_NODELIST"}

// RunGhostnames runs ghostnames with the process environment.
func RunGhostnames(args []string) int { return DefaultEnv().Ghostnames(args) }

// Ghostnames runs ghostnames: it expands a hostlist to one host name per
// line (like scontrol show hostnames) or, with --compress, writes names as
// a hostlist. It needs no controller.
func (e *Env) Ghostnames(args []string) int {
	flags := []ucli.Flag{
		&ucli.BoolFlag{Name: "compress", Aliases: []string{"c"}, Usage: "print the names given (arguments, else standard input) as one hostlist"},
		helpFlag(false),
	}
	app := e.newApp("ghostnames", "expand a hostlist to host names, one per line (like scontrol show hostnames)",
		"[hostlist...]", flags, e.ghostnamesAction)
	if len(args) > 1 {
		args = append(args[:1:1], expandShortOptions(args[1:], flags, true)...)
	}
	return e.run(app, args)
}

func (e *Env) ghostnamesAction(c *ucli.Context) error {
	exprs := c.Args().Slice()
	if c.Bool("compress") {
		return e.ghostnamesCompress(exprs)
	}
	return e.expandHostlists(exprs)
}

// expandHostlists writes the names of the hostlists (the job's nodes when
// none is given) one a line.
func (e *Env) expandHostlists(exprs []string) error {
	if len(exprs) == 0 {
		expr, err := e.jobNodelist()
		if err != nil {
			return err
		}
		exprs = []string{expr}
	}
	w := bufio.NewWriter(e.Stdout)
	for _, expr := range exprs {
		names, err := hostlist.Expand(expr)
		if err != nil {
			return err
		}
		for _, n := range names {
			w.WriteString(n)
			w.WriteByte('\n')
		}
	}
	return w.Flush()
}

// jobNodelist is the job's hostlist from the environment.
func (e *Env) jobNodelist() (string, error) {
	for _, v := range ghostnamesEnv {
		if s := e.Getenv(v); strings.TrimSpace(s) != "" {
			return s, nil
		}
	}
	return "", usagef("no hostlist given and $%s is not set (give one, e.g. 'gpu[01-04]', or run inside a job)", ghostnamesEnv[0])
}

// ghostnamesCompress prints the names of exprs (hostlists, each a plain
// name at its simplest), else of the words of standard input, as one
// hostlist; it prints nothing when there are no names.
func (e *Env) ghostnamesCompress(exprs []string) error {
	if len(exprs) == 0 {
		in, err := io.ReadAll(e.Stdin)
		if err != nil {
			return fmt.Errorf("read standard input: %w", err)
		}
		exprs = strings.Fields(string(in))
	}
	var names []string
	for _, expr := range exprs {
		n, err := hostlist.Expand(expr)
		if err != nil {
			return err
		}
		names = append(names, n...)
	}
	if len(names) == 0 {
		return nil
	}
	_, err := fmt.Fprintln(e.Stdout, hostlist.Compress(names))
	return err
}
