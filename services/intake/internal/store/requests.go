package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ipnmediation/disputes/services/intake/internal/concern"
	"github.com/jackc/pgx/v5"
)

var _ concern.Requests = (*Store)(nil)

// selectRequest reads a request id's record with its concern, when that is
// registered: its reference and create time, and its access code, sealed,
// with the data key that opens it. None of the concern's text is read.
const selectRequest = `
	SELECT r.content_sha256, r.concern_id::text, c.reference, c.create_time, c.access_code_sealed, c.wrapped_key
	FROM create_requests r LEFT JOIN concerns c ON c.id = r.concern_id
	WHERE r.request_id = $1 AND r.claim_time > $2`

// Request implements concern.Requests.
func (s *Store) Request(ctx context.Context, requestID string, since time.Time) (concern.PriorRequest, bool, error) {
	p, err := s.scanRequest(s.Pool.QueryRow(ctx, selectRequest, requestID, since))
	if errors.Is(err, pgx.ErrNoRows) {
		return concern.PriorRequest{}, false, nil
	}
	if err != nil {
		return concern.PriorRequest{}, false, fmt.Errorf("select request: %w", err)
	}
	return p, true, nil
}

// scanRequest reads a row of selectRequest, opening the access code when
// the concern still keeps it.
func (s *Store) scanRequest(row pgx.Row) (concern.PriorRequest, error) {
	var p concern.PriorRequest
	var reference, sealedCode, wrapped *string
	var createTime *time.Time
	if err := row.Scan(&p.Digest, &p.ConcernID, &reference, &createTime, &sealedCode, &wrapped); err != nil {
		return concern.PriorRequest{}, err
	}
	if reference == nil || createTime == nil {
		return p, nil
	}
	p.Registered, p.Reference, p.CreateTime = true, *reference, createTime.UTC()
	if sealedCode == nil || wrapped == nil {
		return p, nil
	}
	if s.Keys == nil {
		return p, fmt.Errorf("concern %s: no encryption keys configured", p.ConcernID)
	}
	dk, err := s.Keys.Unwrap(*wrapped, keyPurpose(p.ConcernID))
	if err != nil {
		return p, fmt.Errorf("data key of concern %s: %w", p.ConcernID, err)
	}
	if p.AccessCode, err = dk.Open(*sealedCode, codePurpose(p.ConcernID)); err != nil {
		return p, fmt.Errorf("open access code of concern %s: %w", p.ConcernID, err)
	}
	return p, nil
}

// ForgetReplayCodes implements concern.Requests: the sealed access codes of
// concerns registered at or before the given time are set to NULL, and the
// data key of each that was handed over meanwhile, which the hand-over left
// for it, is deleted with it. It returns how many codes it forgot.
func (s *Store) ForgetReplayCodes(ctx context.Context, registeredBefore time.Time) (int, error) {
	tag, err := s.Pool.Exec(ctx, `
		UPDATE concerns SET access_code_sealed = NULL,
		                    key_id = CASE WHEN hand_over_time IS NULL THEN key_id END,
		                    wrapped_key = CASE WHEN hand_over_time IS NULL THEN wrapped_key END
		WHERE access_code_sealed IS NOT NULL AND create_time <= $1`, registeredBefore)
	if err != nil {
		return 0, fmt.Errorf("forget sealed access codes: %w", err)
	}
	return int(tag.RowsAffected()), nil
}
