package server

import (
	"context"
	crand "crypto/rand"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
	"golang.org/x/sys/unix"

	"github.com/gsched/gsched/pkg/api"
	"github.com/gsched/gsched/pkg/auth"
	"github.com/gsched/gsched/pkg/config"
	"github.com/gsched/gsched/pkg/fsm"
	"github.com/gsched/gsched/pkg/rpc"
)

const (
	loadClients = 50
	// loadUID0 is the first client's uid when the test can connect as
	// other users (as root): client i is uid loadUID0+i, an ordinary user.
	loadUID0 = 61000
	// goroutineSlack is how far the goroutine count may end above where it
	// started: the runtime and the testing package may keep a goroutine or
	// two of their own; every connection costs at least two (client and
	// server side), so a leak of one per client shows.
	goroutineSlack = 3
	// liveSlack bounds the live heap (after GC) the controller may keep,
	// once its jobs are purged, beyond what it held before the load: about
	// 0.4 MiB measured, caches that fill once (encoding/json's type cache,
	// bbolt's freelist, raft's buffers). A leak of b bytes per request
	// shows once b times the requests exceeds it: 256 bytes in a short run
	// on a quiet machine (~10,000 requests), far less in make faults'.
	liveSlack = 2 << 20
	// inuseSlack bounds the heap's in-use spans the same way: the live
	// bytes plus fragmentation (spans that keep one live object of the
	// many they held at the peak), measured at 1-2 MiB after 8,000 to
	// 30,000 jobs.
	inuseSlack = 6 << 20
)

