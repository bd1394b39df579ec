package agent_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gsched/gsched/noded/agent"
	"github.com/gsched/gsched/pkg/api"
	"github.com/gsched/gsched/pkg/runtime"
	"github.com/gsched/gsched/pkg/runtime/fake"
)

const (
	gib       = int64(1) << 30
	killGrace = 3 * time.Second
	// heartbeat is what the fake controller asks for: short, so the
	// agent's long polls turn over quickly.
	heartbeat = 20 * time.Millisecond
	// waitFor bounds every wait for the agent.
	waitFor = 10 * time.Second
)

// ---- the fake controller ----

// fakeController answers the node RPCs from memory: it records every
// request, and answers syncs with the jobs the test set, plus one-shot acks
// and re-registration requests. A sync is held (a long poll) until the
// test changes something or the node's wait passes.
type fakeController struct {
	mu            sync.Mutex
	jobs          []api.Job
	steps         []api.Step
	acks          []api.TaskRef
	reregister    bool
	failRegisters int // fail this many registrations first
	calls         []string
	registers     []api.RegisterRequest
	syncs         []api.SyncRequest
	kick          chan struct{} // closed and replaced when the test changes something
	heartbeat     time.Duration // what registration answers
}

var _ agent.Controller = (*fakeController)(nil)

func newController(jobs ...api.Job) *fakeController {
	return &fakeController{jobs: jobs, kick: make(chan struct{}), heartbeat: heartbeat}
}

// clone deep-copies v through JSON, so the agent and the test never share memory.
func clone[T any](t T) T {
	b, err := json.Marshal(t)
	if err != nil {
		panic(err)
	}
	var out T
	if err := json.Unmarshal(b, &out); err != nil {
		panic(err)
	}
	return out
}

func (c *fakeController) Call(ctx context.Context, path string, req, resp any) error {
	c.mu.Lock()
	c.calls = append(c.calls, path)
	switch path {
	case api.PathNodeRegister:
		defer c.mu.Unlock()
		c.registers = append(c.registers, clone(*req.(*api.RegisterRequest)))
		if c.failRegisters > 0 {
			c.failRegisters--
			return fmt.Errorf("%w: controller starting", api.ErrUnavailable)
		}
		*resp.(*api.RegisterResponse) = api.RegisterResponse{HeartbeatMs: c.heartbeat.Milliseconds()}
		return nil
	case api.PathNodeSync:
		r := clone(*req.(*api.SyncRequest))
		c.syncs = append(c.syncs, r)
		kick := c.kick
		c.mu.Unlock()
		wait := time.NewTimer(time.Duration(r.WaitMs) * time.Millisecond)
		defer wait.Stop()
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-kick:
		case <-wait.C:
		}
		c.mu.Lock()
		defer c.mu.Unlock()
		out := api.SyncResponse{Jobs: clone(c.jobs), Steps: clone(c.steps), Acked: c.acks, Reregister: c.reregister}
		c.acks, c.reregister = nil, false
		*resp.(*api.SyncResponse) = out
		return nil
	}
	c.mu.Unlock()
	return fmt.Errorf("%s: %w", path, api.ErrNotFound)
}

// update changes what the controller answers and wakes pending polls.
func (c *fakeController) update(fn func(c *fakeController)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	fn(c)
	close(c.kick)
	c.kick = make(chan struct{})
}

func (c *fakeController) setJobs(jobs ...api.Job) {
	c.update(func(c *fakeController) { c.jobs = jobs })
}

func (c *fakeController) syncCount() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.syncs)
}

func (c *fakeController) registerCount() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.registers)
}

// report returns job's report in sync request i, if any.
func (c *fakeController) report(i int, job api.JobID) (api.TaskReport, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, r := range c.syncs[i].Reports {
		if r.JobID == job {
			return r, true
		}
	}
	return api.TaskReport{}, false
}

