package mailer

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ipnmediation/disputes/platform/testenv"
	"github.com/ipnmediation/disputes/services/notification/internal/dispatch"
)

func TestMain(m *testing.M) { testenv.Main(m) }

func TestNewRejectsBadOptions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		o    Options
	}{
		{"no port", Options{Addr: "127.0.0.1", From: "a@example.org"}},
		{"bad port", Options{Addr: "127.0.0.1:smtp", From: "a@example.org"}},
		{"port out of range", Options{Addr: "127.0.0.1:70000", From: "a@example.org"}},
		{"bad sender", Options{Addr: "127.0.0.1:25", From: "IPN disputes"}},
		{"unknown STARTTLS mode", Options{Addr: "127.0.0.1:25", From: "a@example.org", StartTLS: "sometimes"}},
		{"unknown AUTH mechanism", Options{Addr: "127.0.0.1:25", From: "a@example.org", Username: "u", Auth: "cram-md5"}},
		{"password without user", Options{Addr: "127.0.0.1:25", From: "a@example.org", Password: "p"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if _, err := New(tt.o); err == nil {
				t.Errorf("New(%+v) accepted", tt.o)
			}
		})
	}
}

func TestSend(t *testing.T) {
	t.Parallel()
	mailpit := testenv.StartMailpit(t)
	ctx := context.Background()
	mail := dispatch.Mail{
		MessageID: "0b6f3f0e-3c1a-4f43-9d2a-6d0e3c1b2a11@disputes.ipn",
		ToName:    "Bea Lund", ToAddress: "bea@example.org",
		Subject: "Hello", Text: "plain words", HTML: "<p>plain words</p>",
	}

	t.Run("STARTTLS required but not offered", func(t *testing.T) {
		t.Parallel()
		m, err := New(Options{Addr: mailpit.SMTPAddr, From: "IPN disputes <disputes@localhost>", StartTLS: StartTLSRequired, Timeout: 5 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		err = m.Send(ctx, mail)
		if err == nil || !strings.Contains(err.Error(), "STARTTLS") {
			t.Fatalf("Send = %v; want a refusal for want of STARTTLS", err)
		}
		if strings.Contains(err.Error(), mail.ToAddress) {
			t.Errorf("error %q carries the address", err)
		}
	})

	t.Run("plain connection", func(t *testing.T) {
		t.Parallel()
		m, err := New(Options{Addr: mailpit.SMTPAddr, From: "IPN disputes <disputes@localhost>", Username: "u", Password: "p"})
		if err != nil {
			t.Fatal(err)
		}
		if err := m.Send(ctx, mail); err != nil {
			t.Fatalf("Send: %v", err)
		}
		var got []testenv.Message
		testenv.Eventually(t, 30*time.Second, "the message arrives", func() bool {
			got, _ = mailpit.Messages(ctx)
			return len(got) == 1
		})
		raw, err := mailpit.Raw(ctx, got[0].ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"Message-Id: <" + mail.MessageID + ">", "Auto-Submitted: auto-generated", "text/plain", "text/html", "Subject: Hello"} {
			if !strings.Contains(strings.ReplaceAll(raw, "Message-ID", "Message-Id"), want) {
				t.Errorf("raw message lacks %q:\n%s", want, raw)
			}
		}
		if got[0].To[0].Address != mail.ToAddress || got[0].To[0].Name != mail.ToName || got[0].From.Address != "disputes@localhost" {
			t.Errorf("envelope %+v", got[0])
		}
	})
}

func TestParseStartTLS(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    StartTLS
		wantErr bool
	}{
		{"required", StartTLSRequired, false},
		{"Opportunistic", StartTLSOpportunistic, false},
		{"off", StartTLSOff, false},
		{"", StartTLSOff, false},
		{"true", StartTLSRequired, false}, // the former boolean setting
		{"false", StartTLSOff, false},
		{"yes", "", true},
	}
	for _, tt := range tests {
		got, err := ParseStartTLS(tt.in)
		if got != tt.want || (err != nil) != tt.wantErr {
			t.Errorf("ParseStartTLS(%q) = %q, %v; want %q, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestSendOpportunisticWithLogin(t *testing.T) {
	t.Parallel()
	// mailpit offers no STARTTLS here: opportunistic sends in the clear,
	// and go-mail allows AUTH LOGIN unencrypted only because it is local.
	mailpit := testenv.StartMailpit(t)
	ctx := context.Background()
	m, err := New(Options{Addr: mailpit.SMTPAddr, From: "IPN disputes <disputes@localhost>", StartTLS: StartTLSOpportunistic,
		Username: "u", Password: "p", Auth: AuthLogin, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Send(ctx, dispatch.Mail{MessageID: "1c0e2a44-5d7b-4c1e-8a39-0f6b2d9e7c55@disputes.ipn", ToName: "Cal Nash",
		ToAddress: "cal@example.org", Subject: "Hello", Text: "plain words"}); err != nil {
		t.Fatalf("Send: %v", err)
	}
	testenv.Eventually(t, 30*time.Second, "the message arrives", func() bool {
		got, _ := mailpit.Messages(ctx)
		return len(got) == 1
	})
}
