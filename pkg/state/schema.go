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

	IndexID        = "id"
	IndexState     = "state"
	IndexUser      = "user"
	IndexPartition = "partition"
	IndexNode      = "node"
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
	}}
}

func jobsTable() *memdb.TableSchema {
	return &memdb.TableSchema{
		Name: TableJobs,
		Indexes: map[string]*memdb.IndexSchema{
			IndexID: {Name: IndexID, Unique: true, Indexer: &memdb.UintFieldIndex{Field: "ID"}},
			IndexState: {Name: IndexState, Indexer: stringFunc(func(j *api.Job) (string, bool) {
				return string(j.State), true
			})},
			IndexUser: {Name: IndexUser, Indexer: stringFunc(func(j *api.Job) (string, bool) {
				return j.User, true
			})},
			IndexPartition: {Name: IndexPartition, Indexer: stringFunc(func(j *api.Job) (string, bool) {
				return j.Spec.Partition, true
			})},
			IndexNode: {Name: IndexNode, AllowMissing: true, Indexer: stringFunc(func(j *api.Job) (string, bool) {
				if j.Alloc == nil || j.State.Final() {
					return "", false
				}
				return j.Alloc.Node, true
			})},
		},
	}
}

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
