package casefile

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/ipnmediation/disputes/platform/auth"
	"github.com/ipnmediation/disputes/platform/fault"
	procedurev1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/procedure/v1"
)

// PhaseOf is the stored phase for a procedure phase.
func PhaseOf(p procedurev1.Phase) Phase { return Phase(strings.TrimPrefix(p.String(), "PHASE_")) }

// ProcedurePhase is the procedure phase of a stored phase.
func ProcedurePhase(p Phase) procedurev1.Phase {
	return procedurev1.Phase(procedurev1.Phase_value["PHASE_"+string(p)])
}

// reminderOffsets keeps the positive offsets: a reminder after the
// deadline would be an overdue notice, which comes anyway.
func reminderOffsets(offsets []time.Duration) []time.Duration {
	var out []time.Duration
	for _, o := range offsets {
		if o > 0 {
			out = append(out, o)
		}
	}
	return out
}

// View is a case as one caller sees it at one moment.
type View struct {
	Case  Case
	Clock Clock
	// FirstResponse is the first-response target's clock.
	FirstResponse Clock
	// Roles are the caller's roles in the case.
	Roles []Role
	// Summary says the caller sees a progress summary only: the case's
	// identity, reference, therapist and roles are blanked.
	Summary bool
	// Next are the steps that may be taken now.
	Next []NextStep
}

// NextStep is a step that may be taken now.
type NextStep struct {
	Step     string
	Title    string
	Actors   []Role
	Excluded []Role
	// Optional steps may be taken but the case does not wait for them.
	Optional bool
	// TowardFirstResponse says whether taking it brings the case nearer its
	// first response (see procedure.Definition.TowardFirstResponse).
	TowardFirstResponse bool
	// CallerMay says whether the caller may take it.
	CallerMay bool
}

func (s *Service) view(c Case, cl caller, now time.Time) View {
	v := View{
		Case:          c,
		Clock:         targetClock(c.RegisterTime, c.Deadline, resolvedAt(c), c.CloseTime, now),
		FirstResponse: targetClock(c.RegisterTime, c.FirstResponseDeadline, c.FirstResponseTime, c.CloseTime, now),
		Roles:         cl.roles,
	}
	if def, err := s.definition(c); err == nil && !c.Closed() {
		for _, step := range def.Steps() {
			if whyNotReady(def, c, step).why != holdNone {
				continue
			}
			_, may := roleFor(cl, step)
			v.Next = append(v.Next, NextStep{Step: step.GetId(), Title: step.GetTitle(), Actors: step.GetActors(),
				Excluded: step.GetExcludedActors(), Optional: step.GetOptional(),
				TowardFirstResponse: def.TowardFirstResponse(step.GetId()), CallerMay: may})
		}
	}
	if slices.Equal(cl.roles, []Role{RoleLinkGroup}) {
		// A progress summary: where the case stands and its clock, not
		// whose case it is.
		v.Summary = true
		v.Case.Concern, v.Case.Reference, v.Case.Therapist, v.Case.Roles = "", "", "", Roles{}
		// Of the next steps, only those the link group may take itself
		// (its own issue, once the LP has reported progress): what the
		// others must do next would tell it more than a summary does.
		v.Case.Statement = ""
		v.Next = slices.DeleteFunc(v.Next, func(n NextStep) bool { return !n.CallerMay })
	}
	return v
}

// resolvedAt is when the case met its overall target: when it closed
// resolved; zero otherwise.
func resolvedAt(c Case) time.Time {
	if c.Outcome == Resolved {
		return c.CloseTime
	}
	return time.Time{}
}

// load reads the named case and checks that the caller may see it.
func (s *Service) load(ctx context.Context, name string) (Case, caller, error) {
	group, id, ok := splitCaseName(name)
	if !ok {
		if auth.FromContext(ctx).Kind == auth.Anonymous {
			return Case{}, caller{}, auth.ErrUnauthenticated()
		}
		return Case{}, caller{}, caseNotFound(name)()
	}
	c, err := s.Store.Get(ctx, group, id)
	if errors.Is(err, ErrNotFound) {
		if auth.FromContext(ctx).Kind == auth.Anonymous {
			return Case{}, caller{}, auth.ErrUnauthenticated()
		}
		opening, err := s.opening(ctx, group, id)
		if err != nil {
			return Case{}, caller{}, err
		}
		if opening {
			return Case{}, caller{}, caseOpening(name)
		}
		return Case{}, caller{}, caseNotFound(name)()
	}
	if err != nil {
		return Case{}, caller{}, fmt.Errorf("get case: %w", err)
	}
	cl, err := s.callerOf(ctx, c, name)
	return c, cl, err
}

