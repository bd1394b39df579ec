package server

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/gsched/gsched/pkg/api"
	"github.com/gsched/gsched/pkg/state"
)

// mailWatchInterval is how often the leader looks for mail events.
const mailWatchInterval = time.Second

// mailWatch finds the events of jobs that asked for mail by comparing
// each scan's snapshot with what the previous scans saw. It lives in the
// leader's memory only (see mail.go for what that means for delivery).
type mailWatch struct {
	ready bool
	last  api.JobID // the highest job ID looked at
	jobs  map[api.JobID]*mailTrack
	// arrays aggregates the tasks of arrays without ARRAY_TASKS.
	arrays map[api.JobID]*arrayMail
}

// mailTrack is what the watch last saw of a job.
type mailTrack struct {
	state    api.JobState
	restarts int
	pct      int // the highest time-limit percentage passed in this run
}

// arrayMail is a job array mailed about as a whole: BEGIN when its first
// task starts, END or FAIL once its last task has ended.
type arrayMail struct {
	left    int // tasks not yet ended
	began   bool
	failed  bool
	maxExit int
}

func newMailWatch() *mailWatch { return &mailWatch{} }

// reset forgets everything (this controller no longer leads).
func (w *mailWatch) reset() { *w = mailWatch{} }

// scan returns the mails of the events since the previous scan. The first
// scan only takes note of the live jobs: no mail about the past.
func (w *mailWatch) scan(snap *state.Snapshot, now time.Time) []mail {
	last := api.JobID(snap.Meta(state.MetaNextJobID))
	if !w.ready {
		w.ready, w.last = true, last
		w.jobs, w.arrays = map[api.JobID]*mailTrack{}, map[api.JobID]*arrayMail{}
		for _, st := range []api.JobState{api.StatePending, api.StateRunning, api.StateCompleting} {
			for _, j := range snap.JobsBy(nil, state.IndexState, string(st)) {
				if j.Spec.MailType != "" {
					w.jobs[j.ID] = &mailTrack{state: j.State, restarts: j.Restarts, pct: percentRun(j, now)}
					w.array(snap, j, false)
				}
			}
		}
		return nil
	}
	for id := w.last + 1; id <= last; id++ {
		if j := snap.Job(nil, id); j != nil && j.Spec.MailType != "" {
			w.jobs[id] = &mailTrack{state: api.StatePending}
			w.array(snap, j, true)
		}
	}
	w.last = last
	ids := make([]api.JobID, 0, len(w.jobs))
	for id := range w.jobs {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	var out []mail
	for _, id := range ids {
		j := snap.Job(nil, id)
		if j == nil {
			delete(w.jobs, id) // purged
			continue
		}
		out = append(out, w.events(j, w.jobs[id], now)...)
		if j.State.Final() {
			delete(w.jobs, id)
		}
	}
	return out
}

// array starts aggregating the array of task j, if it is one mailed about
// as a whole. A new array (submitted since the last scan: fresh) is
// followed from its submission, every task of it watched from PENDING;
// an array already queued when the watch started, from where it is.
func (w *mailWatch) array(snap *state.Snapshot, j *api.Job, fresh bool) {
	if !j.IsArrayTask() || w.arrays[j.ArrayJobID] != nil {
		return
	}
	ev, _ := api.ParseMailType(j.Spec.MailType)
	head := snap.Job(nil, j.ArrayJobID)
	if ev&api.MailArrayTasks != 0 || head == nil {
		return
	}
	a := &arrayMail{}
	for _, t := range arrayTasks(snap, head, nil) {
		if fresh || !t.State.Final() {
			a.left++
		}
		a.began = a.began || !fresh && !t.StartTime.IsZero()
	}
	w.arrays[j.ArrayJobID] = a
}

// percentRun is how much of its time limit a running job has used, in
// percent (0 without a limit).
func percentRun(j *api.Job, now time.Time) int {
	lim := j.TimeLimitDuration()
	if j.State != api.StateRunning || lim <= 0 || j.StartTime.IsZero() {
		return 0
	}
	return int(now.Sub(j.StartTime) * 100 / lim)
}

var timeLimitMails = []struct {
	pct int
	ev  api.MailEvents
}{{90, api.MailTimeLimit90}, {80, api.MailTimeLimit80}, {50, api.MailTimeLimit50}}

// events returns the mails of what happened to j since tr, and updates tr.
func (w *mailWatch) events(j *api.Job, tr *mailTrack, now time.Time) []mail {
	ev, _ := api.ParseMailType(j.Spec.MailType)
	perTask := !j.IsArrayTask() || ev&api.MailArrayTasks != 0
	var out []mail
	if j.Restarts > tr.restarts {
		if ev&api.MailRequeue != 0 && perTask {
			out = append(out, jobMail(j, "Requeued", ""))
		}
		tr.restarts, tr.pct, tr.state = j.Restarts, 0, api.StatePending
	}
	if tr.state == api.StatePending && j.State != api.StatePending && !j.StartTime.IsZero() && ev&api.MailBegin != 0 {
		if perTask {
			out = append(out, jobMail(j, "Began", "Queued time "+hms(j.StartTime.Sub(j.SubmitTime))))
		} else if a := w.arrays[j.ArrayJobID]; a != nil && !a.began {
			a.began = true
			out = append(out, arrayMailOf(j, "Began", "Queued time "+hms(j.StartTime.Sub(j.SubmitTime))))
		}
	}
	if pct := percentRun(j, now); pct > tr.pct {
		for _, t := range timeLimitMails {
			if pct >= t.pct && tr.pct < t.pct {
				if ev&t.ev != 0 && perTask {
					out = append(out, jobMail(j, fmt.Sprintf("Reached %d%% of time limit", t.pct), "Run time "+hms(j.Elapsed(now))))
				}
				break // only the highest threshold passed since the last scan
			}
		}
		tr.pct = pct
	}
	if j.State.Final() && !tr.state.Final() {
		out = append(out, w.ended(j, ev, perTask)...)
	}
	tr.state = j.State
	return out
}

// ended returns the mails of j's end: TIME_LIMIT for a timeout, END for a
// job that completed or was cancelled, FAIL (else END) for the others, as
// Slurm sends them; for an array mailed as a whole, one END or FAIL once
// its last task has ended.
func (w *mailWatch) ended(j *api.Job, ev api.MailEvents, perTask bool) []mail {
	ok := j.State == api.StateCompleted || j.State == api.StateCancelled
	what := ""
	switch {
	case ok && ev&api.MailEnd != 0, !ok && ev&api.MailFail == 0 && ev&api.MailEnd != 0:
		what = "Ended"
	case !ok && ev&api.MailFail != 0:
		what = "Failed"
	}
	if !perTask {
		a := w.arrays[j.ArrayJobID]
		if a == nil {
			return nil
		}
		a.left--
		a.failed = a.failed || j.State != api.StateCompleted
		a.maxExit = max(a.maxExit, j.ExitCode)
		if a.left > 0 || ev&(api.MailEnd|api.MailFail) == 0 {
			return nil
		}
		st, word := api.StateCompleted, "Ended"
		if a.failed {
			st = api.StateFailed
			if ev&api.MailFail != 0 {
				word = "Failed"
			}
		}
		return []mail{arrayMailOf(j, word, fmt.Sprintf("%s, ExitCode %d", st, a.maxExit))}
	}
	var out []mail
	if j.State == api.StateTimeout && ev&api.MailTimeLimit != 0 {
		out = append(out, jobMail(j, "Reached time limit", "Run time "+hms(j.Elapsed(j.EndTime))))
	}
	if what != "" {
		out = append(out, jobMail(j, what, fmt.Sprintf("Run time %s, %s, ExitCode %d", hms(j.Elapsed(j.EndTime)), j.State, j.ExitCode)))
	}
	return out
}

// jobMail is a mail about job j: "gsched Job_id=123 Name=train Began,
// Queued time 00:00:01" (an array task: "gsched Array Task
// Job_id=123_7 (130) ...").
func jobMail(j *api.Job, what, detail string) mail {
	id := "Job_id=" + j.ID.String()
	if j.IsArrayTask() {
		id = fmt.Sprintf("Array Task Job_id=%s (%d)", j.DisplayID(), j.ID)
	}
	return mail{to: j.Spec.MailUser, subject: subject(id, j.Spec.Name, what, detail), body: mailBody(j)}
}

// arrayMailOf is a mail about the array task j belongs to, as a whole.
func arrayMailOf(j *api.Job, what, detail string) mail {
	id := fmt.Sprintf("Array Summary Job_id=%d_* (%d)", j.ArrayJobID, j.ArrayJobID)
	return mail{to: j.Spec.MailUser, subject: subject(id, j.Spec.Name, what, detail), body: mailBody(j)}
}

func subject(id, name, what, detail string) string {
	s := "gsched " + id + " Name=" + name + " " + what
	if detail != "" {
		s += ", " + detail
	}
	return s
}

// mailBody is the job's main facts, one per line.
func mailBody(j *api.Job) string {
	var b strings.Builder
	line := func(k, v string) {
		if v != "" {
			fmt.Fprintf(&b, "%-11s %s\n", k+":", v)
		}
	}
	when := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.Format(time.RFC3339)
	}
	line("Job", j.DisplayID())
	line("Name", j.Spec.Name)
	line("User", j.User)
	line("Partition", j.Spec.Partition)
	line("State", string(j.State))
	line("Nodes", j.NodeList())
	line("Submitted", when(j.SubmitTime))
	line("Started", when(j.StartTime))
	line("Ended", when(j.EndTime))
	if j.State.Final() {
		line("Exit code", fmt.Sprintf("%d", j.ExitCode))
	}
	line("Work dir", j.Spec.WorkDir)
	return b.String()
}
