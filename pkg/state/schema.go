// Package state is the controller's in-memory cluster state: go-memdb tables
// of jobs, nodes and counters, with indexes for what gqueue filters on. Only
// the raft FSM writes it (pkg/fsm); readers take consistent snapshots and
// can block on watch channels until something they read changes.
package state

import (
	"fmt"
	"reflect"
	"time"

	memdb "github.com/hashicorp/go-memdb"

	"github.com/gsched/gsched/pkg/api"
)

// Table and index names.
const (
	TableJobs  = "jobs"
	TableNodes = "nodes"
	TableMeta  = "meta"
	TableUsage = "usage"
	TableSteps = "steps"

	IndexID    = "id"
	IndexState = "state"
	IndexUser  = "user"
	IndexNode  = "node"
	IndexJob   = "job"

	// IndexStateUser is the jobs table's one index behind both
	// IndexState and IndexUser lookups (Snapshot.JobsBy): its key is
	// "STATE\x00user\x00", so a state is a prefix and a user is one key
	// under each state.
	IndexStateUser = "state_user"
)

// Meta is a named counter.
type Meta struct {
	Key   string
	Value uint64
}

// Usage is an association's decayed fair-share usage (billing-seconds) as
// of At. Key is UsageKey(Assoc).
type Usage struct {
	Key   string
	Assoc api.Assoc
	Value float64
	At    time.Time
}

// UsageKey is the usage table's key of an association.
func UsageKey(a api.Assoc) string { return a.Account + "/" + a.User }

// Meta keys.
const (
	MetaNextJobID = "next_job_id"
	MetaSignalSeq = "signal_seq"
)

func schema() *memdb.DBSchema {
	return &memdb.DBSchema{Tables: map[string]*memdb.TableSchema{
		TableJobs:  jobsTable(),
		TableNodes: nodesTable(),
		TableMeta:  metaTable(),
		TableUsage: usageTable(),
		TableSteps: stepsTable(),
	}}
}

func jobsTable() *memdb.TableSchema {
	return &memdb.TableSchema{
		Name: TableJobs,
		Indexes: map[string]*memdb.IndexSchema{
			IndexID: {Name: IndexID, Unique: true, Indexer: &memdb.UintFieldIndex{Field: "ID"}},
			// One index for state and user lookups, not one each: every
			// go-memdb index entry of a job costs ~350 bytes (radix node,
			// leaf and a watch channel for each), a third of a pending
			// job's footprint (docs/BENCHMARKS.md, controller memory).
			IndexStateUser: {Name: IndexStateUser, Indexer: stateUserIndex{}},
			// No partition index: nothing looks jobs up by partition
			// often enough to pay its ~330 bytes per job (a listing by
			// partition scans; docs/BENCHMARKS.md, controller memory).
			// A job is on a node while its task there has not ended.
			IndexNode: {Name: IndexNode, AllowMissing: true, Indexer: nodesIndex{}},
		},
	}
}

// stepsTable holds the steps of live jobs, keyed "JOB.STEP".
func stepsTable() *memdb.TableSchema {
	return &memdb.TableSchema{
		Name: TableSteps,
		Indexes: map[string]*memdb.IndexSchema{
			IndexID:  {Name: IndexID, Unique: true, Indexer: stepKey{}},
			IndexJob: {Name: IndexJob, Indexer: &memdb.UintFieldIndex{Field: "JobID"}},
		},
	}
}

// stepKey indexes steps by Step.Key().
type stepKey struct{}

func (stepKey) FromObject(obj any) (bool, []byte, error) {
	s, ok := obj.(*api.Step)
	if !ok {
		return false, nil, fmt.Errorf("index: want *api.Step, got %s", reflect.TypeOf(obj))
	}
	return true, append([]byte(s.Key()), 0), nil
}

func (stepKey) FromArgs(args ...any) ([]byte, error) {
	if len(args) != 1 {
		return nil, fmt.Errorf("index: want one argument, got %d", len(args))
	}
	k, ok := args[0].(string)
	if !ok {
		return nil, fmt.Errorf("index: want a string, got %T", args[0])
	}
	return append([]byte(k), 0), nil
}

