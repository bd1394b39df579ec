package cli

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	ucli "github.com/urfave/cli/v2"
	"golang.org/x/sys/unix"

	"github.com/gsched/gsched/pkg/api"
)

func gcancelFlags() []ucli.Flag {
	return []ucli.Flag{
		&ucli.StringFlag{Name: "user", Aliases: []string{"u"}, Usage: "cancel the jobs of this user"},
		&ucli.StringFlag{Name: "name", Aliases: []string{"n"}, Usage: "cancel the jobs with this name"},
		&ucli.StringFlag{Name: "state", Aliases: []string{"t"}, Usage: "cancel only jobs in these states (comma list)"},
		&ucli.StringFlag{Name: "signal", Aliases: []string{"s"}, Usage: "send this signal (name such as USR1 or number) instead of cancelling"},
		configFlag(),
		helpFlag(true),
	}
}

// maxSignal is the highest Linux signal number (SIGRTMAX).
const maxSignal = 64

// ParseSignal parses a signal name ("USR1", "SIGUSR1", any case) or
// number (1..64).
func ParseSignal(s string) (int, error) {
	t := strings.TrimSpace(s)
	if t == "" {
		return 0, fmt.Errorf("invalid signal %q", s)
	}
	if n, err := strconv.Atoi(t); err == nil {
		if n < 1 || n > maxSignal {
			return 0, fmt.Errorf("invalid signal %q: numbers run from 1 to %d", s, maxSignal)
		}
		return n, nil
	}
	name := strings.ToUpper(t)
	if !strings.HasPrefix(name, "SIG") {
		name = "SIG" + name
	}
	if n := unix.SignalNum(name); n != 0 {
		return int(n), nil
	}
	return 0, fmt.Errorf("invalid signal %q: use a name such as TERM, KILL, USR1 or a number", s)
}

// CancelOptions are gcancel's options as typed.
type CancelOptions struct {
	Args                      []string
	User, Name, State, Signal string
}

// BuildCancelRequest turns gcancel's arguments into a request.
func BuildCancelRequest(o CancelOptions) (api.CancelRequest, error) {
	var r api.CancelRequest
	var err error
	if r.IDs, r.Tasks, err = ParseCancelRefs(o.Args); err != nil {
		return r, err
	}
	r.User, r.Name = strings.TrimSpace(o.User), strings.TrimSpace(o.Name)
	if o.State != "" {
		states, _, err := ParseStates(o.State)
		if err != nil {
			return r, fmt.Errorf("--state: %w", err)
		}
		r.States = states
	}
	if o.Signal != "" {
		if r.Signal, err = ParseSignal(o.Signal); err != nil {
			return r, err
		}
	}
	if len(r.IDs) == 0 && len(r.Tasks) == 0 && r.User == "" && r.Name == "" && len(r.States) == 0 {
		return r, fmt.Errorf("no job given: name job IDs, or select jobs with --user, --name or --state")
	}
	return r, nil
}

// ParseCancelRefs splits the references ParseJobRefs reads into whole
// jobs (an array's ID stands for all its tasks) and single array tasks.
func ParseCancelRefs(items []string) (ids []api.JobID, tasks []api.ArrayTaskRef, err error) {
	refs, err := ParseJobRefs(items)
	if err != nil {
		return nil, nil, err
	}
	for _, r := range refs {
		if r.HasTask {
			tasks = append(tasks, api.ArrayTaskRef{Array: r.ID, Task: r.Task})
		} else {
			ids = append(ids, r.ID)
		}
	}
	return ids, tasks, nil
}

// splitOutsideBrackets splits a comma list, keeping "[1,3]" whole.
func splitOutsideBrackets(s string) []string {
	var out []string
	depth, start := 0, 0
	for i := 0; i <= len(s); i++ {
		if i < len(s) {
			switch s[i] {
			case '[':
				depth++
				continue
			case ']':
				depth--
				continue
			}
			if s[i] != ',' || depth > 0 {
				continue
			}
		}
		if p := strings.TrimSpace(s[start:i]); p != "" {
			out = append(out, p)
		}
		start = i + 1
	}
	return out
}

// ReportCancel prints each refused job on w, one line each, and reports
// whether any was refused.
func ReportCancel(w io.Writer, prog string, resp api.CancelResponse) (refused bool) {
	for _, e := range resp.Errors {
		msg := e.Message
		if msg == "" {
			msg = e.Code
		}
		fmt.Fprintf(w, "%s: error: job %d: %s\n", prog, e.JobID, strings.ReplaceAll(msg, "\n", " "))
	}
	return len(resp.Errors) > 0
}

// Gcancel runs gcancel.
func (e *Env) Gcancel(args []string) int {
	flags := gcancelFlags()
	app := e.newApp("gcancel", "cancel or signal jobs", "[job_id...]", flags, e.gcancelAction)
	if len(args) > 1 {
		args = append(args[:1:1], expandShortOptions(args[1:], flags, true)...)
	}
	return e.run(app, args)
}

func (e *Env) gcancelAction(c *ucli.Context) error {
	req, err := BuildCancelRequest(CancelOptions{
		Args: c.Args().Slice(), User: c.String("user"), Name: c.String("name"),
		State: c.String("state"), Signal: c.String("signal"),
	})
	if err != nil {
		return &usageError{err}
	}
	cl, err := e.connect(c)
	if err != nil {
		return err
	}
	var resp api.CancelResponse
	if err := call(c.Context, cl, api.PathCancel, req, &resp); err != nil {
		return fmt.Errorf("cancel: %w", err)
	}
	if ReportCancel(e.Stderr, "gcancel", resp) {
		return &exitError{ExitFailure}
	}
	return nil
}
