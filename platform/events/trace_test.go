package events_test

import (
	"context"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/ipnmediation/disputes/platform/events"
	"github.com/ipnmediation/disputes/platform/tracing"
	eventsv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/events/v1"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// TestConsumerContinuesTheTrace: the handler of an event whose message
// carries a traceparent runs in that trace; one without runs all the same.
func TestConsumerContinuesTheTrace(t *testing.T) {
	t.Parallel()
	p := startPark(t)
	ctx, pool, js, ns := p.ctx, p.pool, p.js, p.ns
	seen := make(chan trace.TraceID, 2)
	c := &events.Consumer{
		Name: "svc", Namespace: ns, Subjects: []string{ns.Filter("concern", "registered")},
		Pool: pool, JetStream: js, Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError})),
		Handle: func(ctx context.Context, msg events.Message) (events.Effect, error) {
			seen <- trace.SpanContextFromContext(ctx).TraceID()
			return nil, nil
		},
	}
	go func() { _ = c.Run(ctx) }()

	_, span := sdktrace.NewTracerProvider().Tracer("test").Start(context.Background(), "write")
	defer span.End()
	tests := []struct {
		name string
		ctx  context.Context
		want trace.TraceID
	}{
		{"with a traceparent", trace.ContextWithSpan(context.Background(), span), span.SpanContext().TraceID()},
		{"without", context.Background(), trace.TraceID{}},
	}
	for _, tt := range tests {
		meta := events.NewMetadata("groups/g1", "test", time.Now())
		meta.EventId = uuid.NewString()
		ev, err := ns.Encode(meta, "concern", "registered", &eventsv1.ConcernRegistered{Metadata: meta, Concern: "groups/g1/concerns/a"})
		if err != nil {
			t.Fatal(err)
		}
		msg := &nats.Msg{Subject: ev.Subject, Data: ev.Payload, Header: nats.Header{}}
		msg.Header.Set(events.TypeHeader, ev.Type)
		tracing.Inject(tt.ctx, msg.Header)
		if _, err := js.PublishMsg(ctx, msg, jetstream.WithMsgID(ev.ID)); err != nil {
			t.Fatal(err)
		}
		select {
		case got := <-seen:
			if got != tt.want {
				t.Errorf("%s: the handler ran in trace %s, want %s", tt.name, got, tt.want)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: the event was not handled", tt.name)
		}
	}
}
