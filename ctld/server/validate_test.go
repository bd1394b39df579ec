package server

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gsched/gsched/pkg/api"
	"github.com/gsched/gsched/pkg/auth"
	"github.com/gsched/gsched/pkg/state"
)

func testServer(t testing.TB) *Server {
	t.Helper()
	store, err := state.New()
	if err != nil {
		t.Fatal(err)
	}
	parts := []api.Partition{
		{Name: "main", Default: true, State: "UP", DefaultTime: 3600, MaxTime: 86400},
		{Name: "long", State: "UP"},
		{Name: "drained", State: "DRAIN"},
		{Name: "off", State: "INACTIVE"},
		{Name: "down", State: "DOWN"},
	}
	return &Server{
		store: store, defMemPerCPU: 1 << 30, pol: &policy{parts: parts},
		reasons: map[api.JobID]string{}, lastSeen: map[string]time.Time{},
	}
}

func goodSpec() api.JobSpec {
	return api.JobSpec{Name: "x", WorkDir: "/home/alice", Script: "#!/bin/sh\ntrue\n"}
}

func TestNewJobDefaultsAndIdentity(t *testing.T) {
	s := testServer(t)
	in := goodSpec()
	in.CPUsPerTask = 2
	j, err := s.newJob(auth.Peer{UID: 1000, GID: 100, User: "alice"}, false, &in)
	if err != nil {
		t.Fatal(err)
	}
	want := api.JobSpec{Name: "x", Partition: "main", Nodes: 1, NTasks: 1, CPUsPerTask: 2, MemBytes: 2 << 30,
		TimeLimit: 3600, Output: "gsched-%j.out", OpenMode: api.OpenTruncate, WorkDir: "/home/alice", Script: in.Script}
	if j.UID != 1000 || j.GID != 100 || j.User != "alice" {
		t.Errorf("identity %d/%d/%s", j.UID, j.GID, j.User)
	}
	if got := j.Spec; got.Partition != want.Partition || got.Nodes != 1 || got.NTasks != 1 || got.MemBytes != want.MemBytes ||
		got.TimeLimit != want.TimeLimit || got.Output != want.Output || got.OpenMode != want.OpenMode {
		t.Errorf("spec %+v\nwant %+v", got, want)
	}
}

func TestNewJobTimeLimits(t *testing.T) {
	tests := []struct {
		name      string
		partition string
		limit     int64
		want      int64
		wantErr   string
	}{
		{"default of partition", "main", 0, 3600, ""},
		{"explicit", "main", 60, 60, ""},
		{"at the maximum", "main", 86400, 86400, ""},
		{"over the maximum", "main", 86401, 0, "exceeds"},
		{"unlimited refused where a maximum exists", "main", api.TimeUnlimited, 0, "unlimited"},
		{"unlimited allowed without maximum", "long", api.TimeUnlimited, 0, ""},
		{"nothing set without maximum is unlimited", "long", 0, 0, ""},
		{"below unlimited", "long", -2, 0, "negative"},
	}
	s := testServer(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := goodSpec()
			in.Partition, in.TimeLimit = tc.partition, tc.limit
			j, err := s.newJob(auth.Peer{UID: 1, User: "u"}, false, &in)
			if tc.wantErr != "" {
				if err == nil || !errors.Is(err, api.ErrInvalid) || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want invalid mentioning %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || j.Spec.TimeLimit != tc.want {
				t.Fatalf("limit %v err %v, want %d", j, err, tc.want)
			}
		})
	}
}

func TestNewJobRejectsImpossibleWhenNodesKnown(t *testing.T) {
	s := testServer(t)
	if err := s.store.Write(func(tx *state.Txn) error {
		return tx.PutNode(&api.Node{Name: "n1", CPUs: 4, MemBytes: 8 << 30, State: api.NodeUp, Features: []string{"ib"},
			GPUs: []api.GPU{{Index: 0, Model: "NVIDIA A10", MemBytes: 24 << 30}, {Index: 1, Model: "NVIDIA A10", MemBytes: 24 << 30}}})
	}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		mut  func(*api.JobSpec)
		ok   bool
	}{
		{"fits", func(s *api.JobSpec) { s.CPUsPerTask = 4; s.GPUs = 2 }, true},
		{"too many cpus", func(s *api.JobSpec) { s.CPUsPerTask = 5 }, false},
		{"too many gpus", func(s *api.JobSpec) { s.GPUs = 3 }, false},
		{"too much memory", func(s *api.JobSpec) { s.MemBytes = 9 << 30 }, false},
		{"matching gpu type", func(s *api.JobSpec) { s.GPUs, s.GPUType = 2, "a10" }, true},
		{"other gpu type", func(s *api.JobSpec) { s.GPUs, s.GPUType = 1, "h100" }, false},
		{"gpu memory too small", func(s *api.JobSpec) { s.GPUs, s.GPUMemMin = 1, 40<<30 }, false},
		{"feature present", func(s *api.JobSpec) { s.Constraint = "IB" }, true},
		{"feature missing", func(s *api.JobSpec) { s.Constraint = "ib&nvme" }, false},
		{"gpu type without gpus", func(s *api.JobSpec) { s.GPUType = "a10" }, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := goodSpec()
			tc.mut(&in)
			_, err := s.newJob(auth.Peer{UID: 1, User: "u"}, false, &in)
			if (err == nil) != tc.ok {
				t.Fatalf("err = %v, want ok=%v", err, tc.ok)
			}
		})
	}
}

