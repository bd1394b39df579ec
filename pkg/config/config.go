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

	"github.com/gsched/gsched/pkg/api"
	"github.com/gsched/gsched/pkg/topology"
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
	Operators []string `toml:"operators"`
	LogLevel  string   `toml:"log_level"`
	// SlurmEnv gives jobs the SLURM_* equivalents of their GSCHED_*
	// variables (on by default) so Slurm-aware tools work unchanged.
	SlurmEnv   bool              `toml:"slurm_env"`
	Controller ControllerConfig  `toml:"controller"`
	Auth       AuthConfig        `toml:"auth"`
	TLS        TLSConfig         `toml:"tls"`
	Node       NodeConfig        `toml:"node"`
	Partitions []PartitionConfig `toml:"partition"`
	Scheduler  SchedulerConfig   `toml:"scheduler"`
	Priority   PriorityConfig    `toml:"priority"`
	Accounts   []AccountConfig   `toml:"account"`
	QOS        []QOSConfig       `toml:"qos"`
	// Switches describe the network (Slurm topology/tree style) for
	// placing multi-node jobs under few leaf switches.
	Switches []topology.Switch `toml:"switch"`

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
	Address string `toml:"address"`
	// UserListen is the TCP address remote users' commands talk to, with
	// a token from `gcontrol token` ("" = no remote user access).
	UserListen string `toml:"user_listen"`
	// UserAddress is where remote commands reach the controller (default
	// UserListen); $GSCHED_CONTROLLER overrides it.
	UserAddress string `toml:"user_address"`
	StateDir    string `toml:"state_dir"`
	PIDFile     string `toml:"pid_file"`
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

	// High availability: several controllers replicate the state with
	// raft over TCP; the leader schedules and the others forward every
	// request to it. Empty Peers = a single controller.
	//
	// ID names this controller among Peers (default: the short host name).
	ID string `toml:"id"`
	// RaftListen is this controller's raft TCP address (TLS, keyed by the
	// cluster key).
	RaftListen string `toml:"raft_listen"`
	// Peers lists every controller of the set, this one included.
	Peers []PeerConfig `toml:"peer"`
	// MetricsListen is the TCP address of the controller's Prometheus
	// /metrics endpoint ("" = off; unauthenticated, see docs/SECURITY.md).
	MetricsListen string `toml:"metrics_listen"`
	// APIPlaintextTokens lets the REST API and the web dashboard take
	// bearer tokens over plain HTTP from clients other than loopback
	// (default: over TLS, or from loopback, only; see docs/API.md).
	APIPlaintextTokens bool `toml:"api_plaintext_tokens"`

	// Prolog and Epilog run on the leader when a job starts and when it
	// ends (Slurm's PrologSlurmctld/EpilogSlurmctld), in the background:
	// the scheduler never waits for them.
	Prolog        string   `toml:"prolog"`
	Epilog        string   `toml:"epilog"`
	PrologTimeout Duration `toml:"prolog_timeout"`
	EpilogTimeout Duration `toml:"epilog_timeout"`
	// MailProgram is the sendmail-compatible command the leader runs to
	// mail users about their jobs (--mail-type), the message with To: and
	// Subject: headers on its standard input, e.g. "/usr/sbin/sendmail -t"
	// ("" = no mail).
	MailProgram string `toml:"mail_program"`
}

// PeerConfig is one controller of an HA set, as the others reach it.
type PeerConfig struct {
	ID string `toml:"id"`
	// Raft is its raft address; Listen its node-daemon address; User its
	// remote-command address (its user_listen).
	Raft   string `toml:"raft"`
	Listen string `toml:"listen"`
	User   string `toml:"user"`
}

// AuthConfig configures daemon-to-daemon authentication.
type AuthConfig struct {
	// KeyFile holds the shared cluster key (mode 0600, at least 32 bytes).
	KeyFile string `toml:"key_file"`
	// MaxClockSkew bounds the age of a signed request.
	MaxClockSkew Duration `toml:"max_clock_skew"`
	// TokenLifespan is how long a `gcontrol token` is valid by default;
	// MaxTokenLifespan bounds what a caller may ask for.
	TokenLifespan    Duration `toml:"token_lifespan"`
	MaxTokenLifespan Duration `toml:"max_token_lifespan"`
}

// TLSConfig turns on TLS for the daemons' TCP traffic (off when Cert and
// CA are empty): the controller serves node daemons with mutual TLS (each
// must present a certificate from CA naming it) and remote users with
// server-side TLS; node daemons and the commands check the controller's
// certificate against CA. Requests stay signed (cluster key or token) as
// without TLS: TLS adds confidentiality and per-node identity.
type TLSConfig struct {
	// Cert and Key are this daemon's certificate and private key (PEM).
	// Required on gctld and gnoded when TLS is on; a command needs only CA.
	Cert string `toml:"cert"`
	Key  string `toml:"key"`
	// CA holds the certificate(s) of the authority that signs every
	// daemon's certificate (PEM).
	CA string `toml:"ca"`
	// ServerName is the name checked in the controller's certificate
	// ("": the host part of the address dialled).
	ServerName string `toml:"server_name"`
}

