package server

import (
	"context"
	"time"

	"github.com/gsched/gsched/pkg/api"
	"github.com/gsched/gsched/pkg/queuefmt"
	"github.com/gsched/gsched/pkg/rpc"
)

// queueText lays out gqueue's listing on the controller (see
// api.QueueTextRequest): the jobs listJobs would answer, as gqueue would
// print them, read in place from the snapshot.
func (s *Server) queueText(ctx context.Context, req *api.QueueTextRequest) (any, error) {
	if _, _, err := s.caller(ctx); err != nil {
		return nil, err
	}
	view := queuefmt.View{Fold: !req.Array, Date: req.Date,
		Ctx: queuefmt.Ctx{Now: s.now(), Loc: time.UTC, BitstrLen: req.BitstrLen}}
	if req.Format != "" {
		format, err := queuefmt.ParseFormat(req.Format)
		if err != nil {
			return nil, invalid("%v", err)
		}
		view.Format = format
	}
	if req.Sort != "" {
		keys, err := queuefmt.ParseSort(req.Sort)
		if err != nil {
			return nil, invalid("%v", err)
		}
		view.Sort = keys
	}
	if view.ShowsGroupNames() {
		return nil, invalid("this format shows group names, which the client's host resolves: list the jobs and lay them out there")
	}
	if view.ShowsLocalTimes() {
		if req.TimeZone == "" {
			return nil, invalid("this format shows times of day and the request names no time zone")
		}
		loc, err := time.LoadLocation(req.TimeZone)
		if err != nil {
			return nil, invalid("time zone %q: %v", req.TimeZone, err)
		}
		view.Ctx.Loc = loc
	}

	jobs, err := selectJobs(s.store.Snapshot(), &req.Filter)
	if err != nil {
		return nil, err
	}
	// What the latest pass said, as view gives it to a listing, but
	// beside the records instead of in copies of them.
	plan := s.plan()
	view.Planner = func(j *api.Job) (queuefmt.Plan, bool) {
		r, start, prio, ok := plan.of(j)
		return queuefmt.Plan{Reason: r, ExpectedStart: start, Priority: prio}, ok
	}
	return rpc.Raw(view.Text(jobs, !req.NoHeader)), nil
}
