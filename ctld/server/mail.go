package server

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/gsched/gsched/pkg/api"
)

// Mail (--mail-type, --mail-user). The leader watches the jobs that asked
// for mail (mailwatch.go) and queues a message per event; one sender runs
// controller.mail_program for each, with a time limit, so neither the
// scheduler nor raft ever waits on mail. The queue is bounded: when it is
// full a message is dropped, logged and counted.
//
// Delivery is at most once: events are seen in the leader's memory only.
// A controller that becomes the leader (at start-up, or taking over in an
// HA set) mails about what happens from then on, not about what happened
// before; messages queued or being sent when a leader stops are lost.

// checkMail checks and normalises a spec's mail type and recipient; the
// recipient defaults to the submitting user.
func checkMail(spec *api.JobSpec, user string) error {
	if spec.MailType == "" {
		if spec.MailUser != "" && !api.ValidMailUser(spec.MailUser) {
			return invalid("invalid --mail-user %q: give a user name or an address", truncate(spec.MailUser, 64))
		}
		return nil
	}
	if len(spec.MailType) > maxNameLen {
		return invalid("the --mail-type value is longer than %d bytes", maxNameLen)
	}
	ev, err := api.ParseMailType(spec.MailType)
	if err != nil {
		return err
	}
	spec.MailType = ev.String()
	if spec.MailUser == "" {
		spec.MailUser = user
	}
	if !api.ValidMailUser(spec.MailUser) {
		return invalid("invalid --mail-user %q: give a user name or an address", truncate(spec.MailUser, 64))
	}
	return nil
}

// Mail queue bounds.
const (
	mailQueueLen  = 256
	mailTimeout   = 30 * time.Second
	mailOutputMax = 512
)

// mail is one message.
type mail struct {
	to, subject, body string
}

// mailer sends queued messages with the mail program.
type mailer struct {
	argv    []string
	log     *zap.Logger
	queue   chan mail
	timeout time.Duration
	// Counters: sent, failed (the program failed or timed out) and
	// dropped (the queue was full).
	sent, failed, dropped atomic.Uint64
}

// newMailer returns a mailer running prog, nil when prog is empty.
func newMailer(prog string, log *zap.Logger) *mailer {
	argv := strings.Fields(prog)
	if len(argv) == 0 {
		return nil
	}
	return &mailer{argv: argv, log: log, queue: make(chan mail, mailQueueLen), timeout: mailTimeout}
}

// enqueue queues a message without waiting.
func (m *mailer) enqueue(ml mail) {
	select {
	case m.queue <- ml:
	default:
		n := m.dropped.Add(1)
		m.log.Warn("mail dropped: the queue is full", zap.String("to", ml.to), zap.String("subject", ml.subject),
			zap.Uint64("dropped_total", n))
	}
}

// run sends queued messages until ctx is done.
func (m *mailer) run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case ml := <-m.queue:
			m.send(ctx, ml)
		}
	}
}

// message is the text handed to the mail program.
func (ml mail) message() string {
	return "To: " + ml.to + "\nSubject: " + ml.subject + "\n\n" + ml.body
}

func (m *mailer) send(ctx context.Context, ml mail) {
	ctx, cancel := context.WithTimeout(ctx, m.timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, m.argv[0], m.argv[1:]...)
	cmd.Stdin = strings.NewReader(ml.message())
	cmd.WaitDelay = time.Second
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		n := m.failed.Add(1)
		text := out.String()
		if len(text) > mailOutputMax {
			text = text[:mailOutputMax]
		}
		m.log.Warn("mail program failed", zap.String("to", ml.to), zap.String("subject", ml.subject), zap.Error(err),
			zap.String("output", text), zap.Uint64("failed_total", n))
		return
	}
	m.sent.Add(1)
	m.log.Debug("mail sent", zap.String("to", ml.to), zap.String("subject", ml.subject))
}

// mailLoop runs the mailer and the leader's job watch until ctx is done.
func (s *Server) mailLoop(ctx context.Context) {
	if s.mail == nil {
		return
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); s.mail.run(ctx) }()
	w := newMailWatch()
	t := time.NewTicker(mailWatchInterval)
	defer t.Stop()
	for first := true; ; first = false {
		if !first {
			select {
			case <-ctx.Done():
				wg.Wait()
				return
			case <-t.C:
			}
		}
		// The first scan (at once: a single controller watches from its
		// start) only takes note of the jobs.
		if !s.leading() {
			w.reset()
			continue
		}
		for _, ml := range w.scan(s.store.Snapshot(), s.now()) {
			s.mail.enqueue(ml)
		}
	}
}

// hms formats a duration as Slurm's mails do: [D-]HH:MM:SS.
func hms(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	sec := int64(d / time.Second)
	days, sec := sec/86400, sec%86400
	s := fmt.Sprintf("%02d:%02d:%02d", sec/3600, sec/60%60, sec%60)
	if days > 0 {
		s = fmt.Sprintf("%d-%s", days, s)
	}
	return s
}
