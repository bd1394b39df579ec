package gctune

import (
	"context"
	"runtime/debug"
	"runtime/metrics"
	"testing"
	"time"

	"go.uber.org/zap"
)

func TestPercent(t *testing.T) {
	const mib = 1 << 20
	tests := []struct {
		live uint64
		want int
	}{
		{0, 100},
		{1 * mib, 100},
		{256 * mib, 100},
		{257 * mib, 100}, // 99.6 rounds up to 100
		{300 * mib, 86},  // 256/300 = 85.3 %, rounded up
		{512 * mib, 50},
		{1024 * mib, 25},
		{1025 * mib, 25},
		{8 << 30, 25},
	}
	for _, tt := range tests {
		if got := Percent(tt.live); got != tt.want {
			t.Errorf("Percent(%d MiB) = %d, want %d", tt.live/mib, got, tt.want)
		}
		// The headroom is never below the floor unless at Min.
		if p := Percent(tt.live); p > Min && tt.live*uint64(p)/100 < Floor && p != Max {
			t.Errorf("Percent(%d MiB) = %d: headroom below the floor", tt.live/mib, p)
		}
	}
}

// Run changes the process's percentage while it runs and puts back the
// one it found; with GOGC set it does nothing.
func TestRunRestores(t *testing.T) {
	t.Setenv("GOGC", "")
	prev := debug.SetGCPercent(77)
	defer debug.SetGCPercent(prev)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { Run(ctx, zap.NewNop(), time.Millisecond); close(done) }()
	deadline := time.Now().Add(5 * time.Second)
	for {
		// The test binary's live heap is far below Floor: 100.
		p := gogc(t)
		if p == Max {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("percentage %d after 5s, want %d", p, Max)
		}
		time.Sleep(time.Millisecond)
	}
	cancel()
	<-done
	if p := debug.SetGCPercent(prev); p != 77 {
		t.Errorf("after Run: percentage %d, want the 77 it found", p)
	}

	t.Setenv("GOGC", "60")
	debug.SetGCPercent(60)
	Run(context.Background(), zap.NewNop(), time.Millisecond) // returns at once
	if p := debug.SetGCPercent(prev); p != 60 {
		t.Errorf("with GOGC=60: percentage %d, want it untouched", p)
	}
}

// gogc reads the collector's percentage without setting it.
func gogc(t *testing.T) int {
	s := []metrics.Sample{{Name: "/gc/gogc:percent"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		t.Fatal("no /gc/gogc:percent metric")
	}
	return int(s[0].Value.Uint64())
}