// Enabled reports whether TLS is configured.
func (t TLSConfig) Enabled() bool { return t.CA != "" || t.Cert != "" }

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
	// GPUTopology describes how declared GPUs are connected: a preset
	// name ("dgx-h100", "pcie-8gpu-2socket", "nvlink-pairs-4gpu") or a
	// matrix as printed by `nvidia-smi topo -m`. NVML discovery measures
	// the topology itself and ignores this.
	GPUTopology string `toml:"gpu_topology"`
	// Partitions the node belongs to (default: every partition with an
	// empty node list).
	Partitions []string `toml:"partitions"`
	// Features label the node for --constraint (e.g. ["ib", "nvme"]).
	Features []string `toml:"features"`
	// Address is the host name or IP other nodes and grun reach this
	// node at (MASTER_ADDR of jobs whose head node it is; default: the
	// host name).
	Address string `toml:"address"`
	// NCCLSocketIfname and NCCLIBHCA, when set, are given to job tasks
	// as NCCL_SOCKET_IFNAME and NCCL_IB_HCA.
	NCCLSocketIfname string `toml:"nccl_socket_ifname"`
	NCCLIBHCA        string `toml:"nccl_ib_hca"`
	// MetricsListen is the TCP address of the node daemon's Prometheus
	// /metrics endpoint ("" = off; unauthenticated, see docs/SECURITY.md).
	MetricsListen string `toml:"metrics_listen"`

	// HealthCheckProgram runs as root when the daemon starts and every
	// HealthCheckInterval; a non-zero exit or running past
	// HealthCheckTimeout drains the node, the first line of its output
	// being the reason (ops.go; docs in gsched.conf(5)).
	HealthCheckProgram  string   `toml:"health_check_program"`
	HealthCheckInterval Duration `toml:"health_check_interval"`
	HealthCheckTimeout  Duration `toml:"health_check_timeout"`
	// ExpectedGPUs is the GPU count the built-in check wants (0 = the
	// declared GPUs, else those NVML found at start-up).
	ExpectedGPUs int `toml:"expected_gpus"`
	// Prolog and Epilog run as root on each node of a job before its task
	// starts there and after it ended, within the timeouts.
	Prolog        string   `toml:"prolog"`
	Epilog        string   `toml:"epilog"`
	PrologTimeout Duration `toml:"prolog_timeout"`
	EpilogTimeout Duration `toml:"epilog_timeout"`
	// ReservedCPUs, ReservedMemory and ReservedGPUs are kept for the
	// host's own use: never offered to jobs.
	ReservedCPUs   CPUReserve `toml:"reserved_cpus"`
	ReservedMemory string     `toml:"reserved_memory"`
	ReservedGPUs   []int      `toml:"reserved_gpus"`
	// ImageCacheSize bounds the unpacked image layers under
	// <state_dir>/images ("" = 20G, "0" = no limit; see image.go).
	ImageCacheSize string `toml:"image_cache_size"`
	// CDISpecDirs are where image jobs' GPUs are looked up as CDI devices
	// (empty = /etc/cdi and /var/run/cdi).
	CDISpecDirs []string `toml:"cdi_spec_dirs"`
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
	// PriorityTier: partitions of a higher tier are scheduled first.
	PriorityTier int `toml:"priority_tier"`
	// PriorityJobFactor feeds the partition priority factor.
	PriorityJobFactor int `toml:"priority_job_factor"`
	// AllowAccounts limits who may submit (empty = every account).
	AllowAccounts []string `toml:"allow_accounts"`
	// DefaultQOS is the QOS of jobs that name none ("" = none).
	DefaultQOS string `toml:"default_qos"`
}

// SchedulerConfig selects the backfill policy (Slurm's SchedulerType and
// SchedulerParameters bf_*).
type SchedulerConfig struct {
	// Backfill: "easy" (default), "conservative" or "none" (strict
	// priority order per partition).
	Backfill     string   `toml:"backfill"`
	BFWindow     Duration `toml:"bf_window"`
	BFMaxJobTest int      `toml:"bf_max_job_test"`
	BFResolution Duration `toml:"bf_resolution"`
	// MaxArraySize bounds job array indices (Slurm's MaxArraySize): an
	// index must be below it.
	MaxArraySize int `toml:"max_array_size"`
}

