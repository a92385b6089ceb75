// Package grpcserver is the gRPC server every service runs: health and
// reflection, interceptors for panic recovery, logging, authentication and
// request validation, readiness that follows the service's dependencies, and
// a graceful stop that drains calls before it gives up on them.
package grpcserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"time"

	"github.com/ipnmediation/disputes/platform/auth"
	"github.com/ipnmediation/disputes/platform/fault"
	"github.com/ipnmediation/disputes/platform/metrics"
	"github.com/ipnmediation/disputes/platform/tracing"
	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/reflection"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// Check reports whether one dependency (PostgreSQL, NATS) is reachable.
type Check func(ctx context.Context) error

// Options configures a Server.
type Options struct {
	// Name is the service name, used in logs and as the health service name.
	Name string
	// Addr is the listening address, for example "127.0.0.1:7101".
	Addr string
	// Logger receives one line per call and every internal error.
	Logger *slog.Logger
	// Authenticator turns bearer secrets into principals; nil accepts none.
	Authenticator auth.Authenticator
	// Validate adds checks beyond the proto annotations; may be nil.
	Validate Validator
	// Readiness lists the dependencies that must be reachable for the
	// service to report SERVING.
	Readiness []Check
	// ReadinessInterval is how often they are checked; 2s when zero.
	ReadinessInterval time.Duration
	// ShutdownTimeout bounds the graceful drain; 10s when zero.
	ShutdownTimeout time.Duration
	// ServerOptions are passed to grpc.NewServer, for example credentials.
	ServerOptions []grpc.ServerOption
	// Metrics, when set, receives the server's RED metrics (grpc_server_*).
	Metrics prometheus.Registerer
}

// Server is a gRPC server with health, reflection and the standard
// interceptors.
type Server struct {
	opts   Options
	grpc   *grpc.Server
	health *health.Server
	// serving is the last readiness the watch found, for the metric.
	serving atomic.Bool
}

// New builds a server; register services on Registrar() before Serve.
func New(opts Options) *Server {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.ReadinessInterval == 0 {
		opts.ReadinessInterval = 2 * time.Second
	}
	if opts.ShutdownTimeout == 0 {
		opts.ShutdownTimeout = 10 * time.Second
	}
	s := &Server{opts: opts, health: health.NewServer()}
	unary := []grpc.UnaryServerInterceptor{s.recoverUnary, s.logUnary, s.authUnary, s.validateUnary}
	stream := []grpc.StreamServerInterceptor{s.authStream}
	if opts.Metrics != nil {
		// First, so that a call is counted with the code its caller saw,
		// refusals and recovered panics included.
		m := metrics.GRPCServer(opts.Metrics)
		unary = append([]grpc.UnaryServerInterceptor{m.UnaryServerInterceptor()}, unary...)
		stream = append([]grpc.StreamServerInterceptor{m.StreamServerInterceptor()}, stream...)
		opts.Metrics.MustRegister(metrics.Ready(func(context.Context) bool { return s.serving.Load() }))
	}
	serverOpts := append([]grpc.ServerOption{
		tracing.ServerOption(),
		grpc.ChainUnaryInterceptor(unary...),
		grpc.ChainStreamInterceptor(stream...),
	}, append(keepaliveServerOptions(), opts.ServerOptions...)...)
	s.grpc = grpc.NewServer(serverOpts...)
	healthpb.RegisterHealthServer(s.grpc, s.health)
	reflection.Register(s.grpc)
	s.health.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
	s.setServing(false)
	return s
}

// Registrar is where the service registers its gRPC handlers.
func (s *Server) Registrar() grpc.ServiceRegistrar { return s.grpc }

// setServing sets readiness, reported under the service's name. The empty
// name reports liveness: SERVING from start to shutdown, whatever the
// dependencies do, so an outage of PostgreSQL or NATS takes the service out
// of rotation without getting it restarted.
func (s *Server) setServing(ok bool) {
	st := healthpb.HealthCheckResponse_NOT_SERVING
	if ok {
		st = healthpb.HealthCheckResponse_SERVING
	}
	s.health.SetServingStatus(s.opts.Name, st)
	s.serving.Store(ok)
}

// Serve listens and serves until ctx is done, then stops gracefully: health
// turns NOT_SERVING, in-flight calls drain for up to ShutdownTimeout, and the
// rest are cut off.
func (s *Server) Serve(ctx context.Context) error {
	lis, err := net.Listen("tcp", s.opts.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", s.opts.Addr, err)
	}
	return s.ServeListener(ctx, lis)
}

