package cli

import (
	"strings"
	"testing"
	"time"
)

func TestParseBeginTime(t *testing.T) {
	now := time.Date(2026, 11, 21, 14, 30, 0, 0, time.UTC)
	at := func(d, h, m, s int) time.Time { return time.Date(2026, 11, d, h, m, s, 0, time.UTC) }
	tests := []struct {
		in   string
		want time.Time
		ok   bool
	}{
		{"now", now, true},
		{"now+60", now.Add(time.Minute), true},
		{"now+2hours", now.Add(2 * time.Hour), true},
		{"now+1day", now.Add(24 * time.Hour), true},
		{"NOW+10minutes", now.Add(10 * time.Minute), true},
		{"2026-12-01", time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), true},
		{"2026-12-01T08:15", time.Date(2026, 12, 1, 8, 15, 0, 0, time.UTC), true},
		{"16:00", at(21, 16, 0, 0), true},
		{"09:00:30", at(22, 9, 0, 30), true}, // passed today: tomorrow
		{"today", at(21, 0, 0, 0), true},
		{"tomorrow", at(22, 0, 0, 0), true},
		{"midnight", at(22, 0, 0, 0), true},
		{"noon", at(22, 12, 0, 0), true},
		{"teatime", at(21, 16, 0, 0), true},
		{"now-1hour", time.Time{}, false},
		{"25:00", time.Time{}, false},
		{"next week", time.Time{}, false},
		{"", time.Time{}, false},
		{"now+99999999999weeks", time.Time{}, false},
	}
	for _, tc := range tests {
		got, err := ParseBeginTime(tc.in, now)
		if (err == nil) != tc.ok || tc.ok && !got.Equal(tc.want) {
			t.Errorf("ParseBeginTime(%q) = %v, %v; want %v ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

func FuzzParseBeginTime(f *testing.F) {
	for _, s := range []string{"now+1hour", "16:00", "2026-12-01T08:15", "teatime", "now-5", ""} {
		f.Add(s)
	}
	now := time.Date(2026, 11, 21, 14, 30, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseBeginTime(s, now)
		// A relative begin time never lies in the past.
		if err == nil && strings.HasPrefix(strings.ToLower(strings.TrimSpace(s)), "now") && got.Before(now) {
			t.Fatalf("%q gave %v, before now", s, got)
		}
	})
}
