package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ipnmediation/disputes/platform/postgres"
	"github.com/ipnmediation/disputes/services/intake/internal/concern"
	"github.com/jackc/pgx/v5"
)

var _ concern.Requests = (*Store)(nil)

// selectRequest reads a request id's record with its concern, when that is
// registered; only columns that are never confidential are read.
const selectRequest = `
	SELECT r.content_sha256, r.concern_id::text, c.reference, c.create_time
	FROM create_requests r LEFT JOIN concerns c ON c.id = r.concern_id
	WHERE r.request_id = $1 AND r.claim_time > $2`

// Request implements concern.Requests.
func (s *Store) Request(ctx context.Context, requestID string, since time.Time) (concern.PriorRequest, bool, error) {
	p, err := scanRequest(s.Pool.QueryRow(ctx, selectRequest, requestID, since))
	if errors.Is(err, pgx.ErrNoRows) {
		return concern.PriorRequest{}, false, nil
	}
	if err != nil {
		return concern.PriorRequest{}, false, fmt.Errorf("select request: %w", err)
	}
	return p, true, nil
}

// ClaimRequest implements concern.Requests.
func (s *Store) ClaimRequest(ctx context.Context, requestID string, digest []byte, concernID string, at, since time.Time) (concern.PriorRequest, error) {
	var p concern.PriorRequest
	err := postgres.InTx(ctx, s.Pool, func(tx pgx.Tx) error {
		// Expired ids are let go first, so that the insert below can take
		// one that was last used more than a day ago.
		if _, err := tx.Exec(ctx, `DELETE FROM create_requests WHERE claim_time <= $1`, since); err != nil {
			return fmt.Errorf("delete expired requests: %w", err)
		}
		if _, err := tx.Exec(ctx, `
			INSERT INTO create_requests (request_id, content_sha256, concern_id, claim_time)
			VALUES ($1, $2, $3, $4) ON CONFLICT (request_id) DO NOTHING`,
			requestID, digest, concernID, at); err != nil {
			return fmt.Errorf("insert request: %w", err)
		}
		var err error
		p, err = scanRequest(tx.QueryRow(ctx, selectRequest, requestID, since))
		if err != nil {
			return fmt.Errorf("select request: %w", err)
		}
		return nil
	})
	return p, err
}

func scanRequest(row pgx.Row) (concern.PriorRequest, error) {
	var p concern.PriorRequest
	var reference *string
	var createTime *time.Time
	if err := row.Scan(&p.Digest, &p.ConcernID, &reference, &createTime); err != nil {
		return concern.PriorRequest{}, err
	}
	if reference != nil && createTime != nil {
		p.Registered, p.Reference, p.CreateTime = true, *reference, createTime.UTC()
	}
	return p, nil
}
