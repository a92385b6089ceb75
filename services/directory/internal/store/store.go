// Package store keeps the directory in PostgreSQL.
package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ipnmediation/disputes/platform/events"
	"github.com/ipnmediation/disputes/platform/outbox"
	"github.com/ipnmediation/disputes/platform/postgres"
	eventsv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/events/v1"
	"github.com/ipnmediation/disputes/services/directory/internal/directory"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Producer names this service in event metadata.
const Producer = "directory"

// Store implements directory.Store on a pgx pool whose search_path is the
// directory's schema. Changes that others hear about are written together
// with their event in the outbox.
type Store struct {
	pool *pgxpool.Pool
	ns   events.Namespace
}

// New returns a Store on pool whose events go to the stream of ns.
func New(pool *pgxpool.Pool, ns events.Namespace) *Store { return &Store{pool: pool, ns: ns} }

var _ directory.Store = (*Store)(nil)

// classify maps PostgreSQL errors to the domain's.
func classify(err error) error {
	var pgErr *pgconn.PgError
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return directory.ErrNotFound
	case errors.As(err, &pgErr) && pgErr.Code == "23505": // unique_violation
		return directory.ErrAlreadyExists
	case errors.As(err, &pgErr) && pgErr.Code == "23503": // foreign_key_violation
		return directory.ErrNotFound
	}
	return err
}

func seconds(ds []time.Duration) []int64 {
	out := make([]int64, len(ds))
	for i, d := range ds {
		out[i] = int64(d / time.Second)
	}
	return out
}

func durations(ss []int64) []time.Duration {
	out := make([]time.Duration, len(ss))
	for i, s := range ss {
		out[i] = time.Duration(s) * time.Second
	}
	return out
}

const groupColumns = `id, display_name, ipn_status, status_since_year, meeting_frequency, public_contact,
	overall_target_s, first_response_target_s, reminder_offsets_s, procedure_name, create_time, update_time, version, retention_s, member_session_lifetime_s`

func scanGroup(row pgx.Row) (directory.Group, error) {
	var g directory.Group
	var overall, first, retention, sessionLifetime int64
	var offsets []int64
	err := row.Scan(&g.ID, &g.DisplayName, &g.IPNStatus, &g.StatusSinceYear, &g.MeetingFrequency, &g.PublicContact,
		&overall, &first, &offsets, &g.Settings.Procedure, &g.CreateTime, &g.UpdateTime, &g.Version, &retention, &sessionLifetime)
	g.Settings.Retention = time.Duration(retention) * time.Second
	g.Settings.MemberSessionLifetime = time.Duration(sessionLifetime) * time.Second
	g.Settings.OverallTarget = time.Duration(overall) * time.Second
	g.Settings.FirstResponseTarget = time.Duration(first) * time.Second
	g.Settings.ReminderOffsets = durations(offsets)
	return g, err
}

// CreateGroup implements directory.Store.
func (s *Store) CreateGroup(ctx context.Context, g directory.Group) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO groups (`+groupColumns+`) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15)`,
		g.ID, g.DisplayName, g.IPNStatus, g.StatusSinceYear, g.MeetingFrequency, g.PublicContact,
		int64(g.Settings.OverallTarget/time.Second), int64(g.Settings.FirstResponseTarget/time.Second), seconds(g.Settings.ReminderOffsets),
		g.Settings.Procedure, g.CreateTime, g.UpdateTime, g.Version, int64(g.Settings.Retention/time.Second),
		int64(g.Settings.MemberSessionLifetime/time.Second))
	if err != nil {
		return fmt.Errorf("insert group: %w", classify(err))
	}
	return nil
}

// GetGroup implements directory.Store.
func (s *Store) GetGroup(ctx context.Context, id string) (directory.Group, error) {
	g, err := scanGroup(s.pool.QueryRow(ctx, `SELECT `+groupColumns+` FROM groups WHERE id = $1`, id))
	if err != nil {
		return directory.Group{}, fmt.Errorf("get group: %w", classify(err))
	}
	return g, nil
}

// ListGroups implements directory.Store.
func (s *Store) ListGroups(ctx context.Context, after string, limit int) ([]directory.Group, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+groupColumns+` FROM groups WHERE id > $1 ORDER BY id LIMIT $2`, after, limit)
	if err != nil {
		return nil, fmt.Errorf("list groups: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (directory.Group, error) { return scanGroup(r) })
}

// UpdateGroup implements directory.Store.
func (s *Store) UpdateGroup(ctx context.Context, g directory.Group) (directory.Group, error) {
	updated, err := scanGroup(s.pool.QueryRow(ctx, `UPDATE groups SET display_name = $2, ipn_status = $3, status_since_year = $4,
		meeting_frequency = $5, public_contact = $6, overall_target_s = $7, first_response_target_s = $8,
		reminder_offsets_s = $9, procedure_name = $12, retention_s = $13, member_session_lifetime_s = $14, update_time = $10, version = version + 1
		WHERE id = $1 AND version = $11 RETURNING `+groupColumns,
		g.ID, g.DisplayName, g.IPNStatus, g.StatusSinceYear, g.MeetingFrequency, g.PublicContact,
		int64(g.Settings.OverallTarget/time.Second), int64(g.Settings.FirstResponseTarget/time.Second), seconds(g.Settings.ReminderOffsets),
		g.UpdateTime, g.Version, g.Settings.Procedure, int64(g.Settings.Retention/time.Second),
		int64(g.Settings.MemberSessionLifetime/time.Second)))
	if errors.Is(err, pgx.ErrNoRows) {
		return directory.Group{}, directory.ErrStale
	}
	if err != nil {
		return directory.Group{}, fmt.Errorf("update group: %w", classify(err))
	}
	return updated, nil
}

const memberColumns = `group_id, id, display_name, active, email, phone, training, qualifications, experience,
	way_of_working, group_admin, join_time, leave_time, version`

func scanMember(row pgx.Row) (directory.Member, error) {
	var m directory.Member
	var leave *time.Time
	err := row.Scan(&m.GroupID, &m.ID, &m.DisplayName, &m.Active, &m.Email, &m.Phone, &m.Profile.Training,
		&m.Profile.Qualifications, &m.Profile.Experience, &m.Profile.WayOfWorking, &m.GroupAdmin, &m.JoinTime, &leave, &m.Version)
	if leave != nil {
		m.LeaveTime = *leave
	}
	return m, err
}

// CreateMember implements directory.Store.
func (s *Store) CreateMember(ctx context.Context, m directory.Member) error {
	var leave *time.Time
	if !m.LeaveTime.IsZero() {
		leave = &m.LeaveTime
	}
	meta := eventMetadataAt(m.GroupID, m.JoinTime)
	ev, err := s.ns.Encode(meta, "member", "joined", &eventsv1.MemberJoined{Metadata: meta, Member: memberName(m)})
	if err != nil {
		return err
	}
	return postgres.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO members (`+memberColumns+`) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14)`,
			m.GroupID, m.ID, m.DisplayName, m.Active, m.Email, m.Phone, m.Profile.Training, m.Profile.Qualifications,
			m.Profile.Experience, m.Profile.WayOfWorking, m.GroupAdmin, m.JoinTime, leave, m.Version)
		if err != nil {
			return fmt.Errorf("insert member: %w", classify(err))
		}
		return outbox.Add(ctx, tx, ev)
	})
}

