package topology

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/gsched/gsched/pkg/api"
)

// Limits that keep ParseMatrix's memory bounded on hostile input.
const (
	maxDevices = 256  // GPUs, and NICs, in one matrix
	maxCPU     = 8191 // highest CPU id in an affinity list (Linux NR_CPUS max)
)

type line struct {
	no   int // 1-based line number
	text string
}

// ParseMatrix reads the output of `nvidia-smi topo -m`: a header row
// (GPU0 GPU1 ... then NIC or HCA columns, then the optional CPU Affinity,
// NUMA Affinity and GPU NUMA ID columns), a row per GPU and per NIC, and
// the legends, which are skipped apart from the "NIC0: mlx5_0" names.
// Cells are X, NV<n>, PIX, PXB, PHB, NODE or SYS, separated by tabs or
// spaces. Without a NUMA Affinity column GPUs sharing a CPU Affinity get
// the same made-up NUMA node (0, 1, ... in order of appearance).
//
// It also reads a compact form for configuration files: only the rows of
// cells, one row per line or separated by ';' ("X NV4; NV4 X"), which
// gives links and unknown NUMA nodes. Lines starting with '#' are
// comments in both forms.
//
// The matrix must be square and symmetric with X exactly on the diagonal;
// errors name the line and the cell.
func ParseMatrix(text string) (*api.GPUTopology, error) {
	var lines []line
	for i, s := range strings.Split(text, "\n") {
		lines = append(lines, line{no: i + 1, text: strings.TrimRight(s, "\r")})
	}
	for k, ln := range lines {
		f := strings.Fields(ln.text)
		if len(f) == 0 || strings.HasPrefix(f[0], "#") {
			continue
		}
		if _, ok := gpuLabel(f[0]); ok {
			return parseFull(lines[k:])
		}
		if first := strings.Fields(strings.Split(ln.text, ";")[0]); len(first) > 0 {
			if _, _, ok := parseCell(first[0]); ok {
				return parseCompact(lines[k:])
			}
		}
		return nil, fmt.Errorf("%w: line %d: want a header starting with GPU0 or a row of links, got %q", ErrInvalid, ln.no, clip(ln.text))
	}
	return nil, fmt.Errorf("%w: empty matrix", ErrInvalid)
}

// gpuLabel reads "GPU<n>".
func gpuLabel(s string) (int, bool) {
	rest, ok := strings.CutPrefix(s, "GPU")
	if !ok || !isDigits(rest) || len(rest) > 4 {
		return 0, false
	}
	n, err := strconv.Atoi(rest)
	return n, err == nil
}

func parseCell(s string) (Link, int, bool) {
	l, n, err := ParseLink(s)
	return l, n, err == nil
}

func clip(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}

type trailKind int

const (
	trailCPU trailKind = iota
	trailNUMA
	trailOther
)

// header is the parsed column layout of the full form.
type header struct {
	gpus  int
	nics  []string // column names
	trail []trailKind
}

func (h *header) cells() int { return h.gpus + len(h.nics) }

func (h *header) nicIndex(name string) int {
	for k, n := range h.nics {
		if n == name {
			return k
		}
	}
	return -1
}

func (h *header) trailPos(kind trailKind) int {
	for k, t := range h.trail {
		if t == kind {
			return k
		}
	}
	return -1
}

