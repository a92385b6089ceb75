package events

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/ipnmediation/disputes/platform/fault"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go/jetstream"
)

// Effect is the state change an event causes, applied in the transaction
// that also records the event as applied.
type Effect func(ctx context.Context, tx pgx.Tx) error

// Handler prepares an event's effect. It may call other services; it must not
// change state itself. A nil Effect means the event needs nothing done.
type Handler func(ctx context.Context, msg Message) (Effect, error)

// Consumer is a durable JetStream consumer whose effects are idempotent: the
// id of every applied event is recorded in the same transaction as its effect,
// and an event seen again is acknowledged without being applied twice.
type Consumer struct {
	// Name is the durable consumer's name, for example "casework".
	Name string
	// Namespace selects the stream.
	Namespace Namespace
	// Subjects are the filter subjects, for example
	// "disputes.*.concern.registered".
	Subjects  []string
	Pool      *pgxpool.Pool
	JetStream jetstream.JetStream
	Logger    *slog.Logger
	Handle    Handler
	// AckWait is how long a message may be worked on before JetStream sends
	// it again; 30s when zero.
	AckWait time.Duration
	// MaxAttempts after which a failing event is set aside (terminated) and
	// logged; 20 when zero.
	MaxAttempts int
}

// Run consumes until ctx is done.
func (c *Consumer) Run(ctx context.Context) error {
	if c.AckWait == 0 {
		c.AckWait = 30 * time.Second
	}
	if c.MaxAttempts == 0 {
		c.MaxAttempts = 20
	}
	cfg := jetstream.ConsumerConfig{
		Durable:       c.Name,
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       c.AckWait,
		DeliverPolicy: jetstream.DeliverAllPolicy,
		MaxAckPending: 256,
	}
	// One subject goes in the field every JetStream version knows; several
	// need nats-server 2.10 or newer.
	if len(c.Subjects) == 1 {
		cfg.FilterSubject = c.Subjects[0]
	} else {
		cfg.FilterSubjects = c.Subjects
	}
	cons, err := c.JetStream.CreateOrUpdateConsumer(ctx, c.Namespace.Stream(), cfg)
	if err != nil {
		return fmt.Errorf("consumer %s: %w", c.Name, err)
	}
	it, err := cons.Messages(jetstream.PullMaxMessages(64))
	if err != nil {
		return fmt.Errorf("consumer %s: %w", c.Name, err)
	}
	go func() {
		<-ctx.Done()
		it.Stop()
	}()
	for {
		msg, err := it.Next()
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, jetstream.ErrMsgIteratorClosed) {
				return nil
			}
			c.Logger.Warn("consumer fetch failed", slog.String("consumer", c.Name), slog.Any("error", err))
			continue
		}
		c.process(ctx, msg)
	}
}

func (c *Consumer) process(ctx context.Context, jm jetstream.Msg) {
	meta, err := jm.Metadata()
	if err != nil {
		c.Logger.Error("event without metadata; terminating it", slog.String("consumer", c.Name), slog.Any("error", err))
		_ = jm.Term()
		return
	}
	msg := Message{
		ID:       jm.Headers().Get("Nats-Msg-Id"),
		Subject:  jm.Subject(),
		Type:     jm.Headers().Get(TypeHeader),
		Payload:  jm.Data(),
		Attempts: meta.NumDelivered,
	}
	log := c.Logger.With(slog.String("consumer", c.Name), slog.String("event_id", msg.ID), slog.String("event_type", msg.Type))
	if msg.ID == "" {
		log.Error("event without Nats-Msg-Id; terminating it")
		_ = jm.Term()
		return
	}
	err = c.apply(ctx, msg)
	switch {
	case err == nil:
		if aerr := jm.DoubleAck(ctx); aerr != nil {
			log.Warn("ack failed; the event will come again and be skipped", slog.Any("error", aerr))
		}
	case fault.IsKind(err, fault.InvalidArgument) || int(msg.Attempts) >= c.MaxAttempts:
		log.Error("event set aside after failing", slog.Uint64("attempts", msg.Attempts), slog.Any("error", err))
		_ = jm.Term()
	default:
		delay := backoff(msg.Attempts)
		log.Warn("event failed; will retry", slog.Uint64("attempts", msg.Attempts), slog.Duration("retry_in", delay), slog.Any("error", err))
		_ = jm.NakWithDelay(delay)
	}
}

func (c *Consumer) apply(ctx context.Context, msg Message) error {
	var seen bool
	if err := c.Pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM applied_events WHERE consumer = $1 AND event_id = $2)`, c.Name, msg.ID).Scan(&seen); err != nil {
		return fmt.Errorf("check applied: %w", err)
	}
	if seen {
		return nil
	}
	effect, err := c.Handle(ctx, msg)
	if err != nil {
		return err
	}
	tx, err := c.Pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback(context.Background()) //nolint:errcheck // no-op after commit
	tag, err := tx.Exec(ctx, `INSERT INTO applied_events (consumer, event_id) VALUES ($1, $2) ON CONFLICT DO NOTHING`, c.Name, msg.ID)
	if err != nil {
		return fmt.Errorf("record applied: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return nil // applied meanwhile by another replica
	}
	if effect != nil {
		if err := effect(ctx, tx); err != nil {
			return err
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// backoff grows from 1s to a minute with the number of deliveries.
func backoff(attempts uint64) time.Duration {
	d := time.Second << min(attempts, 6)
	return min(d, time.Minute)
}