// waitReport waits for a sync (from number `from` on) whose report of job
// satisfies ok, and returns the sync's number and the report.
func (c *fakeController) waitReport(t *testing.T, from int, job api.JobID, what string, ok func(api.TaskReport) bool) (int, api.TaskReport) {
	t.Helper()
	deadline := time.Now().Add(waitFor)
	for i := from; time.Now().Before(deadline); {
		if i >= c.syncCount() {
			time.Sleep(time.Millisecond)
			continue
		}
		if r, found := c.report(i, job); found && ok(r) {
			return i, r
		}
		i++
	}
	t.Fatalf("no sync reported job %d %s", job, what)
	return 0, api.TaskReport{}
}

// waitSyncs waits until n more syncs have been made after sync number from.
func (c *fakeController) waitSyncs(t *testing.T, from, n int) int {
	t.Helper()
	waitUntil(t, fmt.Sprintf("%d syncs after #%d", n, from), func() bool { return c.syncCount() >= from+n })
	return c.syncCount()
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitFor)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// ---- a runtime whose tasks survive Kill ----

// stubbornRuntime is the fake runtime, except that Kill only records the
// call: the task keeps running (as one whose processes ignore SIGTERM
// through the grace period).
type stubbornRuntime struct {
	*fake.Runtime
	mu    sync.Mutex
	kills []string
}

func (r *stubbornRuntime) Kill(_ context.Context, id string, _ time.Duration) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.kills = append(r.kills, id)
	return nil
}

func (r *stubbornRuntime) killCount() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.kills)
}

// ---- builders ----

// testNode has four GPUs whose minors differ from their indices.
func testNode() api.Node {
	n := api.Node{
		Name: "n1", Addr: "10.0.0.1", CPUs: 16, MemBytes: 64 * gib, BootID: "boot-1",
		ExtraDevices: []string{"/dev/nvidiactl", "/dev/nvidia-uvm"},
	}
	for i := 0; i < 4; i++ {
		n.GPUs = append(n.GPUs, api.GPU{Index: i, Minor: i + 4, DevicePath: fmt.Sprintf("/dev/nvidia%d", i+4)})
	}
	return n
}

// uid with no user database entry: no home, no supplementary groups.
const (
	jobUID = 54321
	jobGID = 54322
)

type jobOpt func(*api.Job)

// runningJob is job id of user alice running on n1 with 4 CPUs and 8 GiB.
func runningJob(id api.JobID, opts ...jobOpt) api.Job {
	j := api.Job{
		ID: id, User: "alice", UID: jobUID, GID: jobGID, State: api.StateRunning,
		Spec: &api.JobSpec{
			Name: "train", Partition: "gpu", Nodes: 1, NTasks: 2, CPUsPerTask: 2, MemBytes: 8 * gib,
			Output: "slurm-%j.out", WorkDir: "/work/alice", Script: "#!/bin/sh\necho hi\n", Args: []string{"a", "b"},
		},
		Allocs: []api.Allocation{{Node: "n1", CPUs: 4, MemBytes: 8 * gib}},
	}
	for _, o := range opts {
		o(&j)
	}
	return j
}

func withGPUs(g ...int) jobOpt { return func(j *api.Job) { j.Allocs[0].GPUs = g } }
func cancelRequested() jobOpt  { return func(j *api.Job) { j.CancelRequested = true } }
func withSignals(s ...api.SignalRequest) jobOpt {
	return func(j *api.Job) { j.Signals = s }
}

// startAgent runs an agent for n1 until the test ends.
func startAgent(t *testing.T, c *fakeController, rt runtime.Runtime) {
	t.Helper()
	a := agent.New(agent.Options{
		Node: testNode(), Controller: c, Runtime: rt,
		Heartbeat: time.Hour, // replaced by the controller's answer
		KillGrace: killGrace, PidsLimit: 512, ClusterName: "lab",
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run = %v", err)
			}
		case <-time.After(waitFor):
			t.Error("Run did not return after its context ended")
		}
		// End what still runs, so the agent's watchers return.
		tasks, _ := rt.List(context.Background())
		for _, st := range tasks {
			_ = rt.Destroy(context.Background(), st.ID)
		}
	})
}