// opening reports whether the case groups/{g}/cases/{id}, which casework
// does not have, is one it is about to open: its concern is registered (a
// case takes its concern's id) and the caller is someone who will see it,
// the client of that concern or a member of the group. Anyone else is told
// the case does not exist, as for any case they may not see.
func (s *Service) opening(ctx context.Context, group, id string) (bool, error) {
	concern := group + "/concerns/" + id
	p := auth.FromContext(ctx)
	switch {
	case p.Kind == auth.Client:
		// The client's session names their concern: nothing to ask.
		return p.Concern == concern, nil
	case p.InGroup(group):
		// A member who followed the e-mail about a new concern faster
		// than the event reached casework.
		_, found, err := s.Intake.Concern(ctx, concern)
		if errors.Is(err, ErrConcernHandedOver) {
			// Opened between the look here and the question to intake:
			// the next read finds it.
			return true, nil
		}
		if err != nil {
			return false, fmt.Errorf("ask intake for %s: %w", concern, err)
		}
		return found, nil
	}
	return false, nil
}

// caseOpening is the answer for a case that is registered but not opened
// yet: it comes within a second or two, so the caller is told to try again
// rather than that there is no such case.
func caseOpening(name string) *fault.Error {
	return &fault.Error{Kind: fault.NotFound, Reason: "CASE_OPENING",
		Message:    "the case is being opened; try again in a moment",
		Metadata:   map[string]string{"case": name},
		RetryDelay: time.Second}
}

// Get returns the named case (groups/{g}/cases/{id}) as the caller may see
// it.
func (s *Service) Get(ctx context.Context, name string) (View, error) {
	c, cl, err := s.load(ctx, name)
	if err != nil {
		return View{}, err
	}
	return s.view(c, cl, s.now()), nil
}

// List returns a page of the cases of group (groups/{g}) in the filter's
// order, and how many pass the filter in all, to a member of the group or
// the operator; a client of the group gets their own case alone. size 0
// means DefaultPageSize; larger than MaxPageSize means MaxPageSize. next is
// nil on the last page; a cursor made in another order is refused. A role
// filter keeps the cases where the caller holds that role; an awaiting
// filter those that wait, or do not wait, for the caller.
func (s *Service) List(ctx context.Context, group string, f Filter, size int, after *Cursor) (views []View, next *Cursor, total int, err error) {
	if !isGroupName(group) {
		return nil, nil, 0, nameViolation("parent", "must be a group, groups/{group}")
	}
	if after != nil && after.Order != f.Order {
		return nil, nil, 0, nameViolation("page_token", "was made for another order_by")
	}
	p := auth.FromContext(ctx)
	if p.Kind == auth.Client && p.Group == group {
		// A client's list is their own case: how they find it after
		// signing in with the reference and access code.
		c, err := s.Store.ByConcern(ctx, p.Concern)
		if errors.Is(err, ErrNotFound) {
			return nil, nil, 0, nil
		}
		if err != nil {
			return nil, nil, 0, fmt.Errorf("find the client's case: %w", err)
		}
		return []View{s.view(c, caller{principal: p, roles: s.rolesIn(p, c)}, s.now())}, nil, 1, nil
	}
	if err := mayReadGroup(ctx, group, groupNotFound(group)); err != nil {
		return nil, nil, 0, err
	}
	size, err = pageSize(size, DefaultPageSize, MaxPageSize)
	if err != nil {
		return nil, nil, 0, err
	}
	if f.Role != 0 && !slices.Contains([]Role{RoleTherapist, RoleSPT, RoleNominee, RoleSPC, RoleLP}, f.Role) {
		return nil, nil, 0, nameViolation("caller_role", "must be a role a member holds in a case: therapist, SPT, nominee, SPC or LP")
	}
	// The operator and the notifier hold no role in any case and may take
	// no step: they are no Member, whom the role and awaiting filters
	// compare with.
	f.Member = ""
	if p.InGroup(group) {
		f.Member = p.Member
	}
	now := s.now()
	f.Now = now
	// One more than asked tells whether another page follows.
	cases, err := s.Store.List(ctx, group, f, after, size+1)
	if err != nil {
		return nil, nil, 0, fmt.Errorf("list cases: %w", err)
	}
	if len(cases) > size {
		cases = cases[:size]
		last := cases[size-1]
		next = &Cursor{Order: f.Order, RegisterTime: last.RegisterTime, Deadline: last.Deadline, ID: last.ID}
	}
	switch {
	case after == nil && next == nil:
		// The whole list is on this page: no need to count it again.
		total = len(cases)
	default:
		if total, err = s.Store.Count(ctx, group, f); err != nil {
			return nil, nil, 0, fmt.Errorf("count cases: %w", err)
		}
	}
	views = make([]View, 0, len(cases))
	for _, c := range cases {
		views = append(views, s.view(c, caller{principal: p, roles: s.rolesIn(p, c)}, now))
	}
	return views, next, total, nil
}

