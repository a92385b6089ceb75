package store

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/ipnmediation/disputes/platform/sealed"
	procedurev1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/procedure/v1"
	"github.com/ipnmediation/disputes/services/casework/internal/casefile"
	"github.com/jackc/pgx/v5"
)

func scanCase(row pgx.Row) (casefile.Case, error) {
	var c casefile.Case
	var groupID, phase, outcome string
	var firstResponse, closed *time.Time
	var offsets []int64
	var progress []byte
	if err := row.Scan(&c.ID, &groupID, &c.Concern, &c.Reference, &c.Therapist, &phase,
		&c.RegisterTime, &c.Deadline, &c.Statement, &c.Version, &c.CreateTime,
		&c.Procedure, &c.FirstResponseDeadline, &firstResponse, &offsets,
		&c.Roles.SPT, &c.Roles.SPTNominee, &c.Roles.SPC, &c.Roles.LP, &outcome, &closed, &progress); err != nil {
		return casefile.Case{}, err
	}
	c.Group = "groups/" + groupID
	c.Phase = casefile.Phase(phase)
	c.Outcome = casefile.Outcome(outcome)
	c.RegisterTime = c.RegisterTime.UTC()
	c.Deadline = c.Deadline.UTC()
	c.CreateTime = c.CreateTime.UTC()
	c.FirstResponseDeadline = c.FirstResponseDeadline.UTC()
	if firstResponse != nil {
		c.FirstResponseTime = firstResponse.UTC()
	}
	if closed != nil {
		c.CloseTime = closed.UTC()
	}
	for _, o := range offsets {
		c.ReminderOffsets = append(c.ReminderOffsets, time.Duration(o)*time.Second)
	}
	if err := json.Unmarshal(progress, &c.Progress); err != nil {
		return casefile.Case{}, fmt.Errorf("decode progress: %w", err)
	}
	if err := readLegacyLocations(progress, &c); err != nil {
		return casefile.Case{}, err
	}
	return c, nil
}

// legacyProgress is the part of progress where casework kept meeting
// locations, in plaintext, before they became sealed documents. A case
// written since holds none; one written before keeps them until its next
// change or the re-encrypt command seals them (legacyLocationDocuments).
type legacyProgress struct {
	Meetings []struct {
		ID       string `json:"id"`
		Location string `json:"location"`
	} `json:"meetings"`
}

// readLegacyLocations sets the location of each of c's meetings that
// progress still holds in plaintext, so that it reads as before until it is
// sealed.
func readLegacyLocations(progress []byte, c *casefile.Case) error {
	if !bytes.Contains(progress, []byte(`"location"`)) {
		return nil
	}
	var legacy legacyProgress
	if err := json.Unmarshal(progress, &legacy); err != nil {
		return fmt.Errorf("decode meeting locations in progress: %w", err)
	}
	for _, l := range legacy.Meetings {
		for i := range c.Progress.Meetings {
			if m := &c.Progress.Meetings[i]; m.ID == l.ID && l.Location != "" {
				m.Location = l.Location
			}
		}
	}
	return nil
}

// legacyLocationDocuments are the meeting locations c's progress held in
// plaintext when c was read, as the sealed documents that hold them from
// now on: written by the meeting's proposer, in the role and step they
// proposed it in.
func legacyLocationDocuments(c casefile.Case) []casefile.Document {
	var docs []casefile.Document
	for _, m := range c.Progress.Meetings {
		if m.Location == "" {
			continue
		}
		d := casefile.Document{ID: uuid.NewString(), CaseID: c.ID, Kind: casefile.MeetingLocationDoc, Author: m.Proposer,
			Subject: m.Name(c), Text: m.Location, CreateTime: m.CreateTime}
		for _, t := range c.Progress.Taken {
			if t.Subject == d.Subject && t.Actor == m.Proposer {
				d.Step, d.AuthorRole = t.Step, t.Role
				break
			}
		}
		docs = append(docs, d)
	}
	return docs
}

// documentBody is what the confidential body column holds, as JSON.
type documentBody struct {
	Text      string              `json:"text,omitempty"`
	Statement *casefile.Statement `json:"statement,omitempty"`
}