func waitStarted(t *testing.T, rt *fake.Runtime, id string) runtime.TaskSpec {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	spec, err := rt.WaitStarted(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	return spec
}

func envMap(t *testing.T, env []string) map[string]string {
	t.Helper()
	m := map[string]string{}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		if _, dup := m[k]; dup {
			t.Errorf("%s set twice in %v", k, env)
		}
		m[k] = v
	}
	return m
}

// ---- tests ----

func TestAgentRegistersThenStartsJob(t *testing.T) {
	j := runningJob(7, withGPUs(1, 3), func(j *api.Job) {
		j.Spec.Env = []string{"CUDA_VISIBLE_DEVICES=5", "FOO=bar"}
		j.Deadline = time.Now().Add(time.Hour).Round(0)
	})
	c := newController(j)
	rt := fake.New()
	startAgent(t, c, rt)

	spec := waitStarted(t, rt, agent.TaskID(7, 0))
	if spec.ID != "job-7" || spec.JobID != 7 {
		t.Errorf("task id %q job %d", spec.ID, spec.JobID)
	}
	if spec.UID != jobUID || spec.GID != jobGID || !slices.Equal(spec.Groups, []uint32{jobGID}) {
		t.Errorf("identity uid %d gid %d groups %v", spec.UID, spec.GID, spec.Groups)
	}
	if spec.Cwd != "/work/alice" || spec.Stdout != "/work/alice/slurm-7.out" || spec.Stderr != spec.Stdout {
		t.Errorf("cwd %q stdout %q stderr %q", spec.Cwd, spec.Stdout, spec.Stderr)
	}
	if string(spec.Script) != j.Spec.Script || !slices.Equal(spec.Args, []string{"a", "b"}) {
		t.Errorf("script %q args %v", spec.Script, spec.Args)
	}
	if spec.CPUs != 4 || spec.MemoryBytes != 8*gib || spec.PidsLimit != 512 || spec.KillGrace != killGrace || !spec.Deadline.Equal(j.Deadline) {
		t.Errorf("resources: cpus %v mem %d pids %d grace %v deadline %v", spec.CPUs, spec.MemoryBytes, spec.PidsLimit, spec.KillGrace, spec.Deadline)
	}
	wantDevices := []runtime.Device{
		{Path: "/dev/nvidia5", HostPath: "/dev/nvidia5", Type: 'c', Major: 195, Minor: 5},
		{Path: "/dev/nvidia7", HostPath: "/dev/nvidia7", Type: 'c', Major: 195, Minor: 7},
		{Path: "/dev/nvidiactl", HostPath: "/dev/nvidiactl"},
		{Path: "/dev/nvidia-uvm", HostPath: "/dev/nvidia-uvm"},
	}
	if !slices.Equal(spec.Devices, wantDevices) {
		t.Errorf("devices:\n got %+v\nwant %+v", spec.Devices, wantDevices)
	}
	env := envMap(t, spec.Env)
	for k, v := range map[string]string{
		"GSCHED_JOB_ID": "7", "CUDA_VISIBLE_DEVICES": "0,1", "GSCHED_JOB_GPUS": "1,3", "FOO": "bar",
		"GSCHED_CLUSTER_NAME": "lab", "GSCHED_NODELIST": "n1",
	} {
		if env[k] != v {
			t.Errorf("env %s = %q, want %q", k, env[k], v)
		}
	}

	c.mu.Lock()
	calls := slices.Clone(c.calls)
	reg := c.registers[0]
	c.mu.Unlock()
	if len(calls) < 2 || calls[0] != api.PathNodeRegister || calls[1] != api.PathNodeSync {
		t.Errorf("calls %v: want a registration before the first sync", calls)
	}
	if reg.Node.Name != "n1" || len(reg.Node.GPUs) != 4 || reg.Node.BootID != "boot-1" || reg.Node.RegisterTime.IsZero() {
		t.Errorf("registered %+v", reg.Node)
	}
	i, r := c.waitReport(t, 0, 7, "running", func(r api.TaskReport) bool { return r.State == api.TaskRunning })
	if r.Cancelled || r.StartTime.IsZero() {
		t.Errorf("running report %+v", r)
	}
	c.mu.Lock()
	sync := c.syncs[i]
	c.mu.Unlock()
	if sync.Node != "n1" || sync.BootID != "boot-1" || sync.WaitMs != heartbeat.Milliseconds() {
		t.Errorf("sync %+v: want node n1, boot-1 and the controller's heartbeat as wait", sync)
	}
	if n := len(rt.Starts()); n != 1 {
		t.Errorf("%d starts, want 1", n)
	}
}

