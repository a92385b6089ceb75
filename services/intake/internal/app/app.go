// Package app wires the intake service together: settings, PostgreSQL, NATS,
// the directory client, the gRPC server and the outbox relay.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"time"

	"github.com/ipnmediation/disputes/platform/auth"
	"github.com/ipnmediation/disputes/platform/clientaddr"
	"github.com/ipnmediation/disputes/platform/config"
	"github.com/ipnmediation/disputes/platform/grpcserver"
	"github.com/ipnmediation/disputes/platform/limit"
	"github.com/ipnmediation/disputes/platform/metrics"
	"github.com/ipnmediation/disputes/platform/sealed"
	"github.com/ipnmediation/disputes/platform/service"
	"github.com/ipnmediation/disputes/platform/signinlink"
	directoryv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/directory/v1"
	intakev1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/intake/v1"
	notificationv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/notification/v1"
	"github.com/ipnmediation/disputes/services/intake/internal/accesscode"
	"github.com/ipnmediation/disputes/services/intake/internal/concern"
	"github.com/ipnmediation/disputes/services/intake/internal/directory"
	"github.com/ipnmediation/disputes/services/intake/internal/eventapi"
	"github.com/ipnmediation/disputes/services/intake/internal/grpcapi"
	"github.com/ipnmediation/disputes/services/intake/internal/notification"
	"github.com/ipnmediation/disputes/services/intake/internal/session"
	"github.com/ipnmediation/disputes/services/intake/internal/store"
	"github.com/ipnmediation/disputes/services/intake/migrations"
	"github.com/prometheus/client_golang/prometheus"
)

// Name is the service's name: its log label, schema, durable consumer name
// and the name it presents to other services.
const Name = "intake"

// Config is the intake service's settings.
type Config struct {
	config.Service
	// DirectoryAddr is the directory service's gRPC address.
	DirectoryAddr string
	// ClientSessionTTL is the lifetime of a client session.
	ClientSessionTTL time.Duration
	// TrustedGateways are the networks whose callers may tell the client's
	// address (the gateway), as a comma-separated list.
	TrustedGateways string
	// ConcernsPerAddress concerns per ConcernWindow are accepted from one
	// client network; zero turns the limit off.
	ConcernsPerAddress int
	ConcernWindow      time.Duration
	// SessionAttemptsPerAddress sign-in attempts per SessionAttemptWindow
	// are accepted from one client network; zero turns the limit off.
	SessionAttemptsPerAddress int
	SessionAttemptWindow      time.Duration
	// AccessCodeKeys key the access codes' hashes, "id=base64,...";
	// AccessCodeKeyID names the one for new hashes (may be empty with one
	// key).
	AccessCodeKeys  string
	AccessCodeKeyID string
	// HashConcurrency bounds the argon2id checks of access codes issued
	// before keyed hashing computed at once; HashWait is the longest a
	// request waits for its turn. The defaults of package accesscode when
	// zero.
	HashConcurrency int
	HashWait        time.Duration

	// NotificationAddr is notification's gRPC address; intake has it
	// e-mail clients their sign-in links.
	NotificationAddr string
	// PublicURL is the website's address, which sign-in links lead to.
	PublicURL string
	// SignInLinksPerEmail and SignInLinksPerAddress limit requests for
	// clients' sign-in links within SignInLinkWindow, per e-mail address
	// and per client network; zero turns one off.
	SignInLinksPerEmail, SignInLinksPerAddress int
	SignInLinkWindow                           time.Duration
	// SignInMinAnswer is the least time a request for links takes.
	SignInMinAnswer time.Duration
	// Now is the clock; time.Now when nil (a testclock build sets it).
	Now func() time.Time

	// Keys encrypt the concerns' confidential text at rest.
	Keys config.Keys
	// Reencrypt makes Run re-encrypt (see reencrypt.go) and return instead
	// of serving.
	Reencrypt bool
}

