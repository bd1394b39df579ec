package cli

import (
	"context"
	"crypto/tls"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gsched/gsched/pkg/api"
	"github.com/gsched/gsched/pkg/auth"
	"github.com/gsched/gsched/pkg/config"
)

// callerFunc is a Caller that hands each call to a function.
type callerFunc func(path string, resp any) error

func (f callerFunc) Call(_ context.Context, path string, _, resp any) error { return f(path, resp) }

func TestGcontrolUpdate(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want api.NodeUpdateRequest
		err  string // usage error
	}{
		{"drain", []string{"update", "NodeName=n[1-2]", "State=DRAIN", "Reason=bad fan"},
			api.NodeUpdateRequest{Nodes: []string{"n1", "n2"}, State: "DRAIN", Reason: "bad fan"}, ""},
		{"resume, keys in any case", []string{"update", "state=resume", "nodename=gpu07"},
			api.NodeUpdateRequest{Nodes: []string{"gpu07"}, State: "RESUME"}, ""},
		{"down", []string{"update", "node=n3", "state=down", "reason=PSU"},
			api.NodeUpdateRequest{Nodes: []string{"n3"}, State: "DOWN", Reason: "PSU"}, ""},
		{"drain without reason", []string{"update", "nodename=n1", "state=drain"}, api.NodeUpdateRequest{}, "needs reason"},
		{"no state", []string{"update", "nodename=n1"}, api.NodeUpdateRequest{}, "give nodename"},
		{"bad state", []string{"update", "nodename=n1", "state=sleepy"}, api.NodeUpdateRequest{}, "unknown state"},
		{"bad hostlist", []string{"update", "nodename=n[2-1]", "state=resume"}, api.NodeUpdateRequest{}, "nodename"},
		{"not key=value", []string{"update", "n1"}, api.NodeUpdateRequest{}, "not KEY=VALUE"},
		{"job and node keys", []string{"update", "jobid=4", "nodename=n1"}, api.NodeUpdateRequest{}, "node key"},
		{"twice", []string{"update", "state=drain", "state=down"}, api.NodeUpdateRequest{}, "given twice"},
		{"unknown command", []string{"reboot"}, api.NodeUpdateRequest{}, "unknown command"},
		{"show nothing", []string{"show"}, api.NodeUpdateRequest{}, "show what"},
		{"show frobs", []string{"show", "frobs"}, api.NodeUpdateRequest{}, "cannot show"},
		{"bad job id", []string{"show", "job", "x1"}, api.NodeUpdateRequest{}, "invalid job id"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs := newFakeServer(t)
			fs.answer(api.PathUpdateNodes, api.NodeUpdateResponse{})
			te := newTestEnv(t, fs.sock)
			code := te.Gcontrol(append([]string{"gcontrol"}, tc.args...))
			if tc.err != "" {
				if code != ExitUsage || !strings.Contains(te.stderr.String(), tc.err) {
					t.Fatalf("exit %d stderr %q, want usage error %q", code, te.stderr, tc.err)
				}
				if n := fs.count(api.PathUpdateNodes); n != 0 {
					t.Errorf("%d updates reached the server", n)
				}
				return
			}
			if code != 0 {
				t.Fatalf("exit %d stderr %q", code, te.stderr)
			}
			var got api.NodeUpdateRequest
			fs.decode(t, api.PathUpdateNodes, 0, &got)
			if strings.Join(got.Nodes, ",") != strings.Join(tc.want.Nodes, ",") || got.State != tc.want.State || got.Reason != tc.want.Reason {
				t.Errorf("request %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestGcontrolShow(t *testing.T) {
	fs := newFakeServer(t)
	start := t0.Add(-90 * time.Second)
	fs.answer(api.PathListJobs, api.JobList{Jobs: []api.Job{{
		ID: 7, User: "alice", UID: 1000, GID: 100, State: api.StateRunning, Priority: 42, SubmitTime: start, StartTime: start,
		Spec: &api.JobSpec{Name: "train", Partition: "gpu", NTasks: 2, CPUsPerTask: 4, MemBytes: 8 << 30, GPUsPerNode: 2,
			Nodes: 2, TimeLimit: 3600, Output: "slurm-%j.out", WorkDir: "/w", NoRequeue: true},
		Allocs: []api.Allocation{{Node: "n1", GPUs: []int{0, 1}}, {Node: "n2", GPUs: []int{2, 3}}},
	}}})
	fs.answer(api.PathListNodes, api.NodeList{
		Nodes: []api.NodeInfo{{Node: api.Node{Name: "n1", CPUs: 8, MemBytes: 16 << 30, State: api.NodeDrain, Reason: "fan",
			GPUs: []api.GPU{{Index: 0, Model: "NVIDIA H100"}, {Index: 1, Model: "NVIDIA H100"}}},
			Alloc: api.NodeUsage{CPUs: 4, GPUs: []int{1}, Jobs: 1}, DisplayState: "DRAIN"}},
		Partitions: []api.Partition{{Name: "gpu", Default: true}},
	})
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"show", "job", "7"}, []string{"JobId=7 JobName=train\n", "UserId=alice(1000)", "JobState=RUNNING", "RunTime=1:30",
			"TimeLimit=1:00:00", "NodeList=n[1-2]", "NumNodes=2", "Gpus=4", "GpuIDs=n1:0,1;n2:2,3", "Requeue=false"}},
		{[]string{"-o", "show", "job"}, []string{"JobId=7 JobName=train UserId=alice(1000) "}},
		{[]string{"show", "node", "n1"}, []string{"NodeName=n1", "State=DRAIN Reason=fan", "Gres=gpu:NVIDIA_H100:2", "GpuIDsAlloc=1", "CPUAlloc=4"}},
		{[]string{"show", "partition"}, []string{"PartitionName=gpu", "Default=YES State=UP", "Nodes=n1 TotalNodes=1 TotalCPUs=8"}},
		{[]string{"show", "hostnames", "gpu[01-02]"}, []string{"gpu01\ngpu02\n"}},
	} {
		te := newTestEnv(t, fs.sock)
		if code := te.Gcontrol(append([]string{"gcontrol"}, tc.args...)); code != 0 {
			t.Fatalf("%v: exit %d stderr %q", tc.args, code, te.stderr)
		}
		for _, w := range tc.want {
			if !strings.Contains(te.stdout.String(), w) {
				t.Errorf("%v: output lacks %q:\n%s", tc.args, w, te.stdout)
			}
		}
	}
	te := newTestEnv(t, fs.sock)
	if code := te.Gcontrol([]string{"gcontrol", "show", "node", "n9"}); code == 0 || !strings.Contains(te.stderr.String(), `node "n9" not found`) {
		t.Errorf("unknown node: exit %d stderr %q", code, te.stderr)
	}
}

