package hostlist

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits of Expand.
const (
	// MaxNames is the most names one expression may expand to.
	MaxNames = 1_000_000
	// MaxBytes is the most bytes the expanded names of one expression may
	// take together.
	MaxBytes = 64 << 20
	// maxDigits is the longest number a range may hold: 18 digits always
	// fit in an int64.
	maxDigits = 18
)

var (
	// ErrInvalid is wrapped by the errors for malformed expressions.
	ErrInvalid = errors.New("invalid hostlist")
	// ErrTooLarge is wrapped by the errors for expressions over the
	// limits.
	ErrTooLarge = errors.New("hostlist too large")
)

// span is one number or range of a bracket group, written with width
// digits at least.
type span struct {
	lo, hi int64
	width  int
}

// element is one comma-separated part of an expression: literal text
// around bracket groups (len(lits) == len(groups)+1).
type element struct {
	lits   []string
	groups [][]span
}

// Expand returns the host names of expr, in the order written, duplicates
// included; an empty expression gives no names and no error. The names
// share one backing string. See the package documentation for the syntax
// and the limits.
func Expand(expr string) ([]string, error) {
	elems, err := parse(expr)
	if err != nil {
		return nil, err
	}
	total := uint64(0)
	for _, el := range elems {
		total = satAdd(total, el.count())
	}
	if total > MaxNames {
		return nil, fmt.Errorf("%w: %s expands to more than %d names", ErrTooLarge, quote(expr), MaxNames)
	}
	// The names are written into one buffer and cut out of one string:
	// two allocations instead of one per name.
	ends := make([]int, 0, total)
	size := uint64(0)
	for _, el := range elems {
		size = satAdd(size, satMul(el.count(), el.maxLen()))
	}
	buf := make([]byte, 0, min(size, MaxBytes))
	for _, el := range elems {
		if buf, ends, err = el.expand(buf, ends); err != nil {
			return nil, fmt.Errorf("%w: %s expands to more than %d MiB of names", err, quote(expr), MaxBytes>>20)
		}
	}
	all := string(buf)
	out := make([]string, len(ends))
	start := 0
	for i, end := range ends {
		out[i], start = all[start:end], end
	}
	return out, nil
}

// Count returns how many names expr expands to, without expanding it (and
// so without MaxNames). It fails on a malformed expression or one whose
// count does not fit in an int.
func Count(expr string) (int, error) {
	elems, err := parse(expr)
	if err != nil {
		return 0, err
	}
	total := uint64(0)
	for _, el := range elems {
		total = satAdd(total, el.count())
	}
	if total > math.MaxInt {
		return 0, fmt.Errorf("%w: %s has more than %d names", ErrTooLarge, quote(expr), math.MaxInt)
	}
	return int(total), nil
}

// parse splits expr into its elements and parses each.
func parse(expr string) ([]element, error) {
	expr = strings.TrimSpace(expr)
	if expr == "" {
		return nil, nil
	}
	var elems []element
	depth, start := 0, 0
	for i := 0; i <= len(expr); i++ {
		c := byte(',')
		if i < len(expr) {
			c = expr[i]
		}
		switch {
		case c == '[':
			if depth > 0 {
				return nil, invalid(expr[start:], "nested '['")
			}
			depth++
		case c == ']':
			if depth == 0 {
				return nil, invalid(expr[start:], "']' without '['")
			}
			depth--
		case c == ',' && depth == 0:
			el, err := parseElement(expr, strings.TrimSpace(expr[start:i]))
			if err != nil {
				return nil, err
			}
			elems = append(elems, el)
			start = i + 1
		}
	}
	if depth > 0 {
		return nil, invalid(expr[start:], "'[' without ']'")
	}
	return elems, nil
}

// parseElement parses one element s (brackets balanced, not nested) of
// expr.
func parseElement(expr, s string) (element, error) {
	var el element
	if s == "" {
		return el, invalid(expr, "empty element")
	}
	rest := s
	for {
		open := strings.IndexByte(rest, '[')
		lit := rest
		if open >= 0 {
			lit = rest[:open]
		}
		if err := checkLiteral(s, lit); err != nil {
			return el, err
		}
		el.lits = append(el.lits, lit)
		if open < 0 {
			return el, nil
		}
		end := open + strings.IndexByte(rest[open:], ']')
		g, err := parseGroup(s, rest[open+1:end])
		if err != nil {
			return el, err
		}
		el.groups = append(el.groups, g)
		rest = rest[end+1:]
	}
}