// Register declares the settings on set.
func (c *Config) Register(set *config.Set) {
	set.RegisterService(&c.Service, Name, "127.0.0.1:7102", "127.0.0.1:7202")
	set.String(&c.DirectoryAddr, "directory-addr", "DIRECTORY_ADDR", "127.0.0.1:7101", "gRPC address of the directory service")
	set.Duration(&c.ClientSessionTTL, "client-session-ttl", "CLIENT_SESSION_TTL", session.DefaultTTL, "lifetime of the client session a client gets for a right reference and access code")
	set.String(&c.TrustedGateways, "trusted-gateways", "TRUSTED_GATEWAYS", grpcserver.DefaultTrustedFrontEnds, "networks and addresses of the callers (the gateway) whose x-client-address metadata is believed, comma-separated; everyone else is counted under their own address")
	set.Int(&c.ConcernsPerAddress, "concerns-per-address", "CONCERNS_PER_ADDRESS", 5, "concerns accepted from one client address (an IPv6 /64) per CONCERN_WINDOW; 0 turns the limit off")
	set.Duration(&c.ConcernWindow, "concern-window", "CONCERN_WINDOW", time.Hour, "the span over which CONCERNS_PER_ADDRESS counts")
	set.Int(&c.SessionAttemptsPerAddress, "session-attempts-per-address", "SESSION_ATTEMPTS_PER_ADDRESS", 20, "sign-ins with a reference and access code, right or wrong, accepted from one client address (an IPv6 /64) per SESSION_ATTEMPT_WINDOW; 0 turns the limit off")
	set.Duration(&c.SessionAttemptWindow, "session-attempt-window", "SESSION_ATTEMPT_WINDOW", 15*time.Minute, "the span over which SESSION_ATTEMPTS_PER_ADDRESS counts")
	set.Secret(&c.AccessCodeKeys, "access-code-keys", "ACCESS_CODE_KEYS", "keys of the access codes' HMAC-SHA-256 hashes, as id=base64,id=base64 (32 random bytes each; generate one with openssl rand -base64 32); keep an old key listed while hashes made under it are left")
	set.String(&c.AccessCodeKeyID, "access-code-key-id", "ACCESS_CODE_KEY_ID", "", "id of the key in ACCESS_CODE_KEYS that hashes new access codes; may be empty when only one key is given")
	set.Int(&c.HashConcurrency, "hash-concurrency", "HASH_CONCURRENCY", accesscode.DefaultConcurrency, "argon2id checks (19 MiB each) of access codes issued before keyed hashing computed at once; further sign-ins wait their turn")
	set.Duration(&c.HashWait, "hash-wait", "HASH_WAIT", accesscode.DefaultWait, "longest a sign-in waits for its turn at an argon2id check before it is refused with UNAVAILABLE")
	set.String(&c.NotificationAddr, "notification-addr", "NOTIFICATION_ADDR", "127.0.0.1:7104", "gRPC address of the notification service, which e-mails clients their sign-in links; its TRUSTED_SERVICES must hold intake's secret")
	set.String(&c.PublicURL, "public-url", "PUBLIC_URL", "http://127.0.0.1:7190", "the website's address, which clients' sign-in links lead to (PUBLIC_URL/{group}/link/{secret})")
	set.Int(&c.SignInLinksPerEmail, "sign-in-links-per-email", "SIGN_IN_LINKS_PER_EMAIL", 5, "clients' sign-in links one e-mail address may ask for in a group within SIGN_IN_LINK_WINDOW; 0 for no limit")
	set.Int(&c.SignInLinksPerAddress, "sign-in-links-per-address", "SIGN_IN_LINKS_PER_ADDRESS", 20, "clients' sign-in links one client network may ask for within SIGN_IN_LINK_WINDOW; 0 for no limit")
	set.Duration(&c.SignInLinkWindow, "sign-in-link-window", "SIGN_IN_LINK_WINDOW", time.Hour, "the window of the sign-in link limits")
	set.Duration(&c.SignInMinAnswer, "sign-in-min-answer", "SIGN_IN_MIN_ANSWER", signinlink.DefaultMinAnswer, "least time a request for clients' sign-in links takes, so that known and unknown addresses answer alike")
	set.RegisterKeys(&c.Keys)
	set.Bool(&c.Reencrypt, "reencrypt", "", false, reencryptUsage)
}

