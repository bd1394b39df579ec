package sim

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"
)

// GPUWeight is one choice of GPU count in a generated workload.
type GPUWeight struct {
	GPUs   int
	Weight float64
}

// GenConfig describes a synthetic workload.
type GenConfig struct {
	Seed uint64
	Jobs int
	// Users submit with Zipf-like skew: user k (0-based) with probability
	// proportional to 1/(k+1), so a few users submit most jobs.
	Users int
	// Rate is the mean arrival rate in jobs per hour (Poisson arrivals).
	Rate float64
	// Run times are log-normal with this median and σ (of the log), at
	// least 1 s and at most MaxRun (0 = no cap).
	RunMedian time.Duration
	RunSigma  float64
	MaxRun    time.Duration
	// GPUs per job, chosen with these weights.
	GPUs []GPUWeight
	// CPUs and memory per job scale with its GPUs (at least 1 CPU and
	// MemPerGPU for CPU-only jobs).
	CPUsPerGPU int
	MemPerGPU  int64
	// Requested time is run time × U(1, ReqFactorMax), rounded up.
	ReqFactorMax float64
}

// DefaultGenConfig is 1,000 jobs of 20 users arriving at 60 per hour, a
// median run of 1 h (σ 1.5, at most 7 days), GPUs 1/2/4/8 with weights
// 50/20/15/15, 8 CPUs and 64 GiB per GPU, requested time run × U(1,3).
func DefaultGenConfig() GenConfig {
	return GenConfig{
		Seed: 1, Jobs: 1000, Users: 20, Rate: 60,
		RunMedian: time.Hour, RunSigma: 1.5, MaxRun: 7 * 24 * time.Hour,
		GPUs:       []GPUWeight{{1, 50}, {2, 20}, {4, 15}, {8, 15}},
		CPUsPerGPU: 8, MemPerGPU: 64 << 30, ReqFactorMax: 3,
	}
}

// Generate makes a synthetic trace. The same configuration always gives
// the same jobs.
func Generate(c GenConfig) ([]TraceJob, error) {
	var errs []error
	if c.Jobs < 0 || c.Jobs > 100_000_000 {
		errs = append(errs, errors.New("jobs must be 0..100000000"))
	}
	if c.Users < 1 || c.Users > 1_000_000 {
		errs = append(errs, errors.New("users must be 1..1000000"))
	}
	if !(c.Rate > 0) || math.IsInf(c.Rate, 0) {
		errs = append(errs, errors.New("rate must be positive"))
	}
	if c.RunMedian < time.Second || !(c.RunSigma >= 0) || c.RunSigma > 10 || c.MaxRun < 0 {
		errs = append(errs, errors.New("run time: median at least 1s, sigma 0..10, max-run not negative"))
	}
	if !(c.ReqFactorMax >= 1) || c.ReqFactorMax > 1000 {
		errs = append(errs, errors.New("requested-time factor must be 1..1000"))
	}
	if c.CPUsPerGPU < 1 || c.MemPerGPU < 0 {
		errs = append(errs, errors.New("cpus per GPU must be at least 1, memory per GPU not negative"))
	}
	var wsum float64
	for _, w := range c.GPUs {
		if w.GPUs < 0 || !(w.Weight >= 0) || math.IsInf(w.Weight, 0) {
			errs = append(errs, fmt.Errorf("GPU weight %d:%v: need a count ≥ 0 and a weight ≥ 0", w.GPUs, w.Weight))
		}
		wsum += w.Weight
	}
	if !(wsum > 0) {
		errs = append(errs, errors.New("GPU weights must not all be 0"))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}

	r := rand.New(rand.NewPCG(c.Seed, c.Seed^0x9e3779b97f4a7c15))
	var zsum float64
	zipf := make([]float64, c.Users)
	for k := range zipf {
		zsum += 1 / float64(k+1)
		zipf[k] = zsum
	}
	width := len(strconv.Itoa(c.Users - 1))
	mu := math.Log(c.RunMedian.Seconds())
	jobs := make([]TraceJob, 0, c.Jobs)
	t := 0.0
	for i := 0; i < c.Jobs; i++ {
		t += r.ExpFloat64() * 3600 / c.Rate
		run := math.Exp(mu + c.RunSigma*r.NormFloat64())
		if c.MaxRun > 0 {
			run = math.Min(run, c.MaxRun.Seconds())
		}
		run = math.Max(1, math.Round(run))
		x := r.Float64() * wsum
		gpus := c.GPUs[len(c.GPUs)-1].GPUs
		for _, w := range c.GPUs {
			if x < w.Weight {
				gpus = w.GPUs
				break
			}
			x -= w.Weight
		}
		u := r.Float64() * zsum
		user := 0
		for user < c.Users-1 && zipf[user] <= u {
			user++
		}
		req := math.Ceil(run * (1 + (c.ReqFactorMax-1)*r.Float64()))
		jobs = append(jobs, TraceJob{
			ID:       strconv.Itoa(i + 1),
			User:     fmt.Sprintf("user%0*d", width, user),
			Submit:   int64(math.Round(t)),
			Run:      int64(run),
			ReqTime:  int64(req),
			GPUs:     gpus,
			CPUs:     max(1, gpus*c.CPUsPerGPU),
			MemBytes: int64(max(1, gpus)) * c.MemPerGPU,
		})
	}
	return jobs, nil
}

// WriteTraceCSV writes jobs in gsim's CSV trace format (ParseCSV reads it
// back): job_id, user, submit_s, run_s, requested_time_s, gpus, nodes,
// cpus, memory_mib, plus account and partition when any job has one.
func WriteTraceCSV(w io.Writer, jobs []TraceJob) error {
	extra := false
	for i := range jobs {
		if jobs[i].Account != "" || jobs[i].Partition != "" {
			extra = true
			break
		}
	}
	head := append(append([]string(nil), csvRequired...), "memory_mib")
	if extra {
		head = append(head, "account", "partition")
	}
	cw := csv.NewWriter(w)
	if err := cw.Write(head); err != nil {
		return err
	}
	i64 := func(v int64) string { return strconv.FormatInt(v, 10) }
	for i := range jobs {
		j := &jobs[i]
		rec := []string{j.ID, j.User, i64(j.Submit), i64(j.Run), i64(j.ReqTime), strconv.Itoa(j.GPUs), "1",
			strconv.Itoa(j.CPUs), i64(j.MemBytes >> 20)}
		if extra {
			rec = append(rec, j.Account, j.Partition)
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// ParseGPUWeights reads "1:50,2:20,4:15,8:15": GPU counts with their
// weights (any positive numbers; they need not sum to 100).
func ParseGPUWeights(s string) ([]GPUWeight, error) {
	var out []GPUWeight
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		n, w, ok := strings.Cut(part, ":")
		if !ok {
			return nil, fmt.Errorf("GPU weights: %q is not COUNT:WEIGHT", short(part))
		}
		g, err := strconv.Atoi(strings.TrimSpace(n))
		if err != nil || g < 0 || g > 1024 {
			return nil, fmt.Errorf("GPU weights: %q: the count must be 0..1024", short(part))
		}
		x, err := strconv.ParseFloat(strings.TrimSpace(w), 64)
		if err != nil || !(x >= 0) || math.IsInf(x, 0) {
			return nil, fmt.Errorf("GPU weights: %q: the weight must be a number ≥ 0", short(part))
		}
		out = append(out, GPUWeight{GPUs: g, Weight: x})
	}
	if len(out) == 0 {
		return nil, errors.New("GPU weights: empty (want e.g. 1:50,2:20,4:15,8:15)")
	}
	return out, nil
}
