package units

import (
	"fmt"
	"strconv"
	"strings"
)

// Binary multiples.
const (
	KiB int64 = 1 << 10
	MiB int64 = 1 << 20
	GiB int64 = 1 << 30
	TiB int64 = 1 << 40
	PiB int64 = 1 << 50
)

// MaxMemory is the largest memory size accepted (1 PiB).
const MaxMemory = PiB

const memKind = "memory size"

const memFormats = "use a whole number with an optional K, M, G or T suffix (MiB when none), e.g. 512M or 4G"

// ParseMemory parses a memory size with sbatch --mem's rules: a whole
// number is MiB; a K, M, G or T suffix (any case, optionally followed by
// B, or iB) gives KiB, MiB, GiB or TiB; a lone B suffix means bytes. Sizes
// above MaxMemory, negative sizes, fractions and anything else are refused.
// Zero is accepted (the caller decides what it means).
func ParseMemory(s string) (int64, error) {
	t := strings.TrimSpace(s)
	if t == "" {
		return 0, newError(memKind, s, "empty; "+memFormats)
	}
	if strings.HasPrefix(t, "-") {
		return 0, newError(memKind, s, "must not be negative")
	}
	i := 0
	for i < len(t) && t[i] >= '0' && t[i] <= '9' {
		i++
	}
	num, suffix := t[:i], strings.ToUpper(t[i:])
	if num == "" {
		return 0, newError(memKind, s, "no number; "+memFormats)
	}
	mult := MiB
	switch suffix {
	case "":
	case "B":
		mult = 1
	case "K", "KB", "KIB":
		mult = KiB
	case "M", "MB", "MIB":
		mult = MiB
	case "G", "GB", "GIB":
		mult = GiB
	case "T", "TB", "TIB":
		mult = TiB
	default:
		if strings.HasPrefix(suffix, ".") || strings.HasPrefix(suffix, ",") {
			return 0, newError(memKind, s, "must be a whole number; "+memFormats)
		}
		return 0, newError(memKind, s, fmt.Sprintf("unknown suffix %q; %s", short(t[i:]), memFormats))
	}
	v, _, over := parseUint(num, MaxMemory)
	if over || v > MaxMemory/mult {
		return 0, newError(memKind, s, "too large (at most 1 PiB)")
	}
	return v * mult, nil
}

// FormatMemory renders bytes exactly, in the largest unit that divides
// them: "4G", "512M", "100K", "1000B". ParseMemory reads it back.
// Negative values render as "0".
func FormatMemory(bytes int64) string {
	if bytes <= 0 {
		return "0"
	}
	for _, u := range []struct {
		mult int64
		sfx  string
	}{{TiB, "T"}, {GiB, "G"}, {MiB, "M"}, {KiB, "K"}} {
		if bytes%u.mult == 0 {
			return strconv.FormatInt(bytes/u.mult, 10) + u.sfx
		}
	}
	return strconv.FormatInt(bytes, 10) + "B"
}

// FormatMemoryHuman renders bytes for display, rounded to one decimal in
// the largest unit not above them: "502.9G", "512M", "1.5T".
func FormatMemoryHuman(bytes int64) string {
	if bytes <= 0 {
		return "0"
	}
	for _, u := range []struct {
		mult int64
		sfx  string
	}{{PiB, "P"}, {TiB, "T"}, {GiB, "G"}, {MiB, "M"}, {KiB, "K"}} {
		if bytes >= u.mult {
			s := strconv.FormatFloat(float64(bytes)/float64(u.mult), 'f', 1, 64)
			return strings.TrimSuffix(s, ".0") + u.sfx
		}
	}
	return strconv.FormatInt(bytes, 10) + "B"
}
