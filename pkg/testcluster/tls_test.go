package testcluster

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gsched/gsched/pkg/api"
	"github.com/gsched/gsched/pkg/rpc"
)

// With tls set, node daemons reach the controller over mutual TLS and a
// job runs as usual; a remote command checks the controller's certificate.
// A node's certificate cannot speak for another node, a client without a
// certificate or with one from another CA gets no answer, and a plain TCP
// client is refused.
func TestMutualTLSCluster(t *testing.T) {
	c := Start(t, Options{TLS: true, Nodes: 2, Binaries: true})
	id := c.Submit(api.JobSpec{Nodes: 2, Script: "#!/bin/sh\necho over-tls\n", WorkDir: c.WorkDir(0, 0)})
	if j := c.WaitJob(id, 30*time.Second); j.State != api.StateCompleted {
		t.Fatalf("two-node job over mutual TLS ended %s (%s)", j.State, j.Reason)
	}

	// A remote command with a token, checking the controller's certificate.
	dir := c.WorkDir(nobody, nobody)
	tok := getToken(t, c, nobody, dir, "lifespan=600")
	env := []string{"GSCHED_TOKEN=" + tok, "GSCHED_CONTROLLER=" + c.UserAddr, "GSCHED_SOCKET=/nonexistent"}
	gqueue := filepath.Join(c.Bin, "gqueue")
	if r := c.RunEnv(append(env, "GSCHED_TLS_CA="+c.CA.File), 0, 0, dir, gqueue, "-t", "all"); r.Code != 0 || !strings.Contains(r.Stdout, id.String()) {
		t.Fatalf("remote gqueue over TLS: code %d out %q err %q", r.Code, r.Stdout, r.Stderr)
	}
	// Without the CA (and without a configuration naming one) the command
	// talks plain TCP to a TLS port: refused, with the reason.
	plainConf := filepath.Join(t.TempDir(), "plain.conf")
	if err := os.WriteFile(plainConf, []byte("cluster_name = \"test\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if r := c.RunEnv(append(env, "GSCHED_CONF="+plainConf), 0, 0, dir, gqueue); r.Code == 0 || !plainRefused(r.Stderr) {
		t.Fatalf("remote gqueue without TLS: code %d out %q err %q", r.Code, r.Stdout, r.Stderr)
	}

	sync := func(cert string, node string) error {
		f := rpc.TLSFiles{CA: c.CA.File}
		if cert != "" {
			f.Cert, f.Key = c.CA.Issue(t, cert)
		}
		conf, err := rpc.ClientTLS(f)
		if err != nil {
			t.Fatal(err)
		}
		cl := rpc.DialSigned(c.Addr, c.Key, node).WithTLS(conf)
		defer cl.Close()
		var resp api.SyncResponse
		return cl.Call(context.Background(), api.PathNodeSync, api.SyncRequest{Node: node}, &resp)
	}
	// n2's certificate (and the cluster key) speaking for n1: refused.
	if err := sync("n2", "n1"); err == nil || !strings.Contains(err.Error(), "names n2") {
		t.Fatalf("n2's certificate syncing as n1: %v", err)
	}
	if err := sync("", "n1"); err == nil || !strings.Contains(err.Error(), "certificate required") {
		t.Fatalf("no certificate: %v", err)
	}
	plain := rpc.DialSigned(c.Addr, c.Key, "n1")
	defer plain.Close()
	var resp api.SyncResponse
	if err := plain.Call(context.Background(), api.PathNodeSync, api.SyncRequest{Node: "n1"}, &resp); err == nil || !plainRefused(err.Error()) {
		t.Fatalf("plain TCP to the TLS port: %v", err)
	}
	// The refusals left the nodes alone.
	for _, n := range c.Nodes().Nodes {
		if n.State != api.NodeUp {
			t.Fatalf("node %s is %s after the refused requests", n.Name, n.State)
		}
	}
}

// plainRefused: Go's TLS server answers a plain HTTP request with a 400
// saying so and closes the connection, which the client may see first.
func plainRefused(msg string) bool {
	return strings.Contains(msg, "HTTPS server") || strings.Contains(msg, "connection reset by peer")
}

// In an HA set with TLS, followers relay to the leader over TLS: a local
// user's submission through a follower's socket runs, and a node request
// sent to a follower is judged by the node's own certificate, not the
// follower's.
func TestHAForwardingOverTLS(t *testing.T) {
	c := Start(t, Options{Controllers: 3, TLS: true, Nodes: 1, NodeTimeout: 20 * time.Second})
	leader := c.Leader()
	if leader == 0 {
		t.Fatal("no leader")
	}
	follower := leader%3 + 1
	cl := rpc.Dial(c.Sockets[follower-1])
	defer cl.Close()
	var resp api.SubmitResponse
	spec := api.JobSpec{Script: "#!/bin/sh\ntrue\n", WorkDir: c.WorkDir(0, 0)}
	if err := cl.Call(context.Background(), api.PathSubmit, &api.SubmitRequest{Spec: spec}, &resp); err != nil {
		t.Fatalf("submit through follower c%d: %v", follower, err)
	}
	if j := c.WaitJob(resp.JobID, 30*time.Second); j.State != api.StateCompleted {
		t.Fatalf("job submitted through a follower ended %s (%s)", j.State, j.Reason)
	}

	addr := c.ctls[follower-1].conf.Controller.Listen
	sync := func(cert, node string) error {
		f := rpc.TLSFiles{CA: c.CA.File}
		f.Cert, f.Key = c.CA.Issue(t, cert)
		conf, err := rpc.ClientTLS(f)
		if err != nil {
			t.Fatal(err)
		}
		nc := rpc.DialSigned(addr, c.Key, node).WithTLS(conf)
		defer nc.Close()
		var resp api.SyncResponse
		return nc.Call(context.Background(), api.PathNodeSync, api.SyncRequest{Node: node}, &resp)
	}
	if err := sync("n1", "n1"); err != nil {
		t.Fatalf("n1's sync relayed by follower c%d: %v", follower, err)
	}
	if err := sync("n2", "n1"); err == nil || !strings.Contains(err.Error(), "names n2") {
		t.Fatalf("n2's certificate syncing as n1 through a follower: %v", err)
	}
}
