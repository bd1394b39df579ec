package server

// Fuzzing the controller's RPC decoders end to end: the fuzzer's bytes are
// the body of a POST to the real http.Handler of a controller running in
// process (raft log on disk, no background loops), under a local identity
// for user calls and a valid cluster-key signature for node calls. Every
// answer must be a success that leaves the state consistent, or a clean
// 4xx whose message is one line and after which nothing was committed.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/gsched/gsched/pkg/api"
	"github.com/gsched/gsched/pkg/auth"
	"github.com/gsched/gsched/pkg/config"
	"github.com/gsched/gsched/pkg/state"
)

// fuzzUsers are the local callers a user RPC may come from: an account
// holder, one with a single account, root (an operator) and a user in no
// account.
var fuzzUsers = []auth.Peer{
	{UID: 1000, GID: 1000, User: "alice"},
	{UID: 1001, GID: 1001, User: "bob"},
	{UID: 0, GID: 0, User: "root"},
	{UID: 1002, GID: 1002, User: "mallory"},
}

var userPaths = []string{
	api.PathSubmit, api.PathListJobs, api.PathCancel, api.PathWaitJob, api.PathListNodes, api.PathUpdateNodes,
	api.PathWhoAmI, api.PathPriority, api.PathShares, api.PathStepStart, api.PathStepWait, api.PathStepCancel,
	api.PathSubmitBatch,
	api.PathJobControl, api.PathUpdateJob, api.PathTestJob,
}

var nodePaths = []string{api.PathNodeRegister, api.PathNodeSync}

// maxErrorLen bounds an error message: user text in one is truncated or
// names a limit, never echoed whole.
const maxErrorLen = 1024

// fuzzKey is the cluster key of the fuzzed controller.
var fuzzKey = bytes.Repeat([]byte("k"), 32)

// fuzzCtl is a controller under fuzzing, rebuilt when its state grows.
type fuzzCtl struct {
	s      *Server
	dir    string
	signer *auth.Signer
}

func fuzzConfig(dir string) *config.Config {
	cfg := config.Default()
	cfg.Controller.StateDir = filepath.Join(dir, "state")
	cfg.Controller.Socket = filepath.Join(dir, "ctld.sock")
	cfg.Controller.Listen = "127.0.0.1:0"
	cfg.Controller.HeartbeatInterval = config.Duration{Duration: 10 * time.Millisecond}
	cfg.Partitions = []config.PartitionConfig{
		{Name: "main", Default: true, DefaultTime: "1:00:00", MaxTime: "1-00:00:00", State: "UP"},
		{Name: "long", MaxTime: "UNLIMITED", State: "UP"},
		{Name: "ml", AllowAccounts: []string{"ml"}, DefaultQOS: "small", State: "UP"},
		{Name: "drained", State: "DRAIN"},
	}
	cfg.Accounts = []config.AccountConfig{
		{Name: "ml", Shares: 1, Users: []string{"alice"}},
		{Name: "phys", Shares: 1, Users: []string{"alice", "bob", "root"}},
	}
	cfg.QOS = []config.QOSConfig{
		{Name: "normal"},
		{Name: "small", MaxWall: "2:00:00", MaxTRESPerUser: "gpu=2", MaxSubmitJobsPerUser: 100},
	}
	return cfg
}

// startFuzzCtl starts a controller with two nodes and one running job of
// alice's (so steps can start), and registers its shutdown with tb.
func startFuzzCtl(tb testing.TB) *fuzzCtl {
	tb.Helper()
	dir, err := os.MkdirTemp("", "gfz")
	if err != nil {
		tb.Fatal(err)
	}
	s, err := New(Options{Config: fuzzConfig(dir), Key: fuzzKey})
	if err != nil {
		os.RemoveAll(dir)
		tb.Fatal(err)
	}
	c := &fuzzCtl{s: s, dir: dir, signer: auth.NewSigner(fuzzKey)}
	for _, n := range []api.Node{
		{Name: "n1", CPUs: 16, MemBytes: 64 << 30, GPUs: []api.GPU{
			{Index: 0, Model: "NVIDIA A100"}, {Index: 1, Model: "NVIDIA A100"}, {Index: 2, Model: "NVIDIA A100"}, {Index: 3, Model: "NVIDIA A100"}}},
		{Name: "n2", CPUs: 8, MemBytes: 32 << 30},
	} {
		if _, err := s.registerNode(context.Background(), &api.RegisterRequest{Node: n}); err != nil {
			c.close()
			tb.Fatal(err)
		}
	}
	ctx := auth.WithPeer(context.Background(), fuzzUsers[0])
	spec := api.JobSpec{Name: "held", WorkDir: "/home/alice", Script: "#!/bin/sh\nsleep 100\n", Nodes: 2, NTasksPerNode: 2, GPUsPerNode: 0}
	if _, err := s.submit(ctx, &api.SubmitRequest{Spec: spec}); err != nil {
		c.close()
		tb.Fatal(err)
	}
	if err := s.schedulePass(); err != nil {
		c.close()
		tb.Fatal(err)
	}
	if j := s.Snapshot().Job(nil, 1); j == nil || j.State != api.StateRunning {
		c.close()
		tb.Fatalf("the first job did not start: %+v", j)
	}
	return c
}

