package store

import (
	"context"
	"fmt"
	"time"

	"github.com/ipnmediation/disputes/platform/postgres"
	"github.com/ipnmediation/disputes/services/notification/internal/dispatch"
	"github.com/jackc/pgx/v5"
)

// TellDeaths implements dispatch.DeathStore. Each group is dealt with in a
// transaction of its own that locks the group's untold deaths (SKIP LOCKED:
// another replica telling the same group makes this one pass it by), so a
// failure in one group leaves the others told.
func (s *Store) TellDeaths(ctx context.Context, now time.Time, quiet time.Duration, plan func(ctx context.Context, group string) ([]dispatch.Delivery, error)) (int, error) {
	rows, err := s.Pool.Query(ctx, `SELECT DISTINCT group_name FROM deliveries WHERE NOT death_told ORDER BY group_name`)
	if err != nil {
		return 0, fmt.Errorf("groups with untold deaths: %w", err)
	}
	groups, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return 0, fmt.Errorf("groups with untold deaths: %w", err)
	}
	told := 0
	for _, group := range groups {
		err := postgres.InTx(ctx, s.Pool, func(tx pgx.Tx) error {
			rows, err := tx.Query(ctx, `SELECT id::text FROM deliveries WHERE group_name = $1 AND NOT death_told FOR UPDATE SKIP LOCKED`, group)
			if err != nil {
				return err
			}
			ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
			if err != nil || len(ids) == 0 {
				return err
			}
			var recent bool
			if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM deliveries WHERE group_name = $1 AND event_type = $2 AND create_time > $3)`,
				group, dispatch.EventTypeDeliveriesDead, now.Add(-quiet)).Scan(&recent); err != nil || recent {
				return err
			}
			ds, err := plan(ctx, group)
			if err != nil {
				return err
			}
			if _, err := AddDeliveries(ctx, tx, ds); err != nil {
				return err
			}
			// Told even when the group has no admin to tell: planning again
			// every pass would find nobody either.
			if _, err := tx.Exec(ctx, `UPDATE deliveries SET death_told = true WHERE id = ANY($1::uuid[])`, ids); err != nil {
				return err
			}
			told++
			return nil
		})
		if err != nil {
			return told, fmt.Errorf("tell %s of its dead deliveries: %w", group, err)
		}
	}
	return told, nil
}
