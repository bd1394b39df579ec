package units

import (
	"strings"
	"testing"
)

func TestExpandOutputPattern(t *testing.T) {
	vars := PatternVars{JobID: 42, JobName: "train", User: "alice", Node: "gpu01"}
	tests := []struct {
		in   string
		want string
	}{
		{"gsched-%j.out", "gsched-42.out"},
		{"%x-%j.log", "train-42.log"},
		{"/home/%u/%x/%N.out", "/home/alice/train/gpu01.out"},
		{"%A_%a.out", "42_4294967294.out"},
		{"100%%", "100%"},
		{"%%j", "%j"},
		{"%5j", "00042"},
		{"%1j", "42"},
		{"%05j", "00042"},
		{"%99j", "0000000042"},
		{"%3x", "train"},
		{"%t-%s", "%t-%s"},
		{"%5q", "%5q"},
		{"end%", "end%"},
		{"end%12", "end%12"},
		{"plain.out", "plain.out"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := ExpandOutputPattern(tt.in, vars); got != tt.want {
			t.Errorf("ExpandOutputPattern(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	// Task 7 of array 40 (job 47).
	task := PatternVars{JobID: 47, JobName: "sweep", ArrayJobID: 40, ArrayTaskID: 7}
	for _, tt := range []struct{ in, want string }{
		{"%A_%a.out", "40_7.out"},
		{"%x-%j.out", "sweep-47.out"},
		{"%A-%3a", "40-007"},
		{"%a", "7"},
	} {
		if got := ExpandOutputPattern(tt.in, task); got != tt.want {
			t.Errorf("array task: ExpandOutputPattern(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func FuzzExpandOutputPattern(f *testing.F) {
	for _, s := range []string{"gsched-%j.out", "%x-%5j", "%%", "%", "%99999999999999999999j", "%A_%a", "%N%u"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		vars := PatternVars{JobID: 7, JobName: "n", User: "u", Node: "h"}
		got := ExpandOutputPattern(s, vars)
		if !strings.Contains(s, "%") && got != s {
			t.Fatalf("pattern without %% changed: %q -> %q", s, got)
		}
		// Each byte of input expands to at most maxPad bytes (or the
		// 10-byte array task id).
		if len(got) > 10*len(s)+10 {
			t.Fatalf("expansion of %q too long: %d bytes", s, len(got))
		}
	})
}
