package units

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/gsched/gsched/pkg/api"
)

// ParseTRES parses a Slurm-style TRES list such as "cpu=64,mem=256G,gpu=8"
// (also "gres/gpu=8" and "node=2"). Memory takes ParseMemory's units.
// The empty string is the zero TRES (no limit).
func ParseTRES(s string) (api.TRES, error) {
	var t api.TRES
	s = strings.TrimSpace(s)
	if s == "" {
		return t, nil
	}
	seen := map[string]bool{}
	for _, part := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		k = strings.ToLower(strings.TrimSpace(k))
		v = strings.TrimSpace(v)
		if !ok || k == "" || v == "" {
			return api.TRES{}, newError("TRES", s, fmt.Sprintf("%q is not name=value", short(part)))
		}
		if k == "gres/gpu" {
			k = "gpu"
		}
		if seen[k] {
			return api.TRES{}, newError("TRES", s, fmt.Sprintf("%s given twice", k))
		}
		seen[k] = true
		switch k {
		case "mem":
			m, err := ParseMemory(v)
			if err != nil {
				return api.TRES{}, err
			}
			t.MemBytes = m
		case "cpu", "gpu", "node":
			n, err := strconv.ParseInt(v, 10, 32)
			if err != nil || n < 0 {
				return api.TRES{}, newError("TRES", s, fmt.Sprintf("%s=%q is not a non-negative count", k, short(v)))
			}
			switch k {
			case "cpu":
				t.CPUs = int(n)
			case "gpu":
				t.GPUs = int(n)
			case "node":
				t.Nodes = int(n)
			}
		default:
			return api.TRES{}, newError("TRES", s, fmt.Sprintf("unknown resource %q (want cpu, mem, gpu or node)", short(k)))
		}
	}
	return t, nil
}
