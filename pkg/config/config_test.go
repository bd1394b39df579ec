package config_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gsched/gsched/pkg/config"
)

// writeConf writes content as a config file in a fresh dir and returns its
// path.
func writeConf(t testing.TB, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "gsched.conf")
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func dur(d time.Duration) config.Duration { return config.Duration{Duration: d} }

func TestDefaultValidates(t *testing.T) {
	c := config.Default()
	if err := c.Validate(); err != nil {
		t.Fatalf("Default().Validate() = %v", err)
	}
	if c.Path != "" || len(c.Partitions) != 1 || !c.Partitions[0].Default {
		t.Errorf("Default() = %+v", c)
	}
	// Each call returns a fresh value.
	c.Partitions[0].Name = "changed"
	if config.Default().Partitions[0].Name != "main" {
		t.Error("Default() shares its partitions between calls")
	}
}

const fullExample = `
cluster_name = "lab"
operators = ["alice", "bob"]
log_level = "debug"

[controller]
socket = "run/ctld.sock"            # relative with a slash: resolved
listen = "0.0.0.0:7000"
address = "ctl.example.com:7000"
state_dir = "/var/lib/lab/ctld"
pid_file = "run/ctld.pid"
node_timeout = "1m30s"
heartbeat_interval = "10s"
schedule_interval = "2s"
job_retention = "48h"
kill_wait = "0s"
snapshot_threshold = 100

[auth]
key_file = "keys/cluster.key"
max_clock_skew = "5m"
token_lifespan = "8h"

[node]
name = "gpu01"
state_dir = "/var/lib/lab/node"
pid_file = "/run/gnoded.pid"
runc = "runc"                        # a bare name stays a $PATH lookup
cgroup_parent = "/lab.slice"
cpus = 64
memory = "512G"
pids_limit = 0
gpu_discovery = "config"
partitions = ["gpu", "debug"]

[[node.gpu]]
index = 0
minor = 3
model = "Fake A100"
memory = "80G"
uuid = "GPU-0"
device = "dev/fake0"

[[node.gpu]]
index = 1
minor = 1
device = "/dev/nvidia1"

[[node.gpu]]
index = 2
minor = 2

[[partition]]
name = "gpu"
nodes = ["gpu01", "gpu02"]
default = true
default_time = "1:00:00"
max_time = "2-00:00:00"
state = "UP"

[[partition]]
name = "debug"
max_time = "30:00"
state = "down"
`

