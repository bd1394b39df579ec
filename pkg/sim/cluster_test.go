package sim

import (
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/gsched/gsched/pkg/api"
)

const gib = int64(1) << 30

func TestLoadClusterTOML(t *testing.T) {
	c, err := LoadCluster("testdata/cluster.toml")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, n := range c.Nodes {
		names = append(names, n.Name)
	}
	if want := []string{"cpu1", "gpu1", "gpu2"}; !reflect.DeepEqual(names, want) {
		t.Errorf("nodes %v, want %v", names, want)
	}
	g := c.Nodes[1]
	if g.CPUs != 8 || g.MemBytes != 64*gib || len(g.GPUs) != 4 || g.GPUs[3].Index != 3 || g.GPUs[0].Model != "A100" ||
		g.State != api.NodeUp || !reflect.DeepEqual(g.Partitions, []string{"gpu"}) {
		t.Errorf("gpu1 = %+v", g)
	}
	if got := c.Totals(); got != (api.TRES{CPUs: 48, MemBytes: 256 * gib, GPUs: 8, Nodes: 3}) {
		t.Errorf("totals %+v", got)
	}
	if c.DefaultPartition() != "gpu" || len(c.Partitions) != 2 || c.Partitions[0].MaxTime != 86400 || c.Partitions[1].State != "UP" {
		t.Errorf("partitions %+v", c.Partitions)
	}
	wantAccts := []api.Account{{Name: "physics", Shares: 2, Users: []string{"alice", "bob"}}, {Name: "bio", Users: []string{"carol"}}}
	if !reflect.DeepEqual(c.Accounts, wantAccts) {
		t.Errorf("accounts %+v", c.Accounts)
	}
}

func TestParseCluster(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		parts []string // partition names, default first
		nodes int
		err   string
	}{
		{name: "one node, default partition main", in: "[[node]]\nname = \"n\"\ncpus = 4\nmem = \"8G\"\n", parts: []string{"main"}, nodes: 1},
		{name: "partitions from the nodes", in: "[[node]]\nname = \"a\"\ncount = 3\ncpus = 4\nmem = \"8G\"\npartitions = [\"y\", \"x\"]\n",
			parts: []string{"x", "y"}, nodes: 3},
		{name: "count 10 pads names", in: "[[node]]\nname = \"n\"\ncount = 10\ncpus = 1\nmem = \"1\"\n", parts: []string{"main"}, nodes: 10},
		{name: "no nodes", in: "", err: "no nodes"},
		{name: "unknown key", in: "[[node]]\nname = \"n\"\ncpus = 4\nmem = \"8G\"\ngpu = 2\n", err: "unknown keys: node.gpu"},
		{name: "bad mem", in: "[[node]]\nname = \"n\"\ncpus = 4\nmem = \"8X\"\n", err: "node group n: mem"},
		{name: "no cpus", in: "[[node]]\nname = \"n\"\nmem = \"8G\"\n", err: "cpus must be at least 1"},
		{name: "no name", in: "[[node]]\ncpus = 1\nmem = \"8G\"\n", err: "node group 1: no name"},
		{name: "duplicate node", in: "[[node]]\nname = \"n\"\ncpus = 1\nmem = \"1G\"\n[[node]]\nname = \"n\"\ncpus = 1\nmem = \"1G\"\n", err: "node n defined twice"},
		{name: "partition names an unknown node", in: "[[node]]\nname = \"n\"\ncpus = 1\nmem = \"1G\"\n[[partition]]\nname = \"p\"\nnodes = [\"m\"]\n", err: "partition p: unknown node m"},
		{name: "node names an unknown partition", in: "[[node]]\nname = \"n\"\ncpus = 1\nmem = \"1G\"\npartitions = [\"q\"]\n[[partition]]\nname = \"p\"\n", err: "node n: unknown partition q"},
		{name: "account with unknown parent", in: "[[node]]\nname = \"n\"\ncpus = 1\nmem = \"1G\"\n[[account]]\nname = \"a\"\nparent = \"b\"\n", err: "account a: unknown parent b"},
		{name: "not TOML", in: "[[node", err: "bad cluster"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := ParseCluster(strings.NewReader(tc.in))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) || !errors.Is(err, ErrCluster) {
					t.Fatalf("error %v, want one containing %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var parts []string
			for _, p := range c.Partitions {
				parts = append(parts, p.Name)
			}
			if !reflect.DeepEqual(parts, tc.parts) || c.DefaultPartition() != tc.parts[0] || len(c.Nodes) != tc.nodes {
				t.Errorf("partitions %v (default %s), %d nodes; want %v, %d", parts, c.DefaultPartition(), len(c.Nodes), tc.parts, tc.nodes)
			}
		})
	}
}

func TestParseAlibabaNodesFile(t *testing.T) {
	c, err := LoadCluster("testdata/nodes.csv")
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		name  string
		cpus  int
		mem   int64
		gpus  int
		model string
	}
	var got []row
	for _, n := range c.Nodes {
		r := row{n.Name, n.CPUs, n.MemBytes, len(n.GPUs), ""}
		if len(n.GPUs) > 0 {
			r.model = n.GPUs[0].Model
		}
		got = append(got, r)
	}
	want := []row{
		{"openb-node-0000", 32, 262144 * mib, 0, ""},
		{"openb-node-0001", 96, 393216 * mib, 8, "G2"},
		{"openb-node-0002", 1, 1024 * mib, 2, "T4"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("nodes\n got %+v\nwant %+v", got, want)
	}
	if c.DefaultPartition() != "main" || len(c.Partitions) != 1 {
		t.Errorf("partitions %+v", c.Partitions)
	}
}

func TestParseAlibabaNodes(t *testing.T) {
	const head = "sn,cpu_milli,memory_mib,gpu,model\n"
	tests := []struct {
		name  string
		in    string
		nodes int
		err   string
	}{
		{name: "no model column", in: "sn,cpu_milli,memory_mib,gpu\nn,1000,1,0\n", nodes: 1},
		{name: "empty", in: "", err: "header"},
		{name: "header only", in: head, err: "no nodes"},
		{name: "missing column", in: "sn,cpu_milli,gpu\n", err: "lacks memory_mib"},
		{name: "negative", in: head + "n,-1,1,0,\n", err: `cpu_milli: "-1"`},
		{name: "not a number", in: head + "n,1000,x,0,\n", err: "memory_mib"},
		{name: "empty sn", in: head + ",1000,1,0,\n", err: "empty sn"},
		{name: "duplicate", in: head + "n,1000,1,0,\nn,1000,1,0,\n", err: "defined twice"},
		{name: "too many gpus", in: head + "n,1000,1,100000,\n", err: "too large"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := ParseAlibabaNodes(strings.NewReader(tc.in))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) || !errors.Is(err, ErrCluster) {
					t.Fatalf("error %v, want one containing %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(c.Nodes) != tc.nodes {
				t.Errorf("%d nodes, want %d", len(c.Nodes), tc.nodes)
			}
		})
	}
}

func TestLoadClusterMissingFile(t *testing.T) {
	_, err := LoadCluster("testdata/nope.toml")
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("error %v, want not-exist", err)
	}
}