func TestNeedsAction(t *testing.T) {
	running := func(id api.JobID, cancelled bool, seq uint64) *api.TaskReport {
		return &api.TaskReport{JobID: id, State: api.TaskRunning, Cancelled: cancelled, SignalSeq: seq}
	}
	job := func(id api.JobID, cancel bool, seqs ...uint64) *api.Job {
		j := &api.Job{ID: id, State: api.StateRunning, CancelRequested: cancel}
		for _, s := range seqs {
			j.Signals = append(j.Signals, api.SignalRequest{Seq: s, Signal: 10})
		}
		return j
	}
	tests := []struct {
		name    string
		jobs    []*api.Job
		reports []*api.TaskReport
		want    bool
	}{
		{"in sync", []*api.Job{job(1, false)}, []*api.TaskReport{running(1, false, 0)}, false},
		{"nothing anywhere", nil, nil, false},
		{"job to start", []*api.Job{job(1, false)}, nil, true},
		{"cancel not yet under way", []*api.Job{job(1, true)}, []*api.TaskReport{running(1, false, 0)}, true},
		{"cancel under way", []*api.Job{job(1, true)}, []*api.TaskReport{running(1, true, 0)}, false},
		{"signal not delivered", []*api.Job{job(1, false, 3)}, []*api.TaskReport{running(1, false, 2)}, true},
		{"signal delivered", []*api.Job{job(1, false, 3)}, []*api.TaskReport{running(1, false, 3)}, false},
		{"orphan running", nil, []*api.TaskReport{running(9, false, 0)}, true},
		{"orphan being killed", nil, []*api.TaskReport{running(9, true, 0)}, false},
		{"ended task not wanted", nil, []*api.TaskReport{{JobID: 9, State: api.TaskExited}}, false},
		{"requeue not yet under way", []*api.Job{{ID: 1, State: api.StateCompleting, Requeue: true}}, []*api.TaskReport{running(1, false, 0)}, true},
		{"new attempt to start", []*api.Job{{ID: 1, State: api.StateRunning, Restarts: 1}}, []*api.TaskReport{{JobID: 1, State: api.TaskExited}}, true},
		{"old attempt still running", []*api.Job{{ID: 1, State: api.StateRunning, Restarts: 1}},
			[]*api.TaskReport{{JobID: 1, Attempt: 1, State: api.TaskRunning}, {JobID: 1, Attempt: 0, State: api.TaskRunning}}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			reports := map[api.TaskRef]*api.TaskReport{}
			for _, r := range tc.reports {
				reports[api.TaskRef{JobID: r.JobID, Attempt: r.Attempt}] = r
			}
			if got := needsAction(tc.jobs, reports); got != tc.want {
				t.Fatalf("needsAction = %v, want %v", got, tc.want)
			}
		})
	}
}

// FuzzNewJob: no submission, however malformed, panics the validator, and
// an accepted one satisfies the invariants the scheduler relies on.
func FuzzNewJob(f *testing.F) {
	f.Add("x", "/w", "#!/bin/sh\n", "main", 1, 1, 1, int64(0), 0, int64(0), "A=b")
	f.Add("", "rel", "echo", "nope", -1, 0, 9, int64(-1), 2000, int64(-5), "nokv")
	f.Add("\x00", "/w", "#!\x00", "long", 1<<30, 1<<30, 0, int64(1<<62), 1024, int64(-1), "A=\xff")
	s := testServer(f)
	f.Fuzz(func(t *testing.T, name, dir, script, part string, nodes, ntasks, cpus int, mem int64, gpus int, limit int64, env string) {
		in := api.JobSpec{Name: name, WorkDir: dir, Script: script, Partition: part, Nodes: nodes, NTasks: ntasks,
			CPUsPerTask: cpus, MemBytes: mem, GPUs: gpus, TimeLimit: limit, Env: []string{env}}
		j, err := s.newJob(auth.Peer{UID: 5, GID: 5, User: "u"}, false, &in)
		if err != nil {
			if !errors.Is(err, api.ErrInvalid) && !errors.Is(err, api.ErrTooLarge) {
				t.Fatalf("error of unexpected kind: %v", err)
			}
			return
		}
		sp := j.Spec
		if sp.Nodes != 1 || sp.NTasks < 1 || sp.CPUsPerTask < 1 || sp.MemBytes <= 0 || sp.GPUs < 0 || sp.TimeLimit < 0 ||
			!strings.HasPrefix(sp.Script, "#!") || !strings.HasPrefix(sp.WorkDir, "/") || j.UID != 5 {
			t.Fatalf("accepted an invalid job: %+v", j)
		}
	})
}

func TestNewJobPartitionStates(t *testing.T) {
	s := testServer(t)
	tests := []struct{ part, wantErr string }{
		{"main", ""},
		{"down", ""}, // queued, not started (reason PartitionDown)
		{"drained", "accepts no new jobs"},
		{"off", "accepts no new jobs"},
		{"nope", "invalid partition"},
	}
	for _, tc := range tests {
		in := goodSpec()
		in.Partition = tc.part
		_, err := s.newJob(auth.Peer{UID: 1, User: "u"}, false, &in)
		if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
			t.Errorf("partition %s: err %v, want %q", tc.part, err, tc.wantErr)
		}
	}
}
