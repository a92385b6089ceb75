// Package store keeps concerns and client sessions in PostgreSQL. It is the
// only code that reads or writes the concerns table's confidential columns
// (client_name, description, client_email, client_phone, desired_outcome),
// and it stores them
// only as ciphertext under the concern's own data key (keys.go, package
// sealed), which the hand-over deletes. The reference and the access code's
// hash stay in clear: sign-in looks concerns up by reference. The access
// code itself is kept, sealed under the same key, only while a repeat of
// the request that registered the concern may ask for it again. The
// client's e-mail address is also kept as a keyed hash (client_email_hash),
// which stays after the hand-over, so that the client can ask for sign-in
// links by e-mail (links.go).
package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/ipnmediation/disputes/platform/events"
	"github.com/ipnmediation/disputes/platform/outbox"
	"github.com/ipnmediation/disputes/platform/sealed"
	eventsv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/events/v1"
	"github.com/ipnmediation/disputes/services/intake/internal/concern"
	"github.com/ipnmediation/disputes/services/intake/internal/session"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Producer names this service in event metadata.
const Producer = "intake"

// referenceConstraint is the unique constraint on (group_id, reference).
const referenceConstraint = "concerns_group_reference_key"

// requestConstraint is the primary key of create_requests, the request id.
const requestConstraint = "create_requests_pkey"

// Store implements concern.Store and session.Store.
type Store struct {
	Pool *pgxpool.Pool
	// Namespace selects the event stream's subjects.
	Namespace events.Namespace
	// Keys wrap the concerns' data keys. Required for anything that reads
	// or writes confidential text.
	Keys *sealed.Keyring
	// Emails hash clients' e-mail addresses, kept beside their concerns
	// for RequestClientSignInLink. Required to register a concern with an
	// address.
	Emails session.EmailKeys
}

var _ concern.Store = (*Store)(nil)

// Create implements concern.Store: the concern row and its ConcernRegistered
// event are written in one transaction.
func (s *Store) Create(ctx context.Context, c concern.Concern, accessCodeHash, replayCode string) error {
	return s.create(ctx, c, accessCodeHash, replayCode, nil)
}

// CreateClaimed implements concern.Requests: Create, with the request id
// claimed in the same transaction.
func (s *Store) CreateClaimed(ctx context.Context, c concern.Concern, accessCodeHash, replayCode string, claim concern.Claim) error {
	return s.create(ctx, c, accessCodeHash, replayCode, &claim)
}

// create writes the claim of the request id (when there is one), the
// concern and its event in one batch: one round trip and one transaction
// (the batch's implicit one, committed at its end), so that all of them are
// stored or none. One commit per concern: on a durable cluster each waits
// for the disk.
func (s *Store) create(ctx context.Context, c concern.Concern, accessCodeHash, replayCode string, claim *concern.Claim) error {
	meta := events.NewMetadata(c.Group, Producer, c.CreateTime)
	ev, err := s.Namespace.Encode(meta, "concern", "registered", &eventsv1.ConcernRegistered{
		Metadata:     meta,
		Concern:      c.Name(),
		Practitioner: c.Practitioner,
	})
	if err != nil {
		return err
	}
	if s.Keys == nil {
		return errors.New("insert concern: no encryption keys configured")
	}
	dk, wrapped, err := s.Keys.NewDataKey(keyPurpose(c.ID))
	if err != nil {
		return fmt.Errorf("concern %s: %w", c.ID, err)
	}
	values, err := sealValues(dk, c.ID, [5]string{c.ClientName, c.Description, c.Contact.Email, c.Contact.Phone, c.DesiredOutcome})
	if err != nil {
		return err
	}
	emailHash, err := s.emailHash(c.Contact.Email)
	if err != nil {
		return err
	}
	var sealedCode *string
	if replayCode != "" {
		ct, err := dk.Seal(replayCode, codePurpose(c.ID))
		if err != nil {
			return fmt.Errorf("seal access code of concern %s: %w", c.ID, err)
		}
		sealedCode = &ct
	}
	var b pgx.Batch
	if claim != nil {
		// Expired ids are let go first, so that the claim can take one
		// last used more than a day ago. A claim that is not expired, or
		// that a concurrent transaction holds and then commits, stops the
		// batch at the request ids' primary key.
		b.Queue(`DELETE FROM create_requests WHERE claim_time <= $1`, claim.Since)
		b.Queue(`
			INSERT INTO create_requests (request_id, content_sha256, concern_id, claim_time)
			VALUES ($1, $2, $3, $4)`,
			claim.RequestID, claim.Digest, c.ID, claim.At)
	}
	b.Queue(`
		INSERT INTO concerns (id, group_id, practitioner, client_name, description,
		                      client_email, client_phone, reference, access_code_hash, create_time, key_id, wrapped_key,
		                      access_code_sealed, desired_outcome, client_email_hash)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`,
		c.ID, c.GroupID(), c.Practitioner, values[0], values[1],
		values[2], values[3], c.Reference, accessCodeHash, c.CreateTime, s.Keys.Current(), wrapped, sealedCode, values[4], emailHash)
	outbox.Queue(ctx, &b, ev)
	res := s.Pool.SendBatch(ctx, &b)
	for range b.Len() {
		if _, err := res.Exec(); err != nil {
			_ = res.Close()
			var pgErr *pgconn.PgError
			if errors.As(err, &pgErr) && pgErr.Code == "23505" {
				switch pgErr.ConstraintName {
				case referenceConstraint:
					return concern.ErrReferenceTaken
				case requestConstraint:
					return concern.ErrRequestClaimed
				}
			}
			return fmt.Errorf("register concern: %w", err)
		}
	}
	// The commit's outcome, which nobody may be told of the concern
	// before.
	if err := res.Close(); err != nil {
		return fmt.Errorf("commit concern: %w", err)
	}
	return nil
}

