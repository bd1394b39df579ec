package sim

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"

	"github.com/gsched/gsched/pkg/api"
	"github.com/gsched/gsched/pkg/units"
)

// Cluster is what gsim simulates: nodes, partitions and the fair-share
// account tree.
type Cluster struct {
	Nodes      []api.Node
	Partitions []api.Partition
	// Accounts may be empty: every trace user then gets an account of its
	// own (see Sim).
	Accounts []api.Account
}

// Totals sums the nodes' resources.
func (c *Cluster) Totals() api.TRES {
	var t api.TRES
	for _, n := range c.Nodes {
		t.CPUs += n.CPUs
		t.MemBytes += n.MemBytes
		t.GPUs += len(n.GPUs)
		t.Nodes++
	}
	return t
}

// DefaultPartition is the partition of jobs that name none: the first one
// marked default, else the first one.
func (c *Cluster) DefaultPartition() string {
	for _, p := range c.Partitions {
		if p.Default {
			return p.Name
		}
	}
	if len(c.Partitions) > 0 {
		return c.Partitions[0].Name
	}
	return ""
}

// Cluster size bounds (a simulated cluster is held in memory).
const (
	maxNodes = 100_000
	maxGPUs  = 1 << 20
)

// ErrCluster is wrapped by every cluster description error.
var ErrCluster = errors.New("bad cluster")

// clusterFile is the TOML cluster description.
type clusterFile struct {
	Node      []nodeGroup     `toml:"node"`
	Partition []partitionSpec `toml:"partition"`
	Account   []accountSpec   `toml:"account"`
}

type nodeGroup struct {
	Name       string   `toml:"name"`
	Count      int      `toml:"count"`
	CPUs       int      `toml:"cpus"`
	Mem        string   `toml:"mem"`
	GPUs       int      `toml:"gpus"`
	GPUModel   string   `toml:"gpu_model"`
	Partitions []string `toml:"partitions"`
}

type partitionSpec struct {
	Name    string   `toml:"name"`
	Nodes   []string `toml:"nodes"`
	Default bool     `toml:"default"`
	MaxTime int64    `toml:"max_time_s"`
}

type accountSpec struct {
	Name   string   `toml:"name"`
	Parent string   `toml:"parent"`
	Shares int      `toml:"shares"`
	Users  []string `toml:"users"`
}

// LoadCluster reads a cluster file: an Alibaba-style node list when the
// name ends in ".csv" (see ParseAlibabaNodes), else TOML (see ParseCluster).
func LoadCluster(path string) (*Cluster, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read cluster: %w", err)
	}
	defer f.Close()
	var c *Cluster
	if strings.HasSuffix(strings.ToLower(path), ".csv") {
		c, err = ParseAlibabaNodes(f)
	} else {
		c, err = ParseCluster(f)
	}
	if err != nil {
		return nil, fmt.Errorf("cluster %s: %w", path, err)
	}
	return c, nil
}

