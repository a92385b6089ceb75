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

var _ directory.SignInStore = (*Store)(nil)

// MemberByEmail implements directory.SignInStore.
func (s *Store) MemberByEmail(ctx context.Context, groupID, email string) (directory.Member, error) {
	m, err := scanMember(s.pool.QueryRow(ctx, `SELECT `+memberColumns+` FROM members
		WHERE group_id = $1 AND lower(email) = $2 AND active ORDER BY join_time, id LIMIT 1`, groupID, email))
	if err != nil {
		return directory.Member{}, fmt.Errorf("member by e-mail: %w", classify(err))
	}
	return m, nil
}

// CreateSignInLink implements directory.SignInStore.
func (s *Store) CreateSignInLink(ctx context.Context, l directory.SignInLink) error {
	return postgres.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM sign_in_links WHERE expire_time < $1`, l.CreateTime.Add(-24*time.Hour)); err != nil {
			return fmt.Errorf("delete old sign-in links: %w", err)
		}
		_, err := tx.Exec(ctx, `INSERT INTO sign_in_links (secret_hash, group_id, member_id, create_time, expire_time)
			VALUES ($1,$2,$3,$4,$5)`, l.SecretHash, l.GroupID, l.MemberID, l.CreateTime, l.ExpireTime)
		if err != nil {
			return fmt.Errorf("insert sign-in link: %w", classify(err))
		}
		return nil
	})
}

// UseSignInLink implements directory.SignInStore. The link's row stays
// locked from the read to the commit, so two uses at once are one after the
// other: the second sees the first's use_time.
func (s *Store) UseSignInLink(ctx context.Context, hash []byte, use func(directory.SignInLink) (directory.MemberSession, error)) (directory.MemberSession, error) {
	var session directory.MemberSession
	err := postgres.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		var l directory.SignInLink
		var used *time.Time
		err := tx.QueryRow(ctx, `SELECT secret_hash, group_id, member_id, create_time, expire_time, use_time
			FROM sign_in_links WHERE secret_hash = $1 FOR UPDATE`, hash).
			Scan(&l.SecretHash, &l.GroupID, &l.MemberID, &l.CreateTime, &l.ExpireTime, &used)
		if err != nil {
			return fmt.Errorf("get sign-in link: %w", classify(err))
		}
		l.UseTime = timeOrZero(used)
		if session, err = use(l); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE sign_in_links SET use_time = $2 WHERE secret_hash = $1`, hash, session.CreateTime); err != nil {
			return fmt.Errorf("mark sign-in link used: %w", err)
		}
		_, err = tx.Exec(ctx, `INSERT INTO member_sessions (id, group_id, member_id, secret_hash, create_time, expire_time)
			VALUES ($1,$2,$3,$4,$5,$6)`, session.ID, session.GroupID, session.MemberID, session.SecretHash, session.CreateTime, session.ExpireTime)
		if err != nil {
			return fmt.Errorf("insert member session: %w", classify(err))
		}
		return nil
	})
	return session, err
}

// sessionColumns are what a session listing shows: never the hash.
const sessionColumns = `id, group_id, member_id, create_time, expire_time, last_used_time, revoke_time`

func scanSession(row pgx.Row) (directory.MemberSession, error) {
	var m directory.MemberSession
	var lastUse, revoke *time.Time
	err := row.Scan(&m.ID, &m.GroupID, &m.MemberID, &m.CreateTime, &m.ExpireTime, &lastUse, &revoke)
	m.LastUseTime, m.RevokeTime = timeOrZero(lastUse), timeOrZero(revoke)
	return m, err
}

// GetMemberSession implements directory.SignInStore.
func (s *Store) GetMemberSession(ctx context.Context, id string) (directory.MemberSession, directory.Member, error) {
	var m directory.MemberSession
	var lastUse, revoke *time.Time
	err := s.pool.QueryRow(ctx, `SELECT `+sessionColumns+`, secret_hash FROM member_sessions WHERE id = $1`, id).
		Scan(&m.ID, &m.GroupID, &m.MemberID, &m.CreateTime, &m.ExpireTime, &lastUse, &revoke, &m.SecretHash)
	if err != nil {
		return directory.MemberSession{}, directory.Member{}, fmt.Errorf("get member session: %w", classify(err))
	}
	m.LastUseTime, m.RevokeTime = timeOrZero(lastUse), timeOrZero(revoke)
	member, err := s.GetMember(ctx, m.GroupID, m.MemberID)
	if err != nil {
		return directory.MemberSession{}, directory.Member{}, fmt.Errorf("session's member: %w", err)
	}
	return m, member, nil
}

// ListMemberSessions implements directory.SignInStore.
func (s *Store) ListMemberSessions(ctx context.Context, groupID, memberID, after string, limit int) ([]directory.MemberSession, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+sessionColumns+` FROM member_sessions
		WHERE group_id = $1 AND member_id = $2
		  AND ($3 = '' OR (create_time, id) < (SELECT create_time, id FROM member_sessions WHERE id = $3))
		ORDER BY create_time DESC, id DESC LIMIT $4`, groupID, memberID, after, limit)
	if err != nil {
		return nil, fmt.Errorf("list member sessions: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (directory.MemberSession, error) { return scanSession(r) })
}

// RevokeMemberSession implements directory.SignInStore.
func (s *Store) RevokeMemberSession(ctx context.Context, id string, at time.Time) (directory.MemberSession, error) {
	m, err := scanSession(s.pool.QueryRow(ctx, `UPDATE member_sessions SET revoke_time = $2
		WHERE id = $1 AND revoke_time IS NULL RETURNING `+sessionColumns, id, at))
	if errors.Is(err, pgx.ErrNoRows) {
		return directory.MemberSession{}, directory.ErrStale
	}
	if err != nil {
		return directory.MemberSession{}, fmt.Errorf("revoke member session: %w", err)
	}
	return m, nil
}

// TouchMemberSession implements directory.SignInStore.
func (s *Store) TouchMemberSession(ctx context.Context, id string, at time.Time) error {
	if _, err := s.pool.Exec(ctx, `UPDATE member_sessions SET last_used_time = $2 WHERE id = $1`, id, at); err != nil {
		return fmt.Errorf("touch member session: %w", err)
	}
	return nil
}
