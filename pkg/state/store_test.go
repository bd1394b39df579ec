package state_test

import (
	"context"
	"math"
	"math/rand"
	"reflect"
	"slices"
	"testing"
	"time"

	memdb "github.com/hashicorp/go-memdb"

	"github.com/gsched/gsched/pkg/api"
	"github.com/gsched/gsched/pkg/state"
)

// ---- builders ----

type jobOpt func(*api.Job)

func job(id api.JobID, opts ...jobOpt) *api.Job {
	j := &api.Job{ID: id, User: "alice", State: api.StatePending, Spec: &api.JobSpec{Partition: "main"}}
	for _, o := range opts {
		o(j)
	}
	return j
}

func user(u string) jobOpt          { return func(j *api.Job) { j.User = u } }
func inState(s api.JobState) jobOpt { return func(j *api.Job) { j.State = s } }
func part(p string) jobOpt          { return func(j *api.Job) { j.Spec.Partition = p } }
func on(node string, cpus int, mem int64, gpus ...int) jobOpt {
	return func(j *api.Job) {
		j.Allocs = []api.Allocation{{Node: node, CPUs: cpus, MemBytes: mem, GPUs: gpus}}
	}
}

func newStore(t *testing.T, jobs ...*api.Job) *state.Store {
	t.Helper()
	s, err := state.New()
	if err != nil {
		t.Fatal(err)
	}
	put(t, s, jobs...)
	return s
}

