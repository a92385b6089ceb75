package casefile

import (
	"slices"
	"strings"
	"time"
)

// DocumentKind is what a document is. Its value is what the store keeps.
type DocumentKind string

// The kinds of document. Messages and notes are kept as documents too but
// are read through their own calls, never listed with the others.
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

// Withheld is what replaces a withheld detail in the therapist's copy.
const Withheld = "[withheld at the client's request]"

// conveyedCopy is the statement as the therapist may read it: the summary
// alone when the client allowed only a summary, and every withheld detail
// blotted out, matched without regard to case.
func conveyedCopy(s Statement) Statement {
	c := Constraints{Sharing: ShareFull}
	if s.Constraints != nil {
		c = *s.Constraints
	}
	out := Statement{DesiredOutcome: s.DesiredOutcome, AsConveyed: true}
	if c.Sharing == ShareSummaryOnly {
		out.Summary = s.Summary
	} else {
		out.Concern, out.Summary = s.Concern, s.Summary
	}
	// Longer details first, so that one containing another is blotted out
	// whole.
	withheld := slices.Clone(c.Withheld)
	slices.SortFunc(withheld, func(a, b string) int { return len(b) - len(a) })
	for _, w := range withheld {
		out.Concern = blot(out.Concern, w)
		out.DesiredOutcome = blot(out.DesiredOutcome, w)
		out.Summary = blot(out.Summary, w)
	}
	return out
}

// blot replaces every occurrence of detail in text, ignoring case.
func blot(text, detail string) string {
	detail = strings.TrimSpace(detail)
	if detail == "" {
		return text
	}
	lowerText, lowerDetail := strings.ToLower(text), strings.ToLower(detail)
	if len(lowerText) != len(text) || len(lowerDetail) != len(detail) {
		// Lower-casing changed byte lengths (rare scripts): match exactly
		// rather than risk cutting at the wrong place.
		return strings.ReplaceAll(text, detail, Withheld)
	}
	var b strings.Builder
	for {
		i := strings.Index(lowerText, lowerDetail)
		if i < 0 {
			b.WriteString(text)
			return b.String()
		}
		b.WriteString(text[:i])
		b.WriteString(Withheld)
		text, lowerText = text[i+len(detail):], lowerText[i+len(detail):]
	}
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
