// Package service starts what every service of the system has in common, in
// the same order and the same way: the JSON logger, the PostgreSQL pool on
// the service's own schema with its migrations applied, the NATS JetStream
// connection and stream, the credentials of the services it trusts, the gRPC
// server with its readiness checks and the operator's view of parked events
// (ipn.disputes.operations.v1), the outbox relay, the event consumers'
// settings, and the metrics of all of these on the admin port. A service's own
// wiring (its store, domain, handlers, consumers) sits on top, in its
// internal/app package.
package service

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"

	grpcprom "github.com/grpc-ecosystem/go-grpc-middleware/providers/prometheus"
	"github.com/ipnmediation/disputes/platform/auth"
	"github.com/ipnmediation/disputes/platform/config"
	"github.com/ipnmediation/disputes/platform/events"
	"github.com/ipnmediation/disputes/platform/grpcserver"
	"github.com/ipnmediation/disputes/platform/logging"
	"github.com/ipnmediation/disputes/platform/metrics"
	"github.com/ipnmediation/disputes/platform/operations"
	"github.com/ipnmediation/disputes/platform/outbox"
	"github.com/ipnmediation/disputes/platform/postgres"
	"github.com/ipnmediation/disputes/platform/tracing"
	operationsv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/operations/v1"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/errgroup"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
)

// Base is a started service's shared equipment.
type Base struct {
	// Name is the service's name: log label, durable consumer name and the
	// name it presents to the other services.
	Name   string
	Config config.Service
	Log    *slog.Logger
	Pool   *pgxpool.Pool
	NATS   *nats.Conn
	// JetStream and Events reach the dispute-step stream.
	JetStream jetstream.JetStream
	Events    events.Namespace
	// Trusted are the services allowed to call this one.
	Trusted auth.Services
	// Metrics is the registry the admin port serves (ADMIN_ADDR, /metrics):
	// the platform's metrics are on it, and a service adds its own.
	Metrics *prometheus.Registry

	// serverCreds is nil for plaintext; clientCreds is insecure then.
	serverCreds, clientCreds credentials.TransportCredentials
	closers                  []func()
	// consumers are those Consumer made, all before Run: the operator's
	// retries of parked events go to them.
	consumers []*events.Consumer
	// clientMetrics count the calls to other services, on every
	// connection Dial makes; eventMetrics the consumers'.
	clientMetrics *grpcprom.ClientMetrics
	eventMetrics  *events.Metrics
}

// Open starts the shared equipment. PostgreSQL and NATS may come up after the
// service: Open waits for them until ctx is done.
func Open(ctx context.Context, name string, cfg config.Service, migrations fs.FS) (*Base, error) {
	level, err := logging.ParseLevel(cfg.LogLevel)
	if err != nil {
		return nil, err
	}
	b := &Base{Name: name, Config: cfg, Log: logging.New(os.Stdout, level, name), Events: events.Namespace(cfg.EventNamespace), Metrics: metrics.NewRegistry()}
	trusted, err := config.ParsePairs(cfg.TrustedServices)
	if err != nil {
		return nil, fmt.Errorf("trusted services: %w", err)
	}
	b.Trusted = trusted
	// Before PostgreSQL and NATS, which Open may wait for: a bad TLS setting
	// should stop the start at once.
	if b.serverCreds, err = grpcserver.ServerCredentials(cfg.TLS); err != nil {
		return nil, err
	}
	if b.clientCreds, err = grpcserver.ClientCredentials(cfg.TLS); err != nil {
		return nil, err
	}
	stopTracing, err := tracing.Start(ctx, name, b.Log)
	if err != nil {
		return nil, err
	}
	// First in, so last out: the spans of the graceful stop leave too.
	b.closers = append(b.closers, stopTracing)
	if b.Pool, err = postgres.Open(ctx, cfg.DatabaseURL, cfg.DatabaseSchema, migrations); err != nil {
		b.Close()
		return nil, err
	}
	b.closers = append(b.closers, b.Pool.Close)
	b.clientMetrics = metrics.GRPCClient(b.Metrics)
	b.eventMetrics = events.NewMetrics(b.Metrics, b.Pool)
	if b.NATS, b.JetStream, err = events.Connect(cfg.NATSURL, name); err != nil {
		b.Close()
		return nil, err
	}
	b.closers = append(b.closers, b.NATS.Close)
	if err := events.EnsureStream(ctx, b.JetStream, b.Events, cfg.EventReplicas); err != nil {
		b.Close()
		return nil, err
	}
	return b, nil
}

