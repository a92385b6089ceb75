package directory

import (
	"context"
	"errors"
	"slices"

	"github.com/ipnmediation/disputes/platform/auth"
	"github.com/ipnmediation/disputes/platform/fault"
)

// Member fields that UpdateMember may change, as proto field paths.
const (
	FieldDisplayName   = "display_name"
	FieldContact       = "contact"
	FieldPublicProfile = "public_profile"
	FieldGroupAdmin    = "group_admin"
)

// UpdatableMemberFields are the fields UpdateMember may change; an empty
// update mask means all of them.
var UpdatableMemberFields = []string{FieldDisplayName, FieldContact, FieldPublicProfile, FieldGroupAdmin}

// selfUpdatableMemberFields are the fields a member may change in their own
// record; the rest are for the group's admins.
var selfUpdatableMemberFields = []string{FieldContact, FieldPublicProfile}

// MemberUpdate says which fields of a member to change.
type MemberUpdate struct {
	// Member names the member (GroupID, ID) and carries the new values.
	Member Member
	// Fields lists the proto field paths to change; all when empty.
	Fields []string
	// Etag is the caller's etag; empty skips the check.
	Etag string
}

// applyMemberUpdate returns current with the masked fields of in applied and
// the names of the fields whose values changed. byAdmin says whether the
// caller administers the group; otherwise the caller is the member and may
// change only their contact details and public profile.
func applyMemberUpdate(current, in Member, fields []string, byAdmin bool) (Member, []string, error) {
	if len(fields) == 0 {
		fields = UpdatableMemberFields
	}
	var v fault.Violations
	for _, f := range fields {
		if !slices.Contains(UpdatableMemberFields, f) {
			v.Addf("update_mask", "field %q cannot be updated; use display_name, contact, public_profile or group_admin", f)
		}
	}
	if err := v.Err(); err != nil {
		return Member{}, nil, err
	}
	if !byAdmin {
		for _, f := range fields {
			if !slices.Contains(selfUpdatableMemberFields, f) {
				return Member{}, nil, fault.New(fault.PermissionDenied, "PERMISSION_DENIED",
					"members may change only their own contact and public_profile; list just those in update_mask")
			}
		}
	}
	next := current
	var changed []string
	for _, f := range UpdatableMemberFields { // in a fixed order, whatever the mask's
		if !slices.Contains(fields, f) {
			continue
		}
		switch f {
		case FieldDisplayName:
			next.DisplayName = in.DisplayName
		case FieldContact:
			next.Email, next.Phone = in.Email, in.Phone
		case FieldPublicProfile:
			next.Profile = in.Profile
		case FieldGroupAdmin:
			next.GroupAdmin = in.GroupAdmin
		}
		if memberFieldChanged(current, next, f) {
			changed = append(changed, f)
		}
	}
	return next, changed, nil
}

func memberFieldChanged(a, b Member, field string) bool {
	switch field {
	case FieldDisplayName:
		return a.DisplayName != b.DisplayName
	case FieldContact:
		return a.Email != b.Email || a.Phone != b.Phone
	case FieldPublicProfile:
		return a.Profile != b.Profile
	case FieldGroupAdmin:
		return a.GroupAdmin != b.GroupAdmin
	}
	return false
}

func lastAdmin() error {
	return fault.New(fault.FailedPrecondition, "LAST_ADMIN", "the group would have no active admin; make another member an admin first")
}

func memberInactive() error {
	return fault.New(fault.FailedPrecondition, "MEMBER_INACTIVE", "the member is not active")
}

// memberStoreError turns a storage error of a member change into what the
// caller sees.
func memberStoreError(err error) error {
	if errors.Is(err, ErrLastAdmin) {
		return lastAdmin()
	}
	return storeError(err, notFoundMember, "the member")
}

// UpdateMember changes a member's record. The group's admins and the
// operator may change every field; a member may change their own contact
// details and public profile. A member's record is validated as on
// CreateMember, and the last active admin cannot give up being one.
func (s *Service) UpdateMember(ctx context.Context, u MemberUpdate) (Member, error) {
	current, err := s.Store.GetMember(ctx, u.Member.GroupID, u.Member.ID)
	if err != nil {
		return Member{}, storeError(err, notFoundMember, "member")
	}
	caller := auth.FromContext(ctx)
	byAdmin := mayAdminister(caller, current.GroupID)
	if !byAdmin && !(caller.Kind == auth.Member && caller.Member == memberName(current.GroupID, current.ID)) {
		return Member{}, denied("change other members")
	}
	next, changed, err := applyMemberUpdate(current, u.Member, u.Fields, byAdmin)
	if err != nil {
		return Member{}, err
	}
	if u.Etag != "" && u.Etag != Etag(current.Version) {
		return Member{}, storeError(ErrStale, notFoundMember, "the member")
	}
	if err := validateMember(next); err != nil {
		return Member{}, err
	}
	if len(changed) == 0 {
		return redact(caller, current), nil
	}
	keepAdmin := current.Active && current.GroupAdmin && !next.GroupAdmin
	updated, err := s.Store.UpdateMember(ctx, next, changed, keepAdmin, s.now())
	if err != nil {
		return Member{}, memberStoreError(err)
	}
	return redact(caller, updated), nil
}

// DeactivateMember records that a member has left the group. Their record
// and history stay; their tokens stop authenticating and they cannot be
// issued new ones. The group's admins and the operator may; the last active
// admin cannot be deactivated.
func (s *Service) DeactivateMember(ctx context.Context, groupID, id, etag string) (Member, error) {
	current, err := s.Store.GetMember(ctx, groupID, id)
	if err != nil {
		return Member{}, storeError(err, notFoundMember, "member")
	}
	if !mayAdminister(auth.FromContext(ctx), groupID) {
		return Member{}, denied("deactivate members")
	}
	if !current.Active {
		return Member{}, memberInactive()
	}
	if etag != "" && etag != Etag(current.Version) {
		return Member{}, storeError(ErrStale, notFoundMember, "the member")
	}
	updated, err := s.Store.DeactivateMember(ctx, current, s.now(), current.GroupAdmin)
	if err != nil {
		return Member{}, memberStoreError(err)
	}
	return updated, nil
}
