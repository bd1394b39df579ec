package server

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/gsched/gsched/pkg/api"
	"github.com/gsched/gsched/pkg/fsm"
	"github.com/gsched/gsched/pkg/state"
)

// mailHarness drives an FSM and a mail watch over one store.
type mailHarness struct {
	t     *testing.T
	store *state.Store
	f     *fsm.FSM
	w     *mailWatch
	now   time.Time
}

func newMailHarness(t *testing.T) *mailHarness {
	store, err := state.New()
	if err != nil {
		t.Fatal(err)
	}
	h := &mailHarness{t: t, store: store, f: fsm.New(store, zap.NewNop()), w: newMailWatch(), now: time.Date(2025, 5, 6, 7, 0, 0, 0, time.UTC)}
	h.apply(&fsm.Command{Type: fsm.CmdRegisterNode, Register: &fsm.RegisterCmd{Node: api.Node{Name: "n1", CPUs: 64, MemBytes: 64 << 30}}})
	return h
}

func (h *mailHarness) apply(c *fsm.Command) any {
	h.t.Helper()
	c.Time = h.now
	res, err := h.f.ApplyCommand(c)
	if err != nil {
		h.t.Fatal(err)
	}
	return res
}

func (h *mailHarness) submit(mailType, array string) api.JobID {
	j := api.Job{User: "alice", UID: 1000, Spec: &api.JobSpec{Name: "train", Partition: "main", Nodes: 1, NTasks: 1, CPUsPerTask: 1,
		MemBytes: 1 << 30, TimeLimit: 100, MailType: mailType, MailUser: "alice@example.org", Array: array, Script: "#!/bin/sh\n"}}
	return h.apply(&fsm.Command{Type: fsm.CmdSubmit, Submit: &fsm.SubmitCmd{Jobs: []api.Job{j}}}).(*fsm.SubmitResult).IDs[0]
}

func (h *mailHarness) start(ids ...api.JobID) {
	cmd := &fsm.StartCmd{}
	for _, id := range ids {
		cmd.Placements = append(cmd.Placements, fsm.Placement{JobID: id, Allocs: []api.Allocation{{Node: "n1", CPUs: 1, MemBytes: 1 << 30}}})
	}
	h.apply(&fsm.Command{Type: fsm.CmdStart, Start: cmd})
}

func (h *mailHarness) end(id api.JobID, attempt, code int, timedOut bool) {
	h.apply(&fsm.Command{Type: fsm.CmdFinish, Finish: &fsm.FinishCmd{Node: "n1", Reports: []api.TaskReport{
		{JobID: id, Attempt: attempt, State: api.TaskExited, ExitCode: code, TimedOut: timedOut}}}})
}

// subjects scans and returns the subjects of the mails.
func (h *mailHarness) subjects() []string {
	var out []string
	for _, m := range h.w.scan(h.store.Snapshot(), h.now) {
		if m.to != "alice@example.org" || !strings.Contains(m.body, "User:") {
			h.t.Fatalf("mail %+v", m)
		}
		out = append(out, m.subject)
	}
	return out
}

