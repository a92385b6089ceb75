package store

import (
	"context"
	"fmt"
	"strings"

	"github.com/ipnmediation/disputes/services/casework/internal/casefile"
	"github.com/jackc/pgx/v5"
)

// RegisteredContacts implements casefile.Store. The contact columns are
// selected, never compared: they are ciphertexts under each case's own data
// key, so only the caller can compare them, once opened. The concern's text
// and the client's name are not even read.
func (s *Store) RegisteredContacts(ctx context.Context, group string, after *casefile.Cursor, limit int) ([]casefile.RegisteredContact, error) {
	args := []any{strings.TrimPrefix(group, "groups/"), limit}
	where := "group_id = $1"
	if after != nil {
		args = append(args, after.RegisterTime, after.ID)
		where += " AND (register_time, id) < ($3, $4::uuid)"
	}
	rows, err := s.Pool.Query(ctx, `SELECT `+caseColumns+`, client_email, client_phone,
		(SELECT k.wrapped_key FROM case_keys k WHERE k.case_id = cases.id)
		FROM cases WHERE `+where+` ORDER BY register_time DESC, id DESC LIMIT $2`, args...)
	if err != nil {
		return nil, fmt.Errorf("select registered contacts: %w", err)
	}
	contacts, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (casefile.RegisteredContact, error) {
		var sealedEmail, sealedPhone string
		var wrapped *string
		c, err := scanCase(withColumns{r, []any{&sealedEmail, &sealedPhone, &wrapped}})
		if err != nil {
			return casefile.RegisteredContact{}, err
		}
		dk, err := s.unwrap(c.ID, wrapped)
		if err != nil {
			return casefile.RegisteredContact{}, err
		}
		rc := casefile.RegisteredContact{Case: c, Email: sealedEmail, Phone: sealedPhone}
		if dk == nil {
			// A case from before encryption: still plaintext.
			return rc, nil
		}
		if rc.Email, err = dk.Open(sealedEmail, casePurpose("client_email", c.ID)); err != nil {
			return casefile.RegisteredContact{}, fmt.Errorf("open client_email of case %s: %w", c.ID, err)
		}
		if rc.Phone, err = dk.Open(sealedPhone, casePurpose("client_phone", c.ID)); err != nil {
			return casefile.RegisteredContact{}, fmt.Errorf("open client_phone of case %s: %w", c.ID, err)
		}
		return rc, nil
	})
	if err != nil {
		return nil, fmt.Errorf("read registered contacts: %w", err)
	}
	return contacts, nil
}

// withColumns is a row whose first columns are a case's (scanCase's) and
// whose further columns go to extra, so that scanCase serves queries that
// select more than the case.
type withColumns struct {
	pgx.Row
	extra []any
}

func (w withColumns) Scan(dest ...any) error { return w.Row.Scan(append(dest, w.extra...)...) }
