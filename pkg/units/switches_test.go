package units

import (
	"errors"
	"testing"

	"github.com/gsched/gsched/pkg/api"
)

func TestParseSwitches(t *testing.T) {
	for _, tc := range []struct {
		in    string
		n     int
		wait  int64
		valid bool
	}{
		{"1", 1, 0, true},
		{" 2 ", 2, 0, true},
		{"1@30", 1, 30 * 60, true},
		{"1@1:00:00", 1, 3600, true},
		{"3@1-0", 3, 86400, true},
		{"2@UNLIMITED", 2, 0, true},
		{"", 0, 0, false},
		{"0", 0, 0, false},
		{"-1", 0, 0, false},
		{"4097", 0, 0, false},
		{"x", 0, 0, false},
		{"1@", 0, 0, false},
		{"1@bogus", 0, 0, false},
		{"@5", 0, 0, false},
	} {
		n, w, err := ParseSwitches(tc.in)
		if (err == nil) != tc.valid {
			t.Errorf("ParseSwitches(%q) error = %v, want valid=%v", tc.in, err, tc.valid)
			continue
		}
		if err != nil {
			if !errors.Is(err, api.ErrInvalid) {
				t.Errorf("ParseSwitches(%q) error %v is not ErrInvalid", tc.in, err)
			}
			continue
		}
		if n != tc.n || w != tc.wait {
			t.Errorf("ParseSwitches(%q) = %d, %d; want %d, %d", tc.in, n, w, tc.n, tc.wait)
		}
	}
}

func FuzzParseSwitches(f *testing.F) {
	for _, s := range []string{"1", "2@30", "1@1-00:00:00", "@", "9999999999999999999@1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, w, err := ParseSwitches(s)
		if err != nil {
			checkParseError(t, s, err)
			if !errors.Is(err, api.ErrInvalid) {
				t.Fatalf("error %v is not ErrInvalid", err)
			}
			return
		}
		if n < 1 || n > MaxSwitches || w < 0 {
			t.Fatalf("ParseSwitches(%q) = %d, %d out of range", s, n, w)
		}
	})
}
