package cli

import (
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	ucli "github.com/urfave/cli/v2"

	"github.com/gsched/gsched/pkg/api"
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
	view, err := e.queueView(c)
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
	view.ctx.Now = list.Now
	if view.ctx.Now.IsZero() {
		view.ctx.Now = e.Now()
	}
	return view.render(e.Stdout, list.Jobs, !c.Bool("noheader"))
}

// queueView is how gqueue lays out its rows: format, sort, folding.
type queueView struct {
	format QueueFormat // nil: the aligned default table
	sort   []sortKey
	fold   bool
	// date prints the time first (squeue -l).
	date bool
	ctx  queueCtx
}

// queueView reads -o, -S, -l and -r, with squeue's environment variables
// SQUEUE_FORMAT and SQUEUE_SORT standing in for -o and -S.
func (e *Env) queueView(c *ucli.Context) (*queueView, error) {
	v := &queueView{fold: !c.Bool("array"), ctx: queueCtx{Loc: e.Now().Location(), BitstrLen: bitstrLen(e.Getenv)}}
	spec, from := c.String("format"), "--format"
	if !c.IsSet("format") {
		spec, from = e.Getenv("SQUEUE_FORMAT"), "$SQUEUE_FORMAT"
	}
	if !c.IsSet("format") && spec == "" && c.Bool("long") {
		spec, v.date = SqueueLongFormat, true
	}
	if spec != "" || c.IsSet("format") {
		f, err := ParseQueueFormat(spec)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", from, err)
		}
		v.format = f
	}
	spec, from = c.String("sort"), "--sort"
	if !c.IsSet("sort") {
		spec, from = e.Getenv("SQUEUE_SORT"), "$SQUEUE_SORT"
	}
	if spec != "" || c.IsSet("sort") {
		keys, err := ParseQueueSort(spec)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", from, err)
		}
		v.sort = keys
	}
	return v, nil
}

// render prints jobs as the view says.
func (v *queueView) render(w io.Writer, jobs []api.Job, header bool) error {
	rows := QueueRows(jobs, v.fold)
	SortQueueRows(rows, v.sort, &v.ctx)
	if v.format == nil {
		return renderQueueTable(w, rows, header, &v.ctx)
	}
	if v.date && header {
		fmt.Fprintln(w, v.ctx.Now.In(v.ctx.Loc).Format(time.ANSIC))
	}
	return RenderQueueFormat(w, rows, v.format, header, &v.ctx)
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
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", j.DisplayID(), dash(j.Spec.Partition), dash(j.Spec.Name),
			dash(j.User), j.State.Short(), start, nodeCount(j), NodeListOrReason(j))
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
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\n", r.JobID, dash(r.Partition), dash(r.User),
			dash(r.Account), r.Priority, weighted(r.Age, "age"), weighted(r.FairShare, "fairshare"),
			weighted(r.JobSize, "jobsize"), weighted(r.PartPrio, "partition"), weighted(r.QOSPrio, "qos"), r.Nice)
	}
	return tw.Flush()
}

// RenderQueue prints jobs as squeue does, sorted by job ID, with the
// pending tasks of each array folded into one row: JOBID PARTITION NAME
// USER ST TIME NODES NODELIST(REASON). Pending jobs show their reason in
// parentheses in the last column.
func RenderQueue(w io.Writer, jobs []api.Job, now time.Time, header bool) error {
	v := queueView{fold: true, ctx: queueCtx{Now: now, Loc: now.Location(), BitstrLen: defaultBitstrLen}}
	return v.render(w, jobs, header)
}

// queueTableLetters are the default table's columns (squeue's default
// format, in columns as wide as their widest value).
const queueTableLetters = "iPjutMDR"

func renderQueueTable(w io.Writer, rows []queueRow, header bool, qc *queueCtx) error {
	tw := newTable(w)
	if header {
		fmt.Fprintln(tw, "JOBID\tPARTITION\tNAME\tUSER\tST\tTIME\tNODES\tNODELIST(REASON)")
	}
	cells := make([]string, len(queueTableLetters))
	for i := range rows {
		for k := range queueTableLetters {
			cells[k] = rows[i].field(queueTableLetters[k], qc)
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	return tw.Flush()
}

// NodeListOrReason is squeue's last column: the nodes of a job that has
// them, else its reason in parentheses.
func NodeListOrReason(j *api.Job) string {
	if nl := j.NodeList(); nl != "" && j.State != api.StatePending {
		return nl
	}
	r := j.Reason
	if r == "" {
		r = api.ReasonNone
	}
	return "(" + r + ")"
}

func nodeCount(j *api.Job) string {
	n := j.Spec.Nodes
	if n < 1 {
		n = 1
	}
	return strconv.Itoa(n)
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
