package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"

	ucli "github.com/urfave/cli/v2"

	"github.com/gsched/gsched/pkg/api"
	"github.com/gsched/gsched/pkg/hostlist"
	"github.com/gsched/gsched/pkg/stepio"
)

// grun starts a command as every task of a job (a step), like srun:
// inside a job (GSCHED_JOB_ID, or --jobid) in that job's allocation;
// outside one, it first allocates a job with the options given, runs the
// step in it and releases it. The tasks' output comes back to grun's
// stdout and stderr (pkg/stepio); grun exits with the step's status: that
// of the first task to fail, the others being killed unless
// --kill-on-bad-exit=0.

// allocScript holds an allocation for grun: the job ends COMPLETED on
// SIGUSR1 and FAILED on SIGUSR2, which grun sends once its step is over.
const allocScript = "#!/bin/sh\n# gsched: allocation held by grun for its step\ntrap 'exit 0' USR1\ntrap 'exit 1' USR2\nsleep infinity &\nwait\n"

// stepPoll is how long one step wait long-polls.
const stepPoll = 30 * time.Second

// outputWait bounds how long grun waits for the tasks' last output once
// the step is over.
const outputWait = 5 * time.Second

func grunFlags() []ucli.Flag {
	s := stringFlag
	return []ucli.Flag{
		s("ntasks", "n", "number of tasks (default: the job's)"),
		s("ntasks-per-node", "", "tasks on each node"),
		s("jobid", "", "run in this job (default: $GSCHED_JOB_ID, or a new allocation)"),
		&ucli.BoolFlag{Name: "label", Aliases: []string{"l"}, Usage: "prefix each output line with its task's rank"},
		s("kill-on-bad-exit", "K", "1 (default): a failing task stops the others; 0: they go on"),
		&ucli.BoolFlag{Name: "pty", Usage: "run one task on a pseudo-terminal connected to grun's (an interactive shell: grun --pty bash)"},
		&ucli.BoolFlag{Name: "overlap", Usage: "share the job's resources with its running tasks; sees all the job's GPUs on the node (as gattach)"},
		s("io-host", "", "host name or IP the nodes reach grun at (default: $GSCHED_IO_HOST, else the host name)"),
		s("chdir", "D", "directory the tasks start in (default: the current directory)"),
		s("nodelist", "w", "inside a job: run on these of its nodes (hostlist, e.g. n[2-3])"),
		&ucli.StringFlag{Name: "cpu-bind", Aliases: []string{"cpu_bind"}, Usage: "task CPU binding: only none (tasks may use all the job's CPUs on the node)"},
		s("mpi", "", "MPI plugin: only none (Open MPI's mpirun launches through grun; see grun(1))"),
		// Allocation options (outside a job), as in gsub.
		s("nodes", "N", "number of nodes (inside a job: of its nodes; outside: to allocate)"),
		s("cpus-per-task", "c", "allocation: CPUs per task"),
		s("mem", "", "allocation: memory per node"),
		s("gpus", "G", "allocation: GPUs for the job"),
		s("gpus-per-node", "", "allocation: GPUs per node"),
		s("gpus-per-task", "", "allocation: GPUs for each task"),
		s("cpus-per-gpu", "", "allocation: CPUs per GPU"),
		s("partition", "p", "allocation: partition"),
		s("time", "t", "allocation: time limit"),
		s("job-name", "J", "allocation: job name (default: the command)"),
		s("account", "A", "allocation: account"),
		s("qos", "q", "allocation: QOS"),
		s("constraint", "C", "allocation: node features"),
		s("switches", "", "allocation: N[@time] leaf switches"),
		&ucli.BoolFlag{Name: "exclusive", Usage: "allocation: whole nodes"},
		configFlag(),
		helpFlag(true),
	}
}

// RunGrun runs grun.
func RunGrun(args []string) int { return DefaultEnv().Grun(args) }

// Grun runs grun.
func (e *Env) Grun(args []string) int {
	flags := grunFlags()
	app := e.newApp("grun", "run a command as every task of a job", "command [args...]", flags, e.grunAction)
	if len(args) > 1 {
		args = append(args[:1:1], expandShortOptions(args[1:], flags, false, grunBare)...)
	}
	return e.run(app, args)
}

