// Package mailer hands messages to an SMTP server with
// github.com/wneessen/go-mail, one connection per message.
package mailer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/mail"
	"net/textproto"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/ipnmediation/disputes/platform/tracing"
	"github.com/ipnmediation/disputes/services/notification/internal/dispatch"
	gomail "github.com/wneessen/go-mail"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
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
	// HandedOff, when set, is told how long each message the server
	// accepted took, from dialling to its acceptance (metrics).
	HandedOff func(time.Duration)
}

// SMTP implements dispatch.Mailer.
type SMTP struct {
	host    string
	opts    []gomail.Option
	timeout time.Duration
	from    *mail.Address
	handed  func(time.Duration)
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
	if _, err := gomail.NewClient(host, opts...); err != nil {
		return nil, fmt.Errorf("smtp client: %w", err)
	}
	return &SMTP{host: host, opts: opts, timeout: timeout, from: from, handed: o.HandedOff}, nil
}

// client returns a go-mail client whose connection ends by ctx's deadline:
// go-mail heeds ctx only while dialling, and a server that stops answering
// would otherwise hold the attempt for the whole Timeout, past the
// attempt's own deadline and the lease that keeps other senders away.
func (s *SMTP) client(ctx context.Context) (*gomail.Client, error) {
	timeout := s.timeout
	if deadline, ok := ctx.Deadline(); ok {
		timeout = max(min(timeout, time.Until(deadline)), time.Millisecond)
	}
	return gomail.NewClient(s.host, append(s.opts[:len(s.opts):len(s.opts)], gomail.WithTimeout(timeout))...)
}

// Send implements dispatch.Mailer. Its error names what failed (dialling,
// the server's reply) with the recipient's address blanked out, and is
// marked with its class (see classify). A message the server accepted is
// sent, even when the connection failed after that (RSET or QUIT): it is
// not handed off again.
//
// Each hand-off is a span of its own, a client span named "smtp send", in
// the trace of ctx (the concern's, for an event's deliveries): only its
// outcome, never an address or a subject.
func (s *SMTP) Send(ctx context.Context, m dispatch.Mail) (err error) {
	ctx, span := tracing.Tracer().Start(ctx, "smtp send", trace.WithSpanKind(trace.SpanKindClient))
	defer func() {
		if err != nil {
			span.SetStatus(codes.Error, "the mail server did not take the message")
		}
		span.End()
	}()
	msg := gomail.NewMsg()
	msg.FromMailAddress(s.from)
	if err := msg.AddToFormat(m.ToName, m.ToAddress); err != nil {
		return dispatch.Refused(errors.New("the recipient's e-mail address is not valid"))
	}
	msg.Subject(m.Subject)
	msg.SetMessageIDWithValue(m.MessageID)
	msg.SetDate()
	msg.SetGenHeader(gomail.Header("Auto-Submitted"), "auto-generated")
	msg.SetBodyString(gomail.TypeTextPlain, m.Text)
	if m.HTML != "" {
		msg.AddAlternativeString(gomail.TypeTextHTML, m.HTML)
	}
	start := time.Now()
	client, err := s.client(ctx)
	if err != nil {
		return fmt.Errorf("smtp client: %w", err)
	}
	err = client.DialAndSendWithContext(ctx, msg)
	if err == nil || msg.IsDelivered() {
		if s.handed != nil {
			s.handed(time.Since(start))
		}
		return nil
	}
	text := errors.New(strings.ReplaceAll(err.Error(), m.ToAddress, "<recipient>"))
	switch classify(err) {
	case dispatch.Transient:
		return dispatch.Unreachable(text)
	case dispatch.Permanent:
		return dispatch.Refused(text)
	}
	return text
}

// classify says what a failed hand-off is:
//
//   - Transient: the server or the way to it is unreachable or cut (dial
//     refused, reset, timed out, closed mid-conversation, a TLS handshake
//     cut short), or it said "try later" (any 4xx reply).
//   - Permanent: a 5xx reply to the recipient (RCPT TO) or to the message
//     (DATA): for this address or this message, for good.
//   - Unknown, which counts toward MAX_ATTEMPTS: anything else, among it a
//     5xx to the greeting, EHLO, STARTTLS, AUTH or MAIL FROM and a refused
//     certificate, which say that our settings are wrong for every message,
//     not that this one cannot go.
func classify(err error) dispatch.Class {
	var sendErr *gomail.SendError
	if errors.As(err, &sendErr) {
		code := sendErr.ErrorCode()
		switch {
		case sendErr.IsTemp() || (code >= 400 && code < 500):
			return dispatch.Transient
		case code >= 500:
			switch sendErr.Reason {
			case gomail.ErrSMTPRcptTo, gomail.ErrSMTPData, gomail.ErrSMTPDataClose:
				return dispatch.Permanent
			}
			return dispatch.Unknown
		case code == 0:
			// No reply: the command was not answered, the connection
			// failed under it.
			switch sendErr.Reason {
			case gomail.ErrSMTPMailFrom, gomail.ErrSMTPRcptTo, gomail.ErrSMTPData, gomail.ErrSMTPDataClose,
				gomail.ErrWriteContent, gomail.ErrSMTPReset, gomail.ErrConnCheck:
				return dispatch.Transient
			}
		}
		return dispatch.Unknown
	}
	// Dialling, the greeting, EHLO, STARTTLS, AUTH.
	var reply *textproto.Error
	if errors.As(err, &reply) {
		if reply.Code >= 400 && reply.Code < 500 {
			return dispatch.Transient
		}
		return dispatch.Unknown
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) && dnsErr.IsNotFound {
		return dispatch.Unknown // a host name that does not exist: a setting
	}
	var netErr net.Error
	if errors.As(err, &netErr) {
		return dispatch.Transient // refused, reset, unreachable, timed out
	}
	for _, cut := range []error{io.EOF, io.ErrUnexpectedEOF, syscall.ECONNREFUSED, syscall.ECONNRESET, syscall.ECONNABORTED,
		syscall.EPIPE, context.DeadlineExceeded, context.Canceled} {
		if errors.Is(err, cut) {
			return dispatch.Transient
		}
	}
	return dispatch.Unknown
}
