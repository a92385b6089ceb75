// Package store keeps cases in PostgreSQL. It is the only code that reads or
// writes the confidential columns (cases.concern_text, client_name,
// client_email, client_phone, desired_outcome and documents.body), and it
// stores them only as
// ciphertext under the case's data key (keys.go, package sealed): a leaked
// dump or backup shows none of the client's words. Every other column, and
// cases.progress, holds facts only (ids, names, times, states, outcomes);
// whatever a person types in a case, meeting locations included, is a
// document.
package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ipnmediation/disputes/platform/events"
	"github.com/ipnmediation/disputes/platform/outbox"
	"github.com/ipnmediation/disputes/platform/postgres"
	"github.com/ipnmediation/disputes/platform/sealed"
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
	// Keys wrap the cases' data keys. Required for anything that reads or
	// writes confidential text.
	Keys *sealed.Keyring
	// TimerFired, when set, is told how late each announced timer fired,
	// after its due time (metrics).
	TimerFired func(late time.Duration)
}

var _ casefile.Store = (*Store)(nil)

// caseColumns are the columns of a casefile.Case, in scanCase's order. The
// confidential columns are deliberately not among them.
const caseColumns = `id::text, group_id, concern, reference, therapist, phase, register_time, deadline, ethical_statement, version, create_time,
	procedure, first_response_deadline, first_response_time, reminder_offsets, spt, spt_nominee, spc, lp, outcome, close_time, progress`

