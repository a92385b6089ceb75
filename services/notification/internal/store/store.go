// Package store keeps deliveries in PostgreSQL: it adds an event's
// deliveries in the consumer's transaction, hands due deliveries to the
// sender one at a time (a claim that counts the attempt, then the outcome),
// and reads the delivery log.
package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/ipnmediation/disputes/platform/grpcserver"
	"github.com/ipnmediation/disputes/platform/postgres"
	"github.com/ipnmediation/disputes/platform/tracing"
	"github.com/ipnmediation/disputes/services/notification/internal/dispatch"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Store implements dispatch.Queue and dispatch.LogStore on a pool whose
// search_path is the service's schema.
type Store struct {
	Pool *pgxpool.Pool
	// Schema is the service's schema; it names the wake-up channel.
	Schema string
}

var (
	_ dispatch.Queue    = (*Store)(nil)
	_ dispatch.LogStore = (*Store)(nil)
)

const columns = `id::text, group_name, event_id::text, event_type, template, recipient, recipient_kind, facts, state,
	attempts, failures, attempt_time, next_attempt_at, last_error, create_time, send_time, channel,
	coalesce(traceparent, ''), coalesce(tracestate, '')`

func scan(row pgx.Row) (dispatch.Delivery, error) {
	var d dispatch.Delivery
	var state, kind, channel string
	var send, attempt *time.Time
	err := row.Scan(&d.ID, &d.Group, &d.EventID, &d.EventType, &d.Template, &d.Recipient, &kind, &d.Facts, &state,
		&d.Attempts, &d.Failures, &attempt, &d.NextAttemptAt, &d.LastError, &d.CreateTime, &send, &channel,
		&d.TraceParent, &d.TraceState)
	if err != nil {
		return dispatch.Delivery{}, err
	}
	st, ok := dispatch.ParseState(state)
	if !ok {
		return dispatch.Delivery{}, fmt.Errorf("delivery %s has unknown state %q", d.ID, state)
	}
	d.State = st
	if d.RecipientKind, ok = dispatch.ParseRecipientKind(kind); !ok {
		return dispatch.Delivery{}, fmt.Errorf("delivery %s has unknown recipient kind %q", d.ID, kind)
	}
	if send != nil {
		d.SendTime = *send
	}
	if attempt != nil {
		d.AttemptTime = *attempt
	}
	d.Channel = dispatch.Channel(channel)
	return d, nil
}

// AddDeliveries inserts deliveries inside tx, the transaction that records
// their event as applied. A delivery for an (event, recipient) pair that
// already has one is skipped, so a redelivered event never makes a second
// message. It returns how many were inserted.
//
// One statement inserts them all, from arrays: an event's deliveries (one
// per member) arrive together, and a statement per row cost PostgreSQL an
// executor start, a trigger and a round trip each.
//
// Each keeps ctx's trace context, for the sender to continue the trace.
func AddDeliveries(ctx context.Context, tx pgx.Tx, ds []dispatch.Delivery) (int, error) {
	if len(ds) == 0 {
		return 0, nil
	}
	n := len(ds)
	var (
		ids, groups, eventIDs, eventTypes, templates = make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		recipients, kinds, facts, states, lastErrors = make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		attempts, failures                           = make([]int32, n), make([]int32, n)
		nextAttempts, createTimes                    = make([]time.Time, n), make([]time.Time, n)
	)
	for i, d := range ds {
		f, err := json.Marshal(d.Facts)
		if err != nil {
			return 0, fmt.Errorf("encode the facts of delivery %s: %w", d.ID, err)
		}
		ids[i], groups[i], eventIDs[i], eventTypes[i], templates[i] = d.ID, d.Group, d.EventID, d.EventType, d.Template
		recipients[i], kinds[i], facts[i], states[i], lastErrors[i] = d.Recipient, d.RecipientKind.String(), string(f), d.State.String(), d.LastError
		attempts[i], failures[i] = int32(d.Attempts), int32(d.Failures)
		nextAttempts[i], createTimes[i] = d.NextAttemptAt, d.CreateTime
	}
	parent, state := tracing.Serialize(ctx)
	tag, err := tx.Exec(ctx, `INSERT INTO deliveries (id, group_name, event_id, event_type, template, recipient, recipient_kind,
		facts, state, attempts, failures, next_attempt_at, last_error, create_time, traceparent, tracestate)
		SELECT id, group_name, event_id, event_type, template, recipient, recipient_kind,
			facts::jsonb, state, attempts, failures, next_attempt_at, last_error, create_time, NULLIF($15::text, ''), NULLIF($16::text, '')
		FROM unnest($1::uuid[], $2::text[], $3::uuid[], $4::text[], $5::text[], $6::text[], $7::text[],
			$8::text[], $9::text[], $10::int[], $11::int[], $12::timestamptz[], $13::text[], $14::timestamptz[])
			AS d (id, group_name, event_id, event_type, template, recipient, recipient_kind,
				facts, state, attempts, failures, next_attempt_at, last_error, create_time)
		ON CONFLICT (event_id, recipient) DO NOTHING`,
		ids, groups, eventIDs, eventTypes, templates, recipients, kinds, facts, states, attempts, failures, nextAttempts, lastErrors, createTimes,
		parent, state)
	if err != nil {
		return 0, fmt.Errorf("insert deliveries: %w", err)
	}
	return int(tag.RowsAffected()), nil
}

