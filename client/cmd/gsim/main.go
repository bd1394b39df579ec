// Command gsim is gsched's workload simulator: it replays a job trace on a
// simulated cluster through the real scheduler (pkg/sched) and compares
// policies. See man/man1/gsim.1 and docs/SCHEDULING.md.
//
//	gsim run --cluster C --trace T [--policy fifo,easy,conservative] [--fairshare none,fair_tree] ...
//	gsim gen [--seed N --jobs N --users N --rate R ...] [-o trace.csv]
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	ucli "github.com/urfave/cli/v2"

	"github.com/gsched/gsched/pkg/sched/fairshare"
	"github.com/gsched/gsched/pkg/sim"
	"github.com/gsched/gsched/pkg/units"
)

// Exit statuses.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

func main() { os.Exit(run(os.Args, os.Stdout, os.Stderr)) }

// usageError marks a mistake in how gsim was called (exit 2).
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

func usagef(format string, a ...any) error { return &usageError{fmt.Errorf(format, a...)} }

// run runs gsim with args and returns the exit status; errors are one line
// on stderr.
func run(args []string, stdout, stderr io.Writer) int {
	app := newApp(stdout, stderr)
	if len(args) == 0 {
		args = []string{"gsim"}
	}
	err := app.Run(args)
	if err == nil {
		return exitOK
	}
	msg := strings.ReplaceAll(err.Error(), "\n", "; ")
	fmt.Fprintf(stderr, "gsim: error: %s\n", msg)
	var ue *usageError
	if errors.As(err, &ue) {
		fmt.Fprintln(stderr, "gsim: try 'gsim --help' for more information")
		return exitUsage
	}
	return exitFailure
}

func newApp(stdout, stderr io.Writer) *ucli.App {
	onUsage := func(_ *ucli.Context, err error, _ bool) error { return &usageError{err} }
	return &ucli.App{
		Name:            "gsim",
		HelpName:        "gsim",
		Usage:           "replay a job trace through gsched's scheduler and compare policies",
		Writer:          stdout,
		ErrWriter:       stderr,
		HideVersion:     true,
		OnUsageError:    onUsage,
		ExitErrHandler:  func(*ucli.Context, error) {},
		CommandNotFound: func(_ *ucli.Context, name string) {},
		Action: func(c *ucli.Context) error {
			if c.Args().Present() {
				return usagef("unknown command %q (want run or gen)", c.Args().First())
			}
			return usagef("no command (want run or gen)")
		},
		Commands: []*ucli.Command{
			{
				Name:         "run",
				Usage:        "simulate a trace under each policy × fair-share setting and print a comparison",
				Flags:        runFlags(),
				OnUsageError: onUsage,
				Action:       func(c *ucli.Context) error { return runAction(c, stdout, stderr) },
			},
			{
				Name:         "gen",
				Usage:        "write a synthetic trace in gsim's CSV format",
				Flags:        genFlags(),
				OnUsageError: onUsage,
				Action:       func(c *ucli.Context) error { return genAction(c, stdout) },
			},
		},
	}
}

