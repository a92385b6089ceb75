package tracing

import (
	"context"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// tracerName names the spans this package starts itself (the outbox relay's
// and the consumers'), as the instrumentation scope.
const tracerName = "github.com/ipnmediation/disputes/platform/tracing"

// Tracer is the tracer for spans the platform starts by hand: publishing and
// consuming events, handing an e-mail to the SMTP relay.
func Tracer() trace.Tracer { return otel.Tracer(tracerName) }

// Carrier holds a trace context as W3C headers under their own lowercase
// names (traceparent, tracestate), in a map of the shape both nats.Header
// and http.Header have; it reads and writes the keys as they are, since
// NATS headers are case-sensitive.
type Carrier map[string][]string

// Get returns the first value of key.
func (c Carrier) Get(key string) string {
	if v := c[key]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// Set replaces the values of key.
func (c Carrier) Set(key, value string) { c[key] = []string{value} }

// Keys lists the keys present.
func (c Carrier) Keys() []string {
	keys := make([]string, 0, len(c))
	for k := range c {
		keys = append(keys, k)
	}
	return keys
}

var _ propagation.TextMapCarrier = Carrier(nil)

// Inject writes ctx's trace context into headers (traceparent, and
// tracestate when there is one). A context without a span writes nothing.
func Inject(ctx context.Context, headers map[string][]string) {
	Propagator.Inject(ctx, Carrier(headers))
}

// Extract returns ctx carrying the remote span context found in headers,
// or ctx unchanged when they hold none (an event written before tracing,
// or by a process that does not trace).
func Extract(ctx context.Context, headers map[string][]string) context.Context {
	return Propagator.Extract(ctx, Carrier(headers))
}

// Serialize returns ctx's trace context as the two W3C header values, to be
// kept with a row that is acted on later (an outbox row, a delivery): both
// empty when ctx has no valid span.
func Serialize(ctx context.Context) (traceparent, tracestate string) {
	c := Carrier{}
	Propagator.Inject(ctx, c)
	return c.Get("traceparent"), c.Get("tracestate")
}

// Deserialize is the inverse of Serialize: ctx carrying the span context of
// traceparent (and tracestate) as a remote parent, or ctx unchanged when
// traceparent is empty or not valid.
func Deserialize(ctx context.Context, traceparent, tracestate string) context.Context {
	if traceparent == "" {
		return ctx
	}
	c := Carrier{"traceparent": {traceparent}}
	if tracestate != "" {
		c["tracestate"] = []string{tracestate}
	}
	return Propagator.Extract(ctx, c)
}

// StartConsume starts the consumer span of an event: a child of the span
// context in the message's headers when there is one (the transaction that
// wrote the event), so the event's effect is in the same trace as its
// cause. consumer is the durable consumer's name, subject the message's
// (disputes.<group>.<aggregate>.<event>: a group's name and enums), kind
// the kind of event, which names the span (events.Kind), and id the
// event's id.
func StartConsume(ctx context.Context, headers map[string][]string, consumer, subject, kind, id string) (context.Context, trace.Span) {
	ctx = Extract(ctx, headers)
	return Tracer().Start(ctx, "process "+kind,
		trace.WithSpanKind(trace.SpanKindConsumer),
		trace.WithAttributes(
			attribute.String("messaging.system", "nats"),
			attribute.String("messaging.operation.type", "process"),
			attribute.String("messaging.destination.name", subject),
			attribute.String("messaging.consumer.group.name", consumer),
			attribute.String("messaging.message.id", id),
		))
}

// StartPublish starts the producer span of an event the relay publishes, a
// child of the span context kept with its outbox row (parent, from
// Deserialize), or a root when the row kept none.
func StartPublish(parent context.Context, subject, kind, id string) (context.Context, trace.Span) {
	return Tracer().Start(parent, "send "+kind,
		trace.WithSpanKind(trace.SpanKindProducer),
		trace.WithAttributes(
			attribute.String("messaging.system", "nats"),
			attribute.String("messaging.operation.type", "send"),
			attribute.String("messaging.destination.name", subject),
			attribute.String("messaging.message.id", id),
		))
}
