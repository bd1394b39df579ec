package daemon

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/gsched/gsched/noded/agent"
	"github.com/gsched/gsched/pkg/api"
	"github.com/gsched/gsched/pkg/config"
	"github.com/gsched/gsched/pkg/gpu"
	"github.com/gsched/gsched/pkg/metrics"
)

// Option adjusts a daemon built by New.
type Option func(*options)

type options struct {
	level *zap.AtomicLevel
}

// WithLevel lets operators change the logger's level at run time
// (gcontrol setdebug reaches node daemons with their next heartbeat).
func WithLevel(l *zap.AtomicLevel) Option { return func(o *options) { o.level = l } }

// observability is the node daemon's metrics endpoint and its GPU usage
// sampler.
type observability struct {
	met  *metrics.Node
	reg  *prometheus.Registry
	http *metrics.Server
	// usage samples NVML GPUs (nil for declared ones), for the metrics
	// and the heartbeat both.
	usage *gpuUsage
}

// newObservability opens the GPU usage sampler when the GPUs come from
// NVML, and builds the metrics when node.metrics_listen is set.
// a returns the agent (created after the metrics, which it reports to).
func newObservability(cfg *config.Config, node *api.Node, a func() *agent.Agent, log *zap.Logger) (*observability, error) {
	o := &observability{}
	if node.GPUSource == "nvml" {
		s, err := gpu.OpenSampler()
		if err != nil {
			log.Warn("no GPU utilisation figures", zap.Error(err))
		} else {
			o.usage = newGPUUsage(s, node)
		}
	}
	if cfg.Node.MetricsListen == "" {
		return o, nil
	}
	o.met = metrics.NewNode(metrics.NodeOptions{
		Tasks: func() (int, bool) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			n, err := a().RunningTasks(ctx)
			return n, err == nil
		},
		GPUs: func() []metrics.GPUStat { return o.gpuStats(node, a().AllocatedGPUs()) },
	})
	reg, own := metrics.NewRegistry("gnoded", Version, prometheus.Labels{"node": node.Name})
	if err := metrics.Register(own, o.met.Collectors()...); err != nil {
		o.close()
		return nil, err
	}
	o.reg = reg
	srv, err := metrics.Listen(cfg.Node.MetricsListen, cfg.Node.StateDir, reg, log.Named("metrics"))
	if err != nil {
		o.close()
		return nil, err
	}
	o.http = srv
	return o, nil
}

// gpuStats describes the node's GPUs: declared or NVML totals, which
// ones jobs hold, and NVML's usage figures where there are any.
func (o *observability) gpuStats(node *api.Node, alloc []int) []metrics.GPUStat {
	held := map[int]bool{}
	for _, g := range alloc {
		held[g] = true
	}
	var samples map[int]gpu.Sample
	if o.usage != nil {
		samples = map[int]gpu.Sample{}
		for _, s := range o.usage.samples() {
			samples[s.Index] = s
		}
	}
	out := make([]metrics.GPUStat, 0, len(node.GPUs))
	for _, g := range node.GPUs {
		st := metrics.GPUStat{Index: g.Index, UUID: g.UUID, Model: g.Model, MemTotal: g.MemBytes, Allocated: held[g.Index]}
		if s, ok := samples[g.Index]; ok {
			st.Utilization, st.HasUtilization = s.Utilization, s.HasUtilization
			st.MemUsed, st.HasMemUsed = s.MemUsed, s.HasMem
		}
		out = append(out, st)
	}
	return out
}

func (o *observability) serve(ctx context.Context, log *zap.Logger) {
	if o.http == nil {
		return
	}
	log.Info("metrics endpoint ready", zap.String("addr", o.http.Addr()))
	if err := o.http.Serve(ctx); err != nil {
		log.Error("metrics endpoint stopped", zap.Error(err))
	}
}

func (o *observability) close() {
	if o.usage != nil {
		o.usage.close()
	}
}

// gpuUsageFunc is the agent's GPUUsage option: nil without a sampler.
func (o *observability) gpuUsageFunc() func() []api.GPUUsage {
	if o.usage == nil {
		return nil
	}
	return o.usage.report
}

// MetricsAddr is the /metrics address really bound ("" when off).
func (d *Daemon) MetricsAddr() string {
	if d.obs.http == nil {
		return ""
	}
	return d.obs.http.Addr()
}

// Gatherer is the daemon's metrics registry (nil when metrics are off).
func (d *Daemon) Gatherer() prometheus.Gatherer {
	if d.obs.reg == nil {
		return nil
	}
	return d.obs.reg
}
