package state

import (
	"fmt"
	"slices"
	"sort"
	"sync"
	"time"

	memdb "github.com/hashicorp/go-memdb"

	"github.com/gsched/gsched/pkg/api"
	"github.com/gsched/gsched/pkg/sched/fairshare"
)

// Store holds the memdb. Restoring a raft snapshot swaps in a whole new
// database; readers blocked on the old one are woken through Abandoned().
type Store struct {
	mu      sync.RWMutex
	db      *memdb.MemDB
	abandon chan struct{}
	hook    jobHook
}

// New returns an empty store.
func New() (*Store, error) {
	db, err := memdb.NewMemDB(schema())
	if err != nil {
		return nil, fmt.Errorf("state schema: %w", err)
	}
	return &Store{db: db, abandon: make(chan struct{})}, nil
}

// Snapshot returns a read-only view at this instant.
func (s *Store) Snapshot() *Snapshot {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return &Snapshot{txn: s.db.Txn(false), abandon: s.abandon}
}

// Write runs fn in a write transaction and commits it unless fn fails.
// Only the FSM calls it.
func (s *Store) Write(fn func(*Txn) error) error {
	s.mu.RLock()
	db := s.db
	s.mu.RUnlock()
	txn := db.Txn(true)
	defer txn.Abort()
	committed := s.hook.track(txn)
	if err := fn(&Txn{txn: txn}); err != nil {
		return err
	}
	txn.Commit()
	committed()
	return nil
}

// Replace swaps in the contents given (a snapshot restore).
func (s *Store) Replace(meta []Meta, nodes []*api.Node, jobs []*api.Job, usage []Usage, steps []*api.Step) error {
	db, err := memdb.NewMemDB(schema())
	if err != nil {
		return fmt.Errorf("state schema: %w", err)
	}
	// A damaged snapshot may hold nulls; memdb would panic on them.
	if slices.Contains(nodes, nil) || slices.Contains(jobs, nil) || slices.Contains(steps, nil) {
		return fmt.Errorf("restore: the snapshot holds an empty node, job or step entry")
	}
	txn := db.Txn(true)
	for i := range meta {
		m := meta[i]
		if err := txn.Insert(TableMeta, &m); err != nil {
			txn.Abort()
			return fmt.Errorf("restore meta: %w", err)
		}
	}
	for _, n := range nodes {
		if err := txn.Insert(TableNodes, n); err != nil {
			txn.Abort()
			return fmt.Errorf("restore node: %w", err)
		}
	}
	for _, j := range jobs {
		if err := txn.Insert(TableJobs, j); err != nil {
			txn.Abort()
			return fmt.Errorf("restore job %d: %w", j.ID, err)
		}
	}
	for i := range usage {
		u := usage[i]
		u.Key = UsageKey(u.Assoc)
		if err := txn.Insert(TableUsage, &u); err != nil {
			txn.Abort()
			return fmt.Errorf("restore usage: %w", err)
		}
	}
	for _, st := range steps {
		if err := txn.Insert(TableSteps, st); err != nil {
			txn.Abort()
			return fmt.Errorf("restore step %s: %w", st.Key(), err)
		}
	}
	txn.Commit()
	s.mu.Lock()
	old := s.abandon
	s.db = db
	s.abandon = make(chan struct{})
	s.mu.Unlock()
	close(old)
	return nil
}

// Snapshot is a consistent read-only view. Its watch methods add channels
// to a memdb.WatchSet that fire when what was read changes.
type Snapshot struct {
	txn     *memdb.Txn
	abandon chan struct{}
}

// Abandoned is closed when the store is replaced by a snapshot restore.
func (s *Snapshot) Abandoned() <-chan struct{} { return s.abandon }

// Job returns a job, or nil.
func (s *Snapshot) Job(ws memdb.WatchSet, id api.JobID) *api.Job {
	ch, obj, err := s.txn.FirstWatch(TableJobs, IndexID, uint64(id))
	if ws != nil {
		ws.Add(ch)
	}
	if err != nil || obj == nil {
		return nil
	}
	return obj.(*api.Job)
}

// Jobs returns every job, in ID order.
func (s *Snapshot) Jobs() []*api.Job {
	it, err := s.txn.Get(TableJobs, IndexID)
	if err != nil {
		return nil
	}
	return collectJobs(nil, it)
}

