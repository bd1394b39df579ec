package units

import (
	"fmt"
	"strconv"
	"strings"
)

// MaxTimeLimit is the largest time limit accepted, in seconds (365 days).
const MaxTimeLimit int64 = 365 * 24 * 3600

const timeKind = "time limit"

const timeFormats = "use MM, MM:SS, HH:MM:SS, D-HH, D-HH:MM, D-HH:MM:SS or UNLIMITED"

// ParseTimeLimit parses a time limit in any of Slurm's formats: "MM",
// "MM:SS", "HH:MM:SS", "D-HH", "D-HH:MM", "D-HH:MM:SS", and "UNLIMITED" or
// "INFINITE" in any case. The leading field may exceed its usual range
// ("90" minutes, "48:00:00"); the fields after it must be below 60 (minutes
// and seconds) or 24 (hours after a day count). As in Slurm, a limit of
// zero ("0", "0:00", ...) asks for no limit: it returns unlimited=true and
// seconds=0. Limits above MaxTimeLimit are refused.
func ParseTimeLimit(s string) (seconds int64, unlimited bool, err error) {
	t := strings.TrimSpace(s)
	if t == "" {
		return 0, false, newError(timeKind, s, "empty; "+timeFormats)
	}
	if strings.EqualFold(t, "UNLIMITED") || strings.EqualFold(t, "INFINITE") {
		return 0, true, nil
	}
	if strings.HasPrefix(t, "-") {
		return 0, false, newError(timeKind, s, "must not be negative")
	}
	var days int64
	hasDays := false
	rest := t
	if i := strings.IndexByte(t, '-'); i >= 0 {
		hasDays = true
		d, err := timeField(s, t[:i], -1)
		if err != nil {
			return 0, false, err
		}
		days = d
		rest = t[i+1:]
	}
	parts := strings.Split(rest, ":")
	if len(parts) > 3 {
		return 0, false, newError(timeKind, s, "too many fields; "+timeFormats)
	}
	// Each field's unit, and the bound of each non-leading field.
	var units, bounds []int64
	switch {
	case hasDays:
		// D-HH, D-HH:MM, D-HH:MM:SS
		units = []int64{3600, 60, 1}[:len(parts)]
		bounds = []int64{24, 60, 60}
	case len(parts) == 3:
		units, bounds = []int64{3600, 60, 1}, []int64{-1, 60, 60}
	case len(parts) == 2:
		units, bounds = []int64{60, 1}, []int64{-1, 60}
	default:
		units, bounds = []int64{60}, []int64{-1}
	}
	total := days * 86400
	for i, p := range parts {
		v, err := timeField(s, p, bounds[i])
		if err != nil {
			return 0, false, err
		}
		total += v * units[i]
	}
	if total > MaxTimeLimit {
		return 0, false, newError(timeKind, s, "time limit too large (at most 365 days)")
	}
	if total == 0 {
		return 0, true, nil
	}
	return total, false, nil
}

// fieldMax keeps every field small enough that sums cannot overflow.
const fieldMax = 1 << 40

// timeField parses one field; bound > 0 is an exclusive upper limit.
func timeField(in, f string, bound int64) (int64, error) {
	v, valid, over := parseUint(f, fieldMax)
	if !valid {
		if f == "" {
			return 0, newError(timeKind, in, "empty field; "+timeFormats)
		}
		if strings.HasPrefix(f, "-") {
			return 0, newError(timeKind, in, "must not be negative")
		}
		return 0, newError(timeKind, in, fmt.Sprintf("%q is not a number; %s", short(f), timeFormats))
	}
	if over {
		return 0, newError(timeKind, in, "time limit too large (at most 365 days)")
	}
	if bound > 0 && v >= bound {
		return 0, newError(timeKind, in, fmt.Sprintf("field %q out of range (must be below %d); %s", f, bound, timeFormats))
	}
	return v, nil
}

func short(s string) string { return truncate(s, 16) }

// FormatDuration renders seconds as squeue does: "M:SS" below an hour,
// "H:MM:SS" below a day, "D-HH:MM:SS" beyond. Negative values render as
// "0:00".
func FormatDuration(seconds int64) string {
	if seconds <= 0 {
		return "0:00" // every pending job's TIME
	}
	d := seconds / 86400
	h := seconds % 86400 / 3600
	m := seconds % 3600 / 60
	sec := seconds % 60
	// strconv rather than fmt: gqueue prints this for every job.
	b := make([]byte, 0, 16)
	switch {
	case d > 0:
		b = strconv.AppendInt(b, d, 10)
		b = append(b, '-')
		b = append2(b, h)
		b = append(b, ':')
		b = append2(b, m)
	case h > 0:
		b = strconv.AppendInt(b, h, 10)
		b = append(b, ':')
		b = append2(b, m)
	default:
		b = strconv.AppendInt(b, m, 10)
	}
	b = append(b, ':')
	return string(append2(b, sec))
}

// append2 appends n (0 to 99) in two digits.
func append2(b []byte, n int64) []byte {
	return append(b, byte('0'+n/10), byte('0'+n%10))
}

// FormatTimeLimit renders a time limit in seconds: "UNLIMITED" for zero or
// less, else FormatDuration. ParseTimeLimit reads it back.
func FormatTimeLimit(seconds int64) string {
	if seconds <= 0 {
		return "UNLIMITED"
	}
	return FormatDuration(seconds)
}
