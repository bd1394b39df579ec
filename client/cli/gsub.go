package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	ucli "github.com/urfave/cli/v2"

	"github.com/gsched/gsched/pkg/api"
	"github.com/gsched/gsched/pkg/batch"
	"github.com/gsched/gsched/pkg/units"
)

// Defaults gsub applies.
const (
	DefaultOutput    = "gsched-%j.out"
	DefaultStdinName = "gsub"
	DefaultWrapName  = "wrap"
)

// waitPoll is how long one --wait long poll may block on the controller.
const waitPoll = 30 * time.Second

// waitRetries bounds consecutive failed --wait polls (controller restarts).
const waitRetries = 30

// SubmitOptions are gsub's options as text, after merging the script's
// directives with the command line.
type SubmitOptions struct {
	JobName     string
	Partition   string
	Nodes       string
	NTasks      string
	CPUsPerTask string
	Mem         string
	GPUs        string
	GPUsPerNode string
	Gres        string
	Time        string
	Output      string
	Error       string
	OpenMode    string
	Chdir       string
	Export      string
	Account     string
	QOS         string
	Nice        string
	GPUMem      string
	MemPerGPU   string
	Constraint  string
	Hold        bool
	NoRequeue   bool
	// Multi-node and binding options.
	NTasksPerNode string
	GPUsPerTask   string
	CPUsPerGPU    string
	Switches      string
	Exclusive     bool
	// Arrays, dependencies and start times.
	Array            string
	Dependency       string
	KillOnInvalidDep string
	Begin            string
	MemPerCPU        string
	Comment          string
	// Containers (gsubimage.go).
	Image           string
	ContainerMounts string
	Mounts          []string
	// Named nodes (--nodelist, --exclude) and mail (--mail-type,
	// --mail-user): gsubcompat.go.
	NodeList, Exclude  string
	MailType, MailUser string
	TestOnly           bool
}

// SubmitInput is what gsub knows besides the options.
type SubmitInput struct {
	Script []byte
	// ScriptPath is the script's file name; "" for stdin or --wrap.
	ScriptPath string
	Wrap       bool
	Args       []string
	Cwd        string
	Environ    []string
	Hostname   string
	// Now is when gsub runs (for relative --begin times).
	Now time.Time
}

// stringFlag is a string option with an optional one-letter alias.
func stringFlag(name, alias, usage string) ucli.Flag {
	f := &ucli.StringFlag{Name: name, Usage: usage}
	if alias != "" {
		f.Aliases = []string{alias}
	}
	return f
}