// JobsBy returns the jobs whose index (IndexState, IndexUser or
// IndexNode) equals value, in ID order.
func (s *Snapshot) JobsBy(ws memdb.WatchSet, index, value string) []*api.Job {
	var jobs []*api.Job
	get := func(index string, args ...any) bool {
		it, err := s.txn.Get(TableJobs, index, args...)
		if err != nil {
			return false
		}
		if ws != nil {
			ws.Add(it.WatchCh())
		}
		jobs = collectJobs(jobs, it)
		return true
	}
	switch index {
	case IndexState:
		get(IndexStateUser, value)
	case IndexUser:
		// One key under each state present (IndexStateUser): find the
		// next state from the lowest key past the last one looked at.
		// A lower-bound seek cannot be watched, and the user may appear
		// in a state nobody is in yet: a watcher wakes on any change to
		// the jobs table (early wake-ups, never a missed one).
		if ws != nil {
			if it, err := s.txn.Get(TableJobs, IndexID); err == nil {
				ws.Add(it.WatchCh())
			}
		}
		next := ""
		for {
			it, err := s.txn.LowerBound(TableJobs, IndexStateUser, next)
			if err != nil {
				return nil
			}
			first := it.Next()
			if first == nil {
				break
			}
			st := string(first.(*api.Job).State)
			get(IndexStateUser, st, value)
			// Every key of state st starts "st\x00"; "st\x01" is past them.
			next = st + "\x01"
		}
	default:
		if !get(index, value) {
			return nil
		}
	}
	return sortByID(jobs)
}

// sortByID orders jobs by ID. The index yields them as runs already in
// ID order (a state's jobs user by user, a user's state by state), so
// merging the runs costs O(n log runs), and one run a single check. The
// merges work on (ID, job) pairs read once, not through the pointers: a
// general sort of a million pending jobs of 100 users, every scheduling
// pass, took 530 ms, merging through the pointers 230 ms, this ~60 ms.
func sortByID(jobs []*api.Job) []*api.Job {
	sorted := true
	for i := 1; i < len(jobs) && sorted; i++ {
		sorted = jobs[i-1].ID <= jobs[i].ID
	}
	if sorted {
		return jobs
	}
	src := make([]byID, len(jobs))
	bounds := []int{0} // where each run starts, then the end
	for i, j := range jobs {
		src[i] = byID{j.ID, j}
		if i > 0 && j.ID < src[i-1].id {
			bounds = append(bounds, i)
		}
	}
	bounds = append(bounds, len(jobs))
	dst := make([]byID, len(jobs))
	for len(bounds) > 2 {
		next := []int{0}
		for r := 0; r+1 < len(bounds); r += 2 {
			lo, mid := bounds[r], bounds[r+1]
			if r+2 == len(bounds) { // the odd run out
				copy(dst[lo:mid], src[lo:mid])
				next = append(next, mid)
				continue
			}
			hi := bounds[r+2]
			mergeByID(dst[lo:hi], src[lo:mid], src[mid:hi])
			next = append(next, hi)
		}
		bounds, src, dst = next, dst, src
	}
	for i := range src {
		jobs[i] = src[i].job
	}
	return jobs
}

// byID is a job with its ID beside it, for sortByID.
type byID struct {
	id  api.JobID
	job *api.Job
}

// mergeByID merges a and b, each in ID order, into out (len(a)+len(b)).
func mergeByID(out, a, b []byID) {
	i, j, k := 0, 0, 0
	for i < len(a) && j < len(b) {
		if b[j].id < a[i].id {
			out[k] = b[j]
			j++
		} else {
			out[k] = a[i]
			i++
		}
		k++
	}
	k += copy(out[k:], a[i:])
	copy(out[k:], b[j:])
}

func collectJobs(out []*api.Job, it memdb.ResultIterator) []*api.Job {
	for obj := it.Next(); obj != nil; obj = it.Next() {
		out = append(out, obj.(*api.Job))
	}
	return out
}

// Node returns a node, or nil.
func (s *Snapshot) Node(name string) *api.Node {
	obj, err := s.txn.First(TableNodes, IndexID, name)
	if err != nil || obj == nil {
		return nil
	}
	return obj.(*api.Node)
}

// Nodes returns every node, by name.
func (s *Snapshot) Nodes() []*api.Node {
	it, err := s.txn.Get(TableNodes, IndexID)
	if err != nil {
		return nil
	}
	var out []*api.Node
	for obj := it.Next(); obj != nil; obj = it.Next() {
		out = append(out, obj.(*api.Node))
	}
	return out
}

// Step returns a step by job and number, or nil; with ws it watches it.
func (s *Snapshot) Step(ws memdb.WatchSet, job api.JobID, step int) *api.Step {
	ch, obj, err := s.txn.FirstWatch(TableSteps, IndexID, api.StepKey(job, step))
	if ws != nil {
		ws.Add(ch)
	}
	if err != nil || obj == nil {
		return nil
	}
	return obj.(*api.Step)
}

// StepsOf returns a job's steps in order; with ws it watches them.
func (s *Snapshot) StepsOf(ws memdb.WatchSet, job api.JobID) []*api.Step {
	it, err := s.txn.Get(TableSteps, IndexJob, uint64(job))
	if err != nil {
		return nil
	}
	if ws != nil {
		ws.Add(it.WatchCh())
	}
	var out []*api.Step
	for obj := it.Next(); obj != nil; obj = it.Next() {
		out = append(out, obj.(*api.Step))
	}
	slices.SortFunc(out, func(a, b *api.Step) int { return a.ID - b.ID })
	return out
}

