package fairshare

import (
	"math"
	"testing"
	"time"

	"github.com/gsched/gsched/pkg/api"
)

func TestDecay(t *testing.T) {
	day := 24 * time.Hour
	tests := []struct {
		name              string
		usage             float64
		elapsed, halfLife time.Duration
		want              float64
	}{
		{"one half-life halves", 1000, 7 * day, 7 * day, 500},
		{"two half-lives quarter", 1000, 14 * day, 7 * day, 250},
		{"half a half-life: 1/sqrt2", 1000, 12 * time.Hour, day, 1000 / math.Sqrt2},
		{"no time passed", 1000, 0, day, 1000},
		{"negative elapsed does not grow", 1000, -day, day, 1000},
		{"zero half-life: no decay", 1000, 30 * day, 0, 1000},
		{"negative half-life: no decay", 1000, 30 * day, -day, 1000},
		{"zero usage", 0, day, day, 0},
		{"long past: ~0", 1000, 1000 * day, day, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Decay(tc.usage, tc.elapsed, tc.halfLife); math.Abs(got-tc.want) > 1e-9 {
				t.Errorf("Decay(%v, %v, %v) = %v, want %v", tc.usage, tc.elapsed, tc.halfLife, got, tc.want)
			}
		})
	}
}

func TestBilling(t *testing.T) {
	w := DefaultBillingWeights()
	hour := time.Hour.Seconds()
	tests := []struct {
		name string
		w    BillingWeights
		tres api.TRES
		want float64 // billing units per second
	}{
		{"one cpu", w, api.TRES{CPUs: 1}, 1},
		{"one gpu = 32 cpus", w, api.TRES{GPUs: 1}, 32},
		{"16 GiB = 1 cpu", w, api.TRES{MemBytes: 16 << 30}, 1},
		{"nodes are free", w, api.TRES{Nodes: 4}, 0},
		// 8 CPUs + 64 GiB/16 + 2 GPUs·32 = 8 + 4 + 64
		{"mixed", w, api.TRES{CPUs: 8, MemBytes: 64 << 30, GPUs: 2, Nodes: 1}, 76},
		{"custom weights", BillingWeights{CPU: 2, MemGB: 1, GPU: 10}, api.TRES{CPUs: 3, MemBytes: 1 << 29, GPUs: 1}, 6 + .5 + 10},
		{"zero weights", BillingWeights{}, api.TRES{CPUs: 3, GPUs: 1}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.w.Billing(tc.tres); math.Abs(got-tc.want) > 1e-12 {
				t.Errorf("Billing(%+v) = %v, want %v", tc.tres, got, tc.want)
			}
		})
	}
	// A GPU-hour bills as much as 32 CPU-hours.
	if g, c := w.Billing(api.TRES{GPUs: 1})*hour, w.Billing(api.TRES{CPUs: 32})*hour; g != c {
		t.Errorf("GPU-hour %v, 32 CPU-hours %v", g, c)
	}
}
