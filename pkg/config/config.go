// Package config is gsched's typed configuration: one TOML file shared by
// the controller, the node daemons and the commands (like slurm.conf).
// Default() gives working values, Load() reads a file over them, and
// Validate() reports every problem at once.
package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
)

// DefaultPath is where binaries look when neither --config nor
// $GSCHED_CONF names a file.
const DefaultPath = "/etc/gsched/gsched.conf"

// EnvConf names the environment variable holding the config path.
const EnvConf = "GSCHED_CONF"

// Duration is a time.Duration written as a Go duration string ("30s").
type Duration struct{ time.Duration }

// UnmarshalText parses a Go duration string.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(strings.TrimSpace(string(b)))
	if err != nil {
		return fmt.Errorf("invalid duration %q (want e.g. 30s, 5m, 2h)", string(b))
	}
	d.Duration = v
	return nil
}

// MarshalText writes the duration as a Go duration string.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// Config is the whole configuration.
type Config struct {
	ClusterName string `toml:"cluster_name"`
	// Operators may see and act on every job (root always may).
	Operators  []string          `toml:"operators"`
	LogLevel   string            `toml:"log_level"`
	Controller ControllerConfig  `toml:"controller"`
	Auth       AuthConfig        `toml:"auth"`
	Node       NodeConfig        `toml:"node"`
	Partitions []PartitionConfig `toml:"partition"`

	// Path is the file the configuration was loaded from ("" if none).
	Path string `toml:"-"`
}

// ControllerConfig configures gctld.
type ControllerConfig struct {
	// Socket is the Unix socket users' commands talk to.
	Socket string `toml:"socket"`
	// Listen is the TCP address node daemons talk to.
	Listen string `toml:"listen"`
	// Address is where node daemons reach the controller (default Listen).
	Address  string `toml:"address"`
	StateDir string `toml:"state_dir"`
	PIDFile  string `toml:"pid_file"`
	// NodeTimeout: a node not heard from for this long goes DOWN and its
	// running jobs end NODE_FAIL.
	NodeTimeout Duration `toml:"node_timeout"`
	// HeartbeatInterval is how often nodes report (their long-poll length).
	HeartbeatInterval Duration `toml:"heartbeat_interval"`
	// ScheduleInterval bounds the time between scheduling passes; passes
	// also run on every submission and every freed resource.
	ScheduleInterval Duration `toml:"schedule_interval"`
	// JobRetention is how long finished jobs stay queryable (gacct).
	JobRetention Duration `toml:"job_retention"`
	// KillWait is the grace between SIGTERM and SIGKILL (Slurm's KillWait).
	KillWait Duration `toml:"kill_wait"`
	// SnapshotThreshold is the number of raft log entries between snapshots.
	SnapshotThreshold uint64 `toml:"snapshot_threshold"`
}

// AuthConfig configures daemon-to-daemon authentication.
type AuthConfig struct {
	// KeyFile holds the shared cluster key (mode 0600, at least 32 bytes).
	KeyFile string `toml:"key_file"`
	// MaxClockSkew bounds the age of a signed request.
	MaxClockSkew Duration `toml:"max_clock_skew"`
}

// NodeConfig configures gnoded.
type NodeConfig struct {
	// Name defaults to the short host name.
	Name     string `toml:"name"`
	StateDir string `toml:"state_dir"`
	PIDFile  string `toml:"pid_file"`
	// Runc is the runc binary; default: "runc" beside gnoded, else $PATH.
	Runc string `toml:"runc"`
	// CgroupParent is the absolute cgroup under which jobs are placed.
	CgroupParent string `toml:"cgroup_parent"`
	// CPUs and Memory override detection (0 / "" = detect).
	CPUs   int    `toml:"cpus"`
	Memory string `toml:"memory"`
	// PidsLimit caps the processes of each job (0 = unlimited).
	PidsLimit int64 `toml:"pids_limit"`
	// GPUs: "auto" (NVML, else the declared list), "nvml" (required) or
	// "config" (the declared list only).
	GPUDiscovery string `toml:"gpu_discovery"`
	// GPU declares GPUs by hand (fake devices for tests, or no driver).
	GPU []GPUConfig `toml:"gpu"`
	// Partitions the node belongs to (default: every partition with an
	// empty node list).
	Partitions []string `toml:"partitions"`
}

