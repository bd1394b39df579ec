package sim

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/gsched/gsched/pkg/api"
)

// TraceJob is one job of a workload trace, in the trace's own terms.
// Times are whole seconds from the trace's origin.
type TraceJob struct {
	// ID is the trace's job identifier (reported back in the per-job
	// output).
	ID string
	// User and Account may be empty: see TraceOptions.
	User    string
	Account string
	// Partition may be empty (the cluster's default partition).
	Partition string
	Submit    int64
	// Run is how long the job runs once started (its actual run time in
	// the original log).
	Run int64
	// ReqTime is the requested time (the time limit); 0 means unknown.
	ReqTime  int64
	CPUs     int
	MemBytes int64
	GPUs     int
}

// Skip is a trace record that was left out, and why.
type Skip struct {
	// Line is the 1-based line of the record in its file (0 when the job
	// was skipped later, e.g. because it cannot fit the cluster).
	Line   int
	ID     string
	Reason string
}

// Trace is a parsed workload: the jobs to replay and the records left out.
type Trace struct {
	Jobs    []TraceJob
	Skipped []Skip
}

// Bounds on values read from traces: larger ones are refused so that no
// time or size computation can overflow.
const (
	maxSeconds = 1e9     // ~31 years
	maxCount   = 1 << 20 // CPUs or GPUs of one job
	maxMemory  = 1 << 50 // bytes (1 PiB)
)

// ErrTrace is wrapped by every trace parsing error.
var ErrTrace = errors.New("bad trace")

func traceErr(line int, format string, a ...any) error {
	return fmt.Errorf("%w: line %d: %s", ErrTrace, line, fmt.Sprintf(format, a...))
}

// ParseSWF reads a trace in the Standard Workload Format (version 2.2 of
// the Parallel Workloads Archive): one job per line, 18 whitespace-separated
// numeric fields, -1 for "unknown", and header comments starting with ';'.
//
// Fields used: 1 job number, 2 submit time, 4 run time, 5 allocated
// processors (when 8 is unknown), 8 requested processors (→ CPUs), 9
// requested time, 10 requested memory (KB per processor), 11 status and 12
// user ID (→ user "u<ID>"; -1 leaves the user empty). Times may be
// fractional; they are rounded to whole seconds. SWF traces carry no GPUs.
//
// Records skipped (reported in Trace.Skipped): run time < 0 (unknown);
// status 5 (cancelled) with wait time < 0 or run time 0, i.e. cancelled
// before it started; status 2, 3 and 4, which are the partial-execution
// lines that follow a checkpointed job's summary line (replaying both would
// count the job twice); a negative submit time; no processor count.
// A line that is not 18 numbers is an error.
func ParseSWF(r io.Reader) (*Trace, error) {
	tr := &Trace{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, ";") {
			continue
		}
		fields := strings.Fields(text)
		if len(fields) != 18 {
			return nil, traceErr(line, "want 18 SWF fields, got %d", len(fields))
		}
		var v [18]float64
		for i, f := range fields {
			x, err := strconv.ParseFloat(f, 64)
			if err != nil || math.IsNaN(x) || math.IsInf(x, 0) {
				return nil, traceErr(line, "field %d: %q is not a number", i+1, short(f))
			}
			v[i] = x
		}
		id := fields[0]
		skip := func(reason string) { tr.Skipped = append(tr.Skipped, Skip{Line: line, ID: id, Reason: reason}) }
		submit, wait, run := v[1], v[2], v[3]
		status := v[10]
		switch {
		case run < 0:
			skip("run time unknown")
			continue
		case status == 5 && (wait < 0 || run == 0):
			skip("cancelled before it started")
			continue
		case status == 2 || status == 3 || status == 4:
			skip("partial execution line")
			continue
		case submit < 0:
			skip("negative submit time")
			continue
		case submit > maxSeconds || run > maxSeconds || v[8] > maxSeconds:
			skip("time too large")
			continue
		}
		procs := v[7]
		if procs <= 0 {
			procs = v[4]
		}
		if procs <= 0 {
			skip("no processor count")
			continue
		}
		if procs > maxCount {
			skip("too many processors")
			continue
		}
		j := TraceJob{
			ID:     id,
			Submit: int64(math.Round(submit)),
			Run:    int64(math.Round(run)),
			CPUs:   int(math.Ceil(procs)),
		}
		if v[8] > 0 {
			j.ReqTime = int64(math.Ceil(v[8]))
		}
		if v[9] > 0 {
			mem := v[9] * 1024 * float64(j.CPUs)
			if mem > maxMemory {
				skip("memory too large")
				continue
			}
			j.MemBytes = int64(mem)
		}
		if v[11] >= 0 {
			j.User = "u" + strconv.FormatInt(int64(v[11]), 10)
		}
		tr.Jobs = append(tr.Jobs, j)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%w: line %d: %w", ErrTrace, line+1, err)
	}
	return tr, nil
}