// Steps returns every step.
func (s *Snapshot) Steps() []*api.Step {
	it, err := s.txn.Get(TableSteps, IndexID)
	if err != nil {
		return nil
	}
	var out []*api.Step
	for obj := it.Next(); obj != nil; obj = it.Next() {
		out = append(out, obj.(*api.Step))
	}
	return out
}

// Meta returns a counter (0 when unset).
func (s *Snapshot) Meta(key string) uint64 { return metaGet(s.txn, key) }

// AllMeta returns every counter.
func (s *Snapshot) AllMeta() []Meta {
	it, err := s.txn.Get(TableMeta, IndexID)
	if err != nil {
		return nil
	}
	var out []Meta
	for obj := it.Next(); obj != nil; obj = it.Next() {
		out = append(out, *obj.(*Meta))
	}
	return out
}

// AllUsage returns every association's stored usage, by key.
func (s *Snapshot) AllUsage() []Usage {
	it, err := s.txn.Get(TableUsage, IndexID)
	if err != nil {
		return nil
	}
	var out []Usage
	for obj := it.Next(); obj != nil; obj = it.Next() {
		out = append(out, *obj.(*Usage))
	}
	return out
}

// Usage sums what live jobs hold on each node.
func (s *Snapshot) Usage() map[string]api.NodeUsage {
	out := map[string]api.NodeUsage{}
	for _, st := range []api.JobState{api.StateRunning, api.StateCompleting} {
		for _, j := range s.JobsBy(nil, IndexState, string(st)) {
			for i := range j.Allocs {
				a := &j.Allocs[i]
				if a.Done {
					continue // that node's share is free again
				}
				u := out[a.Node]
				u.Add(a)
				out[a.Node] = u
			}
		}
	}
	for k, u := range out {
		sort.Ints(u.GPUs)
		out[k] = u
	}
	return out
}

func metaGet(txn *memdb.Txn, key string) uint64 {
	obj, err := txn.First(TableMeta, IndexID, key)
	if err != nil || obj == nil {
		return 0
	}
	return obj.(*Meta).Value
}

// Txn is a write transaction. Objects read from it must not be modified
// in place: copy, change, then Put.
type Txn struct{ txn *memdb.Txn }

// Snapshot gives read access inside the write transaction.
func (t *Txn) Snapshot() *Snapshot { return &Snapshot{txn: t.txn} }

// PutJob inserts or replaces a job.
func (t *Txn) PutJob(j *api.Job) error {
	if err := t.txn.Insert(TableJobs, j); err != nil {
		return fmt.Errorf("put job %d: %w", j.ID, err)
	}
	return nil
}

// DeleteJob removes a job.
func (t *Txn) DeleteJob(j *api.Job) error {
	if err := t.txn.Delete(TableJobs, j); err != nil {
		return fmt.Errorf("delete job %d: %w", j.ID, err)
	}
	return nil
}

// PutStep inserts or replaces a step.
func (t *Txn) PutStep(st *api.Step) error {
	if err := t.txn.Insert(TableSteps, st); err != nil {
		return fmt.Errorf("put step %s: %w", st.Key(), err)
	}
	return nil
}

// DeleteSteps removes every step of a job.
func (t *Txn) DeleteSteps(job api.JobID) error {
	if _, err := t.txn.DeleteAll(TableSteps, IndexJob, uint64(job)); err != nil {
		return fmt.Errorf("delete steps of job %d: %w", job, err)
	}
	return nil
}

// PutNode inserts or replaces a node.
func (t *Txn) PutNode(n *api.Node) error {
	if err := t.txn.Insert(TableNodes, n); err != nil {
		return fmt.Errorf("put node %s: %w", n.Name, err)
	}
	return nil
}

// Charge adds amount to an association's usage at time at, first decaying
// the stored value from its own time with the half-life.
func (t *Txn) Charge(a api.Assoc, amount float64, at time.Time, halfLife time.Duration) error {
	key := UsageKey(a)
	u := Usage{Key: key, Assoc: a, At: at}
	if obj, err := t.txn.First(TableUsage, IndexID, key); err == nil && obj != nil {
		old := obj.(*Usage)
		u.Value = fairshare.Decay(old.Value, at.Sub(old.At), halfLife)
		if at.Before(old.At) {
			u.At = old.At
		}
	}
	u.Value += amount
	if err := t.txn.Insert(TableUsage, &u); err != nil {
		return fmt.Errorf("charge %s: %w", key, err)
	}
	return nil
}

// NextMeta increments a counter and returns its new value.
func (t *Txn) NextMeta(key string) (uint64, error) {
	v := metaGet(t.txn, key) + 1
	if err := t.txn.Insert(TableMeta, &Meta{Key: key, Value: v}); err != nil {
		return 0, fmt.Errorf("meta %s: %w", key, err)
	}
	return v, nil
}
