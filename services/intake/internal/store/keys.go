package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/ipnmediation/disputes/platform/postgres"
	"github.com/ipnmediation/disputes/platform/sealed"
	"github.com/jackc/pgx/v5"
)

// Confidential values are sealed under their concern's data key (columns
// key_id and wrapped_key, migration 004) with a purpose naming the column
// and row, so that a ciphertext copied into another row or column does not
// open.

// sealedColumns are the confidential columns of concerns, in the order of
// the values sealValues and openValues take.
var sealedColumns = [5]string{"client_name", "description", "client_email", "client_phone", "desired_outcome"}

// confidentialSelect reads sealedColumns. desired_outcome came later
// (migration 008) and is NULL in the concerns registered before it, which
// had none: it is read as an empty value, which openValues takes as empty
// rather than as a ciphertext. Every concern registered since holds a
// ciphertext there, of an empty text too.
const confidentialSelect = `client_name, description, client_email, client_phone, COALESCE(desired_outcome, '')`

// addedLater are the sealed columns that concerns registered before them
// hold as NULL (read as empty): desired_outcome.
var addedLater = [5]bool{4: true}

func keyPurpose(concernID string) string { return "intake.concerns.wrapped_key:" + concernID }

func valuePurpose(column, concernID string) string {
	return "intake.concerns." + column + ":" + concernID
}

func codePurpose(concernID string) string { return valuePurpose("access_code_sealed", concernID) }

func sealValues(dk sealed.DataKey, concernID string, values [5]string) ([5]string, error) {
	var out [5]string
	for i, v := range values {
		ct, err := dk.Seal(v, valuePurpose(sealedColumns[i], concernID))
		if err != nil {
			return out, fmt.Errorf("seal %s of concern %s: %w", sealedColumns[i], concernID, err)
		}
		out[i] = ct
	}
	return out, nil
}

// openValues opens a concern's confidential values; with no wrapped key (a
// concern registered before encryption) they are still plaintext.
func (s *Store) openValues(concernID string, wrapped *string, values [5]string) ([5]string, error) {
	if wrapped == nil {
		return values, nil
	}
	if s.Keys == nil {
		return values, fmt.Errorf("concern %s: no encryption keys configured", concernID)
	}
	dk, err := s.Keys.Unwrap(*wrapped, keyPurpose(concernID))
	if err != nil {
		return values, fmt.Errorf("data key of concern %s: %w", concernID, err)
	}
	var out [5]string
	for i, v := range values {
		if v == "" && addedLater[i] {
			continue // registered before the column: none given
		}
		pt, err := dk.Open(v, valuePurpose(sealedColumns[i], concernID))
		if err != nil {
			return out, fmt.Errorf("open %s of concern %s: %w", sealedColumns[i], concernID, err)
		}
		out[i] = pt
	}
	return out, nil
}

// ReencryptResult counts what Reencrypt changed.
type ReencryptResult struct {
	// Sealed is how many concerns from before encryption were sealed.
	Sealed int
	// Rewrapped is how many data keys were rewrapped under the current key.
	Rewrapped int
}

// Reencrypt seals every concern still held in plaintext (registered before
// encryption and not handed over) and rewraps every data key wrapped under
// a key other than the current one, a concern per transaction. Afterwards
// the other keys may be removed from ENCRYPTION_KEYS. It is safe to run
// while the service serves, and again.
func (s *Store) Reencrypt(ctx context.Context) (ReencryptResult, error) {
	var res ReencryptResult
	if s.Keys == nil {
		return res, errors.New("re-encrypt: no encryption keys configured")
	}
	var err error
	res.Sealed, err = postgres.EachID(ctx, s.Pool,
		`SELECT id::text FROM concerns WHERE wrapped_key IS NULL AND hand_over_time IS NULL ORDER BY id LIMIT $1`, nil, s.sealPlaintext)
	if err != nil {
		return res, fmt.Errorf("re-encrypt: %w", err)
	}
	res.Rewrapped, err = postgres.EachID(ctx, s.Pool,
		`SELECT id::text FROM concerns WHERE key_id <> $1 ORDER BY id LIMIT $2`, []any{s.Keys.Current()}, s.rewrap)
	if err != nil {
		return res, fmt.Errorf("re-encrypt: %w", err)
	}
	return res, nil
}

// sealPlaintext seals a concern from before encryption; false when the
// concern was sealed or handed over meanwhile.
func (s *Store) sealPlaintext(ctx context.Context, tx pgx.Tx, id string) (bool, error) {
	var values [5]string
	err := tx.QueryRow(ctx, `
		SELECT `+confidentialSelect+` FROM concerns
		WHERE id = $1 AND wrapped_key IS NULL AND hand_over_time IS NULL FOR UPDATE`, id).
		Scan(&values[0], &values[1], &values[2], &values[3], &values[4])
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read plaintext concern %s: %w", id, err)
	}
	dk, wrapped, err := s.Keys.NewDataKey(keyPurpose(id))
	if err != nil {
		return false, fmt.Errorf("concern %s: %w", id, err)
	}
	out, err := sealValues(dk, id, values)
	if err != nil {
		return false, err
	}
	_, err = tx.Exec(ctx, `
		UPDATE concerns SET client_name = $2, description = $3, client_email = $4, client_phone = $5, desired_outcome = $6,
		                    key_id = $7, wrapped_key = $8
		WHERE id = $1`, id, out[0], out[1], out[2], out[3], out[4], s.Keys.Current(), wrapped)
	if err != nil {
		return false, fmt.Errorf("seal concern %s: %w", id, err)
	}
	return true, nil
}

// rewrap wraps a concern's data key again under the current key; false when
// it was rewrapped or handed over meanwhile.
func (s *Store) rewrap(ctx context.Context, tx pgx.Tx, id string) (bool, error) {
	var wrapped string
	err := tx.QueryRow(ctx, `SELECT wrapped_key FROM concerns WHERE id = $1 AND key_id <> $2 FOR UPDATE`, id, s.Keys.Current()).Scan(&wrapped)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read data key of concern %s: %w", id, err)
	}
	rewrapped, err := s.Keys.Rewrap(wrapped, keyPurpose(id))
	if err != nil {
		return false, fmt.Errorf("rewrap data key of concern %s: %w", id, err)
	}
	if _, err := tx.Exec(ctx, `UPDATE concerns SET key_id = $2, wrapped_key = $3 WHERE id = $1`, id, s.Keys.Current(), rewrapped); err != nil {
		return false, fmt.Errorf("rewrap data key of concern %s: %w", id, err)
	}
	return true, nil
}