func TestGcontrolToken(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want api.TokenRequest
		err  string // usage error
	}{
		{"defaults", nil, api.TokenRequest{}, ""},
		{"slurm style", []string{"username=bob", "lifespan=3600"}, api.TokenRequest{User: "bob", Lifespan: 3600}, ""},
		{"duration and host", []string{"Lifespan=12h", "host=laptop"}, api.TokenRequest{Lifespan: 43200, Host: "laptop"}, ""},
		{"zero lifespan", []string{"lifespan=0"}, api.TokenRequest{}, "must be positive"},
		{"bad lifespan", []string{"lifespan=forever"}, api.TokenRequest{}, "want seconds"},
		{"empty user", []string{"username="}, api.TokenRequest{}, "empty username"},
		{"unknown key", []string{"scope=all"}, api.TokenRequest{}, "unknown key"},
		{"twice", []string{"user=a", "user=b"}, api.TokenRequest{}, "given twice"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs := newFakeServer(t)
			fs.answer(api.PathToken, api.TokenResponse{Token: "J.W.T~S", User: "alice"})
			te := newTestEnv(t, fs.sock)
			code := te.Gcontrol(append([]string{"gcontrol", "token"}, tc.args...))
			if tc.err != "" {
				if code != ExitUsage || !strings.Contains(te.stderr.String(), tc.err) || fs.count(api.PathToken) != 0 {
					t.Fatalf("exit %d stderr %q requests %d, want usage error %q", code, te.stderr, fs.count(api.PathToken), tc.err)
				}
				return
			}
			if code != 0 || te.stdout.String() != "GSCHED_TOKEN=J.W.T~S\n" {
				t.Fatalf("exit %d stdout %q stderr %q", code, te.stdout, te.stderr)
			}
			var got api.TokenRequest
			fs.decode(t, api.PathToken, 0, &got)
			if got != tc.want {
				t.Errorf("request %+v, want %+v", got, tc.want)
			}
		})
	}
}

// With $GSCHED_TOKEN the commands go over TCP to the controller's user
// address, signing with the token; without an address, or with an
// expired or malformed token, they stop before sending anything.
func TestRemoteConnect(t *testing.T) {
	a := auth.NewTokenAuthority([]byte(strings.Repeat("k", 32)), time.Minute)
	tok, _, err := a.Issue(auth.Identity{UID: 1000, GID: 1000, User: "alice"}, "", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		env  map[string]string
		now  time.Time
		addr string // dialled address; "" = an error containing err
		err  string
	}{
		{"env address", map[string]string{EnvToken: tok, EnvController: "ctl:6819"}, time.Now(), "ctl:6819", ""},
		{"no address", map[string]string{EnvToken: tok}, time.Now(), "", "address is unknown"},
		{"expired", map[string]string{EnvToken: tok, EnvController: "ctl:6819"}, time.Now().Add(2 * time.Hour), "", "expired"},
		{"malformed", map[string]string{EnvToken: "nope", EnvController: "ctl:6819"}, time.Now(), "", "malformed token"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			te := newTestEnv(t, "/nonexistent")
			conf := filepath.Join(t.TempDir(), "g.conf")
			if err := os.WriteFile(conf, []byte("[controller]\nsocket = \"/nonexistent\"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			tc.env[config.EnvConf] = conf
			te.Getenv = func(k string) string { return tc.env[k] }
			te.Now = func() time.Time { return tc.now }
			var dialled string
			te.DialToken = func(addr string, s *auth.TokenSigner, _ *tls.Config) Caller {
				dialled = addr
				if s.Claims().Subject != "alice" {
					t.Errorf("signer claims %+v", s.Claims())
				}
				return callerFunc(func(path string, resp any) error {
					if path != api.PathShares {
						t.Errorf("call to %s", path)
					}
					return nil
				})
			}
			te.Dial = func(string) Caller { t.Error("dialled the Unix socket"); return nil }
			code := te.Gcontrol([]string{"gcontrol", "show", "hostnames", "n1"})
			if code != 0 {
				t.Fatalf("hostnames needs no controller: exit %d %q", code, te.stderr)
			}
			code = te.Gshare([]string{"gshare"})
			if tc.addr != "" {
				if dialled != tc.addr {
					t.Fatalf("dialled %q, want %q (exit %d %q)", dialled, tc.addr, code, te.stderr)
				}
				return
			}
			if code == 0 || dialled != "" || !strings.Contains(te.stderr.String(), tc.err) {
				t.Fatalf("exit %d dialled %q stderr %q, want error %q", code, dialled, te.stderr, tc.err)
			}
		})
	}
}
