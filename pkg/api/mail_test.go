package api

import (
	"errors"
	"testing"
)

func TestParseMailType(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want MailEvents
		err  bool
	}{
		{"NONE", 0, false},
		{"begin", MailBegin, false},
		{"BEGIN,END", MailBegin | MailEnd, false},
		{" fail , requeue ", MailFail | MailRequeue, false},
		{"ALL", MailBegin | MailEnd | MailFail | MailRequeue, false},
		{"ALL,TIME_LIMIT_80,ARRAY_TASKS", MailAll | MailTimeLimit80 | MailArrayTasks, false},
		{"TIME_LIMIT,TIME_LIMIT_90,TIME_LIMIT_50", MailTimeLimit | MailTimeLimit90 | MailTimeLimit50, false},
		{"END,", 0, true},
		{"NONE,END", 0, true},
		{"STAGE_OUT", 0, true},
		{"", 0, true},
	} {
		got, err := ParseMailType(tc.in)
		if (err != nil) != tc.err || got != tc.want {
			t.Errorf("ParseMailType(%q) = %v, %v; want %v, error %v", tc.in, got, err, tc.want, tc.err)
		}
		if err != nil && !errors.Is(err, ErrInvalid) {
			t.Errorf("ParseMailType(%q): %v is not ErrInvalid", tc.in, err)
		}
	}
}

func TestValidMailUser(t *testing.T) {
	for s, want := range map[string]bool{
		"alice": true, "a.b+c@example.org": true, "": false, "a b": false, "a\nTo: x": false, "a,b": false, "-t": false,
	} {
		if got := ValidMailUser(s); got != want {
			t.Errorf("ValidMailUser(%q) = %v", s, got)
		}
	}
}

// FuzzParseMailType: a --mail-type value parses to events whose canonical
// form parses back to the same events, or to an ErrInvalid of one line.
func FuzzParseMailType(f *testing.F) {
	for _, s := range []string{"NONE", "ALL", "begin,END", "TIME_LIMIT_90,ARRAY_TASKS", "NONE,ALL", "x", ","} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ev, err := ParseMailType(s)
		if err != nil {
			if !errors.Is(err, ErrInvalid) || len(err.Error()) > 300 {
				t.Fatalf("ParseMailType(%q): %v", s, err)
			}
			return
		}
		if ev == 0 {
			return
		}
		back, err := ParseMailType(ev.String())
		if err != nil || back != ev {
			t.Fatalf("%q -> %v -> %q -> %v, %v", s, ev, ev.String(), back, err)
		}
	})
}
