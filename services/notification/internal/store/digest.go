package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ipnmediation/disputes/services/notification/internal/dispatch"
	"github.com/jackc/pgx/v5"
)

var _ dispatch.DigestStore = (*Store)(nil)

// DigestSettings implements dispatch.DigestStore.
func (s *Store) DigestSettings(ctx context.Context, member string) (dispatch.DigestSettings, error) {
	out := dispatch.DigestSettings{Member: member}
	err := s.Pool.QueryRow(ctx, `SELECT enabled, version, update_time FROM digest_settings WHERE member = $1`, member).
		Scan(&out.Enabled, &out.Version, &out.UpdateTime)
	if errors.Is(err, pgx.ErrNoRows) {
		return dispatch.DigestSettings{}, dispatch.ErrNotFound
	}
	if err != nil {
		return dispatch.DigestSettings{}, fmt.Errorf("get digest settings: %w", err)
	}
	return out, nil
}

// PutDigestSettings implements dispatch.DigestStore. The row is locked
// while the version is compared, so two updates with the same etag cannot
// both pass.
func (s *Store) PutDigestSettings(ctx context.Context, group string, in dispatch.DigestSettings, expect int64) (dispatch.DigestSettings, error) {
	tx, err := s.Pool.Begin(ctx)
	if err != nil {
		return dispatch.DigestSettings{}, fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback(context.Background()) //nolint:errcheck // no-op after commit
	var current int64
	err = tx.QueryRow(ctx, `SELECT version FROM digest_settings WHERE member = $1 FOR UPDATE`, in.Member).Scan(&current)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return dispatch.DigestSettings{}, fmt.Errorf("read digest settings: %w", err)
	}
	if expect >= 0 && expect != current {
		return dispatch.DigestSettings{}, dispatch.ErrStale
	}
	out := in
	err = tx.QueryRow(ctx, `INSERT INTO digest_settings (member, group_name, enabled, version, update_time)
		VALUES ($1, $2, $3, 1, $4)
		ON CONFLICT (member) DO UPDATE SET enabled = EXCLUDED.enabled, version = digest_settings.version + 1,
			update_time = EXCLUDED.update_time
		RETURNING version`, in.Member, group, in.Enabled, in.UpdateTime).Scan(&out.Version)
	if err != nil {
		return dispatch.DigestSettings{}, fmt.Errorf("store digest settings: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return dispatch.DigestSettings{}, fmt.Errorf("commit digest settings: %w", err)
	}
	return out, nil
}

// DueDigests implements dispatch.DigestStore.
func (s *Store) DueDigests(ctx context.Context, day time.Time) ([]dispatch.DigestDue, error) {
	rows, err := s.Pool.Query(ctx, `SELECT group_name, member FROM digest_settings
		WHERE enabled AND (last_digest_day IS NULL OR last_digest_day < $1::date)
		ORDER BY group_name, member`, day.UTC().Format(time.DateOnly))
	if err != nil {
		return nil, fmt.Errorf("due digests: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (dispatch.DigestDue, error) {
		var d dispatch.DigestDue
		err := r.Scan(&d.Group, &d.Member)
		return d, err
	})
	if err != nil {
		return nil, fmt.Errorf("due digests: %w", err)
	}
	return out, nil
}

// RecordDigest implements dispatch.DigestStore. Marking the day first
// takes the row's lock, so a replica doing the same waits and then finds
// the day dealt with; the delivery's UNIQUE (event_id, recipient) is a
// second guard.
func (s *Store) RecordDigest(ctx context.Context, member string, day time.Time, d *dispatch.Delivery) error {
	tx, err := s.Pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback(context.Background()) //nolint:errcheck // no-op after commit
	tag, err := tx.Exec(ctx, `UPDATE digest_settings SET last_digest_day = $2::date
		WHERE member = $1 AND enabled AND (last_digest_day IS NULL OR last_digest_day < $2::date)`,
		member, day.UTC().Format(time.DateOnly))
	if err != nil {
		return fmt.Errorf("mark digest of %s: %w", member, err)
	}
	if tag.RowsAffected() == 0 {
		return nil
	}
	if d != nil {
		if _, err := AddDeliveries(ctx, tx, []dispatch.Delivery{*d}); err != nil {
			return fmt.Errorf("digest of %s: %w", member, err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("commit digest of %s: %w", member, err)
	}
	return nil
}