// Procedure returns the named version of the procedure.
func (s *Service) Procedure(name string) (*procedurev1.Procedure, error) {
	d, ok := s.Procedures.Get(name)
	if !ok {
		return nil, &fault.Error{Kind: fault.NotFound, Reason: "PROCEDURE_NOT_FOUND",
			Message: fmt.Sprintf("there is no procedure %s", name), Metadata: map[string]string{"procedure": name}}
	}
	return d.Proto(), nil
}

// Timeline returns the entries of the case the caller may see, oldest
// first, from seq after+1; next is 0 on the last page.
func (s *Service) Timeline(ctx context.Context, name string, after, size int) (entries []TimelineEntry, next int, err error) {
	c, cl, err := s.load(ctx, name)
	if err != nil {
		return nil, 0, err
	}
	if !mayReadTimeline(cl) {
		return nil, 0, notAllowed("ROLES_ONLY", "only the people with a part in the case read its timeline")
	}
	if size, err = pageSize(size, defaultLogPage, maxLogPage); err != nil {
		return nil, 0, err
	}
	actor := cl.actor()
	// Entries the caller may not see are skipped, so a page is read in
	// chunks until it is full or the timeline ends.
	for {
		chunk, err := s.Store.Timeline(ctx, c.ID, after, size)
		if err != nil {
			return nil, 0, fmt.Errorf("read timeline: %w", err)
		}
		for _, e := range chunk {
			after = e.Seq
			if e.visibleTo(cl.roles, actor) {
				entries = append(entries, e)
				if len(entries) == size {
					if after < c.Progress.Entries {
						return entries, after, nil
					}
					return entries, 0, nil
				}
			}
		}
		if len(chunk) < size {
			return entries, 0, nil
		}
	}
}

// mayReadTimeline reports whether cl reads the case's timeline at all (each
// entry then as its audience allows): the people with a part in the case.
// The operator and the notifier see where a case stands, not its history.
func mayReadTimeline(cl caller) bool { return len(cl.roles) > 0 }

// TimelineEntry returns the case's entry groups/{g}/cases/{c}/timelineEntries/{n}
// to a caller who may list the timeline and whose roles see that entry, as
// Timeline shows it. Any other entry, and every entry to any other caller,
// is TIMELINE_ENTRY_NOT_FOUND.
func (s *Service) TimelineEntry(ctx context.Context, name string) (TimelineEntry, Case, error) {
	caseName, seq, ok := cutSeq(name, "timelineEntries")
	if !ok {
		return TimelineEntry{}, Case{}, nameViolation("name", "must be groups/{group}/cases/{case}/timelineEntries/{n}, n a number from 1")
	}
	c, cl, err := s.load(ctx, caseName)
	if err != nil {
		return TimelineEntry{}, Case{}, err
	}
	notFound := &fault.Error{Kind: fault.NotFound, Reason: "TIMELINE_ENTRY_NOT_FOUND",
		Message: fmt.Sprintf("there is no timeline entry %s", name), Metadata: map[string]string{"timeline_entry": name}}
	if !mayReadTimeline(cl) {
		return TimelineEntry{}, Case{}, notFound
	}
	entries, err := s.Store.Timeline(ctx, c.ID, int(seq-1), 1)
	if err != nil {
		return TimelineEntry{}, Case{}, fmt.Errorf("read timeline: %w", err)
	}
	if len(entries) == 0 || entries[0].Seq != int(seq) || !entries[0].visibleTo(cl.roles, cl.actor()) {
		return TimelineEntry{}, Case{}, notFound
	}
	return entries[0], c, nil
}

