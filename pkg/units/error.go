package units

import (
	"fmt"
	"unicode/utf8"

	"github.com/gsched/gsched/pkg/api"
)

// Error is a value that could not be parsed.
type Error struct {
	// Kind names what was parsed ("time limit", "memory size", ...).
	Kind string
	// Input is the offending text (shortened when very long).
	Input string
	// Reason says what is wrong, and usually what is expected.
	Reason string
}

func (e *Error) Error() string {
	return fmt.Sprintf("invalid %s %q: %s", e.Kind, e.Input, e.Reason)
}

// Unwrap makes errors.Is(err, api.ErrInvalid) true.
func (e *Error) Unwrap() error { return api.ErrInvalid }

// maxQuoted bounds how much of a bad input an error message repeats.
const maxQuoted = 32

func newError(kind, input, reason string) *Error {
	return &Error{Kind: kind, Input: truncate(input, maxQuoted), Reason: reason}
}

// truncate shortens s to at most n bytes (without splitting a UTF-8
// sequence) and marks the cut with "...".
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "..."
}

// parseUint parses a non-empty string of ASCII digits. valid is false
// when s is empty or holds anything but digits; over is true when the value
// exceeds max (v is then meaningless). It never overflows as long as
// max < math.MaxInt64/10.
func parseUint(s string, max int64) (v int64, valid, over bool) {
	if s == "" {
		return 0, false, false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false, false
		}
		if !over {
			v = v*10 + int64(c-'0')
			if v > max {
				over = true
			}
		}
	}
	return v, true, over
}
