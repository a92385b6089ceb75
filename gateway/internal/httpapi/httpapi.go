// Package httpapi is the gateway's HTTP surface: the REST routes that
// grpc-gateway translates into calls of the services' gRPC APIs, the OpenAPI
// document, liveness and readiness, and what every request passes through
// (request logging, CORS for the configured web origins, and the body
// checks: a size limit per route that follows from the contract, a JSON
// Content-Type, and no field the contract does not declare).
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
	"github.com/ipnmediation/disputes/platform/metrics"
	"github.com/ipnmediation/disputes/platform/tracing"
	"github.com/prometheus/client_golang/prometheus"
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
	// Services are the full names of the gRPC services whose routes
	// Register adds, in the order it adds them, for example
	// intakev1.IntakeService_ServiceDesc.ServiceName. The gateway reads
	// their routes and limits from the linked descriptors.
	Services []string
}

// DefaultReadinessTimeout bounds each backend's health check when /readyz
// asks: half of Kubernetes' default probe timeout (1 s), so that a service
// that does not answer shows as UNREACHABLE in the body rather than making
// the probe of the whole gateway time out.
const DefaultReadinessTimeout = 500 * time.Millisecond

// Options configures the handler.
type Options struct {
	// Backends are the services whose routes are served. /readyz reports
	// each one's health; the gateway is ready while any one answers.
	Backends []Backend
	// Logger receives one line per request.
	Logger *slog.Logger
	// OpenAPI is the document served at /openapi.json.
	OpenAPI []byte
	// ReadinessTimeout bounds each backend's health check, and so the time
	// /readyz takes; DefaultReadinessTimeout when zero.
	ReadinessTimeout time.Duration
	// TrustedProxies are the networks of the reverse proxies in front of
	// the gateway whose X-Forwarded-For entries are believed when the
	// services are told the client's address; none when empty, and then
	// the address is the connection's peer.
	TrustedProxies []netip.Prefix
	// CORSAllowedOrigins are the web origins whose pages may call the API
	// from a browser (see ParseOrigins); none when empty, and then the
	// gateway answers no CORS request at all.
	CORSAllowedOrigins []string
	// Metrics, when set, receives the requests' metrics per route
	// (disputes_http_*) and the gateway's readiness (disputes_ready).
	Metrics prometheus.Registerer
}

// New returns the gateway's HTTP handler.
func New(ctx context.Context, opts Options) (http.Handler, error) {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.ReadinessTimeout == 0 {
		opts.ReadinessTimeout = DefaultReadinessTimeout
	}
	var services []string
	for _, b := range opts.Backends {
		if len(b.Services) == 0 {
			return nil, fmt.Errorf("backend %s names no gRPC services", b.Name)
		}
		services = append(services, b.Services...)
	}
	routes, err := newRouteTable(services)
	if err != nil {
		return nil, fmt.Errorf("routes: %w", err)
	}
	api := runtime.NewServeMux(
		runtime.WithMarshalerOption(runtime.MIMEWildcard, &runtime.HTTPBodyMarshaler{
			Marshaler: &runtime.JSONPb{
				// lowerCamelCase field names, and every field present:
				// false, 0, "" and [] are written rather than left out,
				// so that a page need not know which missing field means
				// which zero. A message field that is not set is null.
				MarshalOptions: protojson.MarshalOptions{UseProtoNames: false, EmitUnpopulated: true},
				// Unknown fields are refused: checkBodies names them
				// first, and this refuses whatever it might miss.
				UnmarshalOptions: protojson.UnmarshalOptions{DiscardUnknown: false},
			},
		}),
		// Answers in protobuf's binary encoding, for a client that asks
		// with `Accept: application/x-protobuf` (the website does): the
		// same messages, several times cheaper to write and to read than
		// JSON. Request bodies stay JSON (checkBodies).
		runtime.WithMarshalerOption(MIMEProtobuf, &runtime.HTTPBodyMarshaler{Marshaler: &protobufAnswers{}}),
		runtime.WithIncomingHeaderMatcher(forwardedHeader),
		runtime.WithMetadata(clientAddress(opts.TrustedProxies)),
		runtime.WithErrorHandler(errorHandler(opts.Logger, routes)),
		runtime.WithRoutingErrorHandler(routingError),
		// A form-encoded POST to a GET route would be read as its query:
		// a body no route's limit or check applies to.
		runtime.WithDisablePathLengthFallback(),
	)
	for _, b := range opts.Backends {
		if err := b.Register(ctx, api, b.Conn); err != nil {
			return nil, fmt.Errorf("register %s routes: %w", b.Name, err)
		}
	}
	if largest := routes.largest(); largest != nil {
		opts.Logger.Info("request body limits follow from the contract",
			slog.Int("routes", len(routes.routes)),
			slog.Int64("largest_body_bytes", largest.maxBody),
			slog.String("largest_route", largest.String()))
	}

	mux := http.NewServeMux()
	mux.Handle("GET /openapi.json", openAPIHandler(opts.OpenAPI))
	mountReference(mux) // GET /reference: the document, for people (reference.go)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	ready := &readiness{backends: opts.Backends, timeout: opts.ReadinessTimeout, log: opts.Logger}
	mux.Handle("GET /readyz", ready)
	mux.Handle("/", varyAccept(checkBodies(api, routes, opts.Logger)))
	handler := logRequests(withCORS(tracing.Patterns(mux), opts.CORSAllowedOrigins), opts.Logger)
	if opts.Metrics == nil {
		return handler, nil
	}
	opts.Metrics.MustRegister(metrics.Ready(func(ctx context.Context) bool { return ready.report(ctx).Ready }))
	return metrics.NewHTTP(opts.Metrics).Middleware(handler), nil
}

// MIMEProtobuf is the media type of answers in protobuf's binary encoding
// (the services' own messages, as gRPC sends them), which a client gets by
// sending `Accept: application/x-protobuf`; any other Accept gets JSON.
// Errors then come as a binary google.rpc.Status with the same details.
const MIMEProtobuf = "application/x-protobuf"

// protobufAnswers is grpc-gateway's binary marshaler under the media type
// the client asked for, rather than its application/octet-stream, so that
// a client can tell a protobuf answer from a JSON one by its Content-Type.
type protobufAnswers struct{ runtime.ProtoMarshaller }

// ContentType is MIMEProtobuf.
func (*protobufAnswers) ContentType(any) string { return MIMEProtobuf }

// varyAccept marks every API answer as depending on the Accept header (JSON
// or protobuf), so that no cache between a client and the gateway serves
// one encoding to a client that asked for the other.
func varyAccept(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Add("Vary", "Accept")
		next.ServeHTTP(w, r)
	})
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
