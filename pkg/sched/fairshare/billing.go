package fairshare

import (
	"math"
	"time"

	"github.com/gsched/gsched/pkg/api"
)

// Decay returns usage decayed over elapsed with the given half-life:
// usage·2^(−elapsed/halfLife). A half-life ≤ 0 means no decay, and so does
// an elapsed ≤ 0 (usage never grows).
func Decay(usage float64, elapsed, halfLife time.Duration) float64 {
	if halfLife <= 0 || elapsed <= 0 {
		return usage
	}
	return usage * math.Exp2(-float64(elapsed)/float64(halfLife))
}

// BillingWeights are Slurm's TRESBillingWeights: what one unit of each
// resource costs per second, in billing units.
type BillingWeights struct {
	CPU   float64 `json:"cpu"`
	MemGB float64 `json:"mem_gb"` // per GiB
	GPU   float64 `json:"gpu"`
}

// DefaultBillingWeights bills a CPU 1, a GiB of memory 1/16 (a GiB-hour is
// 1/16 of a CPU-hour) and a GPU 32 (a GPU-hour costs 32 CPU-hours).
func DefaultBillingWeights() BillingWeights {
	return BillingWeights{CPU: 1, MemGB: 0.0625, GPU: 32}
}

// Billing returns the billing rate per second of a job holding t:
// CPU·cpus + MemGB·GiB + GPU·gpus, summed over the vector as given (pass
// the job's totals, not per-node amounts). Nodes are not billed.
func (w BillingWeights) Billing(t api.TRES) float64 {
	return w.CPU*float64(t.CPUs) + w.MemGB*float64(t.MemBytes)/(1<<30) + w.GPU*float64(t.GPUs)
}
