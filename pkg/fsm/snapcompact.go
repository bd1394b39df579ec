package fsm

import (
	"slices"

	"github.com/gsched/gsched/pkg/api"
)

// A job array's tasks share one script, environment and argument list in
// memory. A snapshot writes them once: the first task of each array in
// the snapshot's job order keeps them, the others are written without and
// listed in snapshotData.Shared, and Restore gives them the first task's
// again (the same strings and slices, so memory stays shared). A
// 10,000-task array of a 4 KiB script and a 2 KiB environment thus costs
// one copy in the snapshot instead of 10,000 (BenchmarkSnapshotArray).

// compactArrays returns jobs with the shared fields of array tasks
// cleared, and the IDs cleared as ranges. jobs itself is not modified:
// cleared tasks are copies.
func compactArrays(jobs []*api.Job) ([]*api.Job, []idRange) {
	var out []*api.Job
	var shared []idRange
	cleared := map[*api.JobSpec]*api.JobSpec{} // one copy per spec the tasks share
	laterTasks(jobs, func(i int, j *api.Job, f *api.JobSpec) {
		if j.Spec.Script != f.Script || !slices.Equal(j.Spec.Env, f.Env) || !slices.Equal(j.Spec.Args, f.Args) {
			return // differs: written in full
		}
		if out == nil {
			out = slices.Clone(jobs)
		}
		c := *j
		s, ok := cleared[j.Spec]
		if !ok {
			s = c.OwnSpec()
			s.Script, s.Env, s.Args = "", nil, nil
			cleared[j.Spec] = s
		}
		c.Spec = s
		out[i] = &c
		if n := len(shared); n > 0 && shared[n-1][1]+1 == j.ID {
			shared[n-1][1] = j.ID
		} else {
			shared = append(shared, idRange{j.ID, j.ID})
		}
	})
	if out == nil {
		return jobs, nil
	}
	return out, shared
}

// idRange is an inclusive range of job IDs.
type idRange [2]api.JobID

// expandArrays undoes compactArrays: each job listed in shared gets its
// array's first task's script, environment and arguments.
func expandArrays(jobs []*api.Job, shared []idRange) {
	if len(shared) == 0 {
		return
	}
	in := func(id api.JobID) bool {
		k, found := slices.BinarySearchFunc(shared, id, func(r idRange, id api.JobID) int {
			switch {
			case r[1] < id:
				return -1
			case r[0] > id:
				return 1
			}
			return 0
		})
		return found && k < len(shared)
	}
	laterTasks(jobs, func(_ int, j *api.Job, f *api.JobSpec) {
		if in(j.ID) {
			j.Spec.Script, j.Spec.Env, j.Spec.Args = f.Script, f.Env, f.Args
		}
	})
}

// laterTasks calls fn for every array task in jobs but the first of its
// array (in jobs' order), with its index and the first task's spec.
func laterTasks(jobs []*api.Job, fn func(i int, j *api.Job, first *api.JobSpec)) {
	first := map[api.JobID]*api.JobSpec{}
	for i, j := range jobs {
		if j == nil || !j.IsArrayTask() {
			continue
		}
		if f, ok := first[j.ArrayJobID]; ok {
			fn(i, j, f)
		} else {
			first[j.ArrayJobID] = j.Spec
		}
	}
}
