package postgres

import (
	"context"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Listen sends a value on wake (without blocking) for every notification on
// the PostgreSQL channel, until ctx is done. It holds one connection of the
// pool and gets a new one after a lost connection, waiting retry in between.
// Callers also poll, so a notification lost during a reconnect only delays
// them.
func Listen(ctx context.Context, pool *pgxpool.Pool, channel string, wake chan<- struct{}, retry time.Duration, log *slog.Logger) {
	quoted := pgx.Identifier{channel}.Sanitize()
	for ctx.Err() == nil {
		err := func() error {
			conn, err := pool.Acquire(ctx)
			if err != nil {
				return err
			}
			defer conn.Release()
			if _, err := conn.Exec(ctx, "LISTEN "+quoted); err != nil {
				return err
			}
			defer conn.Exec(context.Background(), "UNLISTEN "+quoted) //nolint:errcheck // best effort on a connection going back to the pool
			for {
				if _, err := conn.Conn().WaitForNotification(ctx); err != nil {
					return err
				}
				select {
				case wake <- struct{}{}:
				default:
				}
			}
		}()
		if ctx.Err() != nil {
			return
		}
		log.Debug("listener restarting", slog.String("channel", channel), slog.Any("error", err))
		select {
		case <-ctx.Done():
		case <-time.After(retry):
		}
	}
}