// Add inserts deliveries planned outside an event's transaction (the
// announcement of a notice a peer delivered), skipping those whose (event,
// recipient) pair already has one, so that planning again is harmless. It
// returns how many were inserted.
func (s *Store) Add(ctx context.Context, ds []dispatch.Delivery) (int, error) {
	var n int
	err := postgres.InTx(ctx, s.Pool, func(tx pgx.Tx) error {
		var err error
		n, err = AddDeliveries(ctx, tx, ds)
		return err
	})
	return n, err
}

// Claim implements dispatch.Queue in a transaction of its own that ends
// before the attempt begins. FOR UPDATE SKIP LOCKED makes two senders
// claiming at once take different rows; the claim's lease (the due time it
// writes) keeps others away once it has committed.
func (s *Store) Claim(ctx context.Context, now time.Time, claim func(dispatch.Delivery) dispatch.Delivery) (dispatch.Delivery, bool, error) {
	var claimed dispatch.Delivery
	found := false
	err := postgres.InTx(ctx, s.Pool, func(tx pgx.Tx) error {
		d, err := scan(tx.QueryRow(ctx, `SELECT `+columns+` FROM deliveries
			WHERE state = 'pending' AND next_attempt_at <= $1
			ORDER BY next_attempt_at, id LIMIT 1 FOR UPDATE SKIP LOCKED`, now))
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read: %w", err)
		}
		next := claim(d)
		if _, err := tx.Exec(ctx, `UPDATE deliveries SET attempts = $2, attempt_time = $3, next_attempt_at = $4 WHERE id = $1`,
			d.ID, next.Attempts, next.AttemptTime, next.NextAttemptAt); err != nil {
			return fmt.Errorf("count the attempt on %s: %w", d.ID, err)
		}
		claimed, found = next, true
		return nil
	})
	if err != nil {
		return dispatch.Delivery{}, false, fmt.Errorf("claim a due delivery: %w", err)
	}
	return claimed, found, nil
}

// Record implements dispatch.Queue. The guard on attempts makes an outcome
// that comes after its lease ran out and another sender claimed the
// delivery again change nothing.
func (s *Store) Record(ctx context.Context, d dispatch.Delivery) (bool, error) {
	var send *time.Time
	if !d.SendTime.IsZero() {
		send = &d.SendTime
	}
	// A death is for the dead-letter job to tell the admins of, unless it
	// is that job's own message dying (see TellDeaths).
	tag, err := s.Pool.Exec(ctx, `UPDATE deliveries SET state = $3, failures = $4, next_attempt_at = $5,
		last_error = $6, send_time = $7, channel = $8, death_told = NOT ($3 = 'dead' AND event_type <> $9)
		WHERE id = $1 AND attempts = $2 AND state = 'pending'`,
		d.ID, d.Attempts, d.State.String(), d.Failures, d.NextAttemptAt, d.LastError, send, string(d.Channel),
		dispatch.EventTypeDeliveriesDead)
	if err != nil {
		return false, fmt.Errorf("record attempt %d on %s: %w", d.Attempts, d.ID, err)
	}
	return tag.RowsAffected() == 1, nil
}

