package units

import (
	"strconv"
	"strings"
)

// PatternVars are the values an output file name pattern may use.
type PatternVars struct {
	JobID   uint64
	JobName string
	User    string
	// Node is the (first) node the job runs on.
	Node string
	// ArrayJobID and ArrayTaskID place a task of a job array (ArrayJobID
	// 0: the job is not in an array).
	ArrayJobID  uint64
	ArrayTaskID int
}

// NoArrayTask is what %a expands to for a job that is not part of an
// array (Slurm's NO_VAL, 4294967294).
const NoArrayTask = "4294967294"

// maxPad bounds the zero-padding width of "%<n>j".
const maxPad = 10

// ExpandOutputPattern expands Slurm's file name patterns:
//
//	%j  job ID             %x  job name
//	%u  user name          %N  (first) node name
//	%A  the array's ID for a task of a job array, else the job ID
//	%a  array task ID: 4294967294 for a job that is not in an array
//	%%  a literal '%'
//
// A width between '%' and the letter zero-pads numbers: "%5j" gives
// "00042" (widths above 10 count as 10); it is ignored for names. Any
// other sequence, and a trailing '%', is kept as written.
func ExpandOutputPattern(pattern string, vars PatternVars) string {
	if !strings.Contains(pattern, "%") {
		return pattern
	}
	var b strings.Builder
	b.Grow(len(pattern) + 16)
	for i := 0; i < len(pattern); i++ {
		c := pattern[i]
		if c != '%' {
			b.WriteByte(c)
			continue
		}
		j := i + 1
		for j < len(pattern) && pattern[j] >= '0' && pattern[j] <= '9' {
			j++
		}
		if j >= len(pattern) {
			b.WriteString(pattern[i:])
			break
		}
		width := 0
		if j > i+1 {
			w, _, over := parseUint(pattern[i+1:j], maxPad)
			width = int(w)
			if over {
				width = maxPad
			}
		}
		switch pattern[j] {
		case '%':
			if j != i+1 {
				b.WriteString(pattern[i:j])
			}
			b.WriteByte('%')
		case 'j':
			b.WriteString(pad(strconv.FormatUint(vars.JobID, 10), width))
		case 'A':
			id := vars.JobID
			if vars.ArrayJobID != 0 {
				id = vars.ArrayJobID
			}
			b.WriteString(pad(strconv.FormatUint(id, 10), width))
		case 'a':
			if vars.ArrayJobID == 0 {
				b.WriteString(pad(NoArrayTask, width))
			} else {
				b.WriteString(pad(strconv.Itoa(vars.ArrayTaskID), width))
			}
		case 'x':
			b.WriteString(vars.JobName)
		case 'u':
			b.WriteString(vars.User)
		case 'N':
			b.WriteString(vars.Node)
		default:
			b.WriteString(pattern[i : j+1])
		}
		i = j
	}
	return b.String()
}

func pad(s string, width int) string {
	if len(s) >= width {
		return s
	}
	return strings.Repeat("0", width-len(s)) + s
}
