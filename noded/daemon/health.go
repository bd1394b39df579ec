package daemon

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/gsched/gsched/noded/agent"
	"github.com/gsched/gsched/pkg/api"
	"github.com/gsched/gsched/pkg/config"
	"github.com/gsched/gsched/pkg/gpu"
	"github.com/gsched/gsched/pkg/hooks"
)

// gpuChecker is the part of gpu.HealthChecker the node health check uses.
type gpuChecker interface {
	Check(expected int) []string
	Close()
}

// health is a node's health check: the site's program and the built-in
// GPU checks.
type health struct {
	program string
	timeout time.Duration
	// expected GPUs (node.expected_gpus, else all found at start-up,
	// reserved ones included).
	expected int
	source   string    // "nvml", "config" or "none"
	declared []api.GPU // config source: the devices to look for
	open     func() (gpuChecker, error)
	log      *zap.Logger

	mu  sync.Mutex
	gpu gpuChecker // NVML checker, opened on first use
}

// newHealth returns the node's health check, nil when there is nothing to
// check (no program and no GPUs).
func newHealth(cfg *config.Config, n *api.Node, log *zap.Logger) (*health, error) {
	count := len(n.GPUs)
	if n.Reserved != nil {
		count += len(n.Reserved.GPUs)
	}
	if cfg.Node.HealthCheckProgram == "" && count == 0 && cfg.Node.ExpectedGPUs == 0 {
		return nil, nil
	}
	h := &health{program: cfg.Node.HealthCheckProgram, timeout: cfg.Node.HealthCheckTimeout.Duration,
		expected: cfg.Node.ExpectedGPUs, source: n.GPUSource, log: log,
		open: func() (gpuChecker, error) { return gpu.OpenHealthChecker() }}
	if h.expected == 0 {
		h.expected = count
	}
	if n.GPUSource != "nvml" {
		all, err := gpu.Declared(cfg.Node.GPU)
		if err != nil {
			return nil, err
		}
		h.declared = all
	}
	return h, nil
}

// check runs everything once; the reason lists every problem found.
func (h *health) check(ctx context.Context) api.NodeHealth {
	var problems []string
	if h.program != "" {
		if r := hooks.Run(ctx, h.program, nil, h.timeout); r.Err != nil {
			problems = append(problems, r.Reason())
		}
	}
	problems = append(problems, h.gpuProblems()...)
	return api.NodeHealth{OK: len(problems) == 0, Reason: strings.Join(problems, "; "), Time: time.Now()}
}

func (h *health) gpuProblems() []string {
	switch h.source {
	case "nvml":
		h.mu.Lock()
		defer h.mu.Unlock()
		if h.gpu == nil {
			c, err := h.open()
			if err != nil {
				return []string{fmt.Sprintf("NVML unreachable: %v", err)}
			}
			h.gpu = c
		}
		return h.gpu.Check(h.expected)
	default:
		// Declared GPUs: their device nodes must be there.
		present := 0
		for _, g := range h.declared {
			if _, err := os.Stat(g.DevicePath); err == nil {
				present++
			}
		}
		if h.expected > 0 && present != h.expected {
			return []string{fmt.Sprintf("%d GPUs, expected %d", present, h.expected)}
		}
	}
	return nil
}

func (h *health) close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.gpu != nil {
		h.gpu.Close()
		h.gpu = nil
	}
}

// agentHooks turns the configuration into the agent's hooks.
func agentHooks(cfg *config.Config, h *health) agent.Hooks {
	hk := agent.Hooks{
		HealthInterval: cfg.Node.HealthCheckInterval.Duration,
		Prolog:         cfg.Node.Prolog, Epilog: cfg.Node.Epilog,
		PrologTimeout: cfg.Node.PrologTimeout.Duration, EpilogTimeout: cfg.Node.EpilogTimeout.Duration,
	}
	if h != nil {
		hk.Health = h.check
	}
	return hk
}