// ParseCluster reads a TOML cluster description:
//
//	[[node]]                 # a group of identical nodes
//	name = "gpu"             # with count: gpu01..gpu16 (zero-padded)
//	count = 16               # default 1: one node called name
//	cpus = 64
//	mem = "512G"             # sbatch --mem syntax: a number is MiB
//	gpus = 8
//	gpu_model = "H100"       # optional
//	partitions = ["gpu"]     # optional
//
//	[[partition]]            # optional: by default, one per name the
//	name = "gpu"             # nodes list, else "main" with every node
//	nodes = ["gpu01"]        # optional; empty = the nodes that list it,
//	default = true           # or every node when none does
//	max_time_s = 86400       # optional
//
//	[[account]]              # optional fair-share tree
//	name = "physics"
//	parent = ""              # "" = root
//	shares = 2
//	users = ["alice", "bob"]
//
// Unknown keys are errors.
func ParseCluster(r io.Reader) (*Cluster, error) {
	var f clusterFile
	md, err := toml.NewDecoder(r).Decode(&f)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCluster, err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		keys := make([]string, len(und))
		for i, k := range und {
			keys[i] = k.String()
		}
		return nil, fmt.Errorf("%w: unknown keys: %s", ErrCluster, strings.Join(keys, ", "))
	}
	c := &Cluster{}
	var errs []error
	gpus := 0
	for i, g := range f.Node {
		mem, err := units.ParseMemory(g.Mem)
		switch {
		case g.Name == "":
			errs = append(errs, fmt.Errorf("node group %d: no name", i+1))
			continue
		case err != nil:
			errs = append(errs, fmt.Errorf("node group %s: mem: %w", g.Name, err))
			continue
		case g.CPUs < 1:
			errs = append(errs, fmt.Errorf("node group %s: cpus must be at least 1", g.Name))
			continue
		case g.GPUs < 0 || g.GPUs > 1024:
			errs = append(errs, fmt.Errorf("node group %s: gpus must be 0..1024", g.Name))
			continue
		case g.Count < 0 || g.Count > maxNodes:
			errs = append(errs, fmt.Errorf("node group %s: count must be 0..%d", g.Name, maxNodes))
			continue
		case len(c.Nodes)+max(1, g.Count) > maxNodes || gpus+max(1, g.Count)*g.GPUs > maxGPUs:
			errs = append(errs, fmt.Errorf("node group %s: more than %d nodes or %d GPUs in all", g.Name, maxNodes, maxGPUs))
			continue
		}
		gpus += max(1, g.Count) * g.GPUs
		names := []string{g.Name}
		if g.Count > 0 {
			names = names[:0]
			w := len(strconv.Itoa(g.Count))
			for k := 1; k <= g.Count; k++ {
				names = append(names, fmt.Sprintf("%s%0*d", g.Name, w, k))
			}
		}
		for _, name := range names {
			c.Nodes = append(c.Nodes, newNode(name, g.CPUs, mem, g.GPUs, g.GPUModel, g.Partitions))
		}
	}
	for _, p := range f.Partition {
		c.Partitions = append(c.Partitions, api.Partition{Name: p.Name, Nodes: p.Nodes, Default: p.Default, MaxTime: p.MaxTime, State: "UP"})
	}
	for _, a := range f.Account {
		c.Accounts = append(c.Accounts, api.Account{Name: a.Name, Parent: a.Parent, Shares: a.Shares, Users: a.Users})
	}
	if err := c.finish(); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("%w: %w", ErrCluster, errors.Join(errs...))
	}
	return c, nil
}

func newNode(name string, cpus int, mem int64, gpus int, model string, parts []string) api.Node {
	n := api.Node{Name: name, CPUs: cpus, MemBytes: mem, State: api.NodeUp, Partitions: parts, GPUSource: "config"}
	for k := 0; k < gpus; k++ {
		n.GPUs = append(n.GPUs, api.GPU{Index: k, Minor: k, Model: model})
	}
	return n
}

// finish adds the default partition and checks names.
func (c *Cluster) finish() error {
	var errs []error
	if len(c.Nodes) == 0 {
		errs = append(errs, errors.New("no nodes"))
	}
	nodes := map[string]bool{}
	for _, n := range c.Nodes {
		if nodes[n.Name] {
			errs = append(errs, fmt.Errorf("node %s defined twice", n.Name))
		}
		nodes[n.Name] = true
	}
	if len(c.Partitions) == 0 {
		// No [[partition]]: one per name the nodes list, else "main".
		var names []string
		seen := map[string]bool{}
		for _, n := range c.Nodes {
			for _, p := range n.Partitions {
				if !seen[p] {
					seen[p] = true
					names = append(names, p)
				}
			}
		}
		sort.Strings(names)
		if len(names) == 0 {
			names = []string{"main"}
		}
		for i, name := range names {
			c.Partitions = append(c.Partitions, api.Partition{Name: name, Default: i == 0, State: "UP"})
		}
	}
	parts := map[string]bool{}
	for _, p := range c.Partitions {
		if p.Name == "" {
			errs = append(errs, errors.New("partition without a name"))
		}
		if parts[p.Name] {
			errs = append(errs, fmt.Errorf("partition %s defined twice", p.Name))
		}
		parts[p.Name] = true
		for _, n := range p.Nodes {
			if !nodes[n] {
				errs = append(errs, fmt.Errorf("partition %s: unknown node %s", p.Name, n))
			}
		}
	}
	for _, n := range c.Nodes {
		for _, p := range n.Partitions {
			if !parts[p] {
				errs = append(errs, fmt.Errorf("node %s: unknown partition %s", n.Name, p))
			}
		}
	}
	accts := map[string]bool{"root": true}
	for _, a := range c.Accounts {
		if a.Name == "" || accts[a.Name] {
			errs = append(errs, fmt.Errorf("account %q: empty or defined twice", a.Name))
		}
		accts[a.Name] = true
	}
	for _, a := range c.Accounts {
		if a.Parent != "" && !accts[a.Parent] {
			errs = append(errs, fmt.Errorf("account %s: unknown parent %s", a.Name, a.Parent))
		}
	}
	sort.SliceStable(c.Nodes, func(a, b int) bool { return c.Nodes[a].Name < c.Nodes[b].Name })
	return errors.Join(errs...)
}