func parseHeader(ln line) (*header, error) {
	f := strings.Fields(ln.text)
	h := &header{}
	inTrail := false
	at := func(k int, words ...string) bool {
		if k+len(words) > len(f) {
			return false
		}
		for i, w := range words {
			if f[k+i] != w {
				return false
			}
		}
		return true
	}
	for k := 0; k < len(f); k++ {
		tok := f[k]
		switch {
		case at(k, "CPU", "Affinity"):
			h.trail = append(h.trail, trailCPU)
			k++
			inTrail = true
		case at(k, "NUMA", "Affinity"):
			h.trail = append(h.trail, trailNUMA)
			k++
			inTrail = true
		case at(k, "GPU", "NUMA", "ID"):
			h.trail = append(h.trail, trailOther)
			k += 2
			inTrail = true
		case inTrail:
			h.trail = append(h.trail, trailOther)
		default:
			if idx, ok := gpuLabel(tok); ok {
				if len(h.nics) > 0 {
					return nil, fmt.Errorf("%w: line %d: header: %s after the NIC columns", ErrInvalid, ln.no, tok)
				}
				if idx != h.gpus {
					return nil, fmt.Errorf("%w: line %d: header: column %s, want GPU%d (GPU columns in order from GPU0)", ErrInvalid, ln.no, tok, h.gpus)
				}
				h.gpus++
				continue
			}
			if h.nicIndex(tok) >= 0 {
				return nil, fmt.Errorf("%w: line %d: header: column %s twice", ErrInvalid, ln.no, tok)
			}
			h.nics = append(h.nics, tok)
		}
		if h.gpus > maxDevices || len(h.nics) > maxDevices || len(h.trail) > maxDevices {
			return nil, fmt.Errorf("%w: line %d: header: more than %d columns of one kind", ErrInvalid, ln.no, maxDevices)
		}
	}
	return h, nil
}

// row is one parsed row of the full form.
type row struct {
	no    int
	cells []string
	trail []string
}

func parseFull(lines []line) (*api.GPUTopology, error) {
	h, err := parseHeader(lines[0])
	if err != nil {
		return nil, err
	}
	n := h.gpus
	gpuRows := make([]*row, n)
	nicRows := make([]*row, len(h.nics))
	legend := false
	for _, ln := range lines[1:] {
		f := strings.Fields(ln.text)
		if len(f) == 0 || strings.HasPrefix(f[0], "#") {
			continue
		}
		if legend {
			// "NIC0: mlx5_0" names a NIC column; the rest is explanation.
			if name, ok := strings.CutSuffix(f[0], ":"); ok && len(f) == 2 {
				if k := h.nicIndex(name); k >= 0 {
					h.nics[k] = f[1]
				}
			}
			continue
		}
		if f[0] == "Legend:" {
			legend = true
			continue
		}
		label := f[0]
		var slot **row
		if g, ok := gpuLabel(label); ok {
			if g >= n {
				return nil, fmt.Errorf("%w: line %d: row %s but the header has %d GPUs", ErrInvalid, ln.no, label, n)
			}
			slot = &gpuRows[g]
		} else if k := h.nicIndex(label); k >= 0 {
			slot = &nicRows[k]
		} else {
			return nil, fmt.Errorf("%w: line %d: unexpected row %q (not a GPU or NIC of the header)", ErrInvalid, ln.no, clip(label))
		}
		if *slot != nil {
			return nil, fmt.Errorf("%w: line %d: row %s appears twice", ErrInvalid, ln.no, label)
		}
		vals := f[1:]
		if len(vals) < h.cells() || len(vals) > h.cells()+len(h.trail) {
			return nil, fmt.Errorf("%w: line %d: row %s has %d cells, want %d", ErrInvalid, ln.no, label, len(vals), h.cells()+len(h.trail))
		}
		*slot = &row{no: ln.no, cells: vals[:h.cells()], trail: vals[h.cells():]}
	}
	cells := make([][]string, n)
	nos := make([]int, n)
	for i, r := range gpuRows {
		if r == nil {
			return nil, fmt.Errorf("%w: row GPU%d is missing", ErrInvalid, i)
		}
		cells[i], nos[i] = r.cells, r.no
	}
	t := &api.GPUTopology{Source: "matrix"}
	if t.Links, t.NVLinks, err = parseLinks(cells, nos, n, func(i int) string { return fmt.Sprintf("GPU%d", i) }); err != nil {
		return nil, err
	}
	if err := parseNICs(t, h, gpuRows, nicRows); err != nil {
		return nil, err
	}
	if err := parseAffinity(t, h, gpuRows); err != nil {
		return nil, err
	}
	// NIC NUMA nodes are not printed: take the one of the nearest GPU on
	// the same node (link NODE or better).
	for k := range t.NICs {
		nic := &t.NICs[k]
		nic.NUMA = -1
		best := SYS
		for g, v := range nic.Links {
			if Link(v) < best && t.NUMA[g] >= 0 {
				best, nic.NUMA = Link(v), t.NUMA[g]
			}
		}
	}
	if err := Validate(t, n); err != nil {
		return nil, err
	}
	return t, nil
}

