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
)

func groupName(id string) string { return "groups/" + id }

func memberName(m directory.Member) string { return groupName(m.GroupID) + "/members/" + m.ID }

// eventMetadataAt is the metadata of a directory event about a change in
// the group at the given time.
func eventMetadataAt(groupID string, at time.Time) *eventsv1.EventMetadata {
	return events.NewMetadata(groupName(groupID), Producer, at)
}

func timeOrZero(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return *t
}

// lockGroup serialises the changes of one group that must see each other:
// removing admins and numbering or publishing statements. NO KEY UPDATE does
// not block rows that merely refer to the group.
func lockGroup(ctx context.Context, tx pgx.Tx, groupID string) error {
	var one int
	err := tx.QueryRow(ctx, `SELECT 1 FROM groups WHERE id = $1 FOR NO KEY UPDATE`, groupID).Scan(&one)
	if err != nil {
		return fmt.Errorf("lock group: %w", classify(err))
	}
	return nil
}

// checkAnotherAdmin fails with ErrLastAdmin unless an active admin of the
// group other than memberID remains. It takes the group's lock first, so
// that two admins cannot remove each other at once.
func checkAnotherAdmin(ctx context.Context, tx pgx.Tx, groupID, memberID string) error {
	if err := lockGroup(ctx, tx, groupID); err != nil {
		return err
	}
	var others int
	err := tx.QueryRow(ctx, `SELECT count(*) FROM members WHERE group_id = $1 AND id <> $2 AND active AND group_admin`,
		groupID, memberID).Scan(&others)
	if err != nil {
		return fmt.Errorf("count admins: %w", err)
	}
	if others == 0 {
		return directory.ErrLastAdmin
	}
	return nil
}

// UpdateMember implements directory.Store.
func (s *Store) UpdateMember(ctx context.Context, m directory.Member, changed []string, keepAdmin bool, at time.Time) (directory.Member, error) {
	var updated directory.Member
	err := postgres.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		if keepAdmin {
			if err := checkAnotherAdmin(ctx, tx, m.GroupID, m.ID); err != nil {
				return err
			}
		}
		var err error
		updated, err = scanMember(tx.QueryRow(ctx, `UPDATE members SET display_name = $3, email = $4, phone = $5,
			training = $6, qualifications = $7, experience = $8, way_of_working = $9, group_admin = $10, version = version + 1
			WHERE group_id = $1 AND id = $2 AND version = $11 RETURNING `+memberColumns,
			m.GroupID, m.ID, m.DisplayName, m.Email, m.Phone, m.Profile.Training, m.Profile.Qualifications,
			m.Profile.Experience, m.Profile.WayOfWorking, m.GroupAdmin, m.Version))
		if errors.Is(err, pgx.ErrNoRows) {
			return directory.ErrStale
		}
		if err != nil {
			return fmt.Errorf("update member: %w", err)
		}
		meta := eventMetadataAt(m.GroupID, at)
		ev, err := s.ns.Encode(meta, "member", "updated", &eventsv1.MemberUpdated{Metadata: meta, Member: memberName(m), ChangedFields: changed})
		if err != nil {
			return err
		}
		return outbox.Add(ctx, tx, ev)
	})
	return updated, err
}

// DeactivateMember implements directory.Store.
func (s *Store) DeactivateMember(ctx context.Context, m directory.Member, leaveTime time.Time, keepAdmin bool) (directory.Member, error) {
	var updated directory.Member
	err := postgres.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		if keepAdmin {
			if err := checkAnotherAdmin(ctx, tx, m.GroupID, m.ID); err != nil {
				return err
			}
		}
		var err error
		updated, err = scanMember(tx.QueryRow(ctx, `UPDATE members SET active = false, leave_time = $3, version = version + 1
			WHERE group_id = $1 AND id = $2 AND version = $4 RETURNING `+memberColumns,
			m.GroupID, m.ID, leaveTime, m.Version))
		if errors.Is(err, pgx.ErrNoRows) {
			return directory.ErrStale
		}
		if err != nil {
			return fmt.Errorf("deactivate member: %w", err)
		}
		meta := eventMetadataAt(m.GroupID, leaveTime)
		ev, err := s.ns.Encode(meta, "member", "left", &eventsv1.MemberLeft{Metadata: meta, Member: memberName(m)})
		if err != nil {
			return err
		}
		return outbox.Add(ctx, tx, ev)
	})
	return updated, err
}
