// Package daemon wires a node daemon together from its configuration:
// resource discovery (CPUs, memory, GPUs), the runc runtime with its
// per-node state, runc root and cgroup parent, the signed controller
// client, and the agent loop. gnoded's main and the test harness share it.
package daemon

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"strconv"
	"strings"

	"go.uber.org/zap"

	"github.com/gsched/gsched/noded/agent"
	"github.com/gsched/gsched/pkg/api"
	"github.com/gsched/gsched/pkg/config"
	"github.com/gsched/gsched/pkg/gpu"
	"github.com/gsched/gsched/pkg/rpc"
	"github.com/gsched/gsched/pkg/runtime/runc"
	"github.com/gsched/gsched/pkg/topology"
	"github.com/gsched/gsched/pkg/units"
)

// Version is reported to the controller.
const Version = "0.1.0"

// Daemon is a configured node daemon.
type Daemon struct {
	Agent   *agent.Agent
	Node    api.Node
	Runtime *runc.Runtime
	client  *rpc.Failover
	obs     *observability
	log     *zap.Logger
	health  *health // nil: no health check
}

// New discovers resources and prepares the runtime, the agent and the
// metrics endpoint (node.metrics_listen).
func New(cfg *config.Config, key []byte, log *zap.Logger, opts ...Option) (*Daemon, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	node, warnings, err := Describe(cfg)
	if err != nil {
		return nil, err
	}
	// Every line of this daemon concerns its node.
	log = log.With(zap.String("node", node.Name))
	for _, w := range warnings {
		log.Warn("node description incomplete", zap.String("detail", w))
	}
	runcPath, err := findRunc(cfg.Node.Runc)
	if err != nil {
		return nil, err
	}
	dir := cfg.Node.StateDir
	cacheBytes, err := cfg.Node.ImageCacheBytes()
	if err != nil {
		return nil, err
	}
	// The static gsched-init, when make build put it beside us, is also
	// every task's init and supervisor: it starts in about half the time
	// gnoded does (no C library to load, fewer packages to initialise),
	// twice per job.
	static := findStaticInit(runcPath)
	rt, err := runc.New(runc.Options{
		StateDir:       filepath.Join(dir, "tasks"),
		RuncPath:       runcPath,
		RuncRoot:       filepath.Join(dir, "runc"),
		RootfsDir:      filepath.Join(dir, "rootfs"),
		CgroupParent:   strings.TrimSuffix(cfg.Node.CgroupParent, "/") + "/" + node.Name,
		Logger:         log.Named("runtime"),
		ImageDir:       filepath.Join(dir, "images"),
		ImageCacheSize: cacheBytes,
		StaticInit:     static,
		InitBinary:     static, // "": gnoded itself
		ShimBinary:     static, // "": gnoded itself
		CDISpecDirs:    cfg.Node.CDISpecDirs,
	})
	if err != nil {
		return nil, err
	}
	// With HA, controller.address lists every controller: the agent
	// moves to the next when one cannot be reached (any of them forwards
	// to the leader).
	var tlsConf *tls.Config
	if cfg.TLS.Enabled() {
		// Mutual TLS: the controller checks that this certificate names
		// this node.
		if cfg.TLS.Cert == "" {
			return nil, fmt.Errorf("tls: gnoded needs tls.cert and tls.key (the controller requires a certificate naming %s)", node.Name)
		}
		if tlsConf, err = rpc.ClientTLS(rpc.TLSFiles(cfg.TLS)); err != nil {
			return nil, err
		}
	}
	var clients []*rpc.Client
	for _, addr := range rpc.SplitAddrs(cfg.ControllerAddress()) {
		c := rpc.DialSigned(addr, key, node.Name)
		if tlsConf != nil {
			c.WithTLS(tlsConf)
		}
		clients = append(clients, c)
	}
	if len(clients) == 0 {
		return nil, fmt.Errorf("controller.address is empty")
	}
	client := rpc.NewFailover(clients, true)
	var a *agent.Agent
	hc, err := newHealth(cfg, &node, log.Named("health"))
	if err != nil {
		client.Close()
		return nil, err
	}
	obs, err := newObservability(cfg, &node, func() *agent.Agent { return a }, log)
	if err != nil {
		client.Close()
		return nil, err
	}
	a = agent.New(agent.Options{
		Node: node, Controller: client, Runtime: rt, Log: log.Named("agent"),
		Heartbeat:   cfg.Controller.HeartbeatInterval.Duration,
		KillGrace:   cfg.Controller.KillWait.Duration,
		PidsLimit:   cfg.Node.PidsLimit,
		ClusterName: cfg.ClusterName,
		SlurmEnv:    cfg.SlurmEnv,

		NCCLSocketIfname: cfg.Node.NCCLSocketIfname,
		NCCLIBHCA:        cfg.Node.NCCLIBHCA,
		Level:            o.level,
		Launched:         obs.met.Launch,
		Hooks:            agentHooks(cfg, hc),
		GPUUsage:         obs.gpuUsageFunc(),
	})
	log.Info("node described", zap.Int("cpus", node.CPUs),
		zap.Int64("mem_bytes", node.MemBytes), zap.Int("gpus", len(node.GPUs)),
		zap.String("gpu_source", node.GPUSource), zap.String("runc", runcPath), zap.Bool("seccomp", rt.Seccomp()))
	return &Daemon{Agent: a, Node: node, Runtime: rt, client: client, obs: obs, log: log, health: hc}, nil
}

