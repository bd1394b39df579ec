package units

import (
	"strconv"
	"strings"
)

// MaxSwitches bounds a --switches count.
const MaxSwitches = 4096

const switchesKind = "switch request"

// ParseSwitches parses a --switches value, "N" or "N@time": at most N leaf
// switches, waiting at most time (any ParseTimeLimit form) for them;
// waitSec 0 means waiting for ever.
func ParseSwitches(s string) (count int, waitSec int64, err error) {
	t := strings.TrimSpace(s)
	num, wait, hasWait := strings.Cut(t, "@")
	n, perr := strconv.Atoi(strings.TrimSpace(num))
	if perr != nil || n < 1 || n > MaxSwitches {
		return 0, 0, newError(switchesKind, s, "want N or N@time with N from 1 to "+strconv.Itoa(MaxSwitches)+", e.g. 1@30:00")
	}
	if !hasWait {
		return n, 0, nil
	}
	secs, unlimited, terr := ParseTimeLimit(wait)
	if terr != nil {
		return 0, 0, newError(switchesKind, s, "bad wait time after '@': "+terr.Error())
	}
	if unlimited {
		secs = 0
	}
	return n, secs, nil
}