// The controller under load: 50 clients, each on its own connection and
// (as root) each as its own ordinary user, submit jobs (some invalid on
// purpose), cancel some of theirs, try to cancel other users', list and
// long-poll their own, for a bounded time (GSCHED_LOAD_SECONDS, default 3). Every error must be
// the expected rejection; afterwards every acknowledged job is in the
// state as its client left it, none twice, nothing else is; goroutines
// return to their count before the clients and before the controller, and
// the heap to its size once the jobs are purged.
func TestControllerUnderLoad(t *testing.T) {
	seconds := 3
	if s := os.Getenv("GSCHED_LOAD_SECONDS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			t.Fatalf("GSCHED_LOAD_SECONDS=%q: want a number of seconds", s)
		}
		seconds = n
	}
	gBefore := settledGoroutines()
	srv, sock, stop := startLoadController(t)
	asUsers := os.Geteuid() == 0 && canDialAs(t, sock, loadUID0)
	if !asUsers {
		t.Log("cannot connect as other users: every client is the test's own user; the cross-user part is skipped")
	}
	gStart := settledGoroutines()
	heapStart := readHeap()

	reg := &jobRegistry{}
	clients := make([]*loadClient, loadClients)
	deadline := time.Now().Add(time.Duration(seconds) * time.Second)
	began := time.Now()
	var wg sync.WaitGroup
	for i := range clients {
		lc := &loadClient{idx: i, reg: reg, crossUser: asUsers, own: map[api.JobID]*ownJob{},
			rng: rand.New(rand.NewPCG(uint64(i), 42)), oversize: i%10 == 0}
		lc.uid = uint32(os.Geteuid())
		lc.operator = lc.uid == 0
		dial := func(ctx context.Context) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", sock)
		}
		if asUsers {
			lc.uid, lc.operator = loadUID0+uint32(i), false
			dial = func(ctx context.Context) (net.Conn, error) { return dialAs(ctx, sock, int(lc.uid)) }
		}
		lc.cl = rpc.DialWith(sock, dial)
		clients[i] = lc
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer lc.cl.Close()
			lc.run(deadline)
		}()
	}
	wg.Wait()
	elapsed := time.Since(began)

	// Every error was an expected rejection.
	var tot loadStats
	for _, lc := range clients {
		tot.add(&lc.stats)
		for _, e := range lc.unexpected {
			t.Errorf("client %d: %s", lc.idx, e)
		}
	}
	// Every acknowledged job is there as its client left it; nothing else.
	all := listAll(t, sock)
	byID := map[api.JobID]api.Job{}
	for _, j := range all {
		byID[j.ID] = j
	}
	seen := map[api.JobID]int{}
	lost, dup, wrong := 0, 0, 0
	report := func(n *int, format string, a ...any) { // the first few of each
		if *n++; *n <= 10 {
			t.Errorf(format, a...)
		}
	}
	for _, lc := range clients {
		for id, o := range lc.own {
			if seen[id]++; seen[id] > 1 {
				report(&dup, "job %d acknowledged to two clients", id)
			}
			j, ok := byID[id]
			if !ok {
				report(&lost, "client %d: acknowledged job %d is not in the state", lc.idx, id)
				continue
			}
			want := api.StatePending
			if o.cancelled {
				want = api.StateCancelled
			}
			if j.State != want || j.UID != lc.uid || j.Spec.Name != o.name {
				report(&wrong, "job %d: %s uid %d name %q, want %s uid %d name %q", id, j.State, j.UID, j.Spec.Name, want, lc.uid, o.name)
			}
		}
	}
	if len(all) != len(seen) {
		t.Errorf("the state holds %d jobs, the clients were acknowledged %d", len(all), len(seen))
	}
	rate := float64(tot.acked) / elapsed.Seconds()

	// The clients are gone: so are their connections' goroutines.
	gLoad := waitGoroutines(t, gStart+goroutineSlack, "after the clients")
	heapLoad := readHeap()
	// Empty the state again; the heap returns to its size before the load.
	purgeAll(t, srv, sock)
	heapPurged := readHeap()
	if heapPurged.live > heapStart.live+liveSlack {
		t.Errorf("live heap %s after the jobs were purged, %s before the load: grew more than %s",
			mib(heapPurged.live), mib(heapStart.live), mib(liveSlack))
	}
	if heapPurged.inuse > heapStart.inuse+inuseSlack {
		t.Errorf("heap in use %s after the jobs were purged, %s before the load: grew more than %s",
			mib(heapPurged.inuse), mib(heapStart.inuse), mib(inuseSlack))
	}
	if err := stop(); err != nil {
		t.Errorf("controller Run: %v", err)
	}
	gEnd := waitGoroutines(t, gBefore+goroutineSlack, "after the controller stopped")

	t.Logf("FAULTS load: clients %d, seconds %d, requests %d, submitted %d, acknowledged %d, rejected as expected %d, "+
		"unexpected errors %d, lost %d, duplicated %d, cancelled %d, cross-user cancels denied %d, submit rate %.0f/s, "+
		"slowest call %v, clients ran %v, "+
		"goroutines %d→%d→%d→%d, heap in use MiB %.1f→%.1f→%.1f, live heap MiB %.1f→%.1f→%.1f",
		loadClients, seconds, tot.requests, tot.submitted, tot.acked, tot.rejected, tot.unexpected, lost, dup, tot.cancelled, tot.denied, rate,
		tot.slowest.Round(time.Millisecond), elapsed.Round(time.Millisecond),
		gBefore, gStart, gLoad, gEnd, mibf(heapStart.inuse), mibf(heapLoad.inuse), mibf(heapPurged.inuse),
		mibf(heapStart.live), mibf(heapLoad.live), mibf(heapPurged.live))
	t.Logf("goroutines: before the controller, with it idle, after the clients, after it stopped; " +
		"heap in use and live heap after GC: before the load, after it, after purging the jobs")
	if tot.acked < loadClients || tot.rejected < loadClients || tot.cancelled == 0 || (asUsers && tot.denied == 0) {
		t.Errorf("too little load to judge: %+v", tot)
	}
	if lost+dup+wrong > 0 {
		t.Fatalf("%d acknowledged jobs lost, %d duplicated, %d in the wrong state", lost, dup, wrong)
	}
}

// startLoadController runs a controller with a raft log on a temp dir and
// no node daemons; stop ends it and returns what Run returned.
func startLoadController(t testing.TB) (*Server, string, func() error) {
	t.Helper()
	srv, sock, _, stop := startController(t, nil)
	return srv, sock, stop
}

// startController runs a controller (real raft and bbolt) in a fresh
// directory, with configure's changes to its configuration, and returns
// it, its socket, its cluster key (for simulated node daemons) and a stop
// function.
func startController(t testing.TB, configure func(*config.Config)) (*Server, string, []byte, func() error) {
	t.Helper()
	return startControllerClock(t, configure, nil)
}