// nodesIndex indexes a live job under each node whose allocation is not
// done.
type nodesIndex struct{}

func (nodesIndex) FromObject(obj any) (bool, [][]byte, error) {
	j, ok := obj.(*api.Job)
	if !ok {
		return false, nil, fmt.Errorf("index: want *api.Job, got %s", reflect.TypeOf(obj))
	}
	if j.State.Final() {
		return false, nil, nil
	}
	var out [][]byte
	for i := range j.Allocs {
		if !j.Allocs[i].Done {
			out = append(out, append([]byte(j.Allocs[i].Node), 0))
		}
	}
	return len(out) > 0, out, nil
}

func (nodesIndex) FromArgs(args ...any) ([]byte, error) { return stringFunc(nil).FromArgs(args...) }

func nodesTable() *memdb.TableSchema {
	return &memdb.TableSchema{
		Name: TableNodes,
		Indexes: map[string]*memdb.IndexSchema{
			IndexID: {Name: IndexID, Unique: true, Indexer: &memdb.StringFieldIndex{Field: "Name"}},
		},
	}
}

func metaTable() *memdb.TableSchema {
	return &memdb.TableSchema{
		Name: TableMeta,
		Indexes: map[string]*memdb.IndexSchema{
			IndexID: {Name: IndexID, Unique: true, Indexer: &memdb.StringFieldIndex{Field: "Key"}},
		},
	}
}

func usageTable() *memdb.TableSchema {
	return &memdb.TableSchema{
		Name: TableUsage,
		Indexes: map[string]*memdb.IndexSchema{
			IndexID: {Name: IndexID, Unique: true, Indexer: &memdb.StringFieldIndex{Field: "Key"}},
		},
	}
}

// stateUserIndex keys a job by "STATE\x00user\x00". FromArgs takes a
// state, or a state and a user; go-memdb looks a non-unique index up by
// prefix, so a state alone finds all the jobs in it.
type stateUserIndex struct{}

func (stateUserIndex) FromObject(obj any) (bool, []byte, error) {
	j, ok := obj.(*api.Job)
	if !ok {
		return false, nil, fmt.Errorf("index: want *api.Job, got %s", reflect.TypeOf(obj))
	}
	return true, stateUserKey(string(j.State), j.User, true), nil
}

func (stateUserIndex) FromArgs(args ...any) ([]byte, error) {
	if len(args) < 1 || len(args) > 2 {
		return nil, fmt.Errorf("index: want a state and maybe a user, got %d arguments", len(args))
	}
	var vals [2]string
	for i, a := range args {
		switch v := a.(type) {
		case string:
			vals[i] = v
		case api.JobState:
			vals[i] = string(v)
		default:
			return nil, fmt.Errorf("index: want a string, got %T", a)
		}
	}
	return stateUserKey(vals[0], vals[1], len(args) == 2), nil
}

func stateUserKey(st, user string, withUser bool) []byte {
	k := make([]byte, 0, len(st)+len(user)+2)
	k = append(append(k, st...), 0)
	if withUser {
		k = append(append(k, user...), 0)
	}
	return k
}

// stringFunc is a memdb indexer over a computed string of *api.Job.
type stringFunc func(*api.Job) (string, bool)

func (f stringFunc) FromObject(obj any) (bool, []byte, error) {
	j, ok := obj.(*api.Job)
	if !ok {
		return false, nil, fmt.Errorf("index: want *api.Job, got %s", reflect.TypeOf(obj))
	}
	v, ok := f(j)
	if !ok {
		return false, nil, nil
	}
	return true, append([]byte(v), 0), nil
}

func (f stringFunc) FromArgs(args ...any) ([]byte, error) {
	if len(args) != 1 {
		return nil, fmt.Errorf("index: want one argument, got %d", len(args))
	}
	var s string
	switch v := args[0].(type) {
	case string:
		s = v
	case api.JobState:
		s = string(v)
	default:
		return nil, fmt.Errorf("index: want a string, got %T", args[0])
	}
	return append([]byte(s), 0), nil
}
