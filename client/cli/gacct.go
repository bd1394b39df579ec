package cli

import (
	"fmt"
	"io"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	ucli "github.com/urfave/cli/v2"

	"github.com/gsched/gsched/pkg/api"
	"github.com/gsched/gsched/pkg/units"
)

func gacctFlags() []ucli.Flag {
	return []ucli.Flag{
		&ucli.StringFlag{Name: "jobs", Aliases: []string{"j"}, Usage: "only these jobs (comma list of IDs; 123 is every task of array 123, 123_7 one task)"},
		&ucli.StringFlag{Name: "user", Aliases: []string{"u"}, Usage: "only jobs of these users (comma list)"},
		&ucli.BoolFlag{Name: "allusers", Aliases: []string{"a"}, Usage: "jobs of every user"},
		&ucli.StringFlag{Name: "starttime", Aliases: []string{"S"}, Usage: "jobs that ended since: YYYY-MM-DD[THH:MM[:SS]], now, now-N{seconds,minutes,hours,days,weeks} (default: midnight today)"},
		&ucli.StringFlag{Name: "endtime", Aliases: []string{"E"}, Usage: "jobs submitted before: same forms as --starttime"},
		&ucli.StringFlag{Name: "state", Aliases: []string{"s"}, Usage: "only jobs in these states (comma list)"},
		&ucli.StringFlag{Name: "accounts", Aliases: []string{"A"}, Usage: "only jobs charged to these accounts (comma list)"},
		&ucli.StringFlag{Name: "partition", Aliases: []string{"r"}, Usage: "only jobs of these partitions (comma list)"},
		&ucli.StringFlag{Name: "format", Aliases: []string{"o"}, Usage: "sacct fields to print, e.g. JobID,JobName%30,State,ExitCode (default $SACCT_FORMAT)"},
		&ucli.BoolFlag{Name: "long", Aliases: []string{"l"}, Usage: "sacct's long field list (those gsched records)"},
		&ucli.BoolFlag{Name: "brief", Aliases: []string{"b"}, Usage: "JobID, State and ExitCode only"},
		&ucli.BoolFlag{Name: "allocations", Aliases: []string{"X"}, Usage: "only the jobs' own lines (accepted for sacct scripts: gacct prints no step lines)"},
		&ucli.BoolFlag{Name: "parsable", Aliases: []string{"p"}, Usage: "fields separated by |, with a | after the last"},
		&ucli.BoolFlag{Name: "parsable2", Aliases: []string{"P"}, Usage: "fields separated by |"},
		&ucli.BoolFlag{Name: "noheader", Aliases: []string{"n"}, Usage: "do not print the header line"},
		jsonFlag(),
		configFlag(),
		helpFlag(true),
	}
}

// Gacct runs gacct.
func (e *Env) Gacct(args []string) int {
	flags := gacctFlags()
	app := e.newApp("gacct", "show finished jobs", "", flags, e.gacctAction)
	if len(args) > 1 {
		args = append(args[:1:1], expandShortOptions(args[1:], flags, false)...)
	}
	return e.run(app, args)
}

func (e *Env) gacctAction(c *ucli.Context) error {
	if c.Args().Present() {
		return usagef("unexpected argument %q", c.Args().First())
	}
	f := api.JobFilter{OnlyFinished: true, Users: SplitList(c.String("user")), Partitions: SplitList(c.String("partition"))}
	refs, err := ParseJobRefs([]string{c.String("jobs")})
	if err != nil {
		return usagef("--jobs: %v", err)
	}
	format, mode, err := e.acctView(c)
	if err != nil {
		return &usageError{err}
	}
	if s := c.String("state"); s != "" {
		if f.States, _, err = ParseStates(s); err != nil {
			return usagef("--state: %v", err)
		}
	}
	now := e.Now()
	switch {
	case c.IsSet("starttime"):
		if f.Since, err = ParseStartTime(c.String("starttime"), now); err != nil {
			return &usageError{fmt.Errorf("--starttime: %w", err)}
		}
	case len(refs) == 0:
		f.Since = time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, now.Location())
	}
	var until time.Time
	if c.IsSet("endtime") {
		if until, err = ParseStartTime(c.String("endtime"), now); err != nil {
			return &usageError{fmt.Errorf("--endtime: %w", err)}
		}
	}
	accounts := SplitList(c.String("accounts"))
	cl, err := e.connect(c)
	if err != nil {
		return err
	}
	if len(f.Users) == 0 && !c.Bool("allusers") {
		w, err := whoAmI(c.Context, cl)
		if err != nil {
			return err
		}
		if !w.Operator {
			f.Users = []string{w.User}
		}
	}
	f.Brief = !c.Bool("json")
	list, err := listJobs(c.Context, cl, f, refs)
	if err != nil {
		return fmt.Errorf("list jobs: %w", err)
	}
	list.Jobs = FilterAcct(list.Jobs, until, accounts)
	if c.Bool("json") {
		return writeJSON(e.Stdout, list)
	}
	sortByID(list.Jobs)
	return RenderAcctFormat(e.Stdout, list.Jobs, format, mode, !c.Bool("noheader"), &acctCtx{Loc: now.Location()})
}