func runFlags() []ucli.Flag {
	d := sim.SchedConfig()
	return []ucli.Flag{
		&ucli.StringFlag{Name: "cluster", Aliases: []string{"c"}, Usage: "cluster file: TOML, or an Alibaba node list (*.csv: sn,cpu_milli,memory_mib,gpu,model)"},
		&ucli.StringFlag{Name: "trace", Aliases: []string{"t"}, Usage: "job trace (SWF or CSV)"},
		&ucli.StringFlag{Name: "format", Aliases: []string{"f"}, Usage: "trace format: swf or csv (default: swf for *.swf, else csv)"},
		&ucli.StringFlag{Name: "policy", Aliases: []string{"p"}, Value: strings.Join(sim.Policies, ","), Usage: "policies to compare: fifo, easy, conservative (comma list)"},
		&ucli.StringFlag{Name: "fairshare", Value: "none," + fairshare.FairTree, Usage: "fair-share settings to compare: none, fair_tree, classic (comma list)"},
		&ucli.StringFlag{Name: "jobs-out", Usage: "write per-job results as CSV to `FILE` (FILE-POLICY-FAIRSHARE.csv when comparing several)"},
		&ucli.StringFlag{Name: "svg", Usage: "plot queue length and GPU utilisation over time to `FILE`"},
		&ucli.DurationFlag{Name: "svg-until", Usage: "plot only the first DURATION of simulated time (0 = all)"},
		&ucli.StringFlag{Name: "title", Usage: "plot title (default: the trace's file name)"},
		&ucli.StringFlag{Name: "output", Aliases: []string{"o"}, Value: sim.TableText, Usage: "comparison table format: text, markdown or csv"},
		&ucli.BoolFlag{Name: "no-timing", Usage: "leave the scheduler wall-time columns out of the table (deterministic output)"},
		&ucli.IntFlag{Name: "every-kth-node", Usage: "scale the cluster down to every K-th node (keeps the mix of node types)"},
		&ucli.IntFlag{Name: "limit", Usage: "replay only the first N jobs (by submit time); 0 = all"},
		&ucli.DurationFlag{Name: "tick", Value: time.Minute, Usage: "periodic pass interval in simulated time; negative = none"},
		&ucli.BoolFlag{Name: "no-event-passes", Usage: "no pass on each arrival and end: periodic passes only (faster)"},
		&ucli.DurationFlag{Name: "half-life", Value: 7 * 24 * time.Hour, Usage: "fair-share usage decay half-life"},
		&ucli.Float64Flag{Name: "run-factor", Value: 2, Usage: "requested time of jobs without one: run time × this"},
		&ucli.DurationFlag{Name: "default-time", Usage: "requested time of jobs without one (instead of --run-factor)"},
		&ucli.Float64Flag{Name: "arrival-scale", Value: 1, Usage: "multiply submit times by this (0.1: arrivals 10× as fast, more load)"},
		&ucli.IntFlag{Name: "users", Value: 100, Usage: "jobs without a user get user<k>, k = job index mod this"},
		&ucli.DurationFlag{Name: "bf-window", Value: d.Backfill.Window, Usage: "backfill window (bf_window)"},
		&ucli.IntFlag{Name: "bf-max-job-test", Value: d.Backfill.MaxJobTest, Usage: "jobs tested for reservations per pass (0 = all)"},
		&ucli.DurationFlag{Name: "bf-resolution", Value: d.Backfill.Resolution, Usage: "backfill time resolution"},
		&ucli.Int64Flag{Name: "weight-age", Value: d.Priority.WeightAge, Usage: "PriorityWeightAge"},
		&ucli.Int64Flag{Name: "weight-fairshare", Value: d.Priority.WeightFairShare, Usage: "PriorityWeightFairshare (0 with --fairshare none)"},
		&ucli.Int64Flag{Name: "weight-job-size", Value: d.Priority.WeightJobSize, Usage: "PriorityWeightJobSize"},
		&ucli.DurationFlag{Name: "max-age", Value: d.Priority.MaxAge, Usage: "PriorityMaxAge"},
		&ucli.BoolFlag{Name: "favor-small", Usage: "PriorityFavorSmall"},
		&ucli.BoolFlag{Name: "check", Usage: "re-check every node's allocations after each pass (slow)"},
	}
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

func runAction(c *ucli.Context, stdout, stderr io.Writer) error {
	if c.Args().Present() {
		return usagef("unexpected argument %q", c.Args().First())
	}
	clusterPath, tracePath := c.String("cluster"), c.String("trace")
	if clusterPath == "" || tracePath == "" {
		return usagef("run needs --cluster and --trace")
	}
	format := strings.ToLower(c.String("format"))
	if format == "" {
		format = "csv"
		if strings.HasSuffix(strings.ToLower(tracePath), ".swf") {
			format = "swf"
		}
	}
	if format != "swf" && format != "csv" {
		return usagef("--format: %q is not swf or csv", format)
	}
	policies, shares := splitList(c.String("policy")), splitList(c.String("fairshare"))
	if len(policies) == 0 || len(shares) == 0 {
		return usagef("--policy and --fairshare need at least one value")
	}
	for _, p := range policies {
		if _, err := sim.BackfillMode(p); err != nil {
			return usagef("--policy: %v", err)
		}
	}
	for _, f := range shares {
		if err := sim.CheckFairShare(f); err != nil {
			return usagef("--fairshare: %v", err)
		}
	}
	out := c.String("output")
	if out != sim.TableText && out != sim.TableMarkdown && out != sim.TableCSV {
		return usagef("--output: %q is not text, markdown or csv", out)
	}
	if c.Int("limit") < 0 || c.Int("users") < 1 || !(c.Float64("run-factor") > 0) || !(c.Float64("arrival-scale") > 0) {
		return usagef("--limit must be ≥ 0, --users ≥ 1, --run-factor and --arrival-scale > 0")
	}
	if c.Bool("no-event-passes") && c.Duration("tick") <= 0 {
		return usagef("--no-event-passes needs a positive --tick")
	}

	cluster, err := sim.LoadCluster(clusterPath)
	if err != nil {
		return err
	}
	cluster = cluster.EveryKth(c.Int("every-kth-node"))
	tr, err := loadTrace(tracePath, format)
	if err != nil {
		return err
	}
	jobs := sim.Normalize(tr, sim.TraceOptions{RunFactor: c.Float64("run-factor"),
		DefaultTime: int64(c.Duration("default-time") / time.Second), Users: c.Int("users"), Limit: c.Int("limit"),
		ArrivalScale: c.Float64("arrival-scale")})
	reportSkips(stderr, "trace", tr.Skipped)

	cfg := sim.SchedConfig()
	cfg.Backfill.Window = c.Duration("bf-window")
	cfg.Backfill.MaxJobTest = c.Int("bf-max-job-test")
	cfg.Backfill.Resolution = c.Duration("bf-resolution")
	cfg.Priority.WeightAge = c.Int64("weight-age")
	cfg.Priority.WeightFairShare = c.Int64("weight-fairshare")
	cfg.Priority.WeightJobSize = c.Int64("weight-job-size")
	cfg.Priority.MaxAge = c.Duration("max-age")
	cfg.Priority.FavorSmall = c.Bool("favor-small")

	wantSeries := c.String("svg") != ""
	var results []*sim.Result
	for _, p := range policies {
		for _, f := range shares {
			s, err := sim.New(cluster, jobs, sim.Options{Policy: p, FairShare: f, Config: &cfg,
				Tick: c.Duration("tick"), NoEventPasses: c.Bool("no-event-passes"), HalfLife: c.Duration("half-life"),
				Series: wantSeries, Check: c.Bool("check")})
			if err != nil {
				return err
			}
			r, err := s.Run()
			if err != nil {
				return fmt.Errorf("%s/%s: %w", p, f, err)
			}
			if len(results) == 0 {
				reportSkips(stderr, "cluster", r.Skipped)
			}
			results = append(results, r)
			if path := c.String("jobs-out"); path != "" {
				if len(policies)*len(shares) > 1 {
					ext := filepath.Ext(path)
					path = strings.TrimSuffix(path, ext) + "-" + p + "-" + f + ext
				}
				if err := writeFile(path, func(w io.Writer) error { return sim.WriteJobsCSV(w, r.Jobs) }); err != nil {
					return err
				}
			}
		}
	}
	if path := c.String("svg"); path != "" {
		title := c.String("title")
		if title == "" {
			title = filepath.Base(tracePath)
		}
		if err := writeFile(path, func(w io.Writer) error { return sim.WriteSVG(w, title, results, c.Duration("svg-until")) }); err != nil {
			return err
		}
	}
	return sim.WriteTable(stdout, results, out, !c.Bool("no-timing"))
}

func loadTrace(path, format string) (*sim.Trace, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read trace: %w", err)
	}
	defer f.Close()
	var tr *sim.Trace
	if format == "swf" {
		tr, err = sim.ParseSWF(f)
	} else {
		tr, err = sim.ParseCSV(f)
	}
	if err != nil {
		return nil, fmt.Errorf("trace %s: %w", path, err)
	}
	return tr, nil
}

