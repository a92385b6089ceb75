package dispatch

import (
	"cmp"
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/ipnmediation/disputes/platform/tracing"
	"github.com/ipnmediation/disputes/services/notification/internal/message"
	"golang.org/x/time/rate"
)

// Mail is one message ready for the mail server.
type Mail struct {
	// MessageID is the stable Message-ID, without angle brackets.
	MessageID string
	ToName    string
	ToAddress string
	Subject   string
	Text      string
	HTML      string
}

// Mailer hands mail to a mail server. Its errors must not contain the
// message's content or the recipient's address.
type Mailer interface {
	Send(ctx context.Context, m Mail) error
}

// Queue is the storage the sender needs. An attempt is claimed and
// counted in one short transaction before the hand-off and its outcome
// recorded in another after it, so that the log shows every hand-off even
// when the second never happens: two hand-offs are two attempts.
type Queue interface {
	// Claim takes the pending delivery due first at now that no other
	// sender holds, applies claim to it (see Delivery.Claimed) and commits
	// that before it returns it, so no other sender takes it meanwhile and
	// the attempt is on record before the message leaves. It reports false
	// when nothing is due.
	Claim(ctx context.Context, now time.Time, claim func(Delivery) Delivery) (Delivery, bool, error)
	// Record stores the outcome of d's attempt (state, failures, due time,
	// last error, send time, channel) only while that attempt is still the
	// delivery's latest and the delivery is pending. ok is false, and
	// nothing changes, when it is not: the lease ran out and another
	// sender claimed it again, whose outcome is the one that counts.
	Record(ctx context.Context, d Delivery) (ok bool, err error)
}

// Templates renders a message from its template key.
type Templates interface {
	Render(key string, data message.Data) (message.Message, error)
}

// The defaults of the Sender's timing.
const (
	DefaultAttemptTimeout = time.Minute
	// DefaultProbeMin and DefaultProbeMax bound the sender's pause after a
	// Transient failure: it doubles from the one to the other while
	// failures go on, and ends at the first attempt that gets an answer.
	// At most one attempt per DefaultProbeMax is made during a long
	// outage, and sending resumes within about DefaultProbeMax +
	// Retry.Transient of the dependency's return.
	DefaultProbeMin = 500 * time.Millisecond
	DefaultProbeMax = 3 * time.Second
)

// Sender sends due deliveries, Workers at a time, at a steady pace.
type Sender struct {
	Queue     Queue
	Directory Directory
	// Casework gives the client's address for deliveries to a client.
	Casework Casework
	Mailer   Mailer
	// Federation delivers link group notices to peer deployments over
	// gRPC; nil sends every message by e-mail.
	Federation Federation
	Templates  Templates
	Retry      Retry
	// Rate is the most messages sent per second, by all the workers
	// together.
	Rate float64
	// Workers is how many deliveries are attempted at once; 1 when zero.
	// Each attempt waits on the directory, the mail server and two commits,
	// so one worker alone sends a few dozen messages a second at most,
	// fewer than a busy day's concerns can bring.
	Workers int
	// PublicURL is the website's base; messages link to its root.
	PublicURL string
	// PollInterval is how long an idle sender waits for a wake-up before it
	// looks again; 500ms when zero.
	PollInterval time.Duration
	// AttemptTimeout bounds one attempt (directory look-up and SMTP);
	// DefaultAttemptTimeout when zero.
	AttemptTimeout time.Duration
	// Lease is how long a claimed delivery is kept from other senders: a
	// sender that dies during an attempt, or cannot record its outcome,
	// leaves the delivery due again when the lease runs out. It must be
	// longer than AttemptTimeout; AttemptTimeout + 30s when zero.
	Lease time.Duration
	// ProbeMin and ProbeMax bound the pause after a Transient failure;
	// DefaultProbeMin and DefaultProbeMax when zero.
	ProbeMin, ProbeMax time.Duration
	Logger             *slog.Logger
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Jitter returns a number in [0, 1); math/rand when nil.
	Jitter func() float64
	// Attempted, when set, is told of every attempt's outcome: the
	// delivery in its new state, on the channel it went by (metrics).
	Attempted func(next Delivery)
}

// outcome is how one turn of the sender went.
type outcome int

const (
	// idle: nothing was due.
	idle outcome = iota
	// answered: an attempt was made and whatever it needed answered (the
	// message went, or was refused, or failed in a way that counts).
	answered
	// unreachable: something the attempt needed (PostgreSQL, the
	// directory, casework, the mail server) could not be reached.
	unreachable
)

