package casefile

import (
	"slices"
	"strings"
	"time"
)

// DocumentKind is what a document is. Its value is what the store keeps.
type DocumentKind string

// The kinds of document. Messages, notes and meeting locations are kept as
// documents too but are read through their own calls, never listed with the
// others.
const (
	WrittenStatementDoc DocumentKind = "WRITTEN_STATEMENT"
	ResponseDoc         DocumentKind = "THERAPIST_RESPONSE"
	ProgressReportDoc   DocumentKind = "PROGRESS_REPORT"
	LinkGroupIssueDoc   DocumentKind = "LINK_GROUP_ISSUE"
	MeetingOutcomeDoc   DocumentKind = "MEETING_OUTCOME"
	ClosingReasonsDoc   DocumentKind = "CLOSING_REASONS"
	ClientCommentDoc    DocumentKind = "CLIENT_COMMENT"
	MessageDoc          DocumentKind = "MESSAGE"
	NoteDoc             DocumentKind = "NOTE"
	// MeetingLocationDoc is where a meeting takes place, as its proposer
	// typed it: sealed like any document, read only with its meeting
	// (Subject), never listed.
	MeetingLocationDoc DocumentKind = "MEETING_LOCATION"
)

// Document is something written in a case. Text and Statement are
// confidential: they go to the store and to callers allowed to read them,
// never into an event, a log line or an error.
type Document struct {
	ID         string
	CaseID     string
	Kind       DocumentKind
	Author     string
	AuthorRole Role
	// Step is the step that wrote it; empty for messages and notes.
	Step string
	// Subject is the meeting or document it concerns, if any.
	Subject string
	// Version numbers the written statement's versions from 1.
	Version    int
	CreateTime time.Time
	Text       string
	Statement  *Statement
}

// Statement is the written statement: (a) what the concern is and (b) what
// outcome the client would regard as satisfactory, with a summary.
type Statement struct {
	Concern        string       `json:"concern"`
	DesiredOutcome string       `json:"desired_outcome"`
	Summary        string       `json:"summary"`
	Constraints    *Constraints `json:"constraints,omitempty"`
	// AsConveyed marks a copy shaped for the therapist; never stored.
	AsConveyed bool `json:"-"`
}

// Sharing is how much of the statement the therapist may read.
type Sharing string

// The ways of sharing.
const (
	ShareFull        Sharing = "FULL"
	ShareSummaryOnly Sharing = "SUMMARY_ONLY"
)

// Constraints are what the client allows to reach the therapist.
type Constraints struct {
	Sharing Sharing `json:"sharing"`
	// Withheld are details blotted out of the therapist's copy.
	Withheld []string `json:"withheld,omitempty"`
	// Other is anything else the SPC should respect; the therapist never
	// reads it.
	Other string `json:"other,omitempty"`
}

// conveyedCopy is the statement as the therapist's side may read it: the
// summary alone when the client allowed only a summary, and never the
// constraints. The withheld details are blotted out afterwards, with every
// other text the reader reads (withholding, in withheld.go).
func conveyedCopy(s Statement) Statement {
	out := Statement{DesiredOutcome: s.DesiredOutcome, Summary: s.Summary, AsConveyed: true}
	if s.Constraints == nil || s.Constraints.Sharing != ShareSummaryOnly {
		out.Concern = s.Concern
	}
	return out
}

// documentReaders says who reads each kind of document, as the table in
// the design describes. The written statement and the therapist's response
// have readers "once" something has happened; readDocument adds those.
var documentReaders = map[DocumentKind][]Role{
	WrittenStatementDoc: {RoleClient, RoleSPC},
	ClientCommentDoc:    {RoleClient, RoleSPC},
	ResponseDoc:         {RoleSPC, RoleTherapist, RoleSPT},
	ProgressReportDoc:   {RoleMember, RoleLinkGroup},
	LinkGroupIssueDoc:   {RoleMember, RoleLinkGroup},
	ClosingReasonsDoc:   {RoleMember, RoleClient},
	MessageDoc:          {RoleClient, RoleSPC},
	NoteDoc:             {RoleSPC},
	// Meeting outcomes are read by the meeting's participants, plus the
	// link groups for the full group's decision: see readDocument.
}

// readDocument returns d as a caller with roles may read it, or false when
// they may not read it at all.
func readDocument(c Case, d Document, roles []Role) (Document, bool) {
	has := func(rs ...Role) bool {
		return slices.ContainsFunc(rs, func(r Role) bool { return slices.Contains(roles, r) })
	}
	switch {
	case d.Kind == MeetingOutcomeDoc:
		m, ok := c.Progress.meeting(strings.TrimPrefix(d.Subject, c.Name()+"/meetings/"))
		if !ok {
			return Document{}, false
		}
		readers := m.Participants()
		if m.Kind == meetingFullGroup {
			readers = append(slices.Clone(readers), RoleLinkGroup)
		}
		return d, has(readers...)
	case has(documentReaders[d.Kind]...):
		return d, true
	case d.Kind == WrittenStatementDoc && d.ID == c.Progress.Conveyed && has(RoleTherapist, RoleSPT) && d.Statement != nil:
		conveyed := conveyedCopy(*d.Statement)
		d.Statement = &conveyed
		return d, true
	case d.Kind == ResponseDoc && c.Progress.Relayed && has(RoleClient):
		return d, true
	}
	return Document{}, false
}