// Run runs the agent (and the metrics endpoint) until ctx is done.
func (d *Daemon) Run(ctx context.Context) error {
	defer d.client.Close()
	defer d.obs.close()
	if d.health != nil {
		defer d.health.close()
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); d.obs.serve(ctx, d.log) }()
	defer func() { cancel(); <-done }()
	return d.Agent.Run(ctx)
}

// Describe detects the node's CPUs, memory and GPUs, with config
// overrides. Warnings name what could not be found but did not stop it
// (an unmeasurable GPU topology).
func Describe(cfg *config.Config) (api.Node, []string, error) {
	n := api.Node{Name: cfg.NodeName(), Partitions: cfg.Node.Partitions, Features: cfg.Node.Features, Version: Version}
	n.CPUs = cfg.Node.CPUs
	if n.CPUs == 0 {
		n.CPUs = goruntime.NumCPU()
	}
	if cfg.Node.Memory != "" {
		m, err := units.ParseMemory(cfg.Node.Memory)
		if err != nil {
			return n, nil, fmt.Errorf("node.memory: %w", err)
		}
		n.MemBytes = m
	} else {
		m, err := memTotal()
		if err != nil {
			return n, nil, err
		}
		n.MemBytes = m
	}
	info, err := gpu.Discover(cfg.Node.GPUDiscovery, cfg.Node.GPU)
	if err != nil {
		return n, nil, err
	}
	n.GPUs, n.GPUSource, n.ExtraDevices = info.GPUs, info.Source, info.Extra
	n.DriverVersion, n.CUDAVersion = info.Driver, info.CUDA
	var warnings []string
	if len(n.GPUs) > 0 {
		topo, warn, err := gpuTopology(cfg, info)
		if err != nil {
			return n, nil, err
		}
		if warn != "" {
			warnings = append(warnings, warn)
		}
		n.Topology = topo
	}
	if b, err := os.ReadFile("/proc/sys/kernel/random/boot_id"); err == nil {
		n.BootID = strings.TrimSpace(string(b))
	}
	n.Addr = cfg.Node.Address
	if n.Addr == "" {
		n.Addr, _ = os.Hostname()
	}
	// After the topology: it still covers the reserved GPUs, by index.
	if err := Reserve(&n, &cfg.Node, hostCPUs()); err != nil {
		return n, nil, err
	}
	return n, warnings, nil
}

func memTotal() (int64, error) {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0, fmt.Errorf("detect memory: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 2 && fields[0] == "MemTotal:" {
			kb, err := strconv.ParseInt(fields[1], 10, 64)
			if err != nil {
				return 0, fmt.Errorf("detect memory: %w", err)
			}
			return kb << 10, nil
		}
	}
	return 0, errors.New("detect memory: no MemTotal in /proc/meminfo")
}

// findRunc returns the configured runc, else the one beside this binary
// (make build puts bin/runc next to bin/gnoded) or in ../libexec/gsched
// (make install), else runc from $PATH.
func findRunc(configured string) (string, error) {
	if configured != "" {
		if _, err := os.Stat(configured); err != nil {
			return "", fmt.Errorf("node.runc: %w", err)
		}
		return configured, nil
	}
	if exe, err := os.Executable(); err == nil {
		// bin/runc beside bin/gnoded (make build), or
		// PREFIX/libexec/gsched/runc for PREFIX/sbin/gnoded (make
		// install: not on $PATH, where it would shadow the host's runc).
		for _, p := range []string{filepath.Join(filepath.Dir(exe), "runc"),
			filepath.Join(filepath.Dir(exe), "..", "libexec", "gsched", "runc")} {
			if st, err := os.Stat(p); err == nil && !st.IsDir() {
				return filepath.Clean(p), nil
			}
		}
	}
	p, err := exec.LookPath("runc")
	if err != nil {
		return "", errors.New("no runc binary: set node.runc, put runc beside gnoded (make build does), or install one")
	}
	return p, nil
}

// gpuTopology measures the GPUs' topology with NVML, or reads the one the
// configuration declares (a preset or an nvidia-smi matrix).
// A topology NVML cannot measure is a warning (GPUs are then picked by
// index); a declared one that does not parse or fit is an error.
func gpuTopology(cfg *config.Config, info gpu.Info) (*api.GPUTopology, string, error) {
	var topo *api.GPUTopology
	var err error
	if info.Source == "nvml" {
		if topo, err = gpu.DiscoverTopology(info.GPUs); err != nil {
			return nil, "gpu topology: " + err.Error(), nil
		}
	} else if topo, err = topology.FromSpec(cfg.Node.GPUTopology); err != nil {
		return nil, "", fmt.Errorf("node.gpu_topology: %w", err)
	}
	if err := topology.Validate(topo, len(info.GPUs)); err != nil {
		return nil, "", fmt.Errorf("gpu topology does not match the %d GPUs: %w", len(info.GPUs), err)
	}
	return topo, "", nil
}