func put(t *testing.T, s *state.Store, jobs ...*api.Job) {
	t.Helper()
	err := s.Write(func(txn *state.Txn) error {
		for _, j := range jobs {
			if err := txn.PutJob(j); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func ids(jobs []*api.Job) []api.JobID {
	out := []api.JobID{}
	for _, j := range jobs {
		out = append(out, j.ID)
	}
	return out
}

// ---- tests ----

func TestJobsBy(t *testing.T) {
	s := newStore(t,
		job(7, user("bob")),
		job(1),
		job(3, inState(api.StateRunning), on("n1", 1, 1)),
		job(4, inState(api.StateCompleting), on("n1", 1, 1), user("bob")),
		job(5, inState(api.StateCompleted), on("n1", 1, 1), part("gpu")), // final: not on the node any more
		job(6, inState(api.StateRunning), on("n2", 1, 1), part("gpu")),
		job(2, inState(api.StateNodeFail), on("n1", 1, 1)),
		job(300, user("bob")), // beyond one byte: index order must stay numeric
		// A user whose name starts with another's, and a state not in
		// api.AllJobStates: a user lookup walks the states present.
		job(8, user("bobby"), inState(api.StateTimeout)),
		job(9, user("bob"), inState("SOME_NEW_STATE")),
		job(10, user("bo"), inState(api.StateFailed)),
	)
	snap := s.Snapshot()
	tests := []struct {
		index, value string
		want         []api.JobID
	}{
		{state.IndexState, "PENDING", []api.JobID{1, 7, 300}},
		{state.IndexState, "RUNNING", []api.JobID{3, 6}},
		{state.IndexState, "COMPLETING", []api.JobID{4}},
		{state.IndexState, "FAILED", []api.JobID{10}},
		{state.IndexState, "CANCELLED", []api.JobID{}},
		{state.IndexState, "COMPLETED", []api.JobID{5}},
		{state.IndexState, "COMPLETE", []api.JobID{}},
		{state.IndexUser, "alice", []api.JobID{1, 2, 3, 5, 6}},
		{state.IndexUser, "bob", []api.JobID{4, 7, 9, 300}},
		{state.IndexUser, "bobby", []api.JobID{8}},
		{state.IndexUser, "bo", []api.JobID{10}},
		{state.IndexUser, "carol", []api.JobID{}},
		{state.IndexNode, "n1", []api.JobID{3, 4}},
		{state.IndexNode, "n2", []api.JobID{6}},
		{state.IndexNode, "n3", []api.JobID{}},
	}
	for _, tt := range tests {
		t.Run(tt.index+"="+tt.value, func(t *testing.T) {
			if got := ids(snap.JobsBy(nil, tt.index, tt.value)); !slices.Equal(got, tt.want) {
				t.Errorf("JobsBy(%s, %s) = %v, want %v", tt.index, tt.value, got, tt.want)
			}
		})
	}
	if got := ids(snap.JobsBy(nil, "no-such-index", "x")); len(got) != 0 {
		t.Errorf("unknown index: %v, want nothing", got)
	}
}

func TestJobsInIDOrder(t *testing.T) {
	var jobs []*api.Job
	var want []api.JobID
	for i := 1; i <= 600; i++ {
		jobs = append(jobs, job(api.JobID(i)))
		want = append(want, api.JobID(i))
	}
	rand.New(rand.NewSource(1)).Shuffle(len(jobs), func(a, b int) { jobs[a], jobs[b] = jobs[b], jobs[a] })
	s := newStore(t, jobs...)
	if got := ids(s.Snapshot().Jobs()); !slices.Equal(got, want) {
		t.Errorf("Jobs() not in ID order: %v", got)
	}
}

func TestUsage(t *testing.T) {
	s := newStore(t,
		job(1, inState(api.StateRunning), on("n1", 4, 100, 3, 1)),
		job(2, inState(api.StateCompleting), on("n1", 2, 50, 0)),
		job(3, inState(api.StateCompleted), on("n1", 8, 800, 2)),
		job(4, inState(api.StateRunning), on("n2", 1, 10)),
		job(5), // pending
	)
	want := map[string]api.NodeUsage{
		"n1": {CPUs: 6, MemBytes: 150, GPUs: []int{0, 1, 3}, Jobs: 2},
		"n2": {CPUs: 1, MemBytes: 10, Jobs: 1},
	}
	if got := s.Snapshot().Usage(); !reflect.DeepEqual(got, want) {
		t.Errorf("Usage() = %+v, want %+v", got, want)
	}
}

func TestNodesAndMeta(t *testing.T) {
	s := newStore(t)
	err := s.Write(func(txn *state.Txn) error {
		for _, n := range []string{"c", "a", "b"} {
			if err := txn.PutNode(&api.Node{Name: n, CPUs: 1}); err != nil {
				return err
			}
		}
		for i := 0; i < 3; i++ {
			if _, err := txn.NextMeta("x"); err != nil {
				return err
			}
		}
		v, err := txn.NextMeta("y")
		if v != 1 {
			t.Errorf("first NextMeta = %d, want 1", v)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	snap := s.Snapshot()
	var names []string
	for _, n := range snap.Nodes() {
		names = append(names, n.Name)
	}
	if !slices.Equal(names, []string{"a", "b", "c"}) {
		t.Errorf("Nodes() = %v, want a b c", names)
	}
	if snap.Node("b") == nil || snap.Node("z") != nil {
		t.Errorf("Node(b) = %v, Node(z) = %v", snap.Node("b"), snap.Node("z"))
	}
	if got := snap.Meta("x"); got != 3 {
		t.Errorf("Meta(x) = %d, want 3", got)
	}
	if got := snap.Meta("unset"); got != 0 {
		t.Errorf("Meta(unset) = %d, want 0", got)
	}
	if got, want := snap.AllMeta(), []state.Meta{{Key: "x", Value: 3}, {Key: "y", Value: 1}}; !reflect.DeepEqual(got, want) {
		t.Errorf("AllMeta() = %v, want %v", got, want)
	}
}

func TestWriteRollsBackOnError(t *testing.T) {
	s := newStore(t, job(1))
	err := s.Write(func(txn *state.Txn) error {
		if err := txn.PutJob(job(2)); err != nil {
			return err
		}
		return context.Canceled
	})
	if err != context.Canceled {
		t.Fatalf("Write = %v, want the function's error", err)
	}
	if got := ids(s.Snapshot().Jobs()); !slices.Equal(got, []api.JobID{1}) {
		t.Errorf("jobs after failed write = %v, want [1]", got)
	}
}

func TestSnapshotIsolation(t *testing.T) {
	s := newStore(t, job(1))
	snap := s.Snapshot()
	put(t, s, job(1, inState(api.StateCancelled)), job(2))
	if got := snap.Job(nil, 1).State; got != api.StatePending {
		t.Errorf("old snapshot sees state %s, want PENDING", got)
	}
	if snap.Job(nil, 2) != nil {
		t.Error("old snapshot sees job 2 written after it")
	}
	if got := s.Snapshot().Job(nil, 1).State; got != api.StateCancelled {
		t.Errorf("new snapshot sees state %s, want CANCELLED", got)
	}
}

// fired reports whether ws fires within d.
func fired(ws memdb.WatchSet, d time.Duration) bool {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	return ws.WatchCtx(ctx) == nil
}

func TestJobWatch(t *testing.T) {
	s := newStore(t, job(1), job(2))

	ws := memdb.NewWatchSet()
	if s.Snapshot().Job(ws, 1) == nil {
		t.Fatal("job 1 missing")
	}
	put(t, s, job(2, inState(api.StateCancelled)))
	if fired(ws, 50*time.Millisecond) {
		t.Error("watch on job 1 fired when job 2 changed")
	}
	put(t, s, job(1, inState(api.StateCancelled)))
	if !fired(ws, 5*time.Second) {
		t.Error("watch on job 1 did not fire when job 1 changed")
	}

	// A watch on a job that does not exist yet fires when it appears.
	ws = memdb.NewWatchSet()
	if s.Snapshot().Job(ws, 3) != nil {
		t.Fatal("job 3 exists")
	}
	put(t, s, job(3))
	if !fired(ws, 5*time.Second) {
		t.Error("watch on missing job 3 did not fire when it was created")
	}
}

func TestJobsByWatch(t *testing.T) {
	s := newStore(t, job(1, user("bob")))
	ws := memdb.NewWatchSet()
	s.Snapshot().JobsBy(ws, state.IndexUser, "bob")
	put(t, s, job(2, user("bob")))
	if !fired(ws, 5*time.Second) {
		t.Error("watch on user bob's jobs did not fire when bob submitted")
	}
	// A user with no job yet, whose first one lands in a state no job
	// is in.
	ws = memdb.NewWatchSet()
	s.Snapshot().JobsBy(ws, state.IndexUser, "dan")
	put(t, s, job(3, user("dan"), inState(api.StateRunning), on("n1", 1, 1)))
	if !fired(ws, 5*time.Second) {
		t.Error("watch on user dan's jobs did not fire when dan's first job appeared")
	}
}

func TestReplaceAbandonsSnapshots(t *testing.T) {
	s := newStore(t, job(1), job(2))
	old := s.Snapshot()
	select {
	case <-old.Abandoned():
		t.Fatal("Abandoned() closed before any restore")
	default:
	}
	err := s.Replace(
		[]state.Meta{{Key: state.MetaNextJobID, Value: 9}},
		[]*api.Node{{Name: "n1"}},
		[]*api.Job{job(9, user("zed"))},
		[]state.Usage{{Assoc: api.Assoc{Account: "a", User: "zed"}, Value: 5, At: t0}},
		[]*api.Step{{JobID: 9, ID: 0, State: api.StepRunning}},
	)
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-old.Abandoned():
	case <-time.After(5 * time.Second):
		t.Fatal("Abandoned() of a snapshot from before the restore not closed")
	}
	fresh := s.Snapshot()
	select {
	case <-fresh.Abandoned():
		t.Fatal("Abandoned() of a snapshot taken after the restore is closed")
	default:
	}
	if got := ids(fresh.Jobs()); !slices.Equal(got, []api.JobID{9}) {
		t.Errorf("jobs after Replace = %v, want [9]", got)
	}
	if got := ids(fresh.JobsBy(nil, state.IndexUser, "zed")); !slices.Equal(got, []api.JobID{9}) {
		t.Errorf("user index after Replace = %v, want [9]", got)
	}
	if fresh.Node("n1") == nil || fresh.Meta(state.MetaNextJobID) != 9 {
		t.Errorf("node/meta not restored: %v %d", fresh.Node("n1"), fresh.Meta(state.MetaNextJobID))
	}
	if got := ids(old.Jobs()); !slices.Equal(got, []api.JobID{1, 2}) {
		t.Errorf("old snapshot changed by Replace: %v", got)
	}
}

func TestChargeDecaysThenAdds(t *testing.T) {
	s, err := state.New()
	if err != nil {
		t.Fatal(err)
	}
	a := api.Assoc{Account: "phys", User: "alice"}
	hl := time.Hour
	steps := []struct {
		at     time.Duration
		amount float64
		want   float64
	}{
		{0, 100, 100},
		{time.Hour, 10, 60},        // 100 halves to 50, +10
		{3 * time.Hour, 0, 15},     // two more half-lives: 60/4
		{2 * time.Hour, 5, 15 + 5}, // an older timestamp does not decay backwards
	}
	for i, st := range steps {
		if err := s.Write(func(tx *state.Txn) error { return tx.Charge(a, st.amount, t0.Add(st.at), hl) }); err != nil {
			t.Fatal(err)
		}
		u := s.Snapshot().AllUsage()
		if len(u) != 1 || u[0].Assoc != a || math.Abs(u[0].Value-st.want) > 1e-9 {
			t.Fatalf("step %d: usage %+v, want %v", i, u, st.want)
		}
	}
}

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