func (c *fuzzCtl) close() {
	c.s.userL.Close()
	c.s.nodeL.Close()
	c.s.raft.close()
	os.RemoveAll(c.dir)
}

// fuzzCtlHolder keeps one controller per fuzzing process and replaces it
// when its state has grown enough to slow the fuzzer down.
type fuzzCtlHolder struct {
	c *fuzzCtl
	f *testing.F
}

func newFuzzCtlHolder(f *testing.F) *fuzzCtlHolder {
	h := &fuzzCtlHolder{f: f}
	f.Cleanup(func() {
		if h.c != nil {
			h.c.close()
		}
	})
	return h
}

func (h *fuzzCtlHolder) get(t *testing.T) *fuzzCtl {
	if h.c != nil && len(h.c.s.Snapshot().Jobs()) > 200 {
		h.c.close()
		h.c = nil
	}
	if h.c == nil {
		h.c = startFuzzCtl(t)
	}
	return h.c
}

// answer is one RPC's outcome.
type answer struct {
	status int
	body   []byte
	// committed is the number of raft entries the call added.
	committed uint64
}

func (c *fuzzCtl) serve(h http.Handler, path string, body []byte, ctx context.Context, hdr map[string]string) answer {
	before := c.s.raft.r.LastIndex()
	req := httptest.NewRequestWithContext(ctx, http.MethodPost, path, bytes.NewReader(body))
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return answer{status: rec.Code, body: rec.Body.Bytes(), committed: c.s.raft.r.LastIndex() - before}
}

// userCall posts body to a user RPC as who. Long polls are cut short.
func (c *fuzzCtl) userCall(path string, who auth.Peer, body []byte) answer {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	return c.serve(c.s.userSrv, path, body, auth.WithPeer(ctx, who), nil)
}

// nodeCall posts a correctly signed body to a node RPC.
func (c *fuzzCtl) nodeCall(t *testing.T, path string, body []byte) answer {
	hdr, err := c.signer.Sign(http.MethodPost, path, body)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	return c.serve(c.s.nodeSrv, path, body, ctx, hdr)
}