// startControllerClock is startController with the controller's clock
// (nil: time.Now).
func startControllerClock(t testing.TB, configure func(*config.Config), now func() time.Time) (*Server, string, []byte, func() error) {
	t.Helper()
	// Not t.TempDir: other users' clients must reach the socket, and the
	// directory above t.TempDir's is private.
	dir, err := os.MkdirTemp("", "gsched-load-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	cfg.Controller.Socket = filepath.Join(dir, "ctld.sock")
	cfg.Controller.Listen = "127.0.0.1:0"
	cfg.Controller.StateDir = filepath.Join(dir, "ctld")
	cfg.Controller.ScheduleInterval = config.Duration{Duration: time.Second}
	cfg.Partitions = []config.PartitionConfig{{Name: "main", Default: true, MaxTime: "1-00:00:00", State: "UP"}}
	if configure != nil {
		configure(cfg)
	}
	key := make([]byte, 32)
	if _, err := crand.Read(key); err != nil {
		t.Fatal(err)
	}
	srv, err := New(Options{Config: cfg, Key: key, Log: zap.NewNop(), Now: now})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	stopped := false
	stop := func() error {
		if stopped {
			return nil
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(20 * time.Second):
			return errors.New("did not return 20 s after its context ended")
		}
	}
	t.Cleanup(func() { _ = stop() })
	// Wait until it answers.
	cl := rpc.Dial(cfg.Controller.Socket)
	defer cl.Close()
	for end := time.Now().Add(10 * time.Second); ; {
		if err := cl.Call(context.Background(), api.PathWhoAmI, struct{}{}, &api.WhoAmI{}); err == nil {
			break
		} else if time.Now().After(end) {
			t.Fatalf("controller not answering: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return srv, cfg.Controller.Socket, key, stop
}

// dialAs connects to the Unix socket as uid (gid the same number), so that
// the controller's SO_PEERCRED sees that user. Credentials are per thread
// in Linux: the raw setresuid changes only this locked OS thread, which is
// never unlocked and so exits with the goroutine, taking its credentials
// with it (the process and its other threads stay root).
func dialAs(ctx context.Context, sock string, uid int) (net.Conn, error) {
	type result struct {
		c   net.Conn
		err error
	}
	ch := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		keep := ^uintptr(0) // -1: unchanged
		if _, _, e := unix.RawSyscall(unix.SYS_SETRESGID, keep, uintptr(uid), keep); e != 0 {
			ch <- result{nil, fmt.Errorf("setresgid %d: %w", uid, e)}
			return
		}
		if _, _, e := unix.RawSyscall(unix.SYS_SETRESUID, keep, uintptr(uid), keep); e != 0 {
			ch <- result{nil, fmt.Errorf("setresuid %d: %w", uid, e)}
			return
		}
		var d net.Dialer
		c, err := d.DialContext(ctx, "unix", sock)
		ch <- result{c, err}
	}()
	r := <-ch
	return r.c, r.err
}

// canDialAs reports whether a client connected with dialAs is seen by the
// controller as uid, and an ordinary user.
func canDialAs(t *testing.T, sock string, uid uint32) bool {
	cl := rpc.DialWith(sock, func(ctx context.Context) (net.Conn, error) { return dialAs(ctx, sock, int(uid)) })
	defer cl.Close()
	var who api.WhoAmI
	if err := cl.Call(context.Background(), api.PathWhoAmI, struct{}{}, &who); err != nil {
		t.Logf("cannot connect as uid %d: %v", uid, err)
		return false
	}
	if who.UID != uid || who.Operator {
		t.Fatalf("connected as uid %d, the controller saw %+v", uid, who)
	}
	return true
}

type ownJob struct {
	name      string
	cancelled bool
}

type loadStats struct {
	requests   int // calls made
	submitted  int // submissions sent, valid or not
	acked      int // submissions answered with a job ID
	rejected   int // refusals that were the expected ones
	cancelled  int // own jobs cancelled
	denied     int // cancels of other users' jobs refused
	unexpected int
	slowest    time.Duration // the longest call
}

func (s *loadStats) add(o *loadStats) {
	s.requests += o.requests
	s.submitted += o.submitted
	s.acked += o.acked
	s.rejected += o.rejected
	s.cancelled += o.cancelled
	s.denied += o.denied
	s.unexpected += o.unexpected
	s.slowest = max(s.slowest, o.slowest)
}

// jobRegistry holds recently acknowledged jobs of every client, for the
// cross-user cancels.
type jobRegistry struct {
	mu    sync.Mutex
	ids   []api.JobID
	owner []int
}

func (r *jobRegistry) add(id api.JobID, owner int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.ids) >= 4096 {
		r.ids, r.owner = r.ids[1:], r.owner[1:]
	}
	r.ids, r.owner = append(r.ids, id), append(r.owner, owner)
}

// other returns a job of another client than me.
func (r *jobRegistry) other(me int, rng *rand.Rand) (api.JobID, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for try := 0; try < 8 && len(r.ids) > 0; try++ {
		if i := rng.IntN(len(r.ids)); r.owner[i] != me {
			return r.ids[i], true
		}
	}
	return 0, false
}

// badSpecs are submissions the controller must refuse, and how.
var badSpecs = []struct {
	name   string
	mutate func(*api.JobSpec)
	want   error
}{
	{"no shebang", func(s *api.JobSpec) { s.Script = "echo hi\n" }, api.ErrInvalid},
	{"relative work dir", func(s *api.JobSpec) { s.WorkDir = "rel" }, api.ErrInvalid},
	{"negative memory", func(s *api.JobSpec) { s.MemBytes = -1 }, api.ErrInvalid},
	{"unknown partition", func(s *api.JobSpec) { s.Partition = "nope" }, api.ErrInvalid},
	{"NUL in the environment", func(s *api.JobSpec) { s.Env = []string{"A=b\x00c"} }, api.ErrInvalid},
	{"over the partition's time limit", func(s *api.JobSpec) { s.TimeLimit = 2 * 86400 }, api.ErrInvalid},
	{"negative nice by a user", func(s *api.JobSpec) { s.Nice = -5 }, api.ErrPermission},
}

// loadClient is one user's session: its own connection, its own jobs.
type loadClient struct {
	idx       int
	uid       uint32
	cl        *rpc.Client
	rng       *rand.Rand
	reg       *jobRegistry
	crossUser bool // others' jobs belong to other users
	operator  bool // may do what users may not (a negative nice)
	oversize  bool // send one submission over the request size limit

	own        map[api.JobID]*ownJob
	live       []api.JobID // own jobs not cancelled
	dead       []api.JobID // own jobs cancelled
	n          int
	stats      loadStats
	unexpected []string
}

func (c *loadClient) fail(format string, a ...any) {
	c.stats.unexpected++
	if len(c.unexpected) < 5 {
		c.unexpected = append(c.unexpected, fmt.Sprintf(format, a...))
	}
}

func (c *loadClient) call(path string, req, resp any) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	start := time.Now()
	c.stats.requests++
	err := c.cl.Call(ctx, path, req, resp)
	c.stats.slowest = max(c.stats.slowest, time.Since(start))
	return err
}

func (c *loadClient) run(deadline time.Time) {
	for time.Now().Before(deadline) {
		switch op := c.rng.IntN(20); {
		case op < 11:
			c.submit()
		case op < 13:
			c.submitBad()
		case op < 16:
			c.cancelOwn()
		case op < 17:
			c.cancelCancelled()
		case op < 18:
			c.cancelOther()
		case op < 19:
			c.listOwn()
		default:
			c.waitOwn()
		}
	}
}

func (c *loadClient) spec() api.JobSpec {
	c.n++
	return api.JobSpec{Name: fmt.Sprintf("load-%02d-%d", c.idx, c.n), WorkDir: "/home/load",
		Script: "#!/bin/sh\ntrue\n", MemBytes: 1 << 20, Hold: c.n%2 == 0}
}

func (c *loadClient) submit() {
	spec := c.spec()
	var resp api.SubmitResponse
	c.stats.submitted++
	if err := c.call(api.PathSubmit, &api.SubmitRequest{Spec: spec}, &resp); err != nil {
		c.fail("submit: %v", err)
		return
	}
	if _, dup := c.own[resp.JobID]; dup || resp.JobID == 0 {
		c.fail("submit answered job ID %d, already acknowledged or zero", resp.JobID)
		return
	}
	c.stats.acked++
	c.own[resp.JobID] = &ownJob{name: spec.Name}
	c.live = append(c.live, resp.JobID)
	c.reg.add(resp.JobID, c.idx)
}

func (c *loadClient) submitBad() {
	spec := c.spec()
	want := api.ErrTooLarge
	what := "oversized body"
	if c.oversize {
		c.oversize = false
		spec.Script = "#!/bin/sh\n" + strings.Repeat("#", api.MaxRequestBytes)
	} else {
		bad := badSpecs[c.rng.IntN(len(badSpecs))]
		if c.operator && bad.want == api.ErrPermission {
			bad = badSpecs[0]
		}
		bad.mutate(&spec)
		want, what = bad.want, bad.name
	}
	c.stats.submitted++
	var resp api.SubmitResponse
	err := c.call(api.PathSubmit, &api.SubmitRequest{Spec: spec}, &resp)
	switch {
	case err == nil:
		c.fail("submission with %s accepted as job %d", what, resp.JobID)
	case !errors.Is(err, want):
		c.fail("submission with %s: %v, want %v", what, err, want)
	default:
		c.stats.rejected++
	}
}

func (c *loadClient) cancel(id api.JobID) (api.CancelResponse, error) {
	var resp api.CancelResponse
	err := c.call(api.PathCancel, &api.CancelRequest{IDs: []api.JobID{id}}, &resp)
	return resp, err
}

func (c *loadClient) cancelOwn() {
	if len(c.live) == 0 {
		return
	}
	i := c.rng.IntN(len(c.live))
	id := c.live[i]
	resp, err := c.cancel(id)
	if err != nil || len(resp.Errors) > 0 || !slices.Equal(resp.Done, []api.JobID{id}) {
		c.fail("cancel own job %d: %v %+v", id, err, resp)
		return
	}
	c.stats.cancelled++
	c.own[id].cancelled = true
	c.live = slices.Delete(c.live, i, i+1)
	c.dead = append(c.dead, id)
}

// cancelCancelled cancels an own job again: refused, it has finished.
func (c *loadClient) cancelCancelled() {
	if len(c.dead) == 0 {
		return
	}
	id := c.dead[c.rng.IntN(len(c.dead))]
	resp, err := c.cancel(id)
	if err != nil || len(resp.Done) > 0 || len(resp.Errors) != 1 || resp.Errors[0].JobID != id || resp.Errors[0].Code != api.CodeConflict {
		c.fail("second cancel of job %d: %v %+v, want a conflict", id, err, resp)
		return
	}
	c.stats.rejected++
}

// cancelOther tries to cancel another user's job (refused, and the job is
// left alone: the final check finds it as its owner left it), or, when all
// clients are the same user, a job that does not exist.
func (c *loadClient) cancelOther() {
	id, ok := api.JobID(1<<40+c.n), false
	want := api.CodeNotFound
	if c.crossUser {
		if id, ok = c.reg.other(c.idx, c.rng); !ok {
			return
		}
		want = api.CodePermission
	}
	resp, err := c.cancel(id)
	if err != nil || len(resp.Done) > 0 || len(resp.Errors) != 1 || resp.Errors[0].JobID != id || resp.Errors[0].Code != want {
		c.fail("cancel of job %d (not ours): %v %+v, want %s", id, err, resp, want)
		return
	}
	c.stats.rejected++
	if ok {
		c.stats.denied++
	}
}

// listOwn reads its own jobs back: exactly those acknowledged, each as
// left (only when each client is its own user).
func (c *loadClient) listOwn() {
	if !c.crossUser {
		return
	}
	var jl api.JobList
	f := &api.JobFilter{Users: []string{auth.UserName(c.uid)}, IncludeFinished: true}
	if err := c.call(api.PathListJobs, f, &jl); err != nil {
		c.fail("list own jobs: %v", err)
		return
	}
	if len(jl.Jobs) != len(c.own) {
		c.fail("list own jobs: %d, acknowledged %d", len(jl.Jobs), len(c.own))
		return
	}
	for _, j := range jl.Jobs {
		o, ok := c.own[j.ID]
		if !ok || o.cancelled != (j.State == api.StateCancelled) || o.name != j.Spec.Name {
			c.fail("list own jobs: job %d %s %q not as acknowledged", j.ID, j.State, j.Spec.Name)
			return
		}
	}
}

// waitOwn long-polls one of its jobs for a moment: a pending one is still
// pending when the poll times out, a cancelled one answers at once.
func (c *loadClient) waitOwn() {
	ids := c.live
	if len(c.dead) > 0 && (len(ids) == 0 || c.rng.IntN(2) == 0) {
		ids = c.dead
	}
	if len(ids) == 0 {
		return
	}
	id := ids[c.rng.IntN(len(ids))]
	var j api.Job
	if err := c.call(api.PathWaitJob, &api.WaitRequest{JobID: id, TimeoutMs: 20}, &j); err != nil {
		c.fail("wait for job %d: %v", id, err)
		return
	}
	if o := c.own[id]; j.ID != id || o.cancelled != (j.State == api.StateCancelled) || !o.cancelled && j.State != api.StatePending {
		c.fail("wait for job %d: %d %s, cancelled %v", id, j.ID, j.State, o.cancelled)
	}
}

func listAll(t *testing.T, sock string) []api.Job {
	t.Helper()
	cl := rpc.Dial(sock)
	defer cl.Close()
	var jl api.JobList
	if err := cl.Call(context.Background(), api.PathListJobs, &api.JobFilter{IncludeFinished: true}, &jl); err != nil {
		t.Fatal(err)
	}
	return jl.Jobs
}

// purgeAll cancels every job (the test runs as root or owns them all) and
// purges them, then waits for a scheduling pass that no longer holds any.
func purgeAll(t *testing.T, srv *Server, sock string) {
	t.Helper()
	cl := rpc.Dial(sock)
	defer cl.Close()
	var resp api.CancelResponse
	if err := cl.Call(context.Background(), api.PathCancel, &api.CancelRequest{States: []api.JobState{api.StatePending}}, &resp); err != nil || len(resp.Errors) > 0 {
		t.Fatalf("cancel all: %v %+v", err, resp.Errors)
	}
	if _, err := srv.apply(&fsm.Command{Type: fsm.CmdPurge, Purge: &fsm.PurgeCmd{Before: time.Now().Add(time.Hour)}}); err != nil {
		t.Fatal(err)
	}
	if n := len(srv.Snapshot().Jobs()); n != 0 {
		t.Fatalf("%d jobs left after the purge", n)
	}
	for end := time.Now().Add(10 * time.Second); ; {
		srv.mu.Lock()
		n := len(srv.reasons) + len(srv.starts) + len(srv.prios)
		srv.mu.Unlock()
		if n == 0 {
			return
		}
		if time.Now().After(end) {
			t.Fatalf("the scheduler's plan still names %d jobs", n)
		}
		srv.Kick()
		time.Sleep(20 * time.Millisecond)
	}
}

// settledGoroutines is the goroutine count once it has stopped changing.
func settledGoroutines() int {
	n := runtime.NumGoroutine()
	for i := 0; i < 100; i++ {
		time.Sleep(20 * time.Millisecond)
		m := runtime.NumGoroutine()
		if m == n {
			return n
		}
		n = m
	}
	return n
}

// waitGoroutines waits until at most limit goroutines run and returns the
// count; it fails the test, with their stacks, if they do not.
func waitGoroutines(t *testing.T, limit int, when string) int {
	t.Helper()
	end := time.Now().Add(10 * time.Second)
	for {
		n := runtime.NumGoroutine()
		if n <= limit {
			return n
		}
		if time.Now().After(end) {
			buf := make([]byte, 1<<20)
			buf = buf[:runtime.Stack(buf, true)]
			t.Errorf("%d goroutines %s, want at most %d:\n%s", n, when, limit, buf)
			return n
		}
		time.Sleep(20 * time.Millisecond)
	}
}

type heapSize struct{ inuse, live uint64 }

// readHeap measures the heap after a full collection (twice: sync.Pool
// keeps a victim cache for one cycle): its in-use spans and live bytes.
func readHeap() heapSize {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return heapSize{inuse: m.HeapInuse, live: m.HeapAlloc}
}

func mibf(b uint64) float64 { return float64(b) / (1 << 20) }

func mib(b uint64) string { return fmt.Sprintf("%.1f MiB", mibf(b)) }
