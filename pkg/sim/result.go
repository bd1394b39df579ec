package sim

import (
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/gsched/gsched/pkg/api"
)

// Tau is the bounded-slowdown threshold: runs shorter than Tau count as
// Tau long, so that very short jobs do not dominate the mean.
const Tau = 10

// JobResult is one job's simulated life. Times are seconds from time zero.
type JobResult struct {
	ID        string
	User      string
	Account   string
	Partition string
	Submit    int64
	Start     int64
	End       int64
	CPUs      int
	MemBytes  int64
	GPUs      int
	Node      string
	// TimedOut is set when the job's run time exceeded its requested time
	// and it was killed at its limit.
	TimedOut bool
}

// Wait is the time from submission to start.
func (r *JobResult) Wait() int64 { return r.Start - r.Submit }

// Run is the time from start to end: min(trace run time, requested time).
func (r *JobResult) Run() int64 { return r.End - r.Start }

// BoundedSlowdown is max(1, (wait + run) / max(run, Tau)).
func (r *JobResult) BoundedSlowdown() float64 {
	return math.Max(1, float64(r.Wait()+r.Run())/float64(max(r.Run(), Tau)))
}

// Summary are the metrics of one simulation.
type Summary struct {
	Jobs int
	// Waits in seconds: mean, median (the mean of the two middle values
	// for an even count) and 95th percentile (nearest rank).
	MeanWait, MedianWait, P95Wait float64
	// MeanBSLD is the mean bounded slowdown.
	MeanBSLD float64
	// GPUUtil and CPUUtil are allocated GPU- (CPU-) seconds over total
	// GPUs (CPUs) × Makespan.
	GPUUtil, CPUUtil float64
	// Makespan is the last end minus the first submission, in seconds.
	Makespan int64
	// Jain is Jain's fairness index (Σx)²/(n·Σx²) of the users' mean
	// bounded slowdowns x: 1 when every user sees the same slowdown,
	// 1/n when one user takes all of it.
	Jain float64
	// Passes is the number of scheduling passes; SchedMean and SchedMax
	// the wall time of sched.Schedule per pass (the only figures that are
	// not deterministic).
	Passes    int
	SchedMean time.Duration
	SchedMax  time.Duration
}

// Result is the outcome of a simulation.
type Result struct {
	Policy    string
	FairShare string
	// Jobs in trace order (submit time).
	Jobs []JobResult
	// Skipped are the trace jobs that could never start on the cluster.
	Skipped []Skip
	Summary Summary
	// Series is the queue length and allocation over time (Options.Series).
	Series []Sample
	Totals api.TRES
}

func (s *Sim) result() *Result {
	r := &Result{Policy: s.opts.Policy, FairShare: s.opts.FairShare, Skipped: s.skipped, Series: s.series, Totals: s.totals}
	for _, sj := range s.jobs {
		j := &sj.job
		tres := j.AllocTotals()
		r.Jobs = append(r.Jobs, JobResult{
			ID: sj.trace.ID, User: j.User, Account: j.Spec.Account, Partition: j.Spec.Partition,
			Submit: sj.trace.Submit, Start: sj.start, End: sj.end,
			CPUs: tres.CPUs, MemBytes: tres.MemBytes, GPUs: tres.GPUs, Node: j.NodeList(),
			TimedOut: j.State == api.StateTimeout,
		})
	}
	r.Summary = Summarize(r.Jobs, s.totals)
	r.Summary.Passes = s.passes
	if s.passes > 0 {
		r.Summary.SchedMean = s.schedSum / time.Duration(s.passes)
	}
	r.Summary.SchedMax = s.schedMax
	return r
}

// Summarize computes the job metrics of a Summary (all but the pass
// figures) on a cluster of the given totals.
func Summarize(jobs []JobResult, totals api.TRES) Summary {
	sum := Summary{Jobs: len(jobs)}
	if len(jobs) == 0 {
		return sum
	}
	waits := make([]float64, len(jobs))
	first, last := jobs[0].Submit, jobs[0].End
	var gpuSec, cpuSec, bsld float64
	type acc struct {
		sum float64
		n   int
	}
	users := map[string]*acc{}
	for i := range jobs {
		j := &jobs[i]
		waits[i] = float64(j.Wait())
		first, last = min(first, j.Submit), max(last, j.End)
		gpuSec += float64(j.GPUs) * float64(j.Run())
		cpuSec += float64(j.CPUs) * float64(j.Run())
		b := j.BoundedSlowdown()
		bsld += b
		u := users[j.User]
		if u == nil {
			u = &acc{}
			users[j.User] = u
		}
		u.sum += b
		u.n++
	}
	n := float64(len(jobs))
	sum.MeanBSLD = bsld / n
	sort.Float64s(waits)
	var total float64
	for _, w := range waits {
		total += w
	}
	sum.MeanWait = total / n
	if len(waits)%2 == 1 {
		sum.MedianWait = waits[len(waits)/2]
	} else {
		sum.MedianWait = (waits[len(waits)/2-1] + waits[len(waits)/2]) / 2
	}
	sum.P95Wait = waits[max(0, int(math.Ceil(0.95*n))-1)]
	sum.Makespan = last - first
	if sum.Makespan > 0 {
		if totals.GPUs > 0 {
			sum.GPUUtil = gpuSec / (float64(totals.GPUs) * float64(sum.Makespan))
		}
		if totals.CPUs > 0 {
			sum.CPUUtil = cpuSec / (float64(totals.CPUs) * float64(sum.Makespan))
		}
	}
	names := make([]string, 0, len(users))
	for u := range users {
		names = append(names, u)
	}
	sort.Strings(names) // fixed summation order
	var sx, sxx float64
	for _, name := range names {
		x := users[name].sum / float64(users[name].n)
		sx += x
		sxx += x * x
	}
	sum.Jain = sx * sx / (float64(len(names)) * sxx)
	return sum
}