func TestAgentReportsEndedTaskUntilAcked(t *testing.T) {
	tests := []struct {
		name string
		end  runtime.Status
		want api.TaskReport // State, ExitCode, Signal, OOMKilled, TimedOut, Cancelled
	}{
		{"clean exit", runtime.Status{}, api.TaskReport{State: api.TaskExited}},
		{"exit code 3", runtime.Status{ExitCode: 3}, api.TaskReport{State: api.TaskExited, ExitCode: 3}},
		{"OOM", runtime.Status{ExitCode: 137, Signal: 9, OOMKilled: true}, api.TaskReport{State: api.TaskExited, ExitCode: 137, Signal: 9, OOMKilled: true}},
		{"time-out", runtime.Status{ExitCode: 143, Signal: 15, TimedOut: true}, api.TaskReport{State: api.TaskExited, ExitCode: 143, Signal: 15, TimedOut: true}},
		{"lost", runtime.Status{Lost: true}, api.TaskReport{State: api.TaskLost}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newController(runningJob(7))
			rt := fake.New()
			startAgent(t, c, rt)
			waitStarted(t, rt, "job-7")
			if err := rt.Finish("job-7", tt.end); err != nil {
				t.Fatal(err)
			}
			i, r := c.waitReport(t, 0, 7, "ended", func(r api.TaskReport) bool { return r.State != api.TaskRunning })
			got := api.TaskReport{JobID: 7, State: r.State, ExitCode: r.ExitCode, Signal: r.Signal, OOMKilled: r.OOMKilled, TimedOut: r.TimedOut, Cancelled: r.Cancelled}
			tt.want.JobID = 7
			if got != tt.want {
				t.Errorf("report %+v, want %+v", got, tt.want)
			}
			if r.EndTime.IsZero() {
				t.Error("ended report without an end time")
			}
			// Until acked, the report is repeated and the task kept.
			c.waitReport(t, i+1, 7, "ended again", func(r api.TaskReport) bool { return r.State != api.TaskRunning })
			if _, err := rt.Status(context.Background(), "job-7"); err != nil {
				t.Fatalf("task gone before the ack: %v", err)
			}
			c.update(func(c *fakeController) { c.jobs, c.acks = nil, []api.TaskRef{{JobID: 7}} })
			waitUntil(t, "the task destroyed", func() bool {
				_, err := rt.Status(context.Background(), "job-7")
				return errors.Is(err, runtime.ErrNotFound)
			})
			n := c.syncCount()
			next := c.waitSyncs(t, n, 2)
			for k := n; k < next; k++ {
				if r, found := c.report(k, 7); found {
					t.Errorf("sync %d still reports job 7 after the ack: %+v", k, r)
				}
			}
			if n := len(rt.Starts()); n != 1 {
				t.Errorf("%d starts, want 1", n)
			}
		})
	}
}

