// Package app wires the directory service together and runs it.
package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ipnmediation/disputes/platform/auth"
	"github.com/ipnmediation/disputes/platform/clientaddr"
	"github.com/ipnmediation/disputes/platform/config"
	"github.com/ipnmediation/disputes/platform/grpcserver"
	"github.com/ipnmediation/disputes/platform/limit"
	"github.com/ipnmediation/disputes/platform/service"
	caseworkv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/casework/v1"
	directoryv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/directory/v1"
	notificationv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/notification/v1"
	"github.com/ipnmediation/disputes/services/directory/internal/casework"
	"github.com/ipnmediation/disputes/services/directory/internal/directory"
	"github.com/ipnmediation/disputes/services/directory/internal/grpcapi"
	"github.com/ipnmediation/disputes/services/directory/internal/notification"
	"github.com/ipnmediation/disputes/services/directory/internal/store"
	"github.com/ipnmediation/disputes/services/directory/migrations"
)

// Name is the service's name: its schema, log name and durable consumer name.
const Name = "directory"

// Config is the directory's configuration.
type Config struct {
	config.Service
	// OperatorToken is the deployment operator's bearer secret.
	OperatorToken string
	// TokenTTL is the default lifetime of access tokens, members' and link
	// groups'.
	TokenTTL time.Duration
	// CaseworkAddr is casework's gRPC address; the directory asks it which
	// procedure versions a group may choose.
	CaseworkAddr string
	// NotificationAddr is notification's gRPC address; the directory has it
	// e-mail sign-in links.
	NotificationAddr string
	// PublicURL is the website's address, which sign-in links lead to.
	PublicURL string
	// TrustedGateways are the networks whose x-client-address is believed,
	// for the per-address limit on sign-in links.
	TrustedGateways string
	// SignInLinksPerEmail and SignInLinksPerAddress limit requests for
	// sign-in links within SignInLinkWindow, per e-mail address and per
	// client network.
	SignInLinksPerEmail, SignInLinksPerAddress int
	SignInLinkWindow                           time.Duration
	// SignInMinAnswer is the least time a request for a link takes.
	SignInMinAnswer time.Duration
	// Now is the clock; time.Now when nil. Tests inject their own.
	Now func() time.Time
}

// Register declares the directory's settings.
func (c *Config) Register(s *config.Set) {
	s.RegisterService(&c.Service, Name, "127.0.0.1:7101", "127.0.0.1:7201")
	s.Secret(&c.OperatorToken, "operator-token", "OPERATOR_TOKEN", "bearer secret of the deployment's operator, who creates groups (required)")
	s.Duration(&c.TokenTTL, "token-ttl", "TOKEN_TTL", 90*24*time.Hour, "default lifetime of access tokens, members' and link groups'")
	s.String(&c.NotificationAddr, "notification-addr", "NOTIFICATION_ADDR", "127.0.0.1:7104", "gRPC address of the notification service, which e-mails members their sign-in links")
	s.String(&c.PublicURL, "public-url", "PUBLIC_URL", "http://127.0.0.1:7190", "the website's address, which sign-in links lead to (PUBLIC_URL/{group}/sign-in/{secret})")
	s.String(&c.TrustedGateways, "trusted-gateways", "TRUSTED_GATEWAYS", grpcserver.DefaultTrustedFrontEnds, "networks and addresses of the callers (the gateway) whose x-client-address metadata is believed, comma-separated")
	s.Int(&c.SignInLinksPerEmail, "sign-in-links-per-email", "SIGN_IN_LINKS_PER_EMAIL", 5, "sign-in links one e-mail address may ask for within SIGN_IN_LINK_WINDOW; 0 for no limit")
	s.Int(&c.SignInLinksPerAddress, "sign-in-links-per-address", "SIGN_IN_LINKS_PER_ADDRESS", 20, "sign-in links one client network may ask for within SIGN_IN_LINK_WINDOW; 0 for no limit")
	s.Duration(&c.SignInLinkWindow, "sign-in-link-window", "SIGN_IN_LINK_WINDOW", time.Hour, "the window of the sign-in link limits")
	s.Duration(&c.SignInMinAnswer, "sign-in-min-answer", "SIGN_IN_MIN_ANSWER", 200*time.Millisecond, "least time a request for a sign-in link takes, so that known and unknown addresses answer alike")
	s.String(&c.CaseworkAddr, "casework-addr", "CASEWORK_ADDR", "127.0.0.1:7103", "gRPC address of the casework service, which the directory asks whether a group's chosen procedure exists")
}

