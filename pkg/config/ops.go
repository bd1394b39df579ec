package config

import (
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gsched/gsched/pkg/topology"
	"github.com/gsched/gsched/pkg/units"
)

// CPUReserve is node.reserved_cpus: an integer (that many CPUs, the
// lowest-numbered online ones) or a string holding a Linux CPU list
// ("0-1,64").
type CPUReserve struct {
	Count int   `toml:"-"`
	List  []int `toml:"-"`
}

// IsZero reports whether nothing is reserved.
func (r CPUReserve) IsZero() bool { return r.Count == 0 && len(r.List) == 0 }

// UnmarshalTOML reads an integer count or a CPU-list string.
func (r *CPUReserve) UnmarshalTOML(v any) error {
	switch x := v.(type) {
	case int64:
		if x < 0 || x > 1<<16 {
			return fmt.Errorf("node.reserved_cpus: %d is not a CPU count from 0 to 65536", x)
		}
		*r = CPUReserve{Count: int(x)}
		return nil
	case string:
		if strings.TrimSpace(x) == "" {
			*r = CPUReserve{}
			return nil
		}
		l, err := ParseCPUReserve(x)
		if err != nil {
			return err
		}
		*r = CPUReserve{List: l}
		return nil
	}
	return fmt.Errorf("node.reserved_cpus: want a count (2) or a CPU list (\"0-1\"), not %T", v)
}

// ParseCPUReserve parses the CPU-list form of node.reserved_cpus.
func ParseCPUReserve(s string) ([]int, error) {
	l, err := topology.ParseList(strings.TrimSpace(s))
	if err != nil {
		return nil, fmt.Errorf("node.reserved_cpus: %w", err)
	}
	return l, nil
}

// MarshalTOML writes the reservation back as UnmarshalTOML reads it: a
// count as an integer, a list as a string.
func (r CPUReserve) MarshalTOML() ([]byte, error) {
	if len(r.List) > 0 {
		return []byte(strconv.Quote(topology.FormatList(r.List))), nil
	}
	return []byte(strconv.Itoa(r.Count)), nil
}

// ReservedMemBytes is node.reserved_memory in bytes (0 when unset).
func (n *NodeConfig) ReservedMemBytes() (int64, error) {
	if n.ReservedMemory == "" {
		return 0, nil
	}
	m, err := units.ParseMemory(n.ReservedMemory)
	if err != nil {
		return 0, fmt.Errorf("node.reserved_memory: %w", err)
	}
	return m, nil
}

// Default times of the node health check and of prologs and epilogs.
const (
	DefaultHealthCheckInterval = 5 * time.Minute
	DefaultHealthCheckTimeout  = time.Minute
	DefaultScriptTimeout       = 5 * time.Minute
)

// resolveOps makes relative script paths absolute against the config
// file's directory (a bare name is looked up nowhere: scripts need paths).
func (c *Config) resolveOps(dir string) {
	for _, p := range []*string{&c.Node.HealthCheckProgram, &c.Node.Prolog, &c.Node.Epilog,
		&c.Controller.Prolog, &c.Controller.Epilog} {
		if *p != "" && !filepath.IsAbs(*p) {
			*p = filepath.Join(dir, *p)
		}
	}
}

// validateOps checks the node health, prolog/epilog and reservation keys.
func (c *Config) validateOps() []error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	n := &c.Node
	for _, d := range []struct {
		key string
		v   time.Duration
	}{
		{"node.health_check_interval", n.HealthCheckInterval.Duration}, {"node.health_check_timeout", n.HealthCheckTimeout.Duration},
		{"node.prolog_timeout", n.PrologTimeout.Duration}, {"node.epilog_timeout", n.EpilogTimeout.Duration},
		{"controller.prolog_timeout", c.Controller.PrologTimeout.Duration}, {"controller.epilog_timeout", c.Controller.EpilogTimeout.Duration},
	} {
		if d.v <= 0 {
			bad("%s must be positive", d.key)
		}
	}
	if n.HealthCheckInterval.Duration > 0 && n.HealthCheckInterval.Duration < time.Second {
		bad("node.health_check_interval must be at least 1s")
	}
	if n.ExpectedGPUs < 0 {
		bad("node.expected_gpus must not be negative (0 = the GPUs declared or found at start-up)")
	}
	if _, err := n.ReservedMemBytes(); err != nil {
		errs = append(errs, err)
	}
	seen := map[int]bool{}
	for _, g := range n.ReservedGPUs {
		if g < 0 || seen[g] {
			bad("node.reserved_gpus: %d is negative or listed twice", g)
		}
		seen[g] = true
	}
	if n.CPUs > 0 && n.ReservedCPUs.Count >= n.CPUs {
		bad("node.reserved_cpus (%d) leaves no CPU of node.cpus (%d) to jobs", n.ReservedCPUs.Count, n.CPUs)
	}
	for _, g := range n.ReservedGPUs {
		declared := slices.ContainsFunc(n.GPU, func(x GPUConfig) bool { return x.Index == g })
		if len(n.GPU) > 0 && !declared {
			bad("node.reserved_gpus: GPU %d is not declared in [[node.gpu]]", g)
		}
	}
	return errs
}