// parseLinks reads the n x n GPU block of cells and checks X on the
// diagonal and symmetry. name(i) labels GPU i in errors.
func parseLinks(cells [][]string, nos []int, n int, name func(int) string) ([][]int, [][]int, error) {
	links := make([][]int, n)
	nvl := make([][]int, n)
	anyCount := false
	for i := 0; i < n; i++ {
		links[i] = make([]int, n)
		nvl[i] = make([]int, n)
		for j := 0; j < n; j++ {
			l, cnt, ok := parseCell(cells[i][j])
			switch {
			case !ok:
				return nil, nil, fmt.Errorf("%w: line %d: %s/%s: unknown link %q (want X, NV#, PIX, PXB, PHB, NODE or SYS)", ErrInvalid, nos[i], name(i), name(j), clip(cells[i][j]))
			case i == j && l != Self:
				return nil, nil, fmt.Errorf("%w: line %d: %s/%s is %s, want X on the diagonal", ErrInvalid, nos[i], name(i), name(j), cells[i][j])
			case i != j && l == Self:
				return nil, nil, fmt.Errorf("%w: line %d: %s/%s is X off the diagonal", ErrInvalid, nos[i], name(i), name(j))
			}
			links[i][j], nvl[i][j] = int(l), cnt
			anyCount = anyCount || cnt > 0
		}
	}
	for i := 0; i < n; i++ {
		for j := i + 1; j < n; j++ {
			if links[i][j] != links[j][i] || nvl[i][j] != nvl[j][i] {
				return nil, nil, fmt.Errorf("%w: asymmetric: %s-%s is %s (line %d) but %s-%s is %s (line %d)",
					ErrInvalid, name(i), name(j), cells[i][j], nos[i], name(j), name(i), cells[j][i], nos[j])
			}
		}
	}
	if !anyCount {
		nvl = nil
	}
	return links, nvl, nil
}

func parseNICs(t *api.GPUTopology, h *header, gpuRows, nicRows []*row) error {
	n := h.gpus
	for k, name := range h.nics {
		nic := api.NIC{Name: name, Links: make([]int, n)}
		for g := 0; g < n; g++ {
			r := gpuRows[g]
			l, _, ok := parseCell(r.cells[n+k])
			if !ok || l == Self {
				return fmt.Errorf("%w: line %d: GPU%d/%s: bad link %q", ErrInvalid, r.no, g, name, clip(r.cells[n+k]))
			}
			if nr := nicRows[k]; nr != nil {
				back, _, ok := parseCell(nr.cells[g])
				if !ok {
					return fmt.Errorf("%w: line %d: %s/GPU%d: bad link %q", ErrInvalid, nr.no, name, g, clip(nr.cells[g]))
				}
				if back != l {
					return fmt.Errorf("%w: asymmetric: GPU%d-%s is %s (line %d) but %s-GPU%d is %s (line %d)",
						ErrInvalid, g, name, r.cells[n+k], r.no, name, g, nr.cells[g], nr.no)
				}
			}
			nic.Links[g] = int(l)
		}
		if nr := nicRows[k]; nr != nil {
			for j, c := range nr.cells[n:] {
				if _, _, ok := parseCell(c); !ok {
					return fmt.Errorf("%w: line %d: %s/%s: unknown link %q", ErrInvalid, nr.no, name, h.nics[j], clip(c))
				}
			}
		}
		t.NICs = append(t.NICs, nic)
	}
	return nil
}

