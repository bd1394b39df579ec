package server

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/gsched/gsched/pkg/api"
	"github.com/gsched/gsched/pkg/auth"
)

func TestCleanGPUUsage(t *testing.T) {
	n := &api.Node{Name: "n1", GPUs: []api.GPU{{Index: 0, MemBytes: 80 << 30}, {Index: 1}, {Index: 3, MemBytes: 40 << 30}}}
	tests := []struct {
		name string
		in   []api.GPUUsage
		want []api.GPUUsage
	}{
		{"none", nil, nil},
		{"kept as sent, in index order",
			[]api.GPUUsage{{Index: 3, Utilization: 0.5, HasUtilization: true}, {Index: 0, MemUsed: 1 << 30, HasMemUsed: true}},
			[]api.GPUUsage{{Index: 0, MemUsed: 1 << 30, HasMemUsed: true}, {Index: 3, Utilization: 0.5, HasUtilization: true}}},
		{"unknown and duplicate indices dropped",
			[]api.GPUUsage{{Index: 2, HasUtilization: true}, {Index: -1}, {Index: 1, Utilization: 0.25, HasUtilization: true}, {Index: 1, Utilization: 0.9, HasUtilization: true}},
			[]api.GPUUsage{{Index: 1, Utilization: 0.25, HasUtilization: true}}},
		{"figures clamped",
			[]api.GPUUsage{{Index: 0, Utilization: 7, HasUtilization: true, MemUsed: 1 << 40, HasMemUsed: true},
				{Index: 1, Utilization: -1, HasUtilization: true, MemUsed: -5, HasMemUsed: true},
				{Index: 3, MemUsed: 1 << 60, HasMemUsed: true}},
			[]api.GPUUsage{{Index: 0, Utilization: 1, HasUtilization: true, MemUsed: 80 << 30, HasMemUsed: true},
				{Index: 1, HasUtilization: true, HasMemUsed: true},
				{Index: 3, MemUsed: 40 << 30, HasMemUsed: true}}},
		{"figures without their flag zeroed",
			[]api.GPUUsage{{Index: 0, Utilization: 0.5, MemUsed: 7}},
			[]api.GPUUsage{{Index: 0}}},
		{"implausibly many entries dropped", make([]api.GPUUsage, maxGPUs+1), nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := cleanGPUUsage(n, tc.in); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestGPUUseText(t *testing.T) {
	tests := []struct {
		in   *api.GPUUsage
		want string
	}{
		{nil, "n/a"},
		{&api.GPUUsage{Index: 0}, "n/a"},
		{&api.GPUUsage{Utilization: 0.734, HasUtilization: true, MemUsed: 12 << 30, HasMemUsed: true}, "73% · 12G"},
		{&api.GPUUsage{Utilization: 0.005, HasUtilization: true}, "1%"},
		{&api.GPUUsage{MemUsed: 1536 << 20, HasMemUsed: true}, "n/a · 1.5G"},
		{&api.GPUUsage{HasUtilization: true, HasMemUsed: true}, "0% · 0"},
	}
	for _, tc := range tests {
		if got := gpuUseText(tc.in); got != tc.want {
			t.Errorf("gpuUseText(%+v) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// A node's GPU usage from its sync shows in the node listing with the
// time it came, and goes when it is older than three heartbeats, when the
// node sends none, and when the node is DOWN.
func TestGPUUsageInNodeList(t *testing.T) {
	c := startFuzzCtl(t)
	t.Cleanup(c.close)
	s := c.s
	hb := s.cfg.Controller.HeartbeatInterval.Duration
	clock := time.Now().Round(0)
	s.now = func() time.Time { return clock }
	alice := auth.WithPeer(context.Background(), fuzzUsers[0])
	root := auth.WithPeer(context.Background(), fuzzUsers[2])
	usage := []api.GPUUsage{
		{Index: 0, Utilization: 0.73, HasUtilization: true, MemUsed: 12 << 30, HasMemUsed: true},
		{Index: 1, MemUsed: 1 << 30, HasMemUsed: true},
		{Index: 9, Utilization: 0.5, HasUtilization: true}, // not a GPU of n1
	}
	var received time.Time // when the latest sync came
	sync := func(gpus []api.GPUUsage) {
		t.Helper()
		received = clock
		if _, err := s.syncNode(context.Background(), &api.SyncRequest{Node: "n1", GPUUsage: gpus}); err != nil {
			t.Fatal(err)
		}
	}
	list := func() (n1, n2 api.NodeInfo) {
		t.Helper()
		out, err := s.listNodes(alice, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range out.(*api.NodeList).Nodes {
			switch n.Name {
			case "n1":
				n1 = n
			case "n2":
				n2 = n
			}
		}
		return n1, n2
	}

	sync(usage)
	// wantUse nil: no usage and no time shown; else usage received at
	// the latest sync.
	steps := []struct {
		name    string
		act     func()
		wantUse []api.GPUUsage
	}{
		{"just received", func() {}, usage[:2]},
		{"three heartbeats later", func() { clock = clock.Add(gpuUsageHeartbeats * hb) }, usage[:2]},
		{"older than three heartbeats", func() { clock = clock.Add(time.Millisecond) }, nil},
		{"a new report", func() { clock = clock.Add(hb); sync(usage[:1]) }, usage[:1]},
		{"a sync without usage", func() { sync(nil) }, nil},
		{"reported again", func() { clock = clock.Add(hb); sync(usage) }, usage[:2]},
		{"node DOWN (its daemon still syncs)", func() {
			if _, err := s.updateNodes(root, &api.NodeUpdateRequest{Nodes: []string{"n1"}, State: "DOWN", Reason: "test"}); err != nil {
				t.Fatal(err)
			}
			sync(usage)
		}, nil},
		{"resumed and reporting", func() {
			if _, err := s.updateNodes(root, &api.NodeUpdateRequest{Nodes: []string{"n1"}, State: "RESUME"}); err != nil {
				t.Fatal(err)
			}
			sync(usage)
		}, usage[:2]},
	}
	for _, st := range steps {
		st.act()
		n1, n2 := list()
		wantAt := received
		if st.wantUse == nil {
			wantAt = time.Time{}
		}
		if !reflect.DeepEqual(n1.GPUUsage, st.wantUse) || !n1.GPUUsageTime.Equal(wantAt) {
			t.Errorf("%s: n1 usage %+v at %s, want %+v at %s", st.name, n1.GPUUsage, n1.GPUUsageTime, st.wantUse, wantAt)
		}
		if n2.GPUUsage != nil || !n2.GPUUsageTime.IsZero() {
			t.Errorf("%s: n2 (no report) shows usage %+v", st.name, n2.GPUUsage)
		}
	}
}

// checkGPUUsage checks the GPU usage the controller keeps (after any
// sync): only known nodes' registered GPUs, each once and in order, with
// figures in range.
func checkGPUUsage(t *testing.T, s *Server) {
	t.Helper()
	snap := s.Snapshot()
	s.gpuUse.mu.Lock()
	defer s.gpuUse.mu.Unlock()
	for name, u := range s.gpuUse.m {
		n := snap.Node(name)
		if n == nil || len(u.gpus) == 0 {
			t.Fatalf("usage kept for node %q (known: %v): %+v", name, n != nil, u.gpus)
		}
		prev := -1
		for _, g := range u.gpus {
			known := false
			for _, ng := range n.GPUs {
				known = known || ng.Index == g.Index
			}
			if !known || g.Index <= prev || g.Utilization < 0 || g.Utilization > 1 || g.MemUsed < 0 ||
				!g.HasUtilization && g.Utilization != 0 || !g.HasMemUsed && g.MemUsed != 0 {
				t.Fatalf("node %s: bad usage entry %+v in %+v", name, g, u.gpus)
			}
			prev = g.Index
		}
	}
}