// ParseAlibabaNodes reads a node list in the format of the Alibaba GPU
// cluster trace (clusterdata, cluster-trace-gpu-v2023 "openb"): a header
// with sn, cpu_milli, memory_mib, gpu and model, one node per record.
// CPUs = cpu_milli / 1000 (rounded down, at least 1), memory = memory_mib
// MiB, gpu whole GPUs of the given model. Every node is in one partition,
// "main".
func ParseAlibabaNodes(r io.Reader) (*Cluster, error) {
	cr := csv.NewReader(r)
	head, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("%w: node list header: %w", ErrCluster, err)
	}
	col := map[string]int{}
	for i, h := range head {
		col[strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))] = i
	}
	for _, need := range []string{"sn", "cpu_milli", "memory_mib", "gpu"} {
		if _, ok := col[need]; !ok {
			return nil, fmt.Errorf("%w: node list header lacks %s (need sn,cpu_milli,memory_mib,gpu[,model])", ErrCluster, need)
		}
	}
	c := &Cluster{}
	totalGPUs := 0
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrCluster, err)
		}
		line, _ := cr.FieldPos(0)
		get := func(name string) string {
			if i, ok := col[name]; ok && i < len(rec) {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		num := func(name string) (float64, error) {
			x, err := strconv.ParseFloat(get(name), 64)
			if err != nil || math.IsNaN(x) || x < 0 || x > maxMemory {
				return 0, fmt.Errorf("%w: line %d: %s: %q is not a non-negative number", ErrCluster, line, name, short(get(name)))
			}
			return x, nil
		}
		name := get("sn")
		if name == "" {
			return nil, fmt.Errorf("%w: line %d: empty sn", ErrCluster, line)
		}
		milli, err := num("cpu_milli")
		if err != nil {
			return nil, err
		}
		mib, err := num("memory_mib")
		if err != nil {
			return nil, err
		}
		gpus, err := num("gpu")
		if err != nil {
			return nil, err
		}
		if milli/1000 > maxCount || gpus > 1024 {
			return nil, fmt.Errorf("%w: line %d: node %s too large", ErrCluster, line, name)
		}
		totalGPUs += int(gpus)
		if len(c.Nodes) >= maxNodes || totalGPUs > maxGPUs {
			return nil, fmt.Errorf("%w: more than %d nodes or %d GPUs", ErrCluster, maxNodes, maxGPUs)
		}
		c.Nodes = append(c.Nodes, newNode(name, max(1, int(milli/1000)), int64(mib*(1<<20)), int(gpus), get("model"), nil))
	}
	if err := c.finish(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCluster, err)
	}
	return c, nil
}

// EveryKth returns a copy of the cluster scaled down to every k-th node (in
// name order, starting with the first), which keeps the mix of node types
// of a large, regular cluster. Partitions keep only the nodes kept; k ≤ 1
// returns c itself.
func (c *Cluster) EveryKth(k int) *Cluster {
	if k <= 1 {
		return c
	}
	out := &Cluster{Accounts: c.Accounts}
	kept := map[string]bool{}
	for i, n := range c.Nodes {
		if i%k == 0 {
			out.Nodes = append(out.Nodes, n)
			kept[n.Name] = true
		}
	}
	for _, p := range c.Partitions {
		if len(p.Nodes) > 0 {
			var nodes []string
			for _, n := range p.Nodes {
				if kept[n] {
					nodes = append(nodes, n)
				}
			}
			p.Nodes = nodes
		}
		out.Partitions = append(out.Partitions, p)
	}
	return out
}
