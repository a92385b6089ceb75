// Package store keeps concerns and client sessions in PostgreSQL. It is the
// only code that reads or writes the concerns table's columns, so that
// encryption of the confidential ones (description, client e-mail, client
// telephone) can be added here alone.
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
	"github.com/ipnmediation/disputes/platform/postgres"
	eventsv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/events/v1"
	"github.com/ipnmediation/disputes/services/intake/internal/concern"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Producer names this service in event metadata.
const Producer = "intake"

// referenceConstraint is the unique constraint on (group_id, reference).
const referenceConstraint = "concerns_group_reference_key"

// Store implements concern.Store and session.Store.
type Store struct {
	Pool *pgxpool.Pool
	// Namespace selects the event stream's subjects.
	Namespace events.Namespace
}

var _ concern.Store = (*Store)(nil)

// Create implements concern.Store: the concern row and its ConcernRegistered
// event are written in one transaction.
func (s *Store) Create(ctx context.Context, c concern.Concern, accessCodeHash string) error {
	meta := events.NewMetadata(c.Group, Producer, c.CreateTime)
	ev, err := s.Namespace.Encode(meta, "concern", "registered", &eventsv1.ConcernRegistered{
		Metadata:     meta,
		Concern:      c.Name(),
		Practitioner: c.Practitioner,
		Reference:    c.Reference,
	})
	if err != nil {
		return err
	}
	return postgres.InTx(ctx, s.Pool, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `
			INSERT INTO concerns (id, group_id, practitioner, client_name, description,
			                      client_email, client_phone, reference, access_code_hash, create_time)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
			c.ID, c.GroupID(), c.Practitioner, c.ClientName, c.Description,
			c.Contact.Email, c.Contact.Phone, c.Reference, accessCodeHash, c.CreateTime)
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == "23505" && pgErr.ConstraintName == referenceConstraint {
			return concern.ErrReferenceTaken
		}
		if err != nil {
			return fmt.Errorf("insert concern: %w", err)
		}
		return outbox.Add(ctx, tx, ev)
	})
}

// Get implements concern.Store.
func (s *Store) Get(ctx context.Context, group, id string) (concern.Concern, error) {
	c := concern.Concern{ID: id, Group: group}
	var createTime time.Time
	var handedOver *time.Time
	err := s.Pool.QueryRow(ctx, `
		SELECT practitioner, client_name, description, client_email, client_phone, reference, create_time, hand_over_time
		FROM concerns WHERE id = $1 AND group_id = $2`,
		id, strings.TrimPrefix(group, "groups/"),
	).Scan(&c.Practitioner, &c.ClientName, &c.Description, &c.Contact.Email, &c.Contact.Phone, &c.Reference, &createTime, &handedOver)
	if errors.Is(err, pgx.ErrNoRows) {
		return concern.Concern{}, concern.ErrNotFound
	}
	if err != nil {
		return concern.Concern{}, fmt.Errorf("select concern: %w", err)
	}
	if handedOver != nil {
		return concern.Concern{}, concern.ErrHandedOver
	}
	c.CreateTime = createTime.UTC()
	return c, nil
}

// HandOver blanks the concern's text, the client's name and contact details
// inside tx, keeping the reference and the access code's hash, and records
// when. Casework owns them from now on. A concern already handed over, or
// unknown, is left as it is.
func (s *Store) HandOver(ctx context.Context, tx pgx.Tx, concernName string, at time.Time) error {
	parts := strings.Split(concernName, "/")
	if len(parts) != 4 || parts[0] != "groups" || parts[2] != "concerns" {
		return fmt.Errorf("hand over: %q is not a concern name", concernName)
	}
	if _, err := uuid.Parse(parts[3]); err != nil {
		return fmt.Errorf("hand over: %q is not a concern name", concernName)
	}
	_, err := tx.Exec(ctx, `
		UPDATE concerns SET description = '', client_name = '', client_email = '', client_phone = '', hand_over_time = $3
		WHERE id = $1 AND group_id = $2 AND hand_over_time IS NULL`,
		parts[3], parts[1], at)
	if err != nil {
		return fmt.Errorf("hand over concern: %w", err)
	}
	return nil
}
