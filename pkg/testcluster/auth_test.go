package testcluster

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/gsched/gsched/pkg/api"
	"github.com/gsched/gsched/pkg/auth"
	"github.com/gsched/gsched/pkg/rpc"
)

// Daemon RPCs without a valid signature are refused and change nothing.
func TestForgedDaemonRequestsAreRejected(t *testing.T) {
	c := Start(t, Options{})
	evil := api.RegisterRequest{Node: api.Node{Name: "evil", CPUs: 64, MemBytes: 1 << 40}}
	attempts, rejected := 0, 0 // each check below fails the test or counts one

	// Signed with the wrong key.
	wrong := rpc.DialSigned(c.Addr, bytes.Repeat([]byte("k"), 64), "evil")
	defer wrong.Close()
	attempts++
	err := wrong.Call(context.Background(), api.PathNodeRegister, &evil, nil)
	if !errors.Is(err, api.ErrUnauthenticated) {
		t.Fatalf("wrong key: err %v, want unauthenticated", err)
	}
	rejected++
	// Not signed at all.
	attempts++
	resp, err := http.Post("http://"+c.Addr+api.PathNodeRegister, "application/json", strings.NewReader(`{"node":{"name":"evil","cpus":64}}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("unsigned request: HTTP %d, want 401", resp.StatusCode)
	}
	rejected++
	// A correctly signed request, replayed.
	body := []byte(`{"node":"n1","boot_id":"","reports":[],"wait_ms":0}`)
	h, err := auth.NewSigner(c.Key).Sign(http.MethodPost, api.PathNodeSync, body)
	if err != nil {
		t.Fatal(err)
	}
	send := func() int {
		req, _ := http.NewRequest(http.MethodPost, "http://"+c.Addr+api.PathNodeSync, bytes.NewReader(body))
		for k, v := range h {
			req.Header.Set(k, v)
		}
		r, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		r.Body.Close()
		return r.StatusCode
	}
	if code := send(); code != http.StatusOK {
		t.Fatalf("genuine signed request: HTTP %d", code)
	}
	attempts++
	if code := send(); code != http.StatusUnauthorized {
		t.Fatalf("replayed request: HTTP %d, want 401", code)
	}
	rejected++
	for _, n := range c.Nodes().Nodes {
		if n.Name == "evil" {
			t.Fatal("a forged registration changed the cluster")
		}
	}
	// Users cannot reach node RPCs over their socket either (no signature).
	user := c.Client()
	defer user.Close()
	attempts++
	if err := user.Call(context.Background(), api.PathNodeRegister, &evil, nil); !errors.Is(err, api.ErrNotFound) {
		t.Fatalf("node RPC on the user socket: %v", err)
	}
	rejected++
	t.Logf("FAULTS auth %s: attempts %d, rejected %d", t.Name(), attempts, rejected)
}

// Bad input gets a clear error and loses nothing.
func TestBadSubmissionsAreRefused(t *testing.T) {
	c := Start(t, Options{})
	cl := c.Client()
	defer cl.Close()
	dir := c.WorkDir(0, 0)
	ok := api.JobSpec{Name: "x", WorkDir: dir, Script: "#!/bin/sh\ntrue\n"}
	tests := []struct {
		name   string
		mutate func(*api.JobSpec)
		want   string
	}{
		{"no shebang", func(s *api.JobSpec) { s.Script = "echo hi\n" }, "#!"},
		{"relative dir", func(s *api.JobSpec) { s.WorkDir = "rel" }, "absolute"},
		{"negative mem", func(s *api.JobSpec) { s.MemBytes = -5 }, "negative"},
		{"absurd gpus", func(s *api.JobSpec) { s.GPUs = 1_000_000_000 }, "GPUs"},
		{"10 years", func(s *api.JobSpec) { s.TimeLimit = 10 * 365 * 86400 }, "maximum"},
		{"unknown partition", func(s *api.JobSpec) { s.Partition = "nope" }, "partition"},
		{"NUL in env", func(s *api.JobSpec) { s.Env = []string{"A=b\x00c"} }, "NUL"},
		{"more nodes than exist", func(s *api.JobSpec) { s.Nodes = 3 }, "3 nodes with"},
		{"fewer tasks than nodes", func(s *api.JobSpec) { s.Nodes, s.NTasks = 2, 1 }, "--ntasks=1 is less than --nodes=2"},
		{"switches without a network", func(s *api.JobSpec) { s.Switches = 1 }, "needs a network topology"},
		{"10^9 nodes", func(s *api.JobSpec) { s.Nodes = 1_000_000_000 }, "too many nodes"},
		{"unknown QOS", func(s *api.JobSpec) { s.QOS = "gold" }, "invalid qos specified: gold"},
		{"NUL in the script", func(s *api.JobSpec) { s.Script = "#!/bin/sh\n\x00" }, "script contains a NUL byte"},
		{"line break in the name", func(s *api.JobSpec) { s.Name = "a\nb" }, "control character"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			spec := ok
			tc.mutate(&spec)
			err := cl.Call(context.Background(), api.PathSubmit, &api.SubmitRequest{Spec: spec}, nil)
			if !errors.Is(err, api.ErrInvalid) || !strings.Contains(err.Error(), tc.want) || strings.ContainsAny(err.Error(), "\n\r") {
				t.Fatalf("err = %v, want one line, invalid, mentioning %q", err, tc.want)
			}
		})
	}
	// An oversized body is refused as such.
	big := ok
	big.Script = "#!/bin/sh\n" + strings.Repeat("#", api.MaxRequestBytes)
	if err := cl.Call(context.Background(), api.PathSubmit, &api.SubmitRequest{Spec: big}, nil); !errors.Is(err, api.ErrTooLarge) {
		t.Fatalf("oversized: %v", err)
	}
	var jl api.JobList
	if err := cl.Call(context.Background(), api.PathListJobs, &api.JobFilter{IncludeFinished: true}, &jl); err != nil || len(jl.Jobs) != 0 {
		t.Fatalf("refused submissions left jobs behind: %v %d", err, len(jl.Jobs))
	}
}