func TestLoadFullExample(t *testing.T) {
	p := writeConf(t, fullExample)
	dir := filepath.Dir(p)
	got, err := config.Load(p)
	if err != nil {
		t.Fatal(err)
	}
	want := &config.Config{
		ClusterName: "lab",
		Operators:   []string{"alice", "bob"},
		LogLevel:    "debug",
		SlurmEnv:    true, // the default: the file leaves it out
		Controller: config.ControllerConfig{
			Socket:            filepath.Join(dir, "run/ctld.sock"),
			Listen:            "0.0.0.0:7000",
			Address:           "ctl.example.com:7000",
			StateDir:          "/var/lib/lab/ctld",
			PIDFile:           filepath.Join(dir, "run/ctld.pid"),
			NodeTimeout:       dur(90 * time.Second),
			HeartbeatInterval: dur(10 * time.Second),
			ScheduleInterval:  dur(2 * time.Second),
			JobRetention:      dur(48 * time.Hour),
			KillWait:          dur(0),
			SnapshotThreshold: 100,
			// Keys the file leaves out keep their defaults.
			PrologTimeout: config.Default().Controller.PrologTimeout,
			EpilogTimeout: config.Default().Controller.EpilogTimeout,
		},
		Auth: config.AuthConfig{KeyFile: filepath.Join(dir, "keys/cluster.key"), MaxClockSkew: dur(5 * time.Minute),
			TokenLifespan: dur(8 * time.Hour), MaxTokenLifespan: dur(720 * time.Hour)},
		Node: config.NodeConfig{
			Name: "gpu01", StateDir: "/var/lib/lab/node", PIDFile: "/run/gnoded.pid", Runc: "runc",
			CgroupParent: "/lab.slice", CPUs: 64, Memory: "512G", PidsLimit: 0, GPUDiscovery: "config",
			GPU: []config.GPUConfig{
				{Index: 0, Minor: 3, Model: "Fake A100", Memory: "80G", UUID: "GPU-0", Device: filepath.Join(dir, "dev/fake0")},
				{Index: 1, Minor: 1, Device: "/dev/nvidia1"},
				{Index: 2, Minor: 2},
			},
			Partitions: []string{"gpu", "debug"},
			// Keys the file leaves out keep their defaults.
			HealthCheckInterval: config.Default().Node.HealthCheckInterval,
			HealthCheckTimeout:  config.Default().Node.HealthCheckTimeout,
			PrologTimeout:       config.Default().Node.PrologTimeout,
			EpilogTimeout:       config.Default().Node.EpilogTimeout,
		},
		Partitions: []config.PartitionConfig{
			{Name: "gpu", Nodes: []string{"gpu01", "gpu02"}, Default: true, DefaultTime: "1:00:00", MaxTime: "2-00:00:00", State: "UP"},
			{Name: "debug", MaxTime: "30:00", State: "down"},
		},
		// Sections the file leaves out keep their defaults.
		Scheduler: config.Default().Scheduler,
		Priority:  config.Default().Priority,
		Path:      p,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Load:\n got %+v\nwant %+v", got, want)
	}
	if got.ControllerAddress() != "ctl.example.com:7000" || got.NodeName() != "gpu01" {
		t.Errorf("ControllerAddress %q NodeName %q", got.ControllerAddress(), got.NodeName())
	}
}

