package agent_test

import (
	"context"
	"reflect"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gsched/gsched/noded/agent"
	"github.com/gsched/gsched/pkg/api"
	"github.com/gsched/gsched/pkg/runtime/fake"
)

// Each sync carries what Options.GPUUsage gives at the time, asked once
// per sync; without the option syncs carry none.
func TestAgentSendsGPUUsage(t *testing.T) {
	for _, withUsage := range []bool{true, false} {
		c := newController()
		var calls atomic.Int64
		opts := agent.Options{Node: testNode(), Controller: c, Runtime: fake.New(), Heartbeat: time.Hour}
		if withUsage {
			opts.GPUUsage = func() []api.GPUUsage {
				n := calls.Add(1)
				return []api.GPUUsage{{Index: 2, Utilization: float64(n) / 100, HasUtilization: true, MemUsed: n << 20, HasMemUsed: true}}
			}
		}
		a := agent.New(opts)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- a.Run(ctx) }()
		c.waitSyncs(t, 0, 3)
		cancel()
		if err := <-done; err != nil {
			t.Fatalf("Run = %v", err)
		}
		c.mu.Lock()
		syncs := c.syncs
		c.mu.Unlock()
		if !withUsage {
			for i, s := range syncs {
				if s.GPUUsage != nil {
					t.Errorf("sync %d without a usage function carries %+v", i, s.GPUUsage)
				}
			}
			continue
		}
		if int(calls.Load()) != len(syncs) {
			t.Errorf("usage asked %d times for %d syncs", calls.Load(), len(syncs))
		}
		for i, s := range syncs {
			n := int64(i + 1)
			want := []api.GPUUsage{{Index: 2, Utilization: float64(n) / 100, HasUtilization: true, MemUsed: n << 20, HasMemUsed: true}}
			if !reflect.DeepEqual(s.GPUUsage, want) {
				t.Errorf("sync %d carries %+v, want %+v", i, s.GPUUsage, want)
			}
		}
	}
}