// reportSkips prints one line per reason: how many records were skipped
// and the first one's ID.
func reportSkips(w io.Writer, what string, skips []sim.Skip) {
	if len(skips) == 0 {
		return
	}
	type agg struct {
		n     int
		first string
	}
	by := map[string]*agg{}
	for _, s := range skips {
		a := by[s.Reason]
		if a == nil {
			a = &agg{first: s.ID}
			by[s.Reason] = a
		}
		a.n++
	}
	reasons := make([]string, 0, len(by))
	for r := range by {
		reasons = append(reasons, r)
	}
	sort.Strings(reasons)
	for _, r := range reasons {
		fmt.Fprintf(w, "gsim: %s: skipped %d job(s): %s (first: %s)\n", what, by[r].n, r, by[r].first)
	}
}

func writeFile(path string, write func(io.Writer) error) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	return f.Close()
}

func genFlags() []ucli.Flag {
	d := sim.DefaultGenConfig()
	return []ucli.Flag{
		&ucli.Uint64Flag{Name: "seed", Value: d.Seed, Usage: "random seed (same seed, same trace)"},
		&ucli.IntFlag{Name: "jobs", Aliases: []string{"n"}, Value: d.Jobs, Usage: "number of jobs"},
		&ucli.IntFlag{Name: "users", Value: d.Users, Usage: "number of users (user k submits with weight 1/(k+1))"},
		&ucli.Float64Flag{Name: "rate", Value: d.Rate, Usage: "mean arrivals per hour (Poisson)"},
		&ucli.DurationFlag{Name: "run-median", Value: d.RunMedian, Usage: "median run time (log-normal)"},
		&ucli.Float64Flag{Name: "run-sigma", Value: d.RunSigma, Usage: "σ of the log of the run time"},
		&ucli.DurationFlag{Name: "max-run", Value: d.MaxRun, Usage: "longest run time (0 = no cap)"},
		&ucli.StringFlag{Name: "gpus", Value: "1:50,2:20,4:15,8:15", Usage: "GPU counts and their weights, COUNT:WEIGHT,..."},
		&ucli.IntFlag{Name: "cpus-per-gpu", Value: d.CPUsPerGPU, Usage: "CPUs per GPU (a CPU-only job gets this many)"},
		&ucli.StringFlag{Name: "mem-per-gpu", Value: "64G", Usage: "memory per GPU (a CPU-only job gets this much)"},
		&ucli.Float64Flag{Name: "req-factor", Value: d.ReqFactorMax, Usage: "requested time = run × U(1, this)"},
		&ucli.StringFlag{Name: "out", Aliases: []string{"o"}, Usage: "write the trace to `FILE` (default: standard output)"},
	}
}

func genAction(c *ucli.Context, stdout io.Writer) error {
	if c.Args().Present() {
		return usagef("unexpected argument %q", c.Args().First())
	}
	g := sim.GenConfig{Seed: c.Uint64("seed"), Jobs: c.Int("jobs"), Users: c.Int("users"), Rate: c.Float64("rate"),
		RunMedian: c.Duration("run-median"), RunSigma: c.Float64("run-sigma"), MaxRun: c.Duration("max-run"),
		CPUsPerGPU: c.Int("cpus-per-gpu"), ReqFactorMax: c.Float64("req-factor")}
	var err error
	if g.GPUs, err = sim.ParseGPUWeights(c.String("gpus")); err != nil {
		return usagef("--gpus: %v", err)
	}
	if g.MemPerGPU, err = units.ParseMemory(c.String("mem-per-gpu")); err != nil {
		return usagef("--mem-per-gpu: %v", err)
	}
	jobs, err := sim.Generate(g)
	if err != nil {
		return &usageError{err}
	}
	if path := c.String("out"); path != "" {
		return writeFile(path, func(w io.Writer) error { return sim.WriteTraceCSV(w, jobs) })
	}
	return sim.WriteTraceCSV(stdout, jobs)
}
