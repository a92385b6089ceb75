// Package outbox writes events in the same transaction as the state change
// they describe, and relays them to JetStream afterwards. Nothing committed is
// lost: a row leaves the outbox only once JetStream has acknowledged it, and
// a row published twice (after a crash between ack and delete) is stored once
// because its Nats-Msg-Id is the event id.
package outbox

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/ipnmediation/disputes/platform/events"
	"github.com/ipnmediation/disputes/platform/postgres"
	"github.com/ipnmediation/disputes/platform/tracing"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.opentelemetry.io/otel/codes"
)

// insertSQL writes one event to the outbox, with the trace context of the
// transaction that writes it (NULL outside a trace).
const insertSQL = `INSERT INTO outbox (event_id, subject, event_type, payload, traceparent, tracestate) VALUES ($1, $2, $3, $4, $5, $6)`

// Add writes ev to the outbox inside tx, keeping ctx's trace context with
// it for the relay.
func Add(ctx context.Context, tx pgx.Tx, ev events.Event) error {
	parent, state := tracing.Serialize(ctx)
	if _, err := tx.Exec(ctx, insertSQL, ev.ID, ev.Subject, ev.Type, ev.Payload, nullable(parent), nullable(state)); err != nil {
		return fmt.Errorf("outbox: add %s: %w", ev.Type, err)
	}
	return nil
}

// Queue adds the writing of ev to the outbox to b, for a caller that sends
// its state change and its event as one batch: one round trip, and one
// transaction (the batch's implicit one, when it holds no BEGIN). ctx's
// trace context is kept with the event, as Add keeps it.
func Queue(ctx context.Context, b *pgx.Batch, ev events.Event) {
	parent, state := tracing.Serialize(ctx)
	b.Queue(insertSQL, ev.ID, ev.Subject, ev.Type, ev.Payload, nullable(parent), nullable(state))
}

// nullable is NULL for an empty string: no trace context.
func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// Relay publishes outbox rows to JetStream in the order they were written.
type Relay struct {
	Pool      *pgxpool.Pool
	JetStream jetstream.JetStream
	// Schema is the service's schema; it names the notification channel.
	Schema string
	Logger *slog.Logger
	// PollInterval is how often the outbox is read when no notification
	// arrives; 1s when zero.
	PollInterval time.Duration
	// BatchSize is how many rows one pass publishes; 100 when zero.
	BatchSize int
	// Metrics, when set, counts what the relay publishes and fails to.
	Metrics *Metrics
}

// Run relays until ctx is done.
func (r *Relay) Run(ctx context.Context) error {
	if r.PollInterval == 0 {
		r.PollInterval = time.Second
	}
	if r.BatchSize == 0 {
		r.BatchSize = 100
	}
	wake := make(chan struct{}, 1)
	go postgres.Listen(ctx, r.Pool, r.Schema+"_outbox", wake, r.PollInterval, r.Logger)
	for {
		for {
			n, err := r.publishBatch(ctx)
			if err != nil {
				if ctx.Err() != nil {
					return nil
				}
				r.Logger.WarnContext(ctx, "outbox relay pass failed", slog.Any("error", err))
				break
			}
			if n < r.BatchSize {
				break
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-wake:
		case <-time.After(r.PollInterval):
		}
	}
}

type outboxRow struct {
	id                      int64
	eventID                 string
	subject                 string
	typ                     string
	payload                 []byte
	traceparent, tracestate *string
}

// publishBatch publishes up to BatchSize rows and deletes those JetStream
// acknowledged. It stops at the first failure so order is kept.
func (r *Relay) publishBatch(ctx context.Context) (int, error) {
	tx, err := r.Pool.Begin(ctx)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback(context.Background()) //nolint:errcheck // no-op after commit

	rows, err := tx.Query(ctx, `SELECT id, event_id::text, subject, event_type, payload, traceparent, tracestate FROM outbox ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED`, r.BatchSize)
	if err != nil {
		return 0, err
	}
	batch, err := pgx.CollectRows(rows, func(cr pgx.CollectableRow) (outboxRow, error) {
		var x outboxRow
		err := cr.Scan(&x.id, &x.eventID, &x.subject, &x.typ, &x.payload, &x.traceparent, &x.tracestate)
		return x, err
	})
	if err != nil {
		return 0, err
	}
	var published []int64
	var failure error
	for _, x := range batch {
		msg := &nats.Msg{Subject: x.subject, Data: x.payload, Header: nats.Header{}}
		msg.Header.Set(events.TypeHeader, x.typ)
		// The publish span is a child of the transaction that wrote the
		// row (a root for a row that kept no trace context), and the
		// message carries it on to the consumers.
		sctx, span := tracing.StartPublish(tracing.Deserialize(ctx, deref(x.traceparent), deref(x.tracestate)), x.subject, events.Kind(x.subject), x.eventID)
		tracing.Inject(sctx, msg.Header)
		pctx, cancel := context.WithTimeout(sctx, 5*time.Second)
		_, err := r.JetStream.PublishMsg(pctx, msg, jetstream.WithMsgID(x.eventID))
		cancel()
		if err != nil {
			span.SetStatus(codes.Error, "publish failed")
		}
		span.End()
		if err != nil {
			r.Metrics.failedOne()
			failure = fmt.Errorf("publish %s: %w", x.eventID, err)
			if _, uerr := tx.Exec(ctx, `UPDATE outbox SET attempts = attempts + 1, last_error = $2 WHERE id = $1`, x.id, truncate(err.Error(), 500)); uerr != nil {
				failure = errors.Join(failure, uerr)
			}
			break
		}
		published = append(published, x.id)
	}
	if len(published) > 0 {
		if _, err := tx.Exec(ctx, `DELETE FROM outbox WHERE id = ANY($1)`, published); err != nil {
			return 0, err
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return 0, err
	}
	r.Metrics.publishedSome(len(published))
	if failure != nil {
		return len(published), failure
	}
	return len(batch), nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// Pending counts rows not yet published, for tests and metrics.
func Pending(ctx context.Context, db interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}) (int, error) {
	var n int
	err := db.QueryRow(ctx, `SELECT count(*) FROM outbox`).Scan(&n)
	return n, err
}