func gsubFlags() []ucli.Flag {
	s := stringFlag
	return append([]ucli.Flag{
		s("job-name", "J", "job name (default: the script's file name)"),
		s("partition", "p", "partition to run in (default: the default partition)"),
		s("nodes", "N", "number of nodes (default: 1, or as many as --gpus needs)"),
		s("ntasks", "n", "number of tasks (default: one per node)"),
		s("ntasks-per-node", "", "tasks on each node"),
		s("gpus-per-task", "", "GPUs for each task (each task sees its own)"),
		s("cpus-per-gpu", "", "CPUs for each allocated GPU"),
		s("switches", "", "at most N leaf switches, waiting up to the time given: N[@time]"),
		s("cpus-per-task", "c", "CPUs per task"),
		s("mem", "", "memory per node: MiB, or a size with K, M, G or T suffix"),
		s("gpus", "G", "GPUs for the job: N or type:N (e.g. a100:4)"),
		s("gpus-per-node", "", "GPUs per node: N"),
		s("gres", "", "generic resources: gpu:N"),
		s("time", "t", "time limit: MM, MM:SS, HH:MM:SS, D-HH[:MM[:SS]] or UNLIMITED"),
		s("output", "o", "standard output file pattern (default "+DefaultOutput+")"),
		s("error", "e", "standard error file pattern (default: same as output)"),
		s("open-mode", "", "append or truncate the output files (default truncate)"),
		s("chdir", "D", "directory the job starts in (default: the current directory)"),
		s("export", "", "environment to pass: ALL (default), NONE, or a list such as ALL,FOO=bar or FOO,BAR=1"),
		s("account", "A", "account to charge (default: your default account)"),
		s("gpu-mem", "", "only GPUs with at least this much memory (e.g. 40G)"),
		s("mem-per-gpu", "", "memory per allocated GPU (instead of --mem)"),
		s("constraint", "C", "node features required, joined with & or , (e.g. ib&nvme)"),
		s("qos", "q", "quality of service (default: the partition's)"),
		s("nice", "", "lower the job's priority by this much (negative values: operators only)"),
		s("array", "a", "job array: task indices N, N-M, N-M:step, comma-separated, with an optional %N limit on running tasks (0-15%4)"),
		s("dependency", "d", "start after other jobs: after, afterany, afterok, afternotok, aftercorr (TYPE:ID[:ID...]) or singleton, joined with , (all) or ? (any)"),
		s("kill-on-invalid-dep", "", "yes: cancel the job if its dependency can never be satisfied; no (default): leave it pending"),
		s("begin", "b", "start no earlier than: now+N[seconds|minutes|hours|days|weeks], YYYY-MM-DD[THH:MM[:SS]], HH:MM[:SS], tomorrow, midnight, noon, teatime"),
		s("wrap", "", "submit \"#!/bin/sh\" followed by this command instead of a script"),
		&ucli.BoolFlag{Name: "parsable", Usage: "print only the job ID"},
		&ucli.BoolFlag{Name: "wait", Aliases: []string{"W"}, Usage: "wait for the job to end and exit with its status"},
		&ucli.BoolFlag{Name: "hold", Aliases: []string{"H"}, Usage: "submit the job held"},
		&ucli.StringFlag{Name: "exclusive", Usage: "allocate whole nodes (every CPU, all memory, every GPU); alone, or =user or =mcs as sbatch takes it"},
		&ucli.BoolFlag{Name: "requeue", Usage: "requeue the job if a node fails (the default)"},
		&ucli.BoolFlag{Name: "no-requeue", Usage: "end the job NODE_FAIL if a node fails instead of requeueing it"},
		configFlag(),
		helpFlag(true),
	}, append(append(imageFlags(), compatFlags()...), sbatchFlags()...)...)
}

// Options that may only appear on the command line.
var cliOnly = map[string]bool{"wrap": true, "config": true, "help": true, "parsable": true, "wait": true, "print-spec": true}

// Gsub runs gsub.
func (e *Env) Gsub(args []string) int {
	flags := gsubFlags()
	app := e.newApp("gsub", "submit a batch job", "[script [args...]]", flags, e.gsubAction)
	app.UsageText = "gsub [options] [script [args...]]\n   gsub [options] --wrap \"command\""
	if len(args) > 1 {
		args = append(args[:1:1], expandShortOptions(args[1:], flags, false, sbatchBare)...)
	}
	return e.run(app, args)
}

func (e *Env) gsubAction(c *ucli.Context) error {
	in := SubmitInput{Args: c.Args().Tail(), Environ: e.Environ(), Now: e.Now()}
	var err error
	if in.Cwd, err = e.Getwd(); err != nil {
		return fmt.Errorf("current directory: %w", err)
	}
	if in.Hostname, err = e.Hostname(); err != nil {
		in.Hostname = ""
	}
	switch {
	case c.IsSet("wrap"):
		if c.Args().Present() {
			return usagef("a script argument is not allowed with --wrap")
		}
		in.Wrap = true
		in.Script = []byte("#!/bin/sh\n" + c.String("wrap") + "\n")
	case c.Args().Present() && c.Args().First() != "-":
		in.ScriptPath = c.Args().First()
		if in.Script, err = readScript(in.ScriptPath); err != nil {
			return err
		}
	default:
		if in.Script, err = readLimited(e.Stdin, "standard input"); err != nil {
			return err
		}
	}
	opts, warnings, err := e.mergeOptions(c, in)
	if err != nil {
		return err
	}
	spec, err := BuildSpec(opts, in)
	if err != nil {
		return &usageError{err}
	}
	if c.Bool("print-spec") {
		return printSpec(e.Stdout, spec, warnings)
	}
	for _, w := range warnings {
		fmt.Fprintf(e.Stderr, "gsub: warning: %s\n", w)
	}
	cl, err := e.connect(c)
	if err != nil {
		return err
	}
	if opts.TestOnly {
		return e.testOnly(c, cl, spec)
	}
	var resp api.SubmitResponse
	if err := call(c.Context, cl, api.PathSubmit, api.SubmitRequest{Spec: spec}, &resp); err != nil {
		return fmt.Errorf("submit: %w", err)
	}
	if c.Bool("parsable") {
		fmt.Fprintln(e.Stdout, resp.JobID)
	} else {
		fmt.Fprintf(e.Stdout, "Submitted batch job %d\n", resp.JobID)
	}
	if !c.Bool("wait") {
		return nil
	}
	job, err := e.waitJob(c.Context, cl, resp.JobID)
	if err != nil {
		return err
	}
	if code := WaitExitCode(job); code != 0 {
		return &exitError{code}
	}
	return nil
}

