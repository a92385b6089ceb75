// Package app wires the gateway together and runs it.
package app

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"github.com/ipnmediation/disputes/gateway/internal/httpapi"
	"github.com/ipnmediation/disputes/gateway/internal/openapi"
	"github.com/ipnmediation/disputes/platform/clientaddr"
	"github.com/ipnmediation/disputes/platform/config"
	"github.com/ipnmediation/disputes/platform/grpcserver"
	"github.com/ipnmediation/disputes/platform/httpserver"
	"github.com/ipnmediation/disputes/platform/logging"
	"github.com/ipnmediation/disputes/platform/metrics"
	"github.com/ipnmediation/disputes/platform/tracing"
	caseworkv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/casework/v1"
	directoryv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/directory/v1"
	federationv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/federation/v1"
	intakev1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/intake/v1"
	notificationv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/notification/v1"
	operationsv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/operations/v1"
	"golang.org/x/sync/errgroup"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
)

// Name is the gateway's name in logs.
const Name = "gateway"

// Config is the gateway's configuration. The gateway has no database and no
// event stream, so it does not embed config.Service.
type Config struct {
	// HTTPAddr is where the REST API listens.
	HTTPAddr string
	// AdminAddr is where the admin port serves /metrics; empty for none.
	AdminAddr string
	// DirectoryAddr, IntakeAddr, CaseworkAddr and NotificationAddr are the
	// services' gRPC addresses.
	DirectoryAddr, IntakeAddr, CaseworkAddr, NotificationAddr string
	// LogLevel is debug, info, warn or error.
	LogLevel string
	// ShutdownTimeout bounds the graceful drain on SIGTERM.
	ShutdownTimeout time.Duration
	// BackendTimeout bounds every call to a service: a call that has not
	// been answered by then is given up and the client gets 504
	// DEADLINE_EXCEEDED. A client's own shorter deadline (the Grpc-Timeout
	// header) wins.
	BackendTimeout time.Duration
	// TrustedProxies lists the networks of reverse proxies in front of the
	// gateway, as comma-separated CIDR prefixes; only their X-Forwarded-For
	// is believed when telling intake the client's address.
	TrustedProxies string
	// CORSAllowedOrigins lists the web origins, comma-separated, whose pages
	// may call the API from a browser (the website's address when it is
	// served from another origin than the API); empty: no CORS at all.
	CORSAllowedOrigins string
	// TLS switches on mutual TLS for the connections to the services; the
	// HTTP listener stays plain (TLS for clients ends at the operator's
	// load balancer).
	TLS config.TLS
}

// Register declares the gateway's settings on set.
func (c *Config) Register(set *config.Set) {
	set.String(&c.HTTPAddr, "http-addr", "HTTP_ADDR", "127.0.0.1:7180", "address the REST API listens on")
	set.RegisterAdmin(&c.AdminAddr, "127.0.0.1:7280")
	set.String(&c.DirectoryAddr, "directory-addr", "DIRECTORY_ADDR", "127.0.0.1:7101", "gRPC address of the directory service")
	set.String(&c.IntakeAddr, "intake-addr", "INTAKE_ADDR", "127.0.0.1:7102", "gRPC address of the intake service")
	set.String(&c.CaseworkAddr, "casework-addr", "CASEWORK_ADDR", "127.0.0.1:7103", "gRPC address of the casework service")
	set.String(&c.NotificationAddr, "notification-addr", "NOTIFICATION_ADDR", "127.0.0.1:7104", "gRPC address of the notification service")
	set.String(&c.LogLevel, "log-level", "LOG_LEVEL", "info", "log level: debug, info, warn or error")
	set.Duration(&c.ShutdownTimeout, "shutdown-timeout", "SHUTDOWN_TIMEOUT", 10*time.Second, "how long to drain in-flight requests on SIGTERM before closing them")
	set.Duration(&c.BackendTimeout, "backend-timeout", "BACKEND_TIMEOUT", 10*time.Second, "longest a call to a service may take before the request is answered 504 DEADLINE_EXCEEDED (a shorter Grpc-Timeout header from the client wins)")
	set.String(&c.TrustedProxies, "trusted-proxies", "TRUSTED_PROXIES", "", "networks of the reverse proxies in front of the gateway (CIDR prefixes, comma-separated) whose X-Forwarded-For is believed; empty: the peer is the client")
	set.String(&c.CORSAllowedOrigins, "cors-allowed-origins", "CORS_ALLOWED_ORIGINS", "", "web origins whose pages may call the API from a browser, comma-separated, each scheme://host[:port] (https://riverside.example.org); empty: no CORS")
	set.RegisterTLS(&c.TLS)
}

