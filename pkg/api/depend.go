package api

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Dependency kinds (sbatch --dependency).
const (
	DepAfter      = "after"      // the jobs started (or were cancelled before starting), plus an optional delay
	DepAfterAny   = "afterany"   // the jobs ended, in any state
	DepAfterOK    = "afterok"    // the jobs ended COMPLETED (exit 0)
	DepAfterNotOK = "afternotok" // the jobs ended in any other final state
	DepAfterCorr  = "aftercorr"  // the same task of the other array ended COMPLETED
	DepSingleton  = "singleton"  // no earlier job of the same user and name is live
)

// MaxDepJobs bounds the jobs one dependency names.
const MaxDepJobs = 1000

// Dependency is a parsed --dependency value: conditions joined by ","
// (all must hold) or "?" (Any: one must).
type Dependency struct {
	Any   bool      `json:"any,omitempty"`
	Conds []DepCond `json:"conds"`
}

// DepCond is one "kind:job[:job...]" condition.
type DepCond struct {
	Kind string   `json:"kind"`
	Jobs []DepJob `json:"jobs,omitempty"`
}

// DepJob is one job a condition names: a job, a whole array ("123"), or
// one task of an array ("123_7", Task >= 0; else Task is -1). Delay is
// after's "+minutes".
type DepJob struct {
	ID    JobID         `json:"id"`
	Task  int           `json:"task"`
	Delay time.Duration `json:"delay,omitempty"`
}

// ParseDependency parses sbatch's --dependency syntax:
// "afterok:12:13,afterany:14", "after:12+5?afternotok:13", "singleton".
// Mixing "," and "?" is refused (Slurm does too).
func ParseDependency(s string) (Dependency, error) {
	var d Dependency
	bad := func(format string, args ...any) (Dependency, error) {
		return Dependency{}, fmt.Errorf("%w: --dependency %q: %s", ErrInvalid, clip(s), fmt.Sprintf(format, args...))
	}
	if strings.TrimSpace(s) == "" {
		return bad("empty")
	}
	hasAnd, hasOr := strings.Contains(s, ","), strings.Contains(s, "?")
	if hasAnd && hasOr {
		return bad("use either ',' (all) or '?' (any) between conditions, not both")
	}
	sep := ","
	if hasOr {
		sep, d.Any = "?", true
	}
	total := 0
	for _, part := range strings.Split(s, sep) {
		kind, list, hasList := strings.Cut(part, ":")
		kind = strings.ToLower(kind)
		c := DepCond{Kind: kind}
		switch kind {
		case DepSingleton:
			if hasList {
				return bad("singleton takes no job IDs")
			}
			d.Conds = append(d.Conds, c)
			continue
		case DepAfter, DepAfterAny, DepAfterOK, DepAfterNotOK, DepAfterCorr:
		default:
			return bad("unknown kind %q (after, afterany, afterok, afternotok, aftercorr or singleton)", clip(kind))
		}
		if !hasList || list == "" {
			return bad("%s needs job IDs: %s:ID[:ID...]", kind, kind)
		}
		for _, ref := range strings.Split(list, ":") {
			var dj DepJob
			ref, delay, hasDelay := strings.Cut(ref, "+")
			if hasDelay {
				if kind != DepAfter {
					return bad("only after takes a +minutes delay")
				}
				m, err := strconv.Atoi(delay)
				if err != nil || m < 0 || m > 525600 {
					return bad("the delay in %q must be minutes from 0 to 525600", clip(ref+"+"+delay))
				}
				dj.Delay = time.Duration(m) * time.Minute
			}
			r, err := ParseJobRef(ref)
			if err != nil {
				return bad("%q is not a job ID or ARRAYID_TASK", clip(ref))
			}
			if kind == DepAfterCorr && r.HasTask {
				return bad("aftercorr names whole arrays, not tasks")
			}
			dj.ID, dj.Task = r.ID, -1
			if r.HasTask {
				dj.Task = r.Task
			}
			c.Jobs = append(c.Jobs, dj)
			if total++; total > MaxDepJobs {
				return bad("more than %d jobs", MaxDepJobs)
			}
		}
		d.Conds = append(d.Conds, c)
	}
	return d, nil
}

