package metrics

import (
	"net/http"
	"strconv"
	"time"

	grpcprom "github.com/grpc-ecosystem/go-grpc-middleware/providers/prometheus"
	"github.com/ipnmediation/disputes/platform/tracing"
	"github.com/prometheus/client_golang/prometheus"
)

// latencyBuckets are the handling-time histograms' buckets, in seconds: from
// a cached read (a millisecond) to the gateway's deadline (30 s), finer
// where the pages' and calls' goals lie (30 ms to 250 ms).
var latencyBuckets = []float64{.001, .0025, .005, .01, .02, .03, .05, .075, .1, .15, .25, .5, 1, 2.5, 5, 10, 30}

// GRPCServer returns RED metrics for a gRPC server (grpc_server_*), with
// handling-time histograms, registered on reg. Its interceptors go first
// in the server's chain, so that every call is counted with the code its
// caller saw, refusals and recovered panics included.
func GRPCServer(reg prometheus.Registerer) *grpcprom.ServerMetrics {
	m := grpcprom.NewServerMetrics(grpcprom.WithServerHandlingTimeHistogram(grpcprom.WithHistogramBuckets(latencyBuckets)))
	reg.MustRegister(m)
	return m
}

// GRPCClient returns RED metrics for a process's calls to the services
// (grpc_client_*), registered on reg. One per process: every connection it
// dials shares it.
func GRPCClient(reg prometheus.Registerer) *grpcprom.ClientMetrics {
	m := grpcprom.NewClientMetrics(grpcprom.WithClientHandlingTimeHistogram(grpcprom.WithHistogramBuckets(latencyBuckets)))
	reg.MustRegister(m)
	return m
}

// Unmatched is the route label of a request that matched no route.
const Unmatched = "unmatched"

// HTTP counts an HTTP server's requests and times them per route:
// disputes_http_requests_total{route,method,code} and
// disputes_http_request_duration_seconds{route,method}. The route is the
// pattern the request matched, never its path, which can carry a case's
// name or a sign-in link's secret.
type HTTP struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

// NewHTTP registers an HTTP server's metrics on reg.
func NewHTTP(reg prometheus.Registerer) *HTTP {
	h := &HTTP{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace,
			Name:      "http_requests_total",
			Help:      "HTTP requests answered, by route pattern, method and status code.",
		}, []string{"route", "method", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: Namespace,
			Name:      "http_request_duration_seconds",
			Help:      "Time from a request's headers to the end of its answer, by route pattern and method.",
			Buckets:   latencyBuckets,
		}, []string{"route", "method"}),
	}
	reg.MustRegister(h.requests, h.duration)
	return h
}

// Middleware counts and times every request next serves, by the route
// that the code under it recorded (tracing.SetRoute, tracing.Patterns: the
// one record of a request's route, which also names its span), and
// Unmatched when there is none.
func (h *HTTP) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		r = r.WithContext(tracing.WithRouteSlot(r.Context()))
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		route := tracing.Route(r.Context())
		if route == "" || route == "/" {
			route = Unmatched
		}
		method := methodLabel(r.Method)
		h.requests.WithLabelValues(route, method, strconv.Itoa(rec.status)).Inc()
		h.duration.WithLabelValues(route, method).Observe(time.Since(start).Seconds())
	})
}

// methodLabel keeps the method label to the methods the system serves, so
// that a client inventing methods cannot make new series.
func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions:
		return m
	}
	return "OTHER"
}

// statusRecorder remembers the status code written through it. Unwrap lets
// http.ResponseController reach the connection's own writer (for flushes
// and deadlines).
type statusRecorder struct {
	http.ResponseWriter
	status      int
	wroteHeader bool
}

func (s *statusRecorder) WriteHeader(code int) {
	if !s.wroteHeader {
		s.status, s.wroteHeader = code, true
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	s.wroteHeader = true
	return s.ResponseWriter.Write(b)
}

func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }
