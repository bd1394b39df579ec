package queuefmt

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gsched/gsched/pkg/api"
	"github.com/gsched/gsched/pkg/units"
)

// Row is one line of gqueue: a job, or pending tasks of one array
// folded together ("123_[5-99%4]").
type Row struct {
	Job *api.Job // the job, or the folded task with the lowest index
	// Tasks are the folded task indices, ascending; nil for a single job.
	Tasks []int
	// Throttle is the array's %N limit, shown after folded tasks.
	Throttle int
	// plan is the latest scheduling pass's reason, expected start and
	// priority for the job (see Rows); nil: its record's.
	plan *Plan
}

// reason, expectedStart and priority are the job's, as its plan says.
func (r *Row) reason() string {
	if r.plan != nil {
		return r.plan.Reason
	}
	return r.Job.Reason
}

func (r *Row) expectedStart() time.Time {
	if r.plan != nil {
		return r.plan.ExpectedStart
	}
	return r.Job.ExpectedStart
}

func (r *Row) priority() int64 {
	if r.plan != nil {
		return r.plan.Priority
	}
	return r.Job.Priority
}

// Plan is what the latest scheduling pass says of a pending job, newer
// than its record: why it waits, when it is expected to start, and its
// priority now.
type Plan struct {
	Reason        string
	ExpectedStart time.Time
	Priority      int64
}

// Planner returns the latest pass's plan for a pending job, if any: the
// controller keeps it beside the job records rather than in them.
type Planner func(j *api.Job) (Plan, bool)

// planOf is the planner's plan for j, nil when it has none.
func planOf(j *api.Job, planner Planner) *Plan {
	if planner != nil && j.State == api.StatePending {
		if p, ok := planner(j); ok {
			return &p
		}
	}
	return nil
}

// Ctx is what the field values depend on besides the job.
type Ctx struct {
	Now time.Time
	Loc *time.Location
	// BitstrLen bounds a folded task list (squeue's SLURM_BITSTR_LEN,
	// default 64); 0 or less: no bound.
	BitstrLen int
}

// DefaultBitstrLen is squeue's default SLURM_BITSTR_LEN.
const DefaultBitstrLen = 64

// BitstrLen reads SLURM_BITSTR_LEN as squeue does.
func BitstrLen(getenv func(string) string) int {
	if v := getenv("SLURM_BITSTR_LEN"); v != "" {
		if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil {
			return n
		}
	}
	return DefaultBitstrLen
}

// Rows turns jobs into gqueue's rows. With fold, the pending tasks of
// each array that share a reason become one row, as squeue shows them;
// running and finished tasks, and a pending task alone, keep a row each.
// Rows come in the order of their first job. planner, when not nil,
// gives pending jobs' plans.
func Rows(jobs []*api.Job, fold bool, planner Planner) []Row {
	type key struct {
		array  api.JobID
		reason string
	}
	groups := map[key]int{} // index in rows
	rows := make([]Row, 0, len(jobs))
	for i := range jobs {
		j := jobs[i]
		row := Row{Job: j, plan: planOf(j, planner)}
		if !fold || !j.IsArrayTask() || j.State != api.StatePending {
			rows = append(rows, row)
			continue
		}
		k := key{j.ArrayJobID, ReasonOrNone(row.reason())}
		if g, ok := groups[k]; ok {
			r := &rows[g]
			r.Tasks = append(r.Tasks, j.ArrayTaskID)
			if j.ArrayTaskID < r.Job.ArrayTaskID {
				r.Job, r.plan = j, row.plan
			}
			continue
		}
		groups[k] = len(rows)
		row.Tasks, row.Throttle = []int{j.ArrayTaskID}, arrayThrottle(j.Spec.Array)
		rows = append(rows, row)
	}
	for i := range rows {
		r := &rows[i]
		switch len(r.Tasks) {
		case 0:
		case 1:
			r.Tasks, r.Throttle = nil, 0
		default:
			slices.Sort(r.Tasks)
			r.Tasks = slices.Compact(r.Tasks)
		}
	}
	return rows
}

