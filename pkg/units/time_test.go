package units

import (
	"errors"
	"strings"
	"testing"

	"github.com/gsched/gsched/pkg/api"
)

func TestParseTimeLimit(t *testing.T) {
	tests := []struct {
		in        string
		want      int64
		unlimited bool
		errSub    string
	}{
		{in: "10", want: 600},
		{in: "90", want: 5400},
		{in: "5:30", want: 330},
		{in: "90:00", want: 5400},
		{in: "1:02:03", want: 3723},
		{in: "48:00:00", want: 48 * 3600},
		{in: "100:00:00", want: 100 * 3600},
		{in: "2-0", want: 2 * 86400},
		{in: "2-12", want: 2*86400 + 12*3600},
		{in: "1-02:30", want: 86400 + 2*3600 + 30*60},
		{in: "1-02:03:04", want: 86400 + 7384},
		{in: " 15 ", want: 900},
		{in: "365-00:00:00", want: MaxTimeLimit},
		{in: "0", unlimited: true},
		{in: "0:00", unlimited: true},
		{in: "0-00:00:00", unlimited: true},
		{in: "UNLIMITED", unlimited: true},
		{in: "unlimited", unlimited: true},
		{in: "Infinite", unlimited: true},
		{in: "", errSub: "empty"},
		{in: "   ", errSub: "empty"},
		{in: "-5", errSub: "negative"},
		{in: "1--5", errSub: "negative"},
		{in: "abc", errSub: "not a number"},
		{in: "1h", errSub: "not a number"},
		{in: "1.5", errSub: "not a number"},
		{in: "+5", errSub: "not a number"},
		{in: "1:2:3:4", errSub: "too many fields"},
		{in: "1-2:3:4:5", errSub: "too many fields"},
		{in: "1:", errSub: "empty field"},
		{in: ":30", errSub: "empty field"},
		{in: "1-", errSub: "empty field"},
		{in: "-", errSub: "negative"},
		{in: "10:60", errSub: "out of range"},
		{in: "1:60:00", errSub: "out of range"},
		{in: "1-24", errSub: "out of range"},
		{in: "365-00:00:01", errSub: "too large"},
		{in: "600000", errSub: "too large"},
		{in: "99999999999999999999999999", errSub: "too large"},
		{in: "9999999-00", errSub: "too large"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, unl, err := ParseTimeLimit(tt.in)
			if tt.errSub != "" {
				if err == nil || !strings.Contains(err.Error(), tt.errSub) {
					t.Fatalf("ParseTimeLimit(%q) error = %v, want containing %q", tt.in, err, tt.errSub)
				}
				if !errors.Is(err, api.ErrInvalid) {
					t.Errorf("error %v does not match api.ErrInvalid", err)
				}
				return
			}
			if err != nil || got != tt.want || unl != tt.unlimited {
				t.Fatalf("ParseTimeLimit(%q) = %d, %v, %v; want %d, %v", tt.in, got, unl, err, tt.want, tt.unlimited)
			}
		})
	}
}

func TestFormatDuration(t *testing.T) {
	tests := []struct {
		in   int64
		want string
	}{
		{-5, "0:00"},
		{0, "0:00"},
		{5, "0:05"},
		{65, "1:05"},
		{3599, "59:59"},
		{3600, "1:00:00"},
		{86399, "23:59:59"},
		{86400, "1-00:00:00"},
		{2*86400 + 3723, "2-01:02:03"},
	}
	for _, tt := range tests {
		if got := FormatDuration(tt.in); got != tt.want {
			t.Errorf("FormatDuration(%d) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestFormatTimeLimit(t *testing.T) {
	tests := []struct {
		in   int64
		want string
	}{
		{0, "UNLIMITED"},
		{-1, "UNLIMITED"},
		{600, "10:00"},
		{86400, "1-00:00:00"},
	}
	for _, tt := range tests {
		if got := FormatTimeLimit(tt.in); got != tt.want {
			t.Errorf("FormatTimeLimit(%d) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func FuzzParseTimeLimit(f *testing.F) {
	for _, s := range []string{"10", "5:30", "1:02:03", "48:00:00", "1-02", "1-02:03", "1-02:03:04",
		"UNLIMITED", "infinite", "0", "-5", "365-00:00:01", "1:60", "::", "1-", "99999999999999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		secs, unl, err := ParseTimeLimit(s)
		if err != nil {
			checkParseError(t, s, err)
			if secs != 0 || unl {
				t.Fatalf("ParseTimeLimit(%q) returned values with an error", s)
			}
			if len(err.Error()) > 400 {
				t.Fatalf("error message too long: %d bytes", len(err.Error()))
			}
			return
		}
		if unl {
			if secs != 0 {
				t.Fatalf("unlimited with %d seconds", secs)
			}
			if got := FormatTimeLimit(0); got != "UNLIMITED" {
				t.Fatalf("FormatTimeLimit(0) = %q", got)
			}
			return
		}
		if secs <= 0 || secs > MaxTimeLimit {
			t.Fatalf("ParseTimeLimit(%q) = %d out of range", s, secs)
		}
		// Round trip through the squeue format.
		back, unl2, err := ParseTimeLimit(FormatTimeLimit(secs))
		if err != nil || unl2 || back != secs {
			t.Fatalf("round trip %q -> %d -> %q -> %d, %v, %v", s, secs, FormatTimeLimit(secs), back, unl2, err)
		}
	})
}