// Open stores the case in o and its CaseOpened event inside tx, unless the
// concern already has a case: then it changes nothing, writes no event and
// returns false.
func (s *Store) Open(ctx context.Context, tx pgx.Tx, o casefile.Opening) (bool, error) {
	c := o.Case
	dk, insertKey, err := s.newCaseKey(ctx, tx, c.ID)
	if err != nil {
		return false, err
	}
	confidential, err := sealConfidential(dk, c.ID, confidentialValues(o.Confidential))
	if err != nil {
		return false, err
	}
	// No conflict target: a case takes its concern's id, so a second
	// opening of the same concern conflicts on the id and the concern at
	// once, and either must leave the first alone.
	tag, err := tx.Exec(ctx, `
		INSERT INTO cases (id, group_id, concern, reference, therapist, phase, register_time, deadline,
		                   concern_text, client_name, client_email, client_phone, version, create_time, ethical_statement,
		                   procedure, first_response_deadline, reminder_offsets, desired_outcome,
		                   awaiting_members, awaiting_any_member, awaiting_excluded, awaiting_version)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $13)
		ON CONFLICT DO NOTHING`,
		c.ID, c.GroupID(), c.Concern, c.Reference, c.Therapist, string(c.Phase), c.RegisterTime, c.Deadline,
		confidential[0], confidential[1], confidential[2], confidential[3],
		c.Version, c.CreateTime, c.Statement, c.Procedure, c.FirstResponseDeadline, offsetSeconds(c.ReminderOffsets), confidential[4],
		members(o.Awaiting.Members), o.Awaiting.AnyMember, members(o.Awaiting.Excluded))
	if err != nil {
		return false, fmt.Errorf("insert case: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return false, nil
	}
	if err := insertKey(); err != nil {
		return false, err
	}
	entry := c.OpeningEntry()
	if _, err := tx.Exec(ctx, `UPDATE cases SET progress = jsonb_build_object('entries', 1) WHERE id = $1`, c.ID); err != nil {
		return false, fmt.Errorf("start progress: %w", err)
	}
	if err := insertEntry(ctx, tx, entry); err != nil {
		return false, err
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
	return s.one(ctx, s.Pool, `WHERE id = $1 AND group_id = $2`, id, strings.TrimPrefix(group, "groups/"))
}

// ByConcern implements casefile.Store.
func (s *Store) ByConcern(ctx context.Context, concern string) (casefile.Case, error) {
	return s.one(ctx, s.Pool, `WHERE concern = $1`, concern)
}

func (s *Store) one(ctx context.Context, q querier, where string, args ...any) (casefile.Case, error) {
	c, err := scanCase(q.QueryRow(ctx, `SELECT `+caseColumns+` FROM cases `+where, args...))
	if errors.Is(err, pgx.ErrNoRows) {
		return casefile.Case{}, casefile.ErrNotFound
	}
	if err != nil {
		return casefile.Case{}, fmt.Errorf("select case: %w", err)
	}
	return c, nil
}

// querier is a pool or a transaction.
type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// roleColumns are the columns a role filter of ListCases compares with.
var roleColumns = map[casefile.Role]string{
	casefile.RoleTherapist: "therapist",
	casefile.RoleSPT:       "spt",
	casefile.RoleNominee:   "spt_nominee",
	casefile.RoleSPC:       "spc",
	casefile.RoleLP:        "lp",
}

// List implements casefile.Store. The cases are chosen by their ids
// first, from the columns the list indexes hold (cases_open_deadline_list_idx,
// cases_open_list_idx: group, order and whom a case waits for), and only
// the rows of the page are then read whole, so that a member's page of the
// cases waiting for them reads the cases it returns and not the others.
func (s *Store) List(ctx context.Context, group string, f casefile.Filter, after *casefile.Cursor, limit int) ([]casefile.Case, error) {
	q, err := listQuery(group, f)
	if err != nil {
		return nil, fmt.Errorf("list cases: %w", err)
	}
	order := "register_time DESC, id DESC"
	if f.Order == casefile.DeadlineFirst {
		order = "deadline, id"
	}
	if after != nil {
		switch after.Order {
		case casefile.DeadlineFirst:
			q.where = append(q.where, "(deadline, id) > ("+q.arg(after.Deadline)+", "+q.arg(after.ID)+"::uuid)")
		default:
			q.where = append(q.where, "(register_time, id) < ("+q.arg(after.RegisterTime)+", "+q.arg(after.ID)+"::uuid)")
		}
	}
	rows, err := s.Pool.Query(ctx, `SELECT `+caseColumns+` FROM cases WHERE id = ANY (ARRAY(
			SELECT id FROM cases WHERE `+strings.Join(q.where, " AND ")+` ORDER BY `+order+` LIMIT `+q.arg(limit)+`))
		ORDER BY `+order, q.args...)
	if err != nil {
		return nil, fmt.Errorf("list cases: %w", err)
	}
	cases, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (casefile.Case, error) { return scanCase(r) })
	if err != nil {
		return nil, fmt.Errorf("list cases: %w", err)
	}
	return cases, nil
}

// Count implements casefile.Store.
func (s *Store) Count(ctx context.Context, group string, f casefile.Filter) (int, error) {
	q, err := listQuery(group, f)
	if err != nil {
		return 0, fmt.Errorf("count cases: %w", err)
	}
	var n int
	if err := s.Pool.QueryRow(ctx, `SELECT count(*) FROM cases WHERE `+strings.Join(q.where, " AND "), q.args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("count cases: %w", err)
	}
	return n, nil
}

// query is a WHERE clause being built, with its arguments.
type query struct {
	where []string
	args  []any
}

// arg adds v as the next argument and returns its placeholder.
func (q *query) arg(v any) string {
	q.args = append(q.args, v)
	return fmt.Sprintf("$%d", len(q.args))
}

// listQuery is the WHERE clause of the cases of group that pass f.
func listQuery(group string, f casefile.Filter) (*query, error) {
	q := &query{}
	q.where = append(q.where, "group_id = "+q.arg(strings.TrimPrefix(group, "groups/")))
	if f.Phase != "" {
		q.where = append(q.where, "phase = "+q.arg(string(f.Phase)))
	}
	if f.Role != 0 {
		column, ok := roleColumns[f.Role]
		if !ok {
			return nil, fmt.Errorf("no column for role %v", f.Role)
		}
		q.where = append(q.where, column+" = "+q.arg(f.Member))
	}
	if f.Overdue {
		q.where = append(q.where, "close_time IS NULL AND deadline < "+q.arg(f.Now))
	}
	if f.Open || f.Awaiting != casefile.AwaitingAny {
		q.where = append(q.where, "close_time IS NULL")
	}
	if f.Awaiting != casefile.AwaitingAny {
		// casefile.Awaiting.Includes, in SQL. Nobody but a member is
		// awaited.
		awaited := "false"
		if f.Member != "" {
			m := q.arg(f.Member)
			awaited = "(" + m + " = ANY (awaiting_members) OR (awaiting_any_member AND NOT " + m + " = ANY (awaiting_excluded)))"
		}
		switch f.Awaiting {
		case casefile.AwaitingCaller:
			q.where = append(q.where, awaited)
		case casefile.AwaitingOthers:
			q.where = append(q.where, "NOT "+awaited)
		default:
			return nil, fmt.Errorf("no query for awaiting filter %v", f.Awaiting)
		}
	}
	return q, nil
}

// HasCaseFor implements casefile.Store.
func (s *Store) HasCaseFor(ctx context.Context, concern string) (bool, error) {
	var exists bool
	if err := s.Pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM cases WHERE concern = $1)`, concern).Scan(&exists); err != nil {
		return false, fmt.Errorf("look for case of concern: %w", err)
	}
	return exists, nil
}

// Update implements casefile.Store.
func (s *Store) Update(ctx context.Context, group, id string, change func(casefile.Case) (casefile.Change, error)) (casefile.Change, error) {
	var out casefile.Change
	err := postgres.InTx(ctx, s.Pool, func(tx pgx.Tx) error {
		before, err := s.one(ctx, tx, `WHERE id = $1 AND group_id = $2 FOR UPDATE`, id, strings.TrimPrefix(group, "groups/"))
		if err != nil {
			return err
		}
		ch, err := change(before)
		if err != nil {
			return err
		}
		c := ch.Case
		c.Version = before.Version + 1
		ch.Case = c
		progress, err := json.Marshal(c.Progress)
		if err != nil {
			return fmt.Errorf("encode progress: %w", err)
		}
		tag, err := tx.Exec(ctx, `
			UPDATE cases SET phase = $3, spt = $4, spt_nominee = $5, spc = $6, lp = $7, outcome = $8,
			       close_time = $9, first_response_time = $10, progress = $11, version = $12,
			       awaiting_members = $13, awaiting_any_member = $14, awaiting_excluded = $15, awaiting_version = $12
			WHERE id = $1 AND version = $2`,
			c.ID, before.Version, string(c.Phase), c.Roles.SPT, c.Roles.SPTNominee, c.Roles.SPC, c.Roles.LP,
			string(c.Outcome), nullTime(c.CloseTime), nullTime(c.FirstResponseTime), progress, c.Version,
			members(ch.Awaiting.Members), ch.Awaiting.AnyMember, members(ch.Awaiting.Excluded))
		if err != nil {
			return fmt.Errorf("update case: %w", err)
		}
		if tag.RowsAffected() != 1 {
			return casefile.ErrStale
		}
		// progress was just written without the locations a case from
		// before they were sealed still held there; they are sealed in
		// this same transaction, so that none is lost.
		created := append(legacyLocationDocuments(before), ch.Created...)
		var dk sealed.DataKey
		if len(created) > 0 || len(ch.Amended) > 0 {
			if dk, err = s.caseKey(ctx, tx, c.ID); err != nil {
				return err
			}
		}
		for _, d := range created {
			if err := insertDocument(ctx, tx, dk, d); err != nil {
				return err
			}
		}
		for _, d := range ch.Amended {
			if err := amendDocument(ctx, tx, dk, d); err != nil {
				return err
			}
		}
		if ch.Entry.Seq > 0 {
			if err := insertEntry(ctx, tx, ch.Entry); err != nil {
				return err
			}
		}
		if err := s.writeEvents(ctx, tx, ch); err != nil {
			return err
		}
		out = ch
		return nil
	})
	return out, err
}

func nullTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// writeEvents adds the change's events to the outbox.
func (s *Store) writeEvents(ctx context.Context, tx pgx.Tx, ch casefile.Change) error {
	c := ch.Case
	at := ch.Entry.CreateTime
	if e := ch.Event; e != nil {
		meta := events.NewMetadata(c.Group, Producer, at)
		ev, err := s.Namespace.Encode(meta, "case", e.Step, &eventsv1.CaseStepTaken{
			Metadata:    meta,
			Case:        c.Name(),
			Step:        e.Step,
			Action:      e.Action.String(),
			ActorRole:   e.ActorRole.String(),
			Outcome:     e.Outcome,
			Phase:       casefile.ProcedurePhase(c.Phase).String(),
			Subject:     e.Subject,
			CaseVersion: int32(c.Version),
		})
		if err != nil {
			return err
		}
		if err := outbox.Add(ctx, tx, ev); err != nil {
			return err
		}
	}
	for _, m := range ch.Messages {
		meta := events.NewMetadata(c.Group, Producer, at)
		ev, err := s.Namespace.Encode(meta, "case", "message_posted", &eventsv1.CaseMessagePosted{
			Metadata: meta, Case: c.Name(), Message: m.Message, SenderRole: m.SenderRole.String(),
		})
		if err != nil {
			return err
		}
		if err := outbox.Add(ctx, tx, ev); err != nil {
			return err
		}
	}
	return nil
}

// Confidential implements casefile.Store.
func (s *Store) Confidential(ctx context.Context, caseID string) (casefile.Confidential, error) {
	return s.confidential(ctx, s.Pool, caseID)
}

func (s *Store) confidential(ctx context.Context, q querier, caseID string) (casefile.Confidential, error) {
	var values [5]string
	var wrapped *string
	err := q.QueryRow(ctx, `
		SELECT `+confidentialSelect+`, k.wrapped_key
		FROM cases c LEFT JOIN case_keys k ON k.case_id = c.id WHERE c.id = $1`, caseID).
		Scan(&values[0], &values[1], &values[2], &values[3], &values[4], &wrapped)
	if errors.Is(err, pgx.ErrNoRows) {
		return casefile.Confidential{}, casefile.ErrNotFound
	}
	if err != nil {
		return casefile.Confidential{}, fmt.Errorf("select confidential: %w", err)
	}
	dk, err := s.unwrap(caseID, wrapped)
	if err != nil {
		return casefile.Confidential{}, err
	}
	plain, err := openConfidential(dk, caseID, values)
	if err != nil {
		return casefile.Confidential{}, err
	}
	return confidentialOf(plain), nil
}

func offsetSeconds(offsets []time.Duration) []int64 {
	out := make([]int64, 0, len(offsets))
	for _, o := range offsets {
		out = append(out, int64(o/time.Second))
	}
	return out
}
