package server

import (
	"errors"
	"strings"
	"testing"

	"github.com/gsched/gsched/pkg/api"
	"github.com/gsched/gsched/pkg/auth"
	"github.com/gsched/gsched/pkg/state"
)

// --nodelist and --exclude on submission: unknown names and nodes outside
// the partition are refused, lists are normalised and the node count is
// raised to the list's length.
func TestNamedNodesOnSubmission(t *testing.T) {
	s := testServer(t)
	err := s.store.Write(func(tx *state.Txn) error {
		for _, n := range []api.Node{
			{Name: "n1", CPUs: 4, MemBytes: 8 << 30, State: api.NodeUp},
			{Name: "n2", CPUs: 4, MemBytes: 8 << 30, State: api.NodeUp},
			{Name: "n3", CPUs: 1, MemBytes: 8 << 30, State: api.NodeUp},
			{Name: "x1", CPUs: 4, MemBytes: 8 << 30, State: api.NodeUp, Partitions: []string{"long"}},
		} {
			if err := tx.PutNode(&n); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name          string
		list, exclude string
		nodes, cpus   int
		wantList      string
		wantExclude   string
		wantNodes     int
		err           string
	}{
		{name: "one node", list: "n2", wantList: "n2", wantNodes: 1},
		{name: "list raises the node count, sorted", list: "n2,n1,n1", wantList: "n[1-2]", wantNodes: 2},
		{name: "more nodes than listed", list: "n1", nodes: 3, wantList: "n1", wantNodes: 3},
		{name: "exclude", exclude: "n[2-3]", wantExclude: "n[2-3]", wantNodes: 1},
		{name: "unknown listed", list: "n[1-9]", err: "invalid node name specified: n4"},
		{name: "unknown excluded", exclude: "gpu1", err: "--exclude: invalid node name specified: gpu1"},
		{name: "malformed", list: "n[1-", err: "--nodelist"},
		{name: "both listed and excluded", list: "n1", exclude: "n1", err: "both in --nodelist and in --exclude"},
		{name: "outside the partition", list: "x1", err: "not in partition main"},
		{name: "a listed node too small", list: "n3", cpus: 2, err: "listed node n3 cannot hold the job"},
		{name: "every node excluded but one too small", exclude: "n[1-2]", cpus: 2, err: "not available"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := goodSpec()
			in.NodeList, in.Exclude, in.Nodes, in.CPUsPerTask = tc.list, tc.exclude, tc.nodes, tc.cpus
			j, err := s.newJob(auth.Peer{UID: 1000, GID: 100, User: "alice"}, false, &in)
			if tc.err != "" {
				if !errors.Is(err, api.ErrInvalid) || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if j.Spec.NodeList != tc.wantList || j.Spec.Exclude != tc.wantExclude || j.Spec.Nodes != tc.wantNodes || j.Spec.NTasks != tc.wantNodes {
				t.Fatalf("spec: nodelist %q exclude %q nodes %d ntasks %d", j.Spec.NodeList, j.Spec.Exclude, j.Spec.Nodes, j.Spec.NTasks)
			}
		})
	}
}