// grunBare are grun's options whose value is optional (srun's -K[0|1]).
var grunBare = map[string]string{"K": "1", "kill-on-bad-exit": "1"}

func (e *Env) grunAction(c *ucli.Context) error {
	spec, job, err := e.grunStep(c)
	if err != nil {
		return err
	}
	return e.launch(c, spec, job)
}

// launch runs the step spec in job (0: a new allocation, made from c's
// options and released afterwards) and returns the step's status as an
// exitError. A --pty step gets grun's terminal (grunpty.go).
func (e *Env) launch(c *ucli.Context, spec api.StepSpec, job api.JobID) error {
	argv := spec.Argv
	cl, err := e.connect(c)
	if err != nil {
		return err
	}
	// SIGHUP too: a closed terminal ends the step and frees the
	// allocation instead of leaving it held.
	ctx, stop := signal.NotifyContext(c.Context, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()

	srv, err := stepio.Listen(":0")
	if err != nil {
		return fmt.Errorf("grun: listen for task output: %w", err)
	}
	defer srv.Close()
	opts := stepio.Options{Stdout: e.Stdout, Stderr: e.Stderr, Label: c.Bool("label")}
	if spec.Pty {
		opts = stepio.Options{Stdout: e.Stdout, Stderr: e.Stdout} // one terminal
	}
	go func() { _ = srv.Serve(opts) }()
	host := c.String("io-host")
	if host == "" {
		host = e.Getenv("GSCHED_IO_HOST")
	}
	if host == "" {
		if host, err = e.Hostname(); err != nil {
			return fmt.Errorf("grun: host name: %w", err)
		}
	}
	_, port, err := net.SplitHostPort(srv.Addr().String())
	if err != nil {
		return fmt.Errorf("grun: listener address: %w", err)
	}
	spec.IOAddr, spec.IOToken = net.JoinHostPort(host, port), srv.Token()

	allocated := false
	if job == 0 {
		if job, err = e.allocate(ctx, c, cl, argv); err != nil {
			return err
		}
		allocated = true
	}
	var code int
	if spec.Pty {
		code, err = e.runPtyStep(ctx, cl, srv, job, spec)
	} else {
		code, err = e.runStep(ctx, cl, srv, job, spec)
	}
	if allocated {
		sig := int(syscall.SIGUSR1)
		if code != 0 || err != nil {
			sig = int(syscall.SIGUSR2)
		}
		var resp api.CancelResponse
		rctx, cancel := context.WithTimeout(context.Background(), callTimeout)
		if cerr := call(rctx, cl, api.PathCancel, api.CancelRequest{IDs: []api.JobID{job}, Signal: sig}, &resp); cerr != nil {
			fmt.Fprintf(e.Stderr, "grun: release job %d: %v\n", job, cerr)
		}
		cancel()
	}
	if err != nil {
		return err
	}
	if code != 0 {
		return &exitError{code}
	}
	return nil
}

// grunStep reads grun's options and command into the step it asks for
// (I/O address aside) and the job to run it in (0: allocate one).
func (e *Env) grunStep(c *ucli.Context) (api.StepSpec, api.JobID, error) {
	argv := c.Args().Slice()
	if len(argv) == 0 {
		return api.StepSpec{}, 0, usagef("no command given")
	}
	spec := api.StepSpec{Argv: argv, Env: e.Environ()}
	var err error
	for _, f := range []struct {
		name string
		dst  *int
	}{{"ntasks", &spec.NTasks}, {"ntasks-per-node", &spec.NTasksPerNode}} {
		if c.IsSet(f.name) {
			if *f.dst, err = positive("--"+f.name, c.String(f.name)); err != nil {
				return api.StepSpec{}, 0, &usageError{err}
			}
		}
	}
	switch c.String("kill-on-bad-exit") {
	case "", "1":
	case "0":
		spec.KeepOnBadExit = true
	default:
		return api.StepSpec{}, 0, usagef("invalid --kill-on-bad-exit %q: use 0 or 1", c.String("kill-on-bad-exit"))
	}
	cwd, err := e.Getwd()
	if err != nil {
		return api.StepSpec{}, 0, fmt.Errorf("current directory: %w", err)
	}
	spec.Cwd = cwd
	if d := c.String("chdir"); d != "" {
		spec.Cwd = d
		if !filepath.IsAbs(d) {
			spec.Cwd = filepath.Join(cwd, d)
		}
	}
	var job api.JobID
	if s := c.String("jobid"); s != "" {
		id, err := strconv.ParseUint(s, 10, 64)
		if err != nil || id == 0 {
			return api.StepSpec{}, 0, usagef("invalid --jobid %q", s)
		}
		job = api.JobID(id)
	} else if s := e.Getenv("GSCHED_JOB_ID"); s != "" {
		if id, err := strconv.ParseUint(s, 10, 64); err == nil && id > 0 {
			job = api.JobID(id)
		}
	}
	if err := grunPlacement(c, job, &spec); err != nil {
		return api.StepSpec{}, 0, err
	}
	spec.Overlap = c.Bool("overlap")
	if c.Bool("pty") {
		if spec.NTasks > 1 || spec.NTasksPerNode > 1 {
			return api.StepSpec{}, 0, usagef("--pty runs one task: drop --ntasks and --ntasks-per-node")
		}
		if c.Bool("label") {
			return api.StepSpec{}, 0, usagef("--pty and --label do not go together")
		}
		spec.Pty = true
	}
	// JSON would replace bytes that are not UTF-8: the tasks would run
	// another command.
	for _, list := range [][]string{spec.Argv, {spec.Cwd}, spec.Nodes} {
		for _, a := range list {
			if !utf8.ValidString(a) {
				return api.StepSpec{}, 0, usagef("%q is not valid UTF-8", a)
			}
		}
	}
	for _, kv := range spec.Env {
		if !utf8.ValidString(kv) {
			k, _, _ := strings.Cut(kv, "=")
			return api.StepSpec{}, 0, fmt.Errorf("environment variable %q is not valid UTF-8: unset it", k)
		}
	}
	return spec, job, nil
}

// grunPlacement reads the options that choose a step's nodes inside a
// job, and those srun accepts that change nothing here.
func grunPlacement(c *ucli.Context, job api.JobID, spec *api.StepSpec) error {
	for _, name := range []string{"cpu-bind", "mpi"} {
		if v := c.String(name); c.IsSet(name) && v != "none" {
			return usagef("--%s=%s is not supported: only none", name, v)
		}
	}
	if job == 0 {
		if c.IsSet("nodelist") {
			return usagef("--nodelist chooses nodes of a job: use it inside one, or with --jobid")
		}
		return nil
	}
	if c.IsSet("nodes") {
		n, err := positive("--nodes", c.String("nodes"))
		if err != nil {
			return &usageError{err}
		}
		spec.NNodes = n
	}
	if c.IsSet("nodelist") {
		names, err := hostlist.Expand(c.String("nodelist"))
		if err != nil {
			return usagef("--nodelist: %v", err)
		}
		if len(names) > api.MaxStepTasks {
			return usagef("--nodelist names %d nodes; a step has at most %d tasks", len(names), api.MaxStepTasks)
		}
		spec.Nodes = names
	}
	return nil
}

// allocate submits a job holding the allocation and waits until it runs.
func (e *Env) allocate(ctx context.Context, c *ucli.Context, cl Caller, argv []string) (api.JobID, error) {
	opts := MergeOptions(c)
	in := SubmitInput{Script: []byte(allocScript), Wrap: true, Environ: e.Environ()}
	var err error
	if in.Cwd, err = e.Getwd(); err != nil {
		return 0, fmt.Errorf("current directory: %w", err)
	}
	in.Hostname, _ = e.Hostname()
	if opts.JobName == "" {
		opts.JobName = argv[0]
	}
	opts.Output = "/dev/null"
	spec, err := BuildSpec(opts, in)
	if err != nil {
		return 0, &usageError{err}
	}
	var resp api.SubmitResponse
	if err := call(ctx, cl, api.PathSubmit, api.SubmitRequest{Spec: spec}, &resp); err != nil {
		return 0, fmt.Errorf("grun: allocate: %w", err)
	}
	fmt.Fprintf(e.Stderr, "grun: job %d queued and waiting for resources\n", resp.JobID)
	for {
		var list api.JobList
		if err := call(ctx, cl, api.PathListJobs, api.JobFilter{IDs: []api.JobID{resp.JobID}}, &list); err != nil {
			return resp.JobID, fmt.Errorf("grun: job %d: %w", resp.JobID, err)
		}
		if len(list.Jobs) == 1 {
			switch j := list.Jobs[0]; {
			case j.State == api.StateRunning:
				fmt.Fprintf(e.Stderr, "grun: job %d has been allocated resources\n", resp.JobID)
				return resp.JobID, nil
			case j.State != api.StatePending:
				return resp.JobID, fmt.Errorf("grun: job %d ended before it ran: %s %s", j.ID, j.State, j.Reason)
			}
		}
		select {
		case <-ctx.Done():
			var cr api.CancelResponse
			_ = call(context.Background(), cl, api.PathCancel, api.CancelRequest{IDs: []api.JobID{resp.JobID}}, &cr)
			return resp.JobID, fmt.Errorf("grun: interrupted; job %d cancelled", resp.JobID)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// runStep starts the step, waits until it is over and its output is in,
// and returns its status. An interrupt cancels the step.
func (e *Env) runStep(ctx context.Context, cl Caller, srv *stepio.Server, job api.JobID, spec api.StepSpec) (int, error) {
	var st api.Step
	if err := call(ctx, cl, api.PathStepStart, api.StepStartRequest{JobID: job, Spec: spec}, &st); err != nil {
		return 1, fmt.Errorf("start step in job %d: %w", job, err)
	}
	cancelled := false
	for !st.State.Final() {
		if ctx.Err() != nil && !cancelled {
			cancelled = true
			fmt.Fprintf(e.Stderr, "grun: cancelling step %s\n", st.Key())
			var out api.Step
			cctx, cancel := context.WithTimeout(context.Background(), callTimeout)
			_ = call(cctx, cl, api.PathStepCancel, api.StepRef{JobID: job, Step: st.ID}, &out)
			cancel()
		}
		wctx := context.Background()
		if !cancelled {
			wctx = ctx
		}
		pctx, cancel := context.WithTimeout(wctx, stepPoll+15*time.Second)
		var next api.Step
		err := cl.Call(pctx, api.PathStepWait, api.StepWaitRequest{JobID: job, Step: st.ID, TimeoutMs: stepPoll.Milliseconds()}, &next)
		cancel()
		switch {
		case err == nil:
			st = next
		case ctx.Err() != nil && !cancelled:
			continue // cancel on the next round
		case errors.Is(err, api.ErrUnavailable):
			e.Sleep(time.Second)
		default:
			return 1, fmt.Errorf("grun: wait for step %s: %w", st.Key(), err)
		}
	}
	ranks := make([]int, 0, len(st.Tasks))
	for _, tk := range st.Tasks {
		if !tk.Killed || tk.Error == "" {
			ranks = append(ranks, tk.Rank)
		}
	}
	srv.WaitRanks(ranks, outputWait)
	for _, tk := range st.Tasks {
		if tk.Error != "" && !tk.Killed {
			fmt.Fprintf(e.Stderr, "grun: task %d on %s: %s\n", tk.Rank, tk.Node, tk.Error)
		}
	}
	if st.State != api.StepCompleted && !spec.Pty { // a shell's status is its user's business
		for _, tk := range st.Tasks {
			if tk.ExitCode != 0 && !tk.Killed {
				fmt.Fprintf(e.Stderr, "grun: error: task %d on %s exited with status %d\n", tk.Rank, tk.Node, tk.ExitCode)
			}
		}
	}
	return st.ExitCode, nil
}