func TestAgentCancelKillsOnce(t *testing.T) {
	c := newController(runningJob(7))
	rt := &stubbornRuntime{Runtime: fake.New()}
	startAgent(t, c, rt)
	waitStarted(t, rt.Runtime, "job-7")
	c.waitReport(t, 0, 7, "running", func(r api.TaskReport) bool { return r.State == api.TaskRunning && !r.Cancelled })

	c.setJobs(runningJob(7, cancelRequested()))
	i, _ := c.waitReport(t, 0, 7, "running and cancelled", func(r api.TaskReport) bool {
		return r.State == api.TaskRunning && r.Cancelled
	})
	// The task ignores SIGTERM for a while: several syncs pass, each
	// listing the job as cancelled, but it is killed only once.
	c.waitSyncs(t, i, 5)
	if n := rt.killCount(); n != 1 {
		t.Errorf("Kill called %d times, want once", n)
	}
	// Then it dies of the SIGKILL.
	if err := rt.Finish("job-7", runtime.Status{Killed: true, Signal: 9, ExitCode: 137}); err != nil {
		t.Fatal(err)
	}
	_, r := c.waitReport(t, i, 7, "exited", func(r api.TaskReport) bool { return r.State == api.TaskExited })
	if !r.Cancelled || r.Signal != 9 {
		t.Errorf("exit report %+v: want Cancelled and signal 9", r)
	}
}

func TestAgentCancelWithRealKill(t *testing.T) {
	c := newController(runningJob(7))
	rt := fake.New()
	startAgent(t, c, rt)
	waitStarted(t, rt, "job-7")
	c.setJobs(runningJob(7, cancelRequested()))
	_, r := c.waitReport(t, 0, 7, "exited", func(r api.TaskReport) bool { return r.State == api.TaskExited })
	if !r.Cancelled {
		t.Errorf("report %+v: want Cancelled", r)
	}
	if got := rt.Kills("job-7"); !slices.Equal(got, []time.Duration{killGrace}) {
		t.Errorf("kills %v, want one with the kill grace", got)
	}
}

func TestAgentCancelBeforeStart(t *testing.T) {
	c := newController(runningJob(7, cancelRequested()))
	rt := fake.New()
	startAgent(t, c, rt)
	_, r := c.waitReport(t, 0, 7, "exited", func(r api.TaskReport) bool { return r.State == api.TaskExited })
	if !r.Cancelled || r.Error != "" {
		t.Errorf("report %+v: want a cancelled exit", r)
	}
	if n := len(rt.Starts()); n != 0 {
		t.Errorf("a job cancelled before its start was started (%d starts)", n)
	}
	c.update(func(c *fakeController) { c.jobs, c.acks = nil, []api.TaskRef{{JobID: 7}} })
	waitUntil(t, "the report dropped after the ack", func() bool {
		n := c.syncCount()
		_, found := c.report(n-1, 7)
		return !found
	})
}

func TestAgentKillsOrphans(t *testing.T) {
	c := newController(runningJob(7), runningJob(8))
	rt := fake.New()
	// A task an earlier agent started, which the controller does not know.
	rt.Add(runtime.TaskSpec{ID: "job-5", JobID: 5}, runtime.Status{Running: true, StartedAt: time.Now()})
	startAgent(t, c, rt)
	waitStarted(t, rt, "job-7")
	waitStarted(t, rt, "job-8")
	c.waitReport(t, 0, 8, "running", func(r api.TaskReport) bool { return r.State == api.TaskRunning })

	c.setJobs(runningJob(8)) // 7 is no longer this node's
	for _, id := range []string{"job-5", "job-7"} {
		waitUntil(t, id+" killed", func() bool { return len(rt.Kills(id)) > 0 })
		if got := rt.Kills(id); !slices.Equal(got, []time.Duration{killGrace}) {
			t.Errorf("%s kills %v, want one", id, got)
		}
	}
	n := c.syncCount()
	c.waitSyncs(t, n, 3)
	if got := rt.Kills("job-8"); len(got) != 0 {
		t.Errorf("assigned job 8 killed: %v", got)
	}
	if st, _ := rt.Status(context.Background(), "job-8"); !st.Running {
		t.Error("job 8 no longer runs")
	}
}