func parseAffinity(t *api.GPUTopology, h *header, gpuRows []*row) error {
	n := h.gpus
	cpuPos, numaPos := h.trailPos(trailCPU), h.trailPos(trailNUMA)
	field := func(r *row, pos int) string {
		if pos < 0 || pos >= len(r.trail) {
			return "N/A"
		}
		return r.trail[pos]
	}
	t.NUMA = make([]int, n)
	made := map[string]int{} // CPU affinity -> made-up NUMA node
	for g, r := range gpuRows {
		t.NUMA[g] = -1
		cpuStr, numaStr := field(r, cpuPos), field(r, numaPos)
		switch {
		case numaPos >= 0 && numaStr != "N/A":
			nodes, err := ParseList(numaStr)
			if err != nil || len(nodes) == 0 {
				return fmt.Errorf("%w: line %d: GPU%d: bad NUMA affinity %q", ErrInvalid, r.no, g, clip(numaStr))
			}
			t.NUMA[g] = nodes[0]
		case numaPos < 0 && cpuStr != "N/A":
			id, ok := made[cpuStr]
			if !ok {
				id = len(made)
				made[cpuStr] = id
			}
			t.NUMA[g] = id
		}
		if cpuStr == "N/A" || t.NUMA[g] < 0 {
			continue
		}
		cpus, err := ParseList(cpuStr)
		if err != nil {
			return fmt.Errorf("%w: line %d: GPU%d: bad CPU affinity %q", ErrInvalid, r.no, g, clip(cpuStr))
		}
		if t.CPUs == nil {
			t.CPUs = map[int][]int{}
		}
		t.CPUs[t.NUMA[g]] = union(t.CPUs[t.NUMA[g]], cpus)
	}
	return nil
}

// ParseList reads a Linux cpulist such as "0-55,112-167" (ids 0..8191, as
// in sysfs and nvidia-smi) into sorted ids without duplicates.
func ParseList(s string) ([]int, error) {
	var out []int
	for _, part := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		if !isRange {
			hi = lo
		}
		a, err1 := strconv.Atoi(lo)
		b, err2 := strconv.Atoi(hi)
		if err1 != nil || err2 != nil || !isDigits(lo) || !isDigits(hi) || a > b || b > maxCPU {
			return nil, fmt.Errorf("%w: bad CPU list %q", ErrInvalid, clip(s))
		}
		for c := a; c <= b; c++ {
			out = append(out, c)
		}
		if len(out) > 4*(maxCPU+1) {
			return nil, fmt.Errorf("%w: CPU list %q too long", ErrInvalid, clip(s))
		}
	}
	return union(nil, out), nil
}

// union returns the sorted, duplicate-free union of a and b.
func union(a, b []int) []int {
	out := append(append([]int(nil), a...), b...)
	sort.Ints(out)
	w := 0
	for i, v := range out {
		if i == 0 || v != out[w-1] {
			out[w] = v
			w++
		}
	}
	return out[:w]
}

func parseCompact(lines []line) (*api.GPUTopology, error) {
	var cells [][]string
	var nos []int
rows:
	for _, ln := range lines {
		for _, part := range strings.Split(ln.text, ";") {
			f := strings.Fields(part)
			if len(f) == 0 {
				continue
			}
			if strings.HasPrefix(f[0], "#") {
				break
			}
			if f[0] == "Legend:" {
				break rows
			}
			cells = append(cells, f)
			nos = append(nos, ln.no)
			if len(cells) > maxDevices {
				return nil, fmt.Errorf("%w: line %d: more than %d rows", ErrInvalid, ln.no, maxDevices)
			}
		}
	}
	n := len(cells)
	for i, r := range cells {
		if len(r) != n {
			return nil, fmt.Errorf("%w: line %d: row %d has %d cells, want %d (the matrix must be square)", ErrInvalid, nos[i], i, len(r), n)
		}
	}
	links, nvl, err := parseLinks(cells, nos, n, func(i int) string { return fmt.Sprintf("GPU%d", i) })
	if err != nil {
		return nil, err
	}
	t := &api.GPUTopology{Source: "matrix", Links: links, NVLinks: nvl, NUMA: make([]int, n)}
	for i := range t.NUMA {
		t.NUMA[i] = -1
	}
	return t, nil
}

