// Package store keeps cases in PostgreSQL. It is the only code that reads or
// writes the cases table's confidential columns (concern_text, client_name,
// client_email, client_phone), so that encryption at rest can be added here
// alone.
package store

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/ipnmediation/disputes/platform/events"
	"github.com/ipnmediation/disputes/platform/outbox"
	eventsv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/events/v1"
	"github.com/ipnmediation/disputes/services/casework/internal/casefile"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// Producer names this service in event metadata.
const Producer = "casework"

// Store implements casefile.Store.
type Store struct {
	Pool *pgxpool.Pool
	// Namespace selects the event stream's subjects.
	Namespace events.Namespace
}

var _ casefile.Store = (*Store)(nil)

// caseColumns are the columns of a casefile.Case, in scanCase's order. The
// confidential columns are deliberately not among them.
const caseColumns = `id::text, group_id, concern, reference, therapist, phase, register_time, deadline, ethical_statement, version, create_time`

// Open stores the case in o and its CaseOpened event inside tx, unless the
// concern already has a case: then it changes nothing, writes no event and
// returns false.
func (s *Store) Open(ctx context.Context, tx pgx.Tx, o casefile.Opening) (bool, error) {
	c := o.Case
	tag, err := tx.Exec(ctx, `
		INSERT INTO cases (id, group_id, concern, reference, therapist, phase, register_time, deadline,
		                   concern_text, client_name, client_email, client_phone, version, create_time, ethical_statement)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
		ON CONFLICT (concern) DO NOTHING`,
		c.ID, c.GroupID(), c.Concern, c.Reference, c.Therapist, string(c.Phase), c.RegisterTime, c.Deadline,
		o.Confidential.Description, o.Confidential.ClientName, o.Confidential.ClientEmail, o.Confidential.ClientPhone,
		c.Version, c.CreateTime, c.Statement)
	if err != nil {
		return false, fmt.Errorf("insert case: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return false, nil
	}
	meta := events.NewMetadata(c.Group, Producer, c.CreateTime)
	ev, err := s.Namespace.Encode(meta, "case", "opened", &eventsv1.CaseOpened{
		Metadata: meta,
		Case:     c.Name(),
		Concern:  c.Concern,
		Deadline: timestamppb.New(c.Deadline),
	})
	if err != nil {
		return false, err
	}
	if err := outbox.Add(ctx, tx, ev); err != nil {
		return false, err
	}
	return true, nil
}

// Get implements casefile.Store.
func (s *Store) Get(ctx context.Context, group, id string) (casefile.Case, error) {
	row := s.Pool.QueryRow(ctx, `SELECT `+caseColumns+` FROM cases WHERE id = $1 AND group_id = $2`,
		id, strings.TrimPrefix(group, "groups/"))
	c, err := scanCase(row)
	if errors.Is(err, pgx.ErrNoRows) {
		return casefile.Case{}, casefile.ErrNotFound
	}
	if err != nil {
		return casefile.Case{}, fmt.Errorf("select case: %w", err)
	}
	return c, nil
}

// List implements casefile.Store.
func (s *Store) List(ctx context.Context, group string, after *casefile.Cursor, limit int) ([]casefile.Case, error) {
	groupID := strings.TrimPrefix(group, "groups/")
	var rows pgx.Rows
	var err error
	if after == nil {
		rows, err = s.Pool.Query(ctx, `SELECT `+caseColumns+` FROM cases WHERE group_id = $1
			ORDER BY register_time DESC, id DESC LIMIT $2`, groupID, limit)
	} else {
		rows, err = s.Pool.Query(ctx, `SELECT `+caseColumns+` FROM cases WHERE group_id = $1
			AND (register_time, id) < ($2, $3::uuid)
			ORDER BY register_time DESC, id DESC LIMIT $4`, groupID, after.RegisterTime, after.ID, limit)
	}
	if err != nil {
		return nil, fmt.Errorf("list cases: %w", err)
	}
	cases, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (casefile.Case, error) { return scanCase(r) })
	if err != nil {
		return nil, fmt.Errorf("list cases: %w", err)
	}
	return cases, nil
}

// HasCaseFor implements casefile.Store.
func (s *Store) HasCaseFor(ctx context.Context, concern string) (bool, error) {
	var exists bool
	if err := s.Pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM cases WHERE concern = $1)`, concern).Scan(&exists); err != nil {
		return false, fmt.Errorf("look for case of concern: %w", err)
	}
	return exists, nil
}

func scanCase(row pgx.Row) (casefile.Case, error) {
	var c casefile.Case
	var groupID, phase string
	if err := row.Scan(&c.ID, &groupID, &c.Concern, &c.Reference, &c.Therapist, &phase,
		&c.RegisterTime, &c.Deadline, &c.Statement, &c.Version, &c.CreateTime); err != nil {
		return casefile.Case{}, err
	}
	c.Group = "groups/" + groupID
	c.Phase = casefile.Phase(phase)
	c.RegisterTime = c.RegisterTime.UTC()
	c.Deadline = c.Deadline.UTC()
	c.CreateTime = c.CreateTime.UTC()
	return c, nil
}
