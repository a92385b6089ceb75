package pages

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	caseworkv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/casework/v1"
	procedurev1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/procedure/v1"
)

// The pages of a case beyond its summary, for members: the concern as
// registered, the documents, the meetings, and for the client's support
// person the messages with the client and their private notes. Each reads
// what casework lets the member read, and says when the read is recorded
// in the case's access log.

// memberConcernPage is the concern as the client registered it.
type memberConcernPage struct {
	layout
	CasePath, Reference string
	Description         string
	DesiredOutcome      string
	Registered          time.Time
	// Contact is how the client asked to be reached; only the client's
	// support person reads it.
	ContactShown                         bool
	ClientName, ClientEmail, ClientPhone string
}

// memberConcern shows the concern as registered.
func (s *Site) memberConcern(w http.ResponseWriter, r *http.Request) {
	var rc *caseworkv1.RegisteredConcern
	mc, ok := s.loadMemberCaseAnd(w, r, func(ctx context.Context, token, caseName string) (err error) {
		rc, err = s.api.GetRegisteredConcern(ctx, token, caseName)
		return err
	})
	if !ok {
		return
	}
	page := memberConcernPage{
		layout: mc.layout("The concern as registered"), CasePath: mc.path, Reference: mc.c.GetReference(),
		Description: rc.GetDescription(), DesiredOutcome: rc.GetDesiredOutcome(), Registered: rc.GetRegisterTime().AsTime(),
		ClientName: rc.GetClientName(), ClientEmail: rc.GetClientEmail(), ClientPhone: rc.GetClientPhone(),
	}
	page.ContactShown = page.ClientName != "" || page.ClientEmail != "" || page.ClientPhone != ""
	s.render(w, r, http.StatusOK, "member-concern", page)
}

// memberDocumentsPage lists what has been written in the case that the
// member may read.
type memberDocumentsPage struct {
	layout
	CasePath  string
	Documents []documentView
}

// documentView is one document as a member reads it.
type documentView struct {
	ID, Title, Author string
	Time              time.Time
	Text              string
	// Statement is a version of the written statement.
	Statement *caseworkv1.WrittenStatement
	// AsConveyed: the member reads the version conveyed to the
	// practitioner, within the client's limits.
	AsConveyed bool
}

// documentTitles name the kinds of document.
var documentTitles = map[caseworkv1.Document_Kind]string{
	caseworkv1.Document_KIND_WRITTEN_STATEMENT:  "The written statement",
	caseworkv1.Document_KIND_THERAPIST_RESPONSE: "The practitioner's response",
	caseworkv1.Document_KIND_PROGRESS_REPORT:    "Progress report to the link groups",
	caseworkv1.Document_KIND_LINK_GROUP_ISSUE:   "An issue a link group raised",
	caseworkv1.Document_KIND_MEETING_OUTCOME:    "What a meeting concluded",
	caseworkv1.Document_KIND_CLOSING_REASONS:    "Why the case closed",
	caseworkv1.Document_KIND_CLIENT_COMMENT:     "What the client asked to change",
}

// memberDocuments lists the documents.
func (s *Site) memberDocuments(w http.ResponseWriter, r *http.Request) {
	var docs []*caseworkv1.Document
	mc, ok := s.loadMemberCaseAnd(w, r, func(ctx context.Context, token, caseName string) (err error) {
		docs, err = s.api.ListDocuments(ctx, token, caseName, caseworkv1.Document_KIND_UNSPECIFIED)
		return err
	})
	if !ok {
		return
	}
	authors := make([]string, 0, len(docs))
	for _, d := range docs {
		authors = append(authors, d.GetAuthor())
	}
	names := s.memberNames(r, authors...)
	page := memberDocumentsPage{layout: mc.layout("Documents"), CasePath: mc.path}
	for _, d := range docs {
		v := documentView{
			ID: d.GetName()[strings.LastIndex(d.GetName(), "/")+1:], Title: documentTitles[d.GetKind()],
			Author: personName(names, d.GetAuthor()), Time: d.GetCreateTime().AsTime(), Text: d.GetText(),
		}
		if d.GetKind() == caseworkv1.Document_KIND_WRITTEN_STATEMENT {
			v.Statement = d.GetWrittenStatement()
			v.AsConveyed = d.GetWrittenStatement().GetAsConveyed()
			v.Title = "The written statement, version " + strconv.Itoa(int(d.GetVersion()))
		}
		page.Documents = append(page.Documents, v)
	}
	s.render(w, r, http.StatusOK, "member-documents", page)
}

// memberMeetingsPage lists the meetings the member takes part in.
type memberMeetingsPage struct {
	layout
	CasePath string
	Meetings []memberMeetingView
}