func TestLoadKeepsDefaults(t *testing.T) {
	got, err := config.Load(writeConf(t, "cluster_name = \"x\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := config.Default()
	want.ClusterName = "x"
	want.Path = got.Path
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Load:\n got %+v\nwant %+v", got, want)
	}
	if !filepath.IsAbs(got.Path) {
		t.Errorf("Path %q is not absolute", got.Path)
	}
}

func TestLoadDeclaredPartitionsReplaceTheDefault(t *testing.T) {
	got, err := config.Load(writeConf(t, `
[[partition]]
name = "debug"

[[partition]]
name = "gpu"
default = true
`))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	want := []config.PartitionConfig{{Name: "debug"}, {Name: "gpu", Default: true}}
	if !reflect.DeepEqual(got.Partitions, want) {
		t.Errorf("partitions = %+v, want %+v", got.Partitions, want)
	}
}

func TestLoadSinglePartitionInheritsNothing(t *testing.T) {
	got, err := config.Load(writeConf(t, "[[partition]]\nname = \"debug\"\n"))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	want := []config.PartitionConfig{{Name: "debug"}}
	if !reflect.DeepEqual(got.Partitions, want) {
		t.Errorf("partitions = %+v, want %+v", got.Partitions, want)
	}
}

func TestLoadResolvesBareRelativePaths(t *testing.T) {
	p := writeConf(t, `
[controller]
socket = "gctld.sock"
state_dir = "ctld"
pid_file = "gctld.pid"
[auth]
key_file = "cluster.key"
[node]
state_dir = "node"
pid_file = "gnoded.pid"
runc = "runc"
`)
	dir := filepath.Dir(p)
	c, err := config.Load(p)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ key, got, want string }{
		{"controller.socket", c.Controller.Socket, filepath.Join(dir, "gctld.sock")},
		{"controller.state_dir", c.Controller.StateDir, filepath.Join(dir, "ctld")},
		{"controller.pid_file", c.Controller.PIDFile, filepath.Join(dir, "gctld.pid")},
		{"auth.key_file", c.Auth.KeyFile, filepath.Join(dir, "cluster.key")},
		{"node.state_dir", c.Node.StateDir, filepath.Join(dir, "node")},
		{"node.pid_file", c.Node.PIDFile, filepath.Join(dir, "gnoded.pid")},
		{"node.runc", c.Node.Runc, "runc"}, // a bare command name is looked up in $PATH
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s = %q, want %q", tt.key, tt.got, tt.want)
		}
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name    string
		content string
		want    []string // substrings of the error
	}{
		{
			name:    "unknown keys are named",
			content: "clustr_name = \"x\"\n[node]\ngpu_discoveryy = \"auto\"\n[[partition]]\nname = \"p\"\nmax_tme = \"1\"\n",
			want:    []string{"unknown keys", "clustr_name", "node.gpu_discoveryy", "partition.max_tme"},
		},
		{
			name:    "unknown table",
			content: "[scheduler]\ntype = \"backfill\"\n",
			want:    []string{"unknown keys", "scheduler"},
		},
		{
			name:    "duration without a unit",
			content: "[controller]\nnode_timeout = \"30\"\n",
			want:    []string{"invalid duration", `"30"`},
		},
		{
			name:    "duration in words",
			content: "[auth]\nmax_clock_skew = \"5 minutes\"\n",
			want:    []string{"invalid duration"},
		},
		{
			name:    "duration as a number",
			content: "[controller]\nkill_wait = 30\n",
			want:    []string{"kill_wait"},
		},
		{
			name:    "not TOML",
			content: "cluster_name = \n",
			want:    []string{"parse config"},
		},
		{
			name:    "wrong type",
			content: "[node]\ncpus = \"many\"\n",
			want:    []string{"cpus"},
		},
		{
			name:    "validation problems, all of them",
			content: "[controller]\nheartbeat_interval = \"1m\"\nnode_timeout = \"30s\"\n[node]\ngpu_discovery = \"magic\"\ncgroup_parent = \"rel\"\n",
			want:    []string{"heartbeat_interval (1m0s) must be shorter than node_timeout (30s)", `not "magic"`, "cgroup_parent"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := writeConf(t, tt.content)
			c, err := config.Load(p)
			if err == nil || c != nil {
				t.Fatalf("Load = %+v, %v; want an error", c, err)
			}
			for _, w := range append(tt.want, p) {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
	if _, err := config.Load(filepath.Join(t.TempDir(), "missing.conf")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Load(missing) = %v, want ErrNotExist", err)
	}
}

// peers returns an HA set c1..cn on made-up addresses.
func peers(n int) []config.PeerConfig {
	var out []config.PeerConfig
	for i := 1; i <= n; i++ {
		h := fmt.Sprintf("ctl%d", i)
		out = append(out, config.PeerConfig{ID: fmt.Sprintf("c%d", i), Raft: h + ":6820", Listen: h + ":6817", User: h + ":6819"})
	}
	return out
}

// ha sets this controller's HA addresses.
func ha(c *config.Config) { c.Controller.RaftListen, c.Controller.UserListen = ":6820", ":6819" }

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		change func(*config.Config)
		want   string
	}{
		{"no socket", func(c *config.Config) { c.Controller.Socket = "" }, "controller.socket is empty"},
		{"no listen address", func(c *config.Config) { c.Controller.Listen = "" }, "controller.listen is empty"},
		{"zero node timeout", func(c *config.Config) { c.Controller.NodeTimeout = dur(0) }, "node_timeout must be positive"},
		{"zero heartbeat", func(c *config.Config) { c.Controller.HeartbeatInterval = dur(0) }, "heartbeat_interval must be positive"},
		{"heartbeat as long as the timeout", func(c *config.Config) { c.Controller.HeartbeatInterval = c.Controller.NodeTimeout }, "must be shorter than node_timeout"},
		{"negative schedule interval", func(c *config.Config) { c.Controller.ScheduleInterval = dur(-time.Second) }, "schedule_interval must be positive"},
		{"negative kill wait", func(c *config.Config) { c.Controller.KillWait = dur(-time.Second) }, "kill_wait must not be negative"},
		{"zero clock skew", func(c *config.Config) { c.Auth.MaxClockSkew = dur(0) }, "max_clock_skew must be positive"},
		{"token lifespan over the max", func(c *config.Config) { c.Auth.TokenLifespan = dur(800 * time.Hour) }, "token_lifespan must be positive"},
		{"two controllers", func(c *config.Config) { c.Controller.Peers = peers(2); ha(c) }, "needs at least 3 controllers"},
		{"peer without user address", func(c *config.Config) { c.Controller.Peers = peers(3); c.Controller.Peers[1].User = ""; ha(c) }, "peer 2: id, raft, listen and user are all required"},
		{"peer listed twice", func(c *config.Config) { c.Controller.Peers = peers(3); c.Controller.Peers[2].ID = "c1"; ha(c) }, `peer "c1" is listed twice`},
		{"tls.cert without tls.key", func(c *config.Config) { c.TLS.Cert = "/etc/gsched/n1.crt"; c.TLS.CA = "/etc/gsched/ca.crt" }, "tls.cert and tls.key go together"},
		{"tls.key without tls.cert", func(c *config.Config) { c.TLS.Key = "/etc/gsched/n1.key" }, "tls.cert and tls.key go together"},
		{"tls.cert without tls.ca", func(c *config.Config) { c.TLS.Cert, c.TLS.Key = "/a.crt", "/a.key" }, "tls.ca is required"},
		{"HA without raft_listen", func(c *config.Config) { c.Controller.Peers = peers(3); ha(c); c.Controller.RaftListen = "" }, "raft_listen is required"},
		{"HA without user_listen", func(c *config.Config) { c.Controller.Peers = peers(3); ha(c); c.Controller.UserListen = "" }, "user_listen is required"},
		{"metrics address without port", func(c *config.Config) { c.Controller.MetricsListen = "127.0.0.1" }, `controller.metrics_listen "127.0.0.1": address 127.0.0.1: missing port`},
		{"metrics port out of range", func(c *config.Config) { c.Node.MetricsListen = ":70000" }, `node.metrics_listen ":70000": port "70000" is not a number`},
		{"metrics port not a number", func(c *config.Config) { c.Node.MetricsListen = "localhost:http" }, `port "http" is not a number`},
		{"metrics on the node listener", func(c *config.Config) { c.Controller.MetricsListen = c.Controller.Listen }, "is the address of another controller listener"},
		{"empty cgroup parent", func(c *config.Config) { c.Node.CgroupParent = "" }, "cgroup_parent must be an absolute"},
		{"relative cgroup parent", func(c *config.Config) { c.Node.CgroupParent = "gsched" }, "cgroup_parent must be an absolute"},
		{"negative CPUs", func(c *config.Config) { c.Node.CPUs = -1 }, "node.cpus must not be negative"},
		{"negative pids limit", func(c *config.Config) { c.Node.PidsLimit = -1 }, "pids_limit must not be negative"},
		{"unknown GPU discovery", func(c *config.Config) { c.Node.GPUDiscovery = "" }, "gpu_discovery must be auto, nvml or config"},
		{"negative GPU minor", func(c *config.Config) { c.Node.GPU = []config.GPUConfig{{Index: 0, Minor: -1}} }, "node.gpu[0]: index and minor must not be negative"},
		{"duplicate GPU index", func(c *config.Config) { c.Node.GPU = []config.GPUConfig{{Index: 1}, {Index: 1, Minor: 1}} }, "node.gpu[1]: duplicate index 1"},
		{"no partition", func(c *config.Config) { c.Partitions = nil }, "no partition is defined"},
		{"unnamed partition", func(c *config.Config) { c.Partitions[0].Name = "" }, "partition[0] has no name"},
		{"partition twice", func(c *config.Config) { c.Partitions = append(c.Partitions, config.PartitionConfig{Name: "main"}) }, `partition "main" is defined twice`},
		{"two defaults", func(c *config.Config) {
			c.Partitions = append(c.Partitions, config.PartitionConfig{Name: "b", Default: true})
		}, "more than one partition is marked default"},
		{"bad partition state", func(c *config.Config) { c.Partitions[0].State = "open" }, `partition "main": state must be`},
		// Without an [[account]] of that name, any user could claim it.
		{"allowed account not declared", func(c *config.Config) { c.Partitions[0].AllowAccounts = []string{"ml"} },
			`partition "main": allow_accounts names "ml", which is not an [[account]]`},
	}
	all := config.Default()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := config.Default()
			tt.change(c)
			err := c.Validate()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Validate = %v, want an error containing %q", err, tt.want)
			}
		})
	}
	// Problems are reported together, one per line (errors.Join).
	all.Controller.Socket = ""
	all.Node.CPUs = -3
	all.Node.GPUDiscovery = "magic"
	all.Partitions = append(all.Partitions, config.PartitionConfig{Name: "main", State: "weird"})
	err := all.Validate()
	if err == nil {
		t.Fatal("Validate of a config with five problems succeeded")
	}
	var joined interface{ Unwrap() []error }
	if !errors.As(err, &joined) || len(joined.Unwrap()) != 5 {
		t.Errorf("Validate = %q, want 5 joined errors", err)
	}
	if lines := strings.Split(err.Error(), "\n"); len(lines) != 5 {
		t.Errorf("error has %d lines, want 5: %q", len(lines), err)
	}
}

