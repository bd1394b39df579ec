package metrics

import (
	"encoding/json"
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
)

// everyMetric returns the names of every series name both daemons can
// export (histograms with their _bucket, _sum and _count series), from
// registries built as gctld and gnoded build theirs, with every vector
// given a child. Both registries pass the linter.
func everyMetric(t *testing.T) map[string]bool {
	t.Helper()
	c := NewController([]string{"main"})
	c.RPCObserver("user")("/v1/jobs/submit", "ok", time.Millisecond)
	c.RaftApply("submit", time.Millisecond)
	c.SchedulePass(time.Millisecond, nil)
	c.Plan(time.Millisecond, PassStats{Considered: 1})
	ctl, own := NewRegistry("gctld", "test", nil)
	view := testView()
	cs := append(c.Collectors(), NewCluster(ClusterOptions{View: func() (ClusterView, bool) { return view, true }}),
		NewRaft(func() RaftStatus { return RaftStatus{Leader: true, State: "Leader", Peers: 1} }))
	if err := Register(own, cs...); err != nil {
		t.Fatal(err)
	}
	n := NewNode(NodeOptions{
		Tasks: func() (int, bool) { return 1, true },
		GPUs: func() []GPUStat {
			return []GPUStat{{Index: 0, MemTotal: 1, HasUtilization: true, HasMemUsed: true}}
		},
	})
	n.Launch("job", time.Millisecond, nil)
	nd, own := NewRegistry("gnoded", "test", prometheus.Labels{"node": "n1"})
	if err := Register(own, n.Collectors()...); err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, reg := range []*prometheus.Registry{ctl, nd} {
		if probs, err := testutil.GatherAndLint(reg); err != nil || len(probs) > 0 {
			t.Errorf("lint: %v %+v", err, probs)
		}
		mfs, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, mf := range mfs {
			names[mf.GetName()] = true
			if mf.GetType() == dto.MetricType_HISTOGRAM {
				for _, s := range []string{"_bucket", "_sum", "_count"} {
					names[mf.GetName()+s] = true
				}
			}
		}
	}
	return names
}

// metricRef finds metric names in PromQL and Markdown: gsched's own and
// the Go runtime's and process's.
var metricRef = regexp.MustCompile(`\b(?:gsched|go|process)_[a-z0-9_]+\b`)

// The example dashboard is valid JSON and every metric its queries use is
// one the daemons export.
func TestDashboardUsesExportedMetrics(t *testing.T) {
	names := everyMetric(t)
	raw, err := os.ReadFile("../../conf/grafana/gsched-dashboard.json")
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(raw, &dash); err != nil {
		t.Fatalf("dashboard is not valid JSON: %v", err)
	}
	queries := 0
	for _, p := range dash.Panels {
		for _, tg := range p.Targets {
			queries++
			refs := metricRef.FindAllString(tg.Expr, -1)
			if len(refs) == 0 {
				t.Errorf("panel %q: query %q uses no metric", p.Title, tg.Expr)
			}
			for _, m := range refs {
				if !names[m] {
					t.Errorf("panel %q uses %s, which no daemon exports", p.Title, m)
				}
			}
		}
	}
	if queries < 10 {
		t.Errorf("only %d queries in the dashboard", queries)
	}
}

// docs/METRICS.md describes every gsched metric, and only those.
func TestMetricsDocumented(t *testing.T) {
	names := everyMetric(t)
	raw, err := os.ReadFile("../../docs/METRICS.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := map[string]bool{}
	for _, m := range metricRef.FindAllString(string(raw), -1) {
		doc[m] = true
	}
	var missing, unknown []string
	for m := range names {
		if strings.HasPrefix(m, "gsched_") && !doc[m] && !doc[strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(m, "_bucket"), "_sum"), "_count")] {
			missing = append(missing, m)
		}
	}
	for m := range doc {
		if strings.HasPrefix(m, "gsched_") && !strings.HasSuffix(m, "_") && !names[m] { // gsched_node_* is a family
			unknown = append(unknown, m)
		}
	}
	sort.Strings(missing)
	sort.Strings(unknown)
	if len(missing) > 0 {
		t.Errorf("not in docs/METRICS.md: %v", missing)
	}
	if len(unknown) > 0 {
		t.Errorf("docs/METRICS.md names metrics no daemon exports: %v", unknown)
	}
}
