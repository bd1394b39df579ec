package cli

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/gsched/gsched/pkg/api"
)

// ParseJobRefs parses job references as squeue -j and scancel take them,
// in arguments and comma lists: "123" (the job, or every task of array
// 123), "123_7" (task 7 of array 123) and "123_[1-3,7]" (those tasks).
func ParseJobRefs(items []string) ([]api.JobRef, error) {
	var refs []api.JobRef
	for _, item := range items {
		for _, s := range splitOutsideBrackets(item) {
			if head, list, ok := strings.Cut(s, "_["); ok {
				r, err := api.ParseJobRef(head)
				if err != nil || r.HasTask || !strings.HasSuffix(list, "]") {
					return nil, fmt.Errorf("invalid job id %s (use 123, 123_7 or 123_[1-3,7])", shortQuote(s))
				}
				a, err := api.ParseArray(strings.TrimSuffix(list, "]"), 0)
				if err != nil || a.Throttle > 0 {
					return nil, fmt.Errorf("invalid task list in %s (use 123_[1-3,7])", shortQuote(s))
				}
				for _, k := range a.Tasks {
					refs = append(refs, api.JobRef{ID: r.ID, Task: k, HasTask: true})
				}
				continue
			}
			r, err := api.ParseJobRef(s)
			if err != nil {
				return nil, fmt.Errorf("invalid job id %s (use 123, or 123_7 for task 7 of array 123)", shortQuote(s))
			}
			refs = append(refs, r)
		}
	}
	return refs, nil
}

// refIDs are the job IDs named by refs, without repeats, in order.
func refIDs(refs []api.JobRef) []api.JobID {
	var ids []api.JobID
	for _, r := range refs {
		if !slices.Contains(ids, r.ID) {
			ids = append(ids, r.ID)
		}
	}
	return ids
}

// listJobs asks the controller for the jobs that pass f and, when refs
// are given, that refs name. The controller selects by plain job IDs
// (JobFilter.IDs), so a reference to an array takes more than one call:
//  1. f with the IDs: plain jobs, exactly as before arrays existed;
//  2. the IDs alone, for any that call 1 did not return, to learn which
//     of them are arrays (an array's ID is its first task's job ID);
//  3. for the arrays, f without IDs, narrowed to the arrays' user and
//     submit time, with finished jobs included as an ID query includes
//     them; the tasks are picked out here.
//
// Call 2 is made only when call 1 left out a named ID, call 3 only when an
// array is named (by its ID or by one of its tasks, "123_7").
func listJobs(ctx context.Context, cl Caller, f api.JobFilter, refs []api.JobRef) (api.JobList, error) {
	var list api.JobList
	if len(refs) == 0 {
		err := call(ctx, cl, api.PathListJobs, f, &list)
		return list, err
	}
	ids := refIDs(refs)
	f1 := f
	f1.IDs = ids
	if err := call(ctx, cl, api.PathListJobs, f1, &list); err != nil {
		return list, err
	}
	// heads: the named IDs that are arrays, by their first task.
	heads := map[api.JobID]*api.Job{}
	seen := map[api.JobID]bool{}
	for i := range list.Jobs {
		j := &list.Jobs[i]
		seen[j.ID] = true
		if j.IsArrayHead() {
			heads[j.ID] = j
		}
	}
	var missing []api.JobID
	for _, id := range ids {
		if !seen[id] {
			missing = append(missing, id)
		}
	}
	if len(missing) > 0 {
		var more api.JobList
		if err := call(ctx, cl, api.PathListJobs, api.JobFilter{IDs: missing}, &more); err != nil {
			return list, err
		}
		for i := range more.Jobs {
			if j := &more.Jobs[i]; j.IsArrayHead() && slices.Contains(missing, j.ID) {
				heads[j.ID] = j
			}
		}
	}
	// Plain references keep what call 1 found; task references and
	// arrays are answered by call 3.
	var out []api.Job
	kept := map[api.JobID]bool{}
	for i := range list.Jobs {
		if j := &list.Jobs[i]; api.MatchesAny(refs, j) {
			out = append(out, *j)
			kept[j.ID] = true
		}
	}
	if len(heads) > 0 {
		tasks, err := arrayTasks(ctx, cl, f, heads)
		if err != nil {
			return list, err
		}
		for i := range tasks.Jobs {
			j := &tasks.Jobs[i]
			if j.IsArrayTask() && heads[j.ArrayJobID] != nil && !kept[j.ID] && api.MatchesAny(refs, j) {
				out = append(out, *j)
				kept[j.ID] = true
			}
		}
		if tasks.Now.After(list.Now) {
			list.Now = tasks.Now
		}
	}
	slices.SortFunc(out, func(a, b api.Job) int { return cmp.Compare(a.ID, b.ID) })
	if out == nil {
		out = []api.Job{}
	}
	list.Jobs = out
	return list, nil
}

// arrayTasks lists the jobs that pass f (IDs aside) among which are the
// tasks of the arrays heads, narrowed as far as the filter allows: to
// the arrays' user (the controller indexes jobs by user) and to jobs
// that ended or were submitted since the arrays were.
func arrayTasks(ctx context.Context, cl Caller, f api.JobFilter, heads map[api.JobID]*api.Job) (api.JobList, error) {
	f.IDs = nil
	var user string
	var since time.Time
	first := true
	for _, h := range heads {
		switch {
		case first:
			user, since = h.User, h.SubmitTime
		case user != h.User:
			user = ""
		}
		if h.SubmitTime.Before(since) {
			since = h.SubmitTime
		}
		first = false
	}
	// Tasks end, and are submitted, no earlier than their array.
	if since.After(f.Since) {
		f.Since = since
	}
	if len(f.Users) == 0 && user != "" {
		f.Users = []string{user}
	}
	if len(f.States) == 0 && !f.OnlyFinished {
		f.IncludeFinished = true // as a query by ID returns finished jobs
	}
	var list api.JobList
	err := call(ctx, cl, api.PathListJobs, f, &list)
	return list, err
}
