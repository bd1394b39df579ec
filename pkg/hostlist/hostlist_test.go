package hostlist

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
)

func TestExpand(t *testing.T) {
	tests := []struct {
		expr string
		want []string
	}{
		{"", nil},
		{"  ", nil},
		{"gpu01", []string{"gpu01"}},
		{" gpu01 ", []string{"gpu01"}},
		{"gpu[01-04,07]", []string{"gpu01", "gpu02", "gpu03", "gpu04", "gpu07"}},
		{"n[01-10]", []string{"n01", "n02", "n03", "n04", "n05", "n06", "n07", "n08", "n09", "n10"}},
		{"n[8-10]", []string{"n8", "n9", "n10"}},
		{"n[098-101]", []string{"n098", "n099", "n100", "n101"}},
		{"n[1-010]", []string{"n1", "n2", "n3", "n4", "n5", "n6", "n7", "n8", "n9", "n10"}},
		{"n[007]", []string{"n007"}},
		{"n[0]", []string{"n0"}},
		{"n[5-5]", []string{"n5"}},
		{"n[9,09]", []string{"n9", "n09"}},
		{"rack[1-2]-node[01-02]", []string{"rack1-node01", "rack1-node02", "rack2-node01", "rack2-node02"}},
		{"[1-3]", []string{"1", "2", "3"}},
		{"x[1-2]y", []string{"x1y", "x2y"}},
		{"a[1-2],b,c[3]", []string{"a1", "a2", "b", "c3"}},
		{"a[1-2], b ,c[3]", []string{"a1", "a2", "b", "c3"}},
		{"b,a,b", []string{"b", "a", "b"}},
		{"n[3,1-2]", []string{"n3", "n1", "n2"}},
		{"n[1-2,2]", []string{"n1", "n2", "n2"}},
		{"a.b-c_d", []string{"a.b-c_d"}},
		{"gpü[1-2]", []string{"gpü1", "gpü2"}},
		{"n[999999999999999998-999999999999999999]", []string{"n999999999999999998", "n999999999999999999"}},
		{"n1234567890123456789012", []string{"n1234567890123456789012"}},
		{"[1-2][3-4]", []string{"13", "14", "23", "24"}},
	}
	for _, tt := range tests {
		got, err := Expand(tt.expr)
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("Expand(%q) = %q, %v; want %q", tt.expr, got, err, tt.want)
		}
	}
}

