package units

import (
	"errors"
	"strings"
	"testing"

	"github.com/gsched/gsched/pkg/api"
)

func TestParseMemory(t *testing.T) {
	tests := []struct {
		in     string
		want   int64
		errSub string
	}{
		{in: "100", want: 100 * MiB},
		{in: "0", want: 0},
		{in: "4G", want: 4 * GiB},
		{in: "4g", want: 4 * GiB},
		{in: "4GB", want: 4 * GiB},
		{in: "4gib", want: 4 * GiB},
		{in: "512M", want: 512 * MiB},
		{in: "512mb", want: 512 * MiB},
		{in: "1T", want: TiB},
		{in: "100KB", want: 100 * KiB},
		{in: "100k", want: 100 * KiB},
		{in: "2048B", want: 2048},
		{in: " 8G ", want: 8 * GiB},
		{in: "1024T", want: PiB},
		{in: "1048576G", want: PiB},
		{in: "", errSub: "empty"},
		{in: "-1", errSub: "negative"},
		{in: "-4G", errSub: "negative"},
		{in: "G", errSub: "no number"},
		{in: "abc", errSub: "no number"},
		{in: "1.5G", errSub: "whole number"},
		{in: "4X", errSub: "unknown suffix"},
		{in: "4GG", errSub: "unknown suffix"},
		{in: "4 G", errSub: "unknown suffix"},
		{in: "1025T", errSub: "too large"},
		{in: "1073741825M", errSub: "too large"},
		{in: "99999999999999999999999", errSub: "too large"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseMemory(tt.in)
			if tt.errSub != "" {
				if err == nil || !strings.Contains(err.Error(), tt.errSub) {
					t.Fatalf("ParseMemory(%q) error = %v, want containing %q", tt.in, err, tt.errSub)
				}
				if !errors.Is(err, api.ErrInvalid) {
					t.Errorf("error %v does not match api.ErrInvalid", err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseMemory(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestFormatMemory(t *testing.T) {
	tests := []struct {
		in   int64
		want string
	}{
		{-1, "0"},
		{0, "0"},
		{1000, "1000B"},
		{100 * KiB, "100K"},
		{512 * MiB, "512M"},
		{1536 * MiB, "1536M"},
		{4 * GiB, "4G"},
		{TiB, "1T"},
		{PiB, "1024T"},
	}
	for _, tt := range tests {
		if got := FormatMemory(tt.in); got != tt.want {
			t.Errorf("FormatMemory(%d) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestFormatMemoryHuman(t *testing.T) {
	tests := []struct {
		in   int64
		want string
	}{
		{0, "0"},
		{500, "500B"},
		{512 * MiB, "512M"},
		{1536 * MiB, "1.5G"},
		{540_000_000_000, "502.9G"},
		{2 * TiB, "2T"},
	}
	for _, tt := range tests {
		if got := FormatMemoryHuman(tt.in); got != tt.want {
			t.Errorf("FormatMemoryHuman(%d) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func FuzzParseMemory(f *testing.F) {
	for _, s := range []string{"100", "4G", "512m", "1T", "100KB", "2048B", "1.5G", "-1", "1025T", "4gib", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := ParseMemory(s)
		if err != nil {
			checkParseError(t, s, err)
			if n != 0 {
				t.Fatalf("ParseMemory(%q) returned %d with an error", s, n)
			}
			return
		}
		if n < 0 || n > MaxMemory {
			t.Fatalf("ParseMemory(%q) = %d out of range", s, n)
		}
		back, err := ParseMemory(FormatMemory(n))
		if err != nil || back != n {
			t.Fatalf("round trip %q -> %d -> %q -> %d, %v", s, n, FormatMemory(n), back, err)
		}
	})
}
