// Package mailer hands messages to an SMTP server with
// github.com/wneessen/go-mail, one connection per message.
package mailer

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"strconv"
	"strings"
	"time"

	"github.com/ipnmediation/disputes/services/notification/internal/dispatch"
	gomail "github.com/wneessen/go-mail"
)

// Options configure an SMTP mailer.
type Options struct {
	// Addr is the server, host:port.
	Addr string
	// Username and Password authenticate with SMTP AUTH PLAIN; no
	// authentication when Username is empty. go-mail refuses PLAIN over an
	// unencrypted connection to anything but localhost.
	Username string
	Password string
	// StartTLS requires STARTTLS; when false the connection is never
	// encrypted (a local relay or a test server).
	StartTLS bool
	// From is the sender, for example "IPN disputes <disputes@localhost>".
	From string
	// Timeout bounds each connection; 30s when zero.
	Timeout time.Duration
}

// SMTP implements dispatch.Mailer.
type SMTP struct {
	client *gomail.Client
	from   *mail.Address
}

var _ dispatch.Mailer = (*SMTP)(nil)

// New checks the options and returns a mailer. It does not connect.
func New(o Options) (*SMTP, error) {
	host, portText, err := net.SplitHostPort(o.Addr)
	if err != nil {
		return nil, fmt.Errorf("smtp address %q: %w", o.Addr, err)
	}
	port, err := strconv.Atoi(portText)
	if err != nil || port <= 0 || port > 65535 {
		return nil, fmt.Errorf("smtp address %q: bad port", o.Addr)
	}
	from, err := mail.ParseAddress(o.From)
	if err != nil {
		return nil, fmt.Errorf("mail from %q: %w", o.From, err)
	}
	timeout := o.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	policy := gomail.NoTLS
	if o.StartTLS {
		policy = gomail.TLSMandatory
	}
	opts := []gomail.Option{
		gomail.WithPort(port),
		gomail.WithTLSPolicy(policy),
		gomail.WithTimeout(timeout),
	}
	if o.Username != "" {
		opts = append(opts,
			gomail.WithSMTPAuth(gomail.SMTPAuthPlain),
			gomail.WithUsername(o.Username),
			gomail.WithPassword(o.Password))
	}
	client, err := gomail.NewClient(host, opts...)
	if err != nil {
		return nil, fmt.Errorf("smtp client: %w", err)
	}
	return &SMTP{client: client, from: from}, nil
}

// Send implements dispatch.Mailer. Its error names what failed (dialling,
// the server's reply) with the recipient's address blanked out.
func (s *SMTP) Send(ctx context.Context, m dispatch.Mail) error {
	msg := gomail.NewMsg()
	msg.FromMailAddress(s.from)
	if err := msg.AddToFormat(m.ToName, m.ToAddress); err != nil {
		return errors.New("the recipient's e-mail address is not valid")
	}
	msg.Subject(m.Subject)
	msg.SetMessageIDWithValue(m.MessageID)
	msg.SetDate()
	msg.SetGenHeader(gomail.Header("Auto-Submitted"), "auto-generated")
	msg.SetBodyString(gomail.TypeTextPlain, m.Text)
	if m.HTML != "" {
		msg.AddAlternativeString(gomail.TypeTextHTML, m.HTML)
	}
	if err := s.client.DialAndSendWithContext(ctx, msg); err != nil {
		return errors.New(strings.ReplaceAll(err.Error(), m.ToAddress, "<recipient>"))
	}
	return nil
}
