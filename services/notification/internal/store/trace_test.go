package store

import (
	"context"
	"testing"

	"github.com/google/uuid"
	"github.com/ipnmediation/disputes/platform/postgres"
	"github.com/ipnmediation/disputes/platform/tracing"
	"github.com/ipnmediation/disputes/services/notification/internal/dispatch"
	"github.com/jackc/pgx/v5"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// TestDeliveriesKeepTheTraceContext: a delivery planned in a trace is
// claimed with that trace's context, one planned outside with none.
func TestDeliveriesKeepTheTraceContext(t *testing.T) {
	t.Parallel()
	s := open(t)
	traced, span := sdktrace.NewTracerProvider().Tracer("test").Start(context.Background(), "plan")
	defer span.End()
	tests := []struct {
		name string
		ctx  context.Context
		want trace.TraceID
	}{
		{"planned in a trace", traced, span.SpanContext().TraceID()},
		{"planned outside one", context.Background(), trace.TraceID{}},
	}
	for _, tt := range tests {
		d := newDelivery(uuid.NewString(), "groups/riverside/members/ann", base)
		if err := postgres.InTx(context.Background(), s.Pool, func(tx pgx.Tx) error {
			_, err := AddDeliveries(tt.ctx, tx, []dispatch.Delivery{d})
			return err
		}); err != nil {
			t.Fatal(err)
		}
		got := read(t, s, d.ID)
		sc := trace.SpanContextFromContext(tracing.Deserialize(context.Background(), got.TraceParent, got.TraceState))
		if sc.TraceID() != tt.want {
			t.Errorf("%s: traceparent %q, want trace %s", tt.name, got.TraceParent, tt.want)
		}
	}
}
