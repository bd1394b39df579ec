// Package testcluster starts a real gsched cluster for end-to-end tests: a
// controller and N node daemons on 127.0.0.1 with separate state dirs, runc
// roots, cgroup parents and declared fake GPUs (char 195:N nodes made with
// mknod). Daemons run in the test process by default (so -race sees them)
// or as the real binaries (Options.Binaries) for kill -9 and restart tests.
// Every address is the one really bound; tests poll with deadlines.
//
// Test binaries that use it must call runc.Main() first in TestMain: the
// test binary serves as the task supervisor and in-container init.
package testcluster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/BurntSushi/toml"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/gsched/gsched/ctld/server"
	"github.com/gsched/gsched/noded/daemon"
	"github.com/gsched/gsched/pkg/api"
	"github.com/gsched/gsched/pkg/auth"
	"github.com/gsched/gsched/pkg/config"
	"github.com/gsched/gsched/pkg/rpc"
	"github.com/gsched/gsched/pkg/rpc/rpctest"
)

// Options shape a cluster.
type Options struct {
	Nodes       int    // default 1
	CPUsPerNode int    // default 2
	MemPerNode  string // default "4G"
	GPUsPerNode int    // fake GPUs per node
	// Controllers > 1 runs an HA set of that many gctld processes.
	Controllers int
	// Partitionable puts a cuttable proxy between each node daemon and
	// the controller (see Partition).
	Partitionable bool
	// TLS turns on mutual TLS for daemon traffic: a CA (Cluster.CA) signs
	// a certificate for each controller (its id, or "ctld") and each node
	// daemon (its name).
	TLS bool
	// Binaries runs bin/gctld and bin/gnoded as processes.
	Binaries    bool
	Heartbeat   time.Duration // default 500ms
	NodeTimeout time.Duration // default 5s
	KillWait    time.Duration // default 1s
	// Operators are extra operator user names.
	Operators []string
	// Verbose sends daemon logs to the test log.
	Verbose bool
	// Configure, when set, edits the cluster's configuration (policy,
	// accounts, QOS, partitions) before any daemon starts.
	Configure func(*config.Config)
	// ConfigureNode, when set, edits node i's (1-based) configuration
	// (GPU models, features) before it starts.
	ConfigureNode func(i int, c *config.Config)
	// Metrics turns on every daemon's /metrics on 127.0.0.1:0 (see
	// metrics.go for the addresses and scraping).
	Metrics bool
}

// Cluster is a running test cluster.
type Cluster struct {
	t    testing.TB
	opts Options
	// Dir is the cluster's base dir (under /var/tmp: /tmp is private
	// inside job containers, so job work dirs must live elsewhere).
	Dir string
	// Conf is the controller's config file (also what the CLI reads).
	Conf   string
	Socket string
	// Addr is the controller's TCP address for node daemons.
	Addr string
	// UserAddr is its TCP address for remote commands (with a token).
	UserAddr string
	Key      []byte
	Bin      string
	// CA signs the daemons' certificates (Options.TLS).
	CA *rpctest.CA

	ctl   *proc   // the first controller
	ctls  []*proc // all controllers (HA: Options.Controllers)
	nodes []*proc
	// Sockets are the controllers' Unix sockets, in order.
	Sockets []string
	links   []*netLink // per node, with Options.Partitionable
	work    int
}

// proc is one daemon, in-process or a child process.
type proc struct {
	name    string
	conf    *config.Config
	cfgPath string
	cancel  context.CancelFunc
	done    chan error
	cmd     *exec.Cmd
	rt      *daemon.Daemon
	level   zap.AtomicLevel // an in-process node daemon's log level
}

