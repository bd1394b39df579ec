package cli

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/gsched/gsched/pkg/api"
	"github.com/gsched/gsched/pkg/queuefmt"
	"github.com/gsched/gsched/pkg/units"
)

// acctField is one sacct field gacct can print.
type acctField struct {
	Name string
	// Width is sacct's default width; negative: left-justified.
	Width int
	Value func(j *api.Job, ac *acctCtx) string
}

// acctEmpty is what sacct prints for some empty values; gacct's default
// layout prints "-" for every empty value.
var acctEmpty = map[string]string{"NodeList": "None assigned"}

// acctCtx is what the field values depend on besides the job.
type acctCtx struct {
	Loc *time.Location
}

// acctFields are sacct's fields that gsched records, with sacct's names
// and default widths.
var acctFields = []acctField{
	{"Account", 10, func(j *api.Job, _ *acctCtx) string { return j.Spec.Account }},
	{"AllocCPUS", 10, func(j *api.Job, _ *acctCtx) string { return strconv.Itoa(j.AllocTotals().CPUs) }},
	{"AllocNodes", 10, func(j *api.Job, _ *acctCtx) string { return strconv.Itoa(len(j.Allocs)) }},
	{"AllocTRES", 10, func(j *api.Job, _ *acctCtx) string { return AllocTRES(j) }},
	{"End", 19, func(j *api.Job, ac *acctCtx) string { return formatTime(j.EndTime, ac.Loc) }},
	{"Elapsed", 10, func(j *api.Job, _ *acctCtx) string { return SacctDuration(int64(acctElapsed(j) / time.Second)) }},
	{"ElapsedRaw", 10, func(j *api.Job, _ *acctCtx) string { return strconv.FormatInt(int64(acctElapsed(j)/time.Second), 10) }},
	{"ExitCode", 8, func(j *api.Job, _ *acctCtx) string { return ExitCodeString(j) }},
	{"GID", 6, func(j *api.Job, _ *acctCtx) string { return strconv.FormatUint(uint64(j.GID), 10) }},
	{"Group", 9, func(j *api.Job, _ *acctCtx) string { return queuefmt.GroupName(j.GID) }},
	{"JobID", -12, func(j *api.Job, _ *acctCtx) string { return j.DisplayID() }},
	{"JobIDRaw", -12, func(j *api.Job, _ *acctCtx) string { return j.ID.String() }},
	{"JobName", 10, func(j *api.Job, _ *acctCtx) string { return j.Spec.Name }},
	{"MaxRSS", 10, func(j *api.Job, _ *acctCtx) string { return acctMaxRSS(j) }},
	{"MaxRSSNode", 10, func(j *api.Job, _ *acctCtx) string { _, n := j.MaxRSS(); return n }},
	{"NCPUS", 10, func(j *api.Job, _ *acctCtx) string { return strconv.Itoa(j.AllocTotals().CPUs) }},
	{"NNodes", 8, func(j *api.Job, _ *acctCtx) string { return acctNodes(j) }},
	{"NodeList", 15, func(j *api.Job, _ *acctCtx) string { return j.NodeList() }},
	{"Partition", 10, func(j *api.Job, _ *acctCtx) string { return j.Spec.Partition }},
	{"Priority", 10, func(j *api.Job, _ *acctCtx) string { return strconv.FormatInt(j.Priority, 10) }},
	{"QOS", 10, func(j *api.Job, _ *acctCtx) string { return j.Spec.QOS }},
	{"Reason", 20, func(j *api.Job, _ *acctCtx) string { return queuefmt.ReasonOrNone(j.Reason) }},
	{"ReqCPUS", 10, func(j *api.Job, _ *acctCtx) string { return strconv.Itoa(j.Spec.CPUsOnNode() * j.Spec.NodeCount()) }},
	{"ReqMem", 10, func(j *api.Job, _ *acctCtx) string { return units.FormatMemory(j.Spec.MemBytes) }},
	{"ReqNodes", 8, func(j *api.Job, _ *acctCtx) string { return strconv.Itoa(j.Spec.NodeCount()) }},
	{"ReqTRES", 10, func(j *api.Job, _ *acctCtx) string { return ReqTRES(j.Spec) }},
	{"Restarts", 8, func(j *api.Job, _ *acctCtx) string { return strconv.Itoa(j.Restarts) }},
	{"Start", 19, func(j *api.Job, ac *acctCtx) string { return formatTime(j.StartTime, ac.Loc) }},
	{"State", 10, func(j *api.Job, _ *acctCtx) string { return string(j.State) }},
	{"Submit", 19, func(j *api.Job, ac *acctCtx) string { return formatTime(j.SubmitTime, ac.Loc) }},
	{"Timelimit", 10, func(j *api.Job, _ *acctCtx) string { return sacctLimit(j.Spec.TimeLimit) }},
	{"TimelimitRaw", 12, func(j *api.Job, _ *acctCtx) string { return limitMinutes(j.Spec.TimeLimit) }},
	{"UID", 6, func(j *api.Job, _ *acctCtx) string { return strconv.FormatUint(uint64(j.UID), 10) }},
	{"User", 9, func(j *api.Job, _ *acctCtx) string { return j.User }},
	{"WorkDir", 30, func(j *api.Job, _ *acctCtx) string { return j.Spec.WorkDir }},
}

