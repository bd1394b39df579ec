package cli

import (
	"fmt"
	"strconv"
	"strings"

	ucli "github.com/urfave/cli/v2"

	"github.com/gsched/gsched/pkg/api"
	"github.com/gsched/gsched/pkg/queuefmt"
	"github.com/gsched/gsched/pkg/units"
)

// gcontrolJobs runs gcontrol hold, release and requeue JOBLIST: the
// job references gcancel takes ("123", "123_7", "123_[1-3]", comma
// lists), in one or more arguments.
func (e *Env) gcontrolJobs(c *ucli.Context, action string, args []string) error {
	if len(args) == 0 {
		return usagef("%s: give the jobs (123, 123_7, 123_[1-3], comma lists)", action)
	}
	req := api.JobControlRequest{Action: action}
	var err error
	if req.IDs, req.Tasks, err = ParseCancelRefs(args); err != nil {
		return usagef("%s: %v", action, err)
	}
	cl, err := e.connect(c)
	if err != nil {
		return err
	}
	var resp api.JobControlResponse
	if err := call(c.Context, cl, api.PathJobControl, req, &resp); err != nil {
		return fmt.Errorf("%s: %w", action, err)
	}
	if ReportCancel(e.Stderr, "gcontrol", api.CancelResponse{Errors: resp.Errors}) {
		return &exitError{ExitFailure}
	}
	return nil
}

// isJobUpdate reports whether update's arguments name jobs (job= or
// jobid=) rather than nodes.
func isJobUpdate(args []string) bool {
	for _, a := range args {
		k, _, _ := strings.Cut(a, "=")
		if k = strings.ToLower(k); k == "job" || k == "jobid" {
			return true
		}
	}
	return false
}

// gcontrolUpdateJob runs gcontrol update job=JOBLIST KEY=VALUE...
func (e *Env) gcontrolUpdateJob(c *ucli.Context, args []string) error {
	req, err := ParseJobUpdate(args)
	if err != nil {
		return err
	}
	cl, err := e.connect(c)
	if err != nil {
		return err
	}
	var resp api.JobControlResponse
	if err := call(c.Context, cl, api.PathUpdateJob, req, &resp); err != nil {
		return fmt.Errorf("update: %w", err)
	}
	if ReportCancel(e.Stderr, "gcontrol", api.CancelResponse{Errors: resp.Errors}) {
		return &exitError{ExitFailure}
	}
	return nil
}

// ParseJobUpdate reads gcontrol update's KEY=VALUE words for jobs
// (scontrol's keys, any case): job= or jobid= (a job list as gcancel
// takes), TimeLimit, Partition, NumNodes, QOS, Nice, Comment, JobName (or
// Name) and Account.
func ParseJobUpdate(args []string) (api.JobUpdateRequest, error) {
	var req api.JobUpdateRequest
	kvs, err := keyValues("update", args)
	if err != nil {
		return req, err
	}
	str := func(v string) *string { return &v }
	hasJob := false
	for _, kv := range kvs {
		k, v := kv.k, kv.v
		switch k {
		case "job", "jobid":
			if hasJob {
				return req, usagef("update: give job= or jobid=, not both")
			}
			hasJob = true
			if req.IDs, req.Tasks, err = ParseCancelRefs([]string{v}); err != nil {
				return req, usagef("update: %s: %v", k, err)
			}
			if len(req.IDs)+len(req.Tasks) == 0 {
				return req, usagef("update: %s= names no job", k)
			}
		case "timelimit", "time":
			secs, unlimited, err := units.ParseTimeLimit(v)
			if err != nil {
				return req, usagef("update: timelimit: %v", err)
			}
			if unlimited {
				secs = api.TimeUnlimited
			}
			req.Set.TimeLimit = &secs
		case "partition":
			req.Set.Partition = str(v)
		case "numnodes", "nodes":
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 {
				return req, usagef("update: numnodes: %q is not a positive number of nodes", queuefmt.CutRunes(v, 32))
			}
			req.Set.Nodes = &n
		case "qos":
			req.Set.QOS = str(v)
		case "nice":
			n, err := strconv.Atoi(v)
			if err != nil || n > 10_000_000 || n < -10_000_000 {
				return req, usagef("update: nice: %q is not a number between -10000000 and 10000000", queuefmt.CutRunes(v, 32))
			}
			req.Set.Nice = &n
		case "comment":
			req.Set.Comment = str(v)
		case "jobname", "name":
			req.Set.Name = str(v)
		case "account":
			req.Set.Account = str(v)
		case "nodename", "node", "state", "reason":
			return req, usagef("update: %s is a node key; update jobs or nodes, not both", k)
		default:
			return req, usagef("update: unknown job key %q (use timelimit, partition, numnodes, qos, nice, comment, jobname, account)", queuefmt.CutRunes(k, 32))
		}
	}
	if !hasJob {
		return req, usagef("update: give job=JOBLIST")
	}
	if req.Set.Empty() {
		return req, usagef("update: nothing to change (give KEY=VALUE: timelimit, partition, numnodes, qos, nice, comment, jobname, account)")
	}
	return req, nil
}