// check refuses settings that cannot work, naming the setting to fix.
func (c Config) check() ([]netip.Prefix, error) {
	if c.ClientSessionTTL <= 0 {
		return nil, errors.New("client session TTL: set CLIENT_SESSION_TTL to a positive duration such as 1h")
	}
	gateways, err := clientaddr.ParsePrefixes(c.TrustedGateways)
	if err != nil {
		return nil, fmt.Errorf("trusted gateways: set TRUSTED_GATEWAYS to networks or addresses such as 10.0.0.0/8,192.0.2.7: %w", err)
	}
	switch {
	case c.ConcernsPerAddress < 0 || (c.ConcernsPerAddress > 0 && c.ConcernWindow <= 0):
		return nil, errors.New("concern limit: set CONCERNS_PER_ADDRESS to 0 or more and CONCERN_WINDOW to a positive duration such as 1h")
	case c.SessionAttemptsPerAddress < 0 || (c.SessionAttemptsPerAddress > 0 && c.SessionAttemptWindow <= 0):
		return nil, errors.New("sign-in limit: set SESSION_ATTEMPTS_PER_ADDRESS to 0 or more and SESSION_ATTEMPT_WINDOW to a positive duration such as 15m")
	case c.SignInLinksPerEmail < 0 || c.SignInLinksPerAddress < 0 ||
		(c.SignInLinksPerEmail > 0 || c.SignInLinksPerAddress > 0) && c.SignInLinkWindow <= 0:
		return nil, errors.New("sign-in link limits: set SIGN_IN_LINKS_PER_EMAIL and SIGN_IN_LINKS_PER_ADDRESS to 0 or more and SIGN_IN_LINK_WINDOW to a positive duration such as 1h")
	case c.SignInMinAnswer < 0:
		return nil, errors.New("sign-in links: set SIGN_IN_MIN_ANSWER to a duration of 0 or more, such as 200ms")
	case c.HashConcurrency < 0 || c.HashWait < 0:
		return nil, errors.New("hashing: set HASH_CONCURRENCY to a positive number such as 4 and HASH_WAIT to a positive duration such as 5s")
	}
	return gateways, nil
}

