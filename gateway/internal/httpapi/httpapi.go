// Package httpapi is the gateway's HTTP surface: the REST routes that
// grpc-gateway translates into calls of the services' gRPC APIs, the OpenAPI
// document, liveness and readiness, and what every request passes through
// (request logging and the body-size limit).
//
// The gateway holds no state and authenticates no one: it forwards the
// caller's Authorization header as `authorization` metadata, and each service
// checks it. It tells the services the client's address under
// `x-client-address` (see grpcserver.ClientAddressKey), for their
// per-address limits.
package httpapi

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"time"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/encoding/protojson"
)

// Backend is one service behind the gateway.
type Backend struct {
	// Name is the service's name, as readiness reports it.
	Name string
	// Conn is the client connection to the service. The handler forwards
	// REST calls and health checks over it; the caller closes it.
	Conn *grpc.ClientConn
	// Register adds the service's REST routes to the mux, for example
	// intakev1.RegisterIntakeServiceHandler.
	Register func(ctx context.Context, mux *runtime.ServeMux, conn *grpc.ClientConn) error
}

// Options configures the handler.
type Options struct {
	// Backends are the services whose routes are served; all of them must be
	// SERVING for the gateway to be ready.
	Backends []Backend
	// Logger receives one line per request.
	Logger *slog.Logger
	// MaxBodyBytes is the largest request body accepted; larger ones get
	// 413.
	MaxBodyBytes int64
	// OpenAPI is the document served at /openapi.json.
	OpenAPI []byte
	// ReadinessTimeout bounds each backend's health check; 1s when zero.
	ReadinessTimeout time.Duration
	// TrustedProxies are the networks of the reverse proxies in front of
	// the gateway whose X-Forwarded-For entries are believed when the
	// services are told the client's address; none when empty, and then
	// the address is the connection's peer.
	TrustedProxies []netip.Prefix
}

// New returns the gateway's HTTP handler.
func New(ctx context.Context, opts Options) (http.Handler, error) {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.MaxBodyBytes <= 0 {
		return nil, fmt.Errorf("max body bytes must be positive, got %d", opts.MaxBodyBytes)
	}
	if opts.ReadinessTimeout == 0 {
		opts.ReadinessTimeout = time.Second
	}
	api := runtime.NewServeMux(
		runtime.WithMarshalerOption(runtime.MIMEWildcard, &runtime.HTTPBodyMarshaler{
			Marshaler: &runtime.JSONPb{
				// lowerCamelCase field names and no zero values: the JSON
				// the OpenAPI document describes, without noise.
				MarshalOptions: protojson.MarshalOptions{UseProtoNames: false, EmitUnpopulated: false},
				// Unknown fields are ignored so that older clients keep
				// working when a field is retired.
				UnmarshalOptions: protojson.UnmarshalOptions{DiscardUnknown: true},
			},
		}),
		runtime.WithIncomingHeaderMatcher(forwardedHeader),
		runtime.WithMetadata(clientAddress(opts.TrustedProxies)),
		runtime.WithErrorHandler(errorHandler(opts.Logger)),
		runtime.WithRoutingErrorHandler(routingError),
	)
	for _, b := range opts.Backends {
		if err := b.Register(ctx, api, b.Conn); err != nil {
			return nil, fmt.Errorf("register %s routes: %w", b.Name, err)
		}
	}

	mux := http.NewServeMux()
	mux.Handle("GET /openapi.json", openAPIHandler(opts.OpenAPI))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.Handle("GET /readyz", &readiness{backends: opts.Backends, timeout: opts.ReadinessTimeout, log: opts.Logger})
	mux.Handle("/", limitBody(api, opts.MaxBodyBytes))
	return logRequests(mux, opts.Logger), nil
}

// forwardedHeader decides which HTTP headers become gRPC metadata. It is
// grpc-gateway's default, less Authorization: grpc-gateway already forwards
// that one as plain `authorization` metadata, and a second copy under
// `grpcgateway-authorization` would only spread the credential further. Nor
// may a client pass metadata that only the gateway sets (the client's
// address).
func forwardedHeader(key string) (string, bool) {
	if http.CanonicalHeaderKey(key) == "Authorization" || reservedMetadata(key) {
		return "", false
	}
	return runtime.DefaultHeaderMatcher(key)
}

func openAPIHandler(doc []byte) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(doc)
	})
}