// Run serves the directory until ctx is done.
func Run(ctx context.Context, cfg Config) error {
	if len(cfg.OperatorToken) < 16 {
		return errors.New("operator token: set OPERATOR_TOKEN to a secret of at least 16 characters")
	}
	gateways, err := clientaddr.ParsePrefixes(cfg.TrustedGateways)
	if err != nil {
		return fmt.Errorf("trusted gateways: set TRUSTED_GATEWAYS to networks or addresses such as 10.0.0.0/8,192.0.2.7: %w", err)
	}
	if cfg.SignInLinksPerEmail < 0 || cfg.SignInLinksPerAddress < 0 ||
		(cfg.SignInLinksPerEmail > 0 || cfg.SignInLinksPerAddress > 0) && cfg.SignInLinkWindow <= 0 {
		return errors.New("sign-in link limits: set SIGN_IN_LINKS_PER_EMAIL and SIGN_IN_LINKS_PER_ADDRESS to 0 or more and SIGN_IN_LINK_WINDOW to a positive duration such as 1h")
	}
	base, err := service.Open(ctx, Name, cfg.Service, migrations.FS)
	if err != nil {
		return err
	}
	defer base.Close()
	// The connection is made lazily: the directory serves without casework,
	// and only a group's new choice of procedure waits for it.
	caseworkConn, err := base.Dial(cfg.CaseworkAddr)
	if err != nil {
		return err
	}

	notificationConn, err := base.Dial(cfg.NotificationAddr)
	if err != nil {
		return err
	}
	st := store.New(base.Pool, base.Events)
	svc := &directory.Service{
		Store:         st,
		Sessions:      st,
		Now:           cfg.Now,
		OperatorToken: cfg.OperatorToken,
		TokenTTL:      cfg.TokenTTL,
		Procedures:    casework.Client{Casework: caseworkv1.NewCaseworkServiceClient(caseworkConn)},
	}
	server := base.Server(grpcserver.Options{
		Authenticator: auth.Chain{Services: base.Trusted, Others: localAuthenticator{svc}},
		Validate:      grpcapi.Validate,
	})
	counts := limit.Postgres{Pool: base.Pool}
	refusals := limit.NewRefusals(base.Metrics)
	signIns := &directory.SignIns{
		Service:    svc,
		Store:      st,
		Mailer:     notification.Client{Notification: notificationv1.NewNotificationServiceClient(notificationConn)},
		PublicURL:  cfg.PublicURL,
		PerEmail:   &limit.Limiter{Store: counts, Rule: limit.Rule{Bucket: "sign_in_link_email", Max: cfg.SignInLinksPerEmail, Window: cfg.SignInLinkWindow}, Refusals: refusals},
		PerAddress: &limit.Limiter{Store: counts, Rule: limit.Rule{Bucket: "sign_in_link_address", Max: cfg.SignInLinksPerAddress, Window: cfg.SignInLinkWindow}, Refusals: refusals},
		MinAnswer:  cfg.SignInMinAnswer,
		Send:       func(f func()) { go f() },
		Log:        func(msg string, args ...any) { base.Log.Info(msg, args...) },
	}
	directoryv1.RegisterDirectoryServiceServer(server.Registrar(), &grpcapi.Handler{Service: svc,
		SignInHandler: grpcapi.SignInHandler{SignIns: signIns, Addresses: grpcserver.ClientAddresses{TrustedFrontEnds: gateways}}})
	return base.Run(ctx, server)
}

// localAuthenticator authenticates members and link groups against the
// directory's own tokens, without a round trip.
type localAuthenticator struct{ svc *directory.Service }

func (l localAuthenticator) Authenticate(ctx context.Context, secret string) (auth.Principal, error) {
	a, err := l.svc.Authenticate(ctx, secret)
	if err != nil {
		return auth.Principal{}, err
	}
	switch {
	case a.Operator:
		return auth.Principal{Kind: auth.Operator}, nil
	case a.LinkGroup != "":
		return auth.Principal{Kind: auth.LinkGroup, LinkGroup: a.LinkGroup, Group: a.Group}, nil
	}
	return auth.Principal{Kind: auth.Member, Member: a.Member, Group: a.Group, GroupAdmin: a.GroupAdmin}, nil
}
