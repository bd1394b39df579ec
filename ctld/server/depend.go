package server

import (
	"slices"
	"time"

	"github.com/gsched/gsched/pkg/api"
	"github.com/gsched/gsched/pkg/state"
)

// maxDependencyLen bounds a --dependency value.
const maxDependencyLen = 64 << 10

// A job array's tasks are jobs with consecutive IDs from the array's ID
// (the FSM creates them in one command), task k at the position of k in
// the array's sorted indices: no index is needed to find them.

// arrayTasks returns the tasks of the array that head leads, in task
// order (purged ones left out).
func arrayTasks(snap *state.Snapshot, head *api.Job, cache map[api.JobID][]int) []*api.Job {
	idx := arrayIndices(head, cache)
	out := make([]*api.Job, 0, len(idx))
	for p := range idx {
		if j := snap.Job(nil, head.ID+api.JobID(p)); j != nil && j.ArrayJobID == head.ID {
			out = append(out, j)
		}
	}
	return out
}

// arrayTask returns task k of the array that head leads (nil if none).
func arrayTask(snap *state.Snapshot, head *api.Job, k int, cache map[api.JobID][]int) *api.Job {
	idx := arrayIndices(head, cache)
	p, ok := slices.BinarySearch(idx, k)
	if !ok {
		return nil
	}
	j := snap.Job(nil, head.ID+api.JobID(p))
	if j == nil || j.ArrayJobID != head.ID || j.ArrayTaskID != k {
		return nil
	}
	return j
}

func arrayIndices(head *api.Job, cache map[api.JobID][]int) []int {
	if idx, ok := cache[head.ID]; ok {
		return idx
	}
	a, _ := api.ParseArray(head.Spec.Array, 0) // stored specs parsed on submission
	if cache != nil {
		cache[head.ID] = a.Tasks
	}
	return a.Tasks
}

// snapLookup answers dependency questions from a snapshot (api.DepLookup).
type snapLookup struct {
	snap    *state.Snapshot
	indices map[api.JobID][]int
	// live maps user and job name to the lowest live job ID (singleton),
	// built on first use from live.
	live     map[[2]string]api.JobID
	liveJobs [][]*api.Job
}

func newSnapLookup(snap *state.Snapshot, live ...[]*api.Job) *snapLookup {
	return &snapLookup{snap: snap, indices: map[api.JobID][]int{}, liveJobs: live}
}

// Jobs implements api.DepLookup.
func (l *snapLookup) Jobs(ref api.DepJob) []*api.Job {
	j := l.snap.Job(nil, ref.ID)
	if j == nil {
		return nil
	}
	switch {
	case ref.Task >= 0:
		if !j.IsArrayHead() {
			return nil
		}
		if t := arrayTask(l.snap, j, ref.Task, l.indices); t != nil {
			return []*api.Job{t}
		}
		return nil
	case j.IsArrayHead():
		return arrayTasks(l.snap, j, l.indices)
	}
	return []*api.Job{j}
}

// EarlierLive implements api.DepLookup.
func (l *snapLookup) EarlierLive(user, name string, id api.JobID) bool {
	if l.live == nil {
		l.live = map[[2]string]api.JobID{}
		for _, list := range l.liveJobs {
			for _, j := range list {
				k := [2]string{j.User, j.Spec.Name}
				if cur, ok := l.live[k]; !ok || j.ID < cur {
					l.live[k] = j.ID
				}
			}
		}
	}
	first, ok := l.live[[2]string{user, name}]
	return ok && first < id
}

// checkArrayDeps validates a submission's --array, --dependency and
// --begin, writing the first two in canonical form. A dependency on a job
// the controller does not know is refused (sbatch: "Job dependency
// problem").
func (s *Server) checkArrayDeps(snap *state.Snapshot, spec *api.JobSpec) error {
	if spec.Array != "" {
		if len(spec.Array) > maxPathLen {
			return invalid("the --array value is longer than %d bytes", maxPathLen)
		}
		a, err := api.ParseArray(spec.Array, s.cfg.Scheduler.MaxArraySize-1)
		if err != nil {
			return err
		}
		spec.Array = a.String()
	}
	if spec.Dependency != "" {
		if len(spec.Dependency) > maxDependencyLen {
			return invalid("the --dependency value is longer than %d bytes", maxDependencyLen)
		}
		d, err := api.ParseDependency(spec.Dependency)
		if err != nil {
			return err
		}
		look := newSnapLookup(snap)
		for _, c := range d.Conds {
			for _, ref := range c.Jobs {
				if ref.Task >= 0 && c.Kind != api.DepAfterCorr {
					if len(look.Jobs(ref)) == 0 {
						return invalid("job dependency problem: job %d has no array task %d", ref.ID, ref.Task)
					}
				} else if snap.Job(nil, ref.ID) == nil {
					return invalid("job dependency problem: no job %d", ref.ID)
				}
			}
		}
		spec.Dependency = d.String()
	}
	if !spec.Begin.IsZero() && spec.Begin.Year() > 9999 {
		return invalid("the begin time is out of range")
	}
	return nil
}

// blockedJobs decides which pending jobs wait for their dependency or
// begin time in this pass; kill lists those whose dependency can never be
// satisfied and that asked (--kill-on-invalid-dep=yes) to be cancelled.
func blockedJobs(snap *state.Snapshot, pending, running []*api.Job, now time.Time) (blocked map[api.JobID]string, kill []api.JobID) {
	blocked = map[api.JobID]string{}
	var look *snapLookup
	parsed := map[string]api.Dependency{}
	for _, j := range pending {
		if !j.Spec.Begin.IsZero() && now.Before(j.Spec.Begin) {
			blocked[j.ID] = api.ReasonBeginTime
			continue
		}
		if j.Spec.Dependency == "" {
			continue
		}
		d, ok := parsed[j.Spec.Dependency]
		if !ok {
			var err error
			if d, err = api.ParseDependency(j.Spec.Dependency); err != nil {
				blocked[j.ID] = api.ReasonInvalidDependency // checked on submission: cannot happen
				continue
			}
			parsed[j.Spec.Dependency] = d
		}
		if look == nil {
			look = newSnapLookup(snap, pending, running)
		}
		switch d.Evaluate(j, look, now) {
		case api.DepWaiting:
			blocked[j.ID] = api.ReasonDependency
		case api.DepNever:
			blocked[j.ID] = api.ReasonDependencyNever
			if j.Spec.KillOnInvalidDep {
				kill = append(kill, j.ID)
			}
		}
	}
	return blocked, kill
}

// refCandidates returns the jobs refs name (JobFilter.Refs), each once:
// a plain job, every task of an array named by its ID (its first task's),
// or one task. Tasks are found by position from the array's first task,
// never by a scan.
func refCandidates(snap *state.Snapshot, refs []api.JobRef) []*api.Job {
	cache := map[api.JobID][]int{}
	seen := map[api.JobID]bool{}
	var out []*api.Job
	add := func(j *api.Job) {
		if j != nil && !seen[j.ID] {
			seen[j.ID] = true
			out = append(out, j)
		}
	}
	for _, r := range refs {
		j := snap.Job(nil, r.ID)
		switch {
		case j == nil:
		case j.IsArrayHead() && r.HasTask:
			add(arrayTask(snap, j, r.Task, cache))
		case j.IsArrayHead():
			for _, t := range arrayTasks(snap, j, cache) {
				add(t)
			}
		case !r.HasTask:
			add(j)
		}
	}
	return out
}