// Run serves the REST API until ctx is done, then drains in-flight requests
// for up to ShutdownTimeout. It returns nil after a clean stop.
func Run(ctx context.Context, cfg Config) error {
	level, err := logging.ParseLevel(cfg.LogLevel)
	if err != nil {
		return err
	}
	if cfg.BackendTimeout <= 0 {
		return fmt.Errorf("BACKEND_TIMEOUT must be positive, not %s", cfg.BackendTimeout)
	}
	origins, err := httpapi.ParseOrigins(cfg.CORSAllowedOrigins)
	if err != nil {
		return fmt.Errorf("CORS_ALLOWED_ORIGINS: %w", err)
	}
	log := logging.New(os.Stdout, level, Name)
	stopTracing, err := tracing.Start(ctx, Name, log)
	if err != nil {
		return err
	}
	defer stopTracing()
	if _, set := os.LookupEnv("MAX_BODY_BYTES"); set {
		// Gone: an operator upgrading should know the setting is ignored.
		log.Warn("MAX_BODY_BYTES is no longer read: each route's body limit follows from the contract (see the log line on request body limits)")
	}
	creds, err := grpcserver.ClientCredentials(cfg.TLS)
	if err != nil {
		return err
	}

	backends := []struct {
		name, addr string
		register   func(context.Context, *runtime.ServeMux, *grpc.ClientConn) error
		services   []string
	}{
		{"directory", cfg.DirectoryAddr, directoryv1.RegisterDirectoryServiceHandler, []string{directoryv1.DirectoryService_ServiceDesc.ServiceName}},
		{"intake", cfg.IntakeAddr, intakev1.RegisterIntakeServiceHandler, []string{intakev1.IntakeService_ServiceDesc.ServiceName}},
		{"casework", cfg.CaseworkAddr, caseworkv1.RegisterCaseworkServiceHandler, []string{caseworkv1.CaseworkService_ServiceDesc.ServiceName}},
		{"notification", cfg.NotificationAddr, registerNotification, []string{
			notificationv1.NotificationService_ServiceDesc.ServiceName, federationv1.FederationService_ServiceDesc.ServiceName,
		}},
	}
	// The gateway dials the services itself rather than through
	// Register…HandlerFromEndpoint: those close their connection as soon as
	// ctx is done, which would fail the very requests the graceful shutdown
	// is draining, and readiness checks travel over the same connections.
	reg := metrics.NewRegistry()
	calls := metrics.GRPCClient(reg)
	var handlerBackends []httpapi.Backend
	parked := parkedEvents{conns: map[string]*grpc.ClientConn{}, log: log}
	for _, b := range backends {
		conn, err := dial(b.addr, creds, cfg.BackendTimeout, calls.UnaryClientInterceptor())
		if err != nil {
			return fmt.Errorf("%s: %w", b.name, err)
		}
		defer conn.Close()
		handlerBackends = append(handlerBackends, httpapi.Backend{Name: b.name, Conn: conn, Register: b.register, Services: b.services})
		parked.conns[b.name] = conn
	}
	// Every service serves ParkedEventService; its routes go to the
	// service the request names (services/{service}/…), and are added with
	// the directory's, as the first backend's.
	first := &handlerBackends[0]
	register := first.Register
	first.Register = func(ctx context.Context, mux *runtime.ServeMux, conn *grpc.ClientConn) error {
		if err := register(ctx, mux, conn); err != nil {
			return err
		}
		return parked.register(ctx, mux)
	}
	first.Services = append(first.Services, operationsv1.ParkedEventService_ServiceDesc.ServiceName)

	proxies, err := clientaddr.ParsePrefixes(cfg.TrustedProxies)
	if err != nil {
		return fmt.Errorf("TRUSTED_PROXIES: %w", err)
	}
	handler, err := httpapi.New(ctx, httpapi.Options{
		Backends:           handlerBackends,
		Logger:             log,
		OpenAPI:            openapi.Document,
		TrustedProxies:     proxies,
		CORSAllowedOrigins: origins,
		Metrics:            reg,
	})
	if err != nil {
		return err
	}

	if len(origins) > 0 {
		log.Info("CORS allowed for web pages from these origins", slog.Any("origins", origins))
	}
	lis, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.HTTPAddr, err)
	}
	server := newServer(tracing.Handler(handler), cfg.BackendTimeout, log)
	log.Info("HTTP server listening", slog.String("addr", lis.Addr().String()))
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { return httpserver.Serve(ctx, server, lis, cfg.ShutdownTimeout, log) })
	g.Go(func() error { return metrics.Serve(ctx, cfg.AdminAddr, reg, log) })
	return g.Wait()
}

