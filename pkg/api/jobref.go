package api

import (
	"fmt"
	"strconv"
	"strings"
)

// JobRef is a job as users name it on the command line (squeue -j,
// sacct -j): "123" is job 123 and, when 123 is a job array, every task of
// it; "123_7" is task 7 of array 123 only.
type JobRef struct {
	ID JobID `json:"id"`
	// Task is the array task index; it counts only with HasTask.
	Task    int  `json:"task,omitempty"`
	HasTask bool `json:"has_task,omitempty"`
}

// MaxArrayTask bounds the array task indices a JobRef may name (Slurm's
// MaxArraySize is at most 4,000,001).
const MaxArrayTask = MaxArrayIndex

// ParseJobRef parses "123" or "123_7".
func ParseJobRef(s string) (JobRef, error) {
	id, task, hasTask := strings.Cut(s, "_")
	n, err := strconv.ParseUint(id, 10, 64)
	if err != nil || n == 0 || !isDigits(id) {
		return JobRef{}, fmt.Errorf("%w: invalid job id %q (use 123 or 123_7 for task 7 of array 123)", ErrInvalid, s)
	}
	r := JobRef{ID: JobID(n)}
	if !hasTask {
		return r, nil
	}
	t, err := strconv.Atoi(task)
	if err != nil || !isDigits(task) || t > MaxArrayTask {
		return JobRef{}, fmt.Errorf("%w: invalid array task in job id %q (use 123_7: task 7 of array 123, at most %d)", ErrInvalid, s, MaxArrayTask)
	}
	r.Task, r.HasTask = t, true
	return r, nil
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// String is the reference as typed: "123" or "123_7".
func (r JobRef) String() string {
	if r.HasTask {
		return fmt.Sprintf("%d_%d", uint64(r.ID), r.Task)
	}
	return r.ID.String()
}

// Matches reports whether the job is the one named: for "123", job 123 or
// any task of array 123; for "123_7", task 7 of array 123.
func (r JobRef) Matches(j *Job) bool {
	if r.HasTask {
		return j.ArrayJobID == r.ID && j.ArrayTaskID == r.Task
	}
	return j.ID == r.ID || j.ArrayJobID == r.ID
}

// MatchesAny reports whether the job matches one of refs.
func MatchesAny(refs []JobRef, j *Job) bool {
	for _, r := range refs {
		if r.Matches(j) {
			return true
		}
	}
	return false
}