func TestValidPartitionStates(t *testing.T) {
	for _, st := range []string{"", "UP", "up", "Down", "DRAIN", "inactive"} {
		c := config.Default()
		c.Partitions[0].State = st
		if err := c.Validate(); err != nil {
			t.Errorf("state %q: %v", st, err)
		}
	}
}

func TestIsOperator(t *testing.T) {
	c := config.Default()
	c.Operators = []string{"alice", "ops"}
	tests := []struct {
		uid  uint32
		user string
		want bool
	}{
		{0, "root", true},
		{0, "", true},
		{1000, "alice", true},
		{1001, "ops", true},
		{1002, "bob", false},
		{1003, "", false},
		{1004, "Alice", false},
	}
	for _, tt := range tests {
		if got := c.IsOperator(tt.uid, tt.user); got != tt.want {
			t.Errorf("IsOperator(%d, %q) = %v, want %v", tt.uid, tt.user, got, tt.want)
		}
	}
}

func TestFind(t *testing.T) {
	tests := []struct {
		name, flag, env, want string
	}{
		{"flag wins", "/a.conf", "/b.conf", "/a.conf"},
		{"environment next", "", "/b.conf", "/b.conf"},
		{"default last", "", "", config.DefaultPath},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(config.EnvConf, tt.env)
			if got := config.Find(tt.flag); got != tt.want {
				t.Errorf("Find(%q) with $%s=%q = %q, want %q", tt.flag, config.EnvConf, tt.env, got, tt.want)
			}
		})
	}
}

