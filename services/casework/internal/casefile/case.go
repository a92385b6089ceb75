// Package casefile is the casework domain: the case opened for each concern a
// client registers, where it stands in the group's procedure, its eight-week
// clock and who may see it. It grows with the procedure (roles, steps,
// documents, meetings, timers); it imports neither gRPC nor PostgreSQL.
//
// The concern's text and the client's contact details, which casework takes
// over from intake, are Confidential: they travel from the intake client to
// the store and nowhere else, never into a Case, an error, a log line or an
// event.
package casefile

import (
	"crypto/sha256"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Phase is where a case stands in the procedure. Its value is what the store
// keeps, so values never change once used.
type Phase string

// The phases of a case.
const (
	// Registered cases wait for their support people to be appointed.
	Registered Phase = "REGISTERED"
)

// Case is one concern's way through the group's procedure. It holds nothing
// confidential, so it may be shown to every member of the group.
type Case struct {
	// ID is a UUID, the last part of Name.
	ID string
	// Group is the group's resource name, groups/{group}.
	Group string
	// Concern is the concern the case was opened for,
	// groups/{group}/concerns/{concern}.
	Concern string
	// Reference is what the client quotes, given by intake.
	Reference string
	// Therapist is the member the concern is about,
	// groups/{group}/members/{member}.
	Therapist string
	Phase     Phase
	// RegisterTime is when the client registered the concern; the clock
	// runs from it.
	RegisterTime time.Time
	// Deadline is when the group's overall target runs out.
	Deadline time.Time
	// Statement is the version of the group's ethical statement in force
	// when the concern was registered; empty when there was none.
	Statement string
	// Version counts changes to the case; the etag is derived from it.
	Version int
	// CreateTime is when casework opened the case.
	CreateTime time.Time
	// Procedure is the version of the procedure the case follows,
	// procedures/{p}, fixed when the case is opened.
	Procedure string
	// FirstResponseDeadline is when the first-response target runs out.
	FirstResponseDeadline time.Time
	// FirstResponseTime is when the target was met; zero until then.
	FirstResponseTime time.Time
	// ReminderOffsets say how long before each deadline reminders are due,
	// as the group had set them when the concern was registered.
	ReminderOffsets []time.Duration
	// Roles are the members holding the case's roles.
	Roles Roles
	// Outcome is how the case ended; empty while it is open.
	Outcome Outcome
	// CloseTime is when it was closed; zero while open.
	CloseTime time.Time
	// Progress is the steps taken and the meetings arranged.
	Progress Progress
}

// Roles are the members holding roles in a case, by resource name; empty
// while nobody holds the role.
type Roles struct {
	SPT        string
	SPTNominee string
	SPC        string
	LP         string
}

// Outcome is how a closed case ended. Its value is what the store keeps.
type Outcome string

// The outcomes of a case.
const (
	Resolved   Outcome = "RESOLVED"
	Withdrawn  Outcome = "WITHDRAWN"
	Unresolved Outcome = "UNRESOLVED"
)

// Closed reports whether the case has an outcome.
func (c Case) Closed() bool { return c.Outcome != "" }

// Name is the case's resource name, groups/{group}/cases/{id}.
func (c Case) Name() string { return c.Group + "/cases/" + c.ID }

// GroupID is the last part of the group's resource name.
func (c Case) GroupID() string { return strings.TrimPrefix(c.Group, "groups/") }

// Etag identifies this version of the case, for optimistic concurrency once
// cases can be changed.
func (c Case) Etag() string {
	sum := sha256.Sum256(fmt.Appendf(nil, "%s:%d", c.ID, c.Version))
	return fmt.Sprintf(`W/"%x"`, sum[:8])
}

// Confidential is what casework holds in trust for the client: the concern
// in the client's words, the outcome they would like and how to reach the
// client. Only the store reads and writes it.
type Confidential struct {
	// Description is the concern in the client's words.
	Description string
	// DesiredOutcome is the outcome the client would like, in their words;
	// empty when they gave none. Read with Description, by those who read it.
	DesiredOutcome string
	// ClientName is how the client would like to be addressed.
	ClientName  string
	ClientEmail string
	ClientPhone string
}

// splitCaseName reads groups/{g}/cases/{uuid}. A name whose id is not a
// canonical UUID cannot name a case.
func splitCaseName(name string) (group, id string, ok bool) {
	parts := strings.Split(name, "/")
	if len(parts) != 4 || parts[0] != "groups" || parts[1] == "" || parts[2] != "cases" || !isUUID(parts[3]) {
		return "", "", false
	}
	return "groups/" + parts[1], parts[3], true
}

// concernGroup returns the group of groups/{g}/concerns/{c}.
func concernGroup(name string) (string, bool) {
	parts := strings.Split(name, "/")
	if len(parts) != 4 || parts[0] != "groups" || parts[1] == "" || parts[2] != "concerns" || parts[3] == "" {
		return "", false
	}
	return "groups/" + parts[1], true
}

// isGroupName reports whether name is groups/{g}.
func isGroupName(name string) bool {
	id, ok := strings.CutPrefix(name, "groups/")
	return ok && id != "" && !strings.Contains(id, "/")
}

func isUUID(s string) bool {
	u, err := uuid.Parse(s)
	return err == nil && u.String() == s
}

// dbTime is t as PostgreSQL keeps it (microseconds, UTC), so that what an
// event says and what a read returns are the same instant.
func dbTime(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// OpeningEntry is the first entry of the case's timeline: the client's
// registration, seen by the client and every member.
func (c Case) OpeningEntry() TimelineEntry {
	return TimelineEntry{CaseID: c.ID, Seq: 1, Title: "The client registered the concern", Actor: ClientActor,
		ActorRole: RoleClient, Audience: []Role{RoleMember, RoleClient}, CreateTime: c.RegisterTime}
}