// ServeListener is Serve on a listener the caller opened. It refuses to
// serve a method that declares no callers in the contract.
func (s *Server) ServeListener(ctx context.Context, lis net.Listener) error {
	methods := map[string][]string{}
	for name, info := range s.grpc.GetServiceInfo() {
		for _, m := range info.Methods {
			methods[name] = append(methods[name], m.Name)
		}
	}
	if missing := undeclared(methods); len(missing) > 0 {
		_ = lis.Close()
		return fmt.Errorf("these methods declare no callers (ipn.disputes.annotations.v1.callers): %s", strings.Join(missing, ", "))
	}
	s.opts.Logger.Info("gRPC server listening", slog.String("addr", lis.Addr().String()))
	readyCtx, stopReady := context.WithCancel(ctx)
	defer stopReady()
	go s.watchReadiness(readyCtx)

	served := make(chan error, 1)
	go func() { served <- s.grpc.Serve(lis) }()

	select {
	case err := <-served:
		return fmt.Errorf("grpc serve: %w", err)
	case <-ctx.Done():
	}
	stopReady()
	s.health.Shutdown()
	s.opts.Logger.Info("draining gRPC calls", slog.Duration("timeout", s.opts.ShutdownTimeout))
	drained := make(chan struct{})
	go func() { s.grpc.GracefulStop(); close(drained) }()
	select {
	case <-drained:
	case <-time.After(s.opts.ShutdownTimeout):
		s.opts.Logger.Warn("drain timed out; cancelling the calls still running")
		s.grpc.Stop()
		select {
		case <-drained:
		case <-time.After(time.Second):
			// A handler that ignores its cancelled context must not keep
			// the process from exiting.
			s.opts.Logger.Error("handlers still running after stop; leaving them")
			return nil
		}
	}
	if err := <-served; err != nil && !errors.Is(err, grpc.ErrServerStopped) {
		return fmt.Errorf("grpc serve: %w", err)
	}
	return nil
}

func (s *Server) watchReadiness(ctx context.Context) {
	ticker := time.NewTicker(s.opts.ReadinessInterval)
	defer ticker.Stop()
	last := -1
	for {
		ready := s.ready(ctx)
		if ctx.Err() != nil {
			return
		}
		if now := boolInt(ready); now != last {
			s.setServing(ready)
			s.opts.Logger.Info("readiness changed", slog.Bool("serving", ready))
			last = now
		}
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
	}
}

func (s *Server) ready(ctx context.Context) bool {
	for _, check := range s.opts.Readiness {
		cctx, cancel := context.WithTimeout(ctx, time.Second)
		err := check(cctx)
		cancel()
		if err != nil {
			s.opts.Logger.Debug("dependency not ready", slog.Any("error", err))
			return false
		}
	}
	return true
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func (s *Server) recoverUnary(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (resp any, err error) {
	defer func() {
		if r := recover(); r != nil {
			s.opts.Logger.Error("panic in handler", slog.String("method", info.FullMethod), slog.Any("panic", r), slog.String("stack", string(debug.Stack())))
			err = status.Error(codes.Internal, "internal error")
		}
	}()
	return handler(ctx, req)
}

// callerSlot lets the logging interceptor, which runs first, name the caller
// that the authentication interceptor finds later.
type callerSlot struct{}

func (s *Server) logUnary(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	start := time.Now()
	caller := &auth.Principal{}
	resp, err := handler(context.WithValue(ctx, callerSlot{}, caller), req)
	err = ToStatus(ctx, s.opts.Logger, info.FullMethod, err)
	level := slog.LevelInfo
	if code := status.Code(err); code == codes.Internal || code == codes.Unknown {
		level = slog.LevelError
	}
	if info.FullMethod == "/grpc.health.v1.Health/Check" {
		level = slog.LevelDebug
	}
	s.opts.Logger.LogAttrs(ctx, level, "rpc",
		slog.String("method", info.FullMethod),
		slog.String("code", status.Code(err).String()),
		slog.String("caller", caller.String()),
		slog.Duration("duration", time.Since(start)))
	return resp, err
}

// authUnary finds the caller and lets in only the kinds of caller the
// method declares; a credential that does not authenticate is refused even
// where anonymous callers are welcome.
func (s *Server) authUnary(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	ctx, err := s.authenticate(ctx, info.FullMethod)
	if err != nil {
		return nil, err
	}
	return handler(ctx, req)
}

// authStream is authUnary for streaming methods: health's Watch and server
// reflection, which answers authenticated callers only.
func (s *Server) authStream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	ctx, err := s.authenticate(ss.Context(), info.FullMethod)
	if err != nil {
		return ToStatus(ss.Context(), s.opts.Logger, info.FullMethod, err)
	}
	return handler(srv, &principalStream{ServerStream: ss, ctx: ctx})
}

func (s *Server) authenticate(ctx context.Context, method string) (context.Context, error) {
	p := auth.Principal{}
	if secret, ok := auth.BearerFromMetadata(ctx); ok {
		if s.opts.Authenticator == nil {
			return ctx, auth.ErrUnauthenticated()
		}
		var err error
		if p, err = s.opts.Authenticator.Authenticate(ctx, secret); err != nil {
			return ctx, err
		}
		ctx = auth.WithPrincipal(ctx, p)
		if slot, ok := ctx.Value(callerSlot{}).(*auth.Principal); ok {
			*slot = p
		}
	}
	return ctx, admit(method, p)
}

// principalStream is a server stream whose context carries the caller.
type principalStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (p *principalStream) Context() context.Context { return p.ctx }

func (s *Server) validateUnary(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	var violations []fault.FieldViolation
	if m, ok := req.(proto.Message); ok {
		// The text rule first: the other checks, and the handler, may then
		// take every string for valid, bounded text.
		if violations = CheckText(m); len(violations) > 0 {
			return nil, validationError(violations)
		}
		violations = CheckAnnotations(m)
	}
	if s.opts.Validate != nil {
		if err := s.opts.Validate(ctx, info.FullMethod, req); err != nil {
			fe, ok := fault.As(err)
			if !ok || fe.Kind != fault.InvalidArgument {
				return nil, err
			}
			violations = append(violations, fe.Violations...)
		}
	}
	if len(violations) > 0 {
		return nil, validationError(violations)
	}
	return handler(ctx, req)
}