func TestAgentAdoptsRunningTasks(t *testing.T) {
	// After a restart, the runtime still runs job 9: the agent reports it
	// and neither restarts nor kills it.
	c := newController(runningJob(9))
	rt := fake.New()
	rt.Add(runtime.TaskSpec{ID: "job-9", JobID: 9}, runtime.Status{Running: true, StartedAt: time.Now()})
	startAgent(t, c, rt)
	i, _ := c.waitReport(t, 0, 9, "running", func(r api.TaskReport) bool { return r.State == api.TaskRunning })
	c.waitSyncs(t, i, 3)
	if n, k := len(rt.Starts()), len(rt.Kills("job-9")); n != 0 || k != 0 {
		t.Errorf("%d starts and %d kills of an adopted task, want none", n, k)
	}
	// Its end is still noticed.
	if err := rt.Exit("job-9", 4); err != nil {
		t.Fatal(err)
	}
	_, r := c.waitReport(t, i, 9, "exited", func(r api.TaskReport) bool { return r.State == api.TaskExited })
	if r.ExitCode != 4 {
		t.Errorf("report %+v, want exit code 4", r)
	}
}

func TestAgentDeliversSignalsOnce(t *testing.T) {
	sigs := []api.SignalRequest{{Seq: 4, Signal: int(syscall.SIGUSR1)}, {Seq: 6, Signal: int(syscall.SIGUSR2)}}
	c := newController(runningJob(7, withSignals(sigs...)))
	rt := fake.New()
	startAgent(t, c, rt)
	waitStarted(t, rt, "job-7")
	i, _ := c.waitReport(t, 0, 7, "signal seq 6", func(r api.TaskReport) bool { return r.SignalSeq == 6 })
	c.waitSyncs(t, i, 3) // the controller keeps listing them (not yet acked)
	if got := rt.Signals("job-7"); !slices.Equal(got, []syscall.Signal{syscall.SIGUSR1, syscall.SIGUSR2}) {
		t.Fatalf("signals %v, want USR1 USR2 once each", got)
	}
	// The controller drops the acknowledged ones and queues another.
	c.setJobs(runningJob(7, withSignals(api.SignalRequest{Seq: 9, Signal: int(syscall.SIGINT)})))
	i, _ = c.waitReport(t, i, 7, "signal seq 9", func(r api.TaskReport) bool { return r.SignalSeq == 9 })
	c.waitSyncs(t, i, 3)
	if got := rt.Signals("job-7"); !slices.Equal(got, []syscall.Signal{syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGINT}) {
		t.Errorf("signals %v, want USR1 USR2 INT", got)
	}
	// A stale list (older sequence numbers) delivers nothing again.
	c.setJobs(runningJob(7, withSignals(sigs...)))
	c.waitSyncs(t, c.syncCount(), 3)
	if n := len(rt.Signals("job-7")); n != 3 {
		t.Errorf("%d signals after a stale list, want 3", n)
	}
}

func TestAgentReportsStartFailures(t *testing.T) {
	tests := []struct {
		name      string
		job       api.Job
		setup     func(rt *fake.Runtime)
		wantError string
	}{
		{
			name:      "runtime refuses to start",
			job:       runningJob(7),
			setup:     func(rt *fake.Runtime) { rt.SetStartError(errors.New("runc create: boom\nstack trace")) },
			wantError: "runc create: boom",
		},
		{
			name:      "task recorded as failed by the runtime",
			job:       runningJob(7),
			setup:     func(rt *fake.Runtime) { rt.FailStart("job-7", "exec format error") },
			wantError: "exec format error",
		},
		{
			name:      "GPU not on this node",
			job:       runningJob(7, withGPUs(1, 9)),
			setup:     func(*fake.Runtime) {},
			wantError: "GPU 9 is not on node n1",
		},
		{
			name:      "root uid for a non-root user",
			job:       runningJob(7, func(j *api.Job) { j.UID = 0 }),
			setup:     func(*fake.Runtime) {},
			wantError: `uid 0 with user "alice"`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newController(tt.job)
			rt := fake.New()
			tt.setup(rt)
			startAgent(t, c, rt)
			_, r := c.waitReport(t, 0, 7, "failed", func(r api.TaskReport) bool { return r.Error != "" })
			if r.State != api.TaskExited || r.ExitCode == 0 || !strings.Contains(r.Error, tt.wantError) || strings.Contains(r.Error, "\n") {
				t.Errorf("report %+v, want an exit with a one-line error containing %q", r, tt.wantError)
			}
		})
	}
}

