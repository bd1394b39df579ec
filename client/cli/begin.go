package cli

import (
	"fmt"
	"strings"
	"time"

	"github.com/gsched/gsched/pkg/queuefmt"
)

// namedTimes are sbatch's words for times of day (--begin).
var namedTimes = map[string]int{"midnight": 0, "elevenses": 11, "noon": 12, "fika": 15, "teatime": 16}

// ParseBeginTime parses gsub --begin as sbatch does: "now+N[unit]"
// (seconds, minutes, hours, days, weeks), YYYY-MM-DD[THH:MM[:SS]],
// HH:MM[:SS] (today, or tomorrow once that time has passed), "today",
// "tomorrow", and the named times midnight, elevenses, noon, fika and
// teatime (the next one to come). Times are local.
func ParseBeginTime(s string, now time.Time) (time.Time, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	loc := now.Location()
	day := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, loc)
	next := func(at time.Time) time.Time {
		if !at.After(now) {
			at = at.AddDate(0, 0, 1)
		}
		return at
	}
	switch {
	case t == "today":
		return day, nil
	case t == "tomorrow":
		return day.AddDate(0, 0, 1), nil
	case namedTimes[t] > 0 || t == "midnight":
		return next(day.Add(time.Duration(namedTimes[t]) * time.Hour)), nil
	case strings.HasPrefix(t, "now-"):
		return time.Time{}, fmt.Errorf("invalid --begin %s: a begin time in the past is now: use now or now+N", queuefmt.ShortQuote(s))
	}
	if at, err := ParseStartTime(strings.TrimSpace(s), now); err == nil {
		return at, nil
	}
	for _, layout := range []string{"15:04:05", "15:04"} {
		if tm, err := time.ParseInLocation(layout, t, loc); err == nil {
			return next(day.Add(time.Duration(tm.Hour())*time.Hour + time.Duration(tm.Minute())*time.Minute + time.Duration(tm.Second())*time.Second)), nil
		}
	}
	return time.Time{}, fmt.Errorf("invalid --begin %s: use now+N{seconds,minutes,hours,days,weeks}, YYYY-MM-DD[THH:MM[:SS]], HH:MM[:SS], today, tomorrow, midnight, noon or teatime", queuefmt.ShortQuote(s))
}