// mergeOptions parses the script's directives with gsub's flags and lays
// the command line over them.
func (e *Env) mergeOptions(c *ucli.Context, in SubmitInput) (SubmitOptions, []string, error) {
	ctxs := []*ucli.Context{c}
	d, err := batch.ParseDirectives(in.Script)
	if err != nil {
		return SubmitOptions{}, nil, &usageError{err}
	}
	if len(d.Args) > 0 {
		dc, err := parseDirectiveArgs(d)
		if err != nil {
			return SubmitOptions{}, nil, err
		}
		ctxs = append(ctxs, dc)
	}
	warnings, err := sbatchWarnings(ctxs)
	if err != nil {
		return SubmitOptions{}, nil, &usageError{err}
	}
	return MergeOptions(ctxs...), warnings, nil
}

// parseDirectiveArgs parses directive options with gsub's own flags.
// Errors name the script line at fault when one line fails on its own.
func parseDirectiveArgs(d batch.Directives) (*ucli.Context, error) {
	c, err := parseOptionArgs(d.Args)
	if err == nil {
		return c, nil
	}
	for _, l := range d.Lines {
		if _, lerr := parseOptionArgs(l.Args); lerr != nil {
			return nil, usagef("batch script line %d: %v", l.Number, lerr)
		}
	}
	return nil, usagef("in script directives: %v", err)
}

// parseOptionArgs parses option words alone (no script, no arguments).
func parseOptionArgs(args []string) (*ucli.Context, error) {
	flags := gsubFlags()
	var got *ucli.Context
	app := &ucli.App{
		Name: "gsub", Flags: fastFlags(flags), HideHelp: true, HideHelpCommand: true, HideVersion: true,
		Writer: io.Discard, ErrWriter: io.Discard,
		OnUsageError:   func(_ *ucli.Context, err error, _ bool) error { return err },
		ExitErrHandler: func(*ucli.Context, error) {},
		Action: func(c *ucli.Context) error {
			got = c
			return nil
		},
	}
	if err := app.Run(append([]string{"gsub"}, expandShortOptions(args, flags, false, sbatchBare)...)); err != nil {
		return nil, err
	}
	if got == nil { // --help: the app showed help (discarded) instead of running
		return nil, errors.New("--help is allowed only on the command line")
	}
	if got.Args().Present() {
		return nil, fmt.Errorf("unexpected argument %q (directives hold only options)", got.Args().First())
	}
	for _, f := range flags {
		if name := f.Names()[0]; cliOnly[name] && got.IsSet(name) {
			return nil, fmt.Errorf("--%s is allowed only on the command line", name)
		}
	}
	return got, nil
}

