package api

import (
	"slices"
	"strings"
	"testing"
)

func TestBlockCounts(t *testing.T) {
	for _, tc := range []struct {
		n, nodes int
		want     []int
	}{
		{4, 2, []int{2, 2}},
		{5, 2, []int{3, 2}},
		{7, 3, []int{3, 2, 2}},
		{2, 3, []int{1, 1, 0}},
		{0, 2, []int{0, 0}},
		{3, 0, []int{}},
	} {
		if got := BlockCounts(tc.n, tc.nodes); !slices.Equal(got, tc.want) {
			t.Errorf("BlockCounts(%d, %d) = %v, want %v", tc.n, tc.nodes, got, tc.want)
		}
	}
}

func TestNodeUpdateState(t *testing.T) {
	for _, tc := range []struct {
		state, reason, want, err string
	}{
		{"drain", "fan", "DRAIN", ""},
		{"DOWN", "PSU", "DOWN", ""},
		{"Resume", "", "RESUME", ""},
		{"up", "", "RESUME", ""},
		{"idle", "x", "RESUME", ""},
		{"drain", "  ", "", "needs reason"},
		{"down", "", "", "needs reason"},
		{"sleepy", "x", "", "unknown state"},
		{"", "", "", "unknown state"},
		{strings.Repeat("z", 100), "", "", "..."},
	} {
		got, err := NodeUpdateState(tc.state, tc.reason)
		switch {
		case tc.err == "" && (err != nil || got != tc.want):
			t.Errorf("NodeUpdateState(%q, %q) = %q, %v; want %q", tc.state, tc.reason, got, err, tc.want)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("NodeUpdateState(%q, %q) error = %v, want %q", tc.state, tc.reason, err, tc.err)
		}
	}
}
