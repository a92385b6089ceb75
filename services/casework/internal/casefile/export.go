package casefile

import (
	"context"
	"fmt"
	"time"
)

// AccessExport is the kind of access-log record an export leaves.
const AccessExport AccessKind = "EXPORT"

// Export is everything casework holds about the client of one case, for a
// subject access request.
type Export struct {
	View         View
	Concern      RegisteredConcern
	Documents    []Document
	Messages     []Document
	Notes        []Document
	Meetings     []Meeting
	Timeline     []TimelineEntry
	AccessLog    []AccessRecord
	ExportedTime time.Time
}

// ExportClientData gathers everything held about the client of the named
// case, for a group admin answering a subject access request. The export
// is recorded in the access log before anything is returned.
func (s *Service) ExportClientData(ctx context.Context, name string) (Export, error) {
	c, cl, err := s.load(ctx, name)
	if err != nil {
		return Export{}, err
	}
	if err := mayAnswerSubjectAccess(cl.principal, c.Group, "export what is held about a client", caseNotFound(name)); err != nil {
		return Export{}, err
	}
	if cl.has(therapistSide...) {
		// The export holds everything, the client's constraints and the
		// withheld details included: an admin who is the therapist, their
		// support person or its nominee leaves it to another admin.
		return Export{}, notAllowed("THERAPIST_SIDE", "the case's therapist, their support person and its nominee may not export it; another of the group's admins may")
	}
	conf, err := s.Store.Confidential(ctx, c.ID)
	if err != nil {
		return Export{}, fmt.Errorf("export concern: %w", err)
	}
	all := append(append([]DocumentKind(nil), listedKinds...), MessageDoc, NoteDoc)
	docs, err := s.Store.Documents(ctx, c.ID, all...)
	if err != nil {
		return Export{}, fmt.Errorf("export documents: %w", err)
	}
	timeline, err := s.Store.Timeline(ctx, c.ID, 0, c.Progress.Entries+1)
	if err != nil {
		return Export{}, fmt.Errorf("export timeline: %w", err)
	}
	if err := s.recordAccess(ctx, c, cl, AccessRecord{Resource: name, Kind: AccessExport}); err != nil {
		return Export{}, err
	}
	// Read after recording, so the export shows its own record too.
	log, err := s.Store.AccessLog(ctx, c.ID, 0, 1<<30)
	if err != nil {
		return Export{}, fmt.Errorf("export access log: %w", err)
	}
	meetings, err := s.withLocations(ctx, c, c.Progress.Meetings, withholding{})
	if err != nil {
		return Export{}, fmt.Errorf("export meetings: %w", err)
	}
	now := s.now()
	e := Export{
		View:         s.view(c, cl, now),
		Concern:      RegisteredConcern{Confidential: conf, RegisterTime: c.RegisterTime, ContactShown: true},
		Meetings:     meetings,
		Timeline:     timeline,
		AccessLog:    log,
		ExportedTime: now,
	}
	for _, d := range docs {
		switch d.Kind {
		case MessageDoc:
			e.Messages = append(e.Messages, d)
		case NoteDoc:
			e.Notes = append(e.Notes, d)
		default:
			e.Documents = append(e.Documents, d)
		}
	}
	return e, nil
}
