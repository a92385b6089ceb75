package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/ipnmediation/disputes/platform/postgres"
	"github.com/ipnmediation/disputes/platform/testenv"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// TestEachID walks more ids than one batch holds, each in its own
// transaction, counts what fn changed, and stops at the first error.
func TestEachID(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	pool, err := pgxpool.New(ctx, testenv.Database(t))
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	if _, err := pool.Exec(ctx, `CREATE TABLE items (id text PRIMARY KEY, done boolean NOT NULL DEFAULT false)`); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `INSERT INTO items (id) SELECT lpad(i::text, 4, '0') FROM generate_series(1, 250) i`); err != nil {
		t.Fatal(err)
	}
	const pending = `SELECT id FROM items WHERE NOT done ORDER BY id LIMIT $1`
	mark := func(ctx context.Context, tx pgx.Tx, id string) (bool, error) {
		_, err := tx.Exec(ctx, `UPDATE items SET done = true WHERE id = $1`, id)
		// Every third id counts as already dealt with.
		return id[3]%3 != 0, err
	}
	changed, err := postgres.EachID(ctx, pool, pending, nil, mark)
	if err != nil {
		t.Fatal(err)
	}
	var left, third int
	if err := pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE NOT done), count(*) FILTER (WHERE right(id, 1)::int % 3 = 0) FROM items`).Scan(&left, &third); err != nil {
		t.Fatal(err)
	}
	if left != 0 || changed != 250-third {
		t.Errorf("changed %d with %d left; want %d with none left", changed, left, 250-third)
	}

	if _, err := pool.Exec(ctx, `UPDATE items SET done = false`); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	calls := 0
	_, err = postgres.EachID(ctx, pool, pending, nil, func(ctx context.Context, tx pgx.Tx, id string) (bool, error) {
		calls++
		if calls == 5 {
			return false, fmt.Errorf("item %s: %w", id, boom)
		}
		return mark(ctx, tx, id)
	})
	if !errors.Is(err, boom) || calls != 5 {
		t.Errorf("error %v after %d calls; want boom after 5", err, calls)
	}
}
