// Package app wires the intake service together: settings, PostgreSQL, NATS,
// the directory client, the gRPC server and the outbox relay.
package app

import (
	"context"
	"fmt"
	"os"

	"github.com/ipnmediation/disputes/platform/auth"
	"github.com/ipnmediation/disputes/platform/config"
	"github.com/ipnmediation/disputes/platform/events"
	"github.com/ipnmediation/disputes/platform/grpcserver"
	"github.com/ipnmediation/disputes/platform/logging"
	"github.com/ipnmediation/disputes/platform/outbox"
	"github.com/ipnmediation/disputes/platform/postgres"
	directoryv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/directory/v1"
	intakev1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/intake/v1"
	"github.com/ipnmediation/disputes/services/intake/internal/concern"
	"github.com/ipnmediation/disputes/services/intake/internal/directory"
	"github.com/ipnmediation/disputes/services/intake/internal/grpcapi"
	"github.com/ipnmediation/disputes/services/intake/internal/store"
	"github.com/ipnmediation/disputes/services/intake/migrations"
	"golang.org/x/sync/errgroup"
)

// Name is the service's name: its log label, schema, durable consumer name
// and the name it presents to other services.
const Name = "intake"

// Config is the intake service's settings.
type Config struct {
	config.Service
	// DirectoryAddr is the directory service's gRPC address.
	DirectoryAddr string
}

// Register declares the settings on set.
func (c *Config) Register(set *config.Set) {
	set.RegisterService(&c.Service, Name, "127.0.0.1:7102")
	set.String(&c.DirectoryAddr, "directory-addr", "DIRECTORY_ADDR", "127.0.0.1:7101", "gRPC address of the directory service")
}

// Run serves until ctx is done, then stops gracefully; it returns the first
// error of any component.
func Run(ctx context.Context, cfg Config) error {
	level, err := logging.ParseLevel(cfg.LogLevel)
	if err != nil {
		return err
	}
	log := logging.New(os.Stdout, level, Name)
	trusted, err := config.ParsePairs(cfg.TrustedServices)
	if err != nil {
		return fmt.Errorf("trusted services: %w", err)
	}

	pool, err := postgres.Open(ctx, cfg.DatabaseURL, cfg.DatabaseSchema, migrations.FS)
	if err != nil {
		return err
	}
	defer pool.Close()

	ns := events.Namespace(cfg.EventNamespace)
	nc, js, err := events.Connect(cfg.NATSURL, Name)
	if err != nil {
		return err
	}
	defer nc.Close()
	if err := events.EnsureStream(ctx, js, ns); err != nil {
		return err
	}

	directoryConn, err := grpcserver.Dial(cfg.DirectoryAddr, Name, cfg.ServiceSecret)
	if err != nil {
		return err
	}
	defer directoryConn.Close()

	concerns := &concern.Service{
		Store:     &store.Store{Pool: pool, Namespace: ns},
		Directory: directory.Client{Directory: directoryv1.NewDirectoryServiceClient(directoryConn)},
	}
	server := grpcserver.New(grpcserver.Options{
		Name:            Name,
		Addr:            cfg.GRPCAddr,
		Logger:          log,
		Authenticator:   auth.Chain{Services: auth.Services(trusted)},
		Public:          grpcapi.PublicMethods,
		Validate:        grpcapi.Validate,
		Readiness:       []grpcserver.Check{postgres.Ping(pool), events.Ready(nc, js, ns)},
		ShutdownTimeout: cfg.ShutdownTimeout,
	})
	intakev1.RegisterIntakeServiceServer(server.Registrar(), &grpcapi.Server{Concerns: concerns})

	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return server.Serve(gctx) })
	g.Go(func() error {
		return (&outbox.Relay{Pool: pool, JetStream: js, Schema: cfg.DatabaseSchema, Logger: log}).Run(gctx)
	})
	return g.Wait()
}
