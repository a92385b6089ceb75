package tracing

import (
	"context"
	"net/http"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/attribute"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/trace"
)

// routeSlot is where the handler under Handler records the route a request
// took, so that the span is named by it once the request is done, and the
// request's metrics are labelled by it (Route).
type routeSlot struct{ route string }

type routeKey struct{}

// WithRouteSlot returns ctx with a place for the route its request takes,
// unless it has one already (Handler gives every request one). Whoever
// needs the route after the request (the metrics' middleware) calls it
// first, so that the route is recorded even without Handler around it.
func WithRouteSlot(ctx context.Context) context.Context {
	if _, ok := ctx.Value(routeKey{}).(*routeSlot); ok {
		return ctx
	}
	return context.WithValue(ctx, routeKey{}, &routeSlot{})
}

// Route is the pattern of the route the request of ctx took, without its
// method ("/v1/{parent=groups/*}/concerns", "/{group}/cases/{case}"), as
// SetRoute or Patterns recorded it; "" when none was.
func Route(ctx context.Context) string {
	if slot, ok := ctx.Value(routeKey{}).(*routeSlot); ok {
		return routePart(slot.route)
	}
	return ""
}

// Patterns records the pattern that the standard library's ServeMux mux
// matched as the request's route, when nothing under it named a more
// precise one with SetRoute. mux sets Request.Pattern on the request it is
// given, which the middleware above it may have copied to add to its
// context, so they could not see it. A catch-all "/" is no route.
func Patterns(mux http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mux.ServeHTTP(w, r)
		if r.Pattern == "" || routePart(r.Pattern) == "/" || Route(r.Context()) != "" {
			return
		}
		SetRoute(r.Context(), "", r.Pattern)
	})
}

// Handler traces every request to next in a server span, a child of the
// caller's when the request carries a traceparent. The span is named by
// the route pattern, never the path: a path may hold a sign-in secret. The
// handler below says which route a request took with SetRoute; one it does
// not name is named by the net/http pattern that took it, or else "HTTP"
// and its method. Probes (/healthz, /readyz) are not traced: every few
// seconds from every prober, they would bury the requests' traces.
func Handler(next http.Handler) http.Handler {
	traced := otelhttp.NewHandler(next, "HTTP",
		otelhttp.WithFilter(func(r *http.Request) bool { return !probes[r.URL.Path] }),
		otelhttp.WithPropagators(Propagator),
		otelhttp.WithMeterProvider(metricnoop.NewMeterProvider()),
		otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string {
			if slot, ok := r.Context().Value(routeKey{}).(*routeSlot); ok && slot.route != "" {
				return slot.route
			}
			// A pattern net/http matched is the route as registered,
			// never the path; "/" is a catch-all that says nothing.
			if r.Pattern != "" && r.Pattern != "/" {
				return r.Pattern
			}
			return "HTTP " + r.Method
		}),
	)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		traced.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), routeKey{}, &routeSlot{})))
	})
}

// probes are the paths of the liveness and readiness probes.
var probes = map[string]bool{"/healthz": true, "/readyz": true}

// SetRoute names the request's span after its route: the method and the
// route's pattern, as "POST /v1/{parent=groups/*}/concerns" or
// "GET /{group}/sign-in/{secret}". A pattern that already starts with its
// method (net/http's "GET /healthz") is taken as it is.
func SetRoute(ctx context.Context, method, pattern string) {
	if pattern == "" {
		return
	}
	name := pattern
	if method != "" && !hasMethod(pattern) {
		name = method + " " + pattern
	}
	if slot, ok := ctx.Value(routeKey{}).(*routeSlot); ok {
		slot.route = name
	}
	span := trace.SpanFromContext(ctx)
	span.SetName(name)
	span.SetAttributes(attribute.String("http.route", routePart(pattern)))
}

func hasMethod(pattern string) bool {
	for i := 0; i < len(pattern); i++ {
		switch pattern[i] {
		case ' ':
			return i > 0
		case '/':
			return false
		}
	}
	return false
}

func routePart(pattern string) string {
	if hasMethod(pattern) {
		for i := 0; i < len(pattern); i++ {
			if pattern[i] == ' ' {
				return pattern[i+1:]
			}
		}
	}
	return pattern
}

// Transport traces every request made through rt in a client span and
// passes the trace context on in its traceparent header. The span is named
// by the method only: the URL may hold a secret (a sign-in link's, on its
// way to the API) and is not exported either (see Allowed).
func Transport(rt http.RoundTripper) http.RoundTripper {
	return otelhttp.NewTransport(rt,
		otelhttp.WithPropagators(Propagator),
		otelhttp.WithMeterProvider(metricnoop.NewMeterProvider()),
		otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string { return "HTTP " + r.Method }),
	)
}
