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
// its health check in time: the gateway has no connection to it, or it is
// too slow to answer.
const Unreachable = "UNREACHABLE"

// ReadinessReport is the body of /readyz.
type ReadinessReport struct {
	// Ready is true while the gateway can serve: at least one backend
	// answered its health check, whatever it said.
	Ready bool `json:"ready"`
	// Backends maps each backend's name to its state: SERVING, NOT_SERVING,
	// UNKNOWN, SERVICE_UNKNOWN or UNREACHABLE.
	Backends map[string]string `json:"backends"`
	// NotReady names the backends that are not SERVING, in the order they
	// were configured: their routes answer 503 (or 504) for now, while the
	// others' work.
	NotReady []string `json:"notReady,omitempty"`
}

// readiness answers /readyz. It asks every backend's grpc.health.v1 Check,
// in parallel and at most timeout each, and reports each one's state for
// operators; but it answers 503 only when no backend answered at all.
//
// Readiness decides whether a load balancer sends this gateway traffic. A
// service that is down or slow is down or slow for every gateway instance
// alike: taking the gateways out for it would turn one service's outage into
// the whole API's, when the other services' routes still work and the
// failing one's routes answer an honest 503 with Retry-After or 504. What
// is particular to one instance, and what another instance could serve
// instead, is that it cannot reach the services at all (its network, its
// TLS settings, its addresses): then every backend is UNREACHABLE, and the
// gateway is not ready. A backend that answers NOT_SERVING is reachable.
//
// It checks on every request rather than caching, because probes come
// seldom and a stale answer would misreport the services. The answer takes
// at most about timeout, whichever backend is slow, which is why the
// timeout stays below a probe's own (Kubernetes' default is 1 s): a frozen
// service must not make the probe itself fail.
type readiness struct {
	backends []Backend
	timeout  time.Duration
	log      *slog.Logger
}

func (h *readiness) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	report := h.report(r.Context())
	code := http.StatusOK
	if !report.Ready {
		// Like every 503 of the gateway's, it says when to ask again.
		code = http.StatusServiceUnavailable
		w.Header().Set("Retry-After", seconds(DefaultRetryAfter))
	}
	writeJSON(w, code, report)
}

// report asks every backend, in parallel.
func (h *readiness) report(ctx context.Context) ReadinessReport {
	states := make([]string, len(h.backends))
	var wg sync.WaitGroup
	for i, b := range h.backends {
		wg.Go(func() { states[i] = h.check(ctx, b) })
	}
	wg.Wait()

	report := ReadinessReport{Backends: map[string]string{}}
	for i, b := range h.backends {
		report.Backends[b.Name] = states[i]
		if states[i] != Unreachable {
			report.Ready = true
		}
		if states[i] != healthpb.HealthCheckResponse_SERVING.String() {
			report.NotReady = append(report.NotReady, b.Name)
		}
	}
	return report
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
