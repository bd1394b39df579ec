package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/gsched/gsched/pkg/api"
	"github.com/gsched/gsched/pkg/queuefmt"
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
					return nil, fmt.Errorf("invalid job id %s (use 123, 123_7 or 123_[1-3,7])", queuefmt.ShortQuote(s))
				}
				a, err := api.ParseArray(strings.TrimSuffix(list, "]"), 0)
				if err != nil || a.Throttle > 0 {
					return nil, fmt.Errorf("invalid task list in %s (use 123_[1-3,7])", queuefmt.ShortQuote(s))
				}
				for _, k := range a.Tasks {
					refs = append(refs, api.JobRef{ID: r.ID, Task: k, HasTask: true})
				}
				continue
			}
			r, err := api.ParseJobRef(s)
			if err != nil {
				return nil, fmt.Errorf("invalid job id %s (use 123, or 123_7 for task 7 of array 123)", queuefmt.ShortQuote(s))
			}
			refs = append(refs, r)
		}
	}
	return refs, nil
}

// listJobs asks the controller for the jobs that pass f and, when refs
// are given, that refs name: the controller resolves array references
// ("123", "123_7") from the array's first task, in one call.
func listJobs(ctx context.Context, cl Caller, f api.JobFilter, refs []api.JobRef) (api.JobList, error) {
	f.Refs = refs
	var list api.JobList
	err := call(ctx, cl, api.PathListJobs, f, &list)
	return list, err
}
