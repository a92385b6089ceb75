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

var _ session.LinkStore = (*Store)(nil)

// linkKeep is how long a client's sign-in link is kept after it expired:
// long enough to tell a client who comes late that it expired, no longer.
const linkKeep = 24 * time.Hour

// emailHash is the keyed hash of a concern's e-mail address to store beside
// it: empty when the client gave none, so that FillEmailHashes does not
// look at it again.
func (s *Store) emailHash(email string) (string, error) {
	if strings.TrimSpace(email) == "" {
		return "", nil
	}
	if s.Emails == nil {
		return "", errors.New("hash the client's e-mail address: no keys configured")
	}
	return s.Emails.EmailHash(email), nil
}

// ClientCases implements session.LinkStore. Handed-over concerns are found
// too: the hash stays when the address goes.
func (s *Store) ClientCases(ctx context.Context, group string, hashes []string, max int) ([]session.LinkCase, error) {
	rows, err := s.Pool.Query(ctx, `
		SELECT id::text, reference, create_time FROM concerns
		WHERE group_id = $1 AND client_email_hash = ANY($2) AND client_email_hash <> ''
		ORDER BY create_time DESC, id LIMIT $3`,
		strings.TrimPrefix(group, "groups/"), hashes, max)
	if err != nil {
		return nil, fmt.Errorf("select concerns by e-mail hash: %w", err)
	}
	cases, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (session.LinkCase, error) {
		c := session.LinkCase{Group: group}
		err := row.Scan(&c.ConcernID, &c.Reference, &c.CreateTime)
		c.CreateTime = c.CreateTime.UTC()
		return c, err
	})
	if err != nil {
		return nil, fmt.Errorf("read concerns by e-mail hash: %w", err)
	}
	return cases, nil
}

// CreateSignInLinks implements session.LinkStore.
func (s *Store) CreateSignInLinks(ctx context.Context, links []session.SignInLink) error {
	if len(links) == 0 {
		return nil
	}
	var b pgx.Batch
	b.Queue(`DELETE FROM client_sign_in_links WHERE expire_time < $1`, links[0].CreateTime.Add(-linkKeep))
	for _, l := range links {
		b.Queue(`INSERT INTO client_sign_in_links (secret_sha256, concern, create_time, expire_time) VALUES ($1, $2, $3, $4)`,
			l.SecretSHA256, l.ConcernID, l.CreateTime, l.ExpireTime)
	}
	return postgres.InTx(ctx, s.Pool, func(tx pgx.Tx) error {
		if err := tx.SendBatch(ctx, &b).Close(); err != nil {
			return fmt.Errorf("insert client sign-in links: %w", err)
		}
		return nil
	})
}

// UseSignInLink implements session.LinkStore: the link is locked, so that
// of two uses at once the second finds it used.
func (s *Store) UseSignInLink(ctx context.Context, hash []byte, use func(session.SignInLink) (session.Session, error)) (session.Session, error) {
	var sess session.Session
	err := postgres.InTx(ctx, s.Pool, func(tx pgx.Tx) error {
		l := session.SignInLink{SecretSHA256: hash}
		var used *time.Time
		err := tx.QueryRow(ctx, `
			SELECT l.concern::text, c.group_id, l.create_time, l.expire_time, l.use_time
			FROM client_sign_in_links l JOIN concerns c ON c.id = l.concern
			WHERE l.secret_sha256 = $1 FOR UPDATE OF l`, hash,
		).Scan(&l.ConcernID, &l.Group, &l.CreateTime, &l.ExpireTime, &used)
		if errors.Is(err, pgx.ErrNoRows) {
			return session.ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("select client sign-in link: %w", err)
		}
		l.Group = "groups/" + l.Group
		l.CreateTime, l.ExpireTime = l.CreateTime.UTC(), l.ExpireTime.UTC()
		if used != nil {
			l.UseTime = used.UTC()
		}
		if sess, err = use(l); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE client_sign_in_links SET use_time = $2 WHERE secret_sha256 = $1`, hash, sess.CreateTime); err != nil {
			return fmt.Errorf("mark client sign-in link used: %w", err)
		}
		return insertSession(ctx, tx, sess)
	})
	if err != nil {
		return session.Session{}, err
	}
	return sess, nil
}

// FillEmailHashes hashes the e-mail address of every concern registered
// before the hashes were kept (client_email_hash NULL), so that its client
// can ask for a link: intake runs it when it starts. Only concerns not yet
// handed over still hold the address; a handed-over one gets an empty hash
// (no link by e-mail: its client comes back with the reference and access
// code). It returns how many it hashed.
func (s *Store) FillEmailHashes(ctx context.Context) (int, error) {
	n, err := postgres.EachID(ctx, s.Pool,
		`SELECT id::text FROM concerns WHERE client_email_hash IS NULL ORDER BY id LIMIT $1`, nil, s.fillEmailHash)
	if err != nil {
		return n, fmt.Errorf("hash clients' e-mail addresses: %w", err)
	}
	return n, nil
}

// fillEmailHash hashes one concern's address; false when there was none to
// hash, or another replica did it meanwhile.
func (s *Store) fillEmailHash(ctx context.Context, tx pgx.Tx, id string) (bool, error) {
	var values [5]string
	var wrapped *string
	var handedOver *time.Time
	err := tx.QueryRow(ctx, `
		SELECT `+confidentialSelect+`, wrapped_key, hand_over_time FROM concerns
		WHERE id = $1 AND client_email_hash IS NULL FOR UPDATE`, id).
		Scan(&values[0], &values[1], &values[2], &values[3], &values[4], &wrapped, &handedOver)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read concern %s: %w", id, err)
	}
	hash := ""
	if handedOver == nil {
		plain, err := s.openValues(id, wrapped, values)
		if err != nil {
			return false, err
		}
		if hash, err = s.emailHash(plain[2]); err != nil {
			return false, err
		}
	}
	if _, err := tx.Exec(ctx, `UPDATE concerns SET client_email_hash = $2 WHERE id = $1`, id, hash); err != nil {
		return false, fmt.Errorf("store the e-mail hash of concern %s: %w", id, err)
	}
	return hash != "", nil
}