// memberMeetingView is one meeting.
type memberMeetingView struct {
	ID, Kind, State, Where string
	Times                  []string
	// Confirmed is the time fixed, once confirmed; Calendar the path of
	// its .ics.
	Confirmed, Calendar string
	Answers             []string
}

// meetingKindWords name who meets.
var meetingKindWords = map[procedurev1.MeetingKind]string{
	procedurev1.MeetingKind_MEETING_KIND_CLIENT:     "The client and their support person",
	procedurev1.MeetingKind_MEETING_KIND_JOINT:      "Joint meeting: the client, the practitioner and both support people",
	procedurev1.MeetingKind_MEETING_KIND_FULL_GROUP: "Full group meeting",
}

// meetingStateWords say where arranging a meeting stands.
var meetingStateWords = map[caseworkv1.Meeting_State]string{
	caseworkv1.Meeting_STATE_PROPOSED:   "Times offered, none fixed yet",
	caseworkv1.Meeting_STATE_CONFIRMED:  "Confirmed",
	caseworkv1.Meeting_STATE_DECLINED:   "The client declined",
	caseworkv1.Meeting_STATE_SUPERSEDED: "Replaced by new times",
	caseworkv1.Meeting_STATE_HELD:       "Held",
}

// memberMeetings lists the meetings, newest first.
func (s *Site) memberMeetings(w http.ResponseWriter, r *http.Request) {
	var meetings []*caseworkv1.Meeting
	mc, ok := s.loadMemberCaseAnd(w, r, func(ctx context.Context, token, caseName string) (err error) {
		meetings, err = s.api.ListMeetings(ctx, token, caseName)
		return err
	})
	if !ok {
		return
	}
	var who []string
	for _, m := range meetings {
		for _, a := range m.GetResponses() {
			who = append(who, a.GetParticipant())
		}
	}
	names := s.memberNames(r, who...)
	page := memberMeetingsPage{layout: mc.layout("Meetings"), CasePath: mc.path}
	for i := len(meetings) - 1; i >= 0; i-- {
		m := meetings[i]
		id := m.GetName()[strings.LastIndex(m.GetName(), "/")+1:]
		v := memberMeetingView{ID: id, Kind: meetingKindWords[m.GetKind()], State: meetingStateWords[m.GetState()], Where: m.GetLocation()}
		for _, slot := range m.GetSlots() {
			v.Times = append(v.Times, spanWords(slot.GetStartTime().AsTime(), slot.GetEndTime().AsTime(), s.london))
		}
		if m.GetState() == caseworkv1.Meeting_STATE_CONFIRMED || m.GetState() == caseworkv1.Meeting_STATE_HELD {
			if n := int(m.GetConfirmedSlot()); n >= 0 && n < len(v.Times) {
				v.Confirmed = v.Times[n]
			}
			if m.GetState() == caseworkv1.Meeting_STATE_CONFIRMED {
				v.Calendar = mc.path + "/meetings/" + id + "/calendar"
			}
		}
		for _, a := range m.GetResponses() {
			v.Answers = append(v.Answers, answerWords(personName(names, a.GetParticipant()), a, v.Times))
		}
		page.Meetings = append(page.Meetings, v)
	}
	s.render(w, r, http.StatusOK, "member-meetings", page)
}

// answerWords says what one person answered to a proposal.
func answerWords(who string, a *caseworkv1.MeetingResponse, times []string) string {
	switch a.GetAnswer() {
	case "DECLINED":
		return who + " would rather not meet"
	case "OTHER_TIMES":
		return who + " asked for other times"
	}
	var can []string
	for _, n := range a.GetAvailableSlots() {
		if int(n) < len(times) {
			can = append(can, times[n])
		}
	}
	if len(can) == 0 {
		return who + " can make none of the times"
	}
	return who + " can make: " + strings.Join(can, "; ")
}