// Run sends until ctx is done. A value on wake says new deliveries were
// committed; without one the sender still looks every PollInterval, so a
// lost wake-up only delays. While something it needs is unreachable it
// pauses between attempts (see DefaultProbeMax), so that an outage costs
// the dependency one attempt every few seconds and the log a line a minute,
// and it resumes at the first attempt that gets through.
func (s *Sender) Run(ctx context.Context, wake <-chan struct{}) error {
	limit := rate.Inf
	if s.Rate > 0 {
		limit = rate.Limit(s.Rate)
	}
	// One limiter for all the workers: Rate is the process's pace.
	limiter := rate.NewLimiter(limit, 1)
	pause := &pauser{min: cmp.Or(s.ProbeMin, DefaultProbeMin), max: cmp.Or(s.ProbeMax, DefaultProbeMax), log: s.Logger}
	var wg sync.WaitGroup
	for range max(s.Workers, 1) {
		wg.Go(func() { s.work(ctx, wake, limiter, pause) })
	}
	wg.Wait()
	return nil
}

// work is one worker's loop: claim, attempt, record, at the shared pace
// and under the shared pause.
func (s *Sender) work(ctx context.Context, wake <-chan struct{}, limiter *rate.Limiter, pause *pauser) {
	poll := s.PollInterval
	if poll <= 0 {
		poll = 500 * time.Millisecond
	}
	for {
		if !pause.admit(ctx) {
			return
		}
		if err := limiter.Wait(ctx); err != nil {
			return // only ctx ends the wait
		}
		got, reason := s.turn(ctx)
		if ctx.Err() != nil {
			return
		}
		switch got {
		case answered:
			pause.answered()
			continue
		case unreachable:
			// Wake-ups are not heeded while paused: new deliveries need
			// what is unreachable as much as the old ones.
			pause.failed(reason)
			continue
		}
		pause.idle()
		timer := time.NewTimer(poll)
		select {
		case <-ctx.Done():
			timer.Stop()
			return
		case <-wake:
		case <-timer.C:
		}
		timer.Stop()
	}
}

// turn claims one due delivery, attempts it and records the outcome. The
// reason, for an unreachable outcome, says what was unreachable.
func (s *Sender) turn(ctx context.Context) (outcome, string) {
	now, started, lease := s.now(), time.Now(), s.lease()
	d, found, err := s.Queue.Claim(ctx, now, func(d Delivery) Delivery { return d.Claimed(now, lease) })
	switch {
	case err != nil:
		return unreachable, "claim a due delivery: " + err.Error()
	case !found:
		return idle, ""
	}
	// The hand-off joins the trace of the transaction that planned the
	// delivery: the concern's, for an event's deliveries.
	ctx = tracing.Deserialize(ctx, d.TraceParent, d.TraceState)
	next, cut := s.attemptOnChannel(ctx, d)
	s.record(ctx, next, started.Add(lease))
	if s.Attempted != nil {
		s.Attempted(next)
	}
	if cut {
		return unreachable, next.LastError
	}
	return answered, ""
}

// record stores the outcome of an attempt, trying again while PostgreSQL
// is briefly away (a restart takes seconds) until the claim's lease runs
// out: every outcome recorded saves a message from being handed off a
// second time. Should it never be recorded, the delivery is due again when
// the lease runs out, and its next attempt is counted as the second.
func (s *Sender) record(ctx context.Context, d Delivery, leaseEnd time.Time) {
	log := s.Logger.With(slog.String("delivery", d.Name()), slog.Int("attempts", d.Attempts))
	wait := 100 * time.Millisecond
	for {
		// The outcome is recorded even when ctx ended during the attempt:
		// the mail may have gone.
		deadline := time.Now().Add(10 * time.Second)
		if leaseEnd.Before(deadline) {
			deadline = leaseEnd
		}
		rctx, cancel := context.WithDeadline(context.WithoutCancel(ctx), deadline)
		ok, err := s.Queue.Record(rctx, d)
		cancel()
		if err == nil {
			if !ok {
				log.WarnContext(ctx, "the outcome of an attempt came after its lease; the attempt that claimed the delivery since decides")
			}
			return
		}
		if ctx.Err() != nil || time.Until(leaseEnd) < wait {
			log.ErrorContext(ctx, "the outcome of an attempt could not be recorded; the delivery is attempted again when its lease runs out",
				slog.String("state", d.State.String()), slog.Any("error", err))
			return
		}
		log.DebugContext(ctx, "recording the outcome of an attempt failed; trying again", slog.Any("error", err))
		if !sleep(ctx, wait) {
			continue // one more try, then the check above gives up
		}
		wait = min(2*wait, 2*time.Second)
	}
}