func insertDocument(ctx context.Context, tx pgx.Tx, dk sealed.DataKey, d casefile.Document) error {
	raw, err := json.Marshal(documentBody{Text: d.Text, Statement: d.Statement})
	if err != nil {
		return fmt.Errorf("encode document: %w", err)
	}
	body, err := dk.Seal(string(raw), documentPurpose(d.ID))
	if err != nil {
		return fmt.Errorf("seal document %s: %w", d.ID, err)
	}
	_, err = tx.Exec(ctx, `
		INSERT INTO documents (id, case_id, kind, author, author_role, step, subject, version, body, create_time)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		d.ID, d.CaseID, string(d.Kind), d.Author, d.AuthorRole.String(), d.Step, d.Subject, d.Version, body, d.CreateTime)
	if err != nil {
		return fmt.Errorf("insert document: %w", err)
	}
	return nil
}

// amendDocument adds the client's constraints to a written statement, the
// only change a document ever sees.
func amendDocument(ctx context.Context, tx pgx.Tx, dk sealed.DataKey, d casefile.Document) error {
	if d.Statement == nil || d.Statement.Constraints == nil {
		return fmt.Errorf("amend document %s: only constraints may be added", d.ID)
	}
	var stored string
	if err := tx.QueryRow(ctx, `SELECT body FROM documents WHERE id = $1 AND case_id = $2 FOR UPDATE`, d.ID, d.CaseID).Scan(&stored); err != nil {
		return fmt.Errorf("read document to amend: %w", err)
	}
	raw, err := dk.Open(stored, documentPurpose(d.ID))
	if err != nil {
		return fmt.Errorf("amend document %s: %w", d.ID, err)
	}
	var body documentBody
	if err := json.Unmarshal([]byte(raw), &body); err != nil || body.Statement == nil {
		return fmt.Errorf("amend document %s: not a written statement", d.ID)
	}
	body.Statement.Constraints = d.Statement.Constraints
	out, err := json.Marshal(body)
	if err != nil {
		return fmt.Errorf("encode document: %w", err)
	}
	sealedOut, err := dk.Seal(string(out), documentPurpose(d.ID))
	if err != nil {
		return fmt.Errorf("seal document %s: %w", d.ID, err)
	}
	if _, err := tx.Exec(ctx, `UPDATE documents SET body = $2 WHERE id = $1`, d.ID, sealedOut); err != nil {
		return fmt.Errorf("amend document: %w", err)
	}
	return nil
}

// Documents implements casefile.Store.
func (s *Store) Documents(ctx context.Context, caseID string, kinds ...casefile.DocumentKind) ([]casefile.Document, error) {
	names := make([]string, 0, len(kinds))
	for _, k := range kinds {
		names = append(names, string(k))
	}
	// The key is read in the same statement as the documents, so that a
	// case being sealed by the re-encrypt command is seen either wholly in
	// plaintext or wholly sealed.
	rows, err := s.Pool.Query(ctx, `
		SELECT d.id::text, d.case_id::text, d.kind, d.author, d.author_role, d.step, d.subject, d.version, d.body, d.create_time, k.wrapped_key
		FROM documents d LEFT JOIN case_keys k ON k.case_id = d.case_id
		WHERE d.case_id = $1 AND d.kind = ANY($2) ORDER BY d.create_time, d.id`, caseID, names)
	if err != nil {
		return nil, fmt.Errorf("select documents: %w", err)
	}
	var (
		dk          *sealed.DataKey
		lastWrapped string
	)
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (casefile.Document, error) {
		var d casefile.Document
		var kind, role, raw string
		var wrapped *string
		if err := r.Scan(&d.ID, &d.CaseID, &kind, &d.Author, &role, &d.Step, &d.Subject, &d.Version, &raw, &d.CreateTime, &wrapped); err != nil {
			return d, err
		}
		if wrapped != nil {
			if dk == nil || *wrapped != lastWrapped {
				if dk, err = s.unwrap(d.CaseID, wrapped); err != nil {
					return d, err
				}
				lastWrapped = *wrapped
			}
			if raw, err = dk.Open(raw, documentPurpose(d.ID)); err != nil {
				return d, fmt.Errorf("document %s: %w", d.ID, err)
			}
		}
		var body documentBody
		if err := json.Unmarshal([]byte(raw), &body); err != nil {
			return d, fmt.Errorf("decode document %s: %w", d.ID, err)
		}
		d.Kind, d.AuthorRole = casefile.DocumentKind(kind), roleOf(role)
		d.Text, d.Statement, d.CreateTime = body.Text, body.Statement, d.CreateTime.UTC()
		return d, nil
	})
}

func roleOf(name string) casefile.Role { return casefile.Role(procedurev1.Role_value[name]) }

func insertEntry(ctx context.Context, tx pgx.Tx, e casefile.TimelineEntry) error {
	audience := make([]string, 0, len(e.Audience))
	for _, r := range e.Audience {
		audience = append(audience, r.String())
	}
	_, err := tx.Exec(ctx, `
		INSERT INTO timeline_entries (case_id, seq, step, title, actor, actor_role, outcome, subject, audience, create_time)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		e.CaseID, e.Seq, e.Step, e.Title, e.Actor, e.ActorRole.String(), e.Outcome, e.Subject, audience, e.CreateTime)
	if err != nil {
		return fmt.Errorf("insert timeline entry: %w", err)
	}
	return nil
}

// Timeline implements casefile.Store.
func (s *Store) Timeline(ctx context.Context, caseID string, after, limit int) ([]casefile.TimelineEntry, error) {
	rows, err := s.Pool.Query(ctx, `
		SELECT case_id::text, seq, step, title, actor, actor_role, outcome, subject, audience, create_time
		FROM timeline_entries WHERE case_id = $1 AND seq > $2 ORDER BY seq LIMIT $3`, caseID, after, limit)
	if err != nil {
		return nil, fmt.Errorf("select timeline: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (casefile.TimelineEntry, error) {
		var e casefile.TimelineEntry
		var role string
		var audience []string
		if err := r.Scan(&e.CaseID, &e.Seq, &e.Step, &e.Title, &e.Actor, &role, &e.Outcome, &e.Subject, &audience, &e.CreateTime); err != nil {
			return e, err
		}
		e.ActorRole, e.CreateTime = roleOf(role), e.CreateTime.UTC()
		for _, a := range audience {
			e.Audience = append(e.Audience, roleOf(a))
		}
		return e, nil
	})
}
