package directory

import (
	"context"
	"errors"
	"slices"
	"strings"

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

// UpdatableMemberFields are the fields UpdateMember may change, whole or
// (contact and public_profile) a part of them.
var UpdatableMemberFields = []string{FieldDisplayName, FieldContact, FieldPublicProfile, FieldGroupAdmin}

// selfUpdatableMemberFields are the fields a member may change in their own
// record; the rest are for the group's admins.
var selfUpdatableMemberFields = []string{FieldContact, FieldPublicProfile}

// MemberUpdate says which fields of a member to change.
type MemberUpdate struct {
	// Member names the member (GroupID, ID) and carries the new values.
	Member Member
	// Fields lists the proto field paths to change, as the update mask
	// names them once read (platform/fieldmask): a whole field
	// (public_profile) or a part of one (contact.email). Nothing changes
	// when it is empty.
	Fields []string
	// Etag is the caller's etag; empty skips the check.
	Etag string
}

// setMemberField copies the field at path from in to m; false when path is
// not a field UpdateMember changes.
func setMemberField(m *Member, in Member, path string) bool {
	switch path {
	case FieldDisplayName:
		m.DisplayName = in.DisplayName
	case FieldContact:
		m.Email, m.Phone = in.Email, in.Phone
	case FieldContact + ".email":
		m.Email = in.Email
	case FieldContact + ".phone":
		m.Phone = in.Phone
	case FieldPublicProfile:
		m.Profile = in.Profile
	case FieldPublicProfile + ".training":
		m.Profile.Training = in.Profile.Training
	case FieldPublicProfile + ".qualifications":
		m.Profile.Qualifications = in.Profile.Qualifications
	case FieldPublicProfile + ".experience":
		m.Profile.Experience = in.Profile.Experience
	case FieldPublicProfile + ".way_of_working":
		m.Profile.WayOfWorking = in.Profile.WayOfWorking
	case FieldGroupAdmin:
		m.GroupAdmin = in.GroupAdmin
	default:
		return false
	}
	return true
}

// applyMemberUpdate returns current with the fields of in at paths applied
// and the names of the top-level fields whose values changed. byAdmin says
// whether the caller administers the group; otherwise the caller is the
// member and may change only their contact details and public profile.
func applyMemberUpdate(current, in Member, paths []string, byAdmin bool) (Member, []string, error) {
	next := current
	touched := map[string]bool{}
	var v fault.Violations
	for _, p := range paths {
		if !setMemberField(&next, in, p) {
			v.Addf("update_mask", "field %q cannot be updated; use display_name, contact, public_profile or group_admin, or a part of contact or public_profile", p)
			continue
		}
		top, _, _ := strings.Cut(p, ".")
		touched[top] = true
	}
	if err := v.Err(); err != nil {
		return Member{}, nil, err
	}
	if !byAdmin {
		for f := range touched {
			if !slices.Contains(selfUpdatableMemberFields, f) {
				return Member{}, nil, fault.New(fault.PermissionDenied, "PERMISSION_DENIED",
					"members may change only their own contact details and public profile; send only those, or list only those in the update mask")
			}
		}
	}
	var changed []string
	for _, f := range UpdatableMemberFields { // in a fixed order, whatever the mask's
		if touched[f] && memberFieldChanged(current, next, f) {
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