// attempt resolves the recipient's address, renders and sends claimed d,
// and returns it in its new state; cut says the attempt failed because
// something of ours or on the way was unreachable. It never returns the
// address or the content in the delivery's error text.
func (s *Sender) attempt(ctx context.Context, d Delivery) (next Delivery, cut bool) {
	ctx, cancel := context.WithTimeout(ctx, s.attemptTimeout())
	defer cancel()
	log := s.Logger.With(slog.String("delivery", d.Name()), slog.String("event_id", d.EventID))

	fail := func(reason string, class Class) (Delivery, bool) {
		next := d.Failed(s.now(), reason, class, s.Retry, s.jitter())
		logFailure(ctx, log, "delivery attempt failed", next, class, class == Transient)
		return next, class == Transient
	}

	to, problem := s.resolve(ctx, d)
	if problem != nil {
		return fail(problem.reason, problem.class)
	}

	data := message.Data{
		RecipientName: to.name,
		GroupName:     d.Facts[FactGroupName],
		SignInURL:     d.Page(s.PublicURL),
		Reference:     d.Facts.Reference(),
		FromGroupName: d.Facts[FactFromGroupName],
	}
	data = withTimer(data, d.Facts)
	data = withDigest(data, d.Facts)
	var msg message.Message
	var err error
	if g, ok := s.Templates.(GroupTemplates); ok {
		msg, err = g.RenderFor(ctx, d.Group, d.Template, data)
	} else {
		msg, err = s.Templates.Render(d.Template, data)
	}
	var unread wordingUnread
	if errors.As(err, &unread) {
		return fail(err.Error(), Classify(err))
	}
	if err != nil {
		log.ErrorContext(ctx, "rendering failed", slog.String("template", d.Template), slog.Any("error", err))
		return fail("the message template "+d.Template+" could not be rendered", Permanent)
	}

	err = s.Mailer.Send(ctx, Mail{
		MessageID: d.MessageID(),
		ToName:    to.name,
		ToAddress: to.email,
		Subject:   msg.Subject,
		Text:      msg.Text,
		HTML:      msg.HTML,
	})
	if err != nil {
		return fail(strings.ReplaceAll(err.Error(), to.email, "<recipient>"), Classify(err))
	}
	log.InfoContext(ctx, "delivery sent", slog.Int("attempts", d.Attempts))
	return d.Delivered(s.now()), false
}

// logFailure logs a failed attempt: a death at ERROR, other failures at
// WARN, or at DEBUG only when quiet: for a Transient failure of what the
// sender itself needs, the sender says once that it pauses and why, rather
// than once per delivery it tries.
func logFailure(ctx context.Context, log *slog.Logger, msg string, next Delivery, class Class, quiet bool) {
	level := slog.LevelWarn
	switch {
	case next.State == Dead:
		level = slog.LevelError
	case quiet:
		level = slog.LevelDebug
	}
	log.Log(ctx, level, msg, slog.String("reason", next.LastError), slog.String("class", class.String()),
		slog.Int("attempts", next.Attempts), slog.Int("failures", next.Failures), slog.String("state", next.State.String()))
}

// addressee is whom a message goes to, looked up at send time.
type addressee struct {
	name, email string
}

// failure is why a delivery cannot be sent now, and its class. reason
// holds no address.
type failure struct {
	reason string
	class  Class
}

// failureOf is a look-up's failure: its text, classified.
func failureOf(err error) *failure { return &failure{err.Error(), Classify(err)} }

// resolve looks up d's recipient in the directory.
func (s *Sender) resolve(ctx context.Context, d Delivery) (addressee, *failure) {
	switch d.RecipientKind {
	case MemberRecipient:
		member, err := s.Directory.Member(ctx, d.Recipient)
		switch {
		case errors.Is(err, ErrNotFound):
			return addressee{}, &failure{"the recipient is not in the directory", Permanent}
		case err != nil:
			return addressee{}, failureOf(err)
		case !member.Active:
			return addressee{}, &failure{"the recipient is no longer an active member", Permanent}
		case strings.TrimSpace(member.Email) == "":
			return addressee{}, &failure{"the recipient has no e-mail address", Permanent}
		}
		return addressee{member.DisplayName, member.Email}, nil
	case LinkGroupRecipient:
		link, err := s.Directory.LinkGroup(ctx, d.Recipient)
		switch {
		case errors.Is(err, ErrNotFound):
			return addressee{}, &failure{"the recipient is no longer a link group of the group", Permanent}
		case err != nil:
			return addressee{}, failureOf(err)
		}
		addr, err := LinkGroupAddress(ctx, s.Directory, link)
		switch {
		case err != nil:
			return addressee{}, failureOf(err)
		case addr == "":
			return addressee{}, &failure{"the link group has no e-mail address", Permanent}
		}
		return addressee{link.DisplayName, addr}, nil
	case ClientRecipient:
		return s.resolveClient(ctx, d)
	}
	return addressee{}, &failure{"the recipient is of kind " + d.RecipientKind.String(), Permanent}
}

func (s *Sender) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC().Truncate(time.Microsecond)
	}
	return time.Now().UTC().Truncate(time.Microsecond)
}

func (s *Sender) attemptTimeout() time.Duration {
	return cmp.Or(s.AttemptTimeout, DefaultAttemptTimeout)
}

func (s *Sender) lease() time.Duration {
	if s.Lease > 0 {
		return s.Lease
	}
	return s.attemptTimeout() + 30*time.Second
}

func (s *Sender) jitter() float64 {
	if s.Jitter != nil {
		return s.Jitter()
	}
	return rand.Float64()
}
