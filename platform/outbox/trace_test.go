package outbox_test

import (
	"context"
	"testing"
	"time"

	"github.com/ipnmediation/disputes/platform/outbox"
	"github.com/ipnmediation/disputes/platform/postgres"
	"github.com/ipnmediation/disputes/platform/testenv"
	"github.com/ipnmediation/disputes/platform/tracing"
	"github.com/jackc/pgx/v5"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// TestRelayCarriesTheTraceContext: an event written in a traced
// transaction reaches NATS with that trace's traceparent, by Add and by
// Queue; one written without (or before the column existed) is published
// all the same.
func TestRelayCarriesTheTraceContext(t *testing.T) {
	t.Parallel()
	pool, js, ns := setup(t)
	ctx, span := sdktrace.NewTracerProvider().Tracer("test").Start(context.Background(), "register")
	defer span.End()
	added, queued, plain, legacy := registered(t, ns, "groups/g1/concerns/a"), registered(t, ns, "groups/g1/concerns/b"), registered(t, ns, "groups/g1/concerns/c"), registered(t, ns, "groups/g1/concerns/d")

	if err := postgres.InTx(ctx, pool, func(tx pgx.Tx) error { return outbox.Add(ctx, tx, added) }); err != nil {
		t.Fatal(err)
	}
	var b pgx.Batch
	outbox.Queue(ctx, &b, queued)
	if err := pool.SendBatch(ctx, &b).Close(); err != nil {
		t.Fatal(err)
	}
	if err := postgres.InTx(context.Background(), pool, func(tx pgx.Tx) error { return outbox.Add(context.Background(), tx, plain) }); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `INSERT INTO outbox (event_id, subject, event_type, payload) VALUES ($1, $2, $3, $4)`, legacy.ID, legacy.Subject, legacy.Type, legacy.Payload); err != nil {
		t.Fatal(err)
	}

	runRelay(t, pool, js)
	testenv.Eventually(t, 10*time.Second, "the four events on the stream", func() bool { return streamCount(t, js, ns) == 4 })
	s, err := js.Stream(context.Background(), ns.Stream())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		seq       uint64
		id        string
		wantTrace trace.TraceID
	}{
		{"Add in a trace", 1, added.ID, span.SpanContext().TraceID()},
		{"Queue in a trace", 2, queued.ID, span.SpanContext().TraceID()},
		{"Add outside a trace", 3, plain.ID, trace.TraceID{}},
		{"a row from before the column", 4, legacy.ID, trace.TraceID{}},
	}
	for _, tt := range tests {
		msg, err := s.GetMsg(context.Background(), tt.seq)
		if err != nil {
			t.Fatal(err)
		}
		if got := msg.Header.Get("Nats-Msg-Id"); got != tt.id {
			t.Errorf("%s: message %d is %s, want %s", tt.name, tt.seq, got, tt.id)
		}
		got := trace.SpanContextFromContext(tracing.Extract(context.Background(), msg.Header))
		if got.TraceID() != tt.wantTrace {
			t.Errorf("%s: traceparent %q, want trace %s", tt.name, msg.Header.Get("traceparent"), tt.wantTrace)
		}
	}
}
