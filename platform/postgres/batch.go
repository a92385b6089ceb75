package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// batchSize is how many ids EachID reads at a time.
const batchSize = 100

// EachID runs fn on each id that query selects, each in a transaction of
// its own, reading the ids in batches until a batch comes back short, and
// returns how many times fn reported it changed something. query must end
// with a LIMIT on the parameter after args, and must stop selecting an id
// once fn has dealt with it (so that the next batch moves on): the shape of
// one-off jobs, such as re-encryption, that walk a table beside the serving
// replicas without holding one long transaction.
func EachID(ctx context.Context, pool *pgxpool.Pool, query string, args []any, fn func(ctx context.Context, tx pgx.Tx, id string) (bool, error)) (int, error) {
	args = append(args[:len(args):len(args)], batchSize)
	changed := 0
	for {
		rows, err := pool.Query(ctx, query, args...)
		if err != nil {
			return changed, fmt.Errorf("select ids: %w", err)
		}
		ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return changed, fmt.Errorf("select ids: %w", err)
		}
		for _, id := range ids {
			var done bool
			err := InTx(ctx, pool, func(tx pgx.Tx) (err error) {
				done, err = fn(ctx, tx, id)
				return err
			})
			if err != nil {
				return changed, err
			}
			if done {
				changed++
			}
		}
		if len(ids) < batchSize {
			return changed, nil
		}
	}
}