// Run serves intake until ctx is done.
func Run(ctx context.Context, cfg Config) error {
	gateways, err := cfg.check()
	if err != nil {
		return err
	}
	keys, err := sealed.FromConfig(cfg.Keys)
	if err != nil {
		return err
	}
	if cfg.Reencrypt {
		return reencrypt(ctx, cfg, keys)
	}
	codeKeys, err := accesscode.ParseKeys(cfg.AccessCodeKeys, cfg.AccessCodeKeyID)
	if err != nil {
		return fmt.Errorf("ACCESS_CODE_KEYS/ACCESS_CODE_KEY_ID: %w", err)
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

	notificationConn, err := base.Dial(cfg.NotificationAddr)
	if err != nil {
		return err
	}

	st := &store.Store{Pool: base.Pool, Namespace: base.Events, Keys: keys, Emails: codeKeys}
	// Concerns registered before the e-mail hashes were kept get theirs
	// now, while intake still holds their addresses. A failure leaves them
	// for the next start: their clients have the reference and code.
	if n, err := st.FillEmailHashes(ctx); err != nil {
		base.Log.Warn("hashing the e-mail addresses of older concerns failed; it is tried again at the next start", slog.Any("error", err))
	} else if n > 0 {
		base.Log.Info("hashed the e-mail addresses of older concerns", slog.Int("concerns", n))
	}
	// Keyed hashing needs no bound; the argon2id checks of codes from
	// before it are bounded, however many sign-ins come.
	hasher := accesscode.NewHashing(codeKeys, cfg.HashConcurrency, cfg.HashWait)
	refusals := limit.NewRefusals(base.Metrics)
	lockouts := prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: metrics.Namespace, Name: "lockouts_total",
		Help: "Lockouts begun: a reference locked after too many wrong access codes."}, []string{"kind"})
	base.Metrics.MustRegister(lockouts)
	concerns := &concern.Service{
		Store:        st,
		Directory:    &directory.Cache{Directory: directory.Client{Directory: directoryv1.NewDirectoryServiceClient(directoryConn)}},
		AddressLimit: &limit.Limiter{Store: st, Rule: limit.Rule{Bucket: "concern", Max: cfg.ConcernsPerAddress, Window: cfg.ConcernWindow}, Refusals: refusals},
		Hasher:       hasher,
		Log:          base.Log,
	}
	sessions := &session.Service{Store: st, TTL: cfg.ClientSessionTTL, Hasher: hasher, Now: cfg.Now,
		AddressLimit: &limit.Limiter{Store: st, Rule: limit.Rule{Bucket: "session", Max: cfg.SessionAttemptsPerAddress, Window: cfg.SessionAttemptWindow}, Refusals: refusals},
		LockedOut:    lockouts.WithLabelValues("access_code").Inc}
	links := &session.Links{
		Service:    sessions,
		LinkStore:  st,
		Emails:     codeKeys,
		Groups:     directory.Client{Directory: directoryv1.NewDirectoryServiceClient(directoryConn)},
		Mailer:     notification.Client{Notification: notificationv1.NewNotificationServiceClient(notificationConn)},
		PublicURL:  cfg.PublicURL,
		PerEmail:   &limit.Limiter{Store: st, Rule: limit.Rule{Bucket: "sign_in_link_email", Max: cfg.SignInLinksPerEmail, Window: cfg.SignInLinkWindow}, Refusals: refusals},
		PerAddress: &limit.Limiter{Store: st, Rule: limit.Rule{Bucket: "sign_in_link_address", Max: cfg.SignInLinksPerAddress, Window: cfg.SignInLinkWindow}, Refusals: refusals},
		MinAnswer:  cfg.SignInMinAnswer,
		Send:       func(f func()) { go f() },
		Log:        func(msg string, args ...any) { base.Log.Info(msg, args...) },
	}
	server := base.Server(grpcserver.Options{
		// The directory knows the operator's token, which the operator
		// brings to the parked events every service serves. Client
		// sessions are intake's own: it checks them in its store, so a
		// client signing out (EndClientSession) is known here at once.
		Authenticator: auth.Chain{Services: base.Trusted, Clients: session.Clients{Sessions: sessions},
			Others: &auth.Directory{Client: directoryv1.NewDirectoryServiceClient(directoryConn)}},
		Validate: grpcapi.Validate,
	})
	intakev1.RegisterIntakeServiceServer(server.Registrar(), &grpcapi.Server{Concerns: concerns, Sessions: sessions, Links: links,
		Addresses: grpcserver.ClientAddresses{TrustedFrontEnds: gateways}})

	handOver := eventapi.CaseOpened{Store: st}
	consumer := base.Consumer(handOver.Subjects(base.Events), handOver.Handle)
	forget := eventapi.CasePurged{Store: st}
	purged := base.Consumer(forget.Subjects(base.Events), forget.Handle)
	purged.Name = eventapi.PurgedConsumer
	forgetCodes := func(ctx context.Context) error { return forgetReplayCodes(ctx, concerns, base.Log) }
	return base.Run(ctx, server, consumer.Run, purged.Run, forgetCodes)
}

// forgetEvery is how often the access codes kept for repeats of a request
// are looked at: one is destroyed at most this long after its request id
// is forgotten.
const forgetEvery = time.Minute

// forgetReplayCodes destroys the access codes kept for repeats once their
// request ids are forgotten, at start and then every forgetEvery, until ctx
// is done. A failed pass is logged and tried again at the next one: a
// database that is briefly away must not stop the service.
func forgetReplayCodes(ctx context.Context, concerns *concern.Service, log *slog.Logger) error {
	ticker := time.NewTicker(forgetEvery)
	defer ticker.Stop()
	for {
		n, err := concerns.ForgetReplayCodes(ctx)
		switch {
		case ctx.Err() != nil:
			return nil
		case err != nil:
			log.Warn("forgetting the access codes kept for repeats failed", slog.Any("error", err))
		case n > 0:
			log.Info("forgot the access codes kept for repeats", slog.Int("codes", n))
		}
		select {
		case <-ctx.Done():
			return nil
		case <-ticker.C:
		}
	}
}