// cutSeq splits name, "<case>/<collection>/<n>", into the case's name and
// n, a number from 1 written without leading zeros.
func cutSeq(name, collection string) (string, int64, bool) {
	caseName, digits, ok := strings.Cut(name, "/"+collection+"/")
	if !ok {
		return "", 0, false
	}
	n, err := strconv.ParseInt(digits, 10, 64)
	if err != nil || n <= 0 || strconv.FormatInt(n, 10) != digits {
		return "", 0, false
	}
	return caseName, n, true
}

// listedKinds are the kinds ListDocuments returns; messages and notes have
// their own calls.
var listedKinds = []DocumentKind{WrittenStatementDoc, ResponseDoc, ProgressReportDoc, LinkGroupIssueDoc, MeetingOutcomeDoc, ClosingReasonsDoc, ClientCommentDoc}

// Documents returns the case's documents the caller may read, of kind
// when it is not empty, and records the reads in the access log.
func (s *Service) Documents(ctx context.Context, name string, kind DocumentKind) ([]Document, Case, error) {
	docs, c, cl, err := s.readableDocuments(ctx, name, kind)
	if err != nil {
		return nil, Case{}, err
	}
	if err := s.recordAccess(ctx, c, cl, documentReads(c, docs...)...); err != nil {
		return nil, Case{}, err
	}
	return docs, c, nil
}

// readableDocuments returns the case's documents the caller may read, as
// they may read them, without recording anything.
func (s *Service) readableDocuments(ctx context.Context, name string, kind DocumentKind) ([]Document, Case, caller, error) {
	c, cl, err := s.load(ctx, name)
	if err != nil {
		return nil, Case{}, caller{}, err
	}
	kinds := listedKinds
	if kind != "" {
		kinds = []DocumentKind{kind}
	}
	docs, err := s.Store.Documents(ctx, c.ID, kinds...)
	if err != nil {
		return nil, Case{}, caller{}, fmt.Errorf("read documents: %w", err)
	}
	w, err := s.withholdingFor(ctx, c, cl)
	if err != nil {
		return nil, Case{}, caller{}, err
	}
	var out []Document
	for _, d := range docs {
		if rd, ok := readDocument(c, d, cl.roles); ok {
			out = append(out, w.document(rd))
		}
	}
	return out, c, cl, nil
}

func documentReads(c Case, docs ...Document) []AccessRecord {
	reads := make([]AccessRecord, 0, len(docs))
	for _, d := range docs {
		reads = append(reads, AccessRecord{Resource: DocumentName(c, d), Kind: AccessDocument})
	}
	return reads
}

// Document returns one document as the caller may read it, and records
// the read.
func (s *Service) Document(ctx context.Context, name string) (Document, Case, error) {
	caseName, id, ok := strings.Cut(name, "/documents/")
	if !ok || !isUUID(id) {
		return Document{}, Case{}, nameViolation("name", "must be groups/{group}/cases/{case}/documents/{document}")
	}
	docs, c, cl, err := s.readableDocuments(ctx, caseName, "")
	if err != nil {
		return Document{}, Case{}, err
	}
	for _, d := range docs {
		if d.ID == id {
			if err := s.recordAccess(ctx, c, cl, documentReads(c, d)...); err != nil {
				return Document{}, Case{}, err
			}
			return d, c, nil
		}
	}
	// Unknown and unreadable look the same.
	return Document{}, Case{}, &fault.Error{Kind: fault.NotFound, Reason: "DOCUMENT_NOT_FOUND",
		Message: fmt.Sprintf("there is no document %s", name), Metadata: map[string]string{"document": name}}
}