// checkLiteral refuses white space and control characters in the literal
// part lit of element s.
func checkLiteral(s, lit string) error {
	for _, r := range lit {
		if unicode.IsSpace(r) || unicode.IsControl(r) {
			return invalid(s, "%q is not allowed in a host name", r)
		}
	}
	return nil
}

// parseGroup parses the inside of a bracket group of element s.
func parseGroup(s, in string) ([]span, error) {
	if in == "" {
		return nil, invalid(s, "empty brackets")
	}
	var g []span
	for item := range strings.SplitSeq(in, ",") {
		if item == "" {
			return nil, invalid(s, "empty range in %s", quote("["+in+"]"))
		}
		loS, hiS, isRange := strings.Cut(item, "-")
		lo, err := parseNum(s, loS, item)
		if err != nil {
			return nil, err
		}
		hi := lo
		if isRange {
			if hi, err = parseNum(s, hiS, item); err != nil {
				return nil, err
			}
			if hi < lo {
				return nil, invalid(s, "range %s ends before it starts", item)
			}
		}
		g = append(g, span{lo: lo, hi: hi, width: len(loS)})
	}
	return g, nil
}

// parseNum parses one bound num of range item in element s.
func parseNum(s, num, item string) (int64, error) {
	if num == "" {
		return 0, invalid(s, "range %s needs a number on each side of '-'", quote(item))
	}
	for i := 0; i < len(num); i++ {
		if num[i] < '0' || num[i] > '9' {
			return 0, invalid(s, "range %s is not numeric (want N or N-M)", quote(item))
		}
	}
	if len(num) > maxDigits {
		return 0, invalid(s, "number %s has more than %d digits", quote(num), maxDigits)
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil { // cannot happen with at most 18 digits
		return 0, invalid(s, "number %s: %v", num, err)
	}
	return n, nil
}

// count is the number of names of el, saturated at math.MaxUint64.
func (el element) count() uint64 {
	n := uint64(1)
	for _, g := range el.groups {
		n = satMul(n, groupCount(g))
	}
	return n
}

// maxLen is the length of the longest name of el.
func (el element) maxLen() uint64 {
	n := 0
	for _, l := range el.lits {
		n += len(l)
	}
	for _, g := range el.groups {
		w := 0
		for _, sp := range g {
			w = max(w, sp.width, numDigits(sp.hi))
		}
		n += w
	}
	return uint64(n)
}

func groupCount(g []span) uint64 {
	n := uint64(0)
	for _, sp := range g {
		n = satAdd(n, uint64(sp.hi-sp.lo)+1)
	}
	return n
}

// expand appends the names of el to buf and the end of each to ends; it
// fails with ErrTooLarge once buf would pass MaxBytes.
func (el element) expand(buf []byte, ends []int) ([]byte, []int, error) {
	// An odometer over the groups, the last one turning fastest: ri[k] is
	// the span of group k being walked and v[k] its current number.
	ri := make([]int, len(el.groups))
	v := make([]int64, len(el.groups))
	for k, g := range el.groups {
		v[k] = g[0].lo
	}
	for {
		buf = append(buf, el.lits[0]...)
		for k, g := range el.groups {
			buf = appendNum(buf, v[k], g[ri[k]].width)
			buf = append(buf, el.lits[k+1]...)
		}
		if len(buf) > MaxBytes {
			return buf, ends, ErrTooLarge
		}
		ends = append(ends, len(buf))
		k := len(el.groups) - 1
		for ; k >= 0; k-- {
			g := el.groups[k]
			if v[k] < g[ri[k]].hi {
				v[k]++
				break
			}
			if ri[k]+1 < len(g) {
				ri[k]++
				v[k] = g[ri[k]].lo
				break
			}
			ri[k], v[k] = 0, g[0].lo // carry into the group before
		}
		if k < 0 {
			return buf, ends, nil
		}
	}
}

// appendNum appends n in decimal, zero-padded to width digits.
func appendNum(buf []byte, n int64, width int) []byte {
	var tmp [20]byte
	d := strconv.AppendInt(tmp[:0], n, 10)
	for i := len(d); i < width; i++ {
		buf = append(buf, '0')
	}
	return append(buf, d...)
}

// key is a name split at its last run of digits for sorting and
// compression. A name without digits, or whose last run is longer than
// maxDigits, has no number (hasNum false, prefix the whole name).
type key struct {
	name, prefix, digits, suffix string
	num                          int64
	hasNum                       bool
}

func splitName(name string) key {
	j := len(name)
	for j > 0 && !isDigit(name[j-1]) {
		j--
	}
	i := j
	for i > 0 && isDigit(name[i-1]) {
		i--
	}
	if j == 0 || j-i > maxDigits {
		return key{name: name, prefix: name}
	}
	n, _ := strconv.ParseInt(name[i:j], 10, 64)
	return key{name: name, prefix: name[:i], digits: name[i:j], suffix: name[j:], num: n, hasNum: true}
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// sameGroup tells whether a and b share one bracket group.
func sameGroup(a, b key) bool {
	return a.prefix == b.prefix && a.suffix == b.suffix && a.hasNum == b.hasNum
}

func compareKeys(a, b key) int {
	if c := strings.Compare(a.prefix, b.prefix); c != 0 {
		return c
	}
	if c := strings.Compare(a.suffix, b.suffix); c != 0 {
		return c
	}
	if a.hasNum != b.hasNum {
		if a.hasNum {
			return 1
		}
		return -1
	}
	if c := cmp.Compare(a.num, b.num); c != 0 {
		return c
	}
	return strings.Compare(a.name, b.name)
}

// Sort sorts names in place in the order of Compress: by prefix, suffix,
// number, then name (see the package documentation). It keeps
// duplicates.
func Sort(names []string) {
	keys := make([]key, len(names))
	for i, n := range names {
		keys[i] = splitName(n)
	}
	slices.SortFunc(keys, compareKeys)
	for i, k := range keys {
		names[i] = k.name
	}
}

// Compress returns the canonical hostlist expression of names: sorted,
// without duplicates or empty names, with the last numeric field of names
// that share a prefix and a suffix written as ranges ("gpu01,gpu02,gpu03,
// gpu07" gives "gpu[01-03,07]"). See the package documentation.
func Compress(names []string) string {
	keys := make([]key, 0, len(names))
	for _, n := range names {
		if n != "" {
			keys = append(keys, splitName(n))
		}
	}
	slices.SortFunc(keys, compareKeys)
	keys = slices.CompactFunc(keys, func(a, b key) bool { return a.name == b.name })

	var b strings.Builder
	for i := 0; i < len(keys); {
		j := i + 1
		for j < len(keys) && sameGroup(keys[i], keys[j]) {
			j++
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		writeGroup(&b, keys[i:j])
		i = j
	}
	return b.String()
}

// writeGroup writes the sorted names of one group (same prefix, suffix
// and hasNum).
func writeGroup(b *strings.Builder, g []key) {
	if len(g) == 1 {
		b.WriteString(g[0].name)
		return
	}
	if !g[0].hasNum { // cannot happen: such names are unique
		for i, k := range g {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(k.name)
		}
		return
	}
	b.WriteString(g[0].prefix)
	b.WriteByte('[')
	for i := 0; i < len(g); {
		// A run grows while the next number follows on and is written
		// as the run's first number's width would write it.
		width := len(g[i].digits)
		j := i + 1
		for j < len(g) && g[j].num == g[j-1].num+1 && len(g[j].digits) == max(width, numDigits(g[j].num)) {
			j++
		}
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(g[i].digits)
		if j-1 > i {
			b.WriteByte('-')
			b.WriteString(g[j-1].digits)
		}
		i = j
	}
	b.WriteByte(']')
	b.WriteString(g[0].suffix)
}

// numDigits is the number of decimal digits of n >= 0 without padding.
func numDigits(n int64) int {
	d := 1
	for n >= 10 {
		n /= 10
		d++
	}
	return d
}

func satAdd(a, b uint64) uint64 {
	if a > math.MaxUint64-b {
		return math.MaxUint64
	}
	return a + b
}

func satMul(a, b uint64) uint64 {
	if a != 0 && b > math.MaxUint64/a {
		return math.MaxUint64
	}
	return a * b
}

// invalid returns an ErrInvalid error about element (or expression) s.
func invalid(s, format string, a ...any) error {
	return fmt.Errorf("%w %s: %s", ErrInvalid, quote(s), fmt.Sprintf(format, a...))
}

// quote quotes s for an error message, shortened when long.
func quote(s string) string {
	const limit = 60
	if len(s) <= limit {
		return strconv.Quote(s)
	}
	cut := limit
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return strconv.Quote(s[:cut]) + "..."
}

// Counts writes per-node counts as Slurm does in SLURM_TASKS_PER_NODE:
// runs of an equal count folded, "2(x3),1" for 2, 2, 2, 1.
func Counts(counts []int) string {
	var b strings.Builder
	for i := 0; i < len(counts); {
		j := i + 1
		for j < len(counts) && counts[j] == counts[i] {
			j++
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(counts[i]))
		if j-i > 1 {
			b.WriteString("(x" + strconv.Itoa(j-i) + ")")
		}
		i = j
	}
	return b.String()
}