func (h *mailHarness) expect(want ...string) {
	h.t.Helper()
	got := h.subjects()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		h.t.Fatalf("mails:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// The watch mails BEGIN, time-limit percentages, REQUEUE, END and FAIL as
// asked, once each; the first scan of a new leader mails nothing about
// what happened before it.
func TestMailWatchEvents(t *testing.T) {
	h := newMailHarness(t)
	old := h.submit("ALL", "")
	h.start(old)
	h.expect() // a new leader: nothing about the past
	a := h.submit("BEGIN,END,TIME_LIMIT_50,TIME_LIMIT_90,REQUEUE", "")
	b := h.submit("FAIL,TIME_LIMIT", "")
	c := h.submit("END", "")
	h.submit("", "") // no mail
	h.now = h.now.Add(3 * time.Second)
	h.start(a, b, c)
	h.expect("gsched Job_id=2 Name=train Began, Queued time 00:00:03")
	h.now = h.now.Add(55 * time.Second)
	h.expect("gsched Job_id=2 Name=train Reached 50% of time limit, Run time 00:00:55")
	h.expect() // once
	h.apply(&fsm.Command{Type: fsm.CmdRequeue, Jobs: &fsm.JobsCmd{IDs: []api.JobID{a}}})
	h.end(a, 0, 143, false)
	h.start(a)
	h.expect("gsched Job_id=2 Name=train Requeued", "gsched Job_id=2 Name=train Began, Queued time 00:00:58")
	h.now = h.now.Add(95 * time.Second) // 95 s into a's second run: 90 % passed, 50 % skipped
	h.end(b, 0, 0, true)
	h.end(c, 0, 2, false)
	h.expect("gsched Job_id=2 Name=train Reached 90% of time limit, Run time 00:01:35",
		"gsched Job_id=3 Name=train Reached time limit, Run time 00:02:30",
		"gsched Job_id=3 Name=train Failed, Run time 00:02:30, TIMEOUT, ExitCode 0",
		"gsched Job_id=4 Name=train Ended, Run time 00:02:30, FAILED, ExitCode 2")
	h.end(a, 1, 0, false)
	h.end(old, 0, 0, false)
	h.expect("gsched Job_id=1 Name=train Ended, Run time 00:02:33, COMPLETED, ExitCode 0",
		"gsched Job_id=2 Name=train Ended, Run time 00:01:35, COMPLETED, ExitCode 0")
	if len(h.w.jobs) != 0 {
		t.Fatalf("still watched: %v", h.w.jobs)
	}
}

// An array mails as a whole (first BEGIN, one END or FAIL after its last
// task), or per task with ARRAY_TASKS.
func TestMailWatchArrays(t *testing.T) {
	h := newMailHarness(t)
	h.expect()
	whole := h.submit("BEGIN,FAIL", "0-2")      // jobs 1-3
	tasks := h.submit("END,ARRAY_TASKS", "5-6") // jobs 4-5
	h.now = h.now.Add(time.Second)
	h.start(whole, whole+1, tasks)
	h.expect("gsched Array Summary Job_id=1_* (1) Name=train Began, Queued time 00:00:01")
	h.end(whole, 0, 0, false)
	h.end(whole+1, 0, 3, false)
	h.end(tasks, 0, 0, false)
	h.expect("gsched Array Task Job_id=4_5 (4) Name=train Ended, Run time 00:00:00, COMPLETED, ExitCode 0")
	h.start(whole + 2)
	h.end(whole+2, 0, 0, false)
	h.expect("gsched Array Summary Job_id=1_* (1) Name=train Failed, FAILED, ExitCode 3")
}

// The mailer runs the program with the message on its standard input,
// counts what fails, and drops what does not fit its queue.
func TestMailer(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "mails")
	prog := filepath.Join(dir, "sendmail")
	if err := os.WriteFile(prog, []byte("#!/bin/sh\n[ \"$1\" = -t ] || exit 3\ncat >> "+out+"\necho --- >> "+out+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	m := newMailer(prog+" -t", zap.NewNop())
	m.send(context.Background(), mail{to: "bob", subject: "gsched Job_id=1 Name=x Began", body: "Job: 1\n"})
	b, err := os.ReadFile(out)
	if err != nil || string(b) != "To: bob\nSubject: gsched Job_id=1 Name=x Began\n\nJob: 1\n---\n" || m.sent.Load() != 1 {
		t.Fatalf("mail file %q (%v), sent %d", b, err, m.sent.Load())
	}
	bad := newMailer(prog+" -x", zap.NewNop())
	bad.send(context.Background(), mail{to: "bob"})
	slow := newMailer("/bin/sleep 10", zap.NewNop())
	slow.timeout = 100 * time.Millisecond
	t0 := time.Now()
	slow.send(context.Background(), mail{to: "bob"})
	if bad.failed.Load() != 1 || slow.failed.Load() != 1 || time.Since(t0) > 5*time.Second {
		t.Fatalf("failed: %d %d after %s", bad.failed.Load(), slow.failed.Load(), time.Since(t0))
	}
	for i := 0; i < mailQueueLen+3; i++ {
		m.enqueue(mail{to: "bob"}) // nothing sends: the queue fills
	}
	if m.dropped.Load() != 3 || len(m.queue) != mailQueueLen {
		t.Fatalf("dropped %d, queued %d", m.dropped.Load(), len(m.queue))
	}
	if newMailer("  ", zap.NewNop()) != nil {
		t.Fatal("a mailer without a program")
	}
}

func TestCheckMail(t *testing.T) {
	for _, tc := range []struct {
		typ, user        string
		wantType, wantTo string
		err              string
	}{
		{"all", "", "BEGIN,END,FAIL,REQUEUE", "alice", ""},
		{"end,begin", "bob@example.org", "BEGIN,END", "bob@example.org", ""},
		{"NONE", "", "", "alice", ""},
		{"END", "bob\nBcc: eve", "", "", "invalid --mail-user"},
		{"", "a b", "", "", "invalid --mail-user"},
		{"sometimes", "", "", "", "invalid --mail-type"},
	} {
		s := api.JobSpec{MailType: tc.typ, MailUser: tc.user}
		err := checkMail(&s, "alice")
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q %q: err %v, want %q", tc.typ, tc.user, err, tc.err)
			}
			continue
		}
		if err != nil || s.MailType != tc.wantType || s.MailUser != tc.wantTo {
			t.Errorf("%q %q: %q %q %v, want %q %q", tc.typ, tc.user, s.MailType, s.MailUser, err, tc.wantType, tc.wantTo)
		}
	}
}
