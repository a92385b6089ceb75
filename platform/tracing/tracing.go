// Package tracing sets up OpenTelemetry tracing the same way in every
// process: a global TracerProvider named after the process, the W3C trace
// context propagator, OTLP/gRPC export when OTEL_EXPORTER_OTLP_ENDPOINT (or
// OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) is set, and the instrumentation of
// gRPC servers and clients, HTTP servers and clients and NATS messages.
//
// Telemetry follows the confidentiality rule: span names and attributes
// carry ids and enums only. The instrumentation libraries add more (the URL
// path, which on the website holds sign-in secrets; the user agent; the
// client's address), so every span passes through an allowlist of attribute
// keys before it is exported (see Sanitize), and span events, which the
// libraries fill with sizes and error texts, are not exported at all.
package tracing

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// ShutdownTimeout bounds how long the last spans may take to leave on
// shutdown: a collector that is away must not hold up a process's exit.
const ShutdownTimeout = 5 * time.Second

// Propagator is the only propagator used: W3C TraceContext. Not Baggage,
// which carries arbitrary key-value text from caller to callee and so could
// carry typed text across every process.
var Propagator propagation.TextMapPropagator = propagation.TraceContext{}

// Exporting reports whether the environment asks for spans to be exported:
// OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is set
// and not empty.
func Exporting() bool {
	return strings.TrimSpace(os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT")) != "" ||
		strings.TrimSpace(os.Getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")) != ""
}

// Start installs the global TracerProvider for the process called name and
// the W3C trace context propagator, and returns the function that flushes
// and stops it, to be called once when the process stops.
//
// When the environment names an OTLP endpoint, spans are batched and
// exported there over gRPC (the exporter and the batch processor read the
// other OTEL_EXPORTER_OTLP_* and OTEL_BSP_* settings themselves), sampled
// as OTEL_TRACES_SAMPLER says (every trace by default). When it names none,
// nothing is exported, but trace and span ids are still made, so that log
// lines carry them and one concern's lines can be found across processes:
// a trace begun here is not sampled (it costs no more than its ids), and one
// that arrives sampled stays sampled on its way on, so a process without a
// collector in the middle of a sampled trace does not cut it.
//
// log receives the SDK's own errors (a collector that cannot be reached).
func Start(ctx context.Context, name string, log *slog.Logger) (shutdown func(), err error) {
	res := resource.NewSchemaless(attribute.String("service.name", name))
	opts := []sdktrace.TracerProviderOption{sdktrace.WithResource(res)}
	if Exporting() {
		exp, err := otlptracegrpc.New(ctx)
		if err != nil {
			return nil, fmt.Errorf("OTLP trace exporter: %w", err)
		}
		opts = append(opts, sdktrace.WithBatcher(Sanitize(exp)))
	} else {
		opts = append(opts, sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.NeverSample())))
	}
	tp := sdktrace.NewTracerProvider(opts...)
	otel.SetTracerProvider(tp)
	otel.SetTextMapPropagator(Propagator)
	// The SDK's own errors (a collector that is away) would otherwise go
	// to the standard logger, unstructured.
	otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) {
		log.Warn("tracing", slog.String("error", err.Error()))
	}))
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), ShutdownTimeout)
		defer cancel()
		if err := tp.Shutdown(ctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
			otel.Handle(err)
		}
	}, nil
}
