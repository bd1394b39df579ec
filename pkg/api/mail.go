package api

import (
	"fmt"
	"strings"
)

// MailEvents are the job events a user asked mail for (--mail-type).
type MailEvents uint16

// Mail events, with Slurm's names.
const (
	MailBegin MailEvents = 1 << iota
	MailEnd
	MailFail
	MailRequeue
	MailTimeLimit
	MailTimeLimit90
	MailTimeLimit80
	MailTimeLimit50
	// MailArrayTasks sends the mails of each task of a job array; without
	// it an array sends one BEGIN (its first task) and one END or FAIL
	// (its last).
	MailArrayTasks
	// MailAll is Slurm's ALL: BEGIN, END, FAIL and REQUEUE.
	MailAll = MailBegin | MailEnd | MailFail | MailRequeue
)

var mailNames = []struct {
	name string
	ev   MailEvents
}{
	{"BEGIN", MailBegin}, {"END", MailEnd}, {"FAIL", MailFail}, {"REQUEUE", MailRequeue},
	{"TIME_LIMIT", MailTimeLimit}, {"TIME_LIMIT_90", MailTimeLimit90}, {"TIME_LIMIT_80", MailTimeLimit80},
	{"TIME_LIMIT_50", MailTimeLimit50}, {"ARRAY_TASKS", MailArrayTasks},
}

// ParseMailType parses --mail-type: a comma list of NONE, BEGIN, END,
// FAIL, REQUEUE, ALL, TIME_LIMIT, TIME_LIMIT_90, TIME_LIMIT_80,
// TIME_LIMIT_50 and ARRAY_TASKS, any case. NONE alone asks for nothing.
func ParseMailType(s string) (MailEvents, error) {
	var ev MailEvents
	none := false
	for _, w := range strings.Split(s, ",") {
		w = strings.ToUpper(strings.TrimSpace(w))
		switch w {
		case "NONE":
			none = true
			continue
		case "ALL":
			ev |= MailAll
			continue
		}
		found := false
		for _, m := range mailNames {
			if m.name == w {
				ev |= m.ev
				found = true
			}
		}
		if !found {
			if len(w) > 32 {
				w = w[:32] + "..."
			}
			return 0, fmt.Errorf("%w: invalid --mail-type %q (use NONE, BEGIN, END, FAIL, REQUEUE, ALL, TIME_LIMIT, TIME_LIMIT_90, TIME_LIMIT_80, TIME_LIMIT_50, ARRAY_TASKS)", ErrInvalid, w)
		}
	}
	if none && ev != 0 {
		return 0, fmt.Errorf("%w: --mail-type NONE cannot be combined with other types", ErrInvalid)
	}
	return ev, nil
}

// String is the canonical comma list ("" for none).
func (m MailEvents) String() string {
	var out []string
	for _, n := range mailNames {
		if m&n.ev != 0 {
			out = append(out, n.name)
		}
	}
	return strings.Join(out, ",")
}

// ValidMailUser reports whether s may be a mail recipient: a user name
// or an address, without spaces, commas or line breaks (it becomes a To:
// header line).
func ValidMailUser(s string) bool {
	if s == "" || len(s) > 254 || strings.HasPrefix(s, "-") {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("._%+-@", c) >= 0
		if !ok {
			return false
		}
	}
	return true
}