// jobColumns is the per-job CSV header.
var jobColumns = []string{"job_id", "user", "account", "submit", "start", "end", "wait", "run",
	"gpus", "cpus", "mem_mib", "node", "state", "bounded_slowdown"}

// WriteJobsCSV writes one line per job: times in seconds from time zero,
// state COMPLETED or TIMEOUT, bounded slowdown with 4 decimals.
func WriteJobsCSV(w io.Writer, jobs []JobResult) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(jobColumns); err != nil {
		return err
	}
	i64 := func(v int64) string { return strconv.FormatInt(v, 10) }
	for i := range jobs {
		j := &jobs[i]
		state := string(api.StateCompleted)
		if j.TimedOut {
			state = string(api.StateTimeout)
		}
		if err := cw.Write([]string{j.ID, j.User, j.Account, i64(j.Submit), i64(j.Start), i64(j.End),
			i64(j.Wait()), i64(j.Run()), strconv.Itoa(j.GPUs), strconv.Itoa(j.CPUs), i64(j.MemBytes >> 20),
			j.Node, state, strconv.FormatFloat(j.BoundedSlowdown(), 'f', 4, 64)}); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// Table formats (WriteTable).
const (
	TableText     = "text"
	TableMarkdown = "markdown"
	TableCSV      = "csv"
)

var tableHeader = []string{"policy", "fairshare", "jobs", "mean_wait", "median_wait", "p95_wait", "mean_bsld",
	"gpu_util", "cpu_util", "makespan", "jain", "passes", "sched_mean", "sched_max"}

// WriteTable writes one row per result: text (aligned columns, human
// units), markdown, or csv (seconds, fractions and milliseconds).
// timing=false leaves out the wall-clock columns (deterministic output).
func WriteTable(w io.Writer, results []*Result, format string, timing bool) error {
	head := tableHeader
	if !timing {
		head = head[:len(head)-2]
	}
	rows := [][]string{}
	for _, r := range results {
		s := &r.Summary
		var row []string
		if format == TableCSV {
			f := func(v float64) string { return strconv.FormatFloat(v, 'f', 4, 64) }
			row = []string{r.Policy, r.FairShare, strconv.Itoa(s.Jobs), f(s.MeanWait), f(s.MedianWait), f(s.P95Wait),
				f(s.MeanBSLD), f(s.GPUUtil), f(s.CPUUtil), strconv.FormatInt(s.Makespan, 10), f(s.Jain),
				strconv.Itoa(s.Passes), f(ms(s.SchedMean)), f(ms(s.SchedMax))}
		} else {
			row = []string{r.Policy, r.FairShare, strconv.Itoa(s.Jobs), Seconds(s.MeanWait), Seconds(s.MedianWait),
				Seconds(s.P95Wait), fmt.Sprintf("%.2f", s.MeanBSLD), pct(s.GPUUtil), pct(s.CPUUtil),
				Seconds(float64(s.Makespan)), fmt.Sprintf("%.3f", s.Jain), strconv.Itoa(s.Passes),
				fmt.Sprintf("%.2fms", ms(s.SchedMean)), fmt.Sprintf("%.2fms", ms(s.SchedMax))}
		}
		rows = append(rows, row[:len(head)])
	}
	switch format {
	case TableCSV:
		cw := csv.NewWriter(w)
		_ = cw.Write(head)
		_ = cw.WriteAll(rows)
		return cw.Error()
	case TableMarkdown:
		var b strings.Builder
		b.WriteString("| " + strings.Join(head, " | ") + " |\n|")
		for range head {
			b.WriteString(" --- |")
		}
		b.WriteString("\n")
		for _, row := range rows {
			b.WriteString("| " + strings.Join(row, " | ") + " |\n")
		}
		_, err := io.WriteString(w, b.String())
		return err
	case TableText, "":
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, strings.ToUpper(strings.Join(head, "\t")))
		for _, row := range rows {
			fmt.Fprintln(tw, strings.Join(row, "\t"))
		}
		return tw.Flush()
	}
	return fmt.Errorf("unknown table format %q (want text, markdown or csv)", format)
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func pct(f float64) string { return fmt.Sprintf("%.1f%%", 100*f) }

// Seconds renders a duration in seconds with a unit that keeps it short:
// 42s, 12.5m, 3.2h, 4.1d.
func Seconds(s float64) string {
	switch {
	case s < 120:
		return fmt.Sprintf("%.0fs", s)
	case s < 2*3600:
		return fmt.Sprintf("%.1fm", s/60)
	case s < 48*3600:
		return fmt.Sprintf("%.1fh", s/3600)
	}
	return fmt.Sprintf("%.1fd", s/86400)
}
