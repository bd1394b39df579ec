package topology

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/gsched/gsched/pkg/api"
)

// Link is the connection level between two devices; lower is better.
type Link int

// Link levels, as nvidia-smi names them.
const (
	// Self is a GPU with itself (X).
	Self Link = iota
	// NVLink is a direct NVLink connection or one through an NVSwitch (NV#).
	NVLink
	// PIX traverses at most a single PCIe switch.
	PIX
	// PXB traverses several PCIe switches but no host bridge.
	PXB
	// PHB traverses a PCIe host bridge (typically the CPU).
	PHB
	// NODE traverses the interconnect between host bridges of one NUMA node.
	NODE
	// SYS traverses the SMP interconnect between NUMA nodes (QPI/UPI, xGMI).
	SYS
)

// ErrInvalid is wrapped by every error about a malformed topology or matrix.
var ErrInvalid = errors.New("invalid topology")

// String returns the nvidia-smi legend name: X, NV, PIX, PXB, PHB, NODE, SYS.
// (nvidia-smi writes NV followed by the number of links; see Cell.)
func (l Link) String() string {
	switch l {
	case Self:
		return "X"
	case NVLink:
		return "NV"
	case PIX:
		return "PIX"
	case PXB:
		return "PXB"
	case PHB:
		return "PHB"
	case NODE:
		return "NODE"
	case SYS:
		return "SYS"
	}
	return fmt.Sprintf("Link(%d)", int(l))
}

// Valid reports whether l is one of the defined levels.
func (l Link) Valid() bool { return l >= Self && l <= SYS }

// ParseLink reads one cell of `nvidia-smi topo -m`: X, NV<n>, PIX, PXB,
// PHB, NODE, SYS (and SOC, the name older drivers used for SYS). Case is
// ignored. For NV<n> it also returns n (0 for a bare "NV").
func ParseLink(s string) (Link, int, error) {
	u := strings.ToUpper(strings.TrimSpace(s))
	switch u {
	case "X":
		return Self, 0, nil
	case "PIX":
		return PIX, 0, nil
	case "PXB":
		return PXB, 0, nil
	case "PHB":
		return PHB, 0, nil
	case "NODE":
		return NODE, 0, nil
	case "SYS", "SOC":
		return SYS, 0, nil
	case "NV":
		return NVLink, 0, nil
	}
	if rest, ok := strings.CutPrefix(u, "NV"); ok && isDigits(rest) && len(rest) <= 4 {
		n, err := strconv.Atoi(rest)
		if err == nil {
			return NVLink, n, nil
		}
	}
	return 0, 0, fmt.Errorf("%w: unknown link %q (want X, NV#, PIX, PXB, PHB, NODE or SYS)", ErrInvalid, s)
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// Between returns the link between GPUs i and j: Self when i == j, SYS
// when the topology is nil or does not cover the pair or holds a value
// out of range.
func Between(t *api.GPUTopology, i, j int) Link {
	if i == j {
		return Self
	}
	if t == nil || i < 0 || j < 0 || i >= len(t.Links) || j >= len(t.Links[i]) {
		return SYS
	}
	l := Link(t.Links[i][j])
	if l < NVLink || l > SYS {
		return SYS
	}
	return l
}

// Cell formats the link between GPUs i and j as nvidia-smi does: X, NV18,
// PIX, ... (NV without a number when the link count is unknown).
func Cell(t *api.GPUTopology, i, j int) string {
	l := Between(t, i, j)
	if l != NVLink {
		return l.String()
	}
	if i < len(t.NVLinks) && j < len(t.NVLinks[i]) && t.NVLinks[i][j] > 0 {
		return "NV" + strconv.Itoa(t.NVLinks[i][j])
	}
	return "NV"
}
