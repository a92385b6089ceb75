package store

import (
	"context"
	"time"

	"github.com/ipnmediation/disputes/platform/limit"
)

var _ limit.Store = (*Store)(nil)

// Take implements limit.Store in intake's rate_limit_events table (see
// limit.Postgres).
func (s *Store) Take(ctx context.Context, bucket, key string, max int, window time.Duration, now time.Time) (bool, time.Time, error) {
	return limit.Postgres{Pool: s.Pool}.Take(ctx, bucket, key, max, window, now)
}