// Format writes t as `nvidia-smi topo -m` does (tab-separated, with the
// CPU and NUMA affinity columns and the NIC legend), so that ParseMatrix
// reads it back. Links between two NICs are not stored: they are written
// NODE when both NICs are on one known NUMA node, else SYS.
func Format(t *api.GPUTopology) string {
	if t == nil {
		return ""
	}
	n := len(t.Links)
	var b strings.Builder
	for g := 0; g < n; g++ {
		fmt.Fprintf(&b, "\tGPU%d", g)
	}
	for k := range t.NICs {
		fmt.Fprintf(&b, "\tNIC%d", k)
	}
	b.WriteString("\tCPU Affinity\tNUMA Affinity\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "GPU%d", i)
		for j := 0; j < n; j++ {
			b.WriteString("\t" + pad(Cell(t, i, j)))
		}
		for _, nic := range t.NICs {
			b.WriteString("\t" + nicLink(nic, i).String())
		}
		cpus, numa := "N/A", "N/A"
		if i < len(t.NUMA) && t.NUMA[i] >= 0 {
			numa = strconv.Itoa(t.NUMA[i])
			if c := t.CPUs[t.NUMA[i]]; len(c) > 0 {
				cpus = FormatList(c)
			}
		}
		fmt.Fprintf(&b, "\t%s\t%s\n", cpus, numa)
	}
	for k, nic := range t.NICs {
		fmt.Fprintf(&b, "NIC%d", k)
		for g := 0; g < n; g++ {
			b.WriteString("\t" + nicLink(nic, g).String())
		}
		for j, other := range t.NICs {
			switch {
			case j == k:
				b.WriteString("\t X ")
			case nic.NUMA >= 0 && nic.NUMA == other.NUMA:
				b.WriteString("\tNODE")
			default:
				b.WriteString("\tSYS")
			}
		}
		b.WriteString("\n")
	}
	b.WriteString(legendText)
	if len(t.NICs) > 0 {
		b.WriteString("\nNIC Legend:\n\n")
		for k, nic := range t.NICs {
			fmt.Fprintf(&b, "  NIC%d: %s\n", k, nic.Name)
		}
	}
	return b.String()
}

func pad(cell string) string {
	if cell == "X" {
		return " X "
	}
	return cell
}

func nicLink(nic api.NIC, g int) Link {
	if g >= len(nic.Links) || nic.Links[g] < int(NVLink) || nic.Links[g] > int(SYS) {
		return SYS
	}
	return Link(nic.Links[g])
}

const legendText = `
Legend:

  X    = Self
  SYS  = Connection traversing PCIe as well as the SMP interconnect between NUMA nodes (e.g., QPI/UPI)
  NODE = Connection traversing PCIe as well as the interconnect between PCIe Host Bridges within a NUMA node
  PHB  = Connection traversing PCIe as well as a PCIe Host Bridge (typically the CPU)
  PXB  = Connection traversing multiple PCIe bridges (without traversing the PCIe Host Bridge)
  PIX  = Connection traversing at most a single PCIe bridge
  NV#  = Connection traversing a bonded set of # NVLinks
`

// FormatList writes sorted ids as a Linux cpulist: "0-55,112-167".
func FormatList(ids []int) string {
	var parts []string
	for i := 0; i < len(ids); {
		j := i
		for j+1 < len(ids) && ids[j+1] == ids[j]+1 {
			j++
		}
		if j == i {
			parts = append(parts, strconv.Itoa(ids[i]))
		} else {
			parts = append(parts, fmt.Sprintf("%d-%d", ids[i], ids[j]))
		}
		i = j + 1
	}
	return strings.Join(parts, ",")
}