// Meetings returns the case's meetings the caller takes part in, each with
// its location as the caller may read it.
func (s *Service) Meetings(ctx context.Context, name string) ([]Meeting, Case, error) {
	c, cl, err := s.load(ctx, name)
	if err != nil {
		return nil, Case{}, err
	}
	var out []Meeting
	for _, m := range c.Progress.Meetings {
		if cl.has(m.Participants()...) {
			out = append(out, m)
		}
	}
	if len(out) == 0 {
		return out, c, nil
	}
	w, err := s.withholdingFor(ctx, c, cl)
	if err != nil {
		return nil, Case{}, err
	}
	if out, err = s.withLocations(ctx, c, out, w); err != nil {
		return nil, Case{}, err
	}
	return out, c, nil
}

// withLocations gives each of meetings, meetings of c, its location, read
// from the sealed documents and passed through w. A meeting from before
// locations were sealed keeps the one the store read with the case until
// the re-encrypt command or the case's next change seals it; its proposer
// was the SPC or the LP, so it is blotted like their texts.
func (s *Service) withLocations(ctx context.Context, c Case, meetings []Meeting, w withholding) ([]Meeting, error) {
	docs, err := s.Store.Documents(ctx, c.ID, MeetingLocationDoc)
	if err != nil {
		return nil, fmt.Errorf("read meeting locations: %w", err)
	}
	locations := make(map[string]Document, len(docs))
	for _, d := range docs {
		locations[d.Subject] = d
	}
	out := make([]Meeting, 0, len(meetings))
	for _, m := range meetings {
		if d, ok := locations[m.Name(c)]; ok {
			m.Location = w.text(d.AuthorRole, d.Text)
		} else if m.Location != "" {
			m.Location = w.text(RoleNone, m.Location)
		}
		out = append(out, m)
	}
	return out, nil
}

// Meeting returns one meeting the caller takes part in.
func (s *Service) Meeting(ctx context.Context, name string) (Meeting, Case, error) {
	caseName, id, ok := strings.Cut(name, "/meetings/")
	if !ok || !isUUID(id) {
		return Meeting{}, Case{}, nameViolation("name", "must be groups/{group}/cases/{case}/meetings/{meeting}")
	}
	meetings, c, err := s.Meetings(ctx, caseName)
	if err != nil {
		return Meeting{}, Case{}, err
	}
	for _, m := range meetings {
		if m.ID == id {
			return m, c, nil
		}
	}
	return Meeting{}, Case{}, &fault.Error{Kind: fault.NotFound, Reason: "MEETING_NOT_FOUND",
		Message: fmt.Sprintf("there is no meeting %s", name), Metadata: map[string]string{"meeting": name}}
}

// RegisteredConcern is the concern as registered, as one caller may read
// it: ContactShown says whether the client's details are in it.
type RegisteredConcern struct {
	Confidential
	RegisterTime time.Time
	ContactShown bool
}

// RegisteredConcern returns the concern the case was opened for: its words
// to the client and every member of the group, how to reach the client to
// the client and the SPC only.
func (s *Service) RegisteredConcern(ctx context.Context, name string) (RegisteredConcern, error) {
	caseName, ok := strings.CutSuffix(name, "/registeredConcern")
	if !ok {
		return RegisteredConcern{}, nameViolation("name", "must be groups/{group}/cases/{case}/registeredConcern")
	}
	c, cl, err := s.load(ctx, caseName)
	if err != nil {
		return RegisteredConcern{}, err
	}
	if cl.principal.IsService(NotifierService) {
		return s.contactForNotifier(ctx, c, cl, name)
	}
	if !cl.has(RoleClient, RoleMember) {
		return RegisteredConcern{}, notAllowed("ROLES_ONLY", "only the client and the group's members read the concern")
	}
	conf, err := s.Store.Confidential(ctx, c.ID)
	if err != nil {
		return RegisteredConcern{}, fmt.Errorf("read concern: %w", err)
	}
	w, err := s.withholdingFor(ctx, c, cl)
	if err != nil {
		return RegisteredConcern{}, err
	}
	// Every member, the therapist included, may have read it whole before
	// the client set constraints; from then on the therapist's side reads
	// it within them, like every other text. The outcome the client would
	// like is part of the concern's words.
	conf.Description = w.text(RoleClient, conf.Description)
	conf.DesiredOutcome = w.text(RoleClient, conf.DesiredOutcome)
	rc := RegisteredConcern{Confidential: Confidential{Description: conf.Description, DesiredOutcome: conf.DesiredOutcome}, RegisterTime: c.RegisterTime}
	reads := []AccessRecord{{Resource: name, Kind: AccessConcern}}
	if cl.has(RoleClient, RoleSPC) {
		rc.Confidential, rc.ContactShown = conf, true
		reads = append(reads, AccessRecord{Resource: name, Kind: AccessContact})
	}
	if err := s.recordAccess(ctx, c, cl, reads...); err != nil {
		return RegisteredConcern{}, err
	}
	return rc, nil
}

