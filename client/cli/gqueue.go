package cli

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	ucli "github.com/urfave/cli/v2"

	"github.com/gsched/gsched/pkg/api"
	"github.com/gsched/gsched/pkg/queuefmt"
	"github.com/gsched/gsched/pkg/rpc"
)

func gqueueFlags() []ucli.Flag {
	return []ucli.Flag{
		&ucli.StringFlag{Name: "user", Aliases: []string{"u"}, Usage: "only jobs of these users (comma list)"},
		&ucli.StringFlag{Name: "jobs", Aliases: []string{"j"}, Usage: "only these jobs (comma list of IDs; 123 is every task of array 123, 123_7 one task)"},
		&ucli.StringFlag{Name: "states", Aliases: []string{"t"}, Usage: "only jobs in these states (comma list of names or codes, or all)"},
		&ucli.StringFlag{Name: "partition", Aliases: []string{"p"}, Usage: "only jobs in these partitions (comma list)"},
		&ucli.StringFlag{Name: "name", Aliases: []string{"n"}, Usage: "only jobs with these names (comma list)"},
		&ucli.BoolFlag{Name: "me", Usage: "only my jobs"},
		&ucli.BoolFlag{Name: "start", Usage: "pending jobs with their expected start times (backfill reservations)"},
		&ucli.BoolFlag{Name: "priority", Usage: "pending jobs with their priority and its weighted factors (like sprio)"},
		&ucli.StringFlag{Name: "format", Aliases: []string{"o"}, Usage: "squeue output format: %[.][width]<letter> fields such as \"%.18i %.9P %.8j %.8u %.2t %.10M %.6D %R\" (default $SQUEUE_FORMAT)"},
		&ucli.StringFlag{Name: "sort", Aliases: []string{"S"}, Usage: "sort by these field letters, - for descending, e.g. \"-t,P,i\" (default $SQUEUE_SORT, else job ID)"},
		&ucli.BoolFlag{Name: "long", Aliases: []string{"l"}, Usage: "squeue's long format (state names, time limit)"},
		&ucli.BoolFlag{Name: "array", Aliases: []string{"r"}, Usage: "one line per array task: do not fold pending tasks as 123_[5-99]"},
		&ucli.BoolFlag{Name: "noheader", Aliases: []string{"h"}, Usage: "do not print the header line"},
		jsonFlag(),
		configFlag(),
		helpFlag(false),
	}
}

// QueueOptions are gqueue's filter options as typed.
type QueueOptions struct {
	Users, Jobs, States, Partitions, Names string
}

// BuildJobFilter turns gqueue's options into a job filter and the jobs
// named by --jobs (which listJobs resolves: see there for arrays).
func BuildJobFilter(o QueueOptions) (api.JobFilter, []api.JobRef, error) {
	var f api.JobFilter
	f.Users = SplitList(o.Users)
	f.Partitions = SplitList(o.Partitions)
	f.Names = SplitList(o.Names)
	refs, err := ParseJobRefs([]string{o.Jobs})
	if err != nil {
		return f, nil, fmt.Errorf("--jobs: %w", err)
	}
	states, all, err := ParseStates(o.States)
	if err != nil {
		return f, nil, fmt.Errorf("--states: %w", err)
	}
	if all {
		f.IncludeFinished = true
	} else {
		f.States = states
	}
	return f, refs, nil
}

// Gqueue runs gqueue.
func (e *Env) Gqueue(args []string) int {
	flags := gqueueFlags()
	app := e.newApp("gqueue", "list queued and running jobs", "", flags, e.gqueueAction)
	if len(args) > 1 {
		args = append(args[:1:1], expandShortOptions(args[1:], flags, false)...)
	}
	return e.run(app, args)
}

