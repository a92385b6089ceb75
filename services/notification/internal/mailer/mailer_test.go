package mailer

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ipnmediation/disputes/platform/testenv"
	"github.com/ipnmediation/disputes/services/notification/internal/dispatch"
	"github.com/ipnmediation/disputes/services/notification/internal/smtptest"
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

// TestSendClassifiesFailures hands a message to SMTP servers that answer
// as real ones do now and then, and checks what each failure is: what a
// later attempt may get past (Transient), what it never will (Permanent),
// and what counts toward MAX_ATTEMPTS (Unknown).
func TestSendClassifiesFailures(t *testing.T) {
	t.Parallel()
	mail := dispatch.Mail{MessageID: "2d3c4b5a-6e7f-4a8b-9c0d-1e2f3a4b5c6d@disputes.ipn", ToName: "Dee Okoro",
		ToAddress: "dee@example.org", Subject: "Hello", Text: "plain words"}
	const sent = dispatch.Class(-1) // no error at all
	tests := []struct {
		name     string
		replies  *smtptest.Replies // nil: nothing listens
		startTLS StartTLS
		to       string
		want     dispatch.Class
	}{
		{name: "accepted", replies: &smtptest.Replies{}, want: sent},
		{name: "accepted, then the connection drops before QUIT", replies: &smtptest.Replies{DropAfterData: true}, want: sent},
		{name: "nothing listens", want: dispatch.Transient},
		{name: "hangs up at once", replies: &smtptest.Replies{Hangup: true}, want: dispatch.Transient},
		{name: "never answers", replies: &smtptest.Replies{Silent: true}, want: dispatch.Transient},
		{name: "TLS handshake cut short", replies: &smtptest.Replies{CutTLS: true}, startTLS: StartTLSRequired, want: dispatch.Transient},
		{name: "421 at the greeting", replies: &smtptest.Replies{Greeting: "421 4.3.2 too busy"}, want: dispatch.Transient},
		{name: "451 to the recipient", replies: &smtptest.Replies{Rcpt: "451 4.2.0 greylisted, try later"}, want: dispatch.Transient},
		{name: "452 to the message", replies: &smtptest.Replies{DataEnd: "452 4.3.1 insufficient storage"}, want: dispatch.Transient},
		{name: "550 to the recipient", replies: &smtptest.Replies{Rcpt: "550 5.1.1 no such mailbox"}, want: dispatch.Permanent},
		{name: "554 to the message", replies: &smtptest.Replies{DataEnd: "554 5.6.0 message refused"}, want: dispatch.Permanent},
		{name: "not an address", replies: &smtptest.Replies{}, to: "dee at example", want: dispatch.Permanent},
		{name: "553 to our sender", replies: &smtptest.Replies{Mail: "553 5.7.1 sender not allowed"}, want: dispatch.Unknown},
		{name: "554 at the greeting", replies: &smtptest.Replies{Greeting: "554 5.7.1 go away"}, want: dispatch.Unknown},
		{name: "STARTTLS required but not offered", replies: &smtptest.Replies{}, startTLS: StartTLSRequired, want: dispatch.Unknown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			addr := testenv.FreeAddr(t)
			var server *smtptest.Server
			if tt.replies != nil {
				server = smtptest.Start(t, "127.0.0.1:0", *tt.replies)
				addr = server.Addr
			}
			m, err := New(Options{Addr: addr, From: "IPN disputes <disputes@localhost>", StartTLS: tt.startTLS, Timeout: 500 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			msg := mail
			if tt.to != "" {
				msg.ToAddress = tt.to
			}
			err = m.Send(context.Background(), msg)
			if tt.want == sent {
				if err != nil {
					t.Fatalf("Send = %v; want it sent", err)
				}
				if server.Accepted() != 1 {
					t.Errorf("the server accepted %d messages; want 1", server.Accepted())
				}
				return
			}
			if err == nil {
				t.Fatalf("Send succeeded; want a %v failure", tt.want)
			}
			if got := dispatch.Classify(err); got != tt.want {
				t.Errorf("Send = %v, classified %v; want %v", err, got, tt.want)
			}
			if strings.Contains(err.Error(), msg.ToAddress) {
				t.Errorf("error %q carries the address", err)
			}
		})
	}
	// A hand-off cut short by our own deadline is tried again.
	server := smtptest.Start(t, "127.0.0.1:0", smtptest.Replies{Silent: true})
	m, err := New(Options{Addr: server.Addr, From: "IPN disputes <disputes@localhost>", Timeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if err := m.Send(ctx, mail); dispatch.Classify(err) != dispatch.Transient {
		t.Errorf("Send past the attempt's deadline = %v, classified %v; want Transient", err, dispatch.Classify(err))
	}
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