// arrayThrottle is the N of an array spec's "%N" suffix, 0 when none.
func arrayThrottle(spec string) int {
	i := strings.LastIndexByte(spec, '%')
	if i < 0 {
		return 0
	}
	n, err := strconv.Atoi(strings.TrimSpace(spec[i+1:]))
	if err != nil || n < 1 {
		return 0
	}
	return n
}

// CompressTasks writes ascending task indices as Slurm does: runs as
// ranges, "1,3,5-7". Past limit characters (when limit > 0) the list is
// cut after a whole item and ends with "...".
func CompressTasks(ids []int, limit int) string {
	var b strings.Builder
	for i := 0; i < len(ids); {
		k := i
		for k+1 < len(ids) && ids[k+1] == ids[k]+1 {
			k++
		}
		item := strconv.Itoa(ids[i])
		if k > i {
			item += "-" + strconv.Itoa(ids[k])
		}
		sep := ""
		if b.Len() > 0 {
			sep = ","
		}
		if limit > 0 && b.Len()+len(sep)+len(item) > limit && b.Len() > 0 {
			b.WriteString(",...")
			break
		}
		b.WriteString(sep + item)
		i = k + 1
	}
	return b.String()
}

// taskString is a folded row's task expression: "5-99%4".
func (r *Row) taskString(qc *Ctx) string {
	s := CompressTasks(r.Tasks, qc.BitstrLen)
	if r.Throttle > 0 {
		s += "%" + strconv.Itoa(r.Throttle)
	}
	return s
}

// displayID is squeue's %i: "123_[5-99%4]", "123_7" or "42".
func (r *Row) displayID(qc *Ctx) string {
	if r.Tasks != nil {
		return fmt.Sprintf("%d_[%s]", uint64(r.Job.ArrayJobID), r.taskString(qc))
	}
	return r.Job.DisplayID()
}

// ReasonOrNone is a reason as squeue shows it: None when empty.
func ReasonOrNone(r string) string {
	if r == "" {
		return api.ReasonNone
	}
	return r
}

// field is the value of one squeue letter for the row.
func (r *Row) field(letter byte, qc *Ctx) string {
	j := r.Job
	switch letter {
	case 'i':
		return r.displayID(qc)
	case 'A':
		if r.Tasks != nil {
			return j.ArrayJobID.String()
		}
		return j.ID.String()
	case 'F':
		if j.IsArrayTask() {
			return j.ArrayJobID.String()
		}
		return j.ID.String()
	case 'K':
		switch {
		case r.Tasks != nil:
			return r.taskString(qc)
		case j.IsArrayTask():
			return strconv.Itoa(j.ArrayTaskID)
		}
		return "N/A"
	case 'P':
		return Dash(j.Spec.Partition)
	case 'j':
		return Dash(j.Spec.Name)
	case 'u':
		return Dash(j.User)
	case 'U':
		return strconv.FormatUint(uint64(j.UID), 10)
	case 'G':
		return strconv.FormatUint(uint64(j.GID), 10)
	case 'g':
		return GroupName(j.GID)
	case 'T':
		return string(j.State)
	case 't':
		return j.State.Short()
	case 'M':
		return units.FormatDuration(int64(j.Elapsed(qc.Now) / time.Second))
	case 'l':
		return units.FormatTimeLimit(j.Spec.TimeLimit)
	case 'L':
		return timeLeft(j, qc.Now)
	case 'D':
		return NodeCount(j)
	case 'R':
		return nodeListOrReason(j, r.reason())
	case 'r':
		if j.State == api.StatePending || j.State.Final() {
			return ReasonOrNone(r.reason())
		}
		return api.ReasonNone
	case 'N':
		return j.NodeList()
	case 'b':
		return tresPerNode(j)
	case 'C':
		return strconv.Itoa(jobCPUs(j))
	case 'c':
		return strconv.Itoa(j.Spec.CPUsOnNode())
	case 'm':
		return units.FormatMemory(j.Spec.MemBytes)
	case 'Q':
		return strconv.FormatInt(r.priority(), 10)
	case 'p':
		return strconv.FormatFloat(float64(max(r.priority(), 0))/float64(1<<32-1), 'f', 8, 64)
	case 'y':
		return strconv.Itoa(j.Spec.Nice)
	case 'S':
		if j.StartTime.IsZero() {
			return TimeOrNA(r.expectedStart(), qc.Loc)
		}
		return TimeOrNA(j.StartTime, qc.Loc)
	case 'e':
		return TimeOrNA(r.endTime(), qc.Loc)
	case 'V':
		return TimeOrNA(j.SubmitTime, qc.Loc)
	case 'a':
		return Dash(j.Spec.Account)
	case 'q':
		return Dash(j.Spec.QOS)
	case 'Z':
		return Dash(j.Spec.WorkDir)
	case 'E':
		return nullIfEmpty(j.Spec.Dependency)
	case 'f':
		return nullIfEmpty(j.Spec.Constraint)
	case 'h':
		if j.Spec.Exclusive {
			return "NO"
		}
		return "OK"
	case 'B':
		if h := j.Head(); h != nil {
			return h.Node
		}
		return "n/a"
	}
	return "N/A"
}

