package cli

import (
	"fmt"
	"strings"

	ucli "github.com/urfave/cli/v2"

	"github.com/gsched/gsched/pkg/units"

	"github.com/gsched/gsched/pkg/queuefmt"
)

// sbatch's options without an equivalent in gsched. Scripts written for Slurm — by hand or by
// tools such as submitit, which writes --wckey and --signal into every
// script — carry options that tune Slurm internals gsched does not have.
// Each is accepted, so that the script runs unchanged, and gsub says on
// standard error what it does instead; or, where running the job without
// the option's meaning could do harm (run it as another user, skip a
// burst buffer the job reads from), refused with the reason.

// sbatchOption is one sbatch option gsub takes without an equivalent.
type sbatchOption struct {
	name, short string
	// flag: the option takes no value (-s, -O, -Q, -v).
	flag bool
	// why is the warning, or for refused options the error.
	why string
}

// tuning names options that tune placement or Slurm internals: ignoring
// them changes at most how tightly the job is packed or which of several
// fitting nodes it gets.
const (
	whyPacking  = "gsched places tasks itself (whole cores, NUMA-aware for GPUs); ignored"
	whyAccount  = "gsched's accounting has no equivalent; ignored"
	whyNoPower  = "gsched does not manage node power or reboots; ignored"
	whyVerbose  = "ignored"
	whyFeatures = "not matched by gsched's scheduler; give the nodes a feature and use --constraint if it matters"
)

var sbatchWarned = []sbatchOption{
	{name: "acctg-freq", why: "gsched samples usage at its own interval; ignored"},
	{name: "batch", why: "the batch script runs on the job's first node; " + whyFeatures},
	{name: "cluster-constraint", why: "gsched runs one cluster; ignored"},
	{name: "clusters", short: "M", why: "gsched runs one cluster: the job goes to the one gsub talks to"},
	{name: "core-spec", short: "S", why: whyPacking},
	{name: "cores-per-socket", why: whyPacking},
	{name: "cpu-freq", why: "gsched does not set CPU frequencies; ignored"},
	{name: "delay-boot", why: whyNoPower},
	{name: "distribution", short: "m", why: "tasks are laid out in blocks across the job's nodes; ignored"},
	{name: "deadline", why: "gsched does not remove jobs that cannot end by a deadline; the job may still start later"},
	{name: "extra-node-info", short: "B", why: whyPacking},
	{name: "get-user-env", why: "the job gets the submitting environment (--export); ignored"},
	{name: "gpu-bind", why: "each task sees its own GPUs with --gpus-per-task (CUDA_VISIBLE_DEVICES); other bindings are ignored"},
	{name: "gpu-freq", why: "gsched does not set GPU clocks; ignored"},
	{name: "gres-flags", why: "GPUs are placed topology-aware by default; ignored"},
	{name: "hint", why: "gsched places tasks itself (NUMA-aware for GPUs); the hint is ignored"},
	{name: "ignore-pbs", flag: true, why: "gsub reads no #PBS directives anyway"},
	{name: "immediate", short: "I", why: "the job waits in the queue instead of failing when it cannot start at once"},
	{name: "input", short: "i", why: "the batch script's standard input is /dev/null; ignored"},
	{name: "licenses", short: "L", why: "gsched does not count licenses: the job may start before a license is free"},
	{name: "mcs-label", why: whyAccount},
	{name: "mem-bind", why: "a task may use all of the job's memory on its node; ignored"},
	{name: "mincpus", why: "use --cpus-per-task; ignored"},
	{name: "network", why: whyFeatures},
	{name: "no-kill", short: "k", why: "a failed node ends (or requeues) the whole job"},
	{name: "ntasks-per-core", why: whyPacking},
	{name: "ntasks-per-socket", why: whyPacking},
	{name: "overcommit", short: "O", flag: true, why: "each task gets its --cpus-per-task CPUs; ignored"},
	{name: "oversubscribe", short: "s", flag: true, why: "gsched shares nodes between jobs by default (cores are never shared); ignored"},
	{name: "power", why: whyNoPower},
	{name: "priority", why: "only gsched's multifactor priority orders jobs; use --nice"},
	{name: "profile", why: "gsched records no per-job profile; use the node's /metrics"},
	{name: "propagate", why: "limits come from the job's cgroup; ignored"},
	{name: "quiet", short: "Q", flag: true, why: whyVerbose},
	{name: "reboot", flag: true, why: whyNoPower},
	{name: "signal", why: "gsched sends no early warning signal: at its time limit a job gets SIGTERM, then SIGKILL after the controller's kill_wait"},
	{name: "sockets-per-node", why: whyPacking},
	{name: "spread-job", flag: true, why: whyPacking},
	{name: "thread-spec", why: whyPacking},
	{name: "threads-per-core", why: whyPacking},
	{name: "time-min", why: "the job keeps its --time; backfill uses that"},
	{name: "tmp", why: "gsched does not track node-local disk; " + whyFeatures},
	{name: "use-min-nodes", flag: true, why: whyPacking},
	{name: "verbose", short: "v", flag: true, why: whyVerbose},
	{name: "wait-all-nodes", why: "a job starts once all of its nodes are ready; ignored"},
	{name: "wckey", why: whyAccount},
}

