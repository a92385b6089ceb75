package store

import (
	"context"
	"fmt"
	"time"

	"github.com/ipnmediation/disputes/platform/events"
	"github.com/ipnmediation/disputes/platform/outbox"
	"github.com/ipnmediation/disputes/platform/postgres"
	eventsv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/events/v1"
	"github.com/ipnmediation/disputes/services/casework/internal/casefile"
	"github.com/jackc/pgx/v5"
)

var _ casefile.PurgeStore = (*Store)(nil)

// ClosedBefore implements casefile.PurgeStore.
func (s *Store) ClosedBefore(ctx context.Context, t time.Time, after *casefile.ClosedCursor, limit int) ([]casefile.Case, error) {
	var rows pgx.Rows
	var err error
	if after == nil {
		rows, err = s.Pool.Query(ctx, `SELECT `+caseColumns+` FROM cases WHERE close_time < $1
			ORDER BY close_time, id LIMIT $2`, t, limit)
	} else {
		rows, err = s.Pool.Query(ctx, `SELECT `+caseColumns+` FROM cases WHERE close_time < $1
			AND (close_time, id) > ($2, $3::uuid) ORDER BY close_time, id LIMIT $4`, t, after.CloseTime, after.ID, limit)
	}
	if err != nil {
		return nil, fmt.Errorf("select closed cases: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (casefile.Case, error) { return scanCase(r) })
}

// purgedTables are the case's rows, children first. case_keys goes with
// them: without its data key, any copy of the ciphertext elsewhere (a
// backup) stays unreadable.
var purgedTables = []string{"access_log", "timeline_entries", "documents", "timer_firings", "case_keys"}

// Purge implements casefile.PurgeStore.
func (s *Store) Purge(ctx context.Context, c casefile.Case, st casefile.Statistics) error {
	return postgres.InTx(ctx, s.Pool, func(tx pgx.Tx) error {
		// The append-only triggers let this transaction, and only it,
		// delete the case's timeline and access log.
		if _, err := tx.Exec(ctx, `SET LOCAL casework.purging = 'on'`); err != nil {
			return fmt.Errorf("mark purge: %w", err)
		}
		var closed bool
		if err := tx.QueryRow(ctx, `SELECT close_time IS NOT NULL FROM cases WHERE id = $1 FOR UPDATE`, c.ID).Scan(&closed); err != nil {
			return fmt.Errorf("lock case: %w", err)
		}
		if !closed {
			return fmt.Errorf("case %s is not closed", c.Name())
		}
		if _, err := tx.Exec(ctx, `
			INSERT INTO case_statistics (group_id, procedure, outcome, register_month, days_open, first_response_in_time,
			                             closed_in_time, joint_meeting_held, escalated, purge_time)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
			st.Group, st.Procedure, string(st.Outcome), st.RegisterMonth, st.DaysOpen, st.FirstResponseInTime,
			st.ClosedInTime, st.JointMeetingHeld, st.Escalated, st.PurgeTime); err != nil {
			return fmt.Errorf("keep statistics: %w", err)
		}
		for _, table := range purgedTables {
			if _, err := tx.Exec(ctx, `DELETE FROM `+table+` WHERE case_id = $1`, c.ID); err != nil {
				return fmt.Errorf("purge %s: %w", table, err)
			}
		}
		if _, err := tx.Exec(ctx, `DELETE FROM cases WHERE id = $1`, c.ID); err != nil {
			return fmt.Errorf("purge case: %w", err)
		}
		meta := events.NewMetadata(c.Group, Producer, st.PurgeTime)
		ev, err := s.Namespace.Encode(meta, "case", "purged", &eventsv1.CasePurged{Metadata: meta, Case: c.Name(), Concern: c.Concern})
		if err != nil {
			return err
		}
		return outbox.Add(ctx, tx, ev)
	})
}
