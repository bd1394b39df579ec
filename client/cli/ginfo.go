package cli

import (
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	ucli "github.com/urfave/cli/v2"

	"github.com/gsched/gsched/pkg/api"
	"github.com/gsched/gsched/pkg/queuefmt"
	"github.com/gsched/gsched/pkg/units"
)

func ginfoFlags() []ucli.Flag {
	return []ucli.Flag{
		&ucli.BoolFlag{Name: "Node", Aliases: []string{"N"}, Usage: "one line per node, with its CPUs, memory and GPUs"},
		&ucli.StringFlag{Name: "partition", Aliases: []string{"p"}, Usage: "only these partitions (comma list)"},
		&ucli.BoolFlag{Name: "noheader", Aliases: []string{"h"}, Usage: "do not print the header line"},
		&ucli.BoolFlag{Name: "list-reasons", Aliases: []string{"R"}, Usage: "list the nodes that are drained or down, with why (operator, health check, prolog, epilog)"},
		jsonFlag(),
		configFlag(),
		helpFlag(false),
	}
}

// Ginfo runs ginfo.
func (e *Env) Ginfo(args []string) int {
	flags := ginfoFlags()
	app := e.newApp("ginfo", "show partitions and nodes", "", flags, e.ginfoAction)
	if len(args) > 1 {
		args = append(args[:1:1], expandShortOptions(args[1:], flags, false)...)
	}
	return e.run(app, args)
}

func (e *Env) ginfoAction(c *ucli.Context) error {
	if c.Args().Present() {
		return usagef("unexpected argument %q", c.Args().First())
	}
	cl, err := e.connect(c)
	if err != nil {
		return err
	}
	var list api.NodeList
	if err := call(c.Context, cl, api.PathListNodes, struct{}{}, &list); err != nil {
		return fmt.Errorf("list nodes: %w", err)
	}
	list = FilterPartitions(list, SplitList(c.String("partition")))
	switch {
	case c.Bool("json"):
		return writeJSON(e.Stdout, list)
	case c.Bool("list-reasons"):
		return RenderReasons(e.Stdout, list, !c.Bool("noheader"))
	case c.Bool("Node"):
		return RenderNodes(e.Stdout, list, !c.Bool("noheader"))
	}
	return RenderPartitions(e.Stdout, list, !c.Bool("noheader"))
}

// nodePartitions returns the partitions of node n.
func nodePartitions(list api.NodeList, n *api.NodeInfo) []string {
	if len(n.Partitions) > 0 {
		return n.Partitions
	}
	var out []string
	for _, p := range list.Partitions {
		if len(p.Nodes) == 0 {
			out = append(out, p.Name)
			continue
		}
		for _, name := range p.Nodes {
			if name == n.Name {
				out = append(out, p.Name)
				break
			}
		}
	}
	return out
}

// FilterPartitions keeps the named partitions and their nodes (all when
// names is empty).
func FilterPartitions(list api.NodeList, names []string) api.NodeList {
	if len(names) == 0 {
		return list
	}
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	var out api.NodeList
	for _, p := range list.Partitions {
		if want[p.Name] {
			out.Partitions = append(out.Partitions, p)
		}
	}
	for i := range list.Nodes {
		for _, p := range nodePartitions(list, &list.Nodes[i]) {
			if want[p] {
				out.Nodes = append(out.Nodes, list.Nodes[i])
				break
			}
		}
	}
	return out
}

func displayState(n *api.NodeInfo) string {
	if n.DisplayState != "" {
		return n.DisplayState
	}
	return api.DisplayState(&n.Node, n.Alloc)
}

