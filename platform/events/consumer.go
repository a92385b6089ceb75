package events

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/ipnmediation/disputes/platform/fault"
	"github.com/ipnmediation/disputes/platform/tracing"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go/jetstream"
	"go.opentelemetry.io/otel/codes"
)

// Effect is the state change an event causes, applied in the transaction
// that also records the event as applied.
type Effect func(ctx context.Context, tx pgx.Tx) error

// Handler prepares an event's effect. It may call other services; it must not
// change state itself. A nil Effect means the event needs nothing done; such
// an event is acknowledged without being recorded in applied_events.
//
// Its error decides what becomes of the event (see Consumer): one that says
// a dependency is unreachable (Consumer.Transient) is tried again within
// seconds; one that says the event cannot be applied as things stand
// (Permanent) parks it at once; anything else is tried again with backoff
// and parked after Consumer.MaxAttempts failures.
type Handler func(ctx context.Context, msg Message) (Effect, error)

// Defaults of a Consumer's settings.
const (
	DefaultAckWait           = 30 * time.Second
	DefaultMaxAttempts       = 20
	DefaultTransientDelayMax = 5 * time.Second
	DefaultParkedRetryFirst  = time.Minute
	DefaultParkedRetryMax    = time.Hour
	DefaultParkedPoll        = 10 * time.Second
)

// Consumer is a durable JetStream consumer whose effects are idempotent: the
// id of every applied event is recorded in the same transaction as its effect,
// and an event seen again is acknowledged without being applied twice. A
// message is acknowledged only once its effect has committed, or once the
// event is parked.
//
// No event is dropped. An event whose handler fails is, by the failure's
// class:
//   - transient (Transient: PostgreSQL, NATS or another service
//     unreachable, a deadline run out): tried again after a jittered delay
//     of at most TransientDelayMax, as long as it takes; never parked, and
//     not counted toward MaxAttempts;
//   - permanent (Permanent: the handler says the event cannot be applied as
//     things stand): parked at once;
//   - anything else: tried again with backoff (1 s, doubling, at most a
//     minute), and parked at its MaxAttempts-th failure.
//
// A parked event is a row of parked_events, committed before the message is
// acknowledged, and logged at ERROR ("event parked"). Beside its fetch loop
// the consumer tries each parked event again on its own, ParkedRetryFirst
// after parking and then twice as long after each failed retry, at most
// ParkedRetryMax apart; RetryParked tries one at once, for the operator. An
// event applied from the park is applied through the same idempotent path,
// and its row removed in the same transaction.
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
	// Metrics, when set, counts the events handed to the consumer and what
	// became of them.
	Metrics *Metrics
	// AckWait is how long a message may be worked on before JetStream sends
	// it again, and how long a retry of a parked event may take;
	// DefaultAckWait when zero.
	AckWait time.Duration
	// MaxAttempts is how many failures that are neither transient nor
	// permanent an event may have before it is parked; DefaultMaxAttempts
	// when zero.
	MaxAttempts int
	// Transient reports whether a handler's error says that something the
	// event needs could not be reached, so that trying again shortly is
	// the cure. Whatever it says, a fault.Unavailable error, a deadline
	// exceeded and a failure while the consumer is stopping are transient.
	// platform/service fills it with grpcserver.Transient.
	Transient func(error) bool
	// TransientDelayMax caps the wait before an event that failed
	// transiently is tried again (the wait grows from a quarter of a
	// second, with jitter), so that it is applied within seconds of its
	// dependency's return; DefaultTransientDelayMax when zero.
	TransientDelayMax time.Duration
	// ParkedRetryFirst is how long after it was parked an event is first
	// tried again on its own; each retry that fails doubles the wait, up to
	// ParkedRetryMax. DefaultParkedRetryFirst and DefaultParkedRetryMax
	// when zero.
	ParkedRetryFirst, ParkedRetryMax time.Duration
	// ParkedPoll is how often the consumer looks for parked events due
	// for a retry; DefaultParkedPoll when zero.
	ParkedPoll time.Duration

	defaultsOnce sync.Once
}

// setDefaults fills the zero settings, once: Run and RetryParked (called
// from the service's gRPC server) may both come first.
func (c *Consumer) setDefaults() {
	c.defaultsOnce.Do(func() {
		c.AckWait = cmp(c.AckWait, DefaultAckWait)
		c.TransientDelayMax = cmp(c.TransientDelayMax, DefaultTransientDelayMax)
		c.ParkedRetryFirst = cmp(c.ParkedRetryFirst, DefaultParkedRetryFirst)
		c.ParkedRetryMax = cmp(c.ParkedRetryMax, DefaultParkedRetryMax)
		c.ParkedPoll = cmp(c.ParkedPoll, DefaultParkedPoll)
		if c.MaxAttempts <= 0 {
			c.MaxAttempts = DefaultMaxAttempts
		}
	})
}

