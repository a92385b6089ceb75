// Package app wires the notification service together: settings,
// PostgreSQL, NATS, the directory client, the event consumers, the sender
// loop and the gRPC server.
package app

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/google/uuid"
	"github.com/ipnmediation/disputes/platform/auth"
	"github.com/ipnmediation/disputes/platform/config"
	"github.com/ipnmediation/disputes/platform/grpcserver"
	"github.com/ipnmediation/disputes/platform/postgres"
	"github.com/ipnmediation/disputes/platform/service"
	caseworkv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/casework/v1"
	directoryv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/directory/v1"
	federationv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/federation/v1"
	notificationv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/notification/v1"
	"github.com/ipnmediation/disputes/services/notification/internal/casework"
	"github.com/ipnmediation/disputes/services/notification/internal/directory"
	"github.com/ipnmediation/disputes/services/notification/internal/dispatch"
	"github.com/ipnmediation/disputes/services/notification/internal/eventapi"
	"github.com/ipnmediation/disputes/services/notification/internal/federation"
	"github.com/ipnmediation/disputes/services/notification/internal/grpcapi"
	"github.com/ipnmediation/disputes/services/notification/internal/mailer"
	"github.com/ipnmediation/disputes/services/notification/internal/message"
	"github.com/ipnmediation/disputes/services/notification/internal/peer"
	"github.com/ipnmediation/disputes/services/notification/internal/store"
	"github.com/ipnmediation/disputes/services/notification/migrations"
)

// Name is the service's name: its log label, schema, durable consumer name
// and the name it presents to other services.
const Name = "notification"

// CaseConsumer is the durable name of the consumer of case events, the
// service's second (see eventapi.CaseSubjects for why not one).
const CaseConsumer = Name + "-case"

// Config is the notification service's settings.
type Config struct {
	config.Service
	// DirectoryAddr is the directory service's gRPC address.
	DirectoryAddr string
	// CaseworkAddr is the casework service's gRPC address: who holds a
	// case's roles, and the client's address.
	CaseworkAddr string
	// SMTPAddr is the mail server, host:port.
	SMTPAddr string
	// SMTPUsername and SMTPPassword authenticate with AUTH PLAIN when the
	// username is set.
	SMTPUsername string
	SMTPPassword string
	// SMTPStartTLS is required, opportunistic or off (see
	// mailer.ParseStartTLS).
	SMTPStartTLS string
	// SMTPAuth is the AUTH mechanism when SMTPUsername is set: plain or
	// login.
	SMTPAuth string
	// FederationPeers are the other deployments that may deliver link group
	// notices here and that receive ours over gRPC,
	// "name=secret[@host:port],..." (see federation.ParsePeers).
	FederationPeers string
	// FederationPlaintext talks to peers without TLS: only for peers on the
	// same machine or a private network.
	FederationPlaintext bool
	// MailFrom is the sender of every message.
	MailFrom string
	// SendRate is the most messages sent per second.
	SendRate float64
	// SendWorkers is how many messages are being sent at once; 0 counts as
	// 1.
	SendWorkers int
	// MaxAttempts is how many failed attempts of no known cause make a
	// delivery dead (see dispatch.Unknown); failures because something was
	// unreachable never count.
	MaxAttempts int
	// PublicURL is the website's base; messages link to it.
	PublicURL string

	// RetryBase and RetryMax shape the backoff between attempts (2s and 10
	// minutes when zero); they are not settings, tests shorten them.
	RetryBase, RetryMax time.Duration
	// PollInterval is how often an idle sender looks for due deliveries
	// (500ms when zero); not a setting.
	PollInterval time.Duration
	// DigestHour is the UTC hour (0-23) from which each day's digests go
	// out.
	DigestHour int
	// DigestInterval is how often the digest job looks whether digests are
	// due (a minute when zero); not a setting, tests shorten it.
	DigestInterval time.Duration
	// Now is the clock; time.Now when nil. Tests inject their own.
	Now func() time.Time
	// DigestPassed is called after every pass of the digest job; not a
	// setting, tests count passes with it.
	DigestPassed func()
	// DeadLetterInterval is how often the dead-letter job looks for
	// deliveries that died (a minute when zero); not a setting, tests
	// change it.
	DeadLetterInterval time.Duration
	// DeadLetterPassed is called after every pass of the dead-letter job;
	// not a setting, tests count passes with it.
	DeadLetterPassed func()
}