func TestExpandErrors(t *testing.T) {
	tests := []struct {
		expr string
		is   error
		msg  string // a part of the message
	}{
		{"a,,b", ErrInvalid, "empty element"},
		{"a,", ErrInvalid, "empty element"},
		{",a", ErrInvalid, "empty element"},
		{"a, ,b", ErrInvalid, "empty element"},
		{"a[]", ErrInvalid, "empty brackets"},
		{"a[1,]", ErrInvalid, "empty range"},
		{"a[,1]", ErrInvalid, "empty range"},
		{"a[1-]", ErrInvalid, "a number on each side"},
		{"a[-1]", ErrInvalid, "a number on each side"},
		{"a[1-2-3]", ErrInvalid, "not numeric"},
		{"a[x-y]", ErrInvalid, "not numeric"},
		{"[1-2][a]", ErrInvalid, "not numeric"},
		{"a[1-b]", ErrInvalid, "not numeric"},
		{"a[ 1]", ErrInvalid, "not numeric"},
		{"a[+1]", ErrInvalid, "not numeric"},
		{"a[3-1]", ErrInvalid, "range 3-1 ends before it starts"},
		{"a[1", ErrInvalid, "'[' without ']'"},
		{"a[1-2],b[", ErrInvalid, "'[' without ']'"},
		{"a1]", ErrInvalid, "']' without '['"},
		{"a[1]]", ErrInvalid, "']' without '['"},
		{"a[1[2]]", ErrInvalid, "nested '['"},
		{"a b", ErrInvalid, "' ' is not allowed"},
		{"a\tb[1-2]", ErrInvalid, "not allowed"},
		{"a[1-2]\nb", ErrInvalid, "not allowed"},
		{"a\x00", ErrInvalid, "not allowed"},
		{"a[1234567890123456789]", ErrInvalid, "more than 18 digits"},
		{"a[1-0000000000000000002]", ErrInvalid, "more than 18 digits"},
		// What the user wrote comes back quoted and shortened (found by
		// FuzzExpand: "[,\n]" gave a two-line message).
		{"[,\n]", ErrInvalid, `empty range in "[,\n]"`},
		{"a[" + strings.Repeat("9", 100000) + "]", ErrInvalid, `number "999999999`},
		{"a[" + strings.Repeat("\xf3", 1000) + "]", ErrInvalid, `is not numeric`},
		{"a[1-" + strings.Repeat("x", 1000) + "]", ErrInvalid, `is not numeric`},
		{"node[1-1000001]", ErrTooLarge, "more than 1000000 names"},
		{"node[1-1000000],x", ErrTooLarge, "more than 1000000 names"},
		{"a[1-1000][1-1001]", ErrTooLarge, "more than 1000000 names"},
		{"a[0-999999999999999999][0-999999999999999999][0-999999999999999999]", ErrTooLarge, "more than 1000000 names"},
		{strings.Repeat("x", 100) + "[1-1000000]", ErrTooLarge, "MiB of names"},
	}
	for _, tt := range tests {
		got, err := Expand(tt.expr)
		if !errors.Is(err, tt.is) || !strings.Contains(err.Error(), tt.msg) || strings.Contains(err.Error(), "\n") || len(err.Error()) > 1024 || got != nil {
			t.Errorf("Expand(%q) = %d names, %v; want %v containing %q", tt.expr, len(got), err, tt.is, tt.msg)
		}
	}
}

func TestCount(t *testing.T) {
	tests := []struct {
		expr string
		want int
	}{
		{"", 0},
		{"a", 1},
		{"a,b,a", 3},
		{"gpu[01-04,07]", 5},
		{"rack[1-4]-node[01-16]", 64},
		{"node[1-1000001]", 1000001},
		{"n[0-999999999999999999]", 1000000000000000000},
	}
	for _, tt := range tests {
		if got, err := Count(tt.expr); err != nil || got != tt.want {
			t.Errorf("Count(%q) = %d, %v; want %d", tt.expr, got, err, tt.want)
		}
	}
	for _, expr := range []string{"a[", "n[0-999999999999999999][0-999999999999999999]"} {
		if got, err := Count(expr); err == nil {
			t.Errorf("Count(%q) = %d, want an error", expr, got)
		}
	}
}

func TestCompress(t *testing.T) {
	tests := []struct {
		names []string
		want  string
	}{
		{nil, ""},
		{[]string{""}, ""},
		{[]string{"gpu01"}, "gpu01"},
		{[]string{"gpu01", "gpu02", "gpu03", "gpu07"}, "gpu[01-03,07]"},
		{[]string{"gpu07", "gpu03", "gpu01", "gpu02", "gpu02"}, "gpu[01-03,07]"},
		{[]string{"gpu01", "gpu07"}, "gpu[01,07]"},
		{[]string{"n9", "n10"}, "n[9-10]"},
		{[]string{"n09", "n10"}, "n[09-10]"},
		{[]string{"n9", "n010"}, "n[9,010]"},
		{[]string{"n9", "n09", "n10"}, "n[09,9-10]"},
		{[]string{"n099", "n100", "n101"}, "n[099-101]"},
		{[]string{"n0", "n1"}, "n[0-1]"},
		{[]string{"n00", "n01", "n1", "n2"}, "n[00-01,1-2]"},
		{[]string{"b", "a", "c", "a"}, "a,b,c"},
		{[]string{"gpu", "gpu1", "gpu2"}, "gpu,gpu[1-2]"},
		{[]string{"x1y", "x2y", "x3z"}, "x[1-2]y,x3z"},
		{[]string{"rack1-node01", "rack1-node02", "rack2-node01"}, "rack1-node[01-02],rack2-node01"},
		{[]string{"rack2-node01", "rack1-node01", "rack2-node02"}, "rack1-node01,rack2-node[01-02]"},
		{[]string{"a1", "b1", "a2"}, "a[1-2],b1"},
		{[]string{"1", "2", "3", "5"}, "[1-3,5]"},
		{[]string{"n1234567890123456789012", "n1234567890123456789013"}, "n1234567890123456789012,n1234567890123456789013"},
		{[]string{"n999999999999999998", "n999999999999999999"}, "n[999999999999999998-999999999999999999]"},
		{[]string{"n10", "n2", "n1"}, "n[1-2,10]"},
	}
	for _, tt := range tests {
		if got := Compress(tt.names); got != tt.want {
			t.Errorf("Compress(%q) = %q, want %q", tt.names, got, tt.want)
		}
	}
}

