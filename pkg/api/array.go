package api

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// MaxArrayTasks bounds the tasks of one job array and MaxArrayIndex its
// largest index (Slurm's MaxArraySize is a bound on the index; a site's
// scheduler.max_array_size lowers both).
const (
	MaxArrayTasks = 100_000
	MaxArrayIndex = 4_000_000
)

// ArraySpec is a parsed --array value: the task indices, ascending and
// distinct, and the most tasks that may run at once (0: no limit).
type ArraySpec struct {
	Tasks    []int
	Throttle int
}

// ParseArray parses sbatch's --array syntax: a comma list of indices
// "N", ranges "N-M" and stepped ranges "N-M:S", then an optional "%T"
// throttle: "0-15", "1,3,5-7", "0-99:4%10". maxIndex bounds an index
// (0: MaxArrayIndex); the array may have at most MaxArrayTasks tasks.
func ParseArray(s string, maxIndex int) (ArraySpec, error) {
	var a ArraySpec
	if maxIndex <= 0 || maxIndex > MaxArrayIndex {
		maxIndex = MaxArrayIndex
	}
	bad := func(format string, args ...any) (ArraySpec, error) {
		return ArraySpec{}, fmt.Errorf("%w: --array %q: %s", ErrInvalid, clip(s), fmt.Sprintf(format, args...))
	}
	list, throttle, hasThrottle := strings.Cut(s, "%")
	if hasThrottle {
		t, err := strconv.Atoi(throttle)
		if err != nil || t < 1 || t > MaxArrayTasks {
			return bad("the throttle after %% must be a number from 1 to %d", MaxArrayTasks)
		}
		a.Throttle = t
	}
	if strings.TrimSpace(list) == "" {
		return bad("no task indices")
	}
	for _, item := range strings.Split(list, ",") {
		rng, stepText, hasStep := strings.Cut(item, ":")
		lo, hi, isRange := strings.Cut(rng, "-")
		first, err := arrayIndex(lo, maxIndex)
		if err != nil {
			return bad("%v", err)
		}
		last, step := first, 1
		if isRange {
			if last, err = arrayIndex(hi, maxIndex); err != nil {
				return bad("%v", err)
			}
			if last < first {
				return bad("range %s ends before it starts", rng)
			}
		}
		if hasStep {
			if !isRange {
				return bad("a step (:%s) needs a range N-M", stepText)
			}
			if step, err = strconv.Atoi(stepText); err != nil || step < 1 || len(stepText) > 8 {
				return bad("the step in %q must be a positive number", item)
			}
		}
		if n := (last-first)/step + 1; len(a.Tasks)+n > MaxArrayTasks {
			return bad("more than %d tasks", MaxArrayTasks)
		}
		for i := first; i <= last; i += step {
			a.Tasks = append(a.Tasks, i)
		}
	}
	slices.Sort(a.Tasks)
	a.Tasks = slices.Compact(a.Tasks)
	return a, nil
}

func arrayIndex(s string, maxIndex int) (int, error) {
	if s == "" || len(s) > 8 || strings.TrimLeft(s, "0123456789") != "" {
		return 0, fmt.Errorf("%q is not a task index (a number from 0 to %d)", clip(s), maxIndex)
	}
	n, _ := strconv.Atoi(s)
	if n > maxIndex {
		return 0, fmt.Errorf("task index %d is over the maximum %d", n, maxIndex)
	}
	return n, nil
}

func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}

// ArrayThrottle returns the "%T" throttle of an --array value (0: none)
// without parsing the indices: the scheduler asks it of every pending
// task in every pass.
func ArrayThrottle(spec string) int {
	i := strings.IndexByte(spec, '%')
	if i < 0 {
		return 0
	}
	t, err := strconv.Atoi(spec[i+1:])
	if err != nil || t < 0 {
		return 0
	}
	return t
}

// FormatIndices writes ascending distinct indices as Slurm does in folded
// array IDs: "1,3,5-7".
func FormatIndices(idx []int) string {
	var b strings.Builder
	for i := 0; i < len(idx); {
		j := i
		for j+1 < len(idx) && idx[j+1] == idx[j]+1 {
			j++
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(idx[i]))
		if j > i {
			b.WriteByte('-')
			b.WriteString(strconv.Itoa(idx[j]))
		}
		i = j + 1
	}
	return b.String()
}

// String is the canonical form of the spec ("0-3,8%2").
func (a ArraySpec) String() string {
	s := FormatIndices(a.Tasks)
	if a.Throttle > 0 {
		s += "%" + strconv.Itoa(a.Throttle)
	}
	return s
}

// ArrayTaskRef names one task of an array: "123_7".
type ArrayTaskRef struct {
	Array JobID `json:"array"`
	Task  int   `json:"task"`
}

func (r ArrayTaskRef) String() string { return fmt.Sprintf("%d_%d", uint64(r.Array), r.Task) }