// GetMember implements directory.Store.
func (s *Store) GetMember(ctx context.Context, groupID, id string) (directory.Member, error) {
	m, err := scanMember(s.pool.QueryRow(ctx, `SELECT `+memberColumns+` FROM members WHERE group_id = $1 AND id = $2`, groupID, id))
	if err != nil {
		return directory.Member{}, fmt.Errorf("get member: %w", classify(err))
	}
	return m, nil
}

// ListMembers implements directory.Store.
func (s *Store) ListMembers(ctx context.Context, groupID, after string, limit int, activeOnly bool) ([]directory.Member, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+memberColumns+` FROM members
		WHERE group_id = $1 AND id > $2 AND (active OR NOT $3) ORDER BY id LIMIT $4`, groupID, after, activeOnly, limit)
	if err != nil {
		return nil, fmt.Errorf("list members: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (directory.Member, error) { return scanMember(r) })
}

// CreateLinkGroup implements directory.Store.
func (s *Store) CreateLinkGroup(ctx context.Context, l directory.LinkGroup) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO link_groups (group_id, id, display_name, local_group, contact_email, grpc_endpoint, create_time)
		VALUES ($1,$2,$3,$4,$5,$6,$7)`, l.GroupID, l.ID, l.DisplayName, l.LocalGroup, l.ContactEmail, l.GRPCEndpoint, l.CreateTime)
	if err != nil {
		return fmt.Errorf("insert link group: %w", classify(err))
	}
	return nil
}

const linkGroupColumns = `group_id, id, display_name, local_group, contact_email, grpc_endpoint, create_time`

func scanLinkGroup(row pgx.Row) (directory.LinkGroup, error) {
	var l directory.LinkGroup
	err := row.Scan(&l.GroupID, &l.ID, &l.DisplayName, &l.LocalGroup, &l.ContactEmail, &l.GRPCEndpoint, &l.CreateTime)
	return l, err
}

// GetLinkGroup implements directory.Store.
func (s *Store) GetLinkGroup(ctx context.Context, groupID, id string) (directory.LinkGroup, error) {
	l, err := scanLinkGroup(s.pool.QueryRow(ctx, `SELECT `+linkGroupColumns+` FROM link_groups WHERE group_id = $1 AND id = $2`, groupID, id))
	if err != nil {
		return directory.LinkGroup{}, fmt.Errorf("get link group: %w", classify(err))
	}
	return l, nil
}

// ListLinkGroups implements directory.Store.
func (s *Store) ListLinkGroups(ctx context.Context, groupID, after string, limit int) ([]directory.LinkGroup, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+linkGroupColumns+`
		FROM link_groups WHERE group_id = $1 AND id > $2 ORDER BY id LIMIT $3`, groupID, after, limit)
	if err != nil {
		return nil, fmt.Errorf("list link groups: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (directory.LinkGroup, error) { return scanLinkGroup(r) })
}
