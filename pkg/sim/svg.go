package sim

import (
	"bufio"
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"strings"
	"time"
)

// Plot geometry.
const (
	plotW       = 960
	plotH       = 600
	plotLeft    = 80
	plotRight   = 20
	plotBuckets = 480
)

var plotColors = map[string]string{PolicyFIFO: "#1f77b4", PolicyEASY: "#d62728", PolicyConservative: "#2ca02c"}

var plotExtraColors = []string{"#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf", "#7f7f7f"}

var plotDash = map[string]string{FairShareNone: "", "fair_tree": "7 4", "classic": "2 3"}

// WriteSVG plots the queue length (pending jobs) and the GPU utilisation
// (allocated GPUs over total GPUs) over simulated time, one line per result
// (colour by policy, dash by fair-share), each averaged over 480 equal time
// buckets. The results need Options.Series. until > 0 plots only the
// first until of simulated time (a long tail of a few jobs can flatten the
// rest).
func WriteSVG(w io.Writer, title string, results []*Result, until time.Duration) error {
	var end int64
	for _, r := range results {
		if n := len(r.Series); n > 0 {
			end = max(end, r.Series[n-1].T)
		}
	}
	if until > 0 {
		end = min(end, int64(until/time.Second))
	}
	if end <= 0 {
		end = 1
	}
	type line struct {
		r          *Result
		queue, gpu []float64
	}
	lines := make([]line, len(results))
	maxQ := 1.0
	for i, r := range results {
		q, g := buckets(r.Series, end, plotBuckets, float64(max(1, r.Totals.GPUs)))
		lines[i] = line{r, q, g}
		for _, v := range q {
			maxQ = math.Max(maxQ, v)
		}
	}
	bw := bufio.NewWriter(w)
	p := func(format string, a ...any) { fmt.Fprintf(bw, format, a...) }
	p(`<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n",
		plotW, plotH, plotW, plotH)
	p(`<rect width="100%%" height="100%%" fill="white"/>` + "\n")
	p(`<text x="%d" y="22" font-size="15" font-weight="bold">%s</text>`+"\n", plotLeft, esc(title))

	unit, unitName := 3600.0, "hours"
	if end > 3*86400 {
		unit, unitName = 86400, "days"
	}
	type panel struct {
		top, bottom float64
		label       string
		ymax        float64
		pct         bool
	}
	panels := []panel{
		{70, 290, "pending jobs", niceCeil(maxQ), false},
		{340, 540, "GPU utilisation", 1, true},
	}
	x0, x1 := float64(plotLeft), float64(plotW-plotRight)
	xOf := func(t float64) float64 { return x0 + (x1-x0)*t/float64(end) }
	for pi, pn := range panels {
		yOf := func(v float64) float64 { return pn.bottom - (pn.bottom-pn.top)*v/pn.ymax }
		p(`<rect x="%.0f" y="%.0f" width="%.0f" height="%.0f" fill="none" stroke="#444"/>`+"\n", x0, pn.top, x1-x0, pn.bottom-pn.top)
		for k := 0; k <= 4; k++ {
			v := pn.ymax * float64(k) / 4
			y := yOf(v)
			label := trimFloat(v)
			if pn.pct {
				label = fmt.Sprintf("%.0f%%", 100*v)
			}
			p(`<line x1="%.0f" y1="%.1f" x2="%.0f" y2="%.1f" stroke="#ddd"/>`+"\n", x0, y, x1, y)
			p(`<text x="%.0f" y="%.1f" text-anchor="end">%s</text>`+"\n", x0-6, y+4, label)
		}
		p(`<text transform="translate(18 %.0f) rotate(-90)" text-anchor="middle">%s</text>`+"\n", (pn.top+pn.bottom)/2, pn.label)
		step := niceStep(float64(end) / unit / 8)
		for v := 0.0; v*unit <= float64(end)+1e-9; v += step {
			x := xOf(v * unit)
			p(`<line x1="%.1f" y1="%.0f" x2="%.1f" y2="%.0f" stroke="#444"/>`+"\n", x, pn.bottom, x, pn.bottom+4)
			p(`<text x="%.1f" y="%.0f" text-anchor="middle">%s</text>`+"\n", x, pn.bottom+17, trimFloat(v))
		}
		if pi == len(panels)-1 {
			p(`<text x="%.0f" y="%.0f" text-anchor="middle">simulated time (%s)</text>`+"\n", (x0+x1)/2, pn.bottom+36, unitName)
		}
		for li, l := range lines {
			vals := l.queue
			if pn.pct {
				vals = l.gpu
			}
			var pts strings.Builder
			for b, v := range vals {
				t := (float64(b) + 0.5) * float64(end) / float64(len(vals))
				fmt.Fprintf(&pts, "%.1f,%.1f ", xOf(t), yOf(math.Min(v, pn.ymax)))
			}
			color, dash := lineStyle(l.r, li)
			p(`<polyline fill="none" stroke="%s" stroke-width="1.5"%s points="%s"/>`+"\n", color, dash, strings.TrimSpace(pts.String()))
		}
	}
	// Legend, under the title.
	for li, l := range lines {
		x := float64(plotLeft) + float64(li%4)*215
		y := 40.0 + float64(li/4)*16
		color, dash := lineStyle(l.r, li)
		p(`<line x1="%.0f" y1="%.0f" x2="%.0f" y2="%.0f" stroke="%s" stroke-width="2"%s/>`+"\n", x, y-4, x+28, y-4, color, dash)
		p(`<text x="%.0f" y="%.0f">%s</text>`+"\n", x+34, y, esc(l.r.Policy+" / "+l.r.FairShare))
	}
	p("</svg>\n")
	return bw.Flush()
}

func lineStyle(r *Result, i int) (color, dash string) {
	color, ok := plotColors[r.Policy]
	if !ok {
		color = plotExtraColors[i%len(plotExtraColors)]
	}
	if d := plotDash[r.FairShare]; d != "" {
		dash = fmt.Sprintf(` stroke-dasharray="%s"`, d)
	}
	return color, dash
}

// buckets averages the step function of the series over n equal buckets of
// [0, end): the pending count and the GPU fraction.
func buckets(series []Sample, end int64, n int, gpus float64) (queue, util []float64) {
	queue, util = make([]float64, n), make([]float64, n)
	// Positions are scaled by n so that every bucket is exactly end long.
	nn := int64(n)
	for i, s := range series {
		from, to := s.T*nn, end*nn
		if i+1 < len(series) {
			to = min(to, series[i+1].T*nn)
		}
		for from < to {
			b := from / end
			if b >= nn {
				break
			}
			segEnd := min(to, (b+1)*end)
			frac := float64(segEnd-from) / float64(end)
			queue[b] += float64(s.Pending) * frac
			util[b] += float64(s.GPUs) / gpus * frac
			from = segEnd
		}
	}
	return queue, util
}

// niceStep rounds x up to 1, 2 or 5 times a power of ten.
func niceStep(x float64) float64 {
	if x <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(x)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= x {
			return m * p
		}
	}
	return 10 * p
}

// niceCeil rounds x up to a value whose quarters are round.
func niceCeil(x float64) float64 { return 4 * niceStep(x/4) }

func trimFloat(v float64) string {
	s := fmt.Sprintf("%.2f", v)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	return s
}

func esc(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}
