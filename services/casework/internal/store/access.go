package store

import (
	"context"
	"fmt"

	"github.com/ipnmediation/disputes/platform/postgres"
	"github.com/ipnmediation/disputes/services/casework/internal/casefile"
	"github.com/jackc/pgx/v5"
)

// RecordAccess implements casefile.Store. Records of one case are numbered
// under a lock on the case's last record, so concurrent readers never share
// a number.
func (s *Store) RecordAccess(ctx context.Context, reads []casefile.AccessRecord) error {
	return postgres.InTx(ctx, s.Pool, func(tx pgx.Tx) error {
		for _, r := range reads {
			// The advisory lock serialises numbering per case without
			// blocking the case row, which steps lock.
			if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('access_log:' || $1, 0))`, r.CaseID); err != nil {
				return fmt.Errorf("lock access log: %w", err)
			}
			_, err := tx.Exec(ctx, `
				INSERT INTO access_log (case_id, seq, reader, reader_role, resource, kind, read_time)
				SELECT $1, COALESCE(max(seq), 0) + 1, $2, $3, $4, $5, $6 FROM access_log WHERE case_id = $1`,
				r.CaseID, r.Reader, r.ReaderRole.String(), r.Resource, string(r.Kind), r.Time)
			if err != nil {
				return fmt.Errorf("append to access log: %w", err)
			}
		}
		return nil
	})
}

// AccessLog implements casefile.Store.
func (s *Store) AccessLog(ctx context.Context, caseID string, after int64, limit int) ([]casefile.AccessRecord, error) {
	rows, err := s.Pool.Query(ctx, `
		SELECT seq, case_id::text, reader, reader_role, resource, kind, read_time
		FROM access_log WHERE case_id = $1 AND seq > $2 ORDER BY seq LIMIT $3`, caseID, after, limit)
	if err != nil {
		return nil, fmt.Errorf("select access log: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (casefile.AccessRecord, error) {
		var a casefile.AccessRecord
		var role, kind string
		if err := r.Scan(&a.Seq, &a.CaseID, &a.Reader, &role, &a.Resource, &kind, &a.Time); err != nil {
			return a, err
		}
		a.ReaderRole, a.Kind, a.Time = roleOf(role), casefile.AccessKind(kind), a.Time.UTC()
		return a, nil
	})
}
