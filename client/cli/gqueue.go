package cli

import (
	"fmt"
	"io"
	"sort"
	"strconv"
	"time"

	ucli "github.com/urfave/cli/v2"

	"github.com/gsched/gsched/pkg/api"
	"github.com/gsched/gsched/pkg/units"
)

func gqueueFlags() []ucli.Flag {
	return []ucli.Flag{
		&ucli.StringFlag{Name: "user", Aliases: []string{"u"}, Usage: "only jobs of these users (comma list)"},
		&ucli.StringFlag{Name: "jobs", Aliases: []string{"j"}, Usage: "only these job IDs (comma list)"},
		&ucli.StringFlag{Name: "states", Aliases: []string{"t"}, Usage: "only jobs in these states (comma list of names or codes, or all)"},
		&ucli.StringFlag{Name: "partition", Aliases: []string{"p"}, Usage: "only jobs in these partitions (comma list)"},
		&ucli.StringFlag{Name: "name", Aliases: []string{"n"}, Usage: "only jobs with these names (comma list)"},
		&ucli.BoolFlag{Name: "me", Usage: "only my jobs"},
		&ucli.BoolFlag{Name: "start", Usage: "pending jobs with their expected start times (backfill reservations)"},
		&ucli.BoolFlag{Name: "priority", Usage: "pending jobs with their priority and its weighted factors (like sprio)"},
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

// BuildJobFilter turns gqueue's options into a job filter.
func BuildJobFilter(o QueueOptions) (api.JobFilter, error) {
	var f api.JobFilter
	var err error
	f.Users = SplitList(o.Users)
	f.Partitions = SplitList(o.Partitions)
	f.Names = SplitList(o.Names)
	if f.IDs, err = ParseJobIDs([]string{o.Jobs}); err != nil {
		return f, fmt.Errorf("--jobs: %w", err)
	}
	states, all, err := ParseStates(o.States)
	if err != nil {
		return f, fmt.Errorf("--states: %w", err)
	}
	if all {
		f.IncludeFinished = true
	} else {
		f.States = states
	}
	return f, nil
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
	f, err := BuildJobFilter(QueueOptions{
		Users: c.String("user"), Jobs: c.String("jobs"), States: c.String("states"),
		Partitions: c.String("partition"), Names: c.String("name"),
	})
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
	var list api.JobList
	if err := call(c.Context, cl, api.PathListJobs, f, &list); err != nil {
		return fmt.Errorf("list jobs: %w", err)
	}
	if c.Bool("json") {
		return writeJSON(e.Stdout, list)
	}
	now := list.Now
	if now.IsZero() {
		now = e.Now()
	}
	if c.Bool("start") {
		return RenderStarts(e.Stdout, list.Jobs, !c.Bool("noheader"), e.Now().Location())
	}
	return RenderQueue(e.Stdout, list.Jobs, now, !c.Bool("noheader"))
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
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", j.ID, dash(j.Spec.Partition), dash(j.Spec.Name),
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

// RenderQueue prints jobs as squeue does, sorted by job ID:
// JOBID PARTITION NAME USER ST TIME NODES NODELIST(REASON). Pending jobs
// show their reason in parentheses in the last column.
func RenderQueue(w io.Writer, jobs []api.Job, now time.Time, header bool) error {
	jobs = append([]api.Job(nil), jobs...)
	sort.SliceStable(jobs, func(i, k int) bool { return jobs[i].ID < jobs[k].ID })
	tw := newTable(w)
	if header {
		fmt.Fprintln(tw, "JOBID\tPARTITION\tNAME\tUSER\tST\tTIME\tNODES\tNODELIST(REASON)")
	}
	for i := range jobs {
		j := &jobs[i]
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n",
			j.ID, dash(j.Spec.Partition), dash(j.Spec.Name), dash(j.User), j.State.Short(),
			units.FormatDuration(int64(j.Elapsed(now)/time.Second)), nodeCount(j), NodeListOrReason(j))
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
