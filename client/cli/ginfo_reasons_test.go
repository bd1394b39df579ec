package cli

import (
	"bytes"
	"testing"

	"github.com/gsched/gsched/pkg/api"
)

func TestRenderReasons(t *testing.T) {
	node := func(name string, st api.NodeState, reason string, health, held bool) api.NodeInfo {
		return api.NodeInfo{Node: api.Node{Name: name, State: st, Reason: reason, HealthDrain: health, HeldDown: held}}
	}
	list := api.NodeList{Nodes: []api.NodeInfo{
		node("n1", api.NodeUp, "", false, false),
		node("n3", api.NodeDrain, "health: 7 GPUs, expected 8", true, false),
		node("n2", api.NodeDrain, "health: 7 GPUs, expected 8", true, false),
		node("n4", api.NodeDrain, "prolog failed: exit status 1", false, false),
		node("n5", api.NodeDown, "PSU [root@2025-01-01T00:00:00Z]", false, true),
		node("n6", api.NodeDown, "Not responding (no heartbeat for 31s)", false, false),
		node("n7", api.NodeDrain, "epilog failed: scratch busy", false, false),
	}}
	var buf bytes.Buffer
	if err := RenderReasons(&buf, list, true); err != nil {
		t.Fatal(err)
	}
	want := "REASON                                 SOURCE    STATE  NODELIST\n" +
		"Not responding (no heartbeat for 31s)  gsched    down   n6\n" +
		"PSU [root@2025-01-01T00:00:00Z]        operator  down   n5\n" +
		"epilog failed: scratch busy            epilog    drain  n7\n" +
		"health: 7 GPUs, expected 8             health    drain  n2,n3\n" +
		"prolog failed: exit status 1           prolog    drain  n4\n"
	if buf.String() != want {
		t.Errorf("got\n%s\nwant\n%s", buf.String(), want)
	}
}
