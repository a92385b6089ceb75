package tracing_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/ipnmediation/disputes/platform/logging"
	"github.com/ipnmediation/disputes/platform/tracing"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

// record installs a global TracerProvider that keeps every span, sanitised
// as on export, and returns what it kept. The tests that use it change
// global state and so do not run in parallel.
func record(t *testing.T) *tracetest.InMemoryExporter {
	t.Helper()
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(tracing.Sanitize(exp)))
	prev := otel.GetTracerProvider()
	otel.SetTracerProvider(tp)
	t.Cleanup(func() { otel.SetTracerProvider(prev); _ = tp.Shutdown(context.Background()) })
	return exp
}

func TestSanitizeKeepsOnlyAllowedAttributes(t *testing.T) {
	exp := record(t)
	_, span := otel.Tracer("test").Start(context.Background(), "GET /{group}/sign-in/{secret}", trace.WithAttributes(
		attribute.String("url.path", "/riverside/sign-in/SECRETSECRET"),
		attribute.String("url.query", "code=SECRET"),
		attribute.String("url.full", "http://x/riverside/sign-in/SECRETSECRET"),
		attribute.String("http.target", "/riverside/sign-in/SECRETSECRET"),
		attribute.String("user_agent.original", "Mozilla"),
		attribute.String("client.address", "192.0.2.1"),
		attribute.String("network.peer.address", "192.0.2.1"),
		attribute.String("http.request.method", "GET"),
		attribute.String("http.route", "/{group}/sign-in/{secret}"),
	))
	span.AddEvent("message", trace.WithAttributes(attribute.String("text", "SECRET")))
	span.End()

	spans := exp.GetSpans()
	if len(spans) != 1 {
		t.Fatalf("%d spans exported, want 1", len(spans))
	}
	got := map[attribute.Key]string{}
	for _, kv := range spans[0].Attributes {
		got[kv.Key] = kv.Value.Emit()
	}
	want := map[attribute.Key]string{"http.request.method": "GET", "http.route": "/{group}/sign-in/{secret}"}
	if len(got) != len(want) {
		t.Errorf("attributes %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("attribute %s = %q, want %q", k, got[k], v)
		}
	}
	if len(spans[0].Events) != 0 {
		t.Errorf("events exported: %v", spans[0].Events)
	}
}

func TestHandlerNamesSpanByRoute(t *testing.T) {
	exp := record(t)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{group}/sign-in/{secret}", func(w http.ResponseWriter, r *http.Request) {})
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {})
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tracing.SetRoute(r.Context(), r.Method, "/v1/{parent=groups/*}/concerns")
	})
	outer := http.NewServeMux()
	outer.Handle("/v1/", api)
	outer.Handle("/", mux)
	server := httptest.NewServer(tracing.Handler(outer))
	defer server.Close()

	tests := []struct {
		method, path, wantName, wantRoute string
	}{
		{"GET", "/riverside/sign-in/SECRETSECRET?code=SECRET", "GET /{group}/sign-in/{secret}", "/{group}/sign-in/{secret}"},
		{"POST", "/v1/groups/riverside/concerns", "POST /v1/{parent=groups/*}/concerns", "/v1/{parent=groups/*}/concerns"},
		{"GET", "/nowhere/SECRET/at/all", "HTTP GET", ""},
		{"GET", "/healthz", "", ""}, // a probe: no span
	}
	client := &http.Client{Transport: tracing.Transport(http.DefaultTransport)}
	for _, tt := range tests {
		exp.Reset()
		req, _ := http.NewRequest(tt.method, server.URL+tt.path, nil)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		spans := exp.GetSpans()
		var serverSpan, clientSpan *tracetest.SpanStub
		for i := range spans {
			switch spans[i].SpanKind {
			case trace.SpanKindServer:
				serverSpan = &spans[i]
			case trace.SpanKindClient:
				clientSpan = &spans[i]
			}
		}
		if tt.wantName == "" {
			if serverSpan != nil {
				t.Errorf("%s %s: a probe was traced", tt.method, tt.path)
			}
			continue
		}
		if serverSpan == nil || clientSpan == nil {
			t.Fatalf("%s %s: spans %v, want a server and a client span", tt.method, tt.path, spans)
		}
		if serverSpan.Name != tt.wantName {
			t.Errorf("%s %s: server span %q, want %q", tt.method, tt.path, serverSpan.Name, tt.wantName)
		}
		if serverSpan.Parent.SpanID() != clientSpan.SpanContext.SpanID() {
			t.Errorf("%s %s: the server span is not the client span's child", tt.method, tt.path)
		}
		for _, s := range []*tracetest.SpanStub{serverSpan, clientSpan} {
			if strings.Contains(s.Name, "SECRET") {
				t.Errorf("span name %q holds the path's secret", s.Name)
			}
			for _, kv := range s.Attributes {
				if strings.Contains(kv.Value.Emit(), "SECRET") {
					t.Errorf("span %q: attribute %s = %q holds the path's secret", s.Name, kv.Key, kv.Value.Emit())
				}
				if kv.Key == "http.route" && kv.Value.Emit() != tt.wantRoute {
					t.Errorf("span %q: http.route %q, want %q", s.Name, kv.Value.Emit(), tt.wantRoute)
				}
			}
		}
	}
}

func TestSerializeRoundTrip(t *testing.T) {
	t.Parallel()
	tp := sdktrace.NewTracerProvider()
	ctx, span := tp.Tracer("test").Start(context.Background(), "write")
	defer span.End()
	tests := []struct {
		name        string
		ctx         context.Context
		wantTraceID trace.TraceID
	}{
		{"a span", ctx, span.SpanContext().TraceID()},
		{"no span", context.Background(), trace.TraceID{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			parent, state := tracing.Serialize(tt.ctx)
			got := trace.SpanContextFromContext(tracing.Deserialize(context.Background(), parent, state))
			if got.TraceID() != tt.wantTraceID {
				t.Errorf("trace id %s after the round trip, want %s", got.TraceID(), tt.wantTraceID)
			}
			headers := map[string][]string{}
			tracing.Inject(tt.ctx, headers)
			if tt.wantTraceID.IsValid() && headers["traceparent"] == nil {
				t.Errorf("headers %v: no lowercase traceparent", headers)
			}
			if got := trace.SpanContextFromContext(tracing.Extract(context.Background(), headers)); got.TraceID() != tt.wantTraceID {
				t.Errorf("trace id %s through headers, want %s", got.TraceID(), tt.wantTraceID)
			}
		})
	}
}

func TestLogLinesCarryTraceIDs(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	log := logging.New(&buf, slog.LevelInfo, "test")
	tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.NeverSample()))
	ctx, span := tp.Tracer("test").Start(context.Background(), "request")
	defer span.End()

	log.InfoContext(ctx, "in a request")
	log.With(slog.String("consumer", "c")).WarnContext(ctx, "in an event")
	log.Info("outside")
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	want := []string{span.SpanContext().TraceID().String(), span.SpanContext().TraceID().String(), ""}
	for i, line := range lines {
		var got struct{ TraceID, SpanID string }
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatal(err)
		}
		got.TraceID, _ = m["trace_id"].(string)
		got.SpanID, _ = m["span_id"].(string)
		if got.TraceID != want[i] {
			t.Errorf("line %d %s: trace_id %q, want %q", i, line, got.TraceID, want[i])
		}
		if want[i] != "" && got.SpanID != span.SpanContext().SpanID().String() {
			t.Errorf("line %d %s: span_id %q, want %s", i, line, got.SpanID, span.SpanContext().SpanID())
		}
	}
}