// Start brings a cluster up and registers its teardown with t.Cleanup.
func Start(t testing.TB, opts Options) *Cluster {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("end-to-end tests need root (runc, cgroups, running jobs as other users)")
	}
	if opts.Nodes == 0 {
		opts.Nodes = 1
	}
	if opts.CPUsPerNode == 0 {
		opts.CPUsPerNode = 2
	}
	if opts.MemPerNode == "" {
		opts.MemPerNode = "4G"
	}
	if opts.Heartbeat == 0 {
		opts.Heartbeat = 500 * time.Millisecond
	}
	if opts.NodeTimeout == 0 {
		opts.NodeTimeout = 5 * time.Second
	}
	if opts.Controllers > 1 {
		opts.Binaries = true // kill -9 needs processes
	}
	if opts.KillWait == 0 {
		opts.KillWait = time.Second
	}
	dir, err := os.MkdirTemp("/var/tmp", "gsched-e2e-")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	c := &Cluster{t: t, opts: opts, Dir: dir, Socket: filepath.Join(dir, "ctld.sock")}
	t.Cleanup(c.teardown)
	keyPath := filepath.Join(dir, "cluster.key")
	if err := auth.CreateKey(keyPath); err != nil {
		t.Fatal(err)
	}
	if c.Key, err = auth.LoadKey(keyPath); err != nil {
		t.Fatal(err)
	}
	c.Bin = Binaries(t)

	base := config.Default()
	base.ClusterName = "test"
	base.LogLevel = "debug"
	base.Operators = opts.Operators
	base.Controller.Socket = c.Socket
	base.Controller.Listen = "127.0.0.1:0"
	base.Controller.UserListen = "127.0.0.1:0"
	base.Controller.StateDir = filepath.Join(dir, "ctld")
	base.Controller.HeartbeatInterval = config.Duration{Duration: opts.Heartbeat}
	base.Controller.NodeTimeout = config.Duration{Duration: opts.NodeTimeout}
	base.Controller.ScheduleInterval = config.Duration{Duration: time.Second}
	base.Controller.KillWait = config.Duration{Duration: opts.KillWait}
	base.Auth.KeyFile = keyPath
	base.Node.CgroupParent = "/" + filepath.Base(dir)
	base.Node.CPUs = opts.CPUsPerNode
	base.Node.Memory = opts.MemPerNode
	base.Node.GPUDiscovery = "config"
	base.Node.Runc = filepath.Join(c.Bin, "runc")
	base.Partitions = []config.PartitionConfig{{Name: "main", Default: true, MaxTime: "1-00:00:00", State: "UP"}}
	if opts.TLS {
		c.CA = rpctest.NewCA(t, dir, "cluster")
		base.TLS.CA = c.CA.File
		base.TLS.Cert, base.TLS.Key = c.CA.Issue(t, "ctld")
	}
	if opts.Metrics {
		base.Controller.MetricsListen, base.Node.MetricsListen = "127.0.0.1:0", "127.0.0.1:0"
	}
	if opts.Configure != nil {
		opts.Configure(base)
	}

	if opts.Controllers > 1 {
		c.setUpHA(base)
	} else {
		c.ctl = &proc{name: "gctld", conf: base, cfgPath: filepath.Join(dir, "ctld.conf")}
		c.ctls = []*proc{c.ctl}
		c.Sockets = []string{c.Socket}
		c.writeConf(c.ctl)
		c.startController()
	}
	c.Conf = c.ctl.cfgPath

	for i := 1; i <= opts.Nodes; i++ {
		name := fmt.Sprintf("n%d", i)
		nc := *base
		nc.Node.Name = name
		nc.Node.StateDir = filepath.Join(dir, "node-"+name)
		nc.Controller.Address = c.Addr
		if opts.Partitionable {
			link := newNetLink(t, c.Addr)
			c.links = append(c.links, link)
			nc.Controller.Address = link.addr()
		}
		nc.Node.GPU = c.fakeGPUs(name, opts.GPUsPerNode)
		nc.Node.Address = "127.0.0.1" // every node daemon runs here
		if opts.TLS {
			nc.TLS.Cert, nc.TLS.Key = c.CA.Issue(t, name)
		}
		if opts.ConfigureNode != nil {
			nc.Node.GPU = append([]config.GPUConfig(nil), nc.Node.GPU...)
			opts.ConfigureNode(i, &nc)
		}
		p := &proc{name: "gnoded-" + name, conf: &nc, cfgPath: filepath.Join(dir, "node-"+name+".conf")}
		c.writeConf(p)
		c.nodes = append(c.nodes, p)
		c.startNode(p)
	}
	c.WaitNodesUp(opts.Nodes, 20*time.Second)
	return c
}