// Messages returns the client's and the SPC's messages, oldest first; only
// they may read them.
func (s *Service) Messages(ctx context.Context, name string) ([]Document, error) {
	return s.private(ctx, name, MessageDoc, "only the client and the SPC read their messages")
}

// Notes returns the SPC's private notes; only the SPC may read them.
func (s *Service) Notes(ctx context.Context, name string) ([]Document, error) {
	return s.private(ctx, name, NoteDoc, "only the SPC reads the SPC's notes")
}

func (s *Service) private(ctx context.Context, name string, kind DocumentKind, refusal string) ([]Document, error) {
	docs, c, cl, mayRead, err := s.readablePrivate(ctx, name, kind)
	if err != nil {
		return nil, err
	}
	if !mayRead {
		return nil, notAllowed("ROLES_ONLY", refusal)
	}
	if len(docs) > 0 {
		read := AccessRecord{Resource: c.Name() + "/messages", Kind: AccessMessages}
		if kind == NoteDoc {
			read = AccessRecord{Resource: c.Name() + "/notes", Kind: AccessNotes}
		}
		if err := s.recordAccess(ctx, c, cl, read); err != nil {
			return nil, err
		}
	}
	return docs, nil
}

// readablePrivate returns the case's messages or notes (kind) as the caller
// may read them, without recording anything; mayRead is false, and docs
// empty, when the caller is not among their readers.
func (s *Service) readablePrivate(ctx context.Context, name string, kind DocumentKind) (docs []Document, c Case, cl caller, mayRead bool, err error) {
	c, cl, err = s.load(ctx, name)
	if err != nil {
		return nil, Case{}, caller{}, false, err
	}
	if !cl.has(documentReaders[kind]...) {
		return nil, c, cl, false, nil
	}
	docs, err = s.Store.Documents(ctx, c.ID, kind)
	if err != nil {
		return nil, Case{}, caller{}, false, fmt.Errorf("read %s: %w", strings.ToLower(string(kind)), err)
	}
	// Only the client and the SPC read these, so this changes nothing
	// today; it is here so that no read of a text bypasses the client's
	// constraints should the readers ever change.
	w, err := s.withholdingFor(ctx, c, cl)
	if err != nil {
		return nil, Case{}, caller{}, false, err
	}
	return w.documents(docs), c, cl, true, nil
}

// Message returns one of the client's and the SPC's messages,
// groups/{g}/cases/{c}/messages/{id}, as Messages shows it, and records the
// read of that message in the access log. To anyone but the client and the
// SPC it is MESSAGE_NOT_FOUND, as a message that does not exist.
func (s *Service) Message(ctx context.Context, name string) (Document, error) {
	return s.privateOne(ctx, name, MessageDoc)
}

// Note returns one of the SPC's notes, groups/{g}/cases/{c}/notes/{id}, as
// Notes shows it, and records the read of that note in the access log. To
// anyone but the SPC it is NOTE_NOT_FOUND, as a note that does not exist.
func (s *Service) Note(ctx context.Context, name string) (Document, error) {
	return s.privateOne(ctx, name, NoteDoc)
}

// privateOne reads one message or note (kind) by name.
func (s *Service) privateOne(ctx context.Context, name string, kind DocumentKind) (Document, error) {
	collection, what, access, reason := "messages", "message", AccessMessages, "MESSAGE_NOT_FOUND"
	if kind == NoteDoc {
		collection, what, access, reason = "notes", "note", AccessNotes, "NOTE_NOT_FOUND"
	}
	caseName, id, ok := strings.Cut(name, "/"+collection+"/")
	if !ok || !isUUID(id) {
		return Document{}, nameViolation("name", "must be groups/{group}/cases/{case}/"+collection+"/{"+what+"}")
	}
	docs, c, cl, _, err := s.readablePrivate(ctx, caseName, kind)
	if err != nil {
		return Document{}, err
	}
	for _, d := range docs {
		if d.ID == id {
			if err := s.recordAccess(ctx, c, cl, AccessRecord{Resource: name, Kind: access}); err != nil {
				return Document{}, err
			}
			return d, nil
		}
	}
	// Unknown and unreadable look the same.
	return Document{}, &fault.Error{Kind: fault.NotFound, Reason: reason,
		Message: fmt.Sprintf("there is no %s %s", what, name), Metadata: map[string]string{what: name}}
}

