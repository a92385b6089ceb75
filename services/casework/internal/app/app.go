// Package app wires the casework service together: settings, PostgreSQL,
// NATS, the clients of intake and the directory, the gRPC server, the outbox
// relay and the event consumer.
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
	caseworkv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/casework/v1"
	directoryv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/directory/v1"
	intakev1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/intake/v1"
	"github.com/ipnmediation/disputes/services/casework/internal/casefile"
	"github.com/ipnmediation/disputes/services/casework/internal/directory"
	"github.com/ipnmediation/disputes/services/casework/internal/eventapi"
	"github.com/ipnmediation/disputes/services/casework/internal/grpcapi"
	"github.com/ipnmediation/disputes/services/casework/internal/intake"
	"github.com/ipnmediation/disputes/services/casework/internal/store"
	"github.com/ipnmediation/disputes/services/casework/migrations"
	"golang.org/x/sync/errgroup"
)

// Name is the service's name: its log label, schema, durable consumer name
// and the name it presents to other services.
const Name = "casework"

// Config is the casework service's settings.
type Config struct {
	config.Service
	// DirectoryAddr is the directory service's gRPC address.
	DirectoryAddr string
	// IntakeAddr is the intake service's gRPC address.
	IntakeAddr string
}

// Register declares the settings on set.
func (c *Config) Register(set *config.Set) {
	set.RegisterService(&c.Service, Name, "127.0.0.1:7103")
	set.String(&c.DirectoryAddr, "directory-addr", "DIRECTORY_ADDR", "127.0.0.1:7101", "gRPC address of the directory service")
	set.String(&c.IntakeAddr, "intake-addr", "INTAKE_ADDR", "127.0.0.1:7102", "gRPC address of the intake service")
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
	intakeConn, err := grpcserver.Dial(cfg.IntakeAddr, Name, cfg.ServiceSecret)
	if err != nil {
		return err
	}
	defer intakeConn.Close()
	directoryClient := directoryv1.NewDirectoryServiceClient(directoryConn)

	st := &store.Store{Pool: pool, Namespace: ns}
	cases := &casefile.Service{
		Store:     st,
		Intake:    intake.Client{Intake: intakev1.NewIntakeServiceClient(intakeConn)},
		Directory: directory.Client{Directory: directoryClient},
	}
	server := grpcserver.New(grpcserver.Options{
		Name:   Name,
		Addr:   cfg.GRPCAddr,
		Logger: log,
		Authenticator: auth.Chain{
			Services: auth.Services(trusted),
			Others:   &auth.Directory{Client: directoryClient},
		},
		Validate:        grpcapi.Validate,
		Readiness:       []grpcserver.Check{postgres.Ping(pool), events.Ready(nc, js, ns)},
		ShutdownTimeout: cfg.ShutdownTimeout,
	})
	caseworkv1.RegisterCaseworkServiceServer(server.Registrar(), &grpcapi.Server{Cases: cases})

	opener := eventapi.ConcernRegistered{Cases: cases, Store: st}
	consumer := &events.Consumer{
		Name:      Name,
		Namespace: ns,
		Subjects:  opener.Subjects(ns),
		Pool:      pool,
		JetStream: js,
		Logger:    log,
		Handle:    opener.Handle,
	}

	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return server.Serve(gctx) })
	g.Go(func() error {
		return (&outbox.Relay{Pool: pool, JetStream: js, Schema: cfg.DatabaseSchema, Logger: log}).Run(gctx)
	})
	g.Go(func() error { return consumer.Run(gctx) })
	return g.Wait()
}