func (e *Env) gqueueAction(c *ucli.Context) error {
	if c.Args().Present() {
		return usagef("unexpected argument %q", c.Args().First())
	}
	f, refs, err := BuildJobFilter(QueueOptions{
		Users: c.String("user"), Jobs: c.String("jobs"), States: c.String("states"),
		Partitions: c.String("partition"), Names: c.String("name"),
	})
	if err != nil {
		return &usageError{err}
	}
	layout, err := e.queueLayout(c)
	if err != nil {
		return &usageError{err}
	}
	cl, err := e.connect(c)
	if err != nil {
		return err
	}
	if c.Bool("priority") {
		var pl api.PriorityList
		if err := call(c.Context, cl, api.PathPriority, struct{}{}, &pl); err != nil {
			return fmt.Errorf("list priorities: %w", err)
		}
		if c.Bool("json") {
			return writeJSON(e.Stdout, pl)
		}
		return RenderPriorities(e.Stdout, pl, !c.Bool("noheader"))
	}
	if c.Bool("start") {
		f.States = []api.JobState{api.StatePending}
	}
	if c.Bool("me") {
		w, err := whoAmI(c.Context, cl)
		if err != nil {
			return err
		}
		f.Users = []string{w.User}
	}
	if !c.Bool("json") && !c.Bool("start") {
		text, ok, err := e.queueText(c, cl, f, refs, layout)
		if err != nil {
			return fmt.Errorf("list jobs: %w", err)
		}
		if ok {
			_, err = e.Stdout.Write(text)
			return err
		}
	}
	f.Brief = !c.Bool("json") // the table shows no script or environment
	list, err := listJobs(c.Context, cl, f, refs)
	if err != nil {
		return fmt.Errorf("list jobs: %w", err)
	}
	if c.Bool("json") {
		return writeJSON(e.Stdout, list)
	}
	if c.Bool("start") {
		return RenderStarts(e.Stdout, list.Jobs, !c.Bool("noheader"), e.Now().Location())
	}
	view := layout.view
	view.Ctx.Now = list.Now
	if view.Ctx.Now.IsZero() {
		view.Ctx.Now = e.Now()
	}
	jobs := make([]*api.Job, len(list.Jobs))
	for i := range list.Jobs {
		jobs[i] = &list.Jobs[i]
	}
	return view.Render(e.Stdout, jobs, !c.Bool("noheader"))
}

// queueLayout is gqueue's -o, -S, -l and -r: parsed, and as typed for
// the controller, which lays out the listing itself when it can.
type queueLayout struct {
	view         *queuefmt.View
	format, sort string
}

// queueText asks the controller for the listing as text (api.PathQueueText),
// which spares a large queue's job records the trip and the decoding.
// ok is false when the client must list the jobs and lay them out
// itself: group names (%g) are resolved on this host; times of day need
// this host's time zone by name; and an older controller does not know
// the call.
func (e *Env) queueText(c *ucli.Context, cl Caller, f api.JobFilter, refs []api.JobRef, l *queueLayout) ([]byte, bool, error) {
	v := l.view
	if v.ShowsGroupNames() {
		return nil, false, nil
	}
	req := api.QueueTextRequest{Filter: f, Format: l.format, Sort: l.sort, Array: !v.Fold,
		NoHeader: c.Bool("noheader"), Date: v.Date, BitstrLen: v.Ctx.BitstrLen}
	req.Filter.Refs = refs
	if v.ShowsLocalTimes() {
		if req.TimeZone = zoneName(e.Getenv, v.Ctx.Loc, e.Now()); req.TimeZone == "" {
			return nil, false, nil
		}
	}
	var out rpc.Raw
	if err := call(c.Context, cl, api.PathQueueText, req, &out); err != nil {
		var re *api.RemoteError
		if errors.As(err, &re) && (re.Code == api.CodeNotFound || re.Code == api.CodeInvalid) {
			return nil, false, nil // the listing path reports what is wrong
		}
		return nil, false, err
	}
	return out, true, nil
}

// zoneName is the IANA name of loc, the zone gqueue prints times in, as
// the controller can load it: $TZ when it names a zone, else the target
// of /etc/localtime. It is "" when neither names one (a POSIX rule in
// $TZ, a copied zone file) or the name's zone differs from loc now.
func zoneName(getenv func(string) string, loc *time.Location, now time.Time) string {
	name := strings.TrimPrefix(getenv("TZ"), ":")
	if name == "" {
		target, err := os.Readlink("/etc/localtime")
		if err != nil {
			if !errors.Is(err, fs.ErrNotExist) {
				return ""
			}
			target = "zoneinfo/UTC" // no file: UTC, for Go as for the C library
		}
		var ok bool
		if _, name, ok = strings.Cut(target, "zoneinfo/"); !ok {
			return ""
		}
	}
	if filepath.IsAbs(name) {
		return ""
	}
	z, err := time.LoadLocation(name)
	if err != nil {
		return ""
	}
	n1, o1 := now.In(z).Zone()
	n2, o2 := now.In(loc).Zone()
	if n1 != n2 || o1 != o2 {
		return ""
	}
	return name
}

