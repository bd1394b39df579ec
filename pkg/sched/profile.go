package sched

import (
	"math"
	"slices"
	"sort"
)

// Times inside a pass are int64 nanoseconds after Input.Now; inf stands
// for "never" (an unlimited job's end, a release that does not come).
const inf = math.MaxInt64

// demand is what a job asks of one node, and for how long.
type demand struct {
	cpus int
	mem  int64
	gpus int
	dur  int64 // inf = unlimited
	req  *req  // GPU model/memory and feature requirements; nil: none
}

// step says what a node has free from at until the next step's at (the
// last step lasts for ever).
type step struct {
	at   int64
	mem  int64
	cpus int
	gpus int
}

func (s *step) holds(d *demand) bool {
	return s.cpus >= d.cpus && s.mem >= d.mem && s.gpus >= d.gpus
}

// profile is a node's free resources over time: a step function with
// p[0].at == 0 (now) and strictly increasing times. It starts as what is
// free now plus what running jobs give back at their deadlines; placements
// and reservations are subtracted from it over their intervals.
//
// A profile without reservations never decreases over time (releases add,
// placements subtract from now to their end), so a job that fits now on
// such a node fits for its whole run.
type profile []step

// index returns the index of the step that holds time t (t >= 0), looking no
// earlier than hint.
func (p profile) index(t int64, hint int) int {
	if len(p)-hint > 8 {
		return hint + sort.Search(len(p)-hint, func(i int) bool { return p[hint+i].at > t }) - 1
	}
	i := hint
	for i+1 < len(p) && p[i+1].at <= t {
		i++
	}
	return i
}

// fits reports whether d fits during [start, start+d.dur).
func (p profile) fits(d *demand, start int64) bool {
	end := addSat(start, d.dur)
	for k := p.index(start, 0); k < len(p) && p[k].at < end; k++ {
		if !p[k].holds(d) {
			return false
		}
	}
	return true
}

// earliest returns the earliest time t >= lb, t <= limit, at which d fits
// for its whole duration, or inf. The candidates are lb and the rounded
// starts of later steps (rnd rounds times up to the resolution); lb must
// itself be 0 or a rounded candidate.
func (p profile) earliest(d *demand, lb, limit int64, rnd rounder) int64 {
	if lb > limit {
		return inf
	}
	cand := lb
	i := p.index(cand, 0)
	for {
		end := addSat(cand, d.dur)
		k := i
		for k < len(p) && p[k].at < end && p[k].holds(d) {
			k++
		}
		if k == len(p) || p[k].at >= end {
			return cand
		}
		// Step k is too small: every start up to its end overlaps it.
		for k++; k < len(p) && !p[k].holds(d); k++ {
		}
		if k == len(p) {
			return inf
		}
		if cand = rnd.up(p[k].at); cand > limit {
			return inf
		}
		i = p.index(cand, k)
	}
}

// split makes sure a step starts at t (0 < t < inf) and returns its index.
func (p *profile) split(t int64) int {
	q := *p
	i := q.index(t, 0)
	if q[i].at == t {
		return i
	}
	s := q[i]
	s.at = t
	*p = slices.Insert(q, i+1, s)
	return i + 1
}

// take subtracts d from the profile over [start, start+d.dur).
func (p *profile) take(d *demand, start int64) {
	a := 0
	if start > 0 {
		a = p.split(start)
	}
	b := len(*p)
	if end := addSat(start, d.dur); end < inf {
		b = p.split(end)
	}
	q := *p
	for k := a; k < b; k++ {
		q[k].cpus -= d.cpus
		q[k].mem -= d.mem
		q[k].gpus -= d.gpus
	}
}

// addSat adds two non-negative times, saturating at inf.
func addSat(a, b int64) int64 {
	if b >= inf-a {
		return inf
	}
	return a + b
}
