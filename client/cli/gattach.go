package cli

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"unicode/utf8"

	ucli "github.com/urfave/cli/v2"

	"github.com/gsched/gsched/pkg/api"
	"github.com/gsched/gsched/pkg/hostlist"
)

// gattach opens a shell (or runs a command) on a terminal inside a running
// job: `grun --jobid=ID --overlap --pty $SHELL`. The shell joins the job's
// container on one of its nodes, with the job's GPUs and GSCHED_*
// variables, even while the job's own tasks use all its resources. The
// job's owner or an operator may attach; the shell always runs as the
// job's user.

func gattachFlags() []ucli.Flag {
	return []ucli.Flag{
		stringFlag("nodelist", "w", "the job's node to attach on (default: its first)"),
		stringFlag("io-host", "", "host name or IP the node reaches gattach at (default: $GSCHED_IO_HOST, else the host name)"),
		configFlag(),
		helpFlag(true),
	}
}

// RunGattach runs gattach.
func RunGattach(args []string) int { return DefaultEnv().Gattach(args) }

// Gattach runs gattach.
func (e *Env) Gattach(args []string) int {
	app := e.newApp("gattach", "open a shell on a terminal inside a running job", "jobid [command [args...]]", gattachFlags(), e.gattachAction)
	return e.run(app, args)
}

// attachEnv are the caller's variables an attached shell keeps; the rest
// of its environment is the job's (as its batch script has it).
var attachEnv = []string{"TERM", "COLORTERM", "LANG", "LC_ALL", "LC_CTYPE", "LC_MESSAGES"}

func (e *Env) gattachAction(c *ucli.Context) error {
	args := c.Args().Slice()
	if len(args) == 0 {
		return usagef("no job id given")
	}
	id, err := strconv.ParseUint(args[0], 10, 64)
	if err != nil || id == 0 {
		return usagef("invalid job id %q", args[0])
	}
	argv := args[1:]
	if len(argv) == 0 {
		argv = []string{e.loginShell()}
	}
	spec := api.StepSpec{Argv: argv, Pty: true, Overlap: true}
	for _, k := range attachEnv {
		if v := e.Getenv(k); v != "" && utf8.ValidString(v) {
			spec.Env = append(spec.Env, k+"="+v)
		}
	}
	if c.IsSet("nodelist") {
		names, err := hostlist.Expand(c.String("nodelist"))
		if err != nil {
			return usagef("--nodelist: %v", err)
		}
		if len(names) != 1 {
			return usagef("--nodelist names %d nodes: attach on one", len(names))
		}
		spec.Nodes = names
	}
	for _, a := range append(append([]string{}, argv...), spec.Nodes...) {
		if !utf8.ValidString(a) {
			return usagef("%q is not valid UTF-8", a)
		}
	}
	return e.launch(c, spec, api.JobID(id))
}

// loginShell is the caller's $SHELL, else /bin/bash, else /bin/sh.
func (e *Env) loginShell() string {
	if sh := strings.TrimSpace(e.Getenv("SHELL")); filepath.IsAbs(sh) {
		return sh
	}
	if fi, err := os.Stat("/bin/bash"); err == nil && !fi.IsDir() {
		return "/bin/bash"
	}
	return "/bin/sh"
}
