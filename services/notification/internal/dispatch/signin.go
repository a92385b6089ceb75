package dispatch

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"
	_ "time/tzdata" // the UK's zone, on a host without a zone database

	"github.com/google/uuid"
	"github.com/ipnmediation/disputes/platform/fault"
	"github.com/ipnmediation/disputes/services/notification/internal/message"
)

// ukTime is where the members are: a sign-in mail says when the link was
// asked for as their clocks show it.
var ukTime = mustLoad("Europe/London")

func mustLoad(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

// SignInLink is a sign-in link the directory made for a member, to be
// e-mailed to them. URL holds the secret: it goes into the mail and
// nowhere else (no row, no log line, no error).
type SignInLink struct {
	// Member is "groups/{group}/members/{member}".
	Member      string
	MemberName  string
	GroupName   string
	Email       string
	URL         string
	RequestTime time.Time
	ExpireTime  time.Time
	// RequestedFrom is where the request came from, coarsely, in words;
	// empty when unknown.
	RequestedFrom string
}

// SignInLinks e-mails sign-in links at once. Unlike every other message,
// a link is not a delivery: a delivery row is kept to be retried, and a
// retry needs the message's facts, here the secret, which must not be
// stored. A link that fails to go is not retried; the member asks again.
type SignInLinks struct {
	// Templates renders the message in the group's wording where it has
	// one.
	Templates GroupTemplates
	// Catalog gives the standard wording, used when the group's loses the
	// link.
	Catalog *message.Catalog
	Mailer  Mailer
	Logger  *slog.Logger
}

// Send renders and hands l's message to the mail server, and logs the
// outcome naming the member only.
func (s *SignInLinks) Send(ctx context.Context, l SignInLink) error {
	group, _, ok := strings.Cut(l.Member, "/members/")
	if !ok || !strings.HasPrefix(group, "groups/") {
		var v fault.Violations
		v.Add("member", "must be groups/{group}/members/{member}")
		return v.Err()
	}
	if !strings.HasPrefix(l.URL, "https://") && !strings.HasPrefix(l.URL, "http://") {
		var v fault.Violations
		v.Add("link_url", "must be an http or https address")
		return v.Err()
	}
	data := message.Data{
		RecipientName: l.MemberName,
		GroupName:     l.GroupName,
		SignInURL:     l.URL,
		AskedFor:      l.Email,
		AskedAt:       ukDateTime(l.RequestTime),
		AskedFrom:     l.RequestedFrom,
		ExpiresAt:     ukClock(l.ExpireTime),
	}
	return s.send(ctx, group, message.SignInLink, data, Mail{ToName: l.MemberName, ToAddress: l.Email},
		slog.String("member", l.Member), "the member can ask again")
}

// ClientSignInLinks are the sign-in links intake made for a client's cases
// in a group, to be e-mailed in one message. The URLs hold the secrets: they
// go into the mail and nowhere else, and neither the address nor the
// references are logged.
type ClientSignInLinks struct {
	// Group is "groups/{group}".
	Group     string
	GroupName string
	Email     string
	// Links are one per case, newest first.
	Links       []message.CaseLink
	RequestTime time.Time
	ExpireTime  time.Time
	// RequestedFrom is where the request came from, coarsely, in words;
	// empty when unknown.
	RequestedFrom string
}

// SendClient renders and hands l's message to the mail server, as Send
// does a member's, and logs the outcome naming the group and how many
// links went.
func (s *SignInLinks) SendClient(ctx context.Context, l ClientSignInLinks) error {
	var v fault.Violations
	if id, ok := strings.CutPrefix(l.Group, "groups/"); !ok || id == "" || strings.Contains(id, "/") {
		v.Add("group", "must be groups/{group}")
	}
	if len(l.Links) == 0 {
		v.Add("links", "must hold at least one link")
	}
	for i, link := range l.Links {
		if !strings.HasPrefix(link.URL, "https://") && !strings.HasPrefix(link.URL, "http://") {
			v.Add(fmt.Sprintf("links[%d].link_url", i), "must be an http or https address")
		}
	}
	if err := v.Err(); err != nil {
		return err
	}
	data := message.Data{
		GroupName: l.GroupName,
		Links:     l.Links,
		AskedFor:  l.Email,
		AskedAt:   ukDateTime(l.RequestTime),
		AskedFrom: l.RequestedFrom,
		ExpiresAt: ukClock(l.ExpireTime),
	}
	return s.send(ctx, l.Group, message.ClientSignInLink, data, Mail{ToAddress: l.Email},
		slog.String("group", l.Group), "the client can ask again", slog.Int("links", len(l.Links)))
}

// send renders key's message for group, in the group's wording unless that
// cannot be read or loses a link, and hands it to the mail server, logging
// the outcome with who (never the address or a link).
func (s *SignInLinks) send(ctx context.Context, group, key string, data message.Data, mail Mail, who slog.Attr, askAgain string, more ...any) error {
	links := message.RequiredLinks(key, data)
	msg, err := s.Templates.RenderFor(ctx, group, key, data)
	if err != nil || message.LinkMissing(msg, links...) != nil {
		// The group's wording could not be read or lost a link: the
		// recipient gets the standard wording rather than nothing.
		msg, err = s.Catalog.Render(key, data)
	}
	if err != nil {
		// The template's error may quote data; say only which failed.
		s.Logger.ErrorContext(ctx, "sign-in link not rendered", who)
		return fmt.Errorf("render the sign-in link message for %s", who.Value)
	}
	mail.MessageID = "sign-in-" + uuid.NewString() + "@disputes.ipn"
	mail.Subject, mail.Text, mail.HTML = msg.Subject, msg.Text, msg.HTML
	if err := s.Mailer.Send(ctx, mail); err != nil {
		// The mailer's errors hold neither content nor address; the
		// address is taken out all the same, as the sender does.
		reason := strings.ReplaceAll(err.Error(), mail.ToAddress, "<recipient>")
		s.Logger.WarnContext(ctx, "sign-in link not sent; "+askAgain, append([]any{who, slog.String("error", reason)}, more...)...)
		return &fault.Error{Kind: fault.Unavailable, Reason: "MAIL_NOT_SENT", Message: "the mail server did not take the message; ask for a new link"}
	}
	s.Logger.InfoContext(ctx, "sign-in link sent", append([]any{who}, more...)...)
	return nil
}

// ukDateTime is t in words as the UK's clocks show it, for example
// "Monday 2 March 2026 at 14:05 UK time".
func ukDateTime(t time.Time) string {
	if t.IsZero() {
		return "an unknown time"
	}
	return t.In(ukTime).Format("Monday 2 January 2006 at 15:04") + " UK time"
}

// ukClock is t's time of day in the UK, for example "14:20 UK time": a
// link's expiry, 15 minutes after the request whose date the mail gives.
func ukClock(t time.Time) string {
	if t.IsZero() {
		return "15 minutes after it was asked for"
	}
	return t.In(ukTime).Format("15:04") + " UK time"
}
