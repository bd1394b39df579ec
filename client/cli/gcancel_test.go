package cli

import (
	"fmt"
	"testing"
)

func TestParseCancelRefs(t *testing.T) {
	tests := []struct {
		in    []string
		ids   string
		tasks string
		ok    bool
	}{
		{[]string{"12"}, "[12]", "[]", true},
		{[]string{"12,13", "14"}, "[12 13 14]", "[]", true},
		{[]string{"40_7"}, "[]", "[40_7]", true},
		{[]string{"40_[1-3,7]"}, "[]", "[40_1 40_2 40_3 40_7]", true},
		{[]string{"40_[1,3],41"}, "[41]", "[40_1 40_3]", true},
		{[]string{"40_[1-3"}, "", "", false},
		{[]string{"40_[1-3%2]"}, "", "", false},
		{[]string{"x_[1]"}, "", "", false},
		{[]string{"40_"}, "", "", false},
		{[]string{"0"}, "", "", false},
		{[]string{"-3"}, "", "", false},
	}
	for _, tc := range tests {
		ids, tasks, err := ParseCancelRefs(tc.in)
		if (err == nil) != tc.ok {
			t.Errorf("ParseCancelRefs(%q): err %v", tc.in, err)
			continue
		}
		if !tc.ok {
			continue
		}
		gotIDs := fmt.Sprint(ids)
		if ids == nil {
			gotIDs = "[]"
		}
		var ts []string
		for _, r := range tasks {
			ts = append(ts, r.String())
		}
		gotTasks := fmt.Sprint(ts)
		if gotIDs != tc.ids || gotTasks != tc.tasks {
			t.Errorf("ParseCancelRefs(%q) = %s %s, want %s %s", tc.in, gotIDs, gotTasks, tc.ids, tc.tasks)
		}
	}
}