// MergeOptions reads gsub's options from ctxs, the first that sets an
// option winning. The three GPU options count as one: if any of them is
// set in a context, the others of later contexts are ignored.
func MergeOptions(ctxs ...*ucli.Context) SubmitOptions {
	str := func(name string) string { return firstString(ctxs, name) }
	var o SubmitOptions
	o.JobName = str("job-name")
	o.Partition = str("partition")
	o.Nodes = str("nodes")
	o.NTasks = str("ntasks")
	o.CPUsPerTask = str("cpus-per-task")
	o.Mem = str("mem")
	o.Time = str("time")
	o.Output = str("output")
	o.Error = str("error")
	o.OpenMode = str("open-mode")
	o.Chdir = str("chdir")
	o.Export = str("export")
	o.Account = str("account")
	o.QOS = str("qos")
	o.Nice = str("nice")
	o.GPUMem = str("gpu-mem")
	o.MemPerGPU = str("mem-per-gpu")
	o.Constraint = str("constraint")
	o.NTasksPerNode = str("ntasks-per-node")
	o.GPUsPerTask = str("gpus-per-task")
	o.CPUsPerGPU = str("cpus-per-gpu")
	o.Switches = str("switches")
	o.Array = str("array")
	o.Dependency = str("dependency")
	o.KillOnInvalidDep = str("kill-on-invalid-dep")
	o.Begin = str("begin")
	o.MemPerCPU = str("mem-per-cpu")
	o.Comment = str("comment")
	mergeImageOptions(&o, ctxs)
	o.NodeList, o.Exclude = str("nodelist"), str("exclude")
	o.MailType, o.MailUser = str("mail-type"), str("mail-user")
	if c := firstSet(ctxs, "hold"); c != nil {
		o.Hold = c.Bool("hold")
	}
	if c := firstSet(ctxs, "test-only"); c != nil {
		o.TestOnly = c.Bool("test-only")
	}
	if c := firstSet(ctxs, "no-requeue", "requeue"); c != nil {
		o.NoRequeue = c.Bool("no-requeue")
	}
	if c := firstSet(ctxs, "exclusive"); c != nil {
		o.Exclusive, _ = exclusiveOption(c.String("exclusive")) // checked by sbatchWarnings
	}
	if c := firstSet(ctxs, "gpus", "gpus-per-node", "gres"); c != nil {
		o.GPUs, o.GPUsPerNode, o.Gres = c.String("gpus"), c.String("gpus-per-node"), c.String("gres")
	}
	return o
}

// firstSet returns the first of ctxs (command line first, then the
// script's directives) that sets one of names, or nil: the context whose
// value wins.
func firstSet(ctxs []*ucli.Context, names ...string) *ucli.Context {
	for _, c := range ctxs {
		for _, n := range names {
			if c.IsSet(n) {
				return c
			}
		}
	}
	return nil
}

// firstString is the winning value of a string option ("" if unset).
func firstString(ctxs []*ucli.Context, name string) string {
	if c := firstSet(ctxs, name); c != nil {
		return c.String(name)
	}
	return ""
}

