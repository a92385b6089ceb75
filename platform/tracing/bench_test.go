package tracing_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/ipnmediation/disputes/platform/logging"
	"github.com/ipnmediation/disputes/platform/tracing"
	"go.opentelemetry.io/otel"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

type discard struct{}

func (discard) ExportSpans(context.Context, []sdktrace.ReadOnlySpan) error { return nil }
func (discard) Shutdown(context.Context) error                             { return nil }

// BenchmarkRequest is what tracing costs one request: a traced HTTP handler
// that logs one line, as the gateway's and the website's do, with no
// TracerProvider (no ids), with the provider Start installs when nothing is
// exported (ids, nothing recorded) and with one that records and exports
// every span (to an exporter that drops them, so only our side is counted).
func BenchmarkRequest(b *testing.B) {
	configs := []struct {
		name string
		tp   trace.TracerProvider
	}{
		{"no-provider", noop.NewTracerProvider()},
		{"ids-only", sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.NeverSample())))},
		{"exporting", sdktrace.NewTracerProvider(sdktrace.WithBatcher(tracing.Sanitize(discard{})))},
	}
	log := logging.New(io.Discard, slog.LevelInfo, "bench")
	handler := tracing.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tracing.SetRoute(r.Context(), r.Method, "/v1/{parent=groups/*}/concerns")
		log.LogAttrs(r.Context(), slog.LevelInfo, "http request", slog.String("method", r.Method), slog.Int("status", 200))
	}))
	prev := otel.GetTracerProvider()
	defer otel.SetTracerProvider(prev)
	for _, c := range configs {
		b.Run(c.name, func(b *testing.B) {
			otel.SetTracerProvider(c.tp)
			req := httptest.NewRequest("POST", "/v1/groups/riverside/concerns", nil)
			b.ReportAllocs()
			for b.Loop() {
				handler.ServeHTTP(httptest.NewRecorder(), req)
			}
		})
	}
}