// PriorityConfig holds the multifactor priority weights (Slurm's
// PriorityWeight*), fair-share and usage settings.
type PriorityConfig struct {
	WeightAge       int64            `toml:"weight_age"`
	WeightFairShare int64            `toml:"weight_fairshare"`
	WeightJobSize   int64            `toml:"weight_jobsize"`
	WeightPartition int64            `toml:"weight_partition"`
	WeightQOS       int64            `toml:"weight_qos"`
	WeightTRES      map[string]int64 `toml:"weight_tres"`
	MaxAge          Duration         `toml:"max_age"`
	FavorSmall      bool             `toml:"favor_small"`
	// FairShare: "fair_tree" (default) or "classic".
	FairShare     string   `toml:"fairshare"`
	DecayHalfLife Duration `toml:"decay_half_life"`
	// BillingWeights price a second of each resource (TRESBillingWeights):
	// keys "cpu", "mem_gb", "gpu".
	BillingWeights map[string]float64 `toml:"billing_weights"`
}

// AccountConfig declares an account of the fair-share tree.
type AccountConfig struct {
	Name       string   `toml:"name"`
	Parent     string   `toml:"parent"`
	Shares     int      `toml:"shares"`
	Users      []string `toml:"users"`
	UserShares int      `toml:"user_shares"`
}

// QOSConfig declares a quality of service. TRES limits are written like
// Slurm's: "cpu=64,mem=256G,gpu=8".
type QOSConfig struct {
	Name                 string   `toml:"name"`
	Priority             int64    `toml:"priority"`
	MaxTRESPerUser       string   `toml:"max_tres_per_user"`
	MaxJobsPerUser       int      `toml:"max_jobs_per_user"`
	MaxSubmitJobsPerUser int      `toml:"max_submit_jobs_per_user"`
	GrpTRES              string   `toml:"grp_tres"`
	MaxWall              string   `toml:"max_wall"`
	Preempt              []string `toml:"preempt"`
	PreemptMode          string   `toml:"preempt_mode"`
	GraceTime            Duration `toml:"grace_time"`
}

