package units

import (
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/gsched/gsched/pkg/api"
)

func TestParseGPUs(t *testing.T) {
	tests := []struct {
		in     string
		count  int
		typ    string
		errSub string
	}{
		{in: "4", count: 4},
		{in: "0", count: 0},
		{in: "h100:4", count: 4, typ: "h100"},
		{in: "a100-80gb:2", count: 2, typ: "a100-80gb"},
		{in: "1024", count: 1024},
		{in: "", errSub: "empty"},
		{in: "-1", errSub: "negative"},
		{in: "1025", errSub: "too many"},
		{in: "99999999999999999999", errSub: "too many"},
		{in: "x", errSub: "not a whole number"},
		{in: "h100", errSub: "not a whole number"},
		{in: "h100:", errSub: "not a whole number"},
		{in: ":4", errSub: "empty GPU type"},
		{in: "h100:0", errSub: "at least 1"},
		{in: "1h:2", errSub: "start with a letter"},
		{in: "h 100:2", errSub: "only letters"},
		{in: "gpu:h100:2", errSub: "only letters"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			n, typ, err := ParseGPUs(tt.in)
			if tt.errSub != "" {
				if err == nil || !strings.Contains(err.Error(), tt.errSub) {
					t.Fatalf("ParseGPUs(%q) error = %v, want containing %q", tt.in, err, tt.errSub)
				}
				if !errors.Is(err, api.ErrInvalid) {
					t.Errorf("error %v does not match api.ErrInvalid", err)
				}
				return
			}
			if err != nil || n != tt.count || typ != tt.typ {
				t.Fatalf("ParseGPUs(%q) = %d, %q, %v; want %d, %q", tt.in, n, typ, err, tt.count, tt.typ)
			}
		})
	}
}

func TestParseGres(t *testing.T) {
	tests := []struct {
		in     string
		count  int
		typ    string
		errSub string
	}{
		{in: "gpu", count: 1},
		{in: "gpu:2", count: 2},
		{in: "gpu:0", count: 0},
		{in: "gpu:h100", count: 1, typ: "h100"},
		{in: "gpu:h100:8", count: 8, typ: "h100"},
		{in: " gpu:2 ", count: 2},
		{in: "", errSub: "empty"},
		{in: "mps:100", errSub: `unknown generic resource "mps"`},
		{in: "gpu:2,mps:100", errSub: `unknown generic resource "mps"`},
		{in: "GPU:2", errSub: "unknown generic resource"},
		{in: "gpu:2,gpu:3", errSub: "more than once"},
		{in: "gpu:2,", errSub: "empty entry"},
		{in: "gpu:-1", errSub: "must start with a letter"},
		{in: "gpu:h100:-1", errSub: "negative"},
		{in: "gpu:h100:x", errSub: "not a whole number"},
		{in: "gpu:2000", errSub: "too many"},
		{in: "gpu:h100:0", errSub: "at least 1"},
		{in: "gpu:a:b:c", errSub: "too many fields"},
		{in: "gpu::2", errSub: "empty GPU type"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			n, typ, err := ParseGres(tt.in)
			if tt.errSub != "" {
				if err == nil || !strings.Contains(err.Error(), tt.errSub) {
					t.Fatalf("ParseGres(%q) error = %v, want containing %q", tt.in, err, tt.errSub)
				}
				return
			}
			if err != nil || n != tt.count || typ != tt.typ {
				t.Fatalf("ParseGres(%q) = %d, %q, %v; want %d, %q", tt.in, n, typ, err, tt.count, tt.typ)
			}
		})
	}
}

func FuzzParseGPUs(f *testing.F) {
	for _, s := range []string{"4", "h100:4", "-1", "1025", ":", "a:b:c", "h100:0", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, typ, err := ParseGPUs(s)
		if err != nil {
			checkParseError(t, s, err)
			return
		}
		if n < 0 || n > MaxGPUs {
			t.Fatalf("ParseGPUs(%q) count %d out of range", s, n)
		}
		in := strconv.Itoa(n)
		if typ != "" {
			in = typ + ":" + in
		}
		n2, typ2, err := ParseGPUs(in)
		if err != nil || n2 != n || typ2 != typ {
			t.Fatalf("round trip %q -> %q -> %d, %q, %v", s, in, n2, typ2, err)
		}
		// The same request as a gres.
		n3, typ3, err := ParseGres("gpu:" + in)
		if err != nil || n3 != n || typ3 != typ {
			t.Fatalf("gres of %q -> %d, %q, %v", in, n3, typ3, err)
		}
	})
}

func FuzzParseGres(f *testing.F) {
	for _, s := range []string{"gpu", "gpu:2", "gpu:h100:8", "mps:1", "gpu:2,gpu:3", "gpu::", ","} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, _, err := ParseGres(s)
		if err != nil {
			checkParseError(t, s, err)
			return
		}
		if n < 0 || n > MaxGPUs {
			t.Fatalf("ParseGres(%q) count %d out of range", s, n)
		}
	})
}
