package server

import (
	"context"
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gsched/gsched/pkg/api"
	"github.com/gsched/gsched/pkg/openapi"
)

// The overview draws each GPU with its utilisation and memory use from
// its node's latest sync, "n/a" where there is none; the REST API's node
// listing carries the figures as its schema says.
func TestDashboardGPUUsage(t *testing.T) {
	c := startRESTCtl(t)
	// fuzzConfig's 10 ms heartbeat would expire the report before the
	// page is drawn.
	c.s.cfg.Controller.HeartbeatInterval.Duration = time.Minute
	// n3 has GPUs and sends no usage (declared GPUs).
	if _, err := c.s.registerNode(context.Background(), &api.RegisterRequest{Node: api.Node{Name: "n3", CPUs: 4, MemBytes: 8 << 30,
		GPUs: []api.GPU{{Index: 0, Model: "fake"}}}}); err != nil {
		t.Fatal(err)
	}
	// n1 reports GPU 0 in full, and GPU 1 not at all.
	if _, err := c.s.syncNode(context.Background(), &api.SyncRequest{Node: "n1", GPUUsage: []api.GPUUsage{
		{Index: 0, Utilization: 0.73, HasUtilization: true, MemUsed: 12 << 30, HasMemUsed: true}}}); err != nil {
		t.Fatal(err)
	}

	w := c.do(t, req{method: "GET", path: "/api/v1/nodes", bearer: c.bob})
	var page api.NodePage
	if w.Code != 200 || json.Unmarshal(w.Body.Bytes(), &page) != nil {
		t.Fatalf("nodes: HTTP %d %s", w.Code, w.Body)
	}
	doc := loadDoc(t)
	for _, err := range openapi.Validate(doc.Components.Schemas, (*doc.Paths["/api/v1/nodes"])["get"].Responses["200"].Content["application/json"].Schema, w.Body.Bytes()) {
		t.Errorf("GET /api/v1/nodes: %v", err)
	}
	for _, n := range page.Nodes {
		wantUse := n.Name == "n1"
		if got := len(n.GPUUsage) == 1 && !n.GPUUsageTime.IsZero(); got != wantUse {
			t.Errorf("REST node %s: usage %+v at %s", n.Name, n.GPUUsage, n.GPUUsageTime)
		}
	}

	body := c.serveUI("GET", "/ui/", nil, &http.Cookie{Name: sessionCookie, Value: c.bob}).Body.String()
	rows := map[string]string{}
	for _, m := range regexp.MustCompile(`(?s)<tr data-node="([^"]+)">(.*?)</tr>`).FindAllStringSubmatch(body, -1) {
		rows[m[1]] = m[2]
	}
	tests := []struct {
		node    string
		want    []string
		notWant []string
	}{
		{"n1", []string{`use 73% · 12G">0<span class="use">73% · 12G</span><span class="fill"><span data-pct="73"></span></span></span>`,
			`use n/a">1<span class="use">n/a</span></span>`}, nil},
		{"n3", []string{`use n/a">0<span class="use">n/a</span></span>`}, []string{"data-pct", "%"}},
		{"n2", nil, []string{`class="use"`}}, // no GPUs
	}
	for _, tc := range tests {
		row, ok := rows[tc.node]
		if !ok {
			t.Fatalf("no row for node %s in\n%s", tc.node, body)
		}
		for _, s := range tc.want {
			if !strings.Contains(row, s) {
				t.Errorf("node %s: row lacks %q:\n%s", tc.node, s, row)
			}
		}
		for _, s := range tc.notWant {
			if strings.Contains(row, s) {
				t.Errorf("node %s: row shows %q:\n%s", tc.node, s, row)
			}
		}
	}
	if strings.Contains(body, "utilisation is on each node's /metrics") {
		t.Error("the page still sends users to /metrics for utilisation")
	}
}
