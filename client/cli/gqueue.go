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
	return RenderQueue(e.Stdout, list.Jobs, now, !c.Bool("noheader"))
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