// Default returns a configuration that works on one machine as root.
func Default() *Config {
	return &Config{
		ClusterName: "gsched",
		LogLevel:    "info",
		SlurmEnv:    true,
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
			PrologTimeout:     Duration{DefaultScriptTimeout},
			EpilogTimeout:     Duration{DefaultScriptTimeout},
		},
		Auth: AuthConfig{
			KeyFile:          "/etc/gsched/cluster.key",
			MaxClockSkew:     Duration{60 * time.Second},
			TokenLifespan:    Duration{24 * time.Hour},
			MaxTokenLifespan: Duration{30 * 24 * time.Hour},
		},
		Node: NodeConfig{
			StateDir:     "/var/lib/gsched/node",
			CgroupParent: "/gsched",
			PidsLimit:    16384,
			GPUDiscovery: "auto",

			HealthCheckInterval: Duration{DefaultHealthCheckInterval},
			HealthCheckTimeout:  Duration{DefaultHealthCheckTimeout},
			PrologTimeout:       Duration{DefaultScriptTimeout},
			EpilogTimeout:       Duration{DefaultScriptTimeout},
		},
		Partitions: []PartitionConfig{{Name: "main", Default: true, MaxTime: "UNLIMITED", State: "UP"}},
		Scheduler: SchedulerConfig{
			Backfill: "easy", BFWindow: Duration{24 * time.Hour}, BFResolution: Duration{time.Minute},
			MaxArraySize: 100001,
		},
		Priority: PriorityConfig{
			WeightAge: 1000, WeightFairShare: 10000, WeightJobSize: 1000, WeightPartition: 1000, WeightQOS: 1000,
			MaxAge: Duration{7 * 24 * time.Hour}, FairShare: "fair_tree", DecayHalfLife: Duration{7 * 24 * time.Hour},
			BillingWeights: map[string]float64{"cpu": 1, "mem_gb": 0.0625, "gpu": 32},
		},
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
		&c.TLS.Cert, &c.TLS.Key, &c.TLS.CA,
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
	c.resolveOps(dir)
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
	if mp := strings.Fields(c.Controller.MailProgram); len(mp) > 0 && !filepath.IsAbs(mp[0]) {
		bad("controller.mail_program must start with an absolute path, got %q", mp[0])
	}
	if c.Controller.KillWait.Duration < 0 {
		bad("controller.kill_wait must not be negative")
	}
	if c.Auth.MaxClockSkew.Duration <= 0 {
		bad("auth.max_clock_skew must be positive")
	}
	if len(c.Controller.Peers) > 0 {
		ids := map[string]bool{}
		for i, p := range c.Controller.Peers {
			if p.ID == "" || p.Raft == "" || p.Listen == "" || p.User == "" {
				bad("controller.peer %d: id, raft, listen and user are all required", i+1)
			}
			if ids[p.ID] {
				bad("controller.peer %q is listed twice", p.ID)
			}
			ids[p.ID] = true
		}
		if len(c.Controller.Peers) < 3 {
			bad("controller.peer: an HA set needs at least 3 controllers (it tolerates (n-1)/2 failures), got %d", len(c.Controller.Peers))
		}
		if c.Controller.RaftListen == "" {
			bad("controller.raft_listen is required with controller.peer")
		}
		if c.Controller.UserListen == "" {
			bad("controller.user_listen is required with controller.peer (followers forward commands to the leader there)")
		}
	}
	if (c.TLS.Cert == "") != (c.TLS.Key == "") {
		bad("tls.cert and tls.key go together")
	}
	if c.TLS.Cert != "" && c.TLS.CA == "" {
		bad("tls.ca is required with tls.cert (it checks the other side's certificate)")
	}
	if c.Auth.TokenLifespan.Duration <= 0 || c.Auth.MaxTokenLifespan.Duration < c.Auth.TokenLifespan.Duration {
		bad("auth.token_lifespan must be positive and at most auth.max_token_lifespan")
	}
	if _, err := topology.NewNetwork(c.Switches); err != nil {
		bad("switch: %v", err)
	}
	errs = append(errs, c.validateMetrics()...)
	errs = append(errs, c.validateOps()...)
	errs = append(errs, c.validateImages()...)
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
	switch c.Scheduler.Backfill {
	case "", "none", "easy", "conservative":
	default:
		bad("scheduler.backfill must be easy, conservative or none, not %q", c.Scheduler.Backfill)
	}
	if c.Scheduler.BFMaxJobTest < 0 || c.Scheduler.BFWindow.Duration < 0 || c.Scheduler.BFResolution.Duration < 0 {
		bad("scheduler: bf_window, bf_max_job_test and bf_resolution must not be negative")
	}
	if c.Scheduler.MaxArraySize < 1 || c.Scheduler.MaxArraySize > api.MaxArrayIndex+1 {
		bad("scheduler.max_array_size must be from 1 to %d", api.MaxArrayIndex+1)
	}
	switch c.Priority.FairShare {
	case "", "fair_tree", "classic":
	default:
		bad("priority.fairshare must be fair_tree or classic, not %q", c.Priority.FairShare)
	}
	pr := c.Priority
	for _, w := range []int64{pr.WeightAge, pr.WeightFairShare, pr.WeightJobSize, pr.WeightPartition, pr.WeightQOS} {
		if w < 0 {
			bad("priority weights must not be negative")
			break
		}
	}
	for k, v := range pr.BillingWeights {
		if (k != "cpu" && k != "mem_gb" && k != "gpu") || v < 0 {
			bad("priority.billing_weights: %q = %v (keys cpu, mem_gb, gpu; not negative)", k, v)
		}
	}
	for k, v := range pr.WeightTRES {
		if (k != "cpu" && k != "mem" && k != "gpu") || v < 0 {
			bad("priority.weight_tres: %q = %v (keys cpu, mem, gpu; not negative)", k, v)
		}
	}
	qosNames := map[string]bool{}
	for i, q := range c.QOS {
		if q.Name == "" {
			bad("qos[%d] has no name", i)
		}
		if qosNames[q.Name] {
			bad("qos %q is defined twice", q.Name)
		}
		qosNames[q.Name] = true
		switch strings.ToUpper(q.PreemptMode) {
		case "", "OFF", "CANCEL", "REQUEUE":
		default:
			bad("qos %q: preempt_mode must be OFF, CANCEL or REQUEUE", q.Name)
		}
	}
	accounts := map[string]bool{}
	for _, a := range c.Accounts {
		accounts[a.Name] = true
	}
	for _, p := range c.Partitions {
		if p.DefaultQOS != "" && !qosNames[p.DefaultQOS] {
			bad("partition %q: default_qos %q is not defined", p.Name, p.DefaultQOS)
		}
		// Only accounts the controller knows are checked against their
		// users; any other name a job could simply claim.
		for _, a := range p.AllowAccounts {
			if !accounts[a] {
				bad("partition %q: allow_accounts names %q, which is not an [[account]]", p.Name, a)
			}
		}
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

// ControllerID is this controller's name among its peers.
func (c *Config) ControllerID() string {
	if c.Controller.ID != "" {
		return c.Controller.ID
	}
	h, _ := os.Hostname()
	short, _, _ := strings.Cut(h, ".")
	return short
}

// Peer returns the peer with the id.
func (c *Config) Peer(id string) (PeerConfig, bool) {
	for _, p := range c.Controller.Peers {
		if p.ID == id {
			return p, true
		}
	}
	return PeerConfig{}, false
}

// ControllerAddress is where node daemons reach the controller (with HA,
// a comma-separated list they fail over along).
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