// acctView reads -o (else $SACCT_FORMAT), -l, -b, -p and -P.
func (e *Env) acctView(c *ucli.Context) (AcctFormat, int, error) {
	spec, from, mode := c.String("format"), "--format", acctTable
	switch {
	case c.IsSet("format"):
	case c.Bool("brief"):
		spec, from = AcctBriefFormat, "--brief"
	case c.Bool("long"):
		spec, from = AcctLongFormat, "--long"
	case e.Getenv("SACCT_FORMAT") != "":
		spec, from = e.Getenv("SACCT_FORMAT"), "$SACCT_FORMAT"
	default:
		spec, mode = AcctDefaultFormat, acctAutoWidth
	}
	switch {
	case c.Bool("parsable2"):
		mode = acctParsable2
	case c.Bool("parsable"):
		mode = acctParsable
	}
	f, err := ParseAcctFormat(spec)
	if err != nil {
		return nil, 0, fmt.Errorf("%s: %w", from, err)
	}
	return f, mode, nil
}

// FilterAcct keeps the jobs submitted at or before until (when set) and
// charged to one of accounts (when given): sacct's -E and -A, which the
// controller's filter does not hold.
func FilterAcct(jobs []api.Job, until time.Time, accounts []string) []api.Job {
	out := jobs[:0:0]
	for _, j := range jobs {
		if !until.IsZero() && j.SubmitTime.After(until) {
			continue
		}
		if len(accounts) > 0 && !slices.Contains(accounts, j.Spec.Account) {
			continue
		}
		out = append(out, j)
	}
	return out
}

func sortByID(jobs []api.Job) {
	sort.SliceStable(jobs, func(i, k int) bool { return jobs[i].ID < jobs[k].ID })
}

var relTime = regexp.MustCompile(`^now(?:([-+])(\d{1,9})(seconds?|minutes?|hours?|days?|weeks?|[smhdw])?)?$`)

// ParseStartTime parses gacct --starttime: YYYY-MM-DD, YYYY-MM-DDTHH:MM,
// YYYY-MM-DDTHH:MM:SS (local time), "now", or "now-N<unit>" with units
// seconds, minutes, hours, days or weeks (singular, plural or first
// letter; seconds when none).
func ParseStartTime(s string, now time.Time) (time.Time, error) {
	t := strings.TrimSpace(s)
	if m := relTime.FindStringSubmatch(strings.ToLower(t)); m != nil {
		if m[1] == "" {
			return now, nil
		}
		n, _ := strconv.ParseInt(m[2], 10, 64)
		unit := time.Second
		switch {
		case strings.HasPrefix(m[3], "m"):
			unit = time.Minute
		case strings.HasPrefix(m[3], "h"):
			unit = time.Hour
		case strings.HasPrefix(m[3], "d"):
			unit = 24 * time.Hour
		case strings.HasPrefix(m[3], "w"):
			unit = 7 * 24 * time.Hour
		}
		d := time.Duration(n) * unit
		if d/unit != time.Duration(n) {
			return time.Time{}, fmt.Errorf("invalid time %q: too far", s)
		}
		if m[1] == "-" {
			d = -d
		}
		return now.Add(d), nil
	}
	for _, layout := range []string{"2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02"} {
		if tm, err := time.ParseInLocation(layout, t, now.Location()); err == nil {
			return tm, nil
		}
	}
	return time.Time{}, fmt.Errorf("invalid time %q: use YYYY-MM-DD[THH:MM[:SS]] or now-N{minutes,hours,days,weeks}", s)
}

// ExitCodeString is sacct's ExitCode column: "code:signal".
func ExitCodeString(j *api.Job) string {
	return fmt.Sprintf("%d:%d", j.ExitCode, j.Signal)
}

// formatTime is sacct's time format; zero times are "Unknown".
func formatTime(t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return "Unknown"
	}
	return t.In(loc).Format("2006-01-02T15:04:05")
}

// RenderAcct prints finished jobs in gacct's default layout, sorted by
// job ID: JobID JobName Partition User State ExitCode Elapsed Start End
// NodeList AllocTRES, in columns as wide as their widest value.
func RenderAcct(w io.Writer, jobs []api.Job, header bool, loc *time.Location) error {
	jobs = append([]api.Job(nil), jobs...)
	sortByID(jobs)
	f, err := ParseAcctFormat(AcctDefaultFormat)
	if err != nil {
		return err
	}
	return RenderAcctFormat(w, jobs, f, acctAutoWidth, header, &acctCtx{Loc: loc})
}

// AllocTRES is the job's allocation in sacct's AllocTRES form
// ("cpu=2,mem=4G,gres/gpu=1"), empty when it never ran.
func AllocTRES(j *api.Job) string {
	if len(j.Allocs) == 0 {
		return ""
	}
	t := j.AllocTotals()
	s := fmt.Sprintf("cpu=%d,mem=%s,node=%d", t.CPUs, units.FormatMemory(t.MemBytes), t.Nodes)
	if n := t.GPUs; n > 0 {
		s += fmt.Sprintf(",gres/gpu=%d", n)
	}
	return s
}
