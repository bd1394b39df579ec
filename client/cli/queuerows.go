package cli

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

// queueRow is one line of gqueue: a job, or pending tasks of one array
// folded together ("123_[5-99%4]").
type queueRow struct {
	Job *api.Job // the job, or the folded task with the lowest index
	// Tasks are the folded task indices, ascending; nil for a single job.
	Tasks []int
	// Throttle is the array's %N limit, shown after folded tasks.
	Throttle int
}

// queueCtx is what the field values depend on besides the job.
type queueCtx struct {
	Now time.Time
	Loc *time.Location
	// BitstrLen bounds a folded task list (squeue's SLURM_BITSTR_LEN,
	// default 64); 0 or less: no bound.
	BitstrLen int
}

// defaultBitstrLen is squeue's default SLURM_BITSTR_LEN.
const defaultBitstrLen = 64

// bitstrLen reads SLURM_BITSTR_LEN as squeue does.
func bitstrLen(getenv func(string) string) int {
	if v := getenv("SLURM_BITSTR_LEN"); v != "" {
		if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil {
			return n
		}
	}
	return defaultBitstrLen
}

// QueueRows turns jobs into gqueue's rows. With fold, the pending tasks of
// each array that share a reason become one row, as squeue shows them;
// running and finished tasks, and a pending task alone, keep a row each.
// Rows come in the order of their first job.
func QueueRows(jobs []api.Job, fold bool) []queueRow {
	type key struct {
		array  api.JobID
		reason string
	}
	groups := map[key]int{} // index in rows
	var rows []queueRow
	for i := range jobs {
		j := &jobs[i]
		if !fold || !j.IsArrayTask() || j.State != api.StatePending {
			rows = append(rows, queueRow{Job: j})
			continue
		}
		k := key{j.ArrayJobID, reasonOrNone(j.Reason)}
		if g, ok := groups[k]; ok {
			r := &rows[g]
			r.Tasks = append(r.Tasks, j.ArrayTaskID)
			if j.ArrayTaskID < r.Job.ArrayTaskID {
				r.Job = j
			}
			continue
		}
		groups[k] = len(rows)
		rows = append(rows, queueRow{Job: j, Tasks: []int{j.ArrayTaskID}, Throttle: arrayThrottle(j.Spec.Array)})
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
func (r *queueRow) taskString(qc *queueCtx) string {
	s := CompressTasks(r.Tasks, qc.BitstrLen)
	if r.Throttle > 0 {
		s += "%" + strconv.Itoa(r.Throttle)
	}
	return s
}

// displayID is squeue's %i: "123_[5-99%4]", "123_7" or "42".
func (r *queueRow) displayID(qc *queueCtx) string {
	if r.Tasks != nil {
		return fmt.Sprintf("%d_[%s]", uint64(r.Job.ArrayJobID), r.taskString(qc))
	}
	return r.Job.DisplayID()
}

func reasonOrNone(r string) string {
	if r == "" {
		return api.ReasonNone
	}
	return r
}

// field is the value of one squeue letter for the row.
func (r *queueRow) field(letter byte, qc *queueCtx) string {
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
		return dash(j.Spec.Partition)
	case 'j':
		return dash(j.Spec.Name)
	case 'u':
		return dash(j.User)
	case 'U':
		return strconv.FormatUint(uint64(j.UID), 10)
	case 'G':
		return strconv.FormatUint(uint64(j.GID), 10)
	case 'g':
		return groupName(j.GID)
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
		return nodeCount(j)
	case 'R':
		return NodeListOrReason(j)
	case 'r':
		if j.State == api.StatePending || j.State.Final() {
			return reasonOrNone(j.Reason)
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
		return strconv.FormatInt(j.Priority, 10)
	case 'p':
		return strconv.FormatFloat(float64(max(j.Priority, 0))/float64(1<<32-1), 'f', 8, 64)
	case 'y':
		return strconv.Itoa(j.Spec.Nice)
	case 'S':
		if j.StartTime.IsZero() {
			return timeOrNA(j.ExpectedStart, qc.Loc)
		}
		return timeOrNA(j.StartTime, qc.Loc)
	case 'e':
		return timeOrNA(endTime(j), qc.Loc)
	case 'V':
		return timeOrNA(j.SubmitTime, qc.Loc)
	case 'a':
		return dash(j.Spec.Account)
	case 'q':
		return dash(j.Spec.QOS)
	case 'Z':
		return dash(j.Spec.WorkDir)
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
func endTime(j *api.Job) time.Time {
	switch {
	case !j.EndTime.IsZero():
		return j.EndTime
	case !j.StartTime.IsZero():
		return j.Deadline
	case !j.ExpectedStart.IsZero() && j.Spec.TimeLimit > 0:
		return j.ExpectedStart.Add(j.TimeLimitDuration())
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
func compareRows(a, b *queueRow, letter byte, qc *queueCtx) int {
	ja, jb := a.Job, b.Job
	switch letter {
	case 'i', 'F', 'K':
		return compareIDs(a, b)
	case 'A':
		return cmp.Compare(ja.ID, jb.ID)
	case 't', 'T':
		return cmp.Compare(stateOrder(ja.State), stateOrder(jb.State))
	case 'p', 'Q':
		return cmp.Compare(ja.Priority, jb.Priority)
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
		return compareTimes(startOrExpected(ja), startOrExpected(jb))
	case 'e':
		return compareTimes(endTime(ja), endTime(jb))
	case 'V':
		return compareTimes(ja.SubmitTime, jb.SubmitTime)
	}
	return strings.Compare(a.field(letter, qc), b.field(letter, qc))
}

// compareIDs orders rows by array (or job) ID, then task.
func compareIDs(a, b *queueRow) int {
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

func startOrExpected(j *api.Job) time.Time {
	if j.StartTime.IsZero() {
		return j.ExpectedStart
	}
	return j.StartTime
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

// SortQueueRows sorts rows by the keys in order, then by job ID (and
// task); with no keys, by job ID only.
func SortQueueRows(rows []queueRow, keys []sortKey, qc *queueCtx) {
	slices.SortStableFunc(rows, func(a, b queueRow) int {
		for _, k := range keys {
			c := compareRows(&a, &b, k.Letter, qc)
			if k.Desc {
				c = -c
			}
			if c != 0 {
				return c
			}
		}
		if c := compareIDs(&a, &b); c != 0 {
			return c
		}
		return cmp.Compare(a.Job.ID, b.Job.ID)
	})
}