func (c *Cluster) fakeGPUs(node string, n int) []config.GPUConfig {
	if n == 0 {
		return nil
	}
	devDir := filepath.Join(c.Dir, "dev-"+node)
	if err := os.MkdirAll(devDir, 0o755); err != nil {
		c.t.Fatal(err)
	}
	var out []config.GPUConfig
	for i := 0; i < n; i++ {
		path := filepath.Join(devDir, fmt.Sprintf("nvidia%d", i))
		if err := syscall.Mknod(path, syscall.S_IFCHR|0o666, int(mkdev(195, uint32(i)))); err != nil {
			c.t.Fatalf("mknod fake GPU: %v", err)
		}
		out = append(out, config.GPUConfig{Index: i, Minor: i, Model: "fake-gpu", Memory: "16G", Device: path})
	}
	return out
}

func mkdev(major, minor uint32) uint64 {
	return uint64(major&0xfff)<<8 | uint64(minor&0xff) | uint64(minor&^0xff)<<12 | uint64(major&^0xfff)<<32
}

// FakeGPUPath is the host path of fake GPU idx of node (1-based node number).
func (c *Cluster) FakeGPUPath(node, idx int) string {
	return filepath.Join(c.Dir, fmt.Sprintf("dev-n%d", node), fmt.Sprintf("nvidia%d", idx))
}

func (c *Cluster) writeConf(p *proc) {
	var buf bytes.Buffer
	if err := toml.NewEncoder(&buf).Encode(p.conf); err != nil {
		c.t.Fatal(err)
	}
	if err := os.WriteFile(p.cfgPath, buf.Bytes(), 0o644); err != nil {
		c.t.Fatal(err)
	}
}

func (c *Cluster) logger(name string) *zap.Logger {
	if c.opts.Verbose {
		return zaptest.NewLogger(c.t).Named(name)
	}
	return zap.NewNop()
}

func (c *Cluster) startController() { c.startControllerProc(c.ctl) }

func (c *Cluster) startControllerProc(p *proc) {
	c.spawnController(p)
	c.waitController(p)
}