// ListDeliveries implements dispatch.LogStore. An empty filter field
// matches every row, so one statement serves every combination.
func (s *Store) ListDeliveries(ctx context.Context, group string, filter dispatch.Filter, after *dispatch.Cursor, limit int) ([]dispatch.Delivery, error) {
	state := ""
	if filter.State != 0 {
		state = filter.State.String()
	}
	var afterTime *time.Time
	var afterID *string
	if after != nil {
		afterTime, afterID = &after.CreateTime, &after.ID
	}
	rows, err := s.Pool.Query(ctx, `SELECT `+columns+` FROM deliveries WHERE group_name = $1
		AND ($2 = '' OR facts ->> 'case' = $2)
		AND ($3 = '' OR recipient = $3)
		AND ($4 = '' OR state = $4)
		AND ($5::timestamptz IS NULL OR (create_time, id) < ($5, $6::uuid))
		ORDER BY create_time DESC, id DESC LIMIT $7`,
		group, filter.Case, filter.Recipient, state, afterTime, afterID, limit)
	if err != nil {
		return nil, fmt.Errorf("list deliveries: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (dispatch.Delivery, error) { return scan(r) })
	if err != nil {
		return nil, fmt.Errorf("list deliveries: %w", err)
	}
	return out, nil
}

// GetDelivery implements dispatch.LogStore.
func (s *Store) GetDelivery(ctx context.Context, group, id string) (dispatch.Delivery, error) {
	d, err := scan(s.Pool.QueryRow(ctx, `SELECT `+columns+` FROM deliveries WHERE id = $1 AND group_name = $2`, id, group))
	if errors.Is(err, pgx.ErrNoRows) {
		return dispatch.Delivery{}, dispatch.ErrNotFound
	}
	if err != nil {
		return dispatch.Delivery{}, fmt.Errorf("read delivery %s: %w", id, err)
	}
	return d, nil
}

// Retry implements dispatch.LogStore. It wakes the sender on commit, as an
// insert does.
func (s *Store) Retry(ctx context.Context, group, id string, revive func(dispatch.Delivery) dispatch.Delivery) (dispatch.Delivery, error) {
	tx, err := s.Pool.Begin(ctx)
	if err != nil {
		return dispatch.Delivery{}, fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback(context.Background()) //nolint:errcheck // no-op after commit
	d, err := scan(tx.QueryRow(ctx, `SELECT `+columns+` FROM deliveries WHERE id = $1 AND group_name = $2 FOR UPDATE`, id, group))
	if errors.Is(err, pgx.ErrNoRows) {
		return dispatch.Delivery{}, dispatch.ErrNotFound
	}
	if err != nil {
		return dispatch.Delivery{}, fmt.Errorf("read delivery %s: %w", id, err)
	}
	if d.State != dispatch.Dead {
		return d, dispatch.ErrNotDead
	}
	next := revive(d)
	// A retried delivery is no longer a death anyone needs telling of.
	if _, err := tx.Exec(ctx, `UPDATE deliveries SET state = $2, failures = $3, next_attempt_at = $4, death_told = true WHERE id = $1`,
		id, next.State.String(), next.Failures, next.NextAttemptAt); err != nil {
		return dispatch.Delivery{}, fmt.Errorf("revive delivery %s: %w", id, err)
	}
	if _, err := tx.Exec(ctx, `SELECT pg_notify($1, '')`, s.Channel()); err != nil {
		return dispatch.Delivery{}, fmt.Errorf("wake the sender: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return dispatch.Delivery{}, fmt.Errorf("commit retry of %s: %w", id, err)
	}
	return next, nil
}

// RetryDead implements dispatch.LogStore in one UPDATE and one transaction,
// so that a retry of hundreds is all or nothing. It wakes the sender on
// commit when it changed anything. A row the sender or a single Retry holds
// is waited for, and its state read again, so a delivery is never counted
// twice.
func (s *Store) RetryDead(ctx context.Context, group, caseName string, revived dispatch.Delivery) (int, error) {
	var n int
	err := postgres.InTx(ctx, s.Pool, func(tx pgx.Tx) error {
		// As in Retry: a retried delivery is no longer a death anyone needs
		// telling of.
		tag, err := tx.Exec(ctx, `UPDATE deliveries SET state = $3, failures = $4, next_attempt_at = $5, death_told = true
			WHERE group_name = $1 AND state = 'dead' AND ($2 = '' OR facts ->> 'case' = $2)`,
			group, caseName, revived.State.String(), revived.Failures, revived.NextAttemptAt)
		if err != nil {
			return fmt.Errorf("revive dead deliveries of %s: %w", group, err)
		}
		if n = int(tag.RowsAffected()); n == 0 {
			return nil
		}
		if _, err := tx.Exec(ctx, `SELECT pg_notify($1, '')`, s.Channel()); err != nil {
			return fmt.Errorf("wake the sender: %w", err)
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}

// unreachable marks err as dispatch.Unreachable when it says PostgreSQL
// could not be reached (down, restarting, the connection lost), so that an
// attempt that needed it waits rather than counts.
func unreachable(err error) error {
	if grpcserver.DependencyUnavailable(err) {
		return dispatch.Unreachable(err)
	}
	return err
}

// Channel is the PostgreSQL channel notified whenever deliveries are
// committed (see the deliveries_notify trigger).
func (s *Store) Channel() string { return s.Schema + "_deliveries" }

// CountByState counts the deliveries by state and channel, for the metrics:
// a few thousand rows a year for a small group, counted at each scrape.
func (s *Store) CountByState(ctx context.Context) (map[[2]string]int64, error) {
	rows, err := s.Pool.Query(ctx, `SELECT state, channel, count(*) FROM deliveries GROUP BY state, channel`)
	if err != nil {
		return nil, fmt.Errorf("count deliveries: %w", err)
	}
	counts := map[[2]string]int64{}
	for rows.Next() {
		var state, channel string
		var n int64
		if err := rows.Scan(&state, &channel, &n); err != nil {
			return nil, fmt.Errorf("count deliveries: %w", err)
		}
		counts[[2]string{state, channel}] = n
	}
	return counts, rows.Err()
}