// String writes the dependency back in sbatch's syntax.
func (d Dependency) String() string {
	var parts []string
	for _, c := range d.Conds {
		var b strings.Builder
		b.WriteString(c.Kind)
		for _, j := range c.Jobs {
			b.WriteByte(':')
			b.WriteString(j.ID.String())
			if j.Task >= 0 {
				fmt.Fprintf(&b, "_%d", j.Task)
			}
			if j.Delay > 0 {
				fmt.Fprintf(&b, "+%d", int(j.Delay/time.Minute))
			}
		}
		parts = append(parts, b.String())
	}
	if d.Any {
		return strings.Join(parts, "?")
	}
	return strings.Join(parts, ",")
}

// DepState is how far a dependency is from being satisfied.
type DepState int

// Dependency states.
const (
	DepWaiting DepState = iota // not yet
	DepSatisfied
	DepNever // can never be satisfied (DependencyNeverSatisfied)
)

// DepLookup is what evaluating a dependency needs from the store.
type DepLookup interface {
	// Jobs returns the jobs a reference stands for: the job, every task
	// of an array (ref.Task < 0 and the job heads an array), or one task
	// (nil when unknown, e.g. purged).
	Jobs(ref DepJob) []*Job
	// EarlierLive reports whether a live job of user with name and an ID
	// below id exists (singleton).
	EarlierLive(user, name string, id JobID) bool
}

// Evaluate judges job j's dependency at now.
func (d Dependency) Evaluate(j *Job, look DepLookup, now time.Time) DepState {
	if len(d.Conds) == 0 {
		return DepSatisfied
	}
	any, all := false, true
	never := 0
	for _, c := range d.Conds {
		switch c.eval(j, look, now) {
		case DepSatisfied:
			any = true
		case DepNever:
			never++
			all = false
		default:
			all = false
		}
	}
	switch {
	case d.Any && any, !d.Any && all:
		return DepSatisfied
	case d.Any && never == len(d.Conds), !d.Any && never > 0:
		return DepNever
	}
	return DepWaiting
}

func (c DepCond) eval(j *Job, look DepLookup, now time.Time) DepState {
	if c.Kind == DepSingleton {
		if look.EarlierLive(j.User, j.Spec.Name, j.ID) {
			return DepWaiting
		}
		return DepSatisfied
	}
	st := DepSatisfied
	for _, ref := range c.Jobs {
		if c.Kind == DepAfterCorr {
			if !j.IsArrayTask() {
				ref.Task = -1 // a plain job waits for the whole array
			} else {
				ref.Task = j.ArrayTaskID
			}
		}
		targets := look.Jobs(ref)
		if len(targets) == 0 {
			if c.Kind == DepAfterCorr && ref.Task >= 0 {
				continue // the other array has no such task: nothing to wait for
			}
			// Unknown (purged long ago): its outcome is lost, so only
			// conditions that any outcome satisfies hold.
			if c.Kind == DepAfter || c.Kind == DepAfterAny {
				continue
			}
			return DepNever
		}
		for _, t := range targets {
			switch s := targetState(c.Kind, t, ref.Delay, now); s {
			case DepNever:
				return DepNever
			case DepWaiting:
				st = DepWaiting
			}
		}
	}
	return st
}

func targetState(kind string, t *Job, delay time.Duration, now time.Time) DepState {
	final := t.State.Final()
	switch kind {
	case DepAfter:
		if !t.StartTime.IsZero() {
			if now.Before(t.StartTime.Add(delay)) {
				return DepWaiting
			}
			return DepSatisfied
		}
		if final {
			return DepSatisfied // cancelled before it started
		}
	case DepAfterAny:
		if final {
			return DepSatisfied
		}
	case DepAfterOK, DepAfterCorr:
		if final {
			if t.State == StateCompleted {
				return DepSatisfied
			}
			return DepNever
		}
	case DepAfterNotOK:
		if final {
			if t.State == StateCompleted {
				return DepNever
			}
			return DepSatisfied
		}
	}
	return DepWaiting
}