// RenderPartitions prints sinfo's default view: one line per partition and
// node state, PARTITION AVAIL TIMELIMIT NODES STATE NODELIST; the default
// partition is marked with '*'.
func RenderPartitions(w io.Writer, list api.NodeList, header bool) error {
	tw := newTable(w)
	if header {
		fmt.Fprintln(tw, "PARTITION\tAVAIL\tTIMELIMIT\tNODES\tSTATE\tNODELIST")
	}
	for _, p := range list.Partitions {
		byState := map[string][]string{}
		var states []string
		for i := range list.Nodes {
			n := &list.Nodes[i]
			in := false
			for _, name := range nodePartitions(list, n) {
				if name == p.Name {
					in = true
				}
			}
			if !in {
				continue
			}
			st := strings.ToLower(displayState(n))
			if _, ok := byState[st]; !ok {
				states = append(states, st)
			}
			byState[st] = append(byState[st], n.Name)
		}
		name := p.Name
		if p.Default {
			name += "*"
		}
		avail := strings.ToLower(p.State)
		if avail == "" {
			avail = "up"
		}
		limit := units.FormatTimeLimit(p.MaxTime)
		if len(states) == 0 {
			fmt.Fprintf(tw, "%s\t%s\t%s\t0\tn/a\t\n", name, avail, limit)
			continue
		}
		sort.Strings(states)
		for _, st := range states {
			nodes := byState[st]
			sort.Strings(nodes)
			fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\n", name, avail, limit, len(nodes), st, strings.Join(nodes, ","))
		}
	}
	return tw.Flush()
}

// RenderNodes prints one line per node: NODELIST PARTITION STATE
// CPUS(A/T) MEMORY(A/T) GPUS(A/T) GPUS_FREE GPU_MODEL DRIVER REASON
// (DRIVER is the NVIDIA driver version/the CUDA version it supports).
func RenderNodes(w io.Writer, list api.NodeList, header bool) error {
	nodes := append([]api.NodeInfo(nil), list.Nodes...)
	sort.SliceStable(nodes, func(i, k int) bool { return nodes[i].Name < nodes[k].Name })
	def := map[string]bool{}
	for _, p := range list.Partitions {
		def[p.Name] = p.Default
	}
	tw := newTable(w)
	if header {
		fmt.Fprintln(tw, "NODELIST\tPARTITION\tSTATE\tCPUS(A/T)\tMEMORY(A/T)\tGPUS(A/T)\tGPUS_FREE\tGPU_MODEL:MEM\tDRIVER\tREASON")
	}
	for i := range nodes {
		n := &nodes[i]
		parts := nodePartitions(list, n)
		shown := make([]string, len(parts))
		for k, p := range parts {
			shown[k] = p
			if def[p] {
				shown[k] += "*"
			}
		}
		driver := n.DriverVersion
		if n.CUDAVersion != "" {
			driver += "/" + n.CUDAVersion
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d/%d\t%s/%s\t%d/%d\t%s\t%s\t%s\t%s\n",
			n.Name, queuefmt.Dash(strings.Join(shown, ",")), strings.ToLower(displayState(n)),
			n.Alloc.CPUs, n.CPUs,
			units.FormatMemoryHuman(n.Alloc.MemBytes), units.FormatMemoryHuman(n.MemBytes),
			len(n.Alloc.GPUs), len(n.GPUs), queuefmt.Dash(FreeGPUs(n)), queuefmt.Dash(gpuModels(n)), queuefmt.Dash(driver), queuefmt.Dash(n.Reason))
	}
	return tw.Flush()
}

// FreeGPUs lists the node-local indices of the node's unallocated GPUs as
// ranges ("0,2-3").
func FreeGPUs(n *api.NodeInfo) string {
	used := map[int]bool{}
	for _, g := range n.Alloc.GPUs {
		used[g] = true
	}
	var free []int
	for _, g := range n.GPUs {
		if !used[g.Index] {
			free = append(free, g.Index)
		}
	}
	return Ranges(free)
}

// Ranges compresses integers into "0-3,5,7-8" (sorted, duplicates removed).
func Ranges(xs []int) string {
	xs = append([]int(nil), xs...)
	sort.Ints(xs)
	var b strings.Builder
	for i := 0; i < len(xs); {
		k := i
		for k+1 < len(xs) && xs[k+1] <= xs[k]+1 {
			k++
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(xs[i]))
		if xs[k] != xs[i] {
			b.WriteString("-" + strconv.Itoa(xs[k]))
		}
		i = k + 1
	}
	return b.String()
}

// gpuModels lists the distinct GPU models of a node.
func gpuModels(n *api.NodeInfo) string {
	var models []string
	seen := map[string]bool{}
	for _, g := range n.GPUs {
		m := g.Model
		if m == "" {
			continue
		}
		if g.MemBytes > 0 {
			m += ":" + units.FormatMemoryHuman(g.MemBytes)
		}
		if !seen[m] {
			seen[m] = true
			models = append(models, m)
		}
	}
	return strings.Join(models, ",")
}