// BuildSpec turns options and input into the job spec gsub sends,
// checking what can be checked locally.
func BuildSpec(o SubmitOptions, in SubmitInput) (api.JobSpec, error) {
	spec := api.JobSpec{
		Name:        o.JobName,
		Partition:   o.Partition,
		CPUsPerTask: 1,
		Exclusive:   o.Exclusive,
		Output:      o.Output,
		Error:       o.Error,
		Script:      string(in.Script),
		Args:        in.Args,
		Hold:        o.Hold,
		NoRequeue:   o.NoRequeue,
		SubmitHost:  in.Hostname,
		Account:     o.Account,
		QOS:         o.QOS,
	}
	if o.Nice != "" {
		n, err := strconv.Atoi(o.Nice)
		if err != nil || n > 10_000_000 || n < -10_000_000 {
			return spec, fmt.Errorf("--nice: %q is not an integer between -10000000 and 10000000", o.Nice)
		}
		spec.Nice = n
	}
	if spec.Name == "" {
		switch {
		case in.Wrap:
			spec.Name = DefaultWrapName
		case in.ScriptPath != "":
			spec.Name = filepath.Base(in.ScriptPath)
		default:
			spec.Name = DefaultStdinName
		}
	}
	if strings.ContainsAny(spec.Name, "\n\r\x00") {
		return spec, errors.New("invalid --job-name: it must be one line")
	}
	var err error
	if o.Nodes != "" {
		if spec.Nodes, err = positive("--nodes", o.Nodes); err != nil {
			return spec, err
		}
	}
	for _, c := range []struct {
		flag, val string
		dst       *int
	}{{"--ntasks-per-node", o.NTasksPerNode, &spec.NTasksPerNode}, {"--gpus-per-task", o.GPUsPerTask, &spec.GPUsPerTask},
		{"--cpus-per-gpu", o.CPUsPerGPU, &spec.CPUsPerGPU}} {
		if c.val != "" {
			if *c.dst, err = positive(c.flag, c.val); err != nil {
				return spec, err
			}
		}
	}
	if o.Switches != "" {
		if spec.Switches, spec.SwitchWait, err = units.ParseSwitches(o.Switches); err != nil {
			return spec, fmt.Errorf("--switches: %w", err)
		}
	}
	if o.NTasks != "" {
		if spec.NTasks, err = positive("--ntasks", o.NTasks); err != nil {
			return spec, err
		}
	}
	if o.CPUsPerTask != "" {
		if spec.CPUsPerTask, err = positive("--cpus-per-task", o.CPUsPerTask); err != nil {
			return spec, err
		}
	}
	if o.Mem != "" {
		if spec.MemBytes, err = units.ParseMemory(o.Mem); err != nil {
			return spec, fmt.Errorf("--mem: %w", err)
		}
		if spec.MemBytes == 0 {
			// sbatch's --mem=0: all of each node's memory, which leaves
			// the node to the job alone; gsched says so outright.
			spec.Exclusive = true
		}
	}
	if spec.GPUs, spec.GPUsPerNode, spec.GPUType, err = gpuRequest(o); err != nil {
		return spec, err
	}
	spec.Constraint = o.Constraint
	if o.GPUMem != "" {
		if spec.GPUMemMin, err = units.ParseMemory(o.GPUMem); err != nil {
			return spec, fmt.Errorf("--gpu-mem: %w", err)
		}
	}
	if o.MemPerGPU != "" {
		if o.Mem != "" {
			return spec, errors.New("use only one of --mem and --mem-per-gpu")
		}
		per, err := units.ParseMemory(o.MemPerGPU)
		if err != nil {
			return spec, fmt.Errorf("--mem-per-gpu: %w", err)
		}
		n := spec.GPUsOnNode()
		if n == 0 {
			return spec, errors.New("--mem-per-gpu needs GPUs (--gpus, --gpus-per-node or --gres)")
		}
		spec.MemBytes = per * int64(n)
	}
	if err := memPerCPU(o, &spec); err != nil {
		return spec, err
	}
	if err := namedNodes(o, &spec); err != nil {
		return spec, err
	}
	if err := mailOptions(o, &spec); err != nil {
		return spec, err
	}
	spec.Comment = o.Comment
	if o.Time != "" {
		secs, unlimited, err := units.ParseTimeLimit(o.Time)
		if err != nil {
			return spec, fmt.Errorf("--time: %w", err)
		}
		spec.TimeLimit = secs
		if unlimited {
			spec.TimeLimit = api.TimeUnlimited
		}
	}
	if spec.Output == "" {
		spec.Output = DefaultOutput
	}
	switch strings.ToLower(o.OpenMode) {
	case "":
	case api.OpenAppend:
		spec.OpenMode = api.OpenAppend
	case api.OpenTruncate:
		spec.OpenMode = api.OpenTruncate
	default:
		return spec, fmt.Errorf("invalid --open-mode %q: use append or truncate", o.OpenMode)
	}
	spec.WorkDir = in.Cwd
	if o.Chdir != "" {
		spec.WorkDir = o.Chdir
		if !filepath.IsAbs(spec.WorkDir) {
			spec.WorkDir = filepath.Join(in.Cwd, spec.WorkDir)
		}
	}
	spec.WorkDir = filepath.Clean(spec.WorkDir)
	if err := imageSpec(o, &spec); err != nil {
		return spec, err
	}
	if err := arrayDepBegin(o, in, &spec); err != nil {
		return spec, err
	}
	if spec.Env, err = BuildExportEnv(o.Export, in.Environ); err != nil {
		return spec, err
	}
	if err := checkUTF8(&spec); err != nil {
		return spec, err
	}
	return spec, nil
}

