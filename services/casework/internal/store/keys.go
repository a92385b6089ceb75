package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/ipnmediation/disputes/platform/postgres"
	"github.com/ipnmediation/disputes/platform/sealed"
	"github.com/ipnmediation/disputes/services/casework/internal/casefile"
	"github.com/jackc/pgx/v5"
)

// Confidential values are sealed under their case's data key (table
// case_keys, migration 006) with a purpose naming the table, column and row,
// so that a ciphertext copied into another row or column does not open.

func keyPurpose(caseID string) string { return "casework.case_keys:" + caseID }

func casePurpose(column, caseID string) string { return "casework.cases." + column + ":" + caseID }

func documentPurpose(id string) string { return "casework.documents.body:" + id }

// caseColumnsSealed are the confidential columns of cases, in the order of
// sealedConfidential's values.
var caseColumnsSealed = [5]string{"concern_text", "client_name", "client_email", "client_phone", "desired_outcome"}

// confidentialSelect reads caseColumnsSealed from cases (as c).
// desired_outcome came later (migration 008) and is NULL in the cases opened
// before it, whose concerns had none: it is read as an empty value, which
// openConfidential takes as empty rather than as a ciphertext. Every case
// opened since, or sealed by -reencrypt since, holds a ciphertext there, of
// an empty text too.
const confidentialSelect = `c.concern_text, c.client_name, c.client_email, c.client_phone, COALESCE(c.desired_outcome, '')`

// addedLater are the sealed columns that cases opened before them hold as
// NULL (read as empty): desired_outcome.
var addedLater = [5]bool{4: true}

func confidentialValues(c casefile.Confidential) [5]string {
	return [5]string{c.Description, c.ClientName, c.ClientEmail, c.ClientPhone, c.DesiredOutcome}
}

func confidentialOf(v [5]string) casefile.Confidential {
	return casefile.Confidential{Description: v[0], ClientName: v[1], ClientEmail: v[2], ClientPhone: v[3], DesiredOutcome: v[4]}
}

// sealConfidential seals the case's confidential values under dk.
func sealConfidential(dk sealed.DataKey, caseID string, values [5]string) ([5]string, error) {
	var out [5]string
	for i, v := range values {
		ct, err := dk.Seal(v, casePurpose(caseColumnsSealed[i], caseID))
		if err != nil {
			return out, fmt.Errorf("seal %s of case %s: %w", caseColumnsSealed[i], caseID, err)
		}
		out[i] = ct
	}
	return out, nil
}

// openConfidential opens the case's confidential values; with no data key
// (a case from before encryption) they are still plaintext.
func openConfidential(dk *sealed.DataKey, caseID string, values [5]string) ([5]string, error) {
	if dk == nil {
		return values, nil
	}
	var out [5]string
	for i, v := range values {
		if v == "" && addedLater[i] {
			continue // opened before the column: none given
		}
		pt, err := dk.Open(v, casePurpose(caseColumnsSealed[i], caseID))
		if err != nil {
			return out, fmt.Errorf("open %s of case %s: %w", caseColumnsSealed[i], caseID, err)
		}
		out[i] = pt
	}
	return out, nil
}

// unwrap opens a case's wrapped data key; nil wrapped means the case has no
// key yet.
func (s *Store) unwrap(caseID string, wrapped *string) (*sealed.DataKey, error) {
	if wrapped == nil {
		return nil, nil
	}
	if s.Keys == nil {
		return nil, fmt.Errorf("case %s: no encryption keys configured", caseID)
	}
	dk, err := s.Keys.Unwrap(*wrapped, keyPurpose(caseID))
	if err != nil {
		return nil, fmt.Errorf("data key of case %s: %w", caseID, err)
	}
	return &dk, nil
}

// newCaseKey makes a data key for a case and inserts it, wrapped under the
// current configured key, inside tx.
func (s *Store) newCaseKey(ctx context.Context, tx pgx.Tx, caseID string) (sealed.DataKey, func() error, error) {
	if s.Keys == nil {
		return sealed.DataKey{}, nil, errors.New("new case key: no encryption keys configured")
	}
	dk, wrapped, err := s.Keys.NewDataKey(keyPurpose(caseID))
	if err != nil {
		return sealed.DataKey{}, nil, fmt.Errorf("case %s: %w", caseID, err)
	}
	insert := func() error {
		_, err := tx.Exec(ctx, `INSERT INTO case_keys (case_id, key_id, wrapped_key) VALUES ($1, $2, $3)`,
			caseID, s.Keys.Current(), wrapped)
		if err != nil {
			return fmt.Errorf("insert data key of case %s: %w", caseID, err)
		}
		return nil
	}
	return dk, insert, nil
}