// Get implements concern.Store.
func (s *Store) Get(ctx context.Context, group, id string) (concern.Concern, error) {
	c := concern.Concern{ID: id, Group: group}
	var createTime time.Time
	var handedOver *time.Time
	var values [5]string
	var wrapped *string
	err := s.Pool.QueryRow(ctx, `
		SELECT practitioner, `+confidentialSelect+`, reference, create_time, hand_over_time, wrapped_key
		FROM concerns WHERE id = $1 AND group_id = $2`,
		id, strings.TrimPrefix(group, "groups/"),
	).Scan(&c.Practitioner, &values[0], &values[1], &values[2], &values[3], &values[4], &c.Reference, &createTime, &handedOver, &wrapped)
	if errors.Is(err, pgx.ErrNoRows) {
		return concern.Concern{}, concern.ErrNotFound
	}
	if err != nil {
		return concern.Concern{}, fmt.Errorf("select concern: %w", err)
	}
	if handedOver != nil {
		return concern.Concern{}, concern.ErrHandedOver
	}
	plain, err := s.openValues(id, wrapped, values)
	if err != nil {
		return concern.Concern{}, err
	}
	c.ClientName, c.Description, c.Contact.Email, c.Contact.Phone, c.DesiredOutcome = plain[0], plain[1], plain[2], plain[3], plain[4]
	c.CreateTime = createTime.UTC()
	return c, nil
}

// HandOver blanks the concern's text, the outcome the client would like, the
// client's name and contact details and deletes its data key inside tx, keeping the reference and the access
// code's hash, and records when. Casework owns them from now on. A concern
// already handed over, or unknown, is left as it is. The data key stays
// while the sealed access code does (ForgetReplayCodes deletes both): the
// hand-over comes seconds after the registration, and a client whose answer
// was lost may repeat the request later than that.
func (s *Store) HandOver(ctx context.Context, tx pgx.Tx, concernName string, at time.Time) error {
	parts := strings.Split(concernName, "/")
	if len(parts) != 4 || parts[0] != "groups" || parts[2] != "concerns" {
		return fmt.Errorf("hand over: %q is not a concern name", concernName)
	}
	if _, err := uuid.Parse(parts[3]); err != nil {
		return fmt.Errorf("hand over: %q is not a concern name", concernName)
	}
	_, err := tx.Exec(ctx, `
		UPDATE concerns SET description = '', client_name = '', client_email = '', client_phone = '', desired_outcome = NULL,
		                    key_id = CASE WHEN access_code_sealed IS NULL THEN NULL ELSE key_id END,
		                    wrapped_key = CASE WHEN access_code_sealed IS NULL THEN NULL ELSE wrapped_key END,
		                    hand_over_time = $3
		WHERE id = $1 AND group_id = $2 AND hand_over_time IS NULL`,
		parts[3], parts[1], at)
	if err != nil {
		return fmt.Errorf("hand over concern: %w", err)
	}
	return nil
}

// Forget deletes everything intake still holds about a concern whose case
// casework has purged: its sessions and sign-in links, the request ids that named it and the
// concern itself with its reference and code hash, inside tx. A concern it
// no longer holds is not an error: the event may come twice.
func (s *Store) Forget(ctx context.Context, tx pgx.Tx, concernName string) error {
	group, id, ok := concern.ParseName(concernName)
	if !ok {
		return fmt.Errorf("forget: %q is not a concern name", concernName)
	}
	// The append-only access log lets this transaction, and only it,
	// delete the concern's reads.
	if _, err := tx.Exec(ctx, `SET LOCAL intake.purging = 'on'`); err != nil {
		return fmt.Errorf("forget concern: %w", err)
	}
	for _, q := range []string{
		`DELETE FROM access_log WHERE concern_id = $1`,
		`DELETE FROM client_sessions WHERE concern = $1`,
		`DELETE FROM client_sign_in_links WHERE concern = $1`,
		`DELETE FROM create_requests WHERE concern_id = $1`,
	} {
		if _, err := tx.Exec(ctx, q, id); err != nil {
			return fmt.Errorf("forget concern: %w", err)
		}
	}
	if _, err := tx.Exec(ctx, `DELETE FROM concerns WHERE id = $1 AND group_id = $2`, id, strings.TrimPrefix(group, "groups/")); err != nil {
		return fmt.Errorf("forget concern: %w", err)
	}
	return nil
}