func TestNodeNameAndAddress(t *testing.T) {
	c := config.Default()
	host, err := os.Hostname()
	if err != nil {
		t.Skip(err)
	}
	if got := c.NodeName(); got == "" || strings.Contains(got, ".") || !strings.HasPrefix(host, got) {
		t.Errorf("NodeName() = %q for host %q, want the short host name", got, host)
	}
	if got := c.ControllerAddress(); got != c.Controller.Listen {
		t.Errorf("ControllerAddress() = %q, want the listen address", got)
	}
}

func TestDurationText(t *testing.T) {
	var d config.Duration
	if err := d.UnmarshalText([]byte(" 1h30m ")); err != nil || d.Duration != 90*time.Minute {
		t.Errorf("UnmarshalText = %v, %v", d, err)
	}
	b, err := d.MarshalText()
	if err != nil || string(b) != "1h30m0s" {
		t.Errorf("MarshalText = %q, %v", b, err)
	}
}

// FuzzLoad checks that Load never panics and returns either an error or a
// valid configuration.
func FuzzLoad(f *testing.F) {
	f.Add([]byte(fullExample))
	f.Add([]byte(""))
	f.Add([]byte("[controller]\nnode_timeout = \"-1s\"\n"))
	f.Add([]byte("[[node.gpu]]\nindex = -1\ndevice = \"../x\"\n[[partition]]\n"))
	f.Add([]byte("operators = [1, 2]\n[node]\ncpus = 1e9\n"))
	p := filepath.Join(f.TempDir(), "fuzz.conf") // inputs run one at a time per process
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		type result struct {
			c   *config.Config
			err error
		}
		done := make(chan result, 1)
		go func() {
			c, err := config.Load(p)
			done <- result{c, err}
		}()
		var c *config.Config
		var err error
		select {
		case r := <-done:
			c, err = r.c, r.err
		case <-time.After(5 * time.Second):
			t.Fatalf("Load of %d bytes did not return within 5s: %q", len(data), data)
		}
		if err != nil {
			if c != nil {
				t.Fatalf("Load returned a config with error %v", err)
			}
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("Load accepted an invalid config: %v", err)
		}
		for _, g := range c.Node.GPU {
			if g.Device != "" && !filepath.IsAbs(g.Device) {
				t.Fatalf("GPU device %q left relative", g.Device)
			}
		}
	})
}

