package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ipnmediation/disputes/platform/postgres"
	"github.com/ipnmediation/disputes/services/intake/internal/session"
	"github.com/jackc/pgx/v5"
)

var _ session.Store = (*Store)(nil)

// Credentials implements session.Store.
func (s *Store) Credentials(ctx context.Context, reference string) ([]session.Credential, error) {
	rows, err := s.Pool.Query(ctx, `SELECT id::text, group_id, access_code_hash FROM concerns WHERE reference = $1`, reference)
	if err != nil {
		return nil, fmt.Errorf("select concerns by reference: %w", err)
	}
	creds, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (session.Credential, error) {
		var c session.Credential
		err := row.Scan(&c.ConcernID, &c.Group, &c.AccessCodeHash)
		c.Group = "groups/" + c.Group
		return c, err
	})
	if err != nil {
		return nil, fmt.Errorf("read concerns by reference: %w", err)
	}
	return creds, nil
}

// LegacyHashesLeft implements session.Store. The partial index of
// migration 007 holds exactly these rows, so the answer costs an index
// probe.
func (s *Store) LegacyHashesLeft(ctx context.Context) (bool, error) {
	var left bool
	err := s.Pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM concerns WHERE access_code_hash LIKE '$argon2id$%')`).Scan(&left)
	if err != nil {
		return false, fmt.Errorf("look for argon2id hashes: %w", err)
	}
	return left, nil
}

// CreateSession implements session.Store.
func (s *Store) CreateSession(ctx context.Context, sess session.Session, rehash session.Rehash) error {
	return postgres.InTx(ctx, s.Pool, func(tx pgx.Tx) error {
		if rehash.New != "" {
			// Only the hash that was checked is replaced: a code reissued
			// meanwhile keeps its own.
			if _, err := tx.Exec(ctx, `UPDATE concerns SET access_code_hash = $3 WHERE id = $1 AND access_code_hash = $2`,
				sess.ConcernID, rehash.Old, rehash.New); err != nil {
				return fmt.Errorf("hash access code anew: %w", err)
			}
		}
		return insertSession(ctx, tx, sess)
	})
}

// insertSession stores a new session in tx and forgets the refused
// attempts on its concern's reference: the client is in, whichever way.
func insertSession(ctx context.Context, tx pgx.Tx, sess session.Session) error {
	_, err := tx.Exec(ctx, `
		INSERT INTO client_sessions (id, concern, secret_sha256, create_time, expire_time)
		VALUES ($1, $2, $3, $4, $5)`,
		sess.ID, sess.ConcernID, sess.SecretSHA256, sess.CreateTime, sess.ExpireTime)
	if err != nil {
		return fmt.Errorf("insert client session: %w", err)
	}
	_, err = tx.Exec(ctx, `DELETE FROM access_code_failures WHERE reference = (SELECT reference FROM concerns WHERE id = $1)`, sess.ConcernID)
	if err != nil {
		return fmt.Errorf("forget refused attempts: %w", err)
	}
	return nil
}

// GetSession implements session.Store.
func (s *Store) GetSession(ctx context.Context, id string) (session.Session, error) {
	sess := session.Session{ID: id}
	var revoked *time.Time
	err := s.Pool.QueryRow(ctx, `
		SELECT s.concern::text, c.group_id, s.secret_sha256, s.create_time, s.expire_time, s.revoke_time
		FROM client_sessions s JOIN concerns c ON c.id = s.concern
		WHERE s.id = $1`, id,
	).Scan(&sess.ConcernID, &sess.Group, &sess.SecretSHA256, &sess.CreateTime, &sess.ExpireTime, &revoked)
	if errors.Is(err, pgx.ErrNoRows) {
		return session.Session{}, session.ErrNotFound
	}
	if err != nil {
		return session.Session{}, fmt.Errorf("select client session: %w", err)
	}
	sess.Group = "groups/" + sess.Group
	sess.CreateTime, sess.ExpireTime = sess.CreateTime.UTC(), sess.ExpireTime.UTC()
	if revoked != nil {
		sess.RevokeTime = revoked.UTC()
	}
	return sess, nil
}

// EndSession implements session.Store.
func (s *Store) EndSession(ctx context.Context, id string, at time.Time) error {
	if _, err := s.Pool.Exec(ctx, `UPDATE client_sessions SET revoke_time = $2 WHERE id = $1 AND revoke_time IS NULL`, id, at); err != nil {
		return fmt.Errorf("end client session: %w", err)
	}
	return nil
}

// ReplaceAccessCode implements session.Store.
func (s *Store) ReplaceAccessCode(ctx context.Context, group, id, hash string, at time.Time) (string, error) {
	var reference string
	err := postgres.InTx(ctx, s.Pool, func(tx pgx.Tx) error {
		// The sealed first code goes too: a repeat of the registering
		// request must not hand out a code that no longer opens the case.
		// Once handed over, the data key it kept for that code goes with it.
		err := tx.QueryRow(ctx, `
			UPDATE concerns SET access_code_hash = $3, access_code_sealed = NULL,
			                    key_id = CASE WHEN hand_over_time IS NULL THEN key_id END,
			                    wrapped_key = CASE WHEN hand_over_time IS NULL THEN wrapped_key END
			WHERE id = $1 AND group_id = $2 RETURNING reference`,
			id, strings.TrimPrefix(group, "groups/"), hash).Scan(&reference)
		if errors.Is(err, pgx.ErrNoRows) {
			return session.ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("update access code hash: %w", err)
		}
		if _, err := tx.Exec(ctx, `UPDATE client_sessions SET revoke_time = $2 WHERE concern = $1 AND revoke_time IS NULL`, id, at); err != nil {
			return fmt.Errorf("revoke client sessions: %w", err)
		}
		if _, err := tx.Exec(ctx, `DELETE FROM access_code_failures WHERE reference = $1`, reference); err != nil {
			return fmt.Errorf("forget refused attempts: %w", err)
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	return reference, nil
}

// Failures implements session.Store.
func (s *Store) Failures(ctx context.Context, reference string, since time.Time) ([]time.Time, error) {
	rows, err := s.Pool.Query(ctx, `
		SELECT attempt_time FROM access_code_failures
		WHERE reference = $1 AND attempt_time > $2 ORDER BY attempt_time`, reference, since)
	if err != nil {
		return nil, fmt.Errorf("select refused attempts: %w", err)
	}
	times, err := pgx.CollectRows(rows, pgx.RowTo[time.Time])
	if err != nil {
		return nil, fmt.Errorf("read refused attempts: %w", err)
	}
	for i := range times {
		times[i] = times[i].UTC()
	}
	return times, nil
}

// RecordFailure implements session.Store.
func (s *Store) RecordFailure(ctx context.Context, reference string, at, forgetBefore time.Time) error {
	return postgres.InTx(ctx, s.Pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM access_code_failures WHERE attempt_time <= $1`, forgetBefore); err != nil {
			return fmt.Errorf("delete old refused attempts: %w", err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO access_code_failures (reference, attempt_time) VALUES ($1, $2)`, reference, at); err != nil {
			return fmt.Errorf("insert refused attempt: %w", err)
		}
		return nil
	})
}