// PostMessage sends a message between the client and the SPC.
func (s *Service) PostMessage(ctx context.Context, name, text string) (Document, error) {
	return s.write(ctx, name, MessageDoc, text, "only the client and the SPC send messages in a case", "A message was sent")
}

// AddNote adds one of the SPC's private notes.
func (s *Service) AddNote(ctx context.Context, name, text string) (Document, error) {
	return s.write(ctx, name, NoteDoc, text, "only the SPC writes notes", "The SPC wrote a note")
}

// write stores a message or note and its timeline entry, seen by the
// document's readers only.
func (s *Service) write(ctx context.Context, name string, kind DocumentKind, text, refusal, title string) (Document, error) {
	group, id, ok := splitCaseName(name)
	if !ok {
		return Document{}, nameViolation("parent", "must be a case, groups/{group}/cases/{case}")
	}
	text = strings.TrimSpace(text)
	field := strings.ToLower(string(kind)) + ".text"
	if err := checkText(field, text, true); err != nil {
		return Document{}, err
	}
	readers := documentReaders[kind]
	now := dbTime(s.now())
	var doc Document
	_, err := s.update(ctx, group, id, func(c Case) (Change, error) {
		cl, err := s.callerOf(ctx, c, name)
		if err != nil {
			return Change{}, err
		}
		var role Role
		for _, r := range readers {
			if cl.has(r) {
				role = r
				break
			}
		}
		if role == 0 {
			return Change{}, notAllowed("ROLES_ONLY", refusal)
		}
		if c.Closed() {
			return Change{}, fault.New(fault.FailedPrecondition, "CASE_CLOSED", "the case is closed")
		}
		doc = Document{ID: uuid.NewString(), CaseID: c.ID, Kind: kind, Author: cl.actor(), AuthorRole: role, CreateTime: now, Text: text}
		ch := Change{Case: c, Created: []Document{doc}}
		ch.Entry = ch.Case.appendEntry(TimelineEntry{Title: title, Actor: cl.actor(), ActorRole: role,
			Subject: docResource(c, kind, doc.ID), Audience: readers, CreateTime: now})
		if kind == MessageDoc {
			ch.Messages = []MessagePosted{{Message: docResource(c, kind, doc.ID), SenderRole: role}}
		}
		return ch, nil
	})
	if errors.Is(err, ErrNotFound) {
		return Document{}, caseNotFound(name)()
	}
	if errors.Is(err, ErrStale) {
		return Document{}, staleEtag(name)
	}
	return doc, err
}

// docResource is the resource name of a message, note or document.
func docResource(c Case, kind DocumentKind, id string) string {
	switch kind {
	case MessageDoc:
		return c.Name() + "/messages/" + id
	case NoteDoc:
		return c.Name() + "/notes/" + id
	}
	return c.Name() + "/documents/" + id
}

// DocumentName is d's resource name within c.
func DocumentName(c Case, d Document) string { return docResource(c, d.Kind, d.ID) }

// ReissueAccessCode gives the client of the case a new access code, which
// the SPC passes on; the old code and its sessions stop working.
func (s *Service) ReissueAccessCode(ctx context.Context, name string) (reference, code string, err error) {
	c, cl, err := s.load(ctx, name)
	if err != nil {
		return "", "", err
	}
	if !cl.has(RoleSPC) {
		return "", "", notAllowed("SPC_ONLY", "only the case's SPC may issue the client a new access code")
	}
	if c.Closed() {
		return "", "", fault.New(fault.FailedPrecondition, "CASE_CLOSED", "the case is closed")
	}
	reference, code, err = s.Intake.ReissueAccessCode(ctx, c.Concern)
	if err != nil {
		return "", "", fmt.Errorf("reissue access code: %w", err)
	}
	now := dbTime(s.now())
	group, id, _ := splitCaseName(name)
	_, err = s.update(ctx, group, id, func(c Case) (Change, error) {
		ch := Change{Case: c}
		ch.Entry = ch.Case.appendEntry(TimelineEntry{Title: "The SPC issued the client a new access code", Actor: cl.actor(),
			ActorRole: RoleSPC, Audience: []Role{RoleClient, RoleSPC}, CreateTime: now})
		return ch, nil
	})
	if err != nil {
		// The SPC never sees this code; asking again issues another and
		// revokes this one.
		return "", "", fmt.Errorf("record the new access code: %w", err)
	}
	return reference, code, nil
}

