package topology

import (
	"fmt"
	"sort"
	"strings"

	"github.com/gsched/gsched/pkg/api"
)

// presets builds a fresh copy of each named topology.
var presets = map[string]func() *api.GPUTopology{
	"dgx-h100":          dgxH100,
	"pcie-8gpu-2socket": pcie8GPU2Socket,
	"nvlink-pairs-4gpu": nvlinkPairs4GPU,
}

// Presets lists the preset names, sorted.
func Presets() []string {
	out := make([]string, 0, len(presets))
	for name := range presets {
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}

// Preset returns a new copy of a named topology:
//
//   - dgx-h100: 8 H100 SXM5 GPUs, every pair NVLink through the four
//     NVSwitches (NV18: each GPU has 18 NVLink 4 links, as nvidia-smi shows).
//     Two sockets: GPUs 0-3 on NUMA node 0, 4-7 on node 1. CPUs 0-55 on node
//     0 and 56-111 on node 1 (2 x 56-core Xeon 8480C with hyper-threading
//     off; with it on the siblings 112-223 exist too: use ParseMatrix or NVML
//     discovery on the real machine). Eight compute NICs mlx5_0..mlx5_7 (the
//     ConnectX-7 of the compute fabric; a real DGX numbers them differently
//     and has storage NICs too), NIC i sharing a PCIe switch with GPU i
//     (PIX), NODE to the other GPUs of its socket, SYS to the rest.
//   - pcie-8gpu-2socket: 8 PCIe GPUs, no NVLink, two per PCIe switch: GPUs
//     0,1 on switch A and 2,3 on switch B (socket 0), 4,5 on C and 6,7 on D
//     (socket 1). One switch: PIX; two switches on one socket: NODE (each
//     switch hangs off its own root port, i.e. its own host bridge, which is
//     what nvidia-smi prints on current Xeon and EPYC boards; older drivers
//     printed PHB); across sockets: SYS. CPUs 0-23 on node 0, 24-47 on node
//     1. Two NICs: mlx5_0 on switch B (PIX to GPUs 2,3) and mlx5_1 on switch
//     D (PIX to 6,7), NODE to the other GPUs of their socket, SYS across.
//   - nvlink-pairs-4gpu: a one-socket workstation with 4 PCIe GPUs and two
//     NVLink bridges, 0-1 and 2-3 (NV4, e.g. RTX A6000 pairs); the other
//     pairs meet at the CPU's host bridge (PHB). NUMA node 0 with CPUs 0-31,
//     no NICs.
func Preset(name string) (*api.GPUTopology, error) {
	f, ok := presets[name]
	if !ok {
		return nil, fmt.Errorf("%w: unknown preset %q (known: %s)", ErrInvalid, name, strings.Join(Presets(), ", "))
	}
	return f(), nil
}

// square returns an n x n matrix filled by f (i != j) with 0 on the diagonal.
func square(n int, f func(i, j int) int) [][]int {
	m := make([][]int, n)
	for i := range m {
		m[i] = make([]int, n)
		for j := range m[i] {
			if i != j {
				m[i][j] = f(i, j)
			}
		}
	}
	return m
}

func cpuRange(lo, hi int) []int {
	out := make([]int, 0, hi-lo+1)
	for c := lo; c <= hi; c++ {
		out = append(out, c)
	}
	return out
}

func dgxH100() *api.GPUTopology {
	const n = 8
	numa := []int{0, 0, 0, 0, 1, 1, 1, 1}
	t := &api.GPUTopology{
		Source:  "dgx-h100",
		Links:   square(n, func(i, j int) int { return int(NVLink) }),
		NVLinks: square(n, func(i, j int) int { return 18 }),
		NUMA:    numa,
		CPUs:    map[int][]int{0: cpuRange(0, 55), 1: cpuRange(56, 111)},
	}
	for k := 0; k < n; k++ {
		nic := api.NIC{Name: fmt.Sprintf("mlx5_%d", k), NUMA: numa[k], Links: make([]int, n)}
		for g := 0; g < n; g++ {
			switch {
			case g == k:
				nic.Links[g] = int(PIX)
			case numa[g] == numa[k]:
				nic.Links[g] = int(NODE)
			default:
				nic.Links[g] = int(SYS)
			}
		}
		t.NICs = append(t.NICs, nic)
	}
	return t
}

func pcie8GPU2Socket() *api.GPUTopology {
	const n = 8
	sw := func(g int) int { return g / 2 }     // PCIe switch A..D = 0..3
	socket := func(g int) int { return g / 4 } // socket = NUMA node
	link := func(i, j int) int {
		switch {
		case sw(i) == sw(j):
			return int(PIX)
		case socket(i) == socket(j):
			return int(NODE)
		}
		return int(SYS)
	}
	t := &api.GPUTopology{
		Source: "pcie-8gpu-2socket",
		Links:  square(n, link),
		NUMA:   []int{0, 0, 0, 0, 1, 1, 1, 1},
		CPUs:   map[int][]int{0: cpuRange(0, 23), 1: cpuRange(24, 47)},
	}
	// mlx5_0 sits on switch B (GPUs 2,3), mlx5_1 on switch D (GPUs 6,7).
	for k, nicSwitch := range []int{1, 3} {
		nic := api.NIC{Name: fmt.Sprintf("mlx5_%d", k), NUMA: nicSwitch / 2, Links: make([]int, n)}
		for g := 0; g < n; g++ {
			switch {
			case sw(g) == nicSwitch:
				nic.Links[g] = int(PIX)
			case socket(g) == nicSwitch/2:
				nic.Links[g] = int(NODE)
			default:
				nic.Links[g] = int(SYS)
			}
		}
		t.NICs = append(t.NICs, nic)
	}
	return t
}

func nvlinkPairs4GPU() *api.GPUTopology {
	const n = 4
	paired := func(i, j int) bool { return i/2 == j/2 }
	return &api.GPUTopology{
		Source: "nvlink-pairs-4gpu",
		Links: square(n, func(i, j int) int {
			if paired(i, j) {
				return int(NVLink)
			}
			return int(PHB)
		}),
		NVLinks: square(n, func(i, j int) int {
			if paired(i, j) {
				return 4
			}
			return 0
		}),
		NUMA: []int{0, 0, 0, 0},
		CPUs: map[int][]int{0: cpuRange(0, 31)},
	}
}

// FromSpec reads the node.gpu_topology setting: "" (unknown: nil), a
// preset name, or a matrix for ParseMatrix (either form). A single word
// that is not a preset is reported as an unknown preset.
func FromSpec(spec string) (*api.GPUTopology, error) {
	s := strings.TrimSpace(spec)
	switch {
	case s == "":
		return nil, nil
	case presets[s] != nil:
		return Preset(s)
	case !strings.ContainsAny(s, " \t\n;") && strings.ToUpper(s) != "X":
		return Preset(s)
	}
	return ParseMatrix(s)
}
