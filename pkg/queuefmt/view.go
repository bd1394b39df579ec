package queuefmt

import (
	"bytes"
	"io"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/gsched/gsched/pkg/api"
)

// View is how gqueue lays out its rows: format, sort, folding.
type View struct {
	Format Format // nil: the aligned default table
	Sort   []SortKey
	Fold   bool
	// Date prints the time first (squeue -l).
	Date bool
	Ctx  Ctx
	// Planner, when set, gives pending jobs' latest plans (Rows).
	Planner Planner
}

// Render prints jobs as the view says.
func (v *View) Render(w io.Writer, jobs []*api.Job, header bool) error {
	_, err := w.Write(v.Text(jobs, header))
	return err
}

// Text is the listing Render prints.
func (v *View) Text(jobs []*api.Job, header bool) []byte {
	rows := Rows(jobs, v.Fold, v.Planner)
	SortRows(rows, v.Sort, &v.Ctx)
	if v.Format == nil {
		return tableText(rows, header, &v.Ctx)
	}
	var b bytes.Buffer
	if v.Date && header {
		b.WriteString(v.Ctx.Now.In(v.Ctx.Loc).Format(time.ANSIC))
		b.WriteByte('\n')
	}
	writeFormat(&b, rows, v.Format, header, &v.Ctx)
	return b.Bytes()
}

// ShowsLocalTimes reports whether the view prints times of day, which
// depend on the reader's time zone: the letters S, e and V, and the date
// line of -l.
func (v *View) ShowsLocalTimes() bool {
	return v.Date || v.Format.has('S', 'e', 'V')
}

// ShowsGroupNames reports whether the view prints or sorts by group names
// (%g), which the reader's host resolves from its group database.
func (v *View) ShowsGroupNames() bool {
	if v.Format.has('g') {
		return true
	}
	for _, k := range v.Sort {
		if k.Letter == 'g' {
			return true
		}
	}
	return false
}

// RenderQueue prints jobs as squeue does, sorted by job ID, with the
// pending tasks of each array folded into one row: JOBID PARTITION NAME
// USER ST TIME NODES NODELIST(REASON). Pending jobs show their reason in
// parentheses in the last column.
func RenderQueue(w io.Writer, jobs []*api.Job, now time.Time, header bool) error {
	v := View{Fold: true, Ctx: Ctx{Now: now, Loc: now.Location(), BitstrLen: DefaultBitstrLen}}
	return v.Render(w, jobs, header)
}

// tableLetters are the default table's columns (squeue's default
// format, in columns as wide as their widest value), and tableHeader
// their titles.
const tableLetters = "iPjutMDR"

var tableHeader = [len(tableLetters)]string{"JOBID", "PARTITION", "NAME", "USER", "ST", "TIME", "NODES", "NODELIST(REASON)"}

// tablePadding separates the default table's columns.
const tablePadding = 2

// tableText lays out the default table: every column but the last as
// wide as its widest value (in characters) plus two spaces, as
// text/tabwriter lays it out, in two passes over the cells (a 100,000-row
// queue goes through tabwriter's per-cell bookkeeping five times slower).
func tableText(rows []Row, header bool, qc *Ctx) []byte {
	const n = len(tableLetters)
	lines := len(rows)
	first := 0
	if header {
		lines++
		first = 1
	}
	cells := make([]string, lines*n)
	if header {
		copy(cells, tableHeader[:])
	}
	for i := range rows {
		c := cells[(first+i)*n : (first+i+1)*n]
		for k := range c {
			c[k] = rows[i].field(tableLetters[k], qc)
		}
	}
	// Each cell's width in characters, once; the columns' widths; and
	// the text's exact size, for one buffer.
	cw := make([]int32, lines*(n-1))
	var widths [n - 1]int
	size := 0
	for l := 0; l < lines; l++ {
		for k := range widths {
			c := cells[l*n+k]
			x := runeLen(c)
			cw[l*(n-1)+k] = int32(x)
			widths[k] = max(widths[k], x)
			size += len(c) - x // bytes beyond one per character
		}
		size += len(cells[l*n+n-1]) + 1
	}
	for _, x := range widths {
		size += lines * (x + tablePadding)
	}
	out := make([]byte, 0, size)
	for l := 0; l < lines; l++ {
		c := cells[l*n : (l+1)*n]
		for k, x := range widths {
			out = append(out, c[k]...)
			for range x + tablePadding - int(cw[l*(n-1)+k]) {
				out = append(out, ' ')
			}
		}
		out = append(out, c[n-1]...)
		out = append(out, '\n')
	}
	return out
}

// runeLen counts the characters of s, quickly when it is ASCII.
func runeLen(s string) int {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return utf8.RuneCountInString(s)
		}
	}
	return len(s)
}

// NodeListOrReason is squeue's last Column: the nodes of a job that has
// them, else its reason in parentheses.
func NodeListOrReason(j *api.Job) string { return nodeListOrReason(j, j.Reason) }

func nodeListOrReason(j *api.Job, reason string) string {
	if j.State != api.StatePending {
		if nl := j.NodeList(); nl != "" {
			return nl
		}
	}
	switch reason {
	case "", api.ReasonNone:
		return "(" + api.ReasonNone + ")"
	case api.ReasonHeld:
		return "(" + api.ReasonHeld + ")" // a constant: no allocation
	}
	return "(" + reason + ")"
}

// NodeCount is squeue's %D: the nodes the job has or asks for.
func NodeCount(j *api.Job) string {
	n := j.Spec.Nodes
	if n < 1 {
		n = 1
	}
	return strconv.Itoa(n)
}

// Dash stands for an empty value, as squeue prints it.
func Dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
