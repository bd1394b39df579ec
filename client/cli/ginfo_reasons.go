package cli

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/gsched/gsched/pkg/api"
	"github.com/gsched/gsched/pkg/queuefmt"
	"github.com/gsched/gsched/pkg/units"
)

// RenderReasons prints sinfo -R's view: one line per reason of the nodes
// that are drained or down, REASON SOURCE STATE NODELIST. SOURCE says who
// set it: an operator, the node's health check (it resumes the node by
// itself once the check passes), a failed prolog or epilog, or the
// controller (no heartbeat, resources shrunk).
func RenderReasons(w io.Writer, list api.NodeList, header bool) error {
	type key struct{ reason, source, state string }
	groups := map[key][]string{}
	for i := range list.Nodes {
		n := &list.Nodes[i]
		if n.State != api.NodeDrain && n.State != api.NodeDown {
			continue
		}
		k := key{queuefmt.Dash(n.Reason), reasonSource(&n.Node), strings.ToLower(displayState(n))}
		groups[k] = append(groups[k], n.Name)
	}
	keys := make([]key, 0, len(groups))
	for k := range groups {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(a, b int) bool {
		if keys[a].reason != keys[b].reason {
			return keys[a].reason < keys[b].reason
		}
		return keys[a].state < keys[b].state
	})
	tw := newTable(w)
	if header {
		fmt.Fprintln(tw, "REASON\tSOURCE\tSTATE\tNODELIST")
	}
	for _, k := range keys {
		names := groups[k]
		sort.Strings(names)
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", k.reason, k.source, k.state, strings.Join(names, ","))
	}
	return tw.Flush()
}

// reasonSource says who drained or downed a node.
func reasonSource(n *api.Node) string {
	switch {
	case n.HealthDrain:
		return "health"
	case strings.HasPrefix(n.Reason, "prolog failed"):
		return "prolog"
	case strings.HasPrefix(n.Reason, "epilog failed"):
		return "epilog"
	case n.HeldDown || strings.HasSuffix(n.Reason, "]"):
		return "operator"
	}
	return "gsched"
}

// healthField is gcontrol show node's Health= value.
func healthField(h *api.NodeHealth) string {
	switch {
	case h == nil:
		return "(not checked)"
	case h.OK:
		return "OK@" + timeOrUnknown(h.Time)
	}
	return "FAIL@" + timeOrUnknown(h.Time) + ":" + h.Reason
}

// reservedFields are gcontrol show node's fields for what the node keeps
// for the host (Slurm's CPUSpecList and MemSpecLimit), none if nothing.
func reservedFields(r *api.NodeReserved) []kv {
	if r == nil {
		return nil
	}
	return []kv{lineBreak, {"CPUSpecList", orNone(Ranges(r.CPUs))}, {"MemSpecLimit", units.FormatMemory(r.MemBytes)},
		{"GpuIDsReserved", orNone(Ranges(r.GPUs))}}
}