var sbatchRefused = []sbatchOption{
	{name: "reservation", why: "gsched has no advance reservations: remove --reservation (or run in a partition set aside for it)"},
	{name: "uid", why: "jobs run as the user who submits them; submit as that user"},
	{name: "gid", why: "jobs run with the submitting user's groups"},
	{name: "burst-buffer", why: "gsched has no burst buffers"},
	{name: "bb", why: "gsched has no burst buffers"},
	{name: "bbf", why: "gsched has no burst buffers"},
	{name: "container", why: "gsched does not run OCI bundles by path"},
	{name: "export-file", why: "use --export"},
	{name: "nodefile", short: "F", why: "use --nodelist"},
	{name: "ntasks-per-gpu", why: "use --ntasks with --gpus-per-task"},
	{name: "tres-per-task", why: "use --cpus-per-task and --gpus-per-task"},
	{name: "het-group", why: "gsched has no heterogeneous jobs"},
}

// sbatchBare are gsub's options whose value is optional in sbatch
// (getopt's "::"): alone, they get this value. A numeric default also
// takes a number given as the next word (--nice 10).
var sbatchBare = map[string]string{
	"exclusive": "yes", "nice": "100", "no-kill": "on", "get-user-env": "yes",
	"propagate": "ALL", "profile": "all", "k": "on",
}

// sbatchFlags are the flags for sbatchWarned and sbatchRefused.
func sbatchFlags() []ucli.Flag {
	var flags []ucli.Flag
	add := func(o sbatchOption, usage string) {
		var aliases []string
		if o.short != "" {
			aliases = []string{o.short}
		}
		if o.flag {
			flags = append(flags, &ucli.BoolFlag{Name: o.name, Aliases: aliases, Usage: usage})
			return
		}
		flags = append(flags, &ucli.StringFlag{Name: o.name, Aliases: aliases, Usage: usage})
	}
	for _, o := range sbatchWarned {
		add(o, "accepted for sbatch scripts, with a warning: "+o.why)
	}
	for _, o := range sbatchRefused {
		add(o, "refused: "+o.why)
	}
	return flags
}

// sbatchWarnings says what gsub does instead of the sbatch options set in
// ctxs, or refuses the first refused one.
func sbatchWarnings(ctxs []*ucli.Context) ([]string, error) {
	isSet := func(name string) (string, bool) {
		if c := firstSet(ctxs, name); c != nil {
			return c.String(name), true
		}
		return "", false
	}
	for _, o := range sbatchRefused {
		if _, ok := isSet(o.name); ok {
			return nil, fmt.Errorf("--%s: %s", o.name, o.why)
		}
	}
	var warn []string
	for _, o := range sbatchWarned {
		v, ok := isSet(o.name)
		switch {
		case !ok:
		case o.flag:
			warn = append(warn, fmt.Sprintf("--%s: %s", o.name, o.why))
		default:
			warn = append(warn, fmt.Sprintf("--%s=%s: %s", o.name, queuefmt.CutRunes(v, 40), o.why))
		}
	}
	if v, ok := isSet("mem"); ok {
		if n, err := units.ParseMemory(v); err == nil && n == 0 {
			warn = append(warn, "--mem=0: all of each node's memory, so the job gets whole nodes (as --exclusive)")
		}
	}
	if v, ok := isSet("exclusive"); ok {
		if _, err := exclusiveOption(v); err != nil {
			return nil, err
		}
		if mode := strings.ToLower(v); mode == "user" || mode == "mcs" {
			warn = append(warn, fmt.Sprintf("--exclusive=%s: the job gets whole nodes to itself (gsched has no per-user sharing)", v))
		}
	}
	return warn, nil
}

// exclusiveOption reads --exclusive's value: sbatch takes it alone or as
// --exclusive=user or =mcs, which gsched treats as whole nodes.
func exclusiveOption(v string) (bool, error) {
	switch strings.ToLower(v) {
	case "", "yes", "true", "1", "user", "mcs":
		return true, nil
	case "no", "false", "0":
		return false, nil
	}
	return false, fmt.Errorf("--exclusive=%s: use --exclusive alone, or =user or =mcs", v)
}
