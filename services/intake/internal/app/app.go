// Package app wires the intake service together: settings, PostgreSQL, NATS,
// the directory client, the gRPC server and the outbox relay.
package app

import (
	"context"
	"errors"
	"time"

	"github.com/ipnmediation/disputes/platform/auth"
	"github.com/ipnmediation/disputes/platform/config"
	"github.com/ipnmediation/disputes/platform/grpcserver"
	"github.com/ipnmediation/disputes/platform/service"
	directoryv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/directory/v1"
	intakev1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/intake/v1"
	"github.com/ipnmediation/disputes/services/intake/internal/concern"
	"github.com/ipnmediation/disputes/services/intake/internal/directory"
	"github.com/ipnmediation/disputes/services/intake/internal/eventapi"
	"github.com/ipnmediation/disputes/services/intake/internal/grpcapi"
	"github.com/ipnmediation/disputes/services/intake/internal/session"
	"github.com/ipnmediation/disputes/services/intake/internal/store"
	"github.com/ipnmediation/disputes/services/intake/migrations"
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
}

// Register declares the settings on set.
func (c *Config) Register(set *config.Set) {
	set.RegisterService(&c.Service, Name, "127.0.0.1:7102")
	set.String(&c.DirectoryAddr, "directory-addr", "DIRECTORY_ADDR", "127.0.0.1:7101", "gRPC address of the directory service")
	set.Duration(&c.ClientSessionTTL, "client-session-ttl", "CLIENT_SESSION_TTL", session.DefaultTTL, "lifetime of the client session a client gets for a right reference and access code")
}

// Run serves intake until ctx is done.
func Run(ctx context.Context, cfg Config) error {
	if cfg.ClientSessionTTL <= 0 {
		return errors.New("client session TTL: set CLIENT_SESSION_TTL to a positive duration such as 1h")
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

	st := &store.Store{Pool: base.Pool, Namespace: base.Events}
	concerns := &concern.Service{
		Store:     st,
		Directory: directory.Client{Directory: directoryv1.NewDirectoryServiceClient(directoryConn)},
	}
	server := base.Server(grpcserver.Options{
		Authenticator: auth.Chain{Services: base.Trusted},
		Public:        grpcapi.PublicMethods,
		Validate:      grpcapi.Validate,
	})
	sessions := &session.Service{Store: st, TTL: cfg.ClientSessionTTL}
	intakev1.RegisterIntakeServiceServer(server.Registrar(), &grpcapi.Server{Concerns: concerns, Sessions: sessions})

	handOver := eventapi.CaseOpened{Store: st}
	consumer := base.Consumer(handOver.Subjects(base.Events), handOver.Handle)
	return base.Run(ctx, server, consumer.Run)
}