// CSV trace columns. The first eight are required; the others are used when
// present.
var (
	csvRequired = []string{"job_id", "user", "submit_s", "run_s", "requested_time_s", "gpus", "nodes", "cpus"}
	csvOptional = []string{"memory_mib", "gpu_milli", "account", "partition"}
)

// ParseCSV reads a trace in gsim's CSV format: a header line naming at
// least job_id, user, submit_s, run_s, requested_time_s, gpus, nodes and
// cpus (any order; other columns are ignored unless listed below), then one
// job per record. Numbers may be fractional.
//
//   - submit_s, run_s, requested_time_s: seconds; an empty run_s means the
//     job never ran (skipped); an empty or non-positive requested_time_s is
//     "unknown" (see TraceOptions).
//   - cpus: rounded up; 0 or empty means 1.
//   - gpus: whole GPUs. With a gpu_milli column, a job asking for a share of
//     one GPU (0 < gpu_milli < 1000, as in the Alibaba trace) gets one whole
//     GPU: the scheduler does not share GPUs.
//   - nodes: empty or 1; multi-node jobs are skipped (the scheduler places a
//     job on one node).
//   - memory_mib (optional): memory per job; account, partition (optional).
//
// Records with a missing or negative submit or run time are skipped and
// reported; a record that is not a number where one is needed is an error.
func ParseCSV(r io.Reader) (*Trace, error) {
	cr := csv.NewReader(r)
	cr.ReuseRecord = true
	head, err := cr.Read()
	if err == io.EOF {
		return nil, fmt.Errorf("%w: empty CSV (no header)", ErrTrace)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrTrace, err)
	}
	col := map[string]int{}
	for i, h := range head {
		h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		if _, dup := col[h]; dup {
			return nil, fmt.Errorf("%w: header: column %q twice", ErrTrace, short(h))
		}
		col[h] = i
	}
	var missing []string
	for _, c := range csvRequired {
		if _, ok := col[c]; !ok {
			missing = append(missing, c)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("%w: header lacks column(s) %s (need %s)", ErrTrace,
			strings.Join(missing, ", "), strings.Join(csvRequired, ","))
	}
	tr := &Trace{}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrTrace, err)
		}
		line, _ := cr.FieldPos(0)
		get := func(name string) string {
			i, ok := col[name]
			if !ok || i >= len(rec) {
				return ""
			}
			return strings.TrimSpace(rec[i])
		}
		j, reason, err := csvJob(get)
		if err != nil {
			return nil, traceErr(line, "%v", err)
		}
		if reason != "" {
			tr.Skipped = append(tr.Skipped, Skip{Line: line, ID: j.ID, Reason: reason})
			continue
		}
		tr.Jobs = append(tr.Jobs, j)
	}
	return tr, nil
}

