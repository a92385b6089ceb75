package directory

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ipnmediation/disputes/platform/auth"
	"github.com/ipnmediation/disputes/platform/fault"
)

// AuthCacheTTL is how long callers may reuse an answer of Authenticate; a
// revoked token stops working everywhere within it.
const AuthCacheTTL = 15 * time.Second

// Service applies the directory's rules: who may read and change what.
type Service struct {
	Store Store
	// OperatorToken is the deployment operator's bearer secret.
	OperatorToken string
	// TokenTTL is the lifetime of a token issued without an expiry.
	TokenTTL time.Duration
	// Procedures are the versions of the procedure a group may choose.
	Procedures Procedures
	// Now is the clock.
	Now func() time.Time
	// Sessions are members' sessions from sign-in links, which Authenticate
	// accepts too; none when nil.
	Sessions SignInStore
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

// Page selects part of a list: the rows after a cursor, at most Size.
type Page struct {
	After string
	Size  int
}

// pageOf reads one more row than asked, to know whether a next page exists.
func pageOf[T any](rows []T, size int, key func(T) string) ([]T, string) {
	if len(rows) <= size {
		return rows, ""
	}
	rows = rows[:size]
	return rows, key(rows[len(rows)-1])
}

func notFoundGroup() error {
	return fault.New(fault.NotFound, "GROUP_NOT_FOUND", "no such group")
}

func notFoundMember() error {
	return fault.New(fault.NotFound, "MEMBER_NOT_FOUND", "no such member")
}

func denied(what string) error {
	return fault.New(fault.PermissionDenied, "PERMISSION_DENIED", "only the group's admins or the operator may "+what)
}

func groupName(id string) string { return "groups/" + id }

func memberName(groupID, id string) string { return groupName(groupID) + "/members/" + id }

func linkGroupName(groupID, id string) string { return groupName(groupID) + "/linkGroups/" + id }

// mayAdminister reports whether the caller may change the group's records.
func mayAdminister(p auth.Principal, groupID string) bool {
	return p.Kind == auth.Operator || p.IsGroupAdmin(groupName(groupID))
}

// maySeeContacts reports whether the caller may read members' private
// contact details in the group.
func maySeeContacts(p auth.Principal, groupID string) bool {
	return p.Kind == auth.Operator || p.Kind == auth.Service || p.InGroup(groupName(groupID))
}

// storeError turns a storage error into what the caller sees.
func storeError(err error, notFound func() error, what string) error {
	switch {
	case errors.Is(err, ErrNotFound):
		return notFound()
	case errors.Is(err, ErrAlreadyExists):
		return fault.New(fault.AlreadyExists, "ALREADY_EXISTS", what+" already exists")
	case errors.Is(err, ErrStale):
		return fault.New(fault.Aborted, "ETAG_MISMATCH", what+" was changed by someone else; read it again and retry")
	default:
		return fmt.Errorf("%s: %w", what, err)
	}
}

// CreateGroup creates a group. Only the operator may.
func (s *Service) CreateGroup(ctx context.Context, g Group) (Group, error) {
	if auth.FromContext(ctx).Kind != auth.Operator {
		return Group{}, fault.New(fault.PermissionDenied, "OPERATOR_ONLY", "only the deployment's operator may create groups")
	}
	if err := validateGroup(g, true); err != nil {
		return Group{}, err
	}
	if err := s.checkProcedure(ctx, g.Settings.Procedure); err != nil {
		return Group{}, err
	}
	now := s.now()
	g.CreateTime, g.UpdateTime, g.Version = now, now, 1
	if err := s.Store.CreateGroup(ctx, g); err != nil {
		return Group{}, storeError(err, notFoundGroup, "group "+g.ID)
	}
	return g, nil
}

// GetGroup returns a group. Anyone may read groups.
func (s *Service) GetGroup(ctx context.Context, id string) (Group, error) {
	g, err := s.Store.GetGroup(ctx, id)
	if err != nil {
		return Group{}, storeError(err, notFoundGroup, "group")
	}
	return g, nil
}

// ListGroups lists groups in id order and returns the cursor of the next page.
func (s *Service) ListGroups(ctx context.Context, p Page) ([]Group, string, error) {
	rows, err := s.Store.ListGroups(ctx, p.After, p.Size+1)
	if err != nil {
		return nil, "", fmt.Errorf("list groups: %w", err)
	}
	groups, next := pageOf(rows, p.Size, func(g Group) string { return g.ID })
	return groups, next, nil
}

// GroupUpdate says which fields of a group to change.
type GroupUpdate struct {
	Group Group
	// Fields lists the proto field paths to change, as the update mask
	// names them once read (platform/fieldmask): a whole field
	// (procedure_settings) or a part of one (procedure_settings.procedure).
	// Nothing changes when it is empty.
	Fields []string
	// Etag is the caller's etag; empty skips the check.
	Etag string
}

// setGroupField copies the field at path, a proto field path, from in to
// g; false when path is not a field UpdateGroup changes. The procedure
// settings change whole or one by one (procedure_settings.procedure).
func setGroupField(g *Group, in Group, path string) bool {
	switch path {
	case "display_name":
		g.DisplayName = in.DisplayName
	case "ipn_status":
		g.IPNStatus = in.IPNStatus
	case "ipn_status_since_year":
		g.StatusSinceYear = in.StatusSinceYear
	case "meeting_frequency":
		g.MeetingFrequency = in.MeetingFrequency
	case "public_contact":
		g.PublicContact = in.PublicContact
	case "procedure_settings":
		g.Settings = in.Settings
	case "procedure_settings.overall_target":
		g.Settings.OverallTarget = in.Settings.OverallTarget
	case "procedure_settings.first_response_target":
		g.Settings.FirstResponseTarget = in.Settings.FirstResponseTarget
	case "procedure_settings.reminder_offsets":
		g.Settings.ReminderOffsets = in.Settings.ReminderOffsets
	case "procedure_settings.procedure":
		g.Settings.Procedure = in.Settings.Procedure
	case "procedure_settings.retention":
		g.Settings.Retention = in.Settings.Retention
	case "procedure_settings.member_session_lifetime":
		g.Settings.MemberSessionLifetime = in.Settings.MemberSessionLifetime
	default:
		return false
	}
	return true
}

// UpdateGroup changes a group's fields. Group admins and the operator may.
func (s *Service) UpdateGroup(ctx context.Context, u GroupUpdate) (Group, error) {
	if !mayAdminister(auth.FromContext(ctx), u.Group.ID) {
		if _, err := s.Store.GetGroup(ctx, u.Group.ID); err != nil {
			return Group{}, storeError(err, notFoundGroup, "group")
		}
		return Group{}, denied("change a group")
	}
	current, err := s.Store.GetGroup(ctx, u.Group.ID)
	if err != nil {
		return Group{}, storeError(err, notFoundGroup, "group")
	}
	if u.Etag != "" && u.Etag != Etag(current.Version) {
		return Group{}, storeError(ErrStale, notFoundGroup, "the group")
	}
	if len(u.Fields) == 0 {
		return current, nil // nothing to change
	}
	next := current
	var v fault.Violations
	for _, f := range u.Fields {
		if !setGroupField(&next, u.Group, f) {
			v.Addf("update_mask", "field %q cannot be updated; use display_name, ipn_status, ipn_status_since_year, meeting_frequency, public_contact, procedure_settings or a part of procedure_settings", f)
		}
	}
	if err := v.Err(); err != nil {
		return Group{}, err
	}
	if err := validateGroup(next, false); err != nil {
		return Group{}, err
	}
	// Only a new choice asks casework: an update that keeps the procedure
	// (another field, or only the time targets) works while casework is down.
	if next.Settings.Procedure != current.Settings.Procedure {
		if err := s.checkProcedure(ctx, next.Settings.Procedure); err != nil {
			return Group{}, err
		}
	}
	next.UpdateTime = s.now()
	updated, err := s.Store.UpdateGroup(ctx, next)
	if err != nil {
		return Group{}, storeError(err, notFoundGroup, "the group")
	}
	return updated, nil
}

// Etag is the etag of a resource at a version.
func Etag(version int) string { return fmt.Sprintf("W/\"%d\"", version) }

// CreateMember adds a member. Group admins and the operator may.
func (s *Service) CreateMember(ctx context.Context, m Member) (Member, error) {
	if _, err := s.GetGroup(ctx, m.GroupID); err != nil {
		return Member{}, err
	}
	if !mayAdminister(auth.FromContext(ctx), m.GroupID) {
		return Member{}, denied("add members")
	}
	if err := validateMember(m); err != nil {
		return Member{}, err
	}
	m.Active, m.JoinTime, m.Version = true, s.now(), 1
	if err := s.Store.CreateMember(ctx, m); err != nil {
		return Member{}, storeError(err, notFoundMember, "member "+m.ID)
	}
	return m, nil
}

// GetMember returns a member, without contact details unless the caller may
// see them.
func (s *Service) GetMember(ctx context.Context, groupID, id string) (Member, error) {
	m, err := s.Store.GetMember(ctx, groupID, id)
	if err != nil {
		return Member{}, storeError(err, notFoundMember, "member")
	}
	return redact(auth.FromContext(ctx), m), nil
}

// ListMembers lists a group's members in id order.
func (s *Service) ListMembers(ctx context.Context, groupID string, activeOnly bool, p Page) ([]Member, string, error) {
	if _, err := s.GetGroup(ctx, groupID); err != nil {
		return nil, "", err
	}
	rows, err := s.Store.ListMembers(ctx, groupID, p.After, p.Size+1, activeOnly)
	if err != nil {
		return nil, "", fmt.Errorf("list members: %w", err)
	}
	members, next := pageOf(rows, p.Size, func(m Member) string { return m.ID })
	caller := auth.FromContext(ctx)
	for i := range members {
		members[i] = redact(caller, members[i])
	}
	return members, next, nil
}

func redact(p auth.Principal, m Member) Member {
	if !maySeeContacts(p, m.GroupID) {
		m.Email, m.Phone = "", ""
	}
	return m
}

// CreateLinkGroup links a group to another. Group admins and the operator may.
func (s *Service) CreateLinkGroup(ctx context.Context, l LinkGroup) (LinkGroup, error) {
	if _, err := s.GetGroup(ctx, l.GroupID); err != nil {
		return LinkGroup{}, err
	}
	if !mayAdminister(auth.FromContext(ctx), l.GroupID) {
		return LinkGroup{}, denied("link groups")
	}
	if err := validateLinkGroup(l); err != nil {
		return LinkGroup{}, err
	}
	if l.LocalGroup != "" {
		if strings.TrimPrefix(l.LocalGroup, "groups/") == l.GroupID {
			return LinkGroup{}, fault.New(fault.InvalidArgument, "SELF_LINK", "a group cannot be its own link group")
		}
		if _, err := s.GetGroup(ctx, strings.TrimPrefix(l.LocalGroup, "groups/")); err != nil {
			return LinkGroup{}, err
		}
	}
	existing, err := s.Store.ListLinkGroups(ctx, l.GroupID, "", RequiredLinkGroups+1)
	if err != nil {
		return LinkGroup{}, fmt.Errorf("count link groups: %w", err)
	}
	if len(existing) >= RequiredLinkGroups {
		return LinkGroup{}, fault.New(fault.FailedPrecondition, "TOO_MANY_LINK_GROUPS", "an IPN group has exactly two link groups; this group already has them")
	}
	l.CreateTime = s.now()
	if err := s.Store.CreateLinkGroup(ctx, l); err != nil {
		return LinkGroup{}, storeError(err, notFoundGroup, "link group "+l.ID)
	}
	return l, nil
}

// ListLinkGroups lists a group's link groups. Anyone may read their names;
// an external group's contact e-mail and gRPC endpoint only the group's
// members, services and the operator.
func (s *Service) ListLinkGroups(ctx context.Context, groupID string, p Page) ([]LinkGroup, string, error) {
	if _, err := s.GetGroup(ctx, groupID); err != nil {
		return nil, "", err
	}
	rows, err := s.Store.ListLinkGroups(ctx, groupID, p.After, p.Size+1)
	if err != nil {
		return nil, "", fmt.Errorf("list link groups: %w", err)
	}
	links, next := pageOf(rows, p.Size, func(l LinkGroup) string { return l.ID })
	caller := auth.FromContext(ctx)
	for i := range links {
		links[i] = redactLinkGroup(caller, links[i])
	}
	return links, next, nil
}

// GetLinkGroup returns one of a group's link groups, to the same callers
// and as ListLinkGroups shows it.
func (s *Service) GetLinkGroup(ctx context.Context, groupID, id string) (LinkGroup, error) {
	l, err := s.Store.GetLinkGroup(ctx, groupID, id)
	if err != nil {
		return LinkGroup{}, storeError(err, notFoundLinkGroup, "link group")
	}
	return redactLinkGroup(auth.FromContext(ctx), l), nil
}

// redactLinkGroup blots an external group's contact e-mail and gRPC
// endpoint for a caller who may not see the group's records: anyone may
// read a link group's name, only the group's members, services and the
// operator how to reach it.
func redactLinkGroup(p auth.Principal, l LinkGroup) LinkGroup {
	if !maySeeContacts(p, l.GroupID) {
		l.ContactEmail, l.GRPCEndpoint = "", ""
	}
	return l
}

// DeleteLinkGroup removes a link, for example to replace a link group, and
// revokes the link group's tokens with it. The group's admins and the
// operator may.
func (s *Service) DeleteLinkGroup(ctx context.Context, groupID, id string) error {
	if _, err := s.GetGroup(ctx, groupID); err != nil {
		return err
	}
	if !mayAdminister(auth.FromContext(ctx), groupID) {
		return denied("remove link groups")
	}
	if err := s.Store.DeleteLinkGroup(ctx, groupID, id, s.now()); err != nil {
		return storeError(err, notFoundLinkGroup, "link group")
	}
	return nil
}

func notFoundLinkGroup() error {
	return fault.New(fault.NotFound, "LINK_GROUP_NOT_FOUND", "no such link group")
}

// tokenPrefix marks the directory's personal access tokens, so that secret
// scanners and people can recognise them.
const tokenPrefix = "ipnpat_"

var tokenEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// IssuedToken is a new token with its secret, shown once.
type IssuedToken struct {
	AccessToken
	Secret string
}

// CreateAccessToken issues a token to a member or to a link group, so that
// the link group can call this system with credentials of its own. Group
// admins and the operator may. The secret is returned once; only its
// SHA-256 is stored, which is enough for a 256-bit random secret.
func (s *Service) CreateAccessToken(ctx context.Context, h TokenHolder, displayName string, expire time.Time) (IssuedToken, error) {
	caller := auth.FromContext(ctx)
	m, err := s.holder(ctx, caller, h)
	if err != nil {
		return IssuedToken{}, err
	}
	if !mayAdminister(caller, h.GroupID) {
		return IssuedToken{}, denied("issue access tokens")
	}
	if h.LinkGroupID == "" && !m.Active {
		return IssuedToken{}, fault.New(fault.FailedPrecondition, "MEMBER_INACTIVE", "the member is not active")
	}
	now := s.now()
	if expire.IsZero() {
		expire = now.Add(s.TokenTTL)
	}
	if !expire.After(now) {
		v := fault.Violations{}
		v.Add("access_token.expire_time", "must be in the future")
		return IssuedToken{}, v.Err()
	}
	// The display name's length (200 characters) is the contract's
	// max_length, applied before any handler.
	id := strings.ToLower(tokenEncoding.EncodeToString(randomBytes(10)))
	secret := strings.ToLower(tokenEncoding.EncodeToString(randomBytes(32)))
	hash := sha256.Sum256([]byte(secret))
	t := AccessToken{ID: id, TokenHolder: h, DisplayName: displayName, SecretHash: hash[:], ExpireTime: expire.UTC(), CreateTime: now}
	if err := s.Store.CreateAccessToken(ctx, t); err != nil { // the link group may have been removed meanwhile
		return IssuedToken{}, storeError(err, notFoundHolder(h), "access token")
	}
	return IssuedToken{AccessToken: t, Secret: tokenPrefix + id + "_" + secret}, nil
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("crypto/rand: %v", err)) // the kernel's generator does not fail
	}
	return b
}

