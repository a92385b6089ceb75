package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ipnmediation/disputes/services/directory/internal/directory"
	"github.com/jackc/pgx/v5"
)

// tokenColumns are what a token listing shows: never the secret's hash.
const tokenColumns = `id, group_id, member_id, display_name, expire_time, create_time, last_used_time, revoke_time`

func scanToken(row pgx.Row) (directory.AccessToken, error) {
	var t directory.AccessToken
	var lastUse, revoke *time.Time
	err := row.Scan(&t.ID, &t.GroupID, &t.MemberID, &t.DisplayName, &t.ExpireTime, &t.CreateTime, &lastUse, &revoke)
	t.LastUseTime, t.RevokeTime = timeOrZero(lastUse), timeOrZero(revoke)
	return t, err
}

// ListAccessTokens implements directory.Store. The cursor is the last token
// of the previous page; its creation time and id place the next page.
func (s *Store) ListAccessTokens(ctx context.Context, groupID, memberID, after string, limit int) ([]directory.AccessToken, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+tokenColumns+` FROM access_tokens
		WHERE group_id = $1 AND member_id = $2
		  AND ($3 = '' OR (create_time, id) < (SELECT create_time, id FROM access_tokens WHERE id = $3))
		ORDER BY create_time DESC, id DESC LIMIT $4`, groupID, memberID, after, limit)
	if err != nil {
		return nil, fmt.Errorf("list access tokens: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (directory.AccessToken, error) { return scanToken(r) })
}

// RevokeAccessToken implements directory.Store.
func (s *Store) RevokeAccessToken(ctx context.Context, id string, at time.Time) (directory.AccessToken, error) {
	t, err := scanToken(s.pool.QueryRow(ctx, `UPDATE access_tokens SET revoke_time = $2
		WHERE id = $1 AND revoke_time IS NULL RETURNING `+tokenColumns, id, at))
	if errors.Is(err, pgx.ErrNoRows) {
		return directory.AccessToken{}, directory.ErrStale
	}
	if err != nil {
		return directory.AccessToken{}, fmt.Errorf("revoke access token: %w", err)
	}
	return t, nil
}
