// Package priority computes Slurm's multifactor job priority:
//
//	priority = site + W_age·age + W_fairshare·fs + W_jobsize·size
//	         + W_partition·part + W_qos·qos + Σ W_tres·tres − nice
//
// with every factor in [0,1] and an integer, non-negative result.
//   - age: time since submission over PriorityMaxAge, capped at 1;
//   - fs: the association's fair-share factor (pkg/sched/fairshare);
//   - size: the job's share of the cluster (the larger of its CPU and GPU
//     fractions), or one minus it with PriorityFavorSmall;
//   - part: the partition's PriorityJobFactor over the largest one;
//   - qos: the QOS priority over the largest QOS priority;
//   - tres: per resource, the job's request over the cluster total.
package priority

import (
	"math"
	"sort"
	"time"

	"github.com/gsched/gsched/pkg/api"
)

// Weights are the PriorityWeight* knobs.
type Weights struct {
	Age, FairShare, JobSize, Partition, QOS int64
	// TRES weights by resource: "cpu", "mem", "gpu".
	TRES       map[string]int64
	MaxAge     time.Duration
	FavorSmall bool
	Site       int64
}

// Context is what Compute needs besides the job; build it once per pass.
type Context struct {
	Now       time.Time
	Weights   Weights
	FairShare map[api.Assoc]float64
	Totals    api.TRES

	partFactor map[string]float64
	qosFactor  map[string]float64
}

// NewContext precomputes the partition and QOS normalisations.
func NewContext(now time.Time, w Weights, fs map[api.Assoc]float64, totals api.TRES, parts []api.Partition, qos []api.QOS) *Context {
	c := &Context{Now: now, Weights: w, FairShare: fs, Totals: totals,
		partFactor: map[string]float64{}, qosFactor: map[string]float64{}}
	maxPart := 0
	for _, p := range parts {
		maxPart = max(maxPart, p.PriorityJobFactor)
	}
	for _, p := range parts {
		if maxPart > 0 && p.PriorityJobFactor > 0 {
			c.partFactor[p.Name] = float64(p.PriorityJobFactor) / float64(maxPart)
		}
	}
	var maxQOS int64
	for _, q := range qos {
		maxQOS = max(maxQOS, q.Priority)
	}
	for _, q := range qos {
		if maxQOS > 0 && q.Priority > 0 {
			c.qosFactor[q.Name] = float64(q.Priority) / float64(maxQOS)
		}
	}
	return c
}

// Factors is a job's priority broken down (what gqueue --priority shows):
// each factor in [0,1] before weighting, and the weighted total.
type Factors struct {
	Age       float64            `json:"age"`
	FairShare float64            `json:"fairshare"`
	JobSize   float64            `json:"jobsize"`
	Partition float64            `json:"partition"`
	QOS       float64            `json:"qos"`
	TRES      map[string]float64 `json:"tres,omitempty"`
	Nice      int                `json:"nice"`
	Site      int64              `json:"site"`
	Priority  int64              `json:"priority"`
}

// Compute returns the job's factors and priority.
func (c *Context) Compute(j *api.Job) Factors {
	w := &c.Weights
	f := Factors{Nice: j.Spec.Nice, Site: w.Site}
	if w.MaxAge > 0 {
		f.Age = clamp(float64(c.Now.Sub(j.SubmitTime)) / float64(w.MaxAge))
	}
	f.FairShare = 1
	if v, ok := c.FairShare[api.Assoc{Account: j.Spec.Account, User: j.User}]; ok {
		f.FairShare = clamp(v)
	}
	cpus, gpus := j.Spec.CPUsOnNode()*nodes(j), j.Spec.GPUsOnNode()*nodes(j)
	size := 0.0
	if c.Totals.CPUs > 0 {
		size = max(size, float64(cpus)/float64(c.Totals.CPUs))
	}
	if c.Totals.GPUs > 0 {
		size = max(size, float64(gpus)/float64(c.Totals.GPUs))
	}
	f.JobSize = clamp(size)
	if w.FavorSmall {
		f.JobSize = 1 - f.JobSize
	}
	f.Partition = c.partFactor[j.Spec.Partition]
	f.QOS = c.qosFactor[j.Spec.QOS]
	total := float64(w.Site) + float64(w.Age)*f.Age + float64(w.FairShare)*f.FairShare +
		float64(w.JobSize)*f.JobSize + float64(w.Partition)*f.Partition + float64(w.QOS)*f.QOS
	if len(w.TRES) > 0 {
		f.TRES = map[string]float64{}
		req := map[string]float64{"cpu": float64(cpus), "mem": float64(j.Spec.MemBytes) * float64(nodes(j)), "gpu": float64(gpus)}
		tot := map[string]float64{"cpu": float64(c.Totals.CPUs), "mem": float64(c.Totals.MemBytes), "gpu": float64(c.Totals.GPUs)}
		keys := make([]string, 0, len(w.TRES))
		for k := range w.TRES {
			keys = append(keys, k)
		}
		sort.Strings(keys) // fixed summation order: deterministic totals
		for _, k := range keys {
			if tot[k] > 0 {
				f.TRES[k] = clamp(req[k] / tot[k])
				total += float64(w.TRES[k]) * f.TRES[k]
			}
		}
	}
	total -= float64(j.Spec.Nice)
	f.Priority = int64(math.Max(0, math.Round(total)))
	return f
}

func nodes(j *api.Job) int {
	if j.Spec.Nodes < 1 {
		return 1
	}
	return j.Spec.Nodes
}

func clamp(v float64) float64 {
	switch {
	case math.IsNaN(v) || v < 0:
		return 0
	case v > 1:
		return 1
	}
	return v
}