// TestCompressExpanded checks the canonical forms of expressions.
func TestCompressExpanded(t *testing.T) {
	tests := []struct{ expr, want string }{
		{"gpu[01-04,07]", "gpu[01-04,07]"},
		{"gpu[07,01-04]", "gpu[01-04,07]"},
		{"gpu[01-02],gpu[03-04]", "gpu[01-04]"},
		{"n[8-10]", "n[8-10]"},
		{"n[1-010]", "n[1-10]"},
		{"n[1-3,2-4]", "n[1-4]"},
		{"rack[1-2]-node[01-02]", "rack1-node[01-02],rack2-node[01-02]"},
		{"b,a[1-2],a", "a,a[1-2],b"},
		{"n[5]", "n5"},
	}
	for _, tt := range tests {
		names, err := Expand(tt.expr)
		if got := Compress(names); err != nil || got != tt.want {
			t.Errorf("Compress(Expand(%q)) = %q (%v), want %q", tt.expr, got, err, tt.want)
		}
	}
}

func TestRoundTrip(t *testing.T) {
	lists := [][]string{
		{"gpu01", "gpu02", "gpu03", "gpu07"},
		{"n9", "n09", "n10", "n010", "n8", "n08", "n11"},
		{"z", "a", "a1", "a01", "a001", "a1b", "a2b", "a3c", "1", "01", "2"},
		{"rack2-node01", "rack1-node02", "rack1-node01", "rack10-node1"},
		{"n0", "n00", "n000", "n1", "n01", "n001", "n999", "n1000", "n0999"},
		{"x", "x", "y-1", "y-2", "y-3", "y-4", "y-6", "y-7"},
		{"ü1", "ü2", "a.b3.c", "a.b4.c"},
		{"n1234567890123456789012", "n1234567890123456789013", "n12", "n13"},
	}
	for _, names := range lists {
		want := sortedUnique(names)
		got, err := Expand(Compress(names))
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("Expand(Compress(%q)) = %q, %v; want %q", names, got, err, want)
		}
	}
}

func TestSort(t *testing.T) {
	names := []string{"n10", "b", "n9", "n09", "a", "n1x", "n2", "n", "n2"}
	Sort(names)
	want := []string{"a", "b", "n", "n2", "n2", "n09", "n9", "n10", "n1x"}
	if !slices.Equal(names, want) {
		t.Errorf("Sort = %q, want %q", names, want)
	}
}

func sortedUnique(names []string) []string {
	s := slices.DeleteFunc(slices.Clone(names), func(n string) bool { return n == "" })
	Sort(s)
	return slices.Compact(s)
}

// validName tells whether name is one Expand could return.
func validName(name string) bool {
	got, err := Expand(name)
	return err == nil && len(got) == 1 && got[0] == name
}