// queueLayout reads -o, -S, -l and -r, with squeue's environment variables
// SQUEUE_FORMAT and SQUEUE_SORT standing in for -o and -S.
func (e *Env) queueLayout(c *ucli.Context) (*queueLayout, error) {
	v := &queuefmt.View{Fold: !c.Bool("array"), Ctx: queuefmt.Ctx{Loc: e.Now().Location(), BitstrLen: queuefmt.BitstrLen(e.Getenv)}}
	l := &queueLayout{view: v}
	spec, from := c.String("format"), "--format"
	if !c.IsSet("format") {
		spec, from = e.Getenv("SQUEUE_FORMAT"), "$SQUEUE_FORMAT"
	}
	if !c.IsSet("format") && spec == "" && c.Bool("long") {
		spec, v.Date = queuefmt.SqueueLongFormat, true
	}
	if spec != "" || c.IsSet("format") {
		f, err := queuefmt.ParseFormat(spec)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", from, err)
		}
		v.Format, l.format = f, spec
	}
	spec, from = c.String("sort"), "--sort"
	if !c.IsSet("sort") {
		spec, from = e.Getenv("SQUEUE_SORT"), "$SQUEUE_SORT"
	}
	if spec != "" || c.IsSet("sort") {
		keys, err := queuefmt.ParseSort(spec)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", from, err)
		}
		v.Sort, l.sort = keys, spec
	}
	return l, nil
}

// RenderStarts prints pending jobs with their expected start as squeue
// --start does: JOBID PARTITION NAME USER ST START_TIME NODES REASON.
// Jobs without a reservation show N/A.
func RenderStarts(w io.Writer, jobs []api.Job, header bool, loc *time.Location) error {
	jobs = append([]api.Job(nil), jobs...)
	sort.SliceStable(jobs, func(i, k int) bool { return jobs[i].ID < jobs[k].ID })
	tw := newTable(w)
	if header {
		fmt.Fprintln(tw, "JOBID\tPARTITION\tNAME\tUSER\tST\tSTART_TIME\tNODES\tNODELIST(REASON)")
	}
	for i := range jobs {
		j := &jobs[i]
		start := "N/A"
		if !j.ExpectedStart.IsZero() {
			start = formatTime(j.ExpectedStart, loc)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", j.DisplayID(), queuefmt.Dash(j.Spec.Partition), queuefmt.Dash(j.Spec.Name),
			queuefmt.Dash(j.User), j.State.Short(), start, queuefmt.NodeCount(j), queuefmt.NodeListOrReason(j))
	}
	return tw.Flush()
}

// RenderPriorities prints pending jobs by priority with each factor
// multiplied by its weight, as sprio does.
func RenderPriorities(w io.Writer, pl api.PriorityList, header bool) error {
	tw := newTable(w)
	if header {
		fmt.Fprintln(tw, "JOBID\tPARTITION\tUSER\tACCOUNT\tPRIORITY\tAGE\tFAIRSHARE\tJOBSIZE\tPARTITION\tQOS\tNICE")
	}
	weighted := func(f float64, key string) int64 { return int64(f*float64(pl.Weights[key]) + 0.5) }
	for _, r := range pl.Rows {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\n", r.JobID, queuefmt.Dash(r.Partition), queuefmt.Dash(r.User),
			queuefmt.Dash(r.Account), r.Priority, weighted(r.Age, "age"), weighted(r.FairShare, "fairshare"),
			weighted(r.JobSize, "jobsize"), weighted(r.PartPrio, "partition"), weighted(r.QOSPrio, "qos"), r.Nice)
	}
	return tw.Flush()
}