// caseKey returns the data key that new confidential values of the case are
// sealed under, inside tx, which must hold the case's row locked. A case
// from before encryption gets its key here, and everything it holds in
// plaintext is sealed in the same transaction, so that a case has a key
// exactly when all its values are ciphertext.
func (s *Store) caseKey(ctx context.Context, tx pgx.Tx, caseID string) (sealed.DataKey, error) {
	var wrapped string
	err := tx.QueryRow(ctx, `SELECT wrapped_key FROM case_keys WHERE case_id = $1`, caseID).Scan(&wrapped)
	if err == nil {
		dk, err := s.unwrap(caseID, &wrapped)
		if err != nil {
			return sealed.DataKey{}, err
		}
		return *dk, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return sealed.DataKey{}, fmt.Errorf("select data key of case %s: %w", caseID, err)
	}
	return s.sealPlaintextCase(ctx, tx, caseID)
}

// sealPlaintextCase gives a case from before encryption its data key and
// seals its confidential columns, its documents and the meeting locations
// its progress still holds.
func (s *Store) sealPlaintextCase(ctx context.Context, tx pgx.Tx, caseID string) (sealed.DataKey, error) {
	dk, insertKey, err := s.newCaseKey(ctx, tx, caseID)
	if err != nil {
		return sealed.DataKey{}, err
	}
	c, err := s.one(ctx, tx, `WHERE id = $1 FOR UPDATE`, caseID)
	if err != nil {
		return sealed.DataKey{}, fmt.Errorf("read plaintext case %s: %w", caseID, err)
	}
	var values [5]string
	err = tx.QueryRow(ctx, `SELECT `+confidentialSelect+` FROM cases c WHERE c.id = $1`, caseID).
		Scan(&values[0], &values[1], &values[2], &values[3], &values[4])
	if err != nil {
		return sealed.DataKey{}, fmt.Errorf("read plaintext case %s: %w", caseID, err)
	}
	out, err := sealConfidential(dk, caseID, values)
	if err != nil {
		return sealed.DataKey{}, err
	}
	// Writing progress back as casefile encodes it leaves out the meeting
	// locations, which are sealed below.
	progress, err := json.Marshal(c.Progress)
	if err != nil {
		return sealed.DataKey{}, fmt.Errorf("encode progress of case %s: %w", caseID, err)
	}
	if _, err := tx.Exec(ctx, `UPDATE cases SET concern_text = $2, client_name = $3, client_email = $4, client_phone = $5, desired_outcome = $6,
		progress = $7 WHERE id = $1`,
		caseID, out[0], out[1], out[2], out[3], out[4], progress); err != nil {
		return sealed.DataKey{}, fmt.Errorf("seal case %s: %w", caseID, err)
	}
	rows, err := tx.Query(ctx, `SELECT id::text, body FROM documents WHERE case_id = $1 FOR UPDATE`, caseID)
	if err != nil {
		return sealed.DataKey{}, fmt.Errorf("read plaintext documents of case %s: %w", caseID, err)
	}
	type doc struct{ id, body string }
	docs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (doc, error) {
		var d doc
		return d, r.Scan(&d.id, &d.body)
	})
	if err != nil {
		return sealed.DataKey{}, fmt.Errorf("read plaintext documents of case %s: %w", caseID, err)
	}
	for _, d := range docs {
		ct, err := dk.Seal(d.body, documentPurpose(d.id))
		if err != nil {
			return sealed.DataKey{}, fmt.Errorf("seal document %s: %w", d.id, err)
		}
		if _, err := tx.Exec(ctx, `UPDATE documents SET body = $2 WHERE id = $1`, d.id, ct); err != nil {
			return sealed.DataKey{}, fmt.Errorf("seal document %s: %w", d.id, err)
		}
	}
	for _, d := range legacyLocationDocuments(c) {
		if err := insertDocument(ctx, tx, dk, d); err != nil {
			return sealed.DataKey{}, err
		}
	}
	if err := insertKey(); err != nil {
		return sealed.DataKey{}, err
	}
	return dk, nil
}

