package tracing

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// Allowed are the only span attribute keys that leave the process: ids and
// enums of the protocol, never a path, a query, a user agent or an address
// of the person at the other end. otelhttp puts url.path on every server
// span, and on the website a path may hold a sign-in link's secret; it puts
// user_agent.original and client.address there too, and otelgrpc puts the
// caller's address in network.peer.address. The route pattern
// (http.route) says which page or API route it was.
var Allowed = map[attribute.Key]bool{
	"http.request.method":           true,
	"http.response.status_code":     true,
	"http.route":                    true,
	"url.scheme":                    true,
	"network.protocol.name":         true,
	"network.protocol.version":      true,
	"server.address":                true,
	"server.port":                   true,
	"error.type":                    true,
	"rpc.system":                    true,
	"rpc.system.name":               true,
	"rpc.service":                   true,
	"rpc.method":                    true,
	"rpc.grpc.status_code":          true,
	"rpc.response.status_code":      true,
	"messaging.system":              true,
	"messaging.operation.name":      true,
	"messaging.operation.type":      true,
	"messaging.destination.name":    true,
	"messaging.message.id":          true,
	"messaging.consumer.group.name": true,
}

// Sanitize wraps an exporter so that only Allowed attributes, and no span
// events, reach it. Filtering at export, rather than trusting each
// instrumentation library's options, holds whatever a library adds in a
// later version to the same list.
func Sanitize(next sdktrace.SpanExporter) sdktrace.SpanExporter {
	return sanitizer{next}
}

type sanitizer struct{ next sdktrace.SpanExporter }

func (s sanitizer) ExportSpans(ctx context.Context, spans []sdktrace.ReadOnlySpan) error {
	clean := make([]sdktrace.ReadOnlySpan, len(spans))
	for i, span := range spans {
		clean[i] = sanitizeSpan(span)
	}
	return s.next.ExportSpans(ctx, clean)
}

func (s sanitizer) Shutdown(ctx context.Context) error { return s.next.Shutdown(ctx) }

func sanitizeSpan(span sdktrace.ReadOnlySpan) sdktrace.ReadOnlySpan {
	stub := tracetest.SpanStubFromReadOnlySpan(span)
	kept := stub.Attributes[:0:0]
	for _, kv := range stub.Attributes {
		if Allowed[kv.Key] {
			kept = append(kept, kv)
		} else {
			stub.DroppedAttributes++
		}
	}
	stub.Attributes = kept
	stub.DroppedEvents += len(stub.Events)
	stub.Events = nil
	return stub.Snapshot()
}
