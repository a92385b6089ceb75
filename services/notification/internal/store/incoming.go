package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ipnmediation/disputes/services/notification/internal/dispatch"
	"github.com/ipnmediation/disputes/services/notification/internal/federation"
	"github.com/jackc/pgx/v5"
)

// Incoming implements federation.Store on the same pool as Store.
type Incoming struct {
	Store *Store
}

var _ federation.Store = Incoming{}

const incomingColumns = `id::text, group_name, notice_id, peer, from_group, from_display_name, kind, case_name, sent_time, receive_time`

func scanIncoming(row pgx.Row) (federation.Incoming, error) {
	var n federation.Incoming
	var kind string
	var sent *time.Time
	if err := row.Scan(&n.ID, &n.Group, &n.Notice.ID, &n.Peer, &n.Notice.FromGroup, &n.Notice.FromDisplayName, &kind,
		&n.Notice.Case, &sent, &n.ReceiveTime); err != nil {
		return federation.Incoming{}, err
	}
	n.Notice.Kind = dispatch.NoticeKind(kind)
	n.Notice.ToGroup = n.Group
	if sent != nil {
		n.Notice.SentTime = *sent
	}
	return n, nil
}

// Record implements federation.Store.
func (s Incoming) Record(ctx context.Context, n federation.Incoming) (federation.Incoming, error) {
	var sent *time.Time
	if !n.Notice.SentTime.IsZero() {
		sent = &n.Notice.SentTime
	}
	if _, err := s.Store.Pool.Exec(ctx, `INSERT INTO incoming_notices (id, group_name, notice_id, peer, from_group, from_display_name, kind, case_name, sent_time, receive_time)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
		ON CONFLICT (peer, notice_id, group_name) DO NOTHING`,
		n.ID, n.Group, n.Notice.ID, n.Peer, n.Notice.FromGroup, n.Notice.FromDisplayName, string(n.Notice.Kind),
		n.Notice.Case, sent, n.ReceiveTime); err != nil {
		return federation.Incoming{}, fmt.Errorf("insert incoming notice: %w", err)
	}
	got, err := scanIncoming(s.Store.Pool.QueryRow(ctx, `SELECT `+incomingColumns+` FROM incoming_notices
		WHERE peer = $1 AND notice_id = $2 AND group_name = $3`, n.Peer, n.Notice.ID, n.Group))
	if err != nil {
		return federation.Incoming{}, fmt.Errorf("read incoming notice: %w", err)
	}
	return got, nil
}

// Get implements federation.Store.
func (s Incoming) Get(ctx context.Context, group, id string) (federation.Incoming, error) {
	n, err := scanIncoming(s.Store.Pool.QueryRow(ctx, `SELECT `+incomingColumns+` FROM incoming_notices
		WHERE group_name = $1 AND id = $2::uuid`, group, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return federation.Incoming{}, dispatch.ErrNotFound
	}
	if err != nil {
		return federation.Incoming{}, fmt.Errorf("read incoming notice: %w", err)
	}
	return n, nil
}

// List implements federation.Store.
func (s Incoming) List(ctx context.Context, group string, after *federation.Cursor, limit int) ([]federation.Incoming, error) {
	var afterTime *time.Time
	var afterID *string
	if after != nil {
		afterTime, afterID = &after.ReceiveTime, &after.ID
	}
	rows, err := s.Store.Pool.Query(ctx, `SELECT `+incomingColumns+` FROM incoming_notices WHERE group_name = $1
		AND ($2::timestamptz IS NULL OR (receive_time, id) < ($2, $3::uuid))
		ORDER BY receive_time DESC, id DESC LIMIT $4`, group, afterTime, afterID, limit)
	if err != nil {
		return nil, fmt.Errorf("list incoming notices: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (federation.Incoming, error) { return scanIncoming(r) })
	if err != nil {
		return nil, fmt.Errorf("list incoming notices: %w", err)
	}
	return out, nil
}
