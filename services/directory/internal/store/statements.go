package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ipnmediation/disputes/platform/outbox"
	"github.com/ipnmediation/disputes/platform/postgres"
	eventsv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/events/v1"
	"github.com/ipnmediation/disputes/services/directory/internal/directory"
	"github.com/jackc/pgx/v5"
)

// statementStates are the words the state column holds.
var statementStates = map[directory.StatementState]string{
	directory.StatementDraft:      "draft",
	directory.StatementPublished:  "published",
	directory.StatementSuperseded: "superseded",
}

func statementState(word string) directory.StatementState {
	for state, w := range statementStates {
		if w == word {
			return state
		}
	}
	return directory.StatementUnspecified
}

const statementColumns = `group_id, version, markdown, state, create_time, publish_time`

func scanStatement(row pgx.Row) (directory.Statement, error) {
	var st directory.Statement
	var state string
	var publish *time.Time
	err := row.Scan(&st.GroupID, &st.Version, &st.Markdown, &state, &st.CreateTime, &publish)
	st.State, st.PublishTime = statementState(state), timeOrZero(publish)
	return st, err
}

// CreateStatement implements directory.Store. The group's lock makes
// concurrent drafts take consecutive numbers.
func (s *Store) CreateStatement(ctx context.Context, st directory.Statement) (directory.Statement, error) {
	var created directory.Statement
	err := postgres.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		if err := lockGroup(ctx, tx, st.GroupID); err != nil {
			return err
		}
		var err error
		created, err = scanStatement(tx.QueryRow(ctx, `INSERT INTO statements (`+statementColumns+`)
			SELECT $1, coalesce(max(version), 0) + 1, $2, $3, $4, NULL FROM statements WHERE group_id = $1
			RETURNING `+statementColumns,
			st.GroupID, st.Markdown, statementStates[st.State], st.CreateTime))
		if err != nil {
			return fmt.Errorf("insert statement: %w", classify(err))
		}
		return nil
	})
	return created, err
}

// GetStatement implements directory.Store.
func (s *Store) GetStatement(ctx context.Context, groupID string, version int) (directory.Statement, error) {
	st, err := scanStatement(s.pool.QueryRow(ctx, `SELECT `+statementColumns+` FROM statements WHERE group_id = $1 AND version = $2`, groupID, version))
	if err != nil {
		return directory.Statement{}, fmt.Errorf("get statement: %w", classify(err))
	}
	return st, nil
}

// GetPublishedStatement implements directory.Store.
func (s *Store) GetPublishedStatement(ctx context.Context, groupID string) (directory.Statement, error) {
	st, err := scanStatement(s.pool.QueryRow(ctx, `SELECT `+statementColumns+` FROM statements WHERE group_id = $1 AND state = 'published'`, groupID))
	if err != nil {
		return directory.Statement{}, fmt.Errorf("get published statement: %w", classify(err))
	}
	return st, nil
}

// ListStatements implements directory.Store.
func (s *Store) ListStatements(ctx context.Context, groupID string, before, limit int, withDrafts bool) ([]directory.Statement, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+statementColumns+` FROM statements
		WHERE group_id = $1 AND ($2 = 0 OR version < $2) AND (state <> 'draft' OR $3)
		ORDER BY version DESC LIMIT $4`, groupID, before, withDrafts, limit)
	if err != nil {
		return nil, fmt.Errorf("list statements: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (directory.Statement, error) { return scanStatement(r) })
}

// PublishStatement implements directory.Store. The version in force is
// superseded before the draft is published, so that the index allowing one
// published version per group holds at every step.
func (s *Store) PublishStatement(ctx context.Context, groupID string, version int, at time.Time) (directory.Statement, int, error) {
	var published directory.Statement
	var superseded int
	err := postgres.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		if err := lockGroup(ctx, tx, groupID); err != nil {
			return err
		}
		var state string
		err := tx.QueryRow(ctx, `SELECT state FROM statements WHERE group_id = $1 AND version = $2`, groupID, version).Scan(&state)
		if err != nil {
			return fmt.Errorf("read statement: %w", classify(err))
		}
		if statementState(state) != directory.StatementDraft {
			return directory.ErrNotDraft
		}
		err = tx.QueryRow(ctx, `UPDATE statements SET state = 'superseded' WHERE group_id = $1 AND state = 'published' RETURNING version`,
			groupID).Scan(&superseded)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("supersede statement: %w", err)
		}
		published, err = scanStatement(tx.QueryRow(ctx, `UPDATE statements SET state = 'published', publish_time = $3
			WHERE group_id = $1 AND version = $2 RETURNING `+statementColumns, groupID, version, at))
		if err != nil {
			return fmt.Errorf("publish statement: %w", err)
		}
		meta := eventMetadataAt(groupID, at)
		msg := &eventsv1.StatementPublished{Metadata: meta, Statement: directory.StatementName(groupID, version)}
		if superseded != 0 {
			msg.Superseded = directory.StatementName(groupID, superseded)
		}
		ev, err := s.ns.Encode(meta, "statement", "published", msg)
		if err != nil {
			return err
		}
		return outbox.Add(ctx, tx, ev)
	})
	return published, superseded, err
}
