package sim

import (
	"bytes"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gsched/gsched/pkg/api"
	"github.com/gsched/gsched/pkg/sched/fairshare"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

// ---- builders ----

// smallCluster is 2 nodes × (8 CPUs, 64 GiB, 4 GPUs), partition main.
func smallCluster(t testing.TB) *Cluster {
	t.Helper()
	c, err := ParseCluster(strings.NewReader("[[node]]\nname = \"n\"\ncount = 2\ncpus = 8\nmem = \"64G\"\ngpus = 4\n"))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// tj is a trace job asking for as many CPUs as GPUs (at least 1) and 1 GiB.
func tj(id, user string, submit, run, req int64, gpus int) TraceJob {
	return TraceJob{ID: id, User: user, Submit: submit, Run: run, ReqTime: req, GPUs: gpus, CPUs: max(1, gpus), MemBytes: gib}
}

// smallTrace is the hand-computed example (see TestFIFOByHand).
func smallTrace() []TraceJob {
	return []TraceJob{
		tj("j1", "alice", 0, 100, 200, 4),
		tj("j2", "bob", 10, 50, 100, 2),
		tj("j3", "alice", 20, 300, 150, 4),
		tj("j4", "bob", 30, 30, 60, 1),
		tj("j5", "carol", 70, 40, 80, 8),
		tj("j6", "carol", 80, 20, 40, 2),
		tj("j7", "alice", 110, 10, 20, 4),
	}
}

func simulate(t testing.TB, c *Cluster, jobs []TraceJob, o Options) *Result {
	t.Helper()
	s, err := New(c, jobs, o)
	if err != nil {
		t.Fatal(err)
	}
	r, err := s.Run()
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestFIFOByHand replays smallTrace under FIFO (backfill none, priority by
// age only) on smallCluster. Worked out by hand (first fit by node name,
// a pass on every arrival and end):
//
//	t=0   j1 (4 GPUs) starts on n1 (GPUs 0-3); ends 100.
//	t=10  j2 (2) starts on n2 (0-1); ends 60.
//	t=20  j3 (4) cannot fit (n1 0 free, n2 2): waits, and blocks the queue.
//	t=30  j4 (1) would fit on n2 but waits behind j3 (FIFO, no backfill).
//	      j5 (8 GPUs) fits no node: skipped before the replay.
//	t=60  j2 ends; n2 has 4 free: j3 starts on n2. It would run 300 s but
//	      asked for 150: killed at 60+150 = 210 (TIMEOUT). j4 still waits
//	      (n1 full, n2 full).
//	t=80  j6 (2) arrives, waits behind j4.
//	t=100 j1 ends: j4 starts on n1 (GPU 0), ends 130; j6 on n1 (1-2),
//	      ends 120.
//	t=110 j7 (4) arrives: n1 has 1 free, n2 0: waits.
//	t=120 j6 ends (n1: 3 free); t=130 j4 ends (4 free): j7 starts on n1,
//	      ends 140. t=210 j3 ends.
//
// Passes: at 0, 10, 20, 30, 60, 80, 100, 110, 120, 130 (none at 140 and
// 210, when nothing waits): 10.
//
// Metrics: waits 0, 0, 40, 70, 20, 20: mean 25, median (20+20)/2 = 20,
// p95 (nearest rank: 6th of 6) 70. Bounded slowdowns (wait+run)/max(run,10):
// j1 1, j2 1, j3 190/150, j4 100/30, j6 40/20 = 2, j7 30/10 = 3; mean 11.6/6.
// GPU-seconds 400+100+600+30+40+40 = 1210 over 8 GPUs × makespan 210:
// 1210/1680; CPUs equal GPUs here, over 16 CPUs: 1210/3360.
// Per-user mean slowdowns: alice (1 + 19/15 + 3)/3 = 79/45, bob
// (1 + 10/3)/2 = 13/6, carol 2; Jain = (533/90)² / (3 · 95389/8100)
// = 284089/286167.
func TestFIFOByHand(t *testing.T) {
	r := simulate(t, smallCluster(t), smallTrace(), Options{Policy: PolicyFIFO, Check: true})
	type row struct {
		id                 string
		start, end         int64
		node               string
		timedOut           bool
		wantBSLD, wantWait float64
	}
	want := []row{
		{"j1", 0, 100, "n1", false, 1, 0},
		{"j2", 10, 60, "n2", false, 1, 0},
		{"j3", 60, 210, "n2", true, 190.0 / 150, 40},
		{"j4", 100, 130, "n1", false, 100.0 / 30, 70},
		{"j6", 100, 120, "n1", false, 2, 20},
		{"j7", 130, 140, "n1", false, 3, 20},
	}
	if len(r.Jobs) != len(want) {
		t.Fatalf("%d jobs, want %d: %+v", len(r.Jobs), len(want), r.Jobs)
	}
	for i, w := range want {
		j := r.Jobs[i]
		if j.ID != w.id || j.Start != w.start || j.End != w.end || j.Node != w.node || j.TimedOut != w.timedOut ||
			!near(j.BoundedSlowdown(), w.wantBSLD) || float64(j.Wait()) != w.wantWait {
			t.Errorf("job %d = %+v (bsld %v), want %+v", i, j, j.BoundedSlowdown(), w)
		}
	}
	if len(r.Skipped) != 1 || r.Skipped[0].ID != "j5" {
		t.Errorf("skipped %+v, want j5", r.Skipped)
	}
	s := r.Summary
	checks := []struct {
		name      string
		got, want float64
	}{
		{"jobs", float64(s.Jobs), 6},
		{"mean wait", s.MeanWait, 25},
		{"median wait", s.MedianWait, 20},
		{"p95 wait", s.P95Wait, 70},
		{"mean bsld", s.MeanBSLD, 11.6 / 6},
		{"gpu util", s.GPUUtil, 1210.0 / 1680},
		{"cpu util", s.CPUUtil, 1210.0 / 3360},
		{"makespan", float64(s.Makespan), 210},
		{"jain", s.Jain, 284089.0 / 286167},
		{"passes", float64(s.Passes), 10},
	}
	for _, c := range checks {
		if !near(c.got, c.want) {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
}

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b)) }

// TestGolden replays the small example and a small synthetic trace under
// every policy × fair-share setting and compares the per-job output and
// the summary with testdata/golden (go test -run TestGolden -update
// rewrites them, e.g. after a scheduler change).
func TestGolden(t *testing.T) {
	synth, err := Generate(GenConfig{Seed: 7, Jobs: 60, Users: 4, Rate: 120, RunMedian: 10 * time.Minute, RunSigma: 1,
		GPUs: []GPUWeight{{1, 4}, {2, 2}, {4, 1}}, CPUsPerGPU: 2, MemPerGPU: 8 * gib, ReqFactorMax: 3})
	if err != nil {
		t.Fatal(err)
	}
	traces := []struct {
		name string
		jobs []TraceJob
	}{{"small", smallTrace()}, {"synthetic", synth}}
	for _, tr := range traces {
		for _, pol := range Policies {
			for _, fs := range []string{FairShareNone, fairshare.FairTree} {
				name := fmt.Sprintf("%s-%s-%s", tr.name, pol, fs)
				t.Run(name, func(t *testing.T) {
					r := simulate(t, smallCluster(t), tr.jobs, Options{Policy: pol, FairShare: fs, Check: true})
					var b bytes.Buffer
					if err := WriteTable(&b, []*Result{r}, TableCSV, false); err != nil {
						t.Fatal(err)
					}
					b.WriteString("\n")
					if err := WriteJobsCSV(&b, r.Jobs); err != nil {
						t.Fatal(err)
					}
					golden(t, filepath.Join("testdata", "golden", name+".txt"), b.Bytes())
				})
			}
		}
	}
}

func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (run with -update if the change is intended):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

// randomCase is a small random cluster and trace.
func randomCase(seed uint64) (*Cluster, []TraceJob) {
	r := rand.New(rand.NewPCG(seed, 1))
	c := &Cluster{}
	for i := range 1 + r.IntN(3) {
		c.Nodes = append(c.Nodes, newNode(fmt.Sprintf("n%d", i), 1+r.IntN(8), int64(1+r.IntN(8))*gib, r.IntN(5), "", nil))
	}
	if r.IntN(2) == 0 {
		// Two partitions over overlapping nodes.
		c.Partitions = []api.Partition{{Name: "a", Default: true, State: "UP"}, {Name: "b", Nodes: []string{"n0"}, State: "UP"}}
	}
	if err := c.finish(); err != nil {
		panic(err)
	}
	var jobs []TraceJob
	t := int64(0)
	for i := range 1 + r.IntN(30) {
		t += int64(r.IntN(40))
		j := TraceJob{ID: fmt.Sprint(i), User: fmt.Sprintf("u%d", r.IntN(3)), Submit: t, Run: int64(r.IntN(200)),
			ReqTime: 1 + int64(r.IntN(250)), CPUs: 1 + r.IntN(4), MemBytes: int64(r.IntN(3)) * gib, GPUs: r.IntN(4)}
		if len(c.Partitions) == 2 && r.IntN(3) == 0 {
			j.Partition = "b"
		}
		jobs = append(jobs, j)
	}
	return c, jobs
}

// TestProperties checks invariants on random small traces under every
// policy and fair-share setting, with ticks and without event passes too.
func TestProperties(t *testing.T) {
	opts := []Options{
		{},
		{Tick: 7 * time.Second, NoEventPasses: true},
		{Tick: -1},
	}
	for seed := range uint64(150) {
		c, jobs := randomCase(seed)
		for _, pol := range Policies {
			for _, fs := range FairShares {
				for oi, base := range opts {
					o := base
					o.Policy, o.FairShare, o.Check = pol, fs, true
					name := fmt.Sprintf("seed%d/%s/%s/opts%d", seed, pol, fs, oi)
					r := simulate(t, c, jobs, o)
					checkResult(t, name, c, jobs, r)
					// Deterministic: a second run gives the same jobs.
					again := simulate(t, c, jobs, o)
					if !reflect.DeepEqual(r.Jobs, again.Jobs) {
						t.Fatalf("%s: two runs differ", name)
					}
					if pol == PolicyFIFO && fs == FairShareNone {
						checkFIFO(t, name, r)
					}
				}
			}
		}
	}
}

func checkResult(t *testing.T, name string, c *Cluster, jobs []TraceJob, r *Result) {
	t.Helper()
	if len(r.Jobs)+len(r.Skipped) != len(jobs) {
		t.Fatalf("%s: %d run + %d skipped != %d jobs", name, len(r.Jobs), len(r.Skipped), len(jobs))
	}
	byID := map[string]TraceJob{}
	for _, j := range jobs {
		byID[j.ID] = j
	}
	type use struct {
		cpus, gpus int
		mem        int64
	}
	// Sweep: at every start, the jobs overlapping it fit their node.
	for _, a := range r.Jobs {
		tr := byID[a.ID]
		if a.Start < a.Submit {
			t.Fatalf("%s: job %s starts at %d before its submission at %d", name, a.ID, a.Start, a.Submit)
		}
		if a.Run() != min(tr.Run, tr.ReqTime) || a.TimedOut != (tr.Run > tr.ReqTime) {
			t.Fatalf("%s: job %s ran %d s (timed out %v), want min(%d, %d)", name, a.ID, a.Run(), a.TimedOut, tr.Run, tr.ReqTime)
		}
		if a.GPUs != tr.GPUs || a.CPUs < tr.CPUs || a.MemBytes < tr.MemBytes {
			t.Fatalf("%s: job %s got %+v, asked %+v", name, a.ID, a, tr)
		}
		if a.Run() == 0 {
			continue // holds nothing over any interval (Check covered its pass)
		}
		var u use
		for _, b := range r.Jobs {
			if b.Node == a.Node && b.Start <= a.Start && a.Start < b.End {
				u.cpus += b.CPUs
				u.gpus += b.GPUs
				u.mem += b.MemBytes
			}
		}
		for _, n := range c.Nodes {
			if n.Name == a.Node && (u.cpus > n.CPUs || u.gpus > len(n.GPUs) || u.mem > n.MemBytes) {
				t.Fatalf("%s: node %s oversubscribed at %d: %+v", name, n.Name, a.Start, u)
			}
		}
	}
}

// checkFIFO: with no backfill and age-only priority, no job starts while
// an earlier job of its partition waits.
func checkFIFO(t *testing.T, name string, r *Result) {
	t.Helper()
	for i, a := range r.Jobs {
		for _, b := range r.Jobs[i+1:] {
			if b.Partition == a.Partition && a.Submit <= b.Start && b.Start < a.Start {
				t.Fatalf("%s: job %s started at %d while earlier job %s (submitted %d) waited until %d",
					name, b.ID, b.Start, a.ID, a.Submit, a.Start)
			}
		}
	}
}

func TestFairShareFavoursLightUsers(t *testing.T) {
	// One node with one GPU. heavy submits 10 jobs at t=0; light submits one
	// at t=1. Without fair-share light waits for all of heavy's jobs; with
	// it, light goes next.
	c, err := ParseCluster(strings.NewReader("[[node]]\nname = \"n\"\ncpus = 4\nmem = \"8G\"\ngpus = 1\n"))
	if err != nil {
		t.Fatal(err)
	}
	var jobs []TraceJob
	for i := range 10 {
		jobs = append(jobs, tj(fmt.Sprint("h", i), "heavy", 0, 100, 100, 1))
	}
	jobs = append(jobs, tj("l", "light", 1, 100, 100, 1))
	for _, tc := range []struct {
		fs        string
		wantStart int64
	}{{FairShareNone, 1000}, {fairshare.FairTree, 100}, {fairshare.Classic, 100}} {
		r := simulate(t, c, jobs, Options{FairShare: tc.fs, Check: true})
		if got := r.Jobs[10].Start; got != tc.wantStart {
			t.Errorf("%s: light starts at %d, want %d", tc.fs, got, tc.wantStart)
		}
	}
}

func TestAccountsFor(t *testing.T) {
	base := []api.Account{{Name: "phys", Users: []string{"alice"}}, {Name: "bob", Users: []string{"zed"}}}
	jobs := []TraceJob{{User: "alice"}, {User: "bob"}, {User: "carol", Account: "chem"}, {User: "alice", Account: "chem"}}
	accts, def := accountsFor(base, jobs)
	want := []api.Account{
		{Name: "phys", Users: []string{"alice"}},
		{Name: "bob", Users: []string{"zed"}},
		{Name: "bob_acct", Shares: 1, Users: []string{"bob"}},
		{Name: "chem", Shares: 1, Users: []string{"carol", "alice"}},
	}
	if !reflect.DeepEqual(accts, want) {
		t.Errorf("accounts %+v\nwant %+v", accts, want)
	}
	if def["alice"] != "phys" || def["bob"] != "bob_acct" || def["zed"] != "bob" {
		t.Errorf("defaults %v", def)
	}
	if base[0].Users[0] != "alice" || len(base[0].Users) != 1 {
		t.Error("accountsFor modified its input")
	}
	if _, err := fairshare.New(accts); err != nil {
		t.Errorf("fairshare.New: %v", err)
	}
}

func TestNewErrors(t *testing.T) {
	c := smallCluster(t)
	tests := []struct {
		name string
		o    Options
		err  string
	}{
		{"unknown policy", Options{Policy: "sjf"}, `unknown policy "sjf"`},
		{"unknown fair-share", Options{FairShare: "fair"}, `unknown fair-share setting "fair"`},
		{"no passes at all", Options{Tick: -1, NoEventPasses: true}, "no scheduling passes"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(c, nil, tc.o)
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("error %v, want %q", err, tc.err)
			}
		})
	}
}

func TestSkipsJobsThatCannotFit(t *testing.T) {
	c, err := LoadCluster("testdata/cluster.toml")
	if err != nil {
		t.Fatal(err)
	}
	jobs := []TraceJob{
		{ID: "ok", User: "alice", Run: 5, ReqTime: 10, CPUs: 8, GPUs: 4, MemBytes: gib},
		{ID: "big", User: "alice", Run: 5, ReqTime: 10, CPUs: 9, GPUs: 1},
		{ID: "cpu-ok", User: "carol", Partition: "cpu", Run: 5, ReqTime: 10, CPUs: 32},
		{ID: "cpu-gpu", User: "carol", Partition: "cpu", Run: 5, ReqTime: 10, CPUs: 1, GPUs: 1},
		{ID: "nopart", User: "carol", Partition: "x", Run: 5, ReqTime: 10, CPUs: 1},
		{ID: "long", User: "carol", Run: 5, ReqTime: 86401, CPUs: 1},
	}
	r := simulate(t, c, jobs, Options{FairShare: fairshare.FairTree, Check: true})
	var got []string
	for _, s := range r.Skipped {
		got = append(got, s.ID+": "+s.Reason)
	}
	want := []string{
		"big: no node of partition gpu has 9 CPUs, 0 MiB and 1 GPUs",
		"cpu-gpu: no node of partition cpu has 1 CPUs, 0 MiB and 1 GPUs",
		`nopart: unknown partition "x"`,
		"long: requested time 86401 s exceeds partition gpu's limit 86400 s",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("skipped\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if len(r.Jobs) != 2 || r.Jobs[0].Account != "physics" || r.Jobs[1].Node != "cpu1" {
		t.Errorf("jobs %+v", r.Jobs)
	}
}

func TestSummarizeEdgeCases(t *testing.T) {
	if s := Summarize(nil, api.TRES{GPUs: 4}); s != (Summary{}) {
		t.Errorf("empty: %+v", s)
	}
	// One zero-length job: bounded slowdown uses τ, makespan 0 gives 0 util.
	s := Summarize([]JobResult{{User: "u", Submit: 5, Start: 5, End: 5, GPUs: 1}}, api.TRES{GPUs: 4})
	if s.MeanBSLD != 1 || s.GPUUtil != 0 || s.Jain != 1 || s.P95Wait != 0 {
		t.Errorf("one job: %+v", s)
	}
	// τ: a 2 s job that waited 18 s has slowdown (18+2)/10 = 2.
	j := JobResult{Submit: 0, Start: 18, End: 20}
	if b := j.BoundedSlowdown(); b != 2 {
		t.Errorf("bsld %v, want 2", b)
	}
}

func TestSeriesAndSVG(t *testing.T) {
	c := smallCluster(t)
	var results []*Result
	for _, pol := range []string{PolicyFIFO, PolicyEASY} {
		results = append(results, simulate(t, c, smallTrace(), Options{Policy: pol, Series: true}))
	}
	s := results[0].Series
	if len(s) == 0 || s[0] != (Sample{T: 0, Pending: 0, GPUs: 4, CPUs: 4}) || s[len(s)-1].T != 210 || s[len(s)-1].GPUs != 0 {
		t.Errorf("series %+v", s)
	}
	var b bytes.Buffer
	if err := WriteSVG(&b, "small <test>", results, 0); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"<svg", "small &lt;test&gt;", "fifo / none", "easy / none", "pending jobs", "GPU utilisation", "</svg>"} {
		if !strings.Contains(out, want) {
			t.Errorf("SVG lacks %q", want)
		}
	}
	if n := strings.Count(out, "<polyline"); n != 4 {
		t.Errorf("%d polylines, want 4", n)
	}
	// Bucket averages: GPUs 4 of 8 on [0,10), 6 on [10,60): over two
	// buckets of 30 s the first averages (4·10 + 6·20)/30/8.
	_, util := buckets(s, 60, 2, 8)
	if !near(util[0], (4*10+6*20)/30.0/8) {
		t.Errorf("bucket 0 util %v", util[0])
	}
}