func cmp(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// Run consumes until ctx is done, and meanwhile retries the consumer's
// parked events as they fall due.
func (c *Consumer) Run(ctx context.Context) error {
	c.setDefaults()
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
	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Go(func() { c.retryDue(ctx) })
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
		// Not a JetStream message at all: nothing to park it by.
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
	if msg.ID == "" {
		// Parked under its place in the stream, where the operator sees
		// it; apply refuses it for want of an id.
		msg.ID = fmt.Sprintf("stream-sequence-%d", meta.Sequence.Stream)
	}
	// The event's span is a child of the transaction that wrote it, so
	// the effect (and every call the handler makes) is in its trace, and
	// the lines logged below carry its ids.
	ctx, span := tracing.StartConsume(ctx, jm.Headers(), c.Name, msg.Subject, Kind(msg.Subject), msg.ID)
	defer span.End()
	log := c.Logger.With(slog.String("consumer", c.Name), slog.String("event_id", msg.ID), slog.String("event_type", msg.Type))
	c.Metrics.delivered(c.Name, msg)
	err = c.apply(ctx, msg)
	if err != nil && !errors.Is(err, errParked) {
		span.SetStatus(codes.Error, "event failed")
	}
	switch {
	case err == nil:
		c.Metrics.appliedOne(c.Name, msg)
		if aerr := jm.DoubleAck(ctx); aerr != nil {
			log.WarnContext(ctx, "ack failed; the event will come again and be skipped", slog.Any("error", aerr))
		}
	case errors.Is(err, errParked):
		// Parked before, and the ack after parking was lost: the park
		// has it.
		log.InfoContext(ctx, "event already parked; acknowledging it again")
		_ = jm.DoubleAck(ctx)
	case c.transient(ctx, err):
		delay := transientDelay(msg.Attempts, c.TransientDelayMax)
		log.WarnContext(ctx, "event failed for want of a dependency; will retry", slog.Uint64("attempts", msg.Attempts), slog.Duration("retry_in", delay), slog.Any("error", err))
		_ = jm.NakWithDelay(delay)
	default:
		c.fail(ctx, jm, msg, err, log)
	}
}

// fail parks an event that failed permanently or once too often, and
// otherwise sends it back for a retry with backoff.
func (c *Consumer) fail(ctx context.Context, jm jetstream.Msg, msg Message, cause error, log *slog.Logger) {
	permanent := Permanent(cause)
	failures := 0
	if !permanent {
		var err error
		if failures, err = c.countFailure(ctx, msg.ID); err != nil {
			// Uncounted, so not parked this time: it comes again.
			delay := backoff(msg.Attempts)
			log.WarnContext(ctx, "event failed, and counting the failure failed; will retry", slog.Duration("retry_in", delay), slog.Any("error", cause), slog.Any("count_error", err))
			_ = jm.NakWithDelay(delay)
			return
		}
		if failures < c.MaxAttempts {
			delay := backoff(uint64(failures))
			log.WarnContext(ctx, "event failed; will retry", slog.Int("failures", failures), slog.Uint64("attempts", msg.Attempts), slog.Duration("retry_in", delay), slog.Any("error", cause))
			_ = jm.NakWithDelay(delay)
			return
		}
	}
	if err := c.park(ctx, msg, cause); err != nil {
		delay := transientDelay(msg.Attempts, c.TransientDelayMax)
		log.WarnContext(ctx, "event failed and could not be parked; will retry", slog.Duration("retry_in", delay), slog.Any("error", cause), slog.Any("park_error", err))
		_ = jm.NakWithDelay(delay)
		return
	}
	c.Metrics.parkedOne(c.Name, msg)
	log.ErrorContext(ctx, "event parked", slog.String("reason", reasonOf(cause)), slog.Bool("permanent", permanent),
		slog.Int("failures", failures), slog.Uint64("attempts", msg.Attempts))
	// Only now, with the row committed: a message acknowledged before
	// would be lost to a crash in between.
	if err := jm.DoubleAck(ctx); err != nil {
		log.WarnContext(ctx, "ack after parking failed; the event will come again and be acknowledged as parked", slog.Any("error", err))
	}
}

// errParked says that the event is parked already.
var errParked = errors.New("event is parked")

// apply applies an event delivered by JetStream, unless it has been applied
// or parked before.
func (c *Consumer) apply(ctx context.Context, msg Message) error {
	return c.applyOnce(ctx, msg, false)
}

// applyParked applies a parked event and removes it from the park in the
// same transaction; an event applied before (by another replica, or by a
// retry that won a race) is only removed.
func (c *Consumer) applyParked(ctx context.Context, msg Message) error {
	return c.applyOnce(ctx, msg, true)
}

// applyOnce is apply, or applyParked when fromPark: the one idempotent path
// by which an event's effect is committed together with the record that it
// was applied, and with the clearing of what the event left behind (its
// park, or the failures counted on earlier deliveries).
func (c *Consumer) applyOnce(ctx context.Context, msg Message, fromPark bool) error {
	if err := checkID(msg.ID); err != nil {
		return err
	}
	var applied, parked bool
	if err := c.Pool.QueryRow(ctx, `SELECT
	    EXISTS (SELECT 1 FROM applied_events WHERE consumer = $1 AND event_id = $2),
	    EXISTS (SELECT 1 FROM parked_events WHERE consumer = $1 AND event_id = $3)`,
		c.Name, msg.ID, msg.ID).Scan(&applied, &parked); err != nil {
		return fmt.Errorf("check applied: %w", err)
	}
	switch {
	case fromPark:
	case applied:
		return nil
	case parked:
		return errParked
	}
	var effect Effect
	if !applied {
		var err error
		if effect, err = c.Handle(ctx, msg); err != nil {
			return err
		}
		if effect == nil && !fromPark && msg.Attempts <= 1 {
			// Nothing to do and nothing to clear: a transaction would
			// only record that nothing was done, at the cost of a durable
			// commit, and the event seen again needs nothing either (a
			// Handler changes no state). Every case event reaches
			// notification, which acts on few of them.
			return nil
		}
	}
	tx, err := c.Pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback(context.Background()) //nolint:errcheck // no-op after commit
	if !applied {
		fresh, err := c.record(ctx, tx, msg, effect)
		if err != nil {
			return err
		}
		if !fresh && !fromPark {
			return nil // applied meanwhile by another replica
		}
	}
	switch {
	case fromPark:
		if _, err := tx.Exec(ctx, `DELETE FROM parked_events WHERE consumer = $1 AND event_id = $2`, c.Name, msg.ID); err != nil {
			return fmt.Errorf("unpark: %w", err)
		}
	case msg.Attempts > 1:
		// Only an event delivered before can have failures counted.
		if _, err := tx.Exec(ctx, `DELETE FROM event_failures WHERE consumer = $1 AND event_id = $2`, c.Name, msg.ID); err != nil {
			return fmt.Errorf("forget failures: %w", err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// record records msg as applied in tx and applies effect there; fresh is
// false, and the effect not applied, when it was applied before (by another
// replica, or from the park).
func (c *Consumer) record(ctx context.Context, tx pgx.Tx, msg Message, effect Effect) (fresh bool, err error) {
	tag, err := tx.Exec(ctx, `INSERT INTO applied_events (consumer, event_id) VALUES ($1, $2) ON CONFLICT DO NOTHING`, c.Name, msg.ID)
	if err != nil {
		return false, fmt.Errorf("record applied: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return false, nil
	}
	if effect != nil {
		if err := effect(ctx, tx); err != nil {
			return false, err
		}
	}
	return true, nil
}

// checkID refuses an event id that is not a UUID in its canonical form:
// applied_events keys events by UUID, and the operator names a parked
// event by its id.
func checkID(id string) error {
	if u, err := uuid.Parse(id); err != nil || u.String() != id {
		return fault.New(fault.InvalidArgument, "EVENT_ID_INVALID", fmt.Sprintf("the event's id %q is not a UUID", id))
	}
	return nil
}

// Permanent reports whether a handler's error says that the event cannot be
// applied as things stand, so that trying it again at once is pointless: a
// fault.Error of kind InvalidArgument (a malformed event, or one naming what
// nobody knows), FailedPrecondition or NotFound. Such an event is parked at
// once, and applied when its cause is fixed.
func Permanent(err error) bool {
	fe, ok := fault.As(err)
	if !ok {
		return false
	}
	switch fe.Kind {
	case fault.InvalidArgument, fault.FailedPrecondition, fault.NotFound:
		return true
	}
	return false
}

// transient reports whether err is a failure that a retry shortly cures.
func (c *Consumer) transient(ctx context.Context, err error) bool {
	switch {
	case ctx.Err() != nil, // stopping: whatever failed, it comes again
		fault.IsKind(err, fault.Unavailable),
		errors.Is(err, context.DeadlineExceeded):
		return true
	}
	return c.Transient != nil && c.Transient(err)
}

// transientDelay is the wait before an event that failed transiently on
// its attempts-th delivery is tried again: from a quarter to half a second
// at first, doubling, at most max; each a random point in the upper half of
// its range, so that the events an outage held back do not all come at
// once.
func transientDelay(attempts uint64, max time.Duration) time.Duration {
	d := min(250*time.Millisecond<<min(attempts, 10), max)
	return d/2 + rand.N(d/2+1)
}

// backoff grows from 1s to a minute with the number of failures.
func backoff(failures uint64) time.Duration {
	d := time.Second << min(failures, 6)
	return min(d, time.Minute)
}

// countFailure counts a failure of the event toward MaxAttempts and returns
// how many it has had.
func (c *Consumer) countFailure(ctx context.Context, eventID string) (int, error) {
	var n int
	err := c.Pool.QueryRow(ctx, `INSERT INTO event_failures (consumer, event_id, failures) VALUES ($1, $2, 1)
	    ON CONFLICT (consumer, event_id) DO UPDATE SET failures = event_failures.failures + 1, updated_at = now()
	    RETURNING failures`, c.Name, eventID).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count failure: %w", err)
	}
	return n, nil
}
