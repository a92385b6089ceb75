package tracing

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
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
	all := span.Attributes()
	kept := make([]attribute.KeyValue, 0, len(all))
	for _, kv := range all {
		if Allowed[kv.Key] {
			kept = append(kept, kv)
		}
	}
	return cleanSpan{ReadOnlySpan: span, attributes: kept, dropped: len(all) - len(kept)}
}

// cleanSpan is a span as exported: its allowed attributes only, and no
// events. It answers everything else from the span it wraps, which saves
// copying each span whole at export.
type cleanSpan struct {
	sdktrace.ReadOnlySpan
	attributes []attribute.KeyValue
	dropped    int
}

func (s cleanSpan) Attributes() []attribute.KeyValue { return s.attributes }
func (s cleanSpan) DroppedAttributes() int {
	return s.ReadOnlySpan.DroppedAttributes() + s.dropped
}
func (s cleanSpan) Events() []sdktrace.Event { return nil }
func (s cleanSpan) DroppedEvents() int {
	return s.ReadOnlySpan.DroppedEvents() + len(s.ReadOnlySpan.Events())
}
