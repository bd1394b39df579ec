// Package gctune bounds the controller's garbage-collector headroom once
// its heap is large.
//
// Go's collector lets the heap grow by GOGC percent (100) of the live heap
// between cycles, so a controller holding a million pending jobs in 2 GiB
// of live heap would sit at over 4 GiB of RSS. gctld's heap is mostly the
// job table, which changes slowly once it is large; a smaller percentage
// there costs a little CPU during bulk submissions and saves gigabytes.
// Run keeps the headroom at max(Floor, 25 % of the live heap): GOGC 100
// while the live heap is under Floor, falling to 25 as it grows
// (docs/BENCHMARKS.md, controller memory). GOGC in the environment turns
// it off: the operator's setting wins.
package gctune

import (
	"context"
	"os"
	"runtime/debug"
	"runtime/metrics"
	"time"

	"go.uber.org/zap"
)

// Floor is the headroom below which the percentage stays at 100.
const Floor = 256 << 20

// Min and Max bound the percentage Percent chooses.
const (
	Min = 25
	Max = 100
)

// Percent is the GOGC percentage for a live heap of live bytes: the
// headroom is max(Floor, Min % of live), at most Max % of it.
func Percent(live uint64) int {
	if live == 0 {
		return Max
	}
	p := (uint64(Floor)*100 + live - 1) / live // headroom Floor, rounded up
	switch {
	case p >= Max:
		return Max
	case p <= Min:
		return Min
	}
	return int(p)
}

const liveMetric = "/gc/heap/live:bytes"

// Run sets the collector's percentage from the live heap every interval
// until ctx ends, then restores the percentage it found. It returns at
// once when GOGC is set in the environment.
func Run(ctx context.Context, log *zap.Logger, every time.Duration) {
	if os.Getenv("GOGC") != "" {
		log.Info("GOGC is set: the collector's percentage is left as it is")
		return
	}
	sample := []metrics.Sample{{Name: liveMetric}}
	found := debug.SetGCPercent(Max)
	defer debug.SetGCPercent(found)
	cur := Max
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		metrics.Read(sample)
		if sample[0].Value.Kind() == metrics.KindUint64 {
			live := sample[0].Value.Uint64()
			if p := Percent(live); p != cur {
				debug.SetGCPercent(p)
				log.Debug("collector percentage changed", zap.Int("gogc", p), zap.Int("from", cur), zap.Uint64("live_bytes", live))
				cur = p
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
