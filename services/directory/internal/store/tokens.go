package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ipnmediation/disputes/platform/postgres"
	"github.com/ipnmediation/disputes/services/directory/internal/directory"
	"github.com/jackc/pgx/v5"
)

// tokenColumns are what a token listing shows: never the secret's hash. A
// token has a member or a link group as its holder, never both; the other
// column is NULL.
const tokenColumns = `id, group_id, COALESCE(member_id, ''), COALESCE(link_group_id, ''), display_name,
	expire_time, create_time, last_used_time, revoke_time`

func scanToken(row pgx.Row) (directory.AccessToken, error) {
	var t directory.AccessToken
	var lastUse, revoke *time.Time
	err := row.Scan(&t.ID, &t.GroupID, &t.MemberID, &t.LinkGroupID, &t.DisplayName, &t.ExpireTime, &t.CreateTime, &lastUse, &revoke)
	t.LastUseTime, t.RevokeTime = timeOrZero(lastUse), timeOrZero(revoke)
	return t, err
}

// nullable stores the empty string as NULL, so that the unused holder
// column escapes its foreign key.
func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// CreateAccessToken implements directory.Store. A member's token is held to
// its member by a foreign key. A link group's token cannot be: deleting the
// link group keeps its revoked tokens. Instead the link group's row is
// locked until the token is in, so that a DeleteLinkGroup running meanwhile
// waits and then revokes the new token too.
func (s *Store) CreateAccessToken(ctx context.Context, t directory.AccessToken) error {
	return postgres.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		if t.LinkGroupID != "" {
			var one int
			err := tx.QueryRow(ctx, `SELECT 1 FROM link_groups WHERE group_id = $1 AND id = $2 FOR KEY SHARE`, t.GroupID, t.LinkGroupID).Scan(&one)
			if err != nil {
				return fmt.Errorf("lock link group: %w", classify(err))
			}
		}
		_, err := tx.Exec(ctx, `INSERT INTO access_tokens (id, group_id, member_id, link_group_id, display_name, secret_hash, expire_time, create_time)
			VALUES ($1,$2,$3,$4,$5,$6,$7,$8)`, t.ID, t.GroupID, nullable(t.MemberID), nullable(t.LinkGroupID), t.DisplayName, t.SecretHash, t.ExpireTime, t.CreateTime)
		if err != nil {
			return fmt.Errorf("insert access token: %w", classify(err))
		}
		return nil
	})
}

// GetAccessToken implements directory.Store. A link group's token counts
// only while a link group of its id exists that is no younger than the
// token: one made again under the same id does not inherit it.
func (s *Store) GetAccessToken(ctx context.Context, id string) (directory.AccessToken, directory.Member, error) {
	var t directory.AccessToken
	var lastUse, revoke *time.Time
	err := s.pool.QueryRow(ctx, `SELECT t.id, t.group_id, COALESCE(t.member_id, ''), COALESCE(t.link_group_id, ''), t.display_name,
			t.secret_hash, t.expire_time, t.create_time, t.last_used_time, t.revoke_time
		FROM access_tokens t
		WHERE t.id = $1 AND (t.link_group_id IS NULL OR EXISTS (SELECT 1 FROM link_groups l
			WHERE l.group_id = t.group_id AND l.id = t.link_group_id AND l.create_time <= t.create_time))`, id).
		Scan(&t.ID, &t.GroupID, &t.MemberID, &t.LinkGroupID, &t.DisplayName, &t.SecretHash, &t.ExpireTime, &t.CreateTime, &lastUse, &revoke)
	if err != nil {
		return directory.AccessToken{}, directory.Member{}, fmt.Errorf("get access token: %w", classify(err))
	}
	t.LastUseTime, t.RevokeTime = timeOrZero(lastUse), timeOrZero(revoke)
	if t.MemberID == "" {
		return t, directory.Member{}, nil
	}
	m, err := s.GetMember(ctx, t.GroupID, t.MemberID)
	if err != nil {
		return directory.AccessToken{}, directory.Member{}, fmt.Errorf("token holder: %w", err)
	}
	return t, m, nil
}

// ListAccessTokens implements directory.Store. The cursor is the last token
// of the previous page; its creation time and id place the next page.
func (s *Store) ListAccessTokens(ctx context.Context, h directory.TokenHolder, after string, limit int) ([]directory.AccessToken, error) {
	// The holder column is one of two constants, never the caller's text.
	holder, id, since := "member_id", h.MemberID, ""
	if h.LinkGroupID != "" {
		holder, id = "link_group_id", h.LinkGroupID
		since = ` AND create_time >= (SELECT create_time FROM link_groups WHERE group_id = $1 AND id = $2)`
	}
	rows, err := s.pool.Query(ctx, `SELECT `+tokenColumns+` FROM access_tokens
		WHERE group_id = $1 AND `+holder+` = $2`+since+`
		  AND ($3 = '' OR (create_time, id) < (SELECT create_time, id FROM access_tokens WHERE id = $3))
		ORDER BY create_time DESC, id DESC LIMIT $4`, h.GroupID, id, after, limit)
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

// TouchAccessToken implements directory.Store.
func (s *Store) TouchAccessToken(ctx context.Context, id string, at time.Time) error {
	_, err := s.pool.Exec(ctx, `UPDATE access_tokens SET last_used_time = $2 WHERE id = $1`, id, at)
	if err != nil {
		return fmt.Errorf("touch access token: %w", err)
	}
	return nil
}

// DeleteLinkGroup implements directory.Store. The link group goes first: a
// CreateAccessToken holding it makes the delete wait, and the revocation
// after it, reading afresh, then sees that token as well.
func (s *Store) DeleteLinkGroup(ctx context.Context, groupID, id string, at time.Time) error {
	return postgres.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM link_groups WHERE group_id = $1 AND id = $2`, groupID, id)
		if err != nil {
			return fmt.Errorf("delete link group: %w", err)
		}
		if tag.RowsAffected() == 0 {
			return directory.ErrNotFound
		}
		_, err = tx.Exec(ctx, `UPDATE access_tokens SET revoke_time = $3
			WHERE group_id = $1 AND link_group_id = $2 AND revoke_time IS NULL`, groupID, id, at)
		if err != nil {
			return fmt.Errorf("revoke the link group's tokens: %w", err)
		}
		return nil
	})
}
