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

	"github.com/gsched/gsched/pkg/config"
	"github.com/gsched/gsched/pkg/fsm"
)

// raftNode is the durability layer: a raft whose log lives in bbolt
// (fsync on every append) and whose snapshots are files, both in the state
// dir. An entry is acknowledged only once it is on disk (on a majority of
// the controllers, with HA) and applied.
type raftNode struct {
	r      *raft.Raft
	store  *raftboltdb.BoltStore
	trans  io.Closer // the TCP transport with HA, else nil
	leader chan bool // leadership changes (HA), else nil
	single bool      // one controller, always the leader
}

// raftOptions configure openRaft.
type raftOptions struct {
	dir               string
	snapshotThreshold uint64
	logOut            io.Writer
	// HA: this controller's id, raft bind address, the whole set, and the
	// cluster key for the transport's identity. No peers: single voter.
	id    string
	bind  string
	peers []config.PeerConfig
	key   []byte
}

func openRaft(f *fsm.FSM, o raftOptions) (*raftNode, error) {
	dir, snapshotThreshold, logOut := o.dir, o.snapshotThreshold, o.logOut
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

	node := &raftNode{store: store, single: len(o.peers) == 0}
	var trans raft.Transport
	servers := []raft.Server{}
	if node.single {
		var addr raft.ServerAddress
		addr, trans = raft.NewInmemTransport("")
		servers = append(servers, raft.Server{ID: conf.LocalID, Address: addr, Suffrage: raft.Voter})
	} else {
		conf.LocalID = raft.ServerID(o.id)
		// Loopback and LAN timings; a new leader within about a second.
		conf.HeartbeatTimeout = 500 * time.Millisecond
		conf.ElectionTimeout = 500 * time.Millisecond
		conf.LeaderLeaseTimeout = 250 * time.Millisecond
		node.leader = make(chan bool, 16)
		conf.NotifyCh = node.leader
		var self config.PeerConfig
		for _, p := range o.peers {
			servers = append(servers, raft.Server{ID: raft.ServerID(p.ID), Address: raft.ServerAddress(p.Raft), Suffrage: raft.Voter})
			if p.ID == o.id {
				self = p
			}
		}
		if self.ID == "" {
			store.Close()
			return nil, fmt.Errorf("controller id %q is not among controller.peer", o.id)
		}
		stream, err := newTLSStream(o.bind, self.Raft, o.key)
		if err != nil {
			store.Close()
			return nil, err
		}
		nt := raft.NewNetworkTransport(stream, 3, 5*time.Second, logOut)
		trans, node.trans = nt, nt
	}
	has, err := raft.HasExistingState(store, store, snaps)
	if err != nil {
		node.closeTransport()
		store.Close()
		return nil, fmt.Errorf("read raft state: %w", err)
	}
	if !has {
		// Every controller of a new set bootstraps with the same
		// configuration; raft then elects one leader.
		if err := raft.BootstrapCluster(conf, store, store, snaps, trans, raft.Configuration{Servers: servers}); err != nil {
			node.closeTransport()
			store.Close()
			return nil, fmt.Errorf("bootstrap raft: %w", err)
		}
	}
	r, err := raft.NewRaft(conf, f, store, store, snaps, trans)
	if err != nil {
		node.closeTransport()
		store.Close()
		if strings.Contains(err.Error(), "snapshot") {
			// The log before the snapshot is compacted away: starting
			// without it would silently lose state.
			return nil, fmt.Errorf("refusing to start: no snapshot in %s can be read (corrupt or truncated): %w; see docs/RELIABILITY.md (recovery)",
				filepath.Join(dir, "snapshots"), err)
		}
		return nil, fmt.Errorf("start raft: %w", err)
	}
	node.r = r
	if !node.single {
		// A follower serves (by forwarding) as soon as it runs; the
		// leader catches up in onLeadership before it schedules.
		return node, nil
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
	return node, nil
}

// isLeader reports whether this controller may apply and schedule.
func (n *raftNode) isLeader() bool { return n.r.State() == raft.Leader }

// leaderID is the current leader's id ("" when none is known).
func (n *raftNode) leaderID() string {
	_, id := n.r.LeaderWithID()
	return string(id)
}

func (n *raftNode) closeTransport() {
	if n.trans != nil {
		n.trans.Close()
	}
}

func (n *raftNode) close() error {
	err := n.r.Shutdown().Error()
	n.closeTransport()
	if cerr := n.store.Close(); err == nil {
		err = cerr
	}
	return err
}
