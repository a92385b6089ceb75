package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"time"

	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
)

// Unreachable is the state /readyz reports for a backend that did not answer
// its health check.
const Unreachable = "UNREACHABLE"

// ReadinessReport is the body of /readyz.
type ReadinessReport struct {
	// Ready is true when every backend is SERVING.
	Ready bool `json:"ready"`
	// Backends maps each backend's name to its state: SERVING, NOT_SERVING,
	// UNKNOWN, SERVICE_UNKNOWN or UNREACHABLE.
	Backends map[string]string `json:"backends"`
	// NotReady names the backends that are not SERVING, in the order they
	// were configured.
	NotReady []string `json:"notReady,omitempty"`
}

// readiness answers /readyz: 200 when every backend's grpc.health.v1 Check
// says SERVING, 503 otherwise. It checks on every request rather than
// caching, because probes come seldom and a stale answer would route traffic
// to a gateway whose services are gone.
type readiness struct {
	backends []Backend
	timeout  time.Duration
	log      *slog.Logger
}

func (h *readiness) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	states := make([]string, len(h.backends))
	var wg sync.WaitGroup
	for i, b := range h.backends {
		wg.Go(func() { states[i] = h.check(r.Context(), b) })
	}
	wg.Wait()

	report := ReadinessReport{Ready: true, Backends: map[string]string{}}
	for i, b := range h.backends {
		report.Backends[b.Name] = states[i]
		if states[i] != healthpb.HealthCheckResponse_SERVING.String() {
			report.Ready = false
			report.NotReady = append(report.NotReady, b.Name)
		}
	}
	code := http.StatusOK
	if !report.Ready {
		code = http.StatusServiceUnavailable
	}
	writeJSON(w, code, report)
}

// check asks for the health of the backend's own service name, which each
// service sets from its dependencies (the empty name only says the process
// runs).
func (h *readiness) check(ctx context.Context, b Backend) string {
	ctx, cancel := context.WithTimeout(ctx, h.timeout)
	defer cancel()
	resp, err := healthpb.NewHealthClient(b.Conn).Check(ctx, &healthpb.HealthCheckRequest{Service: b.Name})
	if err != nil {
		// The error names addresses, so it goes to the log, not the answer.
		h.log.LogAttrs(ctx, slog.LevelDebug, "backend health check failed",
			slog.String("backend", b.Name), slog.String("code", status.Code(err).String()), slog.String("error", err.Error()))
		return Unreachable
	}
	return resp.GetStatus().String()
}