// readTimeout bounds reading a whole request, its body included, against
// slow clients holding connections open.
const readTimeout = 30 * time.Second

// newServer returns the HTTP server for handler. Its WriteTimeout runs from
// the end of the request's headers to the end of the answer, so it covers
// reading the body (at most readTimeout), the call to the service (at most
// backendTimeout, after which the handler answers 504 itself) and writing
// the answer: it is their sum and some, so that it never cuts off a 504
// the gateway was about to write, and only a client too slow to take its
// answer meets it.
func newServer(handler http.Handler, backendTimeout time.Duration, log *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       readTimeout,
		WriteTimeout:      readTimeout + backendTimeout + 10*time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}

// dial opens a lazy connection to a service: it does not fail when the
// service is not up yet. creds are mutual TLS or plaintext, as configured.
//
// Every call through it ends after at most timeout, or sooner when it
// already has a sooner deadline (a client's Grpc-Timeout, readiness's own):
// without that, a service that takes calls and does not answer (frozen, or
// stuck on a lock) would hold the client for as long as the client waits.
//
// When a service comes back after an outage, the gateway must work again
// within 10 s: it reconnects as every platform client does
// (grpcserver.Reconnect), and notices a service that vanished without
// closing its connections by the same keepalive pings.
//
// Every request passes the platform's text rule before it is marshalled, as
// it would at the service: a value a REST client sent that gRPC cannot carry
// (a path segment or query parameter that is not UTF-8) is refused as
// INVALID_ARGUMENT with a field violation naming the field, not failed as an
// internal marshalling error.
//
// counted, the calls' metrics, sees every call with the code it ended with.
func dial(addr string, creds credentials.TransportCredentials, timeout time.Duration, counted grpc.UnaryClientInterceptor) (*grpc.ClientConn, error) {
	conn, err := grpc.NewClient(addr,
		grpc.WithTransportCredentials(creds),
		grpc.WithChainUnaryInterceptor(counted, grpcserver.DeadlineClientInterceptor(timeout), grpcserver.TextRuleClientInterceptor()),
		grpc.WithConnectParams(grpcserver.Reconnect),
		grpc.WithKeepaliveParams(grpcserver.ClientKeepalive),
		tracing.DialOption(),
	)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", addr, err)
	}
	return conn, nil
}

// registerNotification routes both of notification's services: its own and
// the federation API it serves to other deployments (incoming notices).
func registerNotification(ctx context.Context, mux *runtime.ServeMux, conn *grpc.ClientConn) error {
	if err := notificationv1.RegisterNotificationServiceHandler(ctx, mux, conn); err != nil {
		return err
	}
	return federationv1.RegisterFederationServiceHandler(ctx, mux, conn)
}
