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

// StartTLS says whether the SMTP connection is upgraded with STARTTLS.
type StartTLS string

// The STARTTLS modes.
const (
	// StartTLSRequired refuses a server that does not offer STARTTLS: the
	// setting for any relay across a network.
	StartTLSRequired StartTLS = "required"
	// StartTLSOpportunistic upgrades when the server offers it and sends in
	// the clear when it does not.
	StartTLSOpportunistic StartTLS = "opportunistic"
	// StartTLSOff never encrypts: a relay on the same machine or a test
	// server.
	StartTLSOff StartTLS = "off"
)

// ParseStartTLS reads a STARTTLS mode. "true" and "false", the values of
// the boolean setting it replaced, still mean required and off.
func ParseStartTLS(s string) (StartTLS, error) {
	switch m := StartTLS(strings.ToLower(strings.TrimSpace(s))); m {
	case StartTLSRequired, StartTLSOpportunistic, StartTLSOff:
		return m, nil
	case "true":
		return StartTLSRequired, nil
	case "false", "":
		return StartTLSOff, nil
	}
	return "", fmt.Errorf("starttls %q: want required, opportunistic or off", s)
}

// Auth is the SMTP AUTH mechanism.
type Auth string

// The mechanisms go-mail offers that the service allows.
const (
	AuthPlain Auth = "plain"
	AuthLogin Auth = "login"
)

// ParseAuth reads an SMTP AUTH mechanism; empty is PLAIN.
func ParseAuth(s string) (Auth, error) {
	switch a := Auth(strings.ToLower(strings.TrimSpace(s))); a {
	case AuthPlain, AuthLogin:
		return a, nil
	case "":
		return AuthPlain, nil
	}
	return "", fmt.Errorf("smtp auth %q: want plain or login", s)
}

// Options configure an SMTP mailer.
type Options struct {
	// Addr is the server, host:port.
	Addr string
	// Username and Password authenticate with SMTP AUTH (Auth, PLAIN when
	// empty); no authentication when Username is empty. go-mail refuses
	// either mechanism over an unencrypted connection to anything but
	// localhost, so a password never crosses a network in the clear.
	Username string
	Password string
	Auth     Auth
	// StartTLS says whether to upgrade the connection; off when empty.
	StartTLS StartTLS
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
	mode, err := ParseStartTLS(string(o.StartTLS))
	if err != nil {
		return nil, err
	}
	policy := map[StartTLS]gomail.TLSPolicy{
		StartTLSRequired:      gomail.TLSMandatory,
		StartTLSOpportunistic: gomail.TLSOpportunistic,
		StartTLSOff:           gomail.NoTLS,
	}[mode]
	mechanism, err := ParseAuth(string(o.Auth))
	if err != nil {
		return nil, err
	}
	if o.Password != "" && o.Username == "" {
		return nil, errors.New("smtp password is set without a user name")
	}
	opts := []gomail.Option{
		gomail.WithPort(port),
		gomail.WithTLSPolicy(policy),
		gomail.WithTimeout(timeout),
	}
	if o.Username != "" {
		opts = append(opts,
			gomail.WithSMTPAuth(map[Auth]gomail.SMTPAuthType{AuthPlain: gomail.SMTPAuthPlain, AuthLogin: gomail.SMTPAuthLogin}[mechanism]),
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