// Register declares the settings on set.
func (c *Config) Register(set *config.Set) {
	set.RegisterService(&c.Service, Name, "127.0.0.1:7104", "127.0.0.1:7204")
	set.String(&c.DirectoryAddr, "directory-addr", "DIRECTORY_ADDR", "127.0.0.1:7101", "gRPC address of the directory service")
	set.String(&c.CaseworkAddr, "casework-addr", "CASEWORK_ADDR", "127.0.0.1:7103", "gRPC address of the casework service")
	set.String(&c.SMTPAddr, "smtp-addr", "SMTP_ADDR", "127.0.0.1:1025", "SMTP server that mail is handed to, host:port")
	set.String(&c.SMTPUsername, "smtp-username", "SMTP_USERNAME", "", "SMTP user name; AUTH PLAIN is used only when set")
	set.Secret(&c.SMTPPassword, "smtp-password", "SMTP_PASSWORD", "SMTP password")
	set.String(&c.SMTPStartTLS, "smtp-starttls", "SMTP_STARTTLS", "off", "STARTTLS on the SMTP connection: required, opportunistic or off (true and false still mean required and off)")
	set.String(&c.SMTPAuth, "smtp-auth", "SMTP_AUTH", "plain", "SMTP AUTH mechanism when a user name is set: plain or login")
	set.Secret(&c.FederationPeers, "federation-peers", "FEDERATION_PEERS", "peer deployments exchanging link group notices over gRPC, name=secret[@host:port],...")
	set.Bool(&c.FederationPlaintext, "federation-plaintext", "FEDERATION_PLAINTEXT", false, "call peer deployments without TLS (same machine or private network only)")
	set.String(&c.MailFrom, "mail-from", "MAIL_FROM", "IPN disputes <disputes@localhost>", "sender address of every message")
	set.Float(&c.SendRate, "send-rate", "SEND_RATE", 20, "most messages sent per second")
	set.Int(&c.SendWorkers, "send-workers", "SEND_WORKERS", 4, "messages being sent at once (each waits on the directory and the mail server)")
	set.Int(&c.MaxAttempts, "max-attempts", "MAX_ATTEMPTS", dispatch.DefaultMaxAttempts, "failed attempts of no known cause after which a delivery is dead (unreachable dependencies never count; a permanent refusal kills at once)")
	set.String(&c.PublicURL, "public-url", "PUBLIC_URL", "http://127.0.0.1:7190", "base URL of the website; messages link to the case's page, PUBLIC_URL/{group}/cases/{case}, or the group's, PUBLIC_URL/{group}/")
	set.Int(&c.DigestHour, "digest-hour", "DIGEST_HOUR", 7, "UTC hour (0-23) from which each day's digests are sent to the members who asked for one")
}

func (c Config) check() error {
	var errs []error
	if c.SendRate <= 0 {
		errs = append(errs, errors.New("send rate must be positive"))
	}
	if c.SendWorkers < 0 {
		errs = append(errs, errors.New("send workers must not be negative"))
	}
	if c.DigestHour < 0 || c.DigestHour > 23 {
		errs = append(errs, fmt.Errorf("digest hour %d must be from 0 to 23", c.DigestHour))
	}
	if c.MaxAttempts < 1 {
		errs = append(errs, errors.New("max attempts must be at least 1"))
	}
	if _, err := mailer.ParseStartTLS(c.SMTPStartTLS); err != nil {
		errs = append(errs, err)
	}
	if _, err := mailer.ParseAuth(c.SMTPAuth); err != nil {
		errs = append(errs, err)
	}
	if c.SMTPPassword != "" && c.SMTPUsername == "" {
		errs = append(errs, errors.New("smtp password is set without a user name"))
	}
	if _, err := federation.ParsePeers(c.FederationPeers); err != nil {
		errs = append(errs, err)
	}
	if u, err := url.Parse(c.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, fmt.Errorf("public url %q must be an absolute http or https URL", c.PublicURL))
	}
	return errors.Join(errs...)
}

