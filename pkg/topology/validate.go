package topology

import (
	"fmt"
	"sort"

	"github.com/gsched/gsched/pkg/api"
)

// Validate checks t against a node with nGPUs GPUs (indices 0..nGPUs-1):
// Links is nGPUs x nGPUs, symmetric, Self on the diagonal and NVLink..SYS
// elsewhere; NVLinks, when present, has the same shape, is symmetric, not
// negative and counts links only where Links says NVLink; NUMA is empty
// (unknown) or has one entry per GPU, each -1 or more; CPU ids are not
// negative; every NIC has one link per GPU in PIX..SYS (NVLink allowed for
// NVLink-attached NICs). A nil topology is valid: it means unknown.
func Validate(t *api.GPUTopology, nGPUs int) error {
	if t == nil {
		return nil
	}
	if len(t.Links) != nGPUs {
		return fmt.Errorf("%w: links has %d rows, want %d (one per GPU)", ErrInvalid, len(t.Links), nGPUs)
	}
	for i, row := range t.Links {
		if len(row) != nGPUs {
			return fmt.Errorf("%w: links row %d has %d entries, want %d", ErrInvalid, i, len(row), nGPUs)
		}
	}
	for i := 0; i < nGPUs; i++ {
		if t.Links[i][i] != int(Self) {
			return fmt.Errorf("%w: links[%d][%d] = %d, want %d (X) on the diagonal", ErrInvalid, i, i, t.Links[i][i], int(Self))
		}
		for j := 0; j < nGPUs; j++ {
			if i == j {
				continue
			}
			v := t.Links[i][j]
			if v < int(NVLink) || v > int(SYS) {
				return fmt.Errorf("%w: links[%d][%d] = %d, want %d..%d", ErrInvalid, i, j, v, int(NVLink), int(SYS))
			}
			if v != t.Links[j][i] {
				return fmt.Errorf("%w: asymmetric: GPU%d-GPU%d is %s but GPU%d-GPU%d is %s",
					ErrInvalid, i, j, Link(v), j, i, Link(t.Links[j][i]))
			}
		}
	}
	if t.NVLinks != nil {
		if err := validateNVLinks(t, nGPUs); err != nil {
			return err
		}
	}
	if len(t.NUMA) != 0 && len(t.NUMA) != nGPUs {
		return fmt.Errorf("%w: numa has %d entries, want %d (one per GPU) or none", ErrInvalid, len(t.NUMA), nGPUs)
	}
	for i, nd := range t.NUMA {
		if nd < -1 {
			return fmt.Errorf("%w: numa[%d] = %d, want a node id or -1 (unknown)", ErrInvalid, i, nd)
		}
	}
	for _, nd := range sortedKeys(t.CPUs) {
		cpus := t.CPUs[nd]
		if nd < 0 {
			return fmt.Errorf("%w: cpus of NUMA node %d: negative node", ErrInvalid, nd)
		}
		for _, c := range cpus {
			if c < 0 {
				return fmt.Errorf("%w: cpus of NUMA node %d: negative CPU %d", ErrInvalid, nd, c)
			}
		}
	}
	for k, nic := range t.NICs {
		if len(nic.Links) != nGPUs {
			return fmt.Errorf("%w: nic %d (%s) has %d links, want %d", ErrInvalid, k, nic.Name, len(nic.Links), nGPUs)
		}
		for g, v := range nic.Links {
			if v < int(NVLink) || v > int(SYS) {
				return fmt.Errorf("%w: nic %d (%s) link to GPU%d = %d, want %d..%d", ErrInvalid, k, nic.Name, g, v, int(NVLink), int(SYS))
			}
		}
		if nic.NUMA < -1 {
			return fmt.Errorf("%w: nic %d (%s) numa = %d", ErrInvalid, k, nic.Name, nic.NUMA)
		}
	}
	return nil
}

func validateNVLinks(t *api.GPUTopology, nGPUs int) error {
	if len(t.NVLinks) != nGPUs {
		return fmt.Errorf("%w: nvlinks has %d rows, want %d", ErrInvalid, len(t.NVLinks), nGPUs)
	}
	for i, row := range t.NVLinks {
		if len(row) != nGPUs {
			return fmt.Errorf("%w: nvlinks row %d has %d entries, want %d", ErrInvalid, i, len(row), nGPUs)
		}
	}
	for i := 0; i < nGPUs; i++ {
		for j := 0; j < nGPUs; j++ {
			v := t.NVLinks[i][j]
			switch {
			case v < 0:
				return fmt.Errorf("%w: nvlinks[%d][%d] = %d is negative", ErrInvalid, i, j, v)
			case i == j && v != 0:
				return fmt.Errorf("%w: nvlinks[%d][%d] = %d, want 0 on the diagonal", ErrInvalid, i, j, v)
			case v != t.NVLinks[j][i]:
				return fmt.Errorf("%w: asymmetric nvlinks: GPU%d-GPU%d is %d but GPU%d-GPU%d is %d", ErrInvalid, i, j, v, j, i, t.NVLinks[j][i])
			case v > 0 && t.Links[i][j] != int(NVLink):
				return fmt.Errorf("%w: nvlinks[%d][%d] = %d but links says %s", ErrInvalid, i, j, v, Link(t.Links[i][j]))
			}
		}
	}
	return nil
}

func sortedKeys(m map[int][]int) []int {
	out := make([]int, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Ints(out)
	return out
}
