package dispatch

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/ipnmediation/disputes/services/notification/internal/message"
)

// wordings is a TemplateStore holding groups' wordings as given, unchecked,
// as a wording stored before a rule existed would be.
type wordings map[string]TemplateOverride

func (w wordings) TemplateOverride(_ context.Context, group, key string) (TemplateOverride, error) {
	if o, ok := w[group+" "+key]; ok {
		return o, nil
	}
	return TemplateOverride{}, ErrNotFound
}

func (w wordings) TemplateOverrides(context.Context, string) ([]TemplateOverride, error) {
	return nil, nil
}

func (w wordings) PutTemplateOverride(context.Context, TemplateOverride) error { return nil }

// TestSignInLinkMail: the mail carries the link and the facts (the address
// it was asked for, when in UK time, from where, until when), in the
// group's wording when it keeps the link and in the standard wording when
// it does not; nothing the service logs holds the secret, whether the mail
// goes or the mail server refuses it, and the error returned holds it
// neither.
func TestSignInLinkMail(t *testing.T) {
	t.Parallel()
	const secret = "s3cr3t-canary-q7x9w2"
	catalog, err := message.NewCatalog()
	if err != nil {
		t.Fatal(err)
	}
	link := SignInLink{
		Member:     "groups/riverside/members/ann",
		MemberName: "Ann Lee",
		GroupName:  "Riverside Practitioners",
		Email:      "ann@example.org",
		URL:        "https://disputes.example.org/riverside/sign-in/" + secret,
		// 13:05 UTC in June is 14:05 in the UK (British Summer Time).
		RequestTime:   time.Date(2026, 6, 1, 13, 5, 0, 0, time.UTC),
		ExpireTime:    time.Date(2026, 6, 1, 13, 20, 0, 0, time.UTC),
		RequestedFrom: "a network whose addresses start 192.0.2",
	}
	facts := []string{"Dear Ann Lee", link.URL, "ann@example.org", "Monday 1 June 2026 at 14:05 UK time",
		"a network whose addresses start 192.0.2", "works once, for 15 minutes", "14:20 UK time",
		"ignore this e-mail", "Nobody can sign\nin as you without the link", "tell your group's admins"}
	tests := []struct {
		name     string
		wording  *message.Override
		mailErr  error
		wantErr  bool
		wantText []string
	}{
		{name: "standard wording", wantText: facts},
		{name: "the group's wording with the link",
			wording:  &message.Override{Text: "Hello {{.RecipientName}}, sign in: {{.SignInURL}} (asked for {{.AskedFor}})"},
			wantText: []string{"Hello Ann Lee, sign in: " + link.URL + " (asked for ann@example.org)"}},
		{name: "the group's wording without the link falls back",
			wording:  &message.Override{Text: "Hello {{.RecipientName}}, sign in on the website."},
			wantText: facts},
		{name: "the group's subject with the link falls back",
			wording:  &message.Override{Subject: "Sign in: {{.SignInURL}}"},
			wantText: facts},
		{name: "the mail server refuses",
			mailErr: errors.New("550 mailbox unavailable for ann@example.org"), wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			store := wordings{}
			if tt.wording != nil {
				store["groups/riverside "+message.SignInLink] = TemplateOverride{Override: *tt.wording}
			}
			var logs bytes.Buffer
			mailer := &fakeMailer{err: tt.mailErr}
			s := &SignInLinks{
				Templates: &Wording{Catalog: catalog, Store: store},
				Catalog:   catalog,
				Mailer:    mailer,
				Logger:    slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
			}
			err := s.Send(context.Background(), link)
			if (err != nil) != tt.wantErr {
				t.Fatalf("Send: %v; want error %v", err, tt.wantErr)
			}
			if err != nil && strings.Contains(err.Error(), secret) {
				t.Errorf("the error holds the secret: %v", err)
			}
			if strings.Contains(logs.String(), secret) {
				t.Errorf("the log holds the secret:\n%s", logs.String())
			}
			if !strings.Contains(logs.String(), link.Member) {
				t.Errorf("the log does not name the member:\n%s", logs.String())
			}
			if tt.wantErr {
				if strings.Contains(logs.String(), link.Email) {
					t.Errorf("the log holds the address:\n%s", logs.String())
				}
				return
			}
			if len(mailer.sent) != 1 {
				t.Fatalf("%d mails sent; want 1", len(mailer.sent))
			}
			m := mailer.sent[0]
			if m.ToAddress != link.Email || m.ToName != link.MemberName {
				t.Errorf("to %q <%s>; want %q <%s>", m.ToName, m.ToAddress, link.MemberName, link.Email)
			}
			if strings.Contains(m.Subject, secret) || m.Subject == "" {
				t.Errorf("subject %q", m.Subject)
			}
			for _, want := range tt.wantText {
				if !strings.Contains(m.Text, want) {
					t.Errorf("text lacks %q:\n%s", want, m.Text)
				}
			}
			if tt.wording == nil && !strings.Contains(m.HTML, `href="`+link.URL+`"`) {
				t.Errorf("HTML lacks the link:\n%s", m.HTML)
			}
		})
	}
}

// TestSignInLinkRefusesAMalformedRequest: a member name or link of the
// wrong form sends nothing.
func TestSignInLinkRefusesAMalformedRequest(t *testing.T) {
	t.Parallel()
	catalog, err := message.NewCatalog()
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range []SignInLink{
		{Member: "riverside/ann", Email: "ann@example.org", URL: "https://disputes.example.org/riverside/sign-in/x"},
		{Member: "groups/riverside/members/ann", Email: "ann@example.org", URL: "javascript:alert(1)"},
	} {
		mailer := &fakeMailer{}
		s := &SignInLinks{Templates: &Wording{Catalog: catalog, Store: wordings{}}, Catalog: catalog, Mailer: mailer, Logger: slog.New(slog.DiscardHandler)}
		if err := s.Send(context.Background(), l); err == nil || len(mailer.sent) > 0 {
			t.Errorf("%+v: error %v, %d sent; want an error and nothing sent", l, err, len(mailer.sent))
		}
	}
}
