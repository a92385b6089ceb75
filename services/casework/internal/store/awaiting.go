package store

import (
	"context"
	"fmt"

	"github.com/ipnmediation/disputes/platform/postgres"
	"github.com/ipnmediation/disputes/services/casework/internal/casefile"
	"github.com/jackc/pgx/v5"
)

// DefaultAwaitingBatch is how many cases FillAwaiting works out in one
// transaction.
const DefaultAwaitingBatch = 100

// FillAwaiting works out, with awaiting, whom each open case waits for
// where the stored answer is not that of the case's current version
// (awaiting_version <> version), and stores it, batch cases a transaction.
// Open and Update keep it in step with every change; what is left is the
// open cases from before migration 009, and any case a casework that did
// not know the columns changed since (during a rolling upgrade). Casework
// runs it at start, before serving, and on every pass of the timer loop.
// Cases locked by a change in progress are skipped: that change stores its
// own answer. It returns how many cases it filled in.
func (s *Store) FillAwaiting(ctx context.Context, awaiting func(casefile.Case) casefile.Awaiting, batch int) (int, error) {
	filled := 0
	for {
		n := 0
		err := postgres.InTx(ctx, s.Pool, func(tx pgx.Tx) error {
			rows, err := tx.Query(ctx, `SELECT `+caseColumns+` FROM cases
				WHERE close_time IS NULL AND awaiting_version <> version
				ORDER BY id LIMIT $1 FOR NO KEY UPDATE SKIP LOCKED`, batch)
			if err != nil {
				return fmt.Errorf("select cases to fill in: %w", err)
			}
			cases, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (casefile.Case, error) { return scanCase(r) })
			if err != nil {
				return fmt.Errorf("select cases to fill in: %w", err)
			}
			for _, c := range cases {
				a := awaiting(c)
				if _, err := tx.Exec(ctx, `UPDATE cases SET awaiting_members = $2, awaiting_any_member = $3,
					awaiting_excluded = $4, awaiting_version = version WHERE id = $1`,
					c.ID, members(a.Members), a.AnyMember, members(a.Excluded)); err != nil {
					return fmt.Errorf("fill in whom case %s waits for: %w", c.ID, err)
				}
			}
			n = len(cases)
			return nil
		})
		if err != nil {
			return filled, err
		}
		filled += n
		if n < batch {
			return filled, nil
		}
	}
}

// members is a list of members as the array columns keep it: never NULL.
func members(names []string) []string {
	if names == nil {
		return []string{}
	}
	return names
}