// Run serves until ctx is done, then stops gracefully; it returns the first
// error of any component.
func Run(ctx context.Context, cfg Config) error {
	if err := cfg.check(); err != nil {
		return err
	}
	templates, err := message.NewCatalog()
	if err != nil {
		return err
	}
	counted := newDeliveryMetrics()
	smtp, err := mailer.New(mailer.Options{
		HandedOff: counted.handedOff,
		Addr:      cfg.SMTPAddr,
		Username:  cfg.SMTPUsername,
		Password:  cfg.SMTPPassword,
		StartTLS:  mailer.StartTLS(cfg.SMTPStartTLS),
		Auth:      mailer.Auth(cfg.SMTPAuth),
		From:      cfg.MailFrom,
	})
	if err != nil {
		return err
	}
	base, err := service.Open(ctx, Name, cfg.Service, migrations.FS)
	if err != nil {
		return err
	}
	defer base.Close()
	directoryConn, err := base.Dial(cfg.DirectoryAddr)
	if err != nil {
		return err
	}
	directoryClient := directoryv1.NewDirectoryServiceClient(directoryConn)
	caseworkConn, err := base.Dial(cfg.CaseworkAddr)
	if err != nil {
		return err
	}
	cases := casework.Client{Casework: caseworkv1.NewCaseworkServiceClient(caseworkConn)}
	dir := directory.Client{Directory: directoryClient}

	deliveries := &store.Store{Pool: base.Pool, Schema: cfg.DatabaseSchema}
	counted.register(base.Metrics, deliveries)
	peers, _ := federation.ParsePeers(cfg.FederationPeers) // checked above
	peerClient := &peer.Client{Peers: peers, Plaintext: cfg.FederationPlaintext}
	defer peerClient.Close()
	// Every message is rendered in its group's wording where it has one.
	wording := &dispatch.Wording{Catalog: templates, Store: deliveries, Now: cfg.Now}
	sender := &dispatch.Sender{
		Queue:        deliveries,
		Directory:    dir,
		Mailer:       smtp,
		Federation:   peerClient,
		Templates:    wording,
		Casework:     cases,
		Retry:        dispatch.Retry{MaxAttempts: cfg.MaxAttempts, Base: cfg.RetryBase, Max: cfg.RetryMax},
		Rate:         cfg.SendRate,
		Workers:      cfg.SendWorkers,
		PublicURL:    cfg.PublicURL,
		PollInterval: cfg.PollInterval,
		Logger:       base.Log,
		Now:          cfg.Now,
		Attempted:    counted.attempted,
	}
	digest := &dispatch.Digest{
		Store: deliveries, Directory: dir, Cases: cases, Hour: cfg.DigestHour,
		Interval: cfg.DigestInterval, Logger: base.Log, Now: cfg.Now, Passed: cfg.DigestPassed,
	}
	planner := &eventapi.Handler{Planner: &dispatch.Planner{Directory: dir, Casework: cases, Logger: base.Log, Now: cfg.Now}, Logger: base.Log}
	deadLetters := &dispatch.DeadLetters{Store: deliveries, Planner: planner.Planner, Interval: cfg.DeadLetterInterval, Logger: base.Log,
		Now: cfg.Now, Passed: cfg.DeadLetterPassed}
	consumer := base.Consumer(eventapi.Subjects(base.Events), planner.Handle)
	caseConsumer := base.Consumer(eventapi.CaseSubjects(base.Events), planner.Handle)
	caseConsumer.Name = CaseConsumer

	server := base.Server(grpcserver.Options{
		// Peers' credentials first; every other credential as before.
		Authenticator: federation.Authenticator{Peers: peers, Next: auth.Chain{Services: base.Trusted, Others: &auth.Directory{Client: directoryClient}}},
		Validate:      grpcapi.Validate,
	})
	notificationv1.RegisterNotificationServiceServer(server.Registrar(), &grpcapi.Server{
		Log:       &dispatch.Log{Store: deliveries, Now: cfg.Now},
		Templates: wording,
		Digests:   &dispatch.DigestSettingsService{Store: deliveries, Now: cfg.Now},
		SignIns:   &dispatch.SignInLinks{Templates: wording, Catalog: templates, Mailer: smtp, Logger: base.Log},
	})

	federationv1.RegisterFederationServiceServer(server.Registrar(), &grpcapi.Federation{Inbox: &federation.Inbox{
		Peers: peers, Store: store.Incoming{Store: deliveries}, Directory: dir, NewID: uuid.NewString,
		Announcer: federation.AdminAnnouncer{Planner: planner.Planner, Deliveries: deliveries},
	}})

	// The sender wakes as soon as new deliveries are committed, and polls
	// in case a notification is missed.
	wake := make(chan struct{}, 1)
	listen := func(ctx context.Context) error {
		postgres.Listen(ctx, base.Pool, deliveries.Channel(), wake, time.Second, base.Log)
		return nil
	}
	return base.Run(ctx, server, consumer.Run, caseConsumer.Run, listen, func(ctx context.Context) error { return sender.Run(ctx, wake) }, digest.Run, deadLetters.Run)
}