// GPUConfig declares one GPU.
type GPUConfig struct {
	Index  int    `toml:"index"`
	Minor  int    `toml:"minor"`
	Model  string `toml:"model"`
	Memory string `toml:"memory"`
	UUID   string `toml:"uuid"`
	// Device is the device node (default /dev/nvidia<minor>).
	Device string `toml:"device"`
}

// PartitionConfig declares a partition.
type PartitionConfig struct {
	Name    string   `toml:"name"`
	Nodes   []string `toml:"nodes"`
	Default bool     `toml:"default"`
	// DefaultTime and MaxTime use Slurm's time formats ("1:00:00",
	// "2-00:00:00", "UNLIMITED").
	DefaultTime string `toml:"default_time"`
	MaxTime     string `toml:"max_time"`
	State       string `toml:"state"`
}

// Default returns a configuration that works on one machine as root.
func Default() *Config {
	return &Config{
		ClusterName: "gsched",
		LogLevel:    "info",
		Controller: ControllerConfig{
			Socket:            "/run/gsched/gctld.sock",
			Listen:            "127.0.0.1:6817",
			StateDir:          "/var/lib/gsched/ctld",
			NodeTimeout:       Duration{30 * time.Second},
			HeartbeatInterval: Duration{5 * time.Second},
			ScheduleInterval:  Duration{5 * time.Second},
			JobRetention:      Duration{7 * 24 * time.Hour},
			KillWait:          Duration{30 * time.Second},
			SnapshotThreshold: 8192,
		},
		Auth: AuthConfig{
			KeyFile:      "/etc/gsched/cluster.key",
			MaxClockSkew: Duration{60 * time.Second},
		},
		Node: NodeConfig{
			StateDir:     "/var/lib/gsched/node",
			CgroupParent: "/gsched",
			PidsLimit:    16384,
			GPUDiscovery: "auto",
		},
		Partitions: []PartitionConfig{{Name: "main", Default: true, MaxTime: "UNLIMITED", State: "UP"}},
	}
}

// Find returns the config path: the flag value, else $GSCHED_CONF, else
// DefaultPath.
func Find(flag string) string {
	if flag != "" {
		return flag
	}
	if env := os.Getenv(EnvConf); env != "" {
		return env
	}
	return DefaultPath
}

// Load reads the file over Default(), resolves relative paths against the
// file's directory, and validates the result.
func Load(path string) (*Config, error) {
	c := Default()
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	// Decoding into the default slice would merge the file's first
	// partition into the built-in one: start empty, restore if unset.
	c.Partitions = nil
	md, err := toml.Decode(string(raw), c)
	if err != nil {
		return nil, fmt.Errorf("parse config %s: %w", path, err)
	}
	if !md.IsDefined("partition") {
		c.Partitions = Default().Partitions
	}
	if und := md.Undecoded(); len(und) > 0 {
		keys := make([]string, len(und))
		for i, k := range und {
			keys[i] = k.String()
		}
		return nil, fmt.Errorf("config %s: unknown keys: %s", path, strings.Join(keys, ", "))
	}
	abs, err := filepath.Abs(path)
	if err == nil {
		c.Path = abs
		c.resolve(filepath.Dir(abs))
	}
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	return c, nil
}

func (c *Config) resolve(dir string) {
	for _, p := range []*string{
		&c.Controller.Socket, &c.Controller.StateDir, &c.Controller.PIDFile,
		&c.Auth.KeyFile, &c.Node.StateDir, &c.Node.PIDFile,
	} {
		if *p != "" && !filepath.IsAbs(*p) {
			*p = filepath.Join(dir, *p)
		}
	}
	// A bare program name ("runc") is looked up in $PATH, not resolved.
	if r := c.Node.Runc; r != "" && !filepath.IsAbs(r) && strings.ContainsRune(r, '/') {
		c.Node.Runc = filepath.Join(dir, r)
	}
	for i := range c.Node.GPU {
		if d := c.Node.GPU[i].Device; d != "" && !filepath.IsAbs(d) {
			c.Node.GPU[i].Device = filepath.Join(dir, d)
		}
	}
}

