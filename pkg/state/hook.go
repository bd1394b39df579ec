package state

import (
	"sync/atomic"

	memdb "github.com/hashicorp/go-memdb"

	"github.com/gsched/gsched/pkg/api"
)

// JobHook sees each job a committed write transaction changed: before is
// nil for a new job, after is nil for a deleted one. It runs in the
// writer (the FSM) and must be quick.
type JobHook func(before, after *api.Job)

// jobHook is the store's hook (see SetJobHook).
type jobHook struct{ p atomic.Pointer[JobHook] }

// SetJobHook installs fn (nil removes it). Transactions committed from
// then on report their job changes to it; a snapshot restore (Replace)
// does not.
func (s *Store) SetJobHook(fn JobHook) {
	if fn == nil {
		s.hook.p.Store(nil)
		return
	}
	s.hook.p.Store(&fn)
}

// track turns on change tracking when a hook is installed, and returns
// what to call once the transaction has committed.
func (h *jobHook) track(txn *memdb.Txn) func() {
	fn := h.p.Load()
	if fn == nil {
		return func() {}
	}
	txn.TrackChanges()
	return func() {
		for _, c := range txn.Changes() {
			if c.Table != TableJobs {
				continue
			}
			before, _ := c.Before.(*api.Job)
			after, _ := c.After.(*api.Job)
			(*fn)(before, after)
		}
	}
}
