package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gsched/gsched/pkg/api"
	"github.com/gsched/gsched/pkg/config"
	"github.com/gsched/gsched/pkg/queuefmt"
	"github.com/gsched/gsched/pkg/rpc"
	"github.com/gsched/gsched/pkg/runtime/fake"
)

// TestQueueText: the controller lays out gqueue's listing exactly as
// gqueue lays out the job records it lists (pkg/queuefmt on both sides),
// for the default table and squeue formats, folded and not, sorted, with
// running, pending (held, dependent, throttled array tasks) and finished
// jobs; and refuses what only the client can print.
func TestQueueText(t *testing.T) {
	// The controller's clock stands still but for the test's steps (node
	// daemons time jobs out by their own clock, so it starts now).
	var clock atomic.Int64
	start := time.Now().UTC().Truncate(time.Second)
	clock.Store(start.UnixNano())
	now := func() time.Time { return time.Unix(0, clock.Load()).UTC() }
	srv, sock, key, _ := startControllerClock(t, func(c *config.Config) {
		c.Controller.HeartbeatInterval = config.Duration{Duration: time.Second}
		c.Controller.NodeTimeout = config.Duration{Duration: time.Hour}
	}, now)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer func() { cancel(); wg.Wait() }()
	for i, exit := range []time.Duration{0, 10 * time.Millisecond} {
		name := fmt.Sprintf("sim%d", i+1)
		rt := fake.New()
		if exit > 0 {
			rt.SetExitAfter(exit)
		}
		gpus := []api.GPU{{Index: 0, Model: "fake-h100", MemBytes: 80 << 30}, {Index: 1, Model: "fake-h100", MemBytes: 80 << 30}}
		runSimNode(ctx, &wg, srv.nodeL.Addr().String(), key, api.Node{Name: name, Addr: "127.0.0.1", CPUs: 4, MemBytes: 16 << 30, GPUs: gpus}, rt, time.Second)
	}
	cl := rpc.Dial(sock)
	defer cl.Close()
	waitFor(t, 30*time.Second, func() bool {
		var nl api.NodeList
		return cl.Call(ctx, api.PathListNodes, struct{}{}, &nl) == nil && len(nl.Nodes) == 2
	})
	base := api.JobSpec{Script: "#!/bin/sh\ntrue\n", WorkDir: "/tmp", CPUsPerTask: 1, MemBytes: 1 << 30, NodeList: "sim1"}
	submit := func(edit func(*api.JobSpec)) api.JobID {
		t.Helper()
		s := base
		edit(&s)
		var r api.SubmitResponse
		if err := cl.Call(ctx, api.PathSubmit, api.SubmitRequest{Spec: s}, &r); err != nil {
			t.Fatal(err)
		}
		return r.JobID
	}
	array := submit(func(s *api.JobSpec) { s.Name, s.Array = "sweep", "0-9%3" })
	submit(func(s *api.JobSpec) { s.Name, s.GPUs, s.TimeLimit, s.Account = "训练-a-long-name", 1, 3600, "vision" })
	held := submit(func(s *api.JobSpec) { s.Name, s.Hold = "held", true })
	submit(func(s *api.JobSpec) { s.Name, s.Dependency = "after-held", fmt.Sprintf("afterok:%d", held) })
	done := submit(func(s *api.JobSpec) { s.Name, s.NodeList = "quick", "sim2" })
	waitFor(t, 8*time.Second, func() bool {
		var jl api.JobList
		if cl.Call(ctx, api.PathListJobs, api.JobFilter{IncludeFinished: true}, &jl) != nil {
			return false
		}
		running, finished := 0, false
		for _, j := range jl.Jobs {
			running += b2i(j.State == api.StateRunning)
			finished = finished || j.ID == done && j.State == api.StateCompleted
		}
		return running == 4 && finished
	})
	clock.Add(int64(123 * time.Second)) // the running jobs have run 2:03

	tokyo, err := time.LoadLocation("Asia/Tokyo")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		req  api.QueueTextRequest
		want []string // in the text, so that an empty answer cannot pass
	}{
		{"default table", api.QueueTextRequest{BitstrLen: 64},
			[]string{"NODELIST(REASON)", fmt.Sprintf("%d_[3-9%%3]", array), "(JobArrayTaskLimit)", "训练-a-long-name", "2:03", "(Dependency)"}},
		{"one row per task, no header", api.QueueTextRequest{Array: true, NoHeader: true, BitstrLen: 64},
			[]string{fmt.Sprintf("%d_9", array)}},
		{"all jobs, sorted", api.QueueTextRequest{Filter: api.JobFilter{IncludeFinished: true}, Sort: "-t,j", BitstrLen: 64},
			[]string{"quick", "CD"}},
		{"squeue format, every letter without times or groups", api.QueueTextRequest{
			Format: "%a|%A|%b|%B|%c|%C|%D|%E|%f|%F|%G|%h|%i|%j|%K|%l|%L|%m|%M|%N|%p|%P|%q|%Q|%r|%R|%t|%T|%u|%U|%y|%Z|%.5i|%-30j|%3R",
			Sort:   "P,-Q", BitstrLen: 3}, []string{"gres/gpu:1", "vision", "|1_[3-|", "57:57", "|训练-a-long-name                |"}},
		{"long format with its date line", api.QueueTextRequest{Format: queuefmt.SqueueLongFormat, Date: true, TimeZone: "UTC", BitstrLen: 64},
			[]string{start.Add(123 * time.Second).Format(time.ANSIC), "TIME_LIMI "}},
		{"times in the client's zone", api.QueueTextRequest{Format: "%i %S %e %V", TimeZone: "Asia/Tokyo", BitstrLen: 64},
			[]string{start.In(tokyo).Format("2006-01-02T15:04:05")}},
		{"by user", api.QueueTextRequest{Filter: api.JobFilter{Users: []string{"root"}, States: []api.JobState{api.StatePending}}, BitstrLen: 64},
			[]string{"held"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var raw rpc.Raw
			if err := cl.Call(ctx, api.PathQueueText, tc.req, &raw); err != nil {
				t.Fatal(err)
			}
			got := string(raw)
			f := tc.req.Filter
			f.Brief = true
			var jl api.JobList
			if err := cl.Call(ctx, api.PathListJobs, f, &jl); err != nil {
				t.Fatal(err)
			}
			loc := time.UTC
			if tc.req.TimeZone != "" {
				var err error
				if loc, err = time.LoadLocation(tc.req.TimeZone); err != nil {
					t.Fatal(err)
				}
			}
			v := queuefmt.View{Fold: !tc.req.Array, Date: tc.req.Date, Ctx: queuefmt.Ctx{Now: jl.Now, Loc: loc, BitstrLen: tc.req.BitstrLen}}
			if tc.req.Format != "" {
				var err error
				if v.Format, err = queuefmt.ParseFormat(tc.req.Format); err != nil {
					t.Fatal(err)
				}
			}
			if tc.req.Sort != "" {
				var err error
				if v.Sort, err = queuefmt.ParseSort(tc.req.Sort); err != nil {
					t.Fatal(err)
				}
			}
			jobs := make([]*api.Job, len(jl.Jobs))
			for i := range jl.Jobs {
				jobs[i] = &jl.Jobs[i]
			}
			var want bytes.Buffer
			if err := v.Render(&want, jobs, !tc.req.NoHeader); err != nil {
				t.Fatal(err)
			}
			if got != want.String() {
				t.Fatalf("controller's text:\n%s\ngqueue's own layout of the listing:\n%s", got, want.String())
			}
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("%q missing from:\n%s", w, got)
				}
			}
		})
	}

	for _, tc := range []struct {
		name string
		req  api.QueueTextRequest
		msg  string
	}{
		{"group names", api.QueueTextRequest{Format: "%i %g"}, "group names"},
		{"group sort", api.QueueTextRequest{Sort: "g"}, "group names"},
		{"times without a zone", api.QueueTextRequest{Format: "%i %V"}, "time zone"},
		{"date line without a zone", api.QueueTextRequest{Date: true}, "time zone"},
		{"unknown zone", api.QueueTextRequest{Format: "%S", TimeZone: "Mars/Olympus_Mons"}, "Mars/Olympus_Mons"},
		{"bad format", api.QueueTextRequest{Format: "%.5"}, "invalid format"},
		{"bad sort", api.QueueTextRequest{Sort: "-"}, "invalid sort"},
	} {
		t.Run("refused: "+tc.name, func(t *testing.T) {
			var got rpc.Raw
			err := cl.Call(ctx, api.PathQueueText, tc.req, &got)
			var re *api.RemoteError
			if !errors.As(err, &re) || re.Code != api.CodeInvalid || !strings.Contains(re.Message, tc.msg) {
				t.Fatalf("got %v, want an invalid-request error about %q", err, tc.msg)
			}
		})
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