// CalendarEvent is a confirmed meeting as a calendar shows it. Calendars
// are often synchronised with services outside the group's care, and the
// full group meeting's goes into every member's, so it holds only the kind
// of meeting, the group and the time: neither the case nor its reference
// (half of the client's sign-in), nor anyone, nor the place, which its
// proposer typed and which is as confidential as any text of the case (it
// may be the client's address). The description sends the reader to the
// service for it.
type CalendarEvent struct {
	UID         string
	Sequence    int
	Start, End  time.Time
	Summary     string
	Description string
	Stamp       time.Time
}

// meetingTitles are the calendar summaries of each kind of meeting.
var meetingTitles = map[MeetingKind]string{
	procedurev1.MeetingKind_MEETING_KIND_CLIENT:     "Meeting with the client's support person",
	procedurev1.MeetingKind_MEETING_KIND_JOINT:      "Joint meeting",
	procedurev1.MeetingKind_MEETING_KIND_FULL_GROUP: "Full group meeting",
}

// calendarTitle tells a meeting apart in a calendar by its kind and its
// group alone: two meetings of one kind in one group differ by their times.
func calendarTitle(c Case, m Meeting) string {
	return fmt.Sprintf("%s, IPN group %s", meetingTitles[m.Kind], c.GroupID())
}

// Calendar returns the named meeting, once confirmed, for a calendar.
func (s *Service) Calendar(ctx context.Context, name string) (CalendarEvent, error) {
	m, c, err := s.Meeting(ctx, name)
	if err != nil {
		return CalendarEvent{}, err
	}
	if m.State != MeetingConfirmed && m.State != MeetingHeld {
		return CalendarEvent{}, &fault.Error{Kind: fault.FailedPrecondition, Reason: "MEETING_NOT_CONFIRMED",
			Message: "the meeting has no confirmed time yet", Metadata: map[string]string{"meeting": name}}
	}
	slot := m.Slots[m.Confirmed]
	return CalendarEvent{
		UID:         m.ID + "@disputes.ipn.org.uk",
		Sequence:    m.Sequence,
		Start:       slot.Start,
		End:         slot.End,
		Summary:     calendarTitle(c, m),
		Description: "Sign in to the group's disputes service for the place and the details.",
		Stamp:       m.CreateTime,
	}, nil
}

// contactForNotifier is the client's contact details without the concern's
// words, for the notifier to write to the client; the read is logged like
// any other.
func (s *Service) contactForNotifier(ctx context.Context, c Case, cl caller, name string) (RegisteredConcern, error) {
	conf, err := s.Store.Confidential(ctx, c.ID)
	if err != nil {
		return RegisteredConcern{}, fmt.Errorf("read contact: %w", err)
	}
	if err := s.recordAccess(ctx, c, cl, AccessRecord{Resource: name, Kind: AccessContact}); err != nil {
		return RegisteredConcern{}, err
	}
	conf.Description, conf.DesiredOutcome = "", ""
	return RegisteredConcern{Confidential: conf, RegisterTime: c.RegisterTime, ContactShown: true}, nil
}

// Page sizes of the timeline and the access log, which are read in longer
// runs than lists of cases.
const (
	defaultLogPage = 100
	maxLogPage     = 500
)

// pageSize is the page size a request asks for: def when it gives none,
// at most max; a negative one is refused.
func pageSize(size, def, max int) (int, error) {
	switch {
	case size < 0:
		return 0, nameViolation("page_size", "must not be negative")
	case size == 0:
		return def, nil
	case size > max:
		return max, nil
	}
	return size, nil
}