// arrayDepBegin checks --array, --dependency, --kill-on-invalid-dep and
// --begin and fills them in (arrays and dependencies in canonical form).
func arrayDepBegin(o SubmitOptions, in SubmitInput, spec *api.JobSpec) error {
	if o.Array != "" {
		a, err := api.ParseArray(o.Array, 0)
		if err != nil {
			return err
		}
		spec.Array = a.String()
	}
	if o.Dependency != "" {
		d, err := api.ParseDependency(o.Dependency)
		if err != nil {
			return err
		}
		spec.Dependency = d.String()
	}
	switch strings.ToLower(o.KillOnInvalidDep) {
	case "", "no":
	case "yes":
		spec.KillOnInvalidDep = true
	default:
		return fmt.Errorf("invalid --kill-on-invalid-dep %q: use yes or no", o.KillOnInvalidDep)
	}
	if o.Begin != "" {
		now := in.Now
		if now.IsZero() {
			now = time.Now()
		}
		at, err := ParseBeginTime(o.Begin, now)
		if err != nil {
			return err
		}
		if at.After(now) {
			spec.Begin = at.UTC()
		}
	}
	return nil
}

// checkUTF8 refuses text the request could not carry: JSON would replace
// bytes that are not UTF-8, and the job would get other names, paths or
// variables than the ones given.
func checkUTF8(spec *api.JobSpec) error {
	for _, f := range []struct{ what, v string }{
		{"--job-name", spec.Name}, {"--partition", spec.Partition}, {"--output", spec.Output}, {"--error", spec.Error},
		{"the work directory", spec.WorkDir}, {"--account", spec.Account}, {"--qos", spec.QOS},
		{"--constraint", spec.Constraint}, {"the GPU type", spec.GPUType}, {"the host name", spec.SubmitHost},
	} {
		if !utf8.ValidString(f.v) {
			return fmt.Errorf("%s %q is not valid UTF-8", f.what, f.v)
		}
	}
	for _, a := range spec.Args {
		if !utf8.ValidString(a) {
			return fmt.Errorf("script argument %q is not valid UTF-8", a)
		}
	}
	for _, kv := range spec.Env {
		if !utf8.ValidString(kv) {
			k, _, _ := strings.Cut(kv, "=")
			return fmt.Errorf("environment variable %q is not valid UTF-8: unset it or leave it out with --export", k)
		}
	}
	return nil
}

// positive parses a count that must be at least 1.
func positive(flag, s string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	switch {
	case err != nil && strings.HasPrefix(strings.TrimSpace(s), "-"):
		return 0, fmt.Errorf("invalid %s %q: must be at least 1", flag, s)
	case err != nil:
		return 0, fmt.Errorf("invalid %s %q: not a whole number", flag, s)
	case n < 1:
		return 0, fmt.Errorf("invalid %s %q: must be at least 1", flag, s)
	case n > 1<<20:
		return 0, fmt.Errorf("invalid %s %q: too large", flag, s)
	}
	return n, nil
}

// gpuRequest resolves --gpus, --gpus-per-node and --gres.
func gpuRequest(o SubmitOptions) (gpus, perNode int, typ string, err error) {
	set := 0
	for _, v := range []string{o.GPUs, o.GPUsPerNode, o.Gres} {
		if v != "" {
			set++
		}
	}
	if set > 1 {
		return 0, 0, "", errors.New("use only one of --gpus, --gpus-per-node and --gres")
	}
	switch {
	case o.GPUs != "":
		if gpus, typ, err = units.ParseGPUs(o.GPUs); err != nil {
			return 0, 0, "", fmt.Errorf("--gpus: %w", err)
		}
	case o.GPUsPerNode != "":
		if perNode, typ, err = units.ParseGPUs(o.GPUsPerNode); err != nil {
			return 0, 0, "", fmt.Errorf("--gpus-per-node: %w", err)
		}
	case o.Gres != "":
		if perNode, typ, err = units.ParseGres(o.Gres); err != nil {
			return 0, 0, "", fmt.Errorf("--gres: %w", err)
		}
	}
	return gpus, perNode, typ, nil
}