// Validate returns every problem found, joined.
func (c *Config) Validate() error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if c.Controller.Socket == "" {
		bad("controller.socket is empty")
	}
	if c.Controller.Listen == "" {
		bad("controller.listen is empty")
	}
	if c.Controller.NodeTimeout.Duration <= 0 {
		bad("controller.node_timeout must be positive")
	}
	if c.Controller.HeartbeatInterval.Duration <= 0 {
		bad("controller.heartbeat_interval must be positive")
	} else if c.Controller.HeartbeatInterval.Duration >= c.Controller.NodeTimeout.Duration {
		bad("controller.heartbeat_interval (%s) must be shorter than node_timeout (%s)",
			c.Controller.HeartbeatInterval.Duration, c.Controller.NodeTimeout.Duration)
	}
	if c.Controller.ScheduleInterval.Duration <= 0 {
		bad("controller.schedule_interval must be positive")
	}
	if c.Controller.KillWait.Duration < 0 {
		bad("controller.kill_wait must not be negative")
	}
	if c.Auth.MaxClockSkew.Duration <= 0 {
		bad("auth.max_clock_skew must be positive")
	}
	if c.Node.CgroupParent == "" || !strings.HasPrefix(c.Node.CgroupParent, "/") {
		bad("node.cgroup_parent must be an absolute cgroup path")
	}
	if c.Node.CPUs < 0 {
		bad("node.cpus must not be negative")
	}
	if c.Node.PidsLimit < 0 {
		bad("node.pids_limit must not be negative")
	}
	switch c.Node.GPUDiscovery {
	case "auto", "nvml", "config":
	default:
		bad("node.gpu_discovery must be auto, nvml or config, not %q", c.Node.GPUDiscovery)
	}
	seenIdx := map[int]bool{}
	for i, g := range c.Node.GPU {
		if g.Index < 0 || g.Minor < 0 {
			bad("node.gpu[%d]: index and minor must not be negative", i)
		}
		if seenIdx[g.Index] {
			bad("node.gpu[%d]: duplicate index %d", i, g.Index)
		}
		seenIdx[g.Index] = true
	}
	if len(c.Partitions) == 0 {
		bad("no partition is defined")
	}
	seen := map[string]bool{}
	defaults := 0
	for i, p := range c.Partitions {
		if p.Name == "" {
			bad("partition[%d] has no name", i)
		}
		if seen[p.Name] {
			bad("partition %q is defined twice", p.Name)
		}
		seen[p.Name] = true
		if p.Default {
			defaults++
		}
		switch strings.ToUpper(p.State) {
		case "", "UP", "DOWN", "DRAIN", "INACTIVE":
		default:
			bad("partition %q: state must be UP, DOWN, DRAIN or INACTIVE", p.Name)
		}
	}
	if defaults > 1 {
		bad("more than one partition is marked default")
	}
	return errors.Join(errs...)
}

// NodeName is the configured node name, else the short host name.
func (c *Config) NodeName() string {
	if c.Node.Name != "" {
		return c.Node.Name
	}
	h, err := os.Hostname()
	if err != nil || h == "" {
		return "localhost"
	}
	if i := strings.IndexByte(h, '.'); i > 0 {
		h = h[:i]
	}
	return h
}

// ControllerAddress is where node daemons reach the controller.
func (c *Config) ControllerAddress() string {
	if c.Controller.Address != "" {
		return c.Controller.Address
	}
	return c.Controller.Listen
}

// IsOperator reports whether the user may act on every job.
func (c *Config) IsOperator(uid uint32, user string) bool {
	if uid == 0 {
		return true
	}
	for _, op := range c.Operators {
		if op == user {
			return true
		}
	}
	return false
}
