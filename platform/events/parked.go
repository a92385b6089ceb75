package events

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ipnmediation/disputes/platform/fault"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// ReasonParkedEventNotFound is the reason of the NotFound error RetryParked
// gives for an event that is neither parked nor applied.
const ReasonParkedEventNotFound = "PARKED_EVENT_NOT_FOUND"

// Parked is an event a consumer parked, as the operator sees it: without its
// payload.
type Parked struct {
	// Consumer is the durable consumer that parked it.
	Consumer string
	EventID  string
	Subject  string
	Type     string
	// Attempts is how many times the consumer was handed it before it
	// parked it.
	Attempts int
	// Reason is why the last attempt failed, as logged.
	Reason   string
	ParkedAt time.Time
	// Retries is how many times it was tried again since.
	Retries     int
	NextRetryAt time.Time
}

// Retried is what became of a retry of a parked event.
type Retried struct {
	// Applied is true when the event is applied, by this retry or before
	// it; it is then no longer parked.
	Applied bool
	// Parked is the event as it stays parked, with the reason the retry
	// failed, when it is not applied.
	Parked *Parked
}

// maxReasonBytes bounds the reason kept with a parked event.
const maxReasonBytes = 2000

// reasonOf is the error's text as logged, cut to maxReasonBytes of valid
// UTF-8.
func reasonOf(err error) string {
	s := strings.ToValidUTF8(err.Error(), "\uFFFD")
	if len(s) <= maxReasonBytes {
		return s
	}
	cut := maxReasonBytes
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// millis is d as a whole number of milliseconds, for SQL's interval
// arithmetic on the database's clock.
func millis(d time.Duration) int64 { return d.Milliseconds() }

// park keeps the event in parked_events, due for its first retry after
// ParkedRetryFirst, and forgets its counted failures, in one statement.
func (c *Consumer) park(ctx context.Context, msg Message, cause error) error {
	payload := msg.Payload
	if payload == nil {
		payload = []byte{}
	}
	_, err := c.Pool.Exec(ctx, `WITH forgotten AS (DELETE FROM event_failures WHERE consumer = $1 AND event_id = $2)
	    INSERT INTO parked_events (consumer, event_id, subject, event_type, payload, attempts, reason, next_retry_at)
	    VALUES ($1, $2, $3, $4, $5, $6, $7, now() + $8::bigint * interval '1 millisecond')
	    ON CONFLICT (consumer, event_id) DO UPDATE SET attempts = EXCLUDED.attempts, reason = EXCLUDED.reason`,
		c.Name, msg.ID, msg.Subject, msg.Type, payload, int64(min(msg.Attempts, 1<<31-1)), reasonOf(cause), millis(c.ParkedRetryFirst))
	if err != nil {
		return fmt.Errorf("park event %s: %w", msg.ID, err)
	}
	return nil
}

// parkedColumns are the columns scanParked reads, payload last.
const parkedColumns = `consumer, event_id, subject, event_type, attempts, reason, parked_at, retries, next_retry_at`

func scanParked(row pgx.Row, payload *[]byte) (Parked, error) {
	var p Parked
	dest := []any{&p.Consumer, &p.EventID, &p.Subject, &p.Type, &p.Attempts, &p.Reason, &p.ParkedAt, &p.Retries, &p.NextRetryAt}
	if payload != nil {
		dest = append(dest, payload)
	}
	err := row.Scan(dest...)
	return p, err
}

// retryDue tries the consumer's parked events again as they fall due, every
// ParkedPoll, until ctx is done.
func (c *Consumer) retryDue(ctx context.Context) {
	ticker := time.NewTicker(c.ParkedPoll)
	defer ticker.Stop()
	for {
		for ctx.Err() == nil {
			p, payload, ok, err := c.claim(ctx, `(consumer, event_id) = (SELECT consumer, event_id FROM parked_events
			    WHERE consumer = $1 AND next_retry_at <= now() ORDER BY next_retry_at LIMIT 1 FOR UPDATE SKIP LOCKED)`)
			if err != nil {
				if ctx.Err() == nil {
					c.Logger.Warn("looking for parked events due for a retry failed", slog.String("consumer", c.Name), slog.Any("error", err))
				}
				break
			}
			if !ok {
				break
			}
			_, _ = c.retry(ctx, p, payload)
		}
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
	}
}

// claim takes one parked event, chosen by where (on $1, the consumer's
// name, and $3 when given) for a retry: its next retry is put off by a
// lease, so that no other replica's loop tries it meanwhile, and a replica
// that dies during the retry leaves it to be tried again when the lease
// runs out.
func (c *Consumer) claim(ctx context.Context, where string, args ...any) (Parked, []byte, bool, error) {
	var payload []byte
	row := c.Pool.QueryRow(ctx, `UPDATE parked_events SET next_retry_at = now() + $2::bigint * interval '1 millisecond'
	    WHERE `+where+` RETURNING `+parkedColumns+`, payload`,
		append([]any{c.Name, millis(c.lease())}, args...)...)
	p, err := scanParked(row, &payload)
	if errors.Is(err, pgx.ErrNoRows) {
		return Parked{}, nil, false, nil
	}
	if err != nil {
		return Parked{}, nil, false, fmt.Errorf("claim a parked event: %w", err)
	}
	return p, payload, true, nil
}

// lease is how long a claimed parked event is left to its retry: the retry
// is bounded by AckWait, and the rest is a margin for the clocks.
func (c *Consumer) lease() time.Duration { return c.AckWait + 10*time.Second }

// retry applies a claimed parked event through the idempotent path; if that
// fails, the event stays parked with the new reason, one more retry and its
// next retry time. err is set only when even that could not be recorded
// (the event is then tried again when its lease runs out).
func (c *Consumer) retry(ctx context.Context, p Parked, payload []byte) (Retried, error) {
	log := c.Logger.With(slog.String("consumer", c.Name), slog.String("event_id", p.EventID), slog.String("event_type", p.Type))
	msg := Message{ID: p.EventID, Subject: p.Subject, Type: p.Type, Payload: payload, Attempts: uint64(max(p.Attempts, 0))}
	rctx, cancel := context.WithTimeout(ctx, c.AckWait)
	cause := c.applyParked(rctx, msg)
	cancel()
	if cause == nil {
		log.Info("parked event applied", slog.Int("retries", p.Retries))
		return Retried{Applied: true}, nil
	}
	// Recorded even when ctx is done (the service stopping), within bounds.
	uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	row := c.Pool.QueryRow(uctx, `UPDATE parked_events SET retries = retries + 1, reason = $3,
	    next_retry_at = now() + least($4::bigint * power(2, least(retries + 1, 30)), $5::bigint) * interval '1 millisecond'
	    WHERE consumer = $1 AND event_id = $2 RETURNING `+parkedColumns,
		c.Name, p.EventID, reasonOf(cause), millis(c.ParkedRetryFirst), millis(c.ParkedRetryMax))
	after, err := scanParked(row, nil)
	if errors.Is(err, pgx.ErrNoRows) {
		// Applied meanwhile by another retry, which removed the row.
		return Retried{Applied: true}, nil
	}
	if err != nil {
		log.Warn("a retry of a parked event failed, and recording that failed too", slog.Any("error", cause), slog.Any("record_error", err))
		return Retried{}, fmt.Errorf("record the failed retry of %s: %w (the retry failed with: %w)", p.EventID, err, cause)
	}
	log.Warn("parked event failed again; it stays parked", slog.String("reason", after.Reason), slog.Int("retries", after.Retries), slog.Time("next_retry_at", after.NextRetryAt))
	return Retried{Parked: &after}, nil
}

// retryNow claims the consumer's parked event eventID, due or not, and
// tries it; ok is false when the consumer has not parked it.
func (c *Consumer) retryNow(ctx context.Context, eventID string) (Retried, bool, error) {
	c.setDefaults()
	p, payload, ok, err := c.claim(ctx, `consumer = $1 AND event_id = $3`, eventID)
	if err != nil || !ok {
		return Retried{}, ok, err
	}
	r, err := c.retry(ctx, p, payload)
	return r, true, err
}

// RetryParked applies the parked event eventID now, for whichever of
// consumers (the service's, sharing one database) parked it, and says
// whether it is applied or stays parked. An event that is not parked but
// has been applied answers Applied; one neither parked nor applied is a
// fault.NotFound error with reason ReasonParkedEventNotFound.
//
// A service's consumers take different subjects, so an event is parked by
// one of them at most; should several hold it, it is tried for each, and
// the answer is Applied only when every one applied it.
func RetryParked(ctx context.Context, consumers []*Consumer, eventID string) (Retried, error) {
	notFound := fault.NotFoundf(ReasonParkedEventNotFound, "no parked event has the id %q", eventID)
	if len(consumers) == 0 {
		return Retried{}, notFound
	}
	pool := consumers[0].Pool
	rows, err := pool.Query(ctx, `SELECT consumer FROM parked_events WHERE event_id = $1 ORDER BY consumer`, eventID)
	if err != nil {
		return Retried{}, fmt.Errorf("find parked event %s: %w", eventID, err)
	}
	holders, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return Retried{}, fmt.Errorf("find parked event %s: %w", eventID, err)
	}
	if len(holders) == 0 {
		applied, err := anyApplied(ctx, pool, consumers, eventID)
		switch {
		case err != nil:
			return Retried{}, err
		case !applied:
			return Retried{}, notFound
		}
		return Retried{Applied: true}, nil
	}
	out := Retried{Applied: true}
	for _, name := range holders {
		c := byName(consumers, name)
		if c == nil {
			return Retried{}, fault.New(fault.FailedPrecondition, "CONSUMER_NOT_RUNNING",
				fmt.Sprintf("the event was parked by consumer %q, which this service no longer runs", name))
		}
		r, ok, err := c.retryNow(ctx, eventID)
		if err != nil {
			return Retried{}, err
		}
		if ok && !r.Applied {
			out.Applied = false
			if out.Parked == nil {
				out.Parked = r.Parked
			}
		}
	}
	return out, nil
}