// BuildExportEnv applies sbatch's --export rules to the environment:
// "" or "ALL" passes everything; "NONE" nothing; otherwise a comma list of
// NAME (taken from the environment when set there) and NAME=value items,
// added to the whole environment if the list holds ALL (a list holding
// NONE, such as "NONE,X=1", passes only its items). The result is
// sorted by name, one entry per name.
func BuildExportEnv(spec string, environ []string) ([]string, error) {
	vars := map[string]string{}
	all, none := false, false
	var items []string
	switch s := strings.TrimSpace(spec); {
	case s == "" || strings.EqualFold(s, "ALL"):
		all = true
	case strings.EqualFold(s, "NONE"):
	default:
		for _, item := range strings.Split(s, ",") {
			item = strings.TrimSpace(item)
			switch {
			case item == "":
			case strings.EqualFold(item, "ALL"):
				all = true
			case strings.EqualFold(item, "NONE"):
				none = true
			default:
				items = append(items, item)
			}
		}
	}
	if all && none {
		return nil, fmt.Errorf("invalid --export %q: ALL and NONE exclude each other", spec)
	}
	env := map[string]string{}
	for _, kv := range environ {
		k, v, ok := strings.Cut(kv, "=")
		if ok && k != "" {
			env[k] = v
		}
	}
	if all {
		for k, v := range env {
			vars[k] = v
		}
	}
	for _, item := range items {
		k, v, hasValue := strings.Cut(item, "=")
		if !validEnvName(k) {
			return nil, fmt.Errorf("invalid --export item %q: %q is not a valid variable name", item, k)
		}
		if hasValue {
			vars[k] = v
		} else if ev, ok := env[k]; ok {
			vars[k] = ev
		}
	}
	out := make([]string, 0, len(vars))
	for k, v := range vars {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return out, nil
}

func validEnvName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9' {
			continue
		}
		return false
	}
	return true
}

// WaitExitCode is gsub --wait's exit status for a finished job, as sbatch
// --wait: 0 for COMPLETED, the job's exit code for FAILED (1 if that is
// 0), and 1 for every other end (CANCELLED, TIMEOUT, OUT_OF_MEMORY,
// NODE_FAIL).
func WaitExitCode(j api.Job) int {
	switch j.State {
	case api.StateCompleted:
		return 0
	case api.StateFailed:
		if j.ExitCode > 0 && j.ExitCode < 256 {
			return j.ExitCode
		}
		return 1
	}
	return 1
}

// waitJob long-polls the controller until the job is final.
func (e *Env) waitJob(ctx context.Context, c Caller, id api.JobID) (api.Job, error) {
	failures := 0
	for {
		var job api.Job
		cctx, cancel := context.WithTimeout(ctx, waitPoll+15*time.Second)
		err := c.Call(cctx, api.PathWaitJob, api.WaitRequest{JobID: id, TimeoutMs: waitPoll.Milliseconds()}, &job)
		cancel()
		switch {
		case err == nil:
			failures = 0
			if job.State.Final() {
				return job, nil
			}
		case errors.Is(err, api.ErrUnavailable) && failures < waitRetries && ctx.Err() == nil:
			failures++
			e.Sleep(2 * time.Second)
		default:
			return job, fmt.Errorf("wait for job %d: %w", id, err)
		}
	}
}

// readScript reads a script file, refusing what is too large.
func readScript(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open batch script: %w", err)
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.IsDir() {
		return nil, fmt.Errorf("batch script %s is a directory", path)
	}
	return readLimited(f, path)
}

func readLimited(r io.Reader, name string) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, api.MaxScriptBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read batch script from %s: %w", name, err)
	}
	if len(data) > api.MaxScriptBytes {
		return nil, fmt.Errorf("batch script %s is larger than %d bytes", name, api.MaxScriptBytes)
	}
	return data, nil
}