func (c *Cluster) spawnController(p *proc) {
	p.done = make(chan error, 1)
	addrFile := filepath.Join(p.conf.Controller.StateDir, "listen.addr")
	_ = os.Remove(addrFile)
	if c.opts.Binaries {
		c.spawn(p, filepath.Join(c.Bin, "gctld"), "--config", p.cfgPath)
	} else {
		srv, err := server.New(server.Options{Config: p.conf, Key: c.Key, Log: c.logger("ctld")})
		if err != nil {
			c.t.Fatalf("start controller: %v", err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		p.cancel = cancel
		go func() { p.done <- srv.Run(ctx) }()
	}
}

// waitController waits for a controller's address file and for its
// socket to answer (with HA: once a leader is elected).
func (c *Cluster) waitController(p *proc) {
	addrFile := filepath.Join(p.conf.Controller.StateDir, "listen.addr")
	deadline := time.Now().Add(20 * time.Second)
	for {
		b, err := os.ReadFile(addrFile)
		if err == nil && strings.TrimSpace(string(b)) != "" {
			c.Addr = strings.TrimSpace(string(b))
			break
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("controller did not come up: %s", c.logTail(p))
		}
		time.Sleep(20 * time.Millisecond)
	}
	if len(c.ctls) > 1 {
		c.Addr, c.UserAddr = c.haAddrs()
	} else {
		if b, err := os.ReadFile(filepath.Join(p.conf.Controller.StateDir, "user.addr")); err == nil {
			c.UserAddr = strings.TrimSpace(string(b))
			p.conf.Controller.UserListen = c.UserAddr
		}
		// A restarted controller must keep the address the nodes know.
		p.conf.Controller.Listen = c.Addr
		c.writeConf(p)
	}
	cl := rpc.Dial(p.conf.Controller.Socket)
	defer cl.Close()
	for {
		var who api.WhoAmI
		if err := cl.Call(context.Background(), api.PathWhoAmI, struct{}{}, &who); err == nil {
			return
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("controller socket not answering: %s", c.logTail(p))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (c *Cluster) startNode(p *proc) {
	p.done = make(chan error, 1)
	if c.opts.Binaries {
		c.spawn(p, filepath.Join(c.Bin, "gnoded"), "--config", p.cfgPath)
		return
	}
	p.level = zap.NewAtomicLevel()
	d, err := daemon.New(p.conf, c.Key, c.logger(p.name), daemon.WithLevel(&p.level))
	if err != nil {
		c.t.Fatalf("start node %s: %v", p.conf.Node.Name, err)
	}
	p.rt = d
	ctx, cancel := context.WithCancel(context.Background())
	p.cancel = cancel
	go func() { p.done <- d.Run(ctx) }()
}

func (c *Cluster) spawn(p *proc, bin string, args ...string) {
	logf, err := os.OpenFile(filepath.Join(c.Dir, p.name+".log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		c.t.Fatal(err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		logf.Close()
		c.t.Fatalf("start %s: %v", bin, err)
	}
	p.cmd = cmd
	go func() { p.done <- cmd.Wait(); logf.Close() }()
}

func (c *Cluster) logTail(p *proc) string {
	b, err := os.ReadFile(filepath.Join(c.Dir, p.name+".log"))
	if err != nil {
		return "(no log)"
	}
	if len(b) > 3000 {
		b = b[len(b)-3000:]
	}
	return string(b)
}

// stop ends a daemon: SIGKILL for processes when kill is set (else
// SIGTERM), context cancel in-process.
func (c *Cluster) stop(p *proc, kill bool) {
	switch {
	case p.cmd != nil:
		sig := syscall.SIGTERM
		if kill {
			sig = syscall.SIGKILL
		}
		_ = p.cmd.Process.Signal(sig)
		p.cmd = nil
	case p.cancel != nil:
		p.cancel()
		p.cancel = nil
	default:
		return
	}
	select {
	case <-p.done:
	case <-time.After(15 * time.Second):
		c.t.Errorf("%s did not stop", p.name)
	}
}

// setUpHA writes the configurations of an HA set of controllers c1..cN on
// fixed loopback ports and starts them all (none can answer before a
// majority runs and elects a leader).
func (c *Cluster) setUpHA(base *config.Config) {
	n := c.opts.Controllers
	var peers []config.PeerConfig
	for i := 1; i <= n; i++ {
		peers = append(peers, config.PeerConfig{ID: fmt.Sprintf("c%d", i),
			Raft: freeAddr(c.t), Listen: freeAddr(c.t), User: freeAddr(c.t)})
	}
	for i, pc := range peers {
		conf := *base
		conf.Controller.ID = pc.ID
		conf.Controller.Peers = peers
		conf.Controller.RaftListen = pc.Raft
		conf.Controller.Listen = pc.Listen
		conf.Controller.UserListen = pc.User
		conf.Controller.StateDir = filepath.Join(c.Dir, "ctld-"+pc.ID)
		if c.CA != nil {
			conf.TLS.Cert, conf.TLS.Key = c.CA.Issue(c.t, pc.ID)
		}
		if i > 0 {
			conf.Controller.Socket = filepath.Join(c.Dir, "ctld-"+pc.ID+".sock")
		}
		p := &proc{name: "gctld-" + pc.ID, conf: &conf, cfgPath: filepath.Join(c.Dir, "ctld-"+pc.ID+".conf")}
		c.writeConf(p)
		c.ctls = append(c.ctls, p)
		c.Sockets = append(c.Sockets, conf.Controller.Socket)
	}
	c.ctl = c.ctls[0]
	for _, p := range c.ctls {
		c.spawnController(p)
	}
	for _, p := range c.ctls {
		c.waitController(p)
	}
}

// haAddrs lists every controller's node and user addresses.
func (c *Cluster) haAddrs() (nodes, users string) {
	var ns, us []string
	for _, p := range c.ctls {
		ns = append(ns, p.conf.Controller.Listen)
		us = append(us, p.conf.Controller.UserListen)
	}
	return strings.Join(ns, ","), strings.Join(us, ",")
}

// freeAddr returns a loopback address with a port free just now, for a
// daemon that must be told its address before it starts (the HA peers list
// each other's). The port comes from below the kernel's ephemeral range
// (32768-60999 on Linux): a port the kernel handed out for ":0" is also a
// candidate for the source port of any outgoing connection, and one was
// seen taken that way between this check and the daemon's bind.
// A port is handed out once per test process: two draws of the same
// free port (an HA set takes nine) made one controller's raft and node
// listeners collide.
func freeAddr(t testing.TB) string {
	for range 1000 {
		port := portLow + rand.IntN(portHigh-portLow)
		handedMu.Lock()
		taken := handed[port]
		handed[port] = true
		handedMu.Unlock()
		if taken {
			continue
		}
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		if err != nil {
			continue
		}
		addr := l.Addr().String()
		l.Close()
		return addr
	}
	t.Fatal("no free loopback port below the ephemeral range")
	return ""
}

// The port range freeAddr picks from.
const portLow, portHigh = 20000, 32700

// handed holds the ports freeAddr returned (or found taken) in this
// process.
var (
	handedMu sync.Mutex
	handed   = map[int]bool{}
)

// Partition cuts (cut = true) or heals the network between node i
// (1-based) and the controller (needs Options.Partitionable).
func (c *Cluster) Partition(i int, cut bool) { c.links[i-1].setCut(cut) }

// KillControllerN kills controller i (1-based) with SIGKILL.
func (c *Cluster) KillControllerN(i int) { c.stop(c.ctls[i-1], true) }

// RestartControllerN starts controller i again over its state.
func (c *Cluster) RestartControllerN(i int) { c.startControllerProc(c.ctls[i-1]) }

// Leader asks the live controllers who leads (whoami answers come from
// the leader) and returns its 1-based index, or 0 when none answers.
func (c *Cluster) Leader() int {
	for _, sock := range c.Sockets {
		cl := rpc.Dial(sock)
		var who api.WhoAmI
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		err := cl.Call(ctx, api.PathWhoAmI, struct{}{}, &who)
		cancel()
		cl.Close()
		if err != nil {
			continue
		}
		for i, p := range c.ctls {
			if p.conf.Controller.ID == who.Controller {
				return i + 1
			}
		}
	}
	return 0
}

// KillController stops the controller with SIGKILL (binaries) or abruptly
// (in-process: no further requests are served).
func (c *Cluster) KillController() { c.stop(c.ctl, true) }

// RestartController starts the controller again on the same address.
func (c *Cluster) RestartController() { c.startController() }

// KillNode kills node i (1-based); its jobs' supervisors live on.
func (c *Cluster) KillNode(i int) { c.stop(c.nodes[i-1], true) }

// RestartNode starts node i again over the same state dir.
func (c *Cluster) RestartNode(i int) { c.startNode(c.nodes[i-1]) }

// Client returns a root client of the controller's Unix socket.
func (c *Cluster) Client() *rpc.Client { return rpc.Dial(c.Socket) }

// Nodes lists the nodes as ginfo would.
func (c *Cluster) Nodes() api.NodeList {
	cl := c.Client()
	defer cl.Close()
	var nl api.NodeList
	if err := cl.Call(context.Background(), api.PathListNodes, struct{}{}, &nl); err != nil {
		c.t.Fatalf("list nodes: %v", err)
	}
	return nl
}

// WaitNodesUp waits until n nodes are registered and UP.
func (c *Cluster) WaitNodesUp(n int, timeout time.Duration) {
	c.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		up := 0
		for _, nd := range c.Nodes().Nodes {
			if nd.State == api.NodeUp {
				up++
			}
		}
		if up >= n {
			return
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("only %d of %d nodes up after %s", up, n, timeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// WorkDir makes a fresh job work dir owned by uid:gid.
func (c *Cluster) WorkDir(uid, gid int) string {
	c.work++
	d := filepath.Join(c.Dir, "work", strconv.Itoa(c.work))
	if err := os.MkdirAll(d, 0o755); err != nil {
		c.t.Fatal(err)
	}
	if err := os.Chown(d, uid, gid); err != nil {
		c.t.Fatal(err)
	}
	return d
}

// Submit queues a job as root with sensible defaults.
func (c *Cluster) Submit(spec api.JobSpec) api.JobID {
	c.t.Helper()
	if spec.WorkDir == "" {
		spec.WorkDir = c.WorkDir(0, 0)
	}
	if spec.Name == "" {
		spec.Name = "test"
	}
	if spec.MemBytes == 0 {
		spec.MemBytes = 256 << 20
	}
	cl := c.Client()
	defer cl.Close()
	var resp api.SubmitResponse
	if err := cl.Call(context.Background(), api.PathSubmit, &api.SubmitRequest{Spec: spec}, &resp); err != nil {
		c.t.Fatalf("submit: %v", err)
	}
	return resp.JobID
}

// Job returns a job's current record.
func (c *Cluster) Job(id api.JobID) api.Job {
	c.t.Helper()
	cl := c.Client()
	defer cl.Close()
	var jl api.JobList
	if err := cl.Call(context.Background(), api.PathListJobs, &api.JobFilter{IDs: []api.JobID{id}}, &jl); err != nil {
		c.t.Fatalf("list job %d: %v", id, err)
	}
	if len(jl.Jobs) != 1 {
		c.t.Fatalf("job %d not found", id)
	}
	return jl.Jobs[0]
}

// WaitJob waits until the job is in a final state.
func (c *Cluster) WaitJob(id api.JobID, timeout time.Duration) api.Job {
	c.t.Helper()
	return c.WaitFor(id, timeout, func(j api.Job) bool { return j.State.Final() })
}

// WaitFor polls a job until ok says yes.
func (c *Cluster) WaitFor(id api.JobID, timeout time.Duration, ok func(api.Job) bool) api.Job {
	c.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		j := c.Job(id)
		if ok(j) {
			return j
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("job %d: condition not met after %s; last state %s (%s)", id, timeout, j.State, j.Reason)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// Result is a command's outcome.
type Result struct {
	Stdout, Stderr string
	Code           int
}

// CLI runs a client command (gsub, gqueue, ...) as uid:gid in dir, with
// GSCHED_CONF pointing at the cluster.
func (c *Cluster) CLI(uid, gid int, dir, name string, args ...string) Result {
	c.t.Helper()
	return c.Run(uid, gid, dir, filepath.Join(Binaries(c.t), name), args...)
}

// Run runs any program as uid:gid in dir with GSCHED_CONF pointing at the
// cluster and gsched's bin/ first on PATH.
func (c *Cluster) Run(uid, gid int, dir, path string, args ...string) Result {
	c.t.Helper()
	return c.RunEnv(nil, uid, gid, dir, path, args...)
}

// RunEnv is Run with extra environment variables (KEY=VALUE).
func (c *Cluster) RunEnv(env []string, uid, gid int, dir, path string, args ...string) Result {
	c.t.Helper()
	cmd := exec.Command(path, args...)
	cmd.Dir = dir
	cmd.Env = append([]string{"GSCHED_CONF=" + c.Conf, "PATH=" + Binaries(c.t) + ":/usr/local/bin:/usr/bin:/bin", "HOME=" + dir, "LANG=C",
		"GSCHED_IO_HOST=127.0.0.1"}, env...)
	if uid != 0 {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}}
	}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		c.t.Fatalf("run %s: %v", path, err)
	}
	return Result{Stdout: out.String(), Stderr: errb.String(), Code: code}
}

// teardown stops daemons, kills leftover containers and removes the dir.
func (c *Cluster) teardown() {
	for _, n := range c.nodes {
		c.stop(n, false)
	}
	for _, p := range c.ctls[min(1, len(c.ctls)):] {
		c.stop(p, false)
	}
	if c.ctl != nil {
		c.stop(c.ctl, false)
	}
	for _, n := range c.nodes {
		cleanupNode(n.conf)
	}
	removeCgroups("/" + filepath.Base(c.Dir))
	if c.t.Failed() {
		for _, p := range append(append([]*proc{}, c.ctls...), c.nodes...) {
			if p != nil && p.cfgPath != "" && c.opts.Binaries {
				c.t.Logf("%s log tail:\n%s", p.name, c.logTail(p))
			}
		}
	}
	if os.Getenv("GSCHED_KEEP_TEST_DIR") == "" {
		// A container still being set up may write into the dir while
		// it goes: retry a few times.
		for i := 0; i < 5; i++ {
			if err := os.RemoveAll(c.Dir); err == nil {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
}

// removeCgroups removes the cgroup tree rel (e.g. "/gsched-e2e-123") from
// every mounted hierarchy, deepest first: runc removes its jobs' cgroups
// but not the parents a test cluster created.
func removeCgroups(rel string) {
	roots, _ := filepath.Glob("/sys/fs/cgroup/*")
	// First kill whatever still runs inside (e.g. a `runc init` whose
	// `runc create` was killed before it recorded the container).
	killed := false
	for _, root := range roots {
		procs, _ := filepath.Glob(filepath.Join(root, rel, "*", "*", "cgroup.procs"))
		for _, f := range procs {
			b, err := os.ReadFile(f)
			if err != nil {
				continue
			}
			for _, field := range strings.Fields(string(b)) {
				if pid, err := strconv.Atoi(field); err == nil && pid > 1 {
					_ = syscall.Kill(pid, syscall.SIGKILL)
					killed = true
				}
			}
		}
	}
	if killed {
		time.Sleep(200 * time.Millisecond)
	}
	for _, root := range roots {
		top := filepath.Join(root, rel)
		var dirs []string
		_ = filepath.WalkDir(top, func(p string, d os.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				dirs = append(dirs, p)
			}
			return nil
		})
		sort.Slice(dirs, func(a, b int) bool { return len(dirs[a]) > len(dirs[b]) })
		for _, d := range dirs {
			_ = os.Remove(d)
		}
	}
}

// cleanupNode kills every supervisor and container a node left behind.
func cleanupNode(cfg *config.Config) {
	tasks, _ := filepath.Glob(filepath.Join(cfg.Node.StateDir, "tasks", "*", "shim.pid"))
	for _, f := range tasks {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		fields := strings.Fields(string(b))
		if len(fields) == 0 {
			continue
		}
		if pid, err := strconv.Atoi(fields[0]); err == nil && pid > 1 {
			// The supervisor leads its own session and process group:
			// kill the group, so a runc it started goes too.
			_ = syscall.Kill(-pid, syscall.SIGKILL)
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
	runc := runcPath()
	root := filepath.Join(cfg.Node.StateDir, "runc")
	out, err := exec.Command(runc, "--root", root, "list", "-q").Output()
	if err != nil {
		return
	}
	for _, id := range strings.Fields(string(out)) {
		_ = exec.Command(runc, "--root", root, "delete", "--force", id).Run()
	}
}

var (
	binOnce sync.Once
	binDir  string
	binErr  error
	// jobRoot is where jobs see the repository's bin/ and conf/: the
	// checkout itself, or a copy when the checkout is under /tmp, which
	// job containers do not see (their /tmp is private).
	jobRoot string
)

// Binaries returns the dir holding gctld, gnoded, runc and the commands:
// the repository's bin/ when `make build` filled it, else they are built
// once into a temporary dir.
func Binaries(t testing.TB) string {
	t.Helper()
	binOnce.Do(func() {
		root, err := repoRoot()
		if err != nil {
			binErr = err
			return
		}
		want := []string{"gctld", "gnoded", "runc", "gsched-init", "gsub", "gqueue", "gcancel", "ginfo", "gacct", "gshare", "gsim", "grun", "gcontrol"}
		complete := true
		for _, b := range want {
			if _, err := os.Stat(filepath.Join(root, "bin", b)); err != nil {
				complete = false
			}
		}
		if !complete {
			out, err := exec.Command("make", "-C", root, "build").CombinedOutput()
			if err != nil {
				binErr = fmt.Errorf("make build: %v\n%s", err, out)
				return
			}
		}
		jobRoot, binErr = visibleRoot(root)
		binDir = filepath.Join(jobRoot, "bin")
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binDir
}

// JobRoot is the repository root as jobs can see it (see jobRoot).
func JobRoot(t testing.TB) string {
	Binaries(t)
	return jobRoot
}

// visibleRoot returns root, or, when root is under /tmp, a copy of its
// bin/ and conf/ under /var/tmp (one per test process, removed by
// TestMain) that job containers can see.
func visibleRoot(root string) (string, error) {
	if rel, err := filepath.Rel("/tmp", root); err != nil || strings.HasPrefix(rel, "..") {
		return root, nil
	}
	dir := filepath.Join("/var/tmp", fmt.Sprintf("gsched-e2e-root-%d", os.Getpid()))
	for _, sub := range []string{"bin", "conf"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			return "", err
		}
		if out, err := exec.Command("cp", "-a", filepath.Join(root, sub)+"/.", filepath.Join(dir, sub)).CombinedOutput(); err != nil {
			return "", fmt.Errorf("copy %s out of /tmp: %v: %s", sub, err, out)
		}
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		return "", err
	}
	return dir, nil
}

// removeJobRoot removes visibleRoot's copy, if one was made.
func removeJobRoot() {
	if root, err := repoRoot(); err == nil && jobRoot != "" && jobRoot != root {
		os.RemoveAll(jobRoot)
	}
}

func runcPath() string {
	if root, err := repoRoot(); err == nil {
		p := filepath.Join(root, "bin", "runc")
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return "runc"
}

func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("go.mod not found above the working directory")
		}
		dir = parent
	}
}
