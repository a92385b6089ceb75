// Package directory is the domain of the directory service: IPN groups, their
// members, link groups and ethical statements, and the access tokens of
// members and link groups, with the rules of who may read and change them.
package directory

import (
	"errors"
	"time"
)

// IPNStatus is where a group stands in the network.
type IPNStatus int

// The statuses a group can have.
const (
	StatusUnspecified IPNStatus = iota
	StatusForming
	StatusMemberGroup
)

// Default time targets of the procedure, used when a group sets none.
const (
	DefaultOverallTarget       = 8 * 7 * 24 * time.Hour
	DefaultFirstResponseTarget = 14 * 24 * time.Hour
)

// DefaultRetention is how long a closed case's records are kept when the
// group has not said: six years, the period within which a claim about the
// work could still be brought.
const DefaultRetention = 6 * 365 * 24 * time.Hour

// DefaultReminderOffsets are how long before a target reminders go out when a
// group sets none.
var DefaultReminderOffsets = []time.Duration{7 * 24 * time.Hour, 24 * time.Hour}

// RequiredLinkGroups is how many link groups a member group must have before
// it accepts concerns.
const RequiredLinkGroups = 2

// Group is an IPN practitioner group.
type Group struct {
	ID               string
	DisplayName      string
	IPNStatus        IPNStatus
	StatusSinceYear  int
	MeetingFrequency string
	PublicContact    string
	Settings         ProcedureSettings
	CreateTime       time.Time
	UpdateTime       time.Time
	// Version counts changes; the etag is derived from it.
	Version int
}

// ProcedureSettings are a group's time targets and the procedure its new
// cases follow.
type ProcedureSettings struct {
	OverallTarget       time.Duration
	FirstResponseTarget time.Duration
	ReminderOffsets     []time.Duration
	// Procedure is procedures/{procedure} as casework serves it; empty for
	// casework's default. Casework decides whether it knows the name when it
	// opens a case: the directory does not call casework.
	Procedure string
	// Retention is how long a closed case's records are kept before they
	// are purged.
	Retention time.Duration
	// MemberSessionLifetime is how long a member session started from a
	// sign-in link lasts.
	MemberSessionLifetime time.Duration
}

// WithDefaults fills in unset targets.
func (s ProcedureSettings) WithDefaults() ProcedureSettings {
	if s.OverallTarget == 0 {
		s.OverallTarget = DefaultOverallTarget
	}
	if s.FirstResponseTarget == 0 {
		s.FirstResponseTarget = DefaultFirstResponseTarget
	}
	if len(s.ReminderOffsets) == 0 {
		s.ReminderOffsets = append([]time.Duration(nil), DefaultReminderOffsets...)
	}
	if s.Retention == 0 {
		s.Retention = DefaultRetention
	}
	if s.MemberSessionLifetime == 0 {
		s.MemberSessionLifetime = DefaultMemberSessionLifetime
	}
	return s
}

// Member is a practitioner in a group.
type Member struct {
	GroupID     string
	ID          string
	DisplayName string
	Active      bool
	// Email and Phone are private: shown only to the member's own group and
	// to services.
	Email      string
	Phone      string
	Profile    PublicProfile
	GroupAdmin bool
	JoinTime   time.Time
	LeaveTime  time.Time
	Version    int
}

// PublicProfile is what a group's website shows about a member.
type PublicProfile struct {
	Training       string
	Qualifications string
	Experience     string
	WayOfWorking   string
}

// LinkGroup is one of the IPN groups a group is linked to: a group in this
// deployment (LocalGroup) or elsewhere (ContactEmail, optional GRPCEndpoint).
type LinkGroup struct {
	GroupID      string
	ID           string
	DisplayName  string
	LocalGroup   string
	ContactEmail string
	GRPCEndpoint string
	CreateTime   time.Time
}

// TokenHolder is whom access tokens are issued to: a member of a group
// (MemberID) or one of the group's link groups (LinkGroupID). Exactly one of
// the two is set.
type TokenHolder struct {
	GroupID     string
	MemberID    string
	LinkGroupID string
}

// Name is the holder's resource name.
func (h TokenHolder) Name() string {
	if h.LinkGroupID != "" {
		return linkGroupName(h.GroupID, h.LinkGroupID)
	}
	return memberName(h.GroupID, h.MemberID)
}

// AccessToken is a personal access token of a member or of a link group.
// Only a hash of its secret is kept.
type AccessToken struct {
	ID string
	TokenHolder
	DisplayName string
	SecretHash  []byte
	ExpireTime  time.Time
	CreateTime  time.Time
	LastUseTime time.Time
	RevokeTime  time.Time
}

// StatementState says whether a version of an ethical statement is in force.
type StatementState int

// The states of a statement version. A draft becomes published; publishing
// the next version supersedes it.
const (
	StatementUnspecified StatementState = iota
	StatementDraft
	StatementPublished
	StatementSuperseded
)

// Statement is one version of a group's ethical statement, written as
// Markdown.
type Statement struct {
	GroupID     string
	Version     int
	Markdown    string
	State       StatementState
	CreateTime  time.Time
	PublishTime time.Time
}

// Sections are the statement's named parts, read from its Markdown.
func (s Statement) Sections() []Section { return ParseSections(s.Markdown) }

// Errors a Store returns; the Service turns them into caller-facing faults.
var (
	ErrNotFound      = errors.New("not found")
	ErrAlreadyExists = errors.New("already exists")
	ErrStale         = errors.New("stale version")
	// ErrLastAdmin is returned when a change would leave a group without an
	// active admin.
	ErrLastAdmin = errors.New("last active admin")
	// ErrNotDraft is returned when a statement to publish is no longer a
	// draft.
	ErrNotDraft = errors.New("statement is not a draft")
)
