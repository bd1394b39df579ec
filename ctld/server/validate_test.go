package server

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

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
			if msg := err.Error(); strings.ContainsAny(msg, "\n\r") || len(msg) > maxErrorLen {
				t.Fatalf("error is not one short line: %q", msg)
			}
			return
		}
		for _, s := range []string{name, dir, part} {
			if strings.ContainsFunc(s, unicode.IsControl) || !utf8.ValidString(s) {
				t.Fatalf("accepted a name or path with control characters or invalid UTF-8: %q", s)
			}
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

// Absurd submissions get a one-line 4xx and change nothing: no raft entry,
// no job. They go through the real handler of an in-process controller
// (partition main: at most 1 day; ml: accounts ml only, QOS small with a
// 2-hour MaxWall; alice is in ml and phys, mallory in no account).
func TestAbsurdSubmissionsAreRefused(t *testing.T) {
	c := startFuzzCtl(t)
	defer c.close()
	const year = 365 * 86400
	ok := `"script":"#!/bin/sh\ntrue\n","work_dir":"/home/alice"`
	spec := func(extra string) string { return `{"spec":{` + ok + extra + `}}` }
	tests := []struct {
		name   string
		who    int
		body   string
		status int
		want   string
	}{
		{"10^9 GPUs", 0, spec(`,"gpus":1000000000`), 400, "too many GPUs"},
		{"10^9 GPUs per node", 0, spec(`,"gpus_per_node":1000000000`), 400, "too many GPUs"},
		{"10^9 GPUs per task", 0, spec(`,"gpus_per_task":1000000000`), 400, "too many GPUs"},
		{"10^9 nodes", 0, spec(`,"nodes":1000000000`), 400, "too many nodes"},
		{"10^9 tasks", 0, spec(`,"ntasks":1000000000`), 400, "too many CPUs"},
		{"10^9 CPUs per task", 0, spec(`,"cpus_per_task":1000000000`), 400, "too many CPUs"},
		{"GPUs beyond int64", 0, spec(`,"gpus":9223372036854775808`), 400, "malformed"},
		{"nodes 1e400", 0, spec(`,"nodes":1e400`), 400, "malformed"},
		{"negative memory", 0, spec(`,"mem_bytes":-1`), 400, "must not be negative"},
		{"negative GPU memory", 0, spec(`,"gpus":1,"gpu_mem_min":-1`), 400, "GPU memory minimum"},
		{"2^62 bytes of memory", 0, spec(`,"mem_bytes":4611686018427387904`), 400, "too much memory"},
		{"negative time", 0, spec(`,"time_limit_s":-5`), 400, "must not be negative"},
		{"10 years beyond the partition maximum", 0, spec(fmt.Sprintf(`,"time_limit_s":%d`, 10*year)), 400, "exceeds partition main's maximum of 1-00:00:00"},
		{"unlimited where a maximum exists", 0, spec(`,"time_limit_s":-1`), 400, "unlimited time limit exceeds"},
		{"10 years beyond the QOS MaxWall", 0, spec(fmt.Sprintf(`,"partition":"ml","account":"ml","time_limit_s":%d`, 10*year)), 400, "MaxWall"},
		{"unknown partition", 0, spec(`,"partition":"nope"`), 400, "invalid partition specified: nope"},
		{"unknown account", 0, spec(`,"account":"nope"`), 400, "invalid account"},
		{"account of others", 1, spec(`,"account":"ml"`), 400, "invalid account"},
		{"account barred from the partition", 0, spec(`,"partition":"ml","account":"phys","time_limit_s":60`), 400, "may not use partition ml"},
		{"user without an account", 3, spec(``), 400, "has no account"},
		{"unknown QOS", 0, spec(`,"qos":"gold"`), 400, "invalid qos specified: gold"},
		{"drained partition", 0, spec(`,"partition":"drained"`), 400, "accepts no new jobs"},
		{"negative nice by a user", 0, spec(`,"nice":-1`), 403, "only operators"},
		{"nice out of range", 2, spec(`,"nice":-20000000`), 400, "out of range"},
		{"NUL in the name", 0, spec(`,"name":"a\u0000b"`), 400, "job name contains a NUL byte"},
		{"NUL in the script", 0, `{"spec":{"script":"#!/bin/sh\n\u0000","work_dir":"/w"}}`, 400, "script contains a NUL byte"},
		{"NUL in the environment", 0, spec(`,"env":["A=\u0000"]`), 400, "environment entry contains a NUL byte"},
		{"NUL in an argument", 0, spec(`,"args":["\u0000"]`), 400, "argument contains a NUL byte"},
		{"NUL in the work dir", 0, `{"spec":{"script":"#!/bin/sh\n","work_dir":"/w\u0000"}}`, 400, "work dir contains a NUL byte"},
		{"line break in the name", 0, spec(`,"name":"a\nb"`), 400, "job name contains a control character"},
		{"terminal escape in the output path", 0, spec(`,"output":"\u001b[2J"`), 400, "output contains a control character"},
		{"environment entry without =", 0, spec(`,"env":["A"]`), 400, "not KEY=VALUE"},
		{"5000 environment entries", 0, spec(`,"env":[` + strings.Repeat(`"A=1",`, 4999) + `"A=1"]`), 400, "too many environment entries"},
		{"name over 256 bytes", 0, spec(`,"name":"` + strings.Repeat("n", 257) + `"`), 400, "job name is longer than 256 bytes"},
		{"relative work dir", 0, `{"spec":{"script":"#!/bin/sh\n","work_dir":"rel"}}`, 400, "absolute"},
		{"no shebang", 0, `{"spec":{"script":"echo hi","work_dir":"/w"}}`, 400, "#!"},
		{"script over the limit", 0, `{"spec":{"work_dir":"/w","script":"#!/bin/sh\n` + strings.Repeat("#", api.MaxScriptBytes) + `"}}`, 413, "script is"},
		{"body over the limit", 0, `{"spec":{"work_dir":"/w","script":"#!/bin/sh\n` + strings.Repeat("#", api.MaxRequestBytes) + `"}}`, 413, "request body over"},
		{"deeply nested JSON", 0, `{"spec":{"args":` + strings.Repeat("[", 20000) + strings.Repeat("]", 20000) + `}}`, 400, "malformed"},
		{"unknown field", 0, spec(`,"gpus_total":1`), 400, "unknown field"},
		{"trailing data", 0, spec(``) + `{}`, 400, "trailing data"},
		{"switches without a network", 0, spec(`,"switches":1`), 400, "needs a network topology"},
	}
	jobs := len(c.s.Snapshot().Jobs())
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := c.userCall(api.PathSubmit, fuzzUsers[tc.who], []byte(tc.body))
			if a.status != tc.status {
				t.Fatalf("HTTP %d, want %d: %.200s", a.status, tc.status, a.body)
			}
			if msg := checkRefusal(t, api.PathSubmit, a); !strings.Contains(msg, tc.want) {
				t.Fatalf("message %q does not mention %q", msg, tc.want)
			}
			if n := len(c.s.Snapshot().Jobs()); n != jobs {
				t.Fatalf("%d jobs after the refusal, want %d", n, jobs)
			}
		})
	}
}