// Close releases everything Open and Dial made, last first.
func (b *Base) Close() {
	for i := len(b.closers) - 1; i >= 0; i-- {
		b.closers[i]()
	}
	b.closers = nil
}

// Dial connects to another service, presenting this service's credential on
// every call, over mutual TLS when it is configured. The connection is
// closed by Close.
func (b *Base) Dial(addr string) (*grpc.ClientConn, error) {
	conn, err := grpcserver.Dial(addr, b.Name, b.Config.ServiceSecret, grpc.WithTransportCredentials(b.clientCreds),
		grpc.WithChainUnaryInterceptor(b.clientMetrics.UnaryClientInterceptor()), grpc.WithChainStreamInterceptor(b.clientMetrics.StreamClientInterceptor()))
	if err != nil {
		return nil, err
	}
	b.closers = append(b.closers, func() { _ = conn.Close() })
	return conn, nil
}

// Server builds the gRPC server. opts carries what differs between services
// (Authenticator, Validate); name, address, logger, readiness on
// PostgreSQL and NATS, and the shutdown timeout are filled in here. Every
// service serves ParkedEventService (the operator's list and retry of the
// events its consumers parked) on it; one without consumers lists nothing.
func (b *Base) Server(opts grpcserver.Options) *grpcserver.Server {
	opts.Name = b.Name
	opts.Addr = b.Config.GRPCAddr
	opts.Logger = b.Log
	opts.Readiness = append([]grpcserver.Check{postgres.Ping(b.Pool), events.Ready(b.NATS, b.JetStream, b.Events)}, opts.Readiness...)
	opts.ShutdownTimeout = b.Config.ShutdownTimeout
	opts.Metrics = b.Metrics
	if b.serverCreds != nil {
		opts.ServerOptions = append(opts.ServerOptions, grpc.Creds(b.serverCreds))
	}
	server := grpcserver.New(opts)
	operationsv1.RegisterParkedEventServiceServer(server.Registrar(), &operations.ParkedEvents{
		Service:   b.Name,
		Pool:      b.Pool,
		Consumers: func() []*events.Consumer { return b.consumers },
	})
	return server
}

// Consumer returns a durable consumer named after the service (a service
// with several renames all but one before Run). A handler's error that says
// a dependency is unreachable, or a deadline ran out (grpcserver.Transient),
// has its event tried again within seconds, never parked; the other
// settings keep the events package's defaults. Call it before Run.
func (b *Base) Consumer(subjects []string, handle events.Handler) *events.Consumer {
	c := &events.Consumer{
		Name:      b.Name,
		Namespace: b.Events,
		Subjects:  subjects,
		Pool:      b.Pool,
		JetStream: b.JetStream,
		Logger:    b.Log,
		Handle:    handle,
		Transient: grpcserver.Transient,
		Metrics:   b.eventMetrics,
	}
	b.consumers = append(b.consumers, c)
	return c
}

// Run serves server and relays the outbox, together with the service's own
// tasks (consumers, background loops), until ctx is done or one of them
// fails; then everything stops and the first error is returned.
func (b *Base) Run(ctx context.Context, server *grpcserver.Server, tasks ...func(context.Context) error) error {
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { return server.Serve(ctx) })
	relay := &outbox.Relay{Pool: b.Pool, JetStream: b.JetStream, Schema: b.Config.DatabaseSchema, Logger: b.Log, Metrics: outbox.NewMetrics(b.Metrics, b.Pool)}
	g.Go(func() error { return relay.Run(ctx) })
	g.Go(func() error { return metrics.Serve(ctx, b.Config.AdminAddr, b.Metrics, b.Log) })
	for _, task := range tasks {
		g.Go(func() error { return task(ctx) })
	}
	err := g.Wait()
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

// RunOnce runs task against the service's own database and returns: for
// one-off commands of a service binary (re-encryption, for example), which
// need neither NATS nor the gRPC server, and so can run beside the serving
// replicas. The log goes to stderr, leaving stdout to the task.
func RunOnce(ctx context.Context, name string, cfg config.Service, migrations fs.FS, task func(ctx context.Context, pool *pgxpool.Pool, log *slog.Logger) error) error {
	level, err := logging.ParseLevel(cfg.LogLevel)
	if err != nil {
		return err
	}
	pool, err := postgres.Open(ctx, cfg.DatabaseURL, cfg.DatabaseSchema, migrations)
	if err != nil {
		return err
	}
	defer pool.Close()
	return task(ctx, pool, logging.New(os.Stderr, level, name))
}