// sealLegacyLocations moves the meeting locations that the progress of a
// case with a data key still holds in plaintext into sealed documents and
// rewrites progress without them, inside tx. It reports whether it found
// any.
func (s *Store) sealLegacyLocations(ctx context.Context, tx pgx.Tx, caseID string) (bool, error) {
	// Locked first, as Update does, so that a step taken meanwhile waits.
	c, err := s.one(ctx, tx, `WHERE id = $1 FOR UPDATE`, caseID)
	if err != nil {
		return false, fmt.Errorf("read case %s: %w", caseID, err)
	}
	if len(legacyLocationDocuments(c)) == 0 {
		return false, nil
	}
	// A case still without a key is sealed whole here, its locations with
	// it; so the case is read again after.
	dk, err := s.caseKey(ctx, tx, caseID)
	if err != nil {
		return false, err
	}
	if c, err = s.one(ctx, tx, `WHERE id = $1`, caseID); err != nil {
		return false, fmt.Errorf("read case %s: %w", caseID, err)
	}
	docs := legacyLocationDocuments(c)
	if len(docs) == 0 {
		return true, nil
	}
	progress, err := json.Marshal(c.Progress)
	if err != nil {
		return false, fmt.Errorf("encode progress of case %s: %w", caseID, err)
	}
	if _, err := tx.Exec(ctx, `UPDATE cases SET progress = $2 WHERE id = $1`, caseID, progress); err != nil {
		return false, fmt.Errorf("rewrite progress of case %s: %w", caseID, err)
	}
	for _, d := range docs {
		if err := insertDocument(ctx, tx, dk, d); err != nil {
			return false, err
		}
	}
	return true, nil
}

// ReencryptResult counts what Reencrypt changed.
type ReencryptResult struct {
	// Sealed is how many cases from before encryption were sealed.
	Sealed int
	// Locations is how many cases that had a data key still held meeting
	// locations in plaintext in progress, now sealed.
	Locations int
	// Rewrapped is how many data keys were rewrapped under the current key.
	Rewrapped int
}

// Reencrypt seals every case still in plaintext, seals the meeting
// locations still kept in progress, and rewraps every data key wrapped under
// a key other than the current one, a case per transaction.
// Afterwards the keys other than the current one may be removed from
// ENCRYPTION_KEYS. It is safe to run while the service serves, and again.
func (s *Store) Reencrypt(ctx context.Context) (ReencryptResult, error) {
	var res ReencryptResult
	if s.Keys == nil {
		return res, errors.New("re-encrypt: no encryption keys configured")
	}
	var err error
	res.Sealed, err = postgres.EachID(ctx, s.Pool,
		`SELECT c.id::text FROM cases c WHERE NOT EXISTS (SELECT 1 FROM case_keys k WHERE k.case_id = c.id) ORDER BY c.id LIMIT $1`, nil,
		func(ctx context.Context, tx pgx.Tx, id string) (bool, error) {
			// Lock the case first, as Update does, so that a step taken
			// meanwhile waits instead of writing a plaintext document.
			if _, err := tx.Exec(ctx, `SELECT 1 FROM cases WHERE id = $1 FOR UPDATE`, id); err != nil {
				return false, fmt.Errorf("lock case %s: %w", id, err)
			}
			var has bool
			if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM case_keys WHERE case_id = $1)`, id).Scan(&has); err != nil || has {
				return false, err
			}
			_, err := s.sealPlaintextCase(ctx, tx, id)
			return err == nil, err
		})
	if err != nil {
		return res, fmt.Errorf("re-encrypt: %w", err)
	}
	res.Locations, err = postgres.EachID(ctx, s.Pool,
		`SELECT id::text FROM cases WHERE jsonb_path_exists(progress, '$.meetings[*].location') ORDER BY id LIMIT $1`, nil,
		func(ctx context.Context, tx pgx.Tx, id string) (bool, error) {
			return s.sealLegacyLocations(ctx, tx, id)
		})
	if err != nil {
		return res, fmt.Errorf("re-encrypt: %w", err)
	}
	res.Rewrapped, err = postgres.EachID(ctx, s.Pool,
		`SELECT case_id::text FROM case_keys WHERE key_id <> $1 ORDER BY case_id LIMIT $2`, []any{s.Keys.Current()},
		func(ctx context.Context, tx pgx.Tx, id string) (bool, error) {
			var wrapped string
			err := tx.QueryRow(ctx, `SELECT wrapped_key FROM case_keys WHERE case_id = $1 FOR UPDATE`, id).Scan(&wrapped)
			if err != nil {
				return false, fmt.Errorf("read data key of case %s: %w", id, err)
			}
			rewrapped, err := s.Keys.Rewrap(wrapped, keyPurpose(id))
			if err != nil {
				return false, fmt.Errorf("rewrap data key of case %s: %w", id, err)
			}
			_, err = tx.Exec(ctx, `UPDATE case_keys SET key_id = $2, wrapped_key = $3 WHERE case_id = $1`, id, s.Keys.Current(), rewrapped)
			if err != nil {
				return false, fmt.Errorf("rewrap data key of case %s: %w", id, err)
			}
			return true, nil
		})
	if err != nil {
		return res, fmt.Errorf("re-encrypt: %w", err)
	}
	return res, nil
}