// memberCalendar is a confirmed meeting's .ics, as the API serves it.
func (s *Site) memberCalendar(w http.ResponseWriter, r *http.Request) {
	mc, _, ok := s.loadMemberCase(w, r, nil)
	if !ok {
		return
	}
	name := mc.name() + "/meetings/" + r.PathValue("meeting")
	if !mc.owns("meetings", name) {
		s.notFoundIn(w, r, mc.group)
		return
	}
	cal, err := s.api.GetMeetingCalendar(r.Context(), mc.sess.Token, name)
	if err != nil {
		s.fail(w, r, mc.group, err)
		return
	}
	w.Header().Set("Content-Type", "text/calendar; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="meeting.ics"`)
	w.Write(cal.Body)
}

// memberThreadPage is the messages with the client, or the support
// person's notes: oldest first, then the form to add one.
type memberThreadPage struct {
	layout
	CasePath, Action string
	// Notes marks the notes page (the messages page otherwise).
	Notes  bool
	Banner *banner
	Items  []threadItem
	Closed bool
	Text   string
	FormID string
}

// threadItem is one message or note.
type threadItem struct {
	From string
	Time time.Time
	Text string
}

// memberThread shows the messages with the client (notes false) or the
// support person's notes; only the client's support person has them.
func (s *Site) memberThread(notes bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var items []threadItem
		mc, ok := s.loadMemberCaseAnd(w, r, func(ctx context.Context, token, caseName string) (err error) {
			items, err = s.readThread(ctx, token, caseName, notes)
			return err
		})
		if !ok {
			return
		}
		s.render(w, r, http.StatusOK, "member-thread", s.threadPage(mc, notes, items, r.URL.Query().Get("done") != ""))
	}
}

// threadPage is the page of a thread.
func (s *Site) threadPage(mc *memberCase, notes bool, items []threadItem, done bool) memberThreadPage {
	title, path := "Messages with the client", "/messages"
	if notes {
		title, path = "Your private notes", "/notes"
	}
	page := memberThreadPage{layout: mc.layout(title), CasePath: mc.path, Action: mc.path + path, Notes: notes, Items: items,
		Closed: mc.c.GetPhase() == procedurev1.Phase_PHASE_CLOSED, FormID: newRequestID()}
	switch {
	case done && notes:
		page.Banner = &banner{Title: "Your note is saved", Next: "Only you can read it."}
	case done:
		page.Banner = &banner{Title: "Your message has been sent", Next: "The client is told there is a message for them, without its words."}
	}
	return page
}

// readThread reads the messages or the notes.
func (s *Site) readThread(ctx context.Context, token, caseName string, notes bool) ([]threadItem, error) {
	var items []threadItem
	if notes {
		ns, err := s.api.ListNotes(ctx, token, caseName)
		for _, n := range ns {
			items = append(items, threadItem{From: "You", Time: n.GetCreateTime().AsTime(), Text: n.GetText()})
		}
		return items, err
	}
	ms, err := s.api.ListMessages(ctx, token, caseName)
	for _, m := range ms {
		from := "You"
		if m.GetSenderRole() == procedurev1.Role_ROLE_CLIENT {
			from = "The client"
		}
		items = append(items, threadItem{From: from, Time: m.GetCreateTime().AsTime(), Text: m.GetText()})
	}
	return items, err
}

// memberThreadSubmit sends a message to the client, or saves a note.
func (s *Site) memberThreadSubmit(notes bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !s.readForm(w, r, maxMessageForm) {
			return
		}
		mc, _, ok := s.loadMemberCase(w, r, nil)
		if !ok {
			return
		}
		text := r.PostForm.Get("text")
		again := func(status int, field, msg string) {
			items, err := s.readThread(r.Context(), mc.sess.Token, mc.name(), notes)
			if err != nil {
				s.logError(r.Context(), r, "reading a thread failed", err)
			}
			page := s.threadPage(mc, notes, items, false)
			page.Text, page.FormID = text, r.PostForm.Get("formId")
			page.Errors.add(field, msg)
			s.render(w, r, status, "member-thread", page)
		}
		switch {
		case strings.TrimSpace(text) == "":
			again(http.StatusBadRequest, "text", "Write something first")
			return
		case utf8.RuneCountInString(text) > maxLongText:
			again(http.StatusBadRequest, "text", "Make it shorter: at most 20,000 characters")
			return
		}
		done, path := "message", "/messages"
		if notes {
			done, path = "note", "/notes"
		}
		next, _, err := s.forms.do(formID(r, mc.sess), func() (string, error) {
			var err error
			if notes {
				_, err = s.api.CreateNote(r.Context(), mc.sess.Token, mc.name(), text)
			} else {
				_, err = s.api.CreateMessage(r.Context(), mc.sess.Token, mc.name(), text)
			}
			if err != nil {
				return "", err
			}
			s.log.LogAttrs(r.Context(), slog.LevelInfo, "member wrote", slog.String("case", mc.name()), slog.String("kind", done))
			return mc.path + path + "?done=" + done, nil
		})
		switch {
		case unsent(err):
			again(http.StatusServiceUnavailable, "text", notSentWords("this"))
		case err != nil:
			s.fail(w, r, mc.group, err)
		default:
			http.Redirect(w, r, next, http.StatusSeeOther)
		}
	}
}