func TestAgentRegistersAgain(t *testing.T) {
	c := newController()
	c.failRegisters = 1 // the controller is not ready at first
	rt := fake.New()
	startAgent(t, c, rt)
	c.waitSyncs(t, 0, 1)
	if n := c.registerCount(); n != 2 {
		t.Fatalf("%d registrations before the first sync, want 2 (one failed)", n)
	}
	c.update(func(c *fakeController) { c.reregister = true })
	waitUntil(t, "a third registration", func() bool { return c.registerCount() == 3 })
	n := c.syncCount()
	c.waitSyncs(t, n, 3)
	if got := c.registerCount(); got != 3 {
		t.Errorf("%d registrations, want 3: one Reregister answer gives one registration", got)
	}
}

func TestTaskIDRoundTrip(t *testing.T) {
	tests := []struct {
		ref api.TaskRef
		id  string
	}{
		{api.TaskRef{JobID: 7}, "job-7"},
		{api.TaskRef{JobID: 7, Attempt: 2}, "job-7.2"},
		{api.TaskRef{JobID: 123456789}, "job-123456789"},
	}
	for _, tc := range tests {
		if got := agent.TaskID(tc.ref.JobID, tc.ref.Attempt); got != tc.id {
			t.Errorf("TaskID(%v) = %q, want %q", tc.ref, got, tc.id)
		}
		if got, ok := agent.ParseTaskID(tc.id); !ok || got != tc.ref {
			t.Errorf("ParseTaskID(%q) = %v, %v", tc.id, got, ok)
		}
	}
	for _, bad := range []string{"", "job-", "job-x", "job-7.0", "job-7.-1", "task-7", "job-7.a"} {
		if _, ok := agent.ParseTaskID(bad); ok {
			t.Errorf("ParseTaskID(%q) accepted", bad)
		}
	}
}

// A requeued job (attempt 1) starts as a new task, in append mode with
// GSCHED_RESTART_COUNT=1, while the old run's task still running is killed
// and reported under its own attempt.
func TestAgentRunsNewAttemptAndKillsOldOne(t *testing.T) {
	c := newController(runningJob(7, func(j *api.Job) { j.Restarts = 1 }))
	rt := fake.New()
	rt.Add(runtime.TaskSpec{ID: "job-7", JobID: 7}, runtime.Status{Running: true, StartedAt: time.Now()})
	startAgent(t, c, rt)
	spec := waitStarted(t, rt, "job-7.1")
	if !spec.Append || envMap(t, spec.Env)["GSCHED_RESTART_COUNT"] != "1" {
		t.Errorf("attempt 1: append %v, env %v", spec.Append, spec.Env)
	}
	waitUntil(t, "old attempt killed", func() bool { return len(rt.Kills("job-7")) > 0 })
	if len(rt.Kills("job-7.1")) != 0 {
		t.Error("the current attempt was killed")
	}
	c.waitReport(t, 0, 7, "old attempt reported as attempt 0", func(r api.TaskReport) bool {
		return r.Attempt == 0 && r.State == api.TaskExited
	})
}

// A job preempted with a grace period is stopped with that grace.
func TestAgentPreemptionUsesJobGrace(t *testing.T) {
	c := newController(runningJob(7))
	rt := fake.New()
	startAgent(t, c, rt)
	waitStarted(t, rt, "job-7")
	c.setJobs(runningJob(7, func(j *api.Job) { j.State, j.Requeue, j.KillGrace = api.StateCompleting, true, 42 }))
	waitUntil(t, "preempted task killed", func() bool { return len(rt.Kills("job-7")) > 0 })
	if got := rt.Kills("job-7"); !slices.Equal(got, []time.Duration{42 * time.Second}) {
		t.Errorf("kills %v, want one with 42s grace", got)
	}
}