// checkRefusal checks a non-200 answer: a 4xx with a one-line message of
// the matching code, and nothing committed. It returns the message.
func checkRefusal(t *testing.T, path string, a answer) string {
	t.Helper()
	var eb errorAnswer
	dec := json.NewDecoder(bytes.NewReader(a.body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&eb); err != nil || dec.More() {
		t.Fatalf("%s: HTTP %d with a body that is not one error object (%v): %q", path, a.status, err, a.body)
	}
	msg := eb.Error.Message
	switch {
	case a.status < 400 || a.status >= 500:
		t.Fatalf("%s: HTTP %d (%s): %s", path, a.status, eb.Error.Code, msg)
	case wantStatus[eb.Error.Code] != a.status:
		t.Fatalf("%s: HTTP %d with code %q", path, a.status, eb.Error.Code)
	case msg == "" || strings.ContainsAny(msg, "\n\r") || len(msg) > maxErrorLen || !utf8.ValidString(msg):
		t.Fatalf("%s: the error is not one short line of text (%d bytes): %q", path, len(msg), msg)
	case a.committed != 0:
		t.Fatalf("%s: refused (%s) but committed %d raft entries", path, msg, a.committed)
	}
	return msg
}

type errorAnswer struct {
	Error api.RemoteError `json:"error"`
}

var wantStatus = map[string]int{
	api.CodeInvalid: http.StatusBadRequest, api.CodeNotFound: http.StatusNotFound, api.CodePermission: http.StatusForbidden,
	api.CodeTooLarge: http.StatusRequestEntityTooLarge, api.CodeConflict: http.StatusConflict,
}

// decodeAnswer decodes a success strictly into v.
func decodeAnswer(t *testing.T, path string, a answer, v any) {
	t.Helper()
	if !bytes.HasSuffix(a.body, []byte("\n")) || bytes.Count(a.body, []byte("\n")) != 1 {
		t.Fatalf("%s: answer is not one JSON line: %q", path, a.body)
	}
	dec := json.NewDecoder(bytes.NewReader(a.body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("%s: answer does not decode as %T: %v", path, v, err)
	}
}

// checkJob checks what the controller relies on in every stored job.
func checkJob(t *testing.T, j *api.Job) {
	t.Helper()
	sp := j.Spec
	if j.ID == 0 || j.User == "" || sp.NodeCount() < 1 || sp.NTasks < sp.NodeCount() || sp.CPUsPerTask < 1 ||
		sp.MemBytes <= 0 || sp.MemBytes > maxMemBytes || sp.GPUs < 0 || sp.GPUs > maxGPUs || sp.TimeLimit < 0 ||
		!strings.HasPrefix(sp.Script, "#!") || len(sp.Script) > api.MaxScriptBytes || !filepath.IsAbs(sp.WorkDir) ||
		sp.Partition == "" || sp.Nodes > maxNodes {
		t.Fatalf("stored job breaks the invariants: %+v", j)
	}
	for _, s := range append([]string{sp.Name, sp.Partition, sp.Account, sp.QOS, sp.Script, sp.WorkDir, sp.Output}, sp.Env...) {
		if !utf8.ValidString(s) || strings.IndexByte(s, 0) >= 0 {
			t.Fatalf("stored job %d holds a NUL byte or invalid UTF-8: %q", j.ID, s)
		}
	}
}

// checkState checks the whole store after a success: valid jobs, and no
// node holding more than it has.
func checkState(t *testing.T, snap *state.Snapshot) {
	t.Helper()
	for _, j := range snap.Jobs() {
		checkJob(t, j)
	}
	usage := snap.Usage()
	for _, n := range snap.Nodes() {
		if n.Name == "" || n.CPUs < 1 || n.MemBytes < 0 {
			t.Fatalf("stored node breaks the invariants: %+v", n)
		}
		u := usage[n.Name]
		seen := map[int]bool{}
		for _, g := range u.GPUs {
			if seen[g] {
				t.Fatalf("node %s: GPU %d allocated twice", n.Name, g)
			}
			seen[g] = true
		}
		// A node may hold more than it has only after registering with
		// less than its jobs hold, and then it takes no new jobs.
		if (u.CPUs > n.CPUs || u.MemBytes > n.MemBytes || len(u.GPUs) > len(n.GPUs)) && n.State == api.NodeUp {
			t.Fatalf("node %s is UP and oversubscribed: %+v of %d CPUs, %d bytes, %d GPUs", n.Name, u, n.CPUs, n.MemBytes, len(n.GPUs))
		}
	}
}

// FuzzUserRPC feeds bytes to every user RPC as each kind of caller.
func FuzzUserRPC(f *testing.F) {
	seed := func(call int, who uint8, v any) {
		b, err := json.Marshal(v)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(uint8(call), who, b)
	}
	ok := api.JobSpec{Name: "x", WorkDir: "/home/alice", Script: "#!/bin/sh\ntrue\n"}
	seed(0, 0, api.SubmitRequest{Spec: ok})
	gpu := ok
	gpu.GPUs, gpu.Partition, gpu.Account, gpu.TimeLimit = 2, "ml", "ml", 3600
	seed(0, 0, api.SubmitRequest{Spec: gpu})
	seed(1, 1, api.JobFilter{IncludeFinished: true, Users: []string{"alice"}})
	seed(2, 0, api.CancelRequest{IDs: []api.JobID{1}, Signal: 10})
	seed(2, 1, api.CancelRequest{User: "alice"})
	seed(3, 0, api.WaitRequest{JobID: 1, TimeoutMs: 10})
	seed(4, 0, struct{}{})
	seed(5, 2, api.NodeUpdateRequest{Nodes: []string{"n2"}, State: "drain", Reason: "fuzz"})
	seed(5, 2, api.NodeUpdateRequest{Nodes: []string{"n2"}, State: "resume"})
	seed(6, 3, struct{}{})
	seed(7, 0, struct{}{})
	seed(8, 0, struct{}{})
	seed(9, 0, api.StepStartRequest{JobID: 1, Spec: api.StepSpec{Argv: []string{"hostname"}, NTasks: 2, Nodes: []string{"n2"}}})
	seed(10, 0, api.StepWaitRequest{JobID: 1, Step: 0, TimeoutMs: 5})
	seed(11, 2, api.StepRef{JobID: 1, Step: 0})
	seed(12, 0, api.JobControlRequest{Action: api.ActionRequeue, IDs: []api.JobID{1}})
	seed(12, 2, api.JobControlRequest{Action: api.ActionHold, IDs: []api.JobID{1, 2}})
	tl, name := int64(60), "renamed"
	seed(13, 0, api.JobUpdateRequest{IDs: []api.JobID{1}, Set: api.JobUpdate{TimeLimit: &tl, Name: &name}})
	seed(14, 1, api.SubmitRequest{Spec: ok})
	h := newFuzzCtlHolder(f)
	f.Fuzz(func(t *testing.T, call, who uint8, body []byte) {
		c := h.get(t)
		path := userPaths[int(call)%len(userPaths)]
		peer := fuzzUsers[int(who)%len(fuzzUsers)]
		a := c.userCall(path, peer, body)
		if a.status != http.StatusOK {
			checkRefusal(t, path, a)
			return
		}
		snap := c.s.Snapshot()
		switch path {
		case api.PathSubmit:
			var resp api.SubmitResponse
			decodeAnswer(t, path, a, &resp)
			checkSubmitted(t, c.s, snap, peer, []api.JobID{resp.JobID}, a.committed)
		case api.PathSubmitBatch:
			var resp api.SubmitBatchResponse
			decodeAnswer(t, path, a, &resp)
			checkSubmitted(t, c.s, snap, peer, resp.JobIDs, a.committed)
		case api.PathListJobs:
			var resp api.JobList
			decodeAnswer(t, path, a, &resp)
			for _, j := range resp.Jobs {
				if j.UID != peer.UID && peer.UID != 0 && (j.Spec.Script != "" || j.Spec.Env != nil) {
					t.Fatalf("%s sees the script of %s's job %d", peer.User, j.User, j.ID)
				}
			}
		case api.PathCancel:
			var resp api.CancelResponse
			decodeAnswer(t, path, a, &resp)
			for _, id := range resp.Done {
				if j := snap.Job(nil, id); j == nil || j.UID != peer.UID && peer.UID != 0 {
					t.Fatalf("%s cancelled or signalled job %d of another user", peer.User, id)
				}
			}
		case api.PathJobControl, api.PathUpdateJob:
			var resp api.JobControlResponse
			decodeAnswer(t, path, a, &resp)
			for _, id := range resp.Done {
				if j := snap.Job(nil, id); j == nil || j.UID != peer.UID && peer.UID != 0 {
					t.Fatalf("%s changed job %d of another user (%s)", peer.User, id, path)
				}
			}
			if err := c.s.schedulePass(); err != nil {
				t.Fatalf("scheduling pass after %s: %v", path, err)
			}
		case api.PathTestJob:
			decodeAnswer(t, path, a, new(api.TestJobResponse))
			if a.committed != 0 {
				t.Fatalf("a dry run committed %d entries", a.committed)
			}
		case api.PathUpdateNodes:
			if peer.UID != 0 {
				t.Fatalf("non-operator %s changed node states", peer.User)
			}
			decodeAnswer(t, path, a, new(api.NodeUpdateResponse))
		case api.PathStepStart:
			var st api.Step
			decodeAnswer(t, path, a, &st)
			if j := snap.Job(nil, st.JobID); j == nil || j.UID != peer.UID || len(st.Tasks) == 0 || len(st.Tasks) > api.MaxStepTasks {
				t.Fatalf("%s started step %s of %d tasks", peer.User, st.Key(), len(st.Tasks))
			}
		default:
			var v any
			decodeAnswer(t, path, a, &v)
		}
		checkState(t, snap)
	})
}

// FuzzNodeRPC feeds correctly signed bytes to the node daemons' RPCs: the
// signature proves the sender holds the cluster key, not that what it
// sends makes sense.
func FuzzNodeRPC(f *testing.F) {
	seed := func(call int, v any) {
		b, err := json.Marshal(v)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(uint8(call), b)
	}
	seed(0, api.RegisterRequest{Node: api.Node{Name: "n3", CPUs: 4, MemBytes: 8 << 30, GPUs: []api.GPU{{Index: 0}}}})
	seed(0, api.RegisterRequest{Node: api.Node{Name: "n1", CPUs: 16, MemBytes: 64 << 30}})
	seed(0, api.RegisterRequest{Node: api.Node{Name: "n1", CPUs: 1, MemBytes: 1}}) // less than job 1 holds there
	seed(1, api.SyncRequest{Node: "n1", WaitMs: 5, Reports: []api.TaskReport{{JobID: 1, State: api.TaskRunning}}})
	seed(1, api.SyncRequest{Node: "n2", Reports: []api.TaskReport{{JobID: 1, State: api.TaskExited, ExitCode: 3}}})
	seed(1, api.SyncRequest{Node: "n1", StepReports: []api.StepReport{{JobID: 1, Step: 1, Rank: 0, ExitCode: 1}},
		StepTasks: []string{"1.1.0"}, StepKilling: []string{"1.1.1"}})
	seed(1, api.SyncRequest{Node: "n1", GPUUsage: []api.GPUUsage{{Index: 0, Utilization: 0.5, HasUtilization: true, MemUsed: 1 << 30,
		HasMemUsed: true}, {Index: 3, Utilization: 2}, {Index: 7, HasMemUsed: true, MemUsed: -1}}})
	h := newFuzzCtlHolder(f)
	f.Fuzz(func(t *testing.T, call uint8, body []byte) {
		c := h.get(t)
		path := nodePaths[int(call)%len(nodePaths)]
		a := c.nodeCall(t, path, body)
		if a.status != http.StatusOK {
			checkRefusal(t, path, a)
			return
		}
		snap := c.s.Snapshot()
		switch path {
		case api.PathNodeRegister:
			var req api.RegisterRequest
			if err := json.Unmarshal(body, &req); err != nil {
				t.Fatalf("accepted a registration that does not decode: %v", err)
			}
			n := snap.Node(req.Node.Name)
			if n == nil || a.committed == 0 {
				t.Fatalf("registration of %q answered OK but the node is not stored", req.Node.Name)
			}
			if !validNodeName(n.Name) {
				t.Fatalf("stored node name %q", n.Name)
			}
			decodeAnswer(t, path, a, new(api.RegisterResponse))
		case api.PathNodeSync:
			var resp api.SyncResponse
			decodeAnswer(t, path, a, &resp)
			checkGPUUsage(t, c.s)
		}
		checkState(t, snap)
	})
}

// checkSubmitted: an accepted submission answered job IDs that are stored
// as the caller's, committed to raft, and schedulable without error.
func checkSubmitted(t *testing.T, s *Server, snap *state.Snapshot, peer auth.Peer, ids []api.JobID, committed uint64) {
	t.Helper()
	if len(ids) == 0 || committed == 0 {
		t.Fatalf("submission answered %v, %d entries committed", ids, committed)
	}
	for _, id := range ids {
		if j := snap.Job(nil, id); j == nil || j.UID != peer.UID || j.User != peer.User {
			t.Fatalf("submission answered job %d, stored %+v", id, j)
		}
	}
	if err := s.schedulePass(); err != nil {
		t.Fatalf("scheduling pass after submitting %v: %v", ids, err)
	}
}

// TestFuzzControllerRefusals pins the shape of refusals the fuzz targets
// rely on, with inputs that must be refused.
func TestFuzzControllerRefusals(t *testing.T) {
	c := startFuzzCtl(t)
	defer c.close()
	for _, tc := range []struct {
		path string
		who  int
		body string
		want string
	}{
		{api.PathSubmit, 0, `{"spec":{"script":"#!/bin/sh\n","work_dir":"/w","gpus":1000000000}}`, "too many GPUs"},
		{api.PathSubmit, 0, `{"spec":{"script":"#!/bin/sh\n","work_dir":"/w","partition":"a\nb"}}`, "partition contains a control character"},
		{api.PathSubmit, 0, `{"spec":{"script":"#!/bin/sh\n","work_dir":"/w","partition":"nope"}}`, "invalid partition specified: nope"},
		{api.PathSubmit, 0, `{"spec":{"script":"#!/bin/sh\n","work_dir":"/w","qos":"a\nb"}}`, "qos contains a control character"},
		{api.PathSubmit, 0, `{"spec":{"script":"#!/bin/sh\n","work_dir":"/w","qos":"gold"}}`, "invalid qos specified: gold"},
		{api.PathSubmit, 0, `{"spec":{"script":"#!/bin/sh\n","work_dir":"/w","account":"a\nb"}}`, "account"},
		{api.PathSubmit, 0, `{"spec":` + strings.Repeat(`[`, 100000) + `}`, "malformed"},
		{api.PathSubmit, 3, `{"spec":{"script":"#!/bin/sh\n","work_dir":"/w"}}`, "has no account"},
		{api.PathSubmit, 0, `{"spec":{}} {}`, "trailing data"},
		{api.PathSubmit, 0, `{"spec":{"nodes":1e400}}`, "malformed"},
		// JSON decoding turns invalid UTF-8 into U+FFFD; escapes decode to
		// the bytes they name.
		{api.PathSubmit, 0, `{"spec":{"script":"#!/bin/sh\n","work_dir":"/w","name":"a\u0000b"}}`, "NUL"},
		{api.PathSubmit, 0, `{"spec":{"script":"#!/bin/sh\n","work_dir":"/w","name":"\u001b[31mred"}}`, "control character"},
		{api.PathSubmit, 0, `{"spec":{"script":"#!/bin/sh\n","work_dir":"/w","env":["A=\u0000"]}}`, "NUL"},
		{api.PathSubmitBatch, 0, `{"specs":[]}`, "no job in the batch"},
		{api.PathSubmitBatch, 0, `{"specs":[{"script":"#!/bin/sh\n","work_dir":"/w"},{"script":"#!/bin/sh\n","work_dir":"/w","partition":"nope"}]}`, "invalid partition specified: nope (job 1 of the batch)"},
		{api.PathSubmitBatch, 0, `{"specs":[` + strings.Repeat(`{},`, api.MaxSubmitBatch) + `{}]}`, "at most 10000"},
		{api.PathCancel, 0, `{"signal":-1,"ids":[1]}`, "invalid signal"},
		{api.PathUpdateNodes, 1, `{"nodes":["n1"],"state":"drain","reason":"x"}`, "only operators"},
		{api.PathUpdateNodes, 2, `{"nodes":["n1"],"state":"drain","reason":"two\nlines"}`, "one line"},
		{api.PathUpdateNodes, 2, `{"nodes":["n\nx"],"state":"resume"}`, "does not exist"},
		{api.PathStepStart, 1, `{"job_id":1,"spec":{"argv":["x"]}}`, "belongs to alice"},
		{api.PathWaitJob, 0, `{"job_id":99}`, "invalid job id"},
	} {
		a := c.userCall(tc.path, fuzzUsers[tc.who], []byte(tc.body))
		if a.status == http.StatusOK {
			t.Errorf("%s %.60q: accepted", tc.path, tc.body)
			continue
		}
		t.Run(fmt.Sprintf("%s %.40q", tc.path, tc.body), func(t *testing.T) {
			if msg := checkRefusal(t, tc.path, a); !strings.Contains(msg, tc.want) {
				t.Errorf("message %q does not mention %q", msg, tc.want)
			}
		})
	}
	for _, tc := range []struct{ body, want string }{
		{`{"node":{"name":"bad\nname","cpus":1,"mem_bytes":1}}`, "node name"},
		{`{"node":{"name":"a,b","cpus":1,"mem_bytes":1}}`, "node name"},
		{`{"node":{"name":"n9","cpus":1000000000,"mem_bytes":1}}`, "implausible"},
		{`{"node":{"name":"n9","cpus":1,"mem_bytes":-1}}`, "implausible"},
	} {
		a := c.nodeCall(t, api.PathNodeRegister, []byte(tc.body))
		if a.status == http.StatusOK {
			t.Errorf("register %q: accepted", tc.body)
			continue
		}
		if msg := checkRefusal(t, api.PathNodeRegister, a); !strings.Contains(msg, tc.want) {
			t.Errorf("register %q: message %q does not mention %q", tc.body, msg, tc.want)
		}
	}
	if n := len(c.s.Snapshot().Jobs()); n != 1 {
		t.Fatalf("%d jobs after refusals, want the 1 started", n)
	}
}
