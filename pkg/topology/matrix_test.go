package topology

import (
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/gsched/gsched/pkg/api"
)

func readFile(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestParseMatrixDGXH100(t *testing.T) {
	p, err := ParseMatrix(readFile(t, "testdata/dgx-h100.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if p.Source != "matrix" || len(p.Links) != 8 || len(p.NICs) != 10 {
		t.Fatalf("got source %q, %d GPUs, %d NICs", p.Source, len(p.Links), len(p.NICs))
	}
	want := mustPreset(t, "dgx-h100")
	if !reflect.DeepEqual(p.Links, want.Links) || !reflect.DeepEqual(p.NVLinks, want.NVLinks) || !reflect.DeepEqual(p.NUMA, want.NUMA) {
		t.Errorf("links/nvlinks/numa differ from the dgx-h100 preset:\n%s", Format(p))
	}
	// Hyper-threads included: 56 cores + 56 siblings per node.
	if c := p.CPUs[0]; len(c) != 112 || c[0] != 0 || c[55] != 55 || c[56] != 112 || c[111] != 167 {
		t.Errorf("CPUs of node 0 = %v", FormatList(c))
	}
	if got := FormatList(p.CPUs[1]); got != "56-111,168-223" {
		t.Errorf("CPUs of node 1 = %s", got)
	}
	nics := []struct {
		name  string
		numa  int
		links []int
	}{
		{"mlx5_0", 0, []int{2, 5, 5, 5, 6, 6, 6, 6}},
		{"mlx5_3", 0, []int{5, 2, 5, 5, 6, 6, 6, 6}},
		{"mlx5_11", 1, []int{6, 6, 6, 6, 5, 5, 5, 2}},
		{"mlx5_1", 0, []int{5, 5, 5, 5, 6, 6, 6, 6}}, // storage NIC on socket 0
		{"mlx5_7", 1, []int{6, 6, 6, 6, 5, 5, 5, 5}},
	}
	byName := map[string]api.NIC{}
	for _, nic := range p.NICs {
		byName[nic.Name] = nic
	}
	for _, w := range nics {
		got, ok := byName[w.name]
		if !ok || got.NUMA != w.numa || !reflect.DeepEqual(got.Links, w.links) {
			t.Errorf("NIC %s = %+v, want numa %d links %v", w.name, got, w.numa, w.links)
		}
	}
}

func TestParseMatrixOldLayout(t *testing.T) {
	p, err := ParseMatrix(readFile(t, "testdata/pcie-8gpu-old.txt"))
	if err != nil {
		t.Fatal(err)
	}
	// No NUMA Affinity column: NUMA nodes are made up from CPU Affinity.
	if want := []int{0, 0, 0, 0, 1, 1, 1, 1}; !reflect.DeepEqual(p.NUMA, want) {
		t.Errorf("NUMA = %v, want %v", p.NUMA, want)
	}
	if got := FormatList(p.CPUs[1]); got != "10-19,30-39" {
		t.Errorf("CPUs[1] = %s", got)
	}
	if p.Links[0][1] != int(PIX) || p.Links[0][2] != int(PHB) || p.Links[3][4] != int(SYS) || p.NVLinks != nil {
		t.Errorf("links = %v, nvlinks = %v", p.Links, p.NVLinks)
	}
	if len(p.NICs) != 1 || p.NICs[0].Name != "mlx4_0" || p.NICs[0].NUMA != 0 || p.NICs[0].Links[5] != int(SYS) {
		t.Errorf("NICs = %+v", p.NICs)
	}
}

func TestParseMatrixForms(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		links [][]int
		numa  []int
		nv    [][]int
	}{
		{"compact", "X NV4\nNV4 X\n", [][]int{{0, 1}, {1, 0}}, []int{-1, -1}, [][]int{{0, 4}, {4, 0}}},
		{"compact semicolons", "X PIX SYS; PIX X SYS; SYS SYS X", [][]int{{0, 2, 6}, {2, 0, 6}, {6, 6, 0}}, []int{-1, -1, -1}, nil},
		{"compact comments and CRLF", "# a pair\r\n  x  pxb\r\n\r\nPXB   X  \r\n", [][]int{{0, 3}, {3, 0}}, []int{-1, -1}, nil},
		{"spaces only, no affinity", "      GPU0  GPU1\nGPU0   X    PHB\nGPU1  PHB    X\n", [][]int{{0, 4}, {4, 0}}, []int{-1, -1}, nil},
		{"spaces with affinity", "  GPU0 GPU1 CPU Affinity NUMA Affinity GPU NUMA ID\nGPU0 X NODE 0-15 0 N/A\nGPU1 NODE X 0-15 0 N/A\n\nLegend:\n\n  X = Self\n",
			[][]int{{0, 5}, {5, 0}}, []int{0, 0}, nil},
		{"single GPU", "\tGPU0\tCPU Affinity\tNUMA Affinity\nGPU0\t X \t0-7\tN/A\n", [][]int{{0}}, []int{-1}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := ParseMatrix(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(p.Links, tc.links) || !reflect.DeepEqual(p.NUMA, tc.numa) || !reflect.DeepEqual(p.NVLinks, tc.nv) {
				t.Errorf("got links %v numa %v nvlinks %v", p.Links, p.NUMA, p.NVLinks)
			}
		})
	}
}

func TestParseMatrixErrors(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"empty", "\n \n", "empty matrix"},
		{"garbage", "hello world", `line 1: want a header starting with GPU0`},
		{"asymmetric", "X PIX\nSYS X", "asymmetric: GPU0-GPU1 is PIX (line 1) but GPU1-GPU0 is SYS (line 2)"},
		{"asymmetric NV count", "X NV2\nNV4 X", "asymmetric: GPU0-GPU1 is NV2"},
		{"not square", "X PIX\nPIX X PIX", "line 2: row 1 has 3 cells, want 2"},
		{"diagonal", "PIX PIX\nPIX X", "line 1: GPU0/GPU0 is PIX, want X on the diagonal"},
		{"X off diagonal", "X X\nX X", "line 1: GPU0/GPU1 is X off the diagonal"},
		{"bad cell", "X FOO\nFOO X", `line 1: GPU0/GPU1: unknown link "FOO"`},
		{"header order", "\tGPU1\tGPU0\n", "header: column GPU1, want GPU0"},
		{"missing row", "\tGPU0\tGPU1\nGPU0\t X \tPIX\n", "row GPU1 is missing"},
		{"short row", "\tGPU0\tGPU1\nGPU0\t X \nGPU1\tPIX\t X \n", "line 2: row GPU0 has 1 cells, want 2"},
		{"long row", "\tGPU0\tGPU1\nGPU0\t X \tPIX\tPIX\nGPU1\tPIX\t X \n", "line 2: row GPU0 has 3 cells, want 2"},
		{"duplicate row", "\tGPU0\nGPU0\t X \nGPU0\t X \n", "line 3: row GPU0 appears twice"},
		{"unknown row", "\tGPU0\nGPU0\t X \nGPU7\t X \n", "line 3: row GPU7 but the header has 1 GPUs"},
		{"stray row", "\tGPU0\nGPU0\t X \nfoo\t X \n", `line 3: unexpected row "foo"`},
		{"NIC asymmetric", "\tGPU0\tNIC0\nGPU0\t X \tPIX\nNIC0\tSYS\t X \n", "asymmetric: GPU0-NIC0 is PIX (line 2) but NIC0-GPU0 is SYS (line 3)"},
		{"NIC self", "\tGPU0\tNIC0\nGPU0\t X \t X \n", `GPU0/NIC0: bad link "X"`},
		{"bad CPU list", "\tGPU0\tCPU Affinity\tNUMA Affinity\nGPU0\t X \t0-x\t0\n", `GPU0: bad CPU affinity "0-x"`},
		{"huge CPU list", "\tGPU0\tCPU Affinity\tNUMA Affinity\nGPU0\t X \t0-99999999\t0\n", "bad CPU affinity"},
		{"bad NUMA", "\tGPU0\tCPU Affinity\tNUMA Affinity\nGPU0\t X \t0-3\tzero\n", `GPU0: bad NUMA affinity "zero"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseMatrix(tc.in)
			if err == nil {
				t.Fatalf("no error, want %q", tc.want)
			}
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
				t.Errorf("error %q, want one line containing %q", err, tc.want)
			}
		})
	}
}

// TestFormatRoundTrip: what Format writes, ParseMatrix reads back.
func TestFormatRoundTrip(t *testing.T) {
	for _, name := range Presets() {
		p := mustPreset(t, name)
		back, err := ParseMatrix(Format(p))
		if err != nil {
			t.Fatalf("%s: %v\n%s", name, err, Format(p))
		}
		back.Source = p.Source
		if !reflect.DeepEqual(back, p) {
			t.Errorf("%s: round trip differs:\ngot  %+v\nwant %+v", name, back, p)
		}
	}
	if Format(nil) != "" {
		t.Error("Format(nil) not empty")
	}
}

func TestFormatList(t *testing.T) {
	tests := []struct {
		in   []int
		want string
	}{
		{nil, ""},
		{[]int{3}, "3"},
		{[]int{0, 1, 2, 5, 7, 8}, "0-2,5,7-8"},
	}
	for _, tc := range tests {
		if got := FormatList(tc.in); got != tc.want {
			t.Errorf("FormatList(%v) = %q, want %q", tc.in, got, tc.want)
		}
		if tc.in != nil {
			back, err := ParseList(tc.want)
			if err != nil || !reflect.DeepEqual(back, tc.in) {
				t.Errorf("ParseList(%q) = %v, %v", tc.want, back, err)
			}
		}
	}
}

// FuzzParseMatrix: never panics, errors are one line wrapping ErrInvalid,
// and a parsed topology is valid and survives Format -> ParseMatrix.
func FuzzParseMatrix(f *testing.F) {
	f.Add(readFile(f, "testdata/dgx-h100.txt"))
	f.Add(readFile(f, "testdata/pcie-8gpu-old.txt"))
	f.Add("X NV4; NV4 X")
	f.Add("X PIX SYS\nPIX X SYS\nSYS SYS X\n")
	f.Add("\tGPU0\tGPU1\tNIC0\tCPU Affinity\tNUMA Affinity\nGPU0\t X \tPHB\tPIX\t0-3,8\t0\nGPU1\tPHB\t X \tSYS\t4-7\t1\nNIC0\tPIX\tSYS\t X \n\nLegend:\n  NIC0: mlx5_0\n")
	for _, name := range Presets() {
		p, _ := Preset(name)
		f.Add(Format(p))
	}
	f.Fuzz(func(t *testing.T, in string) {
		p, err := ParseMatrix(in)
		if err != nil {
			if !errors.Is(err, ErrInvalid) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("bad error %q", err)
			}
			return
		}
		if err := Validate(p, len(p.Links)); err != nil {
			t.Fatalf("parsed topology invalid: %v", err)
		}
		if hasSpace(p) {
			return // NIC names with odd characters do not survive Format
		}
		back, err := ParseMatrix(Format(p))
		if err != nil {
			t.Fatalf("reparse: %v\n%s", err, Format(p))
		}
		if !reflect.DeepEqual(back.Links, p.Links) || !reflect.DeepEqual(back.NVLinks, p.NVLinks) || !reflect.DeepEqual(back.NUMA, p.NUMA) {
			t.Fatalf("round trip differs:\n%s", Format(p))
		}
	})
}

func hasSpace(p *api.GPUTopology) bool {
	for _, nic := range p.NICs {
		if strings.ContainsAny(nic.Name, " \t\r\n:") || nic.Name == "Legend:" {
			return true
		}
	}
	return false
}

// FuzzParseList: sorted distinct ids in range, and FormatList reads back.
func FuzzParseList(f *testing.F) {
	for _, s := range []string{"0-55,112-167", "3", "1,1,0", "5-2", "0-8191", "", "-1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ids, err := ParseList(s)
		if err != nil {
			return
		}
		for i, id := range ids {
			if id < 0 || id > maxCPU || (i > 0 && id <= ids[i-1]) {
				t.Fatalf("ParseList(%q) = %v", s, ids)
			}
		}
		if back, err := ParseList(FormatList(ids)); err != nil || !reflect.DeepEqual(back, ids) {
			t.Fatalf("round trip of %q: %v, %v", s, back, err)
		}
	})
}