func nullIfEmpty(s string) string {
	if s == "" {
		return "(null)"
	}
	return s
}

// jobCPUs is the job's CPUs: allocated when it holds some, else asked for.
func jobCPUs(j *api.Job) int {
	if len(j.Allocs) > 0 {
		return j.AllocTotals().CPUs
	}
	return j.Spec.CPUsOnNode() * j.Spec.NodeCount()
}

// tresPerNode is squeue's %b: the GPUs per node as "gres/gpu:4" (with the
// type, "gres/gpu:h100:4"), N/A without GPUs.
func tresPerNode(j *api.Job) string {
	n := j.Spec.GPUsOnNode()
	if n <= 0 {
		return "N/A"
	}
	if t := j.Spec.GPUType; t != "" {
		return fmt.Sprintf("gres/gpu:%s:%d", t, n)
	}
	return fmt.Sprintf("gres/gpu:%d", n)
}

// endTime is when the job ended, or is expected to: its deadline when
// running, its expected start plus limit when pending with a reservation.
func (r *Row) endTime() time.Time {
	j := r.Job
	switch {
	case !j.EndTime.IsZero():
		return j.EndTime
	case !j.StartTime.IsZero():
		return j.Deadline
	case !r.expectedStart().IsZero() && j.Spec.TimeLimit > 0:
		return r.expectedStart().Add(j.TimeLimitDuration())
	}
	return time.Time{}
}

// timeLeft is squeue's %L: limit minus time used, UNLIMITED without one.
func timeLeft(j *api.Job, now time.Time) string {
	if j.Spec.TimeLimit <= 0 {
		return "UNLIMITED"
	}
	return units.FormatDuration(j.Spec.TimeLimit - int64(j.Elapsed(now)/time.Second))
}

// stateOrder ranks states as squeue's -S t does: by life cycle.
func stateOrder(s api.JobState) int {
	if i := slices.Index(api.AllJobStates, s); i >= 0 {
		return i
	}
	return len(api.AllJobStates)
}

