package server

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.etcd.io/bbolt"
	"go.uber.org/zap"

	"github.com/gsched/gsched/pkg/api"
	"github.com/gsched/gsched/pkg/fsm"
	"github.com/gsched/gsched/pkg/state"
)

// checkBoltFile accepts a healthy bbolt file, a missing or empty one, and
// one meta page damaged (bbolt falls back to the other); it refuses a file
// cut short or with both meta pages damaged, before bbolt could crash on it.
func TestCheckBoltFile(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.db")
	db, err := bbolt.Open(good, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 200; i++ { // grow it past its first pages
		if err := db.Update(func(tx *bbolt.Tx) error {
			b, err := tx.CreateBucketIfNotExists([]byte("logs"))
			if err != nil {
				return err
			}
			return b.Put([]byte{byte(i), byte(i >> 8)}, make([]byte, 1000))
		}); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	data, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	page := os.Getpagesize()
	for _, tc := range []struct {
		name   string
		mutate func([]byte) []byte // nil: no file
		err    string
	}{
		{"healthy", func(b []byte) []byte { return b }, ""},
		{"missing", nil, ""},
		{"empty", func([]byte) []byte { return []byte{} }, ""},
		{"first meta page damaged", func(b []byte) []byte { b[40] ^= 0xff; return b }, ""},
		{"second meta page damaged", func(b []byte) []byte { b[page+40] ^= 0xff; return b }, ""},
		{"both meta pages damaged", func(b []byte) []byte { b[40] ^= 0xff; b[page+40] ^= 0xff; return b }, "no intact meta page"},
		{"truncated to a page boundary", func(b []byte) []byte { return b[:len(b)/2/page*page] }, "truncated"},
		{"truncated mid-page", func(b []byte) []byte { return b[:len(b)/2/page*page+100] }, "truncated"},
		{"only the first page", func(b []byte) []byte { return b[:page] }, "truncated"},
		{"not bbolt at all", func(b []byte) []byte { return []byte(strings.Repeat("garbage\n", 2000)) }, "not a valid bbolt file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "raft.db")
			if tc.mutate != nil {
				if err := os.WriteFile(p, tc.mutate(append([]byte(nil), data...)), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			err := checkBoltFile(p)
			switch {
			case tc.err == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
				t.Fatalf("err = %v, want %q", err, tc.err)
			}
			if tc.err == "" && tc.mutate != nil {
				// bbolt itself opens what the check accepts.
				db, err := bbolt.Open(p, 0o600, nil)
				if err != nil {
					t.Fatalf("check accepted a file bbolt refuses: %v", err)
				}
				db.Close()
			}
		})
	}
}

// A damaged snapshot is not silently skipped: with the log before it
// compacted away, starting from the log alone would lose jobs, so the
// controller refuses to start and says why.
func TestCorruptSnapshotRefusesStart(t *testing.T) {
	dir := t.TempDir()
	open := func() (*raftNode, *state.Store, error) {
		st, err := state.New()
		if err != nil {
			t.Fatal(err)
		}
		rn, err := openRaft(fsm.New(st, zap.NewNop()), raftOptions{dir: dir, snapshotThreshold: 4, logOut: io.Discard})
		return rn, st, err
	}
	rn, _, err := open()
	if err != nil {
		t.Fatal(err)
	}
	job := api.Job{User: "alice", Spec: &api.JobSpec{Name: "j", Script: "#!/bin/sh\n"}}
	for i := 0; i < 12; i++ {
		b, err := fsm.Encode(&fsm.Command{Type: fsm.CmdSubmit, Submit: &fsm.SubmitCmd{Jobs: []api.Job{job}}})
		if err != nil {
			t.Fatal(err)
		}
		if err := rn.r.Apply(b, 5*time.Second).Error(); err != nil {
			t.Fatal(err)
		}
	}
	if err := rn.r.Snapshot().Error(); err != nil {
		t.Fatal(err)
	}
	if err := rn.close(); err != nil {
		t.Fatal(err)
	}
	// Healthy: all 12 jobs come back.
	rn, st, err := open()
	if err != nil {
		t.Fatal(err)
	}
	if n := len(st.Snapshot().Jobs()); n != 12 {
		t.Fatalf("%d jobs after reopening, want 12", n)
	}
	rn.close()

	snaps, _ := filepath.Glob(filepath.Join(dir, "snapshots", "*", "state.bin"))
	if len(snaps) == 0 {
		t.Fatal("no snapshot written")
	}
	for _, p := range snaps {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		b[len(b)/2] ^= 0xff
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if rn, _, err := open(); err == nil {
		rn.close()
		t.Fatal("started on a corrupt snapshot")
	} else if !strings.Contains(err.Error(), "refusing to start: no snapshot in") {
		t.Fatalf("error does not name the snapshot: %v", err)
	}
}