func FuzzExpand(f *testing.F) {
	for _, s := range []string{
		"gpu[01-04,07]", "n[8-10]", "rack[1-2]-node[01-02]", "a[1-2],b,c[3]", "n[9,09,010-012]",
		"a,,b", "a[3-1]", "a[", "a]", "a[1[2]]", "[1-2][3-4]", " x ", "n[1-010]", "b,a,b",
		"node[1-1000001]", "a[0-999999999999999999]",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, expr string) {
		names, err := Expand(expr)
		if err != nil {
			if names != nil || strings.ContainsAny(err.Error(), "\n\r") || len(err.Error()) > 1024 || !(errors.Is(err, ErrInvalid) || errors.Is(err, ErrTooLarge)) {
				t.Fatalf("Expand(%q) = %d names, error %q", expr, len(names), err)
			}
			return
		}
		if len(names) > MaxNames {
			t.Fatalf("Expand(%q) gave %d names", expr, len(names))
		}
		if n, err := Count(expr); err != nil || n != len(names) {
			t.Fatalf("Count(%q) = %d, %v; Expand gave %d", expr, n, err, len(names))
		}
		if len(names) > 20000 { // keep the fuzzer fast
			return
		}
		c := Compress(names)
		again, err := Expand(c)
		if want := sortedUnique(names); err != nil || !slices.Equal(again, want) {
			t.Fatalf("Expand(Compress(Expand(%q))) = Expand(%q) = %q, %v; want %q", expr, c, again, err, want)
		}
		if c2 := Compress(again); c2 != c {
			t.Fatalf("Compress not canonical for %q: %q then %q", expr, c, c2)
		}
	})
}

func FuzzCompress(f *testing.F) {
	f.Add("gpu01\ngpu02\ngpu03\ngpu07")
	f.Add("n9\nn09\nn10\nn010")
	f.Add("rack1-node01\nrack2-node01\nrack1-node02")
	f.Add("a\n\nb[1]\nc,d\n1\n01")
	f.Fuzz(func(t *testing.T, list string) {
		names := strings.Split(list, "\n")
		c := Compress(names)
		if !slices.ContainsFunc(names, func(n string) bool { return n != "" && !validName(n) }) {
			got, err := Expand(c)
			if want := sortedUnique(names); err != nil || !slices.Equal(got, want) {
				t.Fatalf("Expand(Compress(%q)) = Expand(%q) = %q, %v; want %q", names, c, got, err, want)
			}
		}
	})
}

func BenchmarkExpand(b *testing.B) {
	for b.Loop() {
		names, err := Expand("node[000001-100000]")
		if err != nil || len(names) != 100000 {
			b.Fatal(len(names), err)
		}
	}
}

func BenchmarkCompress(b *testing.B) {
	names, _ := Expand("node[000001-100000]")
	b.ResetTimer()
	for b.Loop() {
		if got := Compress(names); got != "node[000001-100000]" {
			b.Fatal(got)
		}
	}
}

func ExampleExpand() {
	names, _ := Expand("rack[1-2]-gpu[01-02,07]")
	fmt.Println(strings.Join(names, " "))
	// Output: rack1-gpu01 rack1-gpu02 rack1-gpu07 rack2-gpu01 rack2-gpu02 rack2-gpu07
}

func ExampleCompress() {
	fmt.Println(Compress([]string{"gpu07", "gpu01", "gpu02", "gpu03", "gpu02", "login"}))
	// Output: gpu[01-03,07],login
}

func TestCounts(t *testing.T) {
	for _, tc := range []struct {
		in   []int
		want string
	}{
		{nil, ""},
		{[]int{4}, "4"},
		{[]int{2, 2}, "2(x2)"},
		{[]int{2, 2, 2, 1}, "2(x3),1"},
		{[]int{1, 2, 1}, "1,2,1"},
		{[]int{8, 8, 4, 4, 4}, "8(x2),4(x3)"},
	} {
		if got := Counts(tc.in); got != tc.want {
			t.Errorf("Counts(%v) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