// compareRows compares two rows on one letter.
func compareRows(a, b *Row, letter byte, qc *Ctx) int {
	ja, jb := a.Job, b.Job
	switch letter {
	case 'i', 'F', 'K':
		return compareIDs(a, b)
	case 'A':
		return cmp.Compare(ja.ID, jb.ID)
	case 't', 'T':
		return cmp.Compare(stateOrder(ja.State), stateOrder(jb.State))
	case 'p', 'Q':
		return cmp.Compare(a.priority(), b.priority())
	case 'M':
		return cmp.Compare(ja.Elapsed(qc.Now), jb.Elapsed(qc.Now))
	case 'l':
		return cmp.Compare(limitOrder(ja), limitOrder(jb))
	case 'D':
		return cmp.Compare(ja.Spec.NodeCount(), jb.Spec.NodeCount())
	case 'C':
		return cmp.Compare(jobCPUs(ja), jobCPUs(jb))
	case 'c':
		return cmp.Compare(ja.Spec.CPUsOnNode(), jb.Spec.CPUsOnNode())
	case 'm':
		return cmp.Compare(ja.Spec.MemBytes, jb.Spec.MemBytes)
	case 'U':
		return cmp.Compare(ja.UID, jb.UID)
	case 'G':
		return cmp.Compare(ja.GID, jb.GID)
	case 'y':
		return cmp.Compare(ja.Spec.Nice, jb.Spec.Nice)
	case 'S':
		return compareTimes(a.startOrExpected(), b.startOrExpected())
	case 'e':
		return compareTimes(a.endTime(), b.endTime())
	case 'V':
		return compareTimes(ja.SubmitTime, jb.SubmitTime)
	}
	return strings.Compare(a.field(letter, qc), b.field(letter, qc))
}

// compareIDs orders rows by array (or job) ID, then task.
func compareIDs(a, b *Row) int {
	ida, idb := a.Job.ID, b.Job.ID
	if a.Job.IsArrayTask() {
		ida = a.Job.ArrayJobID
	}
	if b.Job.IsArrayTask() {
		idb = b.Job.ArrayJobID
	}
	if c := cmp.Compare(ida, idb); c != 0 {
		return c
	}
	return cmp.Compare(a.Job.ArrayTaskID, b.Job.ArrayTaskID)
}

func limitOrder(j *api.Job) int64 {
	if j.Spec.TimeLimit <= 0 {
		return 1 << 62 // unlimited sorts last
	}
	return j.Spec.TimeLimit
}

func (r *Row) startOrExpected() time.Time {
	if r.Job.StartTime.IsZero() {
		return r.expectedStart()
	}
	return r.Job.StartTime
}

// compareTimes orders times with unknown (zero) ones last.
func compareTimes(a, b time.Time) int {
	switch {
	case a.IsZero() && b.IsZero():
		return 0
	case a.IsZero():
		return 1
	case b.IsZero():
		return -1
	}
	return a.Compare(b)
}

// SortRows sorts rows by the keys in order, then by job ID (and
// task); with no keys, by job ID only.
func SortRows(rows []Row, keys []SortKey, qc *Ctx) {
	order := func(a, b *Row) int {
		for _, k := range keys {
			c := compareRows(a, b, k.Letter, qc)
			if k.Desc {
				c = -c
			}
			if c != 0 {
				return c
			}
		}
		if c := compareIDs(a, b); c != 0 {
			return c
		}
		return cmp.Compare(a.Job.ID, b.Job.ID)
	}
	// A listing mostly comes in job ID order already (the controller's
	// indexes are): check that in one pass before sorting.
	sorted := true
	for i := 1; i < len(rows) && sorted; i++ {
		sorted = order(&rows[i-1], &rows[i]) <= 0
	}
	if sorted {
		return
	}
	// The order is total (job IDs are unique), so an unstable sort does;
	// it sorts indices, not the rows themselves.
	idx := make([]int32, len(rows))
	for i := range idx {
		idx[i] = int32(i)
	}
	slices.SortFunc(idx, func(a, b int32) int { return order(&rows[a], &rows[b]) })
	out := make([]Row, len(rows))
	for i, k := range idx {
		out[i] = rows[k]
	}
	copy(rows, out)
}