// Text that is not UTF-8 cannot come through JSON (the decoder replaces
// it), but the validator refuses it all the same, in every field.
func TestNewJobRefusesInvalidUTF8(t *testing.T) {
	s := testServer(t)
	for _, tc := range []struct {
		name string
		mut  func(*api.JobSpec)
		want string
	}{
		{"name", func(sp *api.JobSpec) { sp.Name = "caf\xe9" }, "job name is not valid UTF-8"},
		{"script", func(sp *api.JobSpec) { sp.Script = "#!/bin/sh\necho caf\xe9\n" }, "script is not valid UTF-8"},
		{"environment", func(sp *api.JobSpec) { sp.Env = []string{"A=\xff"} }, "environment entry is not valid UTF-8"},
		{"argument", func(sp *api.JobSpec) { sp.Args = []string{"\xff"} }, "argument is not valid UTF-8"},
		{"work dir", func(sp *api.JobSpec) { sp.WorkDir = "/w/\xff" }, "work dir is not valid UTF-8"},
		{"partition", func(sp *api.JobSpec) { sp.Partition = "\xff" }, "partition is not valid UTF-8"},
	} {
		in := goodSpec()
		tc.mut(&in)
		_, err := s.newJob(auth.Peer{UID: 1, User: "u"}, false, &in)
		if err == nil || !errors.Is(err, api.ErrInvalid) || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: err = %v, want one line mentioning %q", tc.name, err, tc.want)
		}
	}
}

// A partition that admits only some accounts cannot be entered by naming
// one when no accounts are configured to check the claim.
func TestAllowAccountsWithoutAccountsRefuses(t *testing.T) {
	s := testServer(t)
	s.pol.parts = append(s.pol.parts, api.Partition{Name: "ml", State: "UP", AllowAccounts: []string{"ml"}})
	in := goodSpec()
	in.Partition, in.Account = "ml", "ml"
	if _, err := s.newJob(auth.Peer{UID: 1, User: "u"}, false, &in); err == nil || !strings.Contains(err.Error(), "no accounts are configured") {
		t.Fatalf("err = %v, want a refusal", err)
	}
}