func TestLoadPolicySections(t *testing.T) {
	const text = `
[scheduler]
backfill = "conservative"
bf_window = "12h"
bf_max_job_test = 500

[priority]
weight_fairshare = 5000
fairshare = "classic"
decay_half_life = "24h"
billing_weights = { cpu = 1.0, gpu = 64.0 }
weight_tres = { gpu = 100 }

[[account]]
name = "physics"
shares = 2
users = ["alice", "bob"]

[[account]]
name = "theory"
parent = "physics"
users = ["carol"]

[[qos]]
name = "normal"
max_jobs_per_user = 10
max_tres_per_user = "gpu=8"

[[qos]]
name = "urgent"
priority = 100
preempt = ["normal"]
preempt_mode = "requeue"

[[partition]]
name = "gpu"
default_qos = "normal"
priority_tier = 2
`
	c, err := config.Load(writeConf(t, text))
	if err != nil {
		t.Fatal(err)
	}
	if c.Scheduler.Backfill != "conservative" || c.Scheduler.BFWindow.Duration != 12*time.Hour || c.Scheduler.BFMaxJobTest != 500 ||
		c.Scheduler.BFResolution.Duration != time.Minute {
		t.Errorf("scheduler %+v", c.Scheduler)
	}
	if c.Priority.WeightFairShare != 5000 || c.Priority.WeightAge != 1000 || c.Priority.FairShare != "classic" ||
		c.Priority.BillingWeights["gpu"] != 64 || c.Priority.WeightTRES["gpu"] != 100 {
		t.Errorf("priority %+v", c.Priority)
	}
	if len(c.Accounts) != 2 || c.Accounts[1].Parent != "physics" || len(c.Accounts[0].Users) != 2 {
		t.Errorf("accounts %+v", c.Accounts)
	}
	if len(c.QOS) != 2 || c.QOS[1].Preempt[0] != "normal" || c.Partitions[0].DefaultQOS != "normal" || c.Partitions[0].PriorityTier != 2 {
		t.Errorf("qos %+v partitions %+v", c.QOS, c.Partitions)
	}
	bad := []struct{ text, want string }{
		{"[scheduler]\nbackfill = \"greedy\"\n", "scheduler.backfill"},
		{"[priority]\nfairshare = \"lottery\"\n", "priority.fairshare"},
		{"[priority]\nbilling_weights = { disk = 1.0 }\n", "billing_weights"},
		{"[[qos]]\nname = \"a\"\npreempt_mode = \"suspend\"\n", "preempt_mode"},
		{"[[partition]]\nname = \"p\"\ndefault_qos = \"nope\"\n", "default_qos"},
	}
	for _, b := range bad {
		if _, err := config.Load(writeConf(t, b.text)); err == nil || !strings.Contains(err.Error(), b.want) {
			t.Errorf("%q: err %v, want mention of %s", b.text, err, b.want)
		}
	}
}