// acctUnrecorded are sacct fields gsched does not record (yet): they are
// accepted, so that a SACCT_FORMAT written for Slurm keeps working, and
// print empty.
var acctUnrecorded = []string{
	"AdminComment", "AssocID", "AveCPU", "AveCPUFreq", "AveDiskRead", "AveDiskWrite", "AvePages", "AveRSS",
	"AveVMSize", "BlockID", "Cluster", "Comment", "Constraints", "ConsumedEnergy", "ConsumedEnergyRaw",
	"Container", "CPUTime", "CPUTimeRAW", "DBIndex", "DerivedExitCode", "Eligible", "Extra", "FailedNode",
	"Flags", "Layout", "Licenses", "MaxDiskRead", "MaxDiskReadNode", "MaxDiskReadTask",
	"MaxDiskWrite", "MaxDiskWriteNode", "MaxDiskWriteTask", "MaxPages", "MaxPagesNode", "MaxPagesTask",
	"MaxRSSTask", "MaxVMSize", "MaxVMSizeNode", "MaxVMSizeTask", "McsLabel", "MinCPU",
	"MinCPUNode", "MinCPUTask", "NTasks", "Planned", "PlannedCPU", "PlannedCPURAW", "QOSRAW", "ReqCPUFreq",
	"ReqCPUFreqGov", "ReqCPUFreqMax", "ReqCPUFreqMin", "Reservation", "ReservationId", "Suspended",
	"SystemComment", "SystemCPU", "TotalCPU", "TRESUsageInAve", "TRESUsageInMax", "TRESUsageInMin",
	"TRESUsageInTot", "TRESUsageOutAve", "TRESUsageOutMax", "TRESUsageOutMin", "TRESUsageOutTot",
	"UserCPU", "WCKey", "WCKeyID",
}

// The field lists of gacct's formats.
const (
	// AcctDefaultFormat is gacct's own default (sacct's is
	// "JobID,JobName,Partition,Account,AllocCPUS,State,ExitCode").
	AcctDefaultFormat = "JobID,JobName,Partition,User,State,ExitCode,Elapsed,Start,End,NodeList,AllocTRES"
	// AcctBriefFormat is sacct -b.
	AcctBriefFormat = "JobID,State,ExitCode"
	// AcctLongFormat is sacct -l, less the per-step usage gsched does not
	// record.
	AcctLongFormat = "JobID,JobIDRaw,JobName,Partition,MaxRSS,AllocCPUS,Elapsed,State,ExitCode,ReqMem,ReqTRES,AllocTRES"
)

