// Package app wires the directory service together and runs it.
package app

import (
	"context"
	"errors"
	"time"

	"github.com/ipnmediation/disputes/platform/auth"
	"github.com/ipnmediation/disputes/platform/config"
	"github.com/ipnmediation/disputes/platform/grpcserver"
	"github.com/ipnmediation/disputes/platform/service"
	caseworkv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/casework/v1"
	directoryv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/directory/v1"
	"github.com/ipnmediation/disputes/services/directory/internal/casework"
	"github.com/ipnmediation/disputes/services/directory/internal/directory"
	"github.com/ipnmediation/disputes/services/directory/internal/grpcapi"
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
}

// Register declares the directory's settings.
func (c *Config) Register(s *config.Set) {
	s.RegisterService(&c.Service, Name, "127.0.0.1:7101")
	s.Secret(&c.OperatorToken, "operator-token", "OPERATOR_TOKEN", "bearer secret of the deployment's operator, who creates groups (required)")
	s.Duration(&c.TokenTTL, "token-ttl", "TOKEN_TTL", 90*24*time.Hour, "default lifetime of access tokens, members' and link groups'")
	s.String(&c.CaseworkAddr, "casework-addr", "CASEWORK_ADDR", "127.0.0.1:7103", "gRPC address of the casework service, which the directory asks whether a group's chosen procedure exists")
}

// Run serves the directory until ctx is done.
func Run(ctx context.Context, cfg Config) error {
	if len(cfg.OperatorToken) < 16 {
		return errors.New("operator token: set OPERATOR_TOKEN to a secret of at least 16 characters")
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

	svc := &directory.Service{
		Store:         store.New(base.Pool, base.Events),
		OperatorToken: cfg.OperatorToken,
		TokenTTL:      cfg.TokenTTL,
		Procedures:    casework.Client{Casework: caseworkv1.NewCaseworkServiceClient(caseworkConn)},
	}
	server := base.Server(grpcserver.Options{
		Authenticator: auth.Chain{Services: base.Trusted, Others: localAuthenticator{svc}},
		Validate:      grpcapi.Validate,
	})
	directoryv1.RegisterDirectoryServiceServer(server.Registrar(), &grpcapi.Handler{Service: svc})
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
