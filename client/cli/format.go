package cli

import (
	"fmt"
	"io"
	"os/user"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Fixed-layout output shared by gqueue -o (squeue's %[.]<width><letter>)
// and gacct -o (sacct's Name%<width>). Widths count characters (runes),
// not bytes, so a long UTF-8 name is never cut inside a character.

// maxFieldWidth bounds a column width typed by a user (a width of a
// billion would make every line a gigabyte).
const maxFieldWidth = 1000

// column is how one field is laid out: Width 0 prints the value as it is.
type column struct {
	Width int
	Right bool
}

// squeue lays s out as squeue does: padded to Width (on the left when
// Right), and cut to its first Width characters when longer.
func (c column) squeue(s string) string {
	if c.Width <= 0 {
		return s
	}
	n := utf8.RuneCountInString(s)
	if n > c.Width {
		return cutRunes(s, c.Width)
	}
	pad := strings.Repeat(" ", c.Width-n)
	if c.Right {
		return pad + s
	}
	return s + pad
}

// sacct lays s out as sacct does: cut to Width with a '+' as its last
// character when longer, then padded to Width.
func (c column) sacct(s string) string {
	if c.Width <= 0 {
		return s
	}
	if utf8.RuneCountInString(s) > c.Width {
		s = cutRunes(s, c.Width-1) + "+"
	}
	return column{Width: c.Width, Right: c.Right}.squeue(s)
}

// cutRunes is the first n characters of s.
func cutRunes(s string, n int) string {
	if n <= 0 {
		return ""
	}
	i := 0
	for k := range s {
		if i == n {
			return s[:k]
		}
		i++
	}
	return s
}

// parseWidth parses the digits of a field width.
func parseWidth(digits, spec string) (int, error) {
	n, err := strconv.Atoi(digits)
	if err != nil || n > maxFieldWidth {
		return 0, fmt.Errorf("invalid format %s: width %s is too large (at most %d)", shortQuote(spec), shortQuote(digits), maxFieldWidth)
	}
	return n, nil
}

// shortQuote quotes what a user typed, cut to a length an error line can hold.
func shortQuote(s string) string {
	if utf8.RuneCountInString(s) > 40 {
		s = cutRunes(s, 40) + "..."
	}
	return strconv.Quote(s)
}

// queueItem is one piece of a squeue format: literal text, or a field.
type queueItem struct {
	Literal string
	Letter  byte
	Col     column
}

// QueueFormat is a parsed squeue -o format.
type QueueFormat []queueItem

// The formats squeue uses without -o, and with -l.
const (
	SqueueDefaultFormat = "%.18i %.9P %.8j %.8u %.2t %.10M %.6D %R"
	SqueueLongFormat    = "%.18i %.9P %.8j %.8u %.8T %.10M %.9l %.6D %R"
)

// ParseQueueFormat parses squeue's -o format: text with fields
// %[.|-][width]<letter>, where "." right-justifies, "-" (the default)
// left-justifies, width pads (and truncates) the value, and %% is a
// percent sign. Every letter squeue knows is accepted; those gsched has no
// data for print N/A.
func ParseQueueFormat(spec string) (QueueFormat, error) {
	if strings.TrimSpace(spec) == "" {
		return nil, fmt.Errorf("invalid format %s: it has no fields (e.g. \"%%.18i %%j %%T\")", shortQuote(spec))
	}
	var out QueueFormat
	var lit strings.Builder
	fields := 0
	for i := 0; i < len(spec); {
		if spec[i] != '%' {
			lit.WriteByte(spec[i])
			i++
			continue
		}
		j := i + 1
		if j < len(spec) && spec[j] == '%' {
			lit.WriteByte('%')
			i = j + 1
			continue
		}
		var col column
		if j < len(spec) && (spec[j] == '.' || spec[j] == '-') {
			col.Right = spec[j] == '.'
			j++
		}
		k := j
		for k < len(spec) && spec[k] >= '0' && spec[k] <= '9' {
			k++
		}
		if k > j {
			w, err := parseWidth(spec[j:k], spec)
			if err != nil {
				return nil, err
			}
			col.Width = w
		}
		if k >= len(spec) {
			return nil, fmt.Errorf("invalid format %s: %s at the end needs a field letter (use %%%% for a percent sign)", shortQuote(spec), shortQuote(spec[i:]))
		}
		c := spec[k]
		if !isLetter(c) {
			r, _ := utf8.DecodeRuneInString(spec[k:])
			return nil, fmt.Errorf("invalid format %s: unknown field %s after %s (fields are letters such as %%i %%j %%T; %%%% is a percent sign)", shortQuote(spec), strconv.QuoteRune(r), shortQuote(spec[i:k]))
		}
		if lit.Len() > 0 {
			out = append(out, queueItem{Literal: lit.String()})
			lit.Reset()
		}
		out = append(out, queueItem{Letter: c, Col: col})
		fields++
		i = k + 1
	}
	if lit.Len() > 0 {
		out = append(out, queueItem{Literal: lit.String()})
	}
	if fields == 0 {
		return nil, fmt.Errorf("invalid format %s: it has no fields (e.g. \"%%.18i %%j %%T\")", shortQuote(spec))
	}
	return out, nil
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// queueHeaders are squeue's column titles by letter.
var queueHeaders = map[byte]string{
	'a': "ACCOUNT", 'A': "JOBID", 'b': "TRES_PER_NODE", 'B': "EXEC_HOST", 'c': "MIN_CPUS", 'C': "CPUS",
	'd': "MIN_TMP_DISK", 'D': "NODES", 'e': "END_TIME", 'E': "DEPENDENCY", 'f': "FEATURES",
	'F': "ARRAY_JOB_ID", 'g': "GROUP", 'G': "GROUP", 'h': "OVER_SUBSCRIBE", 'H': "SOCKETS_PER_NODE",
	'i': "JOBID", 'I': "CORES_PER_SOCKET", 'j': "NAME", 'J': "THREADS_PER_CORE", 'k': "COMMENT",
	'K': "ARRAY_TASK_ID", 'l': "TIME_LIMIT", 'L': "TIME_LEFT", 'm': "MIN_MEMORY", 'M': "TIME",
	'n': "REQ_NODES", 'N': "NODELIST", 'o': "COMMAND", 'O': "CONTIGUOUS", 'p': "PRIORITY",
	'P': "PARTITION", 'q': "QOS", 'Q': "PRIORITY", 'r': "REASON", 'R': "NODELIST(REASON)",
	's': "SELECT_JOB_INFO", 'S': "START_TIME", 't': "ST", 'T': "STATE", 'u': "USER", 'U': "UID",
	'v': "RESERVATION", 'V': "SUBMIT_TIME", 'w': "WCKEY", 'W': "LICENSES", 'x': "EXC_NODES",
	'X': "CORE_SPEC", 'y': "NICE", 'Y': "SCHEDNODES", 'z': "S:C:T", 'Z': "WORK_DIR",
}

// header is the format's title line (literal text included, as squeue).
func (f QueueFormat) header() string {
	var b strings.Builder
	for _, it := range f {
		if it.Letter == 0 {
			b.WriteString(it.Literal)
			continue
		}
		b.WriteString(it.Col.squeue(queueHeaders[it.Letter]))
	}
	return b.String()
}

// line is one row laid out in the format.
func (f QueueFormat) line(r *queueRow, qc *queueCtx) string {
	var b strings.Builder
	for _, it := range f {
		if it.Letter == 0 {
			b.WriteString(it.Literal)
			continue
		}
		b.WriteString(it.Col.squeue(r.field(it.Letter, qc)))
	}
	return b.String()
}

// RenderQueueFormat prints rows in a squeue format, with its title line
// first when header is set.
func RenderQueueFormat(w io.Writer, rows []queueRow, f QueueFormat, header bool, qc *queueCtx) error {
	var b strings.Builder
	if header {
		b.WriteString(f.header())
		b.WriteByte('\n')
	}
	for i := range rows {
		b.WriteString(f.line(&rows[i], qc))
		b.WriteByte('\n')
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// sortKey is one item of a squeue -S spec.
type sortKey struct {
	Letter byte
	Desc   bool
}

// ParseQueueSort parses squeue's -S spec: a comma list of field letters
// (those of -o), each optionally prefixed by "-" (descending) or "+".
func ParseQueueSort(spec string) ([]sortKey, error) {
	var out []sortKey
	for _, item := range strings.Split(spec, ",") {
		s := strings.TrimSpace(item)
		if s == "" {
			continue
		}
		k := sortKey{}
		switch s[0] {
		case '-':
			k.Desc, s = true, s[1:]
		case '+':
			s = s[1:]
		}
		if len(s) != 1 || !isLetter(s[0]) {
			return nil, fmt.Errorf("invalid sort %s: %s is not a field letter with an optional - or + (e.g. \"-t,P,i\")", shortQuote(spec), shortQuote(strings.TrimSpace(item)))
		}
		k.Letter = s[0]
		out = append(out, k)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("invalid sort %s: no field letters (e.g. \"-t,P,i\")", shortQuote(spec))
	}
	return out, nil
}

// timeOrNA is squeue's time format; zero times print N/A.
func timeOrNA(t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return "N/A"
	}
	return t.In(loc).Format("2006-01-02T15:04:05")
}

// groupName is the name of a group ID on this host, else the number.
func groupName(gid uint32) string {
	id := strconv.FormatUint(uint64(gid), 10)
	if g, err := user.LookupGroupId(id); err == nil {
		return g.Name
	}
	return id
}
