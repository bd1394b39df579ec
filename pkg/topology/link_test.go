package topology

import (
	"errors"
	"testing"
)

func TestParseLink(t *testing.T) {
	tests := []struct {
		in      string
		want    Link
		count   int
		wantErr bool
	}{
		{"X", Self, 0, false},
		{" X ", Self, 0, false},
		{"NV18", NVLink, 18, false},
		{"nv4", NVLink, 4, false},
		{"NV", NVLink, 0, false},
		{"PIX", PIX, 0, false},
		{"PXB", PXB, 0, false},
		{"PHB", PHB, 0, false},
		{"NODE", NODE, 0, false},
		{"SYS", SYS, 0, false},
		{"SOC", SYS, 0, false},
		{"NV-1", 0, 0, true},
		{"NV99999", 0, 0, true},
		{"", 0, 0, true},
		{"PCI", 0, 0, true},
	}
	for _, tc := range tests {
		got, n, err := ParseLink(tc.in)
		if (err != nil) != tc.wantErr || got != tc.want || n != tc.count {
			t.Errorf("ParseLink(%q) = %v, %d, %v; want %v, %d, err %v", tc.in, got, n, err, tc.want, tc.count, tc.wantErr)
		}
		if err != nil && !errors.Is(err, ErrInvalid) {
			t.Errorf("ParseLink(%q) error %v does not wrap ErrInvalid", tc.in, err)
		}
	}
}

func TestLinkString(t *testing.T) {
	want := []string{"X", "NV", "PIX", "PXB", "PHB", "NODE", "SYS"}
	for l := Self; l <= SYS; l++ {
		if l.String() != want[l] {
			t.Errorf("Link(%d).String() = %q, want %q", int(l), l.String(), want[l])
		}
		back, _, err := ParseLink(l.String())
		if err != nil || back != l {
			t.Errorf("ParseLink(%q) = %v, %v; want %v", l.String(), back, err, l)
		}
	}
	if s := Link(9).String(); s != "Link(9)" {
		t.Errorf("Link(9).String() = %q", s)
	}
}

func TestBetweenAndCell(t *testing.T) {
	dgx := mustPreset(t, "dgx-h100")
	pcie := mustPreset(t, "pcie-8gpu-2socket")
	tests := []struct {
		name string
		l    Link
		cell string
		want Link
		wc   string
	}{
		{"dgx 0-7", Between(dgx, 0, 7), Cell(dgx, 0, 7), NVLink, "NV18"},
		{"dgx 3-3", Between(dgx, 3, 3), Cell(dgx, 3, 3), Self, "X"},
		{"pcie 0-1", Between(pcie, 0, 1), Cell(pcie, 0, 1), PIX, "PIX"},
		{"pcie 0-2", Between(pcie, 0, 2), Cell(pcie, 0, 2), NODE, "NODE"},
		{"pcie 3-4", Between(pcie, 3, 4), Cell(pcie, 3, 4), SYS, "SYS"},
		{"out of range", Between(pcie, 0, 8), Cell(pcie, 0, 8), SYS, "SYS"},
		{"nil", Between(nil, 0, 1), Cell(nil, 0, 1), SYS, "SYS"},
		{"nil self", Between(nil, 2, 2), Cell(nil, 2, 2), Self, "X"},
	}
	for _, tc := range tests {
		if tc.l != tc.want || tc.cell != tc.wc {
			t.Errorf("%s: got %v %q, want %v %q", tc.name, tc.l, tc.cell, tc.want, tc.wc)
		}
	}
}
