package casefile

import (
	"time"

	procedurev1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/procedure/v1"
)

// Role is a part someone plays in a case, as the procedure names it.
type Role = procedurev1.Role

// The roles, by their short names.
const (
	RoleClient    = procedurev1.Role_ROLE_CLIENT
	RoleTherapist = procedurev1.Role_ROLE_THERAPIST
	RoleSPT       = procedurev1.Role_ROLE_SPT
	RoleSPC       = procedurev1.Role_ROLE_SPC
	RoleLP        = procedurev1.Role_ROLE_LP
	RoleMember    = procedurev1.Role_ROLE_MEMBER
	RoleLinkGroup = procedurev1.Role_ROLE_LINK_GROUP
	RoleNominee   = procedurev1.Role_ROLE_NOMINEE
	// RoleNone is no role: the author of a text whose author is not
	// recorded.
	RoleNone = procedurev1.Role_ROLE_UNSPECIFIED
)

// ClientActor is how the client is named as the actor of a step; the client
// is never named otherwise.
const ClientActor = "client"

// Progress is what has happened in a case: the steps taken and the
// meetings arranged. It holds facts only (ids, outcomes, members, times,
// states), never words of the client's or anyone's, so it may be kept in
// the clear: whatever a person types in a step is a Document, sealed.
type Progress struct {
	Taken    []TakenStep `json:"taken,omitempty"`
	Meetings []Meeting   `json:"meetings,omitempty"`
	// Statement is the latest version of the written statement, by
	// document id.
	Statement string `json:"statement,omitempty"`
	// StatementVersion is its version number.
	StatementVersion int `json:"statement_version,omitempty"`
	// Approved is the version the client approved.
	Approved string `json:"approved,omitempty"`
	// Conveyed is the version conveyed to the therapist.
	Conveyed string `json:"conveyed,omitempty"`
	// Response is the therapist's response, by document id.
	Response string `json:"response,omitempty"`
	// Relayed says whether the response reached the client.
	Relayed bool `json:"relayed,omitempty"`
	// Entries counts timeline entries, so the next one's number is known.
	Entries int `json:"entries,omitempty"`
}

// TakenStep records one taking of a step.
type TakenStep struct {
	Step    string    `json:"step"`
	Outcome string    `json:"outcome,omitempty"`
	Actor   string    `json:"actor"`
	Role    Role      `json:"role"`
	Time    time.Time `json:"time"`
	Subject string    `json:"subject,omitempty"`
}

// latest returns the last taking of step.
func (p Progress) latest(step string) (TakenStep, bool) {
	for i := len(p.Taken) - 1; i >= 0; i-- {
		if p.Taken[i].Step == step {
			return p.Taken[i], true
		}
	}
	return TakenStep{}, false
}

// count is how often step was taken.
func (p Progress) count(step string) int {
	n := 0
	for _, t := range p.Taken {
		if t.Step == step {
			n++
		}
	}
	return n
}

// holds reports whether a condition of the procedure holds.
func (p Progress) holds(c *procedurev1.Condition) bool {
	t, ok := p.latest(c.GetStep())
	return ok && (c.GetOutcome() == "" || t.Outcome == c.GetOutcome())
}

// MeetingKind says who meets.
type MeetingKind = procedurev1.MeetingKind

// MeetingState is where arranging a meeting stands.
type MeetingState string

// The states of a meeting.
const (
	MeetingProposed   MeetingState = "PROPOSED"
	MeetingConfirmed  MeetingState = "CONFIRMED"
	MeetingDeclined   MeetingState = "DECLINED"
	MeetingSuperseded MeetingState = "SUPERSEDED"
	MeetingHeld       MeetingState = "HELD"
)

// Meeting is a meeting of some of a case's people.
type Meeting struct {
	ID    string       `json:"id"`
	Kind  MeetingKind  `json:"kind"`
	State MeetingState `json:"state"`
	Slots []Slot       `json:"slots"`
	// Location is where the meeting takes place, as its proposer typed it.
	// It is never part of progress: it is kept as a sealed document of
	// kind MeetingLocationDoc and set here only on the copies a read
	// returns (Service.Meetings), or by the store for a meeting recorded
	// before locations were sealed.
	Location   string            `json:"-"`
	Proposer   string            `json:"proposer"`
	Responses  []MeetingResponse `json:"responses,omitempty"`
	Confirmed  int               `json:"confirmed"`
	CreateTime time.Time         `json:"create_time"`
	// Sequence counts changes, for calendar updates.
	Sequence int `json:"sequence"`
}

// Slot is a time a meeting might take.
type Slot struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
}

// MeetingResponse is one person's answer to a proposal.
type MeetingResponse struct {
	Participant string    `json:"participant"`
	Available   []int     `json:"available,omitempty"`
	Answer      string    `json:"answer,omitempty"`
	Time        time.Time `json:"time"`
}

// meetingParticipants are the roles that take part in each kind of
// meeting.
var meetingParticipants = map[MeetingKind][]Role{
	procedurev1.MeetingKind_MEETING_KIND_CLIENT:     {RoleClient, RoleSPC},
	procedurev1.MeetingKind_MEETING_KIND_JOINT:      {RoleClient, RoleSPC, RoleTherapist, RoleSPT},
	procedurev1.MeetingKind_MEETING_KIND_FULL_GROUP: {RoleMember},
}

// Participants are the roles that take part in the meeting.
func (m Meeting) Participants() []Role { return meetingParticipants[m.Kind] }

// Name is the meeting's resource name within c.
func (m Meeting) Name(c Case) string { return c.Name() + "/meetings/" + m.ID }

// meeting returns the meeting with the given id.
func (p *Progress) meeting(id string) (*Meeting, bool) {
	for i := range p.Meetings {
		if p.Meetings[i].ID == id {
			return &p.Meetings[i], true
		}
	}
	return nil, false
}