// Authentication is who a secret stands for: the operator, a member, or a
// link group (LinkGroup, with Group the group it belongs to).
type Authentication struct {
	Operator   bool
	Member     string
	Group      string
	GroupAdmin bool
	LinkGroup  string
}

// Authenticate turns a bearer secret into the member, link group or
// operator it stands for. Every failure looks the same to the caller.
func (s *Service) Authenticate(ctx context.Context, secret string) (Authentication, error) {
	if s.OperatorToken != "" && subtle.ConstantTimeCompare([]byte(secret), []byte(s.OperatorToken)) == 1 {
		return Authentication{Operator: true}, nil
	}
	if rest, ok := strings.CutPrefix(secret, sessionPrefix); ok {
		return s.authenticateSession(ctx, rest)
	}
	rest, ok := strings.CutPrefix(secret, tokenPrefix)
	if !ok {
		return Authentication{}, auth.ErrUnauthenticated()
	}
	id, given, ok := strings.Cut(rest, "_")
	if !ok {
		return Authentication{}, auth.ErrUnauthenticated()
	}
	t, m, err := s.Store.GetAccessToken(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return Authentication{}, auth.ErrUnauthenticated()
	}
	if err != nil {
		return Authentication{}, fmt.Errorf("look up token: %w", err)
	}
	hash := sha256.Sum256([]byte(given))
	now := s.now()
	// A link group's token outlives no link: the store finds none once the
	// link group is removed.
	valid := subtle.ConstantTimeCompare(hash[:], t.SecretHash) == 1 &&
		t.RevokeTime.IsZero() && now.Before(t.ExpireTime) && (t.LinkGroupID != "" || m.Active)
	if !valid {
		return Authentication{}, auth.ErrUnauthenticated()
	}
	if err := s.Store.TouchAccessToken(ctx, t.ID, now); err != nil {
		return Authentication{}, fmt.Errorf("record token use: %w", err)
	}
	if t.LinkGroupID != "" {
		return Authentication{LinkGroup: t.TokenHolder.Name(), Group: groupName(t.GroupID)}, nil
	}
	return Authentication{Member: memberName(m.GroupID, m.ID), Group: groupName(m.GroupID), GroupAdmin: m.GroupAdmin}, nil
}
