package dispatch

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"strings"
	"time"

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

// Attempt sends one claimed delivery and returns it in its new state.
type Attempt func(ctx context.Context, d Delivery) Delivery

// Queue is the storage the sender needs.
type Queue interface {
	// SendDue claims one pending delivery due at now, so no other sender
	// takes it meanwhile, runs attempt on it and records what attempt
	// returns. It reports false when nothing was due.
	SendDue(ctx context.Context, now time.Time, attempt Attempt) (bool, error)
}

// Templates renders a message from its template key.
type Templates interface {
	Render(key string, data message.Data) (message.Message, error)
}

// Sender sends due deliveries one at a time, at a steady pace.
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
	// Rate is the most messages sent per second.
	Rate float64
	// PublicURL is the website's base; messages link to its root.
	PublicURL string
	// PollInterval is how long an idle sender waits for a wake-up before it
	// looks again; 500ms when zero.
	PollInterval time.Duration
	// AttemptTimeout bounds one attempt (directory look-up and SMTP); 1
	// minute when zero.
	AttemptTimeout time.Duration
	Logger         *slog.Logger
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Jitter returns a number in [0, 1); math/rand when nil.
	Jitter func() float64
}

// Run sends until ctx is done. A value on wake says new deliveries were
// committed; without one the sender still looks every PollInterval, so a
// lost wake-up only delays.
func (s *Sender) Run(ctx context.Context, wake <-chan struct{}) error {
	poll := s.PollInterval
	if poll <= 0 {
		poll = 500 * time.Millisecond
	}
	limit := rate.Inf
	if s.Rate > 0 {
		limit = rate.Limit(s.Rate)
	}
	limiter := rate.NewLimiter(limit, 1)
	for {
		if err := limiter.Wait(ctx); err != nil {
			return nil // only ctx ends the wait
		}
		found, err := s.Queue.SendDue(ctx, s.now(), s.attemptOnChannel)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			s.Logger.Warn("sending pass failed; will look again", slog.Any("error", err))
		}
		if found && err == nil {
			continue
		}
		timer := time.NewTimer(poll)
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil
		case <-wake:
		case <-timer.C:
		}
		timer.Stop()
	}
}

// attempt resolves the recipient's address, renders and sends d. It never
// returns the address or the content in the delivery's error text.
func (s *Sender) attempt(ctx context.Context, d Delivery) Delivery {
	timeout := s.AttemptTimeout
	if timeout <= 0 {
		timeout = time.Minute
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	log := s.Logger.With(slog.String("delivery", d.Name()), slog.String("event_id", d.EventID))

	fail := func(reason string, permanent bool) Delivery {
		next := d.Failed(s.now(), reason, permanent, s.Retry, s.jitter())
		level := slog.LevelWarn
		if next.State == Dead {
			level = slog.LevelError
		}
		log.Log(ctx, level, "delivery attempt failed", slog.String("reason", next.LastError),
			slog.Int("attempts", next.Attempts), slog.String("state", next.State.String()))
		return next
	}

	to, problem := s.resolve(ctx, d)
	if problem != nil {
		return fail(problem.reason, problem.permanent)
	}

	data := message.Data{
		RecipientName: to.name,
		GroupName:     d.Facts[FactGroupName],
		SignInURL:     strings.TrimRight(s.PublicURL, "/") + "/",
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
	if err != nil {
		log.Error("rendering failed", slog.String("template", d.Template), slog.Any("error", err))
		return fail("the message template "+d.Template+" could not be rendered", true)
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
		return fail(strings.ReplaceAll(err.Error(), to.email, "<recipient>"), false)
	}
	log.Info("delivery sent", slog.Int("attempts", d.Attempts+1))
	return d.Delivered(s.now())
}

// addressee is whom a message goes to, looked up at send time.
type addressee struct {
	name, email string
}

// failure is why a delivery cannot be sent now: for good when permanent,
// else until a later attempt. reason holds no address.
type failure struct {
	reason    string
	permanent bool
}

// resolve looks up d's recipient in the directory.
func (s *Sender) resolve(ctx context.Context, d Delivery) (addressee, *failure) {
	switch d.RecipientKind {
	case MemberRecipient:
		member, err := s.Directory.Member(ctx, d.Recipient)
		switch {
		case errors.Is(err, ErrNotFound):
			return addressee{}, &failure{"the recipient is not in the directory", true}
		case err != nil:
			return addressee{}, &failure{err.Error(), false}
		case !member.Active:
			return addressee{}, &failure{"the recipient is no longer an active member", true}
		case strings.TrimSpace(member.Email) == "":
			return addressee{}, &failure{"the recipient has no e-mail address", true}
		}
		return addressee{member.DisplayName, member.Email}, nil
	case LinkGroupRecipient:
		link, err := s.Directory.LinkGroup(ctx, d.Recipient)
		switch {
		case errors.Is(err, ErrNotFound):
			return addressee{}, &failure{"the recipient is no longer a link group of the group", true}
		case err != nil:
			return addressee{}, &failure{err.Error(), false}
		}
		addr, err := LinkGroupAddress(ctx, s.Directory, link)
		switch {
		case err != nil:
			return addressee{}, &failure{err.Error(), false}
		case addr == "":
			return addressee{}, &failure{"the link group has no e-mail address", true}
		}
		return addressee{link.DisplayName, addr}, nil
	case ClientRecipient:
		return s.resolveClient(ctx, d)
	}
	return addressee{}, &failure{"the recipient is of kind " + d.RecipientKind.String(), true}
}

func (s *Sender) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC().Truncate(time.Microsecond)
	}
	return time.Now().UTC().Truncate(time.Microsecond)
}

func (s *Sender) jitter() float64 {
	if s.Jitter != nil {
		return s.Jitter()
	}
	return rand.Float64()
}