// acctColumn is one field of a parsed sacct format.
type acctColumn struct {
	Field *acctField
	Col   queuefmt.Column
}

// AcctFormat is a parsed sacct -o format.
type AcctFormat []acctColumn

// ParseAcctFormat parses sacct's -o: a comma list of field names (any
// case; a unique prefix will do, as "node" for NodeList), each with an
// optional "%N" width (a negative N left-justifies).
func ParseAcctFormat(spec string) (AcctFormat, error) {
	var out AcctFormat
	for _, item := range strings.Split(spec, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		name, width, hasWidth := strings.Cut(item, "%")
		f, err := lookupAcctField(strings.TrimSpace(name), spec)
		if err != nil {
			return nil, err
		}
		c := acctColumn{Field: f, Col: queuefmt.Column{Width: abs(f.Width), Right: f.Width > 0}}
		if hasWidth {
			digits, neg := strings.CutPrefix(strings.TrimSpace(width), "-")
			if !isDigitsOnly(digits) {
				return nil, fmt.Errorf("invalid format %s: width %s of %s is not a number (use Name%%20)", queuefmt.ShortQuote(spec), queuefmt.ShortQuote(width), f.Name)
			}
			n, err := queuefmt.ParseWidth(digits, spec)
			if err != nil {
				return nil, err
			}
			if n > 0 { // %0 keeps the default, as sacct
				c.Col = queuefmt.Column{Width: n, Right: !neg}
			}
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("invalid format %s: no field names (e.g. JobID,State,ExitCode)", queuefmt.ShortQuote(spec))
	}
	return out, nil
}

func abs(n int) int { return max(n, -n) }

func isDigitsOnly(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// lookupAcctField finds a field by its name, or a prefix of one name.
func lookupAcctField(name, spec string) (*acctField, error) {
	var cands []*acctField
	for i := range acctFields {
		f := &acctFields[i]
		if strings.EqualFold(f.Name, name) {
			return f, nil
		}
		if len(name) > 0 && len(name) < len(f.Name) && strings.EqualFold(f.Name[:len(name)], name) {
			cands = append(cands, f)
		}
	}
	for _, n := range acctUnrecorded {
		if strings.EqualFold(n, name) {
			return &acctField{Name: n, Width: 10, Value: func(*api.Job, *acctCtx) string { return "" }}, nil
		}
	}
	switch len(cands) {
	case 1:
		return cands[0], nil
	case 0:
		return nil, fmt.Errorf("invalid format %s: unknown field %s (known: %s)", queuefmt.ShortQuote(spec), queuefmt.ShortQuote(name), acctFieldNames())
	}
	names := make([]string, len(cands))
	for i, f := range cands {
		names[i] = f.Name
	}
	return nil, fmt.Errorf("invalid format %s: field %s is ambiguous (%s)", queuefmt.ShortQuote(spec), queuefmt.ShortQuote(name), strings.Join(names, ", "))
}

func acctFieldNames() string {
	names := make([]string, len(acctFields))
	for i := range acctFields {
		names[i] = acctFields[i].Name
	}
	return strings.Join(names, ",")
}

// Parsable modes of gacct: -p and -P.
const (
	acctTable     = iota // sacct's fixed-width columns
	acctParsable         // -p: "|" after every field
	acctParsable2        // -P: "|" between fields
	acctAutoWidth        // gacct's default: aligned columns, nothing cut
)

// RenderAcctFormat prints jobs in a sacct format and mode, with the
// title line (and, for the fixed-width table, sacct's dashes) first when
// header is set.
func RenderAcctFormat(w io.Writer, jobs []api.Job, f AcctFormat, mode int, header bool, ac *acctCtx) error {
	if mode == acctAutoWidth {
		return renderAcctAuto(w, jobs, f, header, ac)
	}
	var b strings.Builder
	line := func(cell func(c *acctColumn) string) {
		for i := range f {
			s := cell(&f[i])
			switch mode {
			case acctParsable:
				b.WriteString(s + "|")
			case acctParsable2:
				if i > 0 {
					b.WriteByte('|')
				}
				b.WriteString(s)
			default:
				b.WriteString(f[i].Col.Sacct(s) + " ")
			}
		}
		b.WriteByte('\n')
	}
	if header {
		line(func(c *acctColumn) string { return c.Field.Name })
		if mode == acctTable {
			line(func(c *acctColumn) string { return strings.Repeat("-", c.Col.Width) })
		}
	}
	for i := range jobs {
		j := &jobs[i]
		line(func(c *acctColumn) string {
			if v := c.Field.Value(j, ac); v != "" {
				return v
			}
			return acctEmpty[c.Field.Name]
		})
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// renderAcctAuto is gacct's default layout: columns as wide as their
// widest value, empty values as "-".
func renderAcctAuto(w io.Writer, jobs []api.Job, f AcctFormat, header bool, ac *acctCtx) error {
	tw := newTable(w)
	row := func(cell func(c *acctColumn) string) {
		cells := make([]string, len(f))
		for i := range f {
			cells[i] = cell(&f[i])
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	if header {
		row(func(c *acctColumn) string { return c.Field.Name })
	}
	for i := range jobs {
		j := &jobs[i]
		row(func(c *acctColumn) string { return queuefmt.Dash(c.Field.Value(j, ac)) })
	}
	return tw.Flush()
}

// acctElapsed is how long a finished job ran.
func acctElapsed(j *api.Job) time.Duration {
	end := j.EndTime
	if end.IsZero() {
		end = j.StartTime
	}
	return j.Elapsed(end)
}

// acctNodes is sacct's NNodes: the nodes allocated, else asked for.
func acctNodes(j *api.Job) string {
	if n := len(j.Allocs); n > 0 {
		return strconv.Itoa(n)
	}
	return strconv.Itoa(j.Spec.NodeCount())
}

// SacctDuration renders seconds as sacct does: "HH:MM:SS", or
// "D-HH:MM:SS" from a day on.
func SacctDuration(seconds int64) string {
	seconds = max(seconds, 0)
	d, h, m, s := seconds/86400, seconds%86400/3600, seconds%3600/60, seconds%60
	if d > 0 {
		return fmt.Sprintf("%d-%02d:%02d:%02d", d, h, m, s)
	}
	return fmt.Sprintf("%02d:%02d:%02d", h, m, s)
}

// sacctLimit is sacct's Timelimit: UNLIMITED, or a duration.
func sacctLimit(seconds int64) string {
	if seconds <= 0 {
		return "UNLIMITED"
	}
	return SacctDuration(seconds)
}

// limitMinutes is sacct's TimelimitRaw: the limit in minutes.
func limitMinutes(seconds int64) string {
	if seconds <= 0 {
		return "UNLIMITED"
	}
	return strconv.FormatInt((seconds+59)/60, 10)
}

// ReqTRES is what the job asked for in sacct's ReqTRES form
// ("cpu=8,mem=64G,node=2,gres/gpu=8"), over all its nodes.
func ReqTRES(s *api.JobSpec) string {
	n := int64(s.NodeCount())
	out := fmt.Sprintf("cpu=%d", int64(s.CPUsOnNode())*n)
	if s.MemBytes > 0 {
		out += ",mem=" + units.FormatMemory(s.MemBytes*n)
	}
	out += fmt.Sprintf(",node=%d", n)
	if g := s.TotalGPUs(); g > 0 {
		out += fmt.Sprintf(",gres/gpu=%d", g)
	}
	return out
}

// acctMaxRSS is sacct's MaxRSS: the peak in KiB with a K, as sacct prints
// it, or empty while no task has reported one.
func acctMaxRSS(j *api.Job) string {
	peak, _ := j.MaxRSS()
	if peak <= 0 {
		return ""
	}
	return strconv.FormatInt((peak+1023)/1024, 10) + "K"
}
