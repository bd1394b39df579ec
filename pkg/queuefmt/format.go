package queuefmt

import (
	"bytes"
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

// MaxFieldWidth bounds a column width typed by a user (a width of a
// billion would make every line a gigabyte).
const MaxFieldWidth = 1000

// Column is how one field is laid out: Width 0 prints the value as it is.
type Column struct {
	Width int
	Right bool
}

// squeue lays s out as squeue does: padded to Width (on the left when
// Right), and cut to its first Width characters when longer.
func (c Column) Squeue(s string) string {
	if c.Width <= 0 {
		return s
	}
	n := utf8.RuneCountInString(s)
	if n > c.Width {
		return CutRunes(s, c.Width)
	}
	pad := strings.Repeat(" ", c.Width-n)
	if c.Right {
		return pad + s
	}
	return s + pad
}

// sacct lays s out as sacct does: cut to Width with a '+' as its last
// character when longer, then padded to Width.
func (c Column) Sacct(s string) string {
	if c.Width <= 0 {
		return s
	}
	if utf8.RuneCountInString(s) > c.Width {
		s = CutRunes(s, c.Width-1) + "+"
	}
	return Column{Width: c.Width, Right: c.Right}.Squeue(s)
}

// CutRunes is the first n characters of s.
func CutRunes(s string, n int) string {
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

// ParseWidth parses the digits of a field width.
func ParseWidth(digits, spec string) (int, error) {
	n, err := strconv.Atoi(digits)
	if err != nil || n > MaxFieldWidth {
		return 0, fmt.Errorf("invalid format %s: width %s is too large (at most %d)", ShortQuote(spec), ShortQuote(digits), MaxFieldWidth)
	}
	return n, nil
}

// ShortQuote quotes what a user typed, cut to a length an error line can hold.
func ShortQuote(s string) string {
	if utf8.RuneCountInString(s) > 40 {
		s = CutRunes(s, 40) + "..."
	}
	return strconv.Quote(s)
}

// item is one piece of a squeue format: literal text, or a field.
type item struct {
	Literal string
	Letter  byte
	Col     Column
}

// Format is a parsed squeue -o format.
type Format []item

// The formats squeue uses without -o, and with -l.
const (
	SqueueDefaultFormat = "%.18i %.9P %.8j %.8u %.2t %.10M %.6D %R"
	SqueueLongFormat    = "%.18i %.9P %.8j %.8u %.8T %.10M %.9l %.6D %R"
)

// ParseFormat parses squeue's -o format: text with fields
// %[.|-][width]<letter>, where "." right-justifies, "-" (the default)
// left-justifies, width pads (and truncates) the value, and %% is a
// percent sign. Every letter squeue knows is accepted; those gsched has no
// data for print N/A.
func ParseFormat(spec string) (Format, error) {
	if strings.TrimSpace(spec) == "" {
		return nil, fmt.Errorf("invalid format %s: it has no fields (e.g. \"%%.18i %%j %%T\")", ShortQuote(spec))
	}
	var out Format
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
		var col Column
		if j < len(spec) && (spec[j] == '.' || spec[j] == '-') {
			col.Right = spec[j] == '.'
			j++
		}
		k := j
		for k < len(spec) && spec[k] >= '0' && spec[k] <= '9' {
			k++
		}
		if k > j {
			w, err := ParseWidth(spec[j:k], spec)
			if err != nil {
				return nil, err
			}
			col.Width = w
		}
		if k >= len(spec) {
			return nil, fmt.Errorf("invalid format %s: %s at the end needs a field letter (use %%%% for a percent sign)", ShortQuote(spec), ShortQuote(spec[i:]))
		}
		c := spec[k]
		if !isLetter(c) {
			r, _ := utf8.DecodeRuneInString(spec[k:])
			return nil, fmt.Errorf("invalid format %s: unknown field %s after %s (fields are letters such as %%i %%j %%T; %%%% is a percent sign)", ShortQuote(spec), strconv.QuoteRune(r), ShortQuote(spec[i:k]))
		}
		if lit.Len() > 0 {
			out = append(out, item{Literal: lit.String()})
			lit.Reset()
		}
		out = append(out, item{Letter: c, Col: col})
		fields++
		i = k + 1
	}
	if lit.Len() > 0 {
		out = append(out, item{Literal: lit.String()})
	}
	if fields == 0 {
		return nil, fmt.Errorf("invalid format %s: it has no fields (e.g. \"%%.18i %%j %%T\")", ShortQuote(spec))
	}
	return out, nil
}

// has reports whether the format shows any of the letters.
func (f Format) has(letters ...byte) bool {
	for _, it := range f {
		for _, l := range letters {
			if it.Letter == l {
				return true
			}
		}
	}
	return false
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// headers are squeue's Column titles by letter.
var headers = map[byte]string{
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
func (f Format) header() string {
	var b strings.Builder
	for _, it := range f {
		if it.Letter == 0 {
			b.WriteString(it.Literal)
			continue
		}
		b.WriteString(it.Col.Squeue(headers[it.Letter]))
	}
	return b.String()
}

// line is one row laid out in the format.
func (f Format) line(r *Row, qc *Ctx) string {
	var b strings.Builder
	for _, it := range f {
		if it.Letter == 0 {
			b.WriteString(it.Literal)
			continue
		}
		b.WriteString(it.Col.Squeue(r.field(it.Letter, qc)))
	}
	return b.String()
}

// RenderFormat prints rows in a squeue format, with its title line
// first when header is set.
func RenderFormat(w io.Writer, rows []Row, f Format, header bool, qc *Ctx) error {
	var b bytes.Buffer
	writeFormat(&b, rows, f, header, qc)
	_, err := w.Write(b.Bytes())
	return err
}

func writeFormat(b *bytes.Buffer, rows []Row, f Format, header bool, qc *Ctx) {
	if header {
		b.WriteString(f.header())
		b.WriteByte('\n')
	}
	for i := range rows {
		b.WriteString(f.line(&rows[i], qc))
		b.WriteByte('\n')
	}
}

// SortKey is one item of a squeue -S spec.
type SortKey struct {
	Letter byte
	Desc   bool
}

// ParseSort parses squeue's -S spec: a comma list of field letters
// (those of -o), each optionally prefixed by "-" (descending) or "+".
func ParseSort(spec string) ([]SortKey, error) {
	var out []SortKey
	for _, item := range strings.Split(spec, ",") {
		s := strings.TrimSpace(item)
		if s == "" {
			continue
		}
		k := SortKey{}
		switch s[0] {
		case '-':
			k.Desc, s = true, s[1:]
		case '+':
			s = s[1:]
		}
		if len(s) != 1 || !isLetter(s[0]) {
			return nil, fmt.Errorf("invalid sort %s: %s is not a field letter with an optional - or + (e.g. \"-t,P,i\")", ShortQuote(spec), ShortQuote(strings.TrimSpace(item)))
		}
		k.Letter = s[0]
		out = append(out, k)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("invalid sort %s: no field letters (e.g. \"-t,P,i\")", ShortQuote(spec))
	}
	return out, nil
}

// TimeOrNA is squeue's time format; zero times print N/A.
func TimeOrNA(t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return "N/A"
	}
	return t.In(loc).Format("2006-01-02T15:04:05")
}

// GroupName is the name of a group ID on this host, else the number.
func GroupName(gid uint32) string {
	id := strconv.FormatUint(uint64(gid), 10)
	if g, err := user.LookupGroupId(id); err == nil {
		return g.Name
	}
	return id
}
