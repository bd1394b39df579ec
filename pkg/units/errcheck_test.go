package units

import (
	"errors"
	"strings"
	"testing"

	"github.com/gsched/gsched/pkg/api"
)

// checkParseError: a parser's error is an api.ErrInvalid of one short
// line, whatever the input held.
func checkParseError(t *testing.T, in string, err error) {
	t.Helper()
	msg := err.Error()
	if !errors.Is(err, api.ErrInvalid) || strings.ContainsAny(msg, "\n\r") || len(msg) > 512 {
		t.Fatalf("error for %q is not one short api.ErrInvalid line: %q", in, msg)
	}
}
