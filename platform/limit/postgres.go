package limit

import (
	"context"
	"fmt"
	"time"

	"github.com/ipnmediation/disputes/platform/postgres"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Table is the table a service's schema needs for Postgres to count in.
// Each service that limits requests creates it in a migration of its own.
//
//	CREATE TABLE rate_limit_events (
//	    bucket     text        NOT NULL,
//	    key        text        NOT NULL,
//	    event_time timestamptz NOT NULL
//	);
//	CREATE INDEX rate_limit_events_key ON rate_limit_events (bucket, key, event_time);
//	CREATE INDEX rate_limit_events_time ON rate_limit_events (bucket, event_time);
const Table = "rate_limit_events"

// Postgres is a Store in the table rate_limit_events of the pool's schema,
// shared by every replica of the service.
type Postgres struct {
	Pool *pgxpool.Pool
}

var _ Store = Postgres{}

// Take implements Store. A transaction-scoped advisory lock on the bucket
// and key serialises the count and the insert, so that concurrent requests
// for one key, on any replica, cannot all slip under the limit together;
// different keys never wait for each other.
func (p Postgres) Take(ctx context.Context, bucket, key string, max int, window time.Duration, now time.Time) (bool, time.Time, error) {
	var allowed bool
	var retry time.Time
	err := postgres.InTx(ctx, p.Pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended($1 || '/' || $2, 0))`, bucket, key); err != nil {
			return fmt.Errorf("lock rate limit key: %w", err)
		}
		// Old rows of the whole bucket go as new ones arrive; the index on
		// (bucket, event_time) keeps that cheap.
		if _, err := tx.Exec(ctx, `DELETE FROM rate_limit_events WHERE bucket = $1 AND event_time <= $2`, bucket, now.Add(-window)); err != nil {
			return fmt.Errorf("delete old rate limit events: %w", err)
		}
		rows, err := tx.Query(ctx, `
			SELECT event_time FROM rate_limit_events
			WHERE bucket = $1 AND key = $2 AND event_time > $3 ORDER BY event_time`, bucket, key, now.Add(-window))
		if err != nil {
			return fmt.Errorf("select rate limit events: %w", err)
		}
		times, err := pgx.CollectRows(rows, pgx.RowTo[time.Time])
		if err != nil {
			return fmt.Errorf("read rate limit events: %w", err)
		}
		if n := len(times); n >= max {
			// The request that would be allowed next is the one made after
			// enough of the counted ones have aged out.
			retry = times[n-max].UTC().Add(window)
			return nil
		}
		if _, err := tx.Exec(ctx, `INSERT INTO rate_limit_events (bucket, key, event_time) VALUES ($1, $2, $3)`, bucket, key, now); err != nil {
			return fmt.Errorf("insert rate limit event: %w", err)
		}
		allowed = true
		return nil
	})
	if err != nil {
		return false, time.Time{}, err
	}
	return allowed, retry, nil
}
