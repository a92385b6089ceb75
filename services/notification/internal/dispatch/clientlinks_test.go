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

// TestClientSignInLinksMail: a client's mail carries a link per case with
// its reference, newest first, and says in plain words who asked, when in
// UK time, until when the links work and what to do if it wasn't them; a
// group's wording that loses one of the links is not used; the log names
// the group and the number of links, never a secret, a reference or the
// address, whether the mail goes or not, and the error holds none of them.
func TestClientSignInLinksMail(t *testing.T) {
	t.Parallel()
	const secret1, secret2 = "c4n4ry-first-q7x9w2", "c4n4ry-second-k3m8v5"
	catalog, err := message.NewCatalog()
	if err != nil {
		t.Fatal(err)
	}
	links := ClientSignInLinks{
		Group:     "groups/riverside",
		GroupName: "Riverside Practitioners",
		Email:     "sam@client.example.net",
		Links: []message.CaseLink{
			{Reference: "K7QM-3XRD", URL: "https://disputes.example.org/riverside/link/" + secret1},
			{Reference: "B2CD-9FGH", URL: "https://disputes.example.org/riverside/link/" + secret2},
		},
		// 13:05 UTC in June is 14:05 in the UK (British Summer Time).
		RequestTime:   time.Date(2026, 6, 1, 13, 5, 0, 0, time.UTC),
		ExpireTime:    time.Date(2026, 6, 1, 13, 20, 0, 0, time.UTC),
		RequestedFrom: "a network whose addresses start 192.0.2",
	}
	facts := []string{"Riverside Practitioners", "sam@client.example.net", "Monday 1 June 2026 at 14:05 UK time",
		"a network whose addresses start 192.0.2", "Reference K7QM-3XRD:\n  " + links.Links[0].URL,
		"Reference B2CD-9FGH:\n  " + links.Links[1].URL, "one link\nfor each concern", "works once, for 15 minutes",
		"14:20 UK time", "If it wasn't you", "ignore this\ne-mail", "Nobody can see your concern without one of these links"}
	tests := []struct {
		name     string
		wording  *message.Override
		mailErr  error
		wantErr  bool
		wantText []string
	}{
		{name: "standard wording", wantText: facts},
		{name: "the group's wording with every link",
			wording:  &message.Override{Text: "Hello, {{range .Links}}{{.Reference}} {{.URL}} {{end}}"},
			wantText: []string{"Hello, K7QM-3XRD " + links.Links[0].URL + " B2CD-9FGH " + links.Links[1].URL}},
		{name: "the group's wording with the first link only falls back",
			wording:  &message.Override{Text: "Hello, {{(index .Links 0).URL}}"},
			wantText: facts},
		{name: "the mail server refuses",
			mailErr: errors.New("550 mailbox unavailable for sam@client.example.net"), wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			store := wordings{}
			if tt.wording != nil {
				store["groups/riverside "+message.ClientSignInLink] = TemplateOverride{Override: *tt.wording}
			}
			var logs bytes.Buffer
			mailer := &fakeMailer{err: tt.mailErr}
			s := &SignInLinks{
				Templates: &Wording{Catalog: catalog, Store: store},
				Catalog:   catalog,
				Mailer:    mailer,
				Logger:    slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
			}
			err := s.SendClient(context.Background(), links)
			if (err != nil) != tt.wantErr {
				t.Fatalf("SendClient: %v; want error %v", err, tt.wantErr)
			}
			for _, never := range []string{secret1, secret2, "K7QM-3XRD", "B2CD-9FGH", links.Email} {
				if err != nil && strings.Contains(err.Error(), never) {
					t.Errorf("the error holds %q: %v", never, err)
				}
				if strings.Contains(logs.String(), never) {
					t.Errorf("the log holds %q:\n%s", never, logs.String())
				}
			}
			if !strings.Contains(logs.String(), `"group":"groups/riverside"`) || !strings.Contains(logs.String(), `"links":2`) {
				t.Errorf("the log does not name the group and the number of links:\n%s", logs.String())
			}
			if tt.wantErr {
				return
			}
			if len(mailer.sent) != 1 {
				t.Fatalf("%d mails sent; want 1", len(mailer.sent))
			}
			m := mailer.sent[0]
			if m.ToAddress != links.Email {
				t.Errorf("to %s; want %s", m.ToAddress, links.Email)
			}
			if strings.Contains(m.Subject, secret1) || !strings.Contains(m.Subject, "Riverside Practitioners") {
				t.Errorf("subject %q", m.Subject)
			}
			for _, want := range tt.wantText {
				if !strings.Contains(m.Text, want) {
					t.Errorf("text lacks %q:\n%s", want, m.Text)
				}
			}
			if tt.wording == nil {
				for _, l := range links.Links {
					if !strings.Contains(m.HTML, `href="`+l.URL+`"`) {
						t.Errorf("HTML lacks the link %s:\n%s", l.URL, m.HTML)
					}
				}
			}
		})
	}
}

// TestClientSignInLinksRefusesAMalformedRequest: a group name of the wrong
// form, no links, or a link that is no web address sends nothing.
func TestClientSignInLinksRefusesAMalformedRequest(t *testing.T) {
	t.Parallel()
	catalog, err := message.NewCatalog()
	if err != nil {
		t.Fatal(err)
	}
	good := []message.CaseLink{{Reference: "K7QM-3XRD", URL: "https://disputes.example.org/riverside/link/x"}}
	for _, l := range []ClientSignInLinks{
		{Group: "riverside", Email: "sam@example.net", Links: good},
		{Group: "groups/riverside", Email: "sam@example.net"},
		{Group: "groups/riverside", Email: "sam@example.net", Links: []message.CaseLink{{Reference: "K7QM-3XRD", URL: "javascript:alert(1)"}}},
	} {
		mailer := &fakeMailer{}
		s := &SignInLinks{Templates: &Wording{Catalog: catalog, Store: wordings{}}, Catalog: catalog, Mailer: mailer, Logger: slog.New(slog.DiscardHandler)}
		if err := s.SendClient(context.Background(), l); err == nil || len(mailer.sent) > 0 {
			t.Errorf("%+v: error %v, %d sent; want an error and nothing sent", l, err, len(mailer.sent))
		}
	}
}
