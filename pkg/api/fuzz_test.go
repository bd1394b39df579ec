package api

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzStateWords: the state words users type (gqueue -t, gcontrol update
// state=) parse to a known state or to a one-line error that quotes what
// was typed validly.
func FuzzStateWords(f *testing.F) {
	for _, s := range []string{"PD", "running", "cd", "OOM", "node_fail", "drain", "RESUME", "idle", "Down", "", "\xff\xfe", strings.Repeat("é", 20)} {
		f.Add(s, "reason")
	}
	f.Add("drain", " \t")
	f.Fuzz(func(t *testing.T, word, reason string) {
		oneLine := func(err error) {
			if msg := err.Error(); strings.ContainsAny(msg, "\n\r") || !utf8.ValidString(msg) {
				t.Fatalf("error is not one line of text: %q", msg)
			}
		}
		if st, err := ParseJobState(word); err != nil {
			oneLine(err)
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v does not match ErrInvalid", err)
			}
		} else if !slices.Contains(AllJobStates, st) || !strings.EqualFold(word, string(st)) && !strings.EqualFold(word, st.Short()) {
			t.Fatalf("ParseJobState(%q) = %q", word, st)
		}
		st, err := NodeUpdateState(word, reason)
		if err != nil {
			oneLine(err)
			return
		}
		switch {
		case st != "DRAIN" && st != "DOWN" && st != "RESUME":
			t.Fatalf("NodeUpdateState(%q) = %q", word, st)
		case st != "RESUME" && strings.TrimSpace(reason) == "":
			t.Fatalf("%s accepted without a reason", st)
		}
	})
}
