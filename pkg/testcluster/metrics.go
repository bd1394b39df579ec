package testcluster

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/gsched/gsched/pkg/metrics"
)

// Scrape is one /metrics answer, parsed.
type Scrape struct {
	Families map[string]*dto.MetricFamily
	// Took is how long the request took; Bytes the size of the answer.
	Took  time.Duration
	Bytes int
}

// Value returns the value of the series of name whose labels include
// every label given ("k", "v", ...), summed over the matching series;
// ok is false when none matches.
func (s Scrape) Value(name string, labels ...string) (v float64, ok bool) {
	mf := s.Families[name]
	if mf == nil {
		return 0, false
	}
	for _, m := range mf.GetMetric() {
		have := map[string]string{}
		for _, lp := range m.GetLabel() {
			have[lp.GetName()] = lp.GetValue()
		}
		match := true
		for i := 0; i+1 < len(labels); i += 2 {
			if have[labels[i]] != labels[i+1] {
				match = false
			}
		}
		if !match {
			continue
		}
		ok = true
		switch {
		case m.Gauge != nil:
			v += m.Gauge.GetValue()
		case m.Counter != nil:
			v += m.Counter.GetValue()
		case m.Histogram != nil:
			v += float64(m.Histogram.GetSampleCount())
		case m.Untyped != nil:
			v += m.Untyped.GetValue()
		}
	}
	return v, ok
}

// ControllerMetrics scrapes the (first) controller's /metrics
// (Options.Metrics).
func (c *Cluster) ControllerMetrics() Scrape {
	c.t.Helper()
	return c.scrapeDir(c.ctl.conf.Controller.StateDir)
}

// NodeMetrics scrapes node i's (1-based) /metrics.
func (c *Cluster) NodeMetrics(i int) Scrape {
	c.t.Helper()
	return c.scrapeDir(c.nodes[i-1].conf.Node.StateDir)
}

// NodeLogLevel is in-process node i's current log level.
func (c *Cluster) NodeLogLevel(i int) string { return c.nodes[i-1].level.Level().String() }

// scrapeDir scrapes the daemon whose state dir holds metrics.addr,
// retrying while it starts.
func (c *Cluster) scrapeDir(dir string) Scrape {
	c.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		s, err := scrapeOnce(filepath.Join(dir, metrics.AddrFile))
		if err == nil {
			return s
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("scrape: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func scrapeOnce(addrFile string) (Scrape, error) {
	b, err := os.ReadFile(addrFile)
	if err != nil {
		return Scrape{}, err
	}
	start := time.Now()
	resp, err := http.Get("http://" + strings.TrimSpace(string(b)) + "/metrics")
	if err != nil {
		return Scrape{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	took := time.Since(start)
	if err != nil {
		return Scrape{}, err
	}
	if resp.StatusCode != http.StatusOK {
		return Scrape{}, fmt.Errorf("GET /metrics: %s: %s", resp.Status, body)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(string(body)))
	if err != nil {
		return Scrape{}, fmt.Errorf("parse /metrics: %w", err)
	}
	return Scrape{Families: fams, Took: took, Bytes: len(body)}, nil
}