// csvJob converts one record; a non-empty reason means "skip it".
func csvJob(get func(string) string) (j TraceJob, reason string, err error) {
	j = TraceJob{ID: get("job_id"), User: get("user"), Account: get("account"), Partition: get("partition")}
	num := func(name string) (float64, bool, error) {
		s := get(name)
		if s == "" {
			return 0, false, nil
		}
		x, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsNaN(x) || math.IsInf(x, 0) {
			return 0, false, fmt.Errorf("%s: %q is not a number", name, short(s))
		}
		return x, true, nil
	}
	submit, okSubmit, err := num("submit_s")
	if err != nil {
		return j, "", err
	}
	run, okRun, err := num("run_s")
	if err != nil {
		return j, "", err
	}
	req, _, err := num("requested_time_s")
	if err != nil {
		return j, "", err
	}
	gpus, _, err := num("gpus")
	if err != nil {
		return j, "", err
	}
	nodes, okNodes, err := num("nodes")
	if err != nil {
		return j, "", err
	}
	cpus, _, err := num("cpus")
	if err != nil {
		return j, "", err
	}
	mem, _, err := num("memory_mib")
	if err != nil {
		return j, "", err
	}
	milli, _, err := num("gpu_milli")
	if err != nil {
		return j, "", err
	}
	switch {
	case !okSubmit:
		return j, "no submit time", nil
	case submit < 0:
		return j, "negative submit time", nil
	case !okRun:
		return j, "no run time (never ran)", nil
	case run < 0:
		return j, "negative run time", nil
	case submit > maxSeconds || run > maxSeconds || req > maxSeconds:
		return j, "time too large", nil
	case okNodes && nodes > 1:
		return j, "multi-node job (the scheduler places a job on one node)", nil
	case cpus < 0 || gpus < 0 || mem < 0 || milli < 0:
		return j, "negative resource request", nil
	case cpus > maxCount || gpus > maxCount || mem*float64(1<<20) > maxMemory:
		return j, "resource request too large", nil
	}
	j.Submit = int64(math.Round(submit))
	j.Run = int64(math.Round(run))
	if req > 0 {
		j.ReqTime = int64(math.Ceil(req))
	}
	j.CPUs = max(1, int(math.Ceil(cpus)))
	j.GPUs = int(math.Ceil(gpus))
	if j.GPUs == 0 && milli > 0 {
		j.GPUs = 1
	}
	j.MemBytes = int64(mem * (1 << 20))
	return j, "", nil
}

func short(s string) string {
	if len(s) > 24 {
		return s[:24] + "..."
	}
	return s
}

// TraceOptions say how to fill in what a trace leaves out.
type TraceOptions struct {
	// RunFactor gives an unknown requested time as run time × RunFactor
	// (rounded up, at least 1 s, at most 10⁹ s). Default 2.
	RunFactor float64
	// DefaultTime, when positive, is the requested time of jobs without one
	// instead (seconds).
	DefaultTime int64
	// Users is N for synthetic users: a job without a user gets user
	// "user<k>" with k = its index in the trace (0-based, after sorting by
	// submit time) modulo N. Default 100.
	Users int
	// Limit keeps only the first Limit jobs (by submit time); 0 keeps all.
	Limit int
	// ArrivalScale multiplies every submit time (rounded to whole
	// seconds), leaving run times alone: 0.1 makes jobs arrive 10 times
	// as fast, raising the offered load (0 or 1: unchanged).
	ArrivalScale float64
}

func (o TraceOptions) withDefaults() TraceOptions {
	if o.RunFactor <= 0 {
		o.RunFactor = 2
	}
	if o.Users <= 0 {
		o.Users = 100
	}
	return o
}

// Normalize sorts the jobs by submit time (stable: ties keep trace order),
// applies Limit, and fills in unknown requested times and users. It does not
// modify tr.
func Normalize(tr *Trace, o TraceOptions) []TraceJob {
	o = o.withDefaults()
	jobs := append([]TraceJob(nil), tr.Jobs...)
	sort.SliceStable(jobs, func(a, b int) bool { return jobs[a].Submit < jobs[b].Submit })
	if o.Limit > 0 && len(jobs) > o.Limit {
		jobs = jobs[:o.Limit]
	}
	width := len(strconv.Itoa(o.Users - 1))
	for i := range jobs {
		j := &jobs[i]
		if o.ArrivalScale > 0 && o.ArrivalScale != 1 {
			j.Submit = int64(math.Min(maxSeconds, math.Round(float64(j.Submit)*o.ArrivalScale)))
		}
		if j.ReqTime <= 0 {
			if o.DefaultTime > 0 {
				j.ReqTime = min(o.DefaultTime, maxSeconds)
			} else {
				j.ReqTime = int64(math.Max(1, math.Min(maxSeconds, math.Ceil(float64(j.Run)*o.RunFactor))))
			}
		}
		if j.User == "" {
			j.User = fmt.Sprintf("user%0*d", width, i%o.Users)
		}
		if j.ID == "" {
			j.ID = strconv.Itoa(i + 1)
		}
	}
	return jobs
}

// jobSpec is the api view of a trace job's request.
func (j *TraceJob) tres() api.TRES {
	return api.TRES{CPUs: j.CPUs, MemBytes: j.MemBytes, GPUs: j.GPUs, Nodes: 1}
}