func byName(consumers []*Consumer, name string) *Consumer {
	for _, c := range consumers {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// anyApplied reports whether any of consumers has applied eventID.
func anyApplied(ctx context.Context, pool *pgxpool.Pool, consumers []*Consumer, eventID string) (bool, error) {
	if checkID(eventID) != nil {
		return false, nil
	}
	names := make([]string, len(consumers))
	for i, c := range consumers {
		names[i] = c.Name
	}
	var applied bool
	err := pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM applied_events WHERE consumer = ANY($1) AND event_id = $2)`, names, eventID).Scan(&applied)
	if err != nil {
		return false, fmt.Errorf("check applied: %w", err)
	}
	return applied, nil
}

// ParkedCursor is where a page of ListParked starts: after this event.
type ParkedCursor struct {
	ParkedAt time.Time
	Consumer string
	EventID  string
}

// GetParked returns the event eventID as ListParked lists it, when a
// consumer of pool's schema has parked it; otherwise a fault.NotFound error
// with reason ReasonParkedEventNotFound. Should several consumers have
// parked it, it is the one ListParked lists first.
func GetParked(ctx context.Context, pool *pgxpool.Pool, eventID string) (Parked, error) {
	p, err := scanParked(pool.QueryRow(ctx, `SELECT `+parkedColumns+` FROM parked_events
	    WHERE event_id = $1 ORDER BY parked_at, consumer LIMIT 1`, eventID), nil)
	if errors.Is(err, pgx.ErrNoRows) {
		return Parked{}, fault.NotFoundf(ReasonParkedEventNotFound, "no parked event has the id %q", eventID)
	}
	if err != nil {
		return Parked{}, fmt.Errorf("get parked event %s: %w", eventID, err)
	}
	return p, nil
}

// ListParked returns up to limit of the events parked in pool's schema (by
// every consumer of the service), oldest first, starting after the cursor
// (from the first when nil), and the cursor of the next page (nil on the
// last).
func ListParked(ctx context.Context, pool *pgxpool.Pool, after *ParkedCursor, limit int) ([]Parked, *ParkedCursor, error) {
	var from ParkedCursor
	if after != nil {
		from = *after
	}
	rows, err := pool.Query(ctx, `SELECT `+parkedColumns+` FROM parked_events
	    WHERE $1::boolean OR (parked_at, consumer, event_id) > ($2, $3, $4)
	    ORDER BY parked_at, consumer, event_id LIMIT $5`,
		after == nil, from.ParkedAt, from.Consumer, from.EventID, limit+1)
	if err != nil {
		return nil, nil, fmt.Errorf("list parked events: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Parked, error) { return scanParked(row, nil) })
	if err != nil {
		return nil, nil, fmt.Errorf("list parked events: %w", err)
	}
	if len(out) <= limit {
		return out, nil, nil
	}
	out = out[:limit]
	last := out[limit-1]
	return out, &ParkedCursor{ParkedAt: last.ParkedAt, Consumer: last.Consumer, EventID: last.EventID}, nil
}
