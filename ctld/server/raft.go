package server

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb/v2"
	"go.etcd.io/bbolt"

	"github.com/gsched/gsched/pkg/fsm"
)

// raftNode is the durability layer: a single-voter raft whose log lives in
// bbolt (fsync on every append) and whose snapshots are files, both in the
// state dir. An entry is acknowledged only once it is on disk and applied.
type raftNode struct {
	r     *raft.Raft
	store *raftboltdb.BoltStore
}

func openRaft(dir string, f *fsm.FSM, snapshotThreshold uint64, logOut io.Writer) (*raftNode, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("state dir: %w", err)
	}
	if err := checkBoltFile(filepath.Join(dir, "raft.db")); err != nil {
		return nil, fmt.Errorf("refusing to start: %w; see docs/RELIABILITY.md (recovery)", err)
	}
	store, err := raftboltdb.New(raftboltdb.Options{
		Path:        filepath.Join(dir, "raft.db"),
		BoltOptions: &bbolt.Options{Timeout: 2 * time.Second},
	})
	if err != nil {
		return nil, fmt.Errorf("open raft log %s (is another gctld using this state dir?): %w", filepath.Join(dir, "raft.db"), err)
	}
	snaps, err := raft.NewFileSnapshotStore(dir, 3, logOut)
	if err != nil {
		store.Close()
		return nil, fmt.Errorf("snapshot store: %w", err)
	}
	conf := raft.DefaultConfig()
	conf.LocalID = "gctld"
	conf.HeartbeatTimeout = 200 * time.Millisecond
	conf.ElectionTimeout = 200 * time.Millisecond
	conf.LeaderLeaseTimeout = 100 * time.Millisecond
	conf.CommitTimeout = 5 * time.Millisecond
	conf.SnapshotThreshold = snapshotThreshold
	conf.TrailingLogs = snapshotThreshold
	conf.Logger = hclog.New(&hclog.LoggerOptions{Name: "raft", Level: hclog.Warn, Output: logOut})

	addr, trans := raft.NewInmemTransport("")
	has, err := raft.HasExistingState(store, store, snaps)
	if err != nil {
		store.Close()
		return nil, fmt.Errorf("read raft state: %w", err)
	}
	if !has {
		cfg := raft.Configuration{Servers: []raft.Server{{ID: conf.LocalID, Address: addr, Suffrage: raft.Voter}}}
		if err := raft.BootstrapCluster(conf, store, store, snaps, trans, cfg); err != nil {
			store.Close()
			return nil, fmt.Errorf("bootstrap raft: %w", err)
		}
	}
	r, err := raft.NewRaft(conf, f, store, store, snaps, trans)
	if err != nil {
		store.Close()
		if strings.Contains(err.Error(), "snapshot") {
			// The log before the snapshot is compacted away: starting
			// without it would silently lose state.
			return nil, fmt.Errorf("refusing to start: no snapshot in %s can be read (corrupt or truncated): %w; see docs/RELIABILITY.md (recovery)",
				filepath.Join(dir, "snapshots"), err)
		}
		return nil, fmt.Errorf("start raft: %w", err)
	}
	deadline := time.Now().Add(15 * time.Second)
	for r.State() != raft.Leader {
		if time.Now().After(deadline) {
			r.Shutdown()
			store.Close()
			return nil, fmt.Errorf("raft: no leadership after 15s (state %s)", r.State())
		}
		time.Sleep(10 * time.Millisecond)
	}
	// Make sure every committed entry is applied before serving.
	if err := r.Barrier(15 * time.Second).Error(); err != nil {
		r.Shutdown()
		store.Close()
		return nil, fmt.Errorf("raft barrier: %w", err)
	}
	return &raftNode{r: r, store: store}, nil
}

func (n *raftNode) close() error {
	err := n.r.Shutdown().Error()
	if cerr := n.store.Close(); err == nil {
		err = cerr
	}
	return err
}
