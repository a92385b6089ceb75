package pages

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	caseworkv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/casework/v1"
	procedurev1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/procedure/v1"
	"github.com/ipnmediation/disputes/web/internal/api"
	"github.com/ipnmediation/disputes/web/internal/session"
)

// meetingsPage shows the meetings offered to the client: with their support
// person, and later perhaps with the practitioner; a meeting still being
// arranged has its form.
type meetingsPage struct {
	layout
	CasePath string
	Banner   *banner
	Meetings []meetingView
	// FormID is the id the forms carry (see forms).
	FormID string
}

// meetingView is one meeting as the client reads it.
type meetingView struct {
	// Kind is client or joint: the meeting's section and its ids.
	Kind     string
	Heading  string
	Who      string
	Sentence string
	// Location is where, as the support person wrote it; empty when they
	// did not say.
	Location string
	// Confirmed is the time fixed, in words; CalendarPath its .ics.
	Confirmed, CalendarPath string
	// Slots are the times offered, while the meeting is being arranged.
	Slots []slotView
	// Form is "client" (one time, other times, or not at all), "joint"
	// (the times the client can make) or "" (nothing to answer).
	Form string
	// Action is where the form posts.
	Action string
	// Answer is the radio chosen (slot-N, other-times, decline), shown
	// again after an error; None is the joint form's "none of these".
	Answer string
	None   bool
	// Answered says what the client said about a joint meeting's times.
	Answered []string
	// created is when it was offered, for the order of the page.
	created time.Time
}

// slotView is one time offered.
type slotView struct {
	Index   int
	Words   string
	Checked bool
}

// meetingWords are the kinds of meeting a client takes part in: a heading,
// who meets (without and with the support person's name, which fills %s),
// and the step with which the client answers.
var meetingWords = map[procedurev1.MeetingKind]struct{ kind, heading, who, whoNamed, step string }{
	procedurev1.MeetingKind_MEETING_KIND_CLIENT: {"client", "Meeting with your support person",
		"You and your support person.", "You and %s, your support person.", "answer_client_meeting"},
	procedurev1.MeetingKind_MEETING_KIND_JOINT: {"joint", "Meeting with the practitioner",
		"You, your support person, the practitioner and the practitioner's support person.",
		"You, %s (your support person), the practitioner and the practitioner's support person.", "answer_joint_meeting"},
}

// meetingsPage shows the meetings.
func (s *Site) meetingsPage(w http.ResponseWriter, r *http.Request) {
	var meetings []*caseworkv1.Meeting
	oc, err, ok := s.loadCaseWith(w, r, func(ctx context.Context, sess session.Session) (err error) {
		meetings, err = s.api.ListMeetings(ctx, sess.Token, sess.Case)
		return err
	})
	if !ok {
		return
	}
	if err != nil {
		s.fail(w, r, oc.group, err)
		return
	}
	page := meetingsPage{layout: oc.layout("Meetings"), CasePath: oc.path, Banner: bannerFor(r), FormID: newRequestID()}
	page.Meetings = s.meetingViews(oc, meetings, s.supportPersonName(r, oc.c), nil)
	s.render(w, r, http.StatusOK, "meetings", page)
}

// latestMeetings is the latest meeting of each kind the client takes part
// in: a new offer replaces the last.
func latestMeetings(meetings []*caseworkv1.Meeting) []*caseworkv1.Meeting {
	latest := map[procedurev1.MeetingKind]*caseworkv1.Meeting{}
	for _, m := range meetings {
		if _, known := meetingWords[m.GetKind()]; !known || m.GetState() == caseworkv1.Meeting_STATE_SUPERSEDED {
			continue
		}
		if prev, ok := latest[m.GetKind()]; !ok || !m.GetCreateTime().AsTime().Before(prev.GetCreateTime().AsTime()) {
			latest[m.GetKind()] = m
		}
	}
	var out []*caseworkv1.Meeting
	for _, k := range []procedurev1.MeetingKind{procedurev1.MeetingKind_MEETING_KIND_CLIENT, procedurev1.MeetingKind_MEETING_KIND_JOINT} {
		if m, ok := latest[k]; ok {
			out = append(out, m)
		}
	}
	return out
}

// meetingViews are the meetings as the client reads them, what needs the
// client's answer first, then the newest first (see meetingOrder);
// supportPerson is the support person's name, or ""; typed is a form sent
// with errors, shown again as it was sent.
func (s *Site) meetingViews(oc *openCase, meetings []*caseworkv1.Meeting, supportPerson string, typed *meetingAnswer) []meetingView {
	var out []meetingView
	for _, m := range latestMeetings(meetings) {
		words := meetingWords[m.GetKind()]
		id := m.GetName()[strings.LastIndexByte(m.GetName(), '/')+1:]
		v := meetingView{Kind: words.kind, Heading: words.heading, Who: words.who, Location: m.GetLocation(),
			Action: oc.path + "/meetings/" + id, created: m.GetCreateTime().AsTime()}
		if supportPerson != "" {
			v.Who = fmt.Sprintf(words.whoNamed, supportPerson)
		}
		var mine []int32
		for _, resp := range m.GetResponses() {
			if resp.GetParticipant() == "client" {
				mine = resp.GetAvailableSlots()
				v.Answered, v.None = nil, len(mine) == 0
				if v.None {
					v.Answered = []string{"You cannot make any of these times."}
				}
			}
		}
		for i, slot := range m.GetSlots() {
			sv := slotView{Index: i, Words: spanWords(slot.GetStartTime().AsTime(), slot.GetEndTime().AsTime(), s.london)}
			if slices.Contains(mine, int32(i)) {
				v.Answered = append(v.Answered, sv.Words)
				sv.Checked = true
			}
			v.Slots = append(v.Slots, sv)
		}
		switch m.GetState() {
		case caseworkv1.Meeting_STATE_PROPOSED:
			if oc.mayTake(words.step) {
				v.Form = words.kind
			}
			switch {
			case words.kind == "client":
				v.Sentence = "Your support person has offered to meet you at one of these times."
			case len(v.Answered) > 0:
				v.Sentence = "You have said which times you can make. Your support person will confirm the time once everyone has answered. You can change your answer until then."
			default:
				v.Sentence = "Your support person has offered these times for a meeting with the practitioner. Say which you can make, and they will confirm one that suits everyone."
			}
		case caseworkv1.Meeting_STATE_CONFIRMED:
			v.Slots, v.Answered = nil, nil
			if i := int(m.GetConfirmedSlot()); i >= 0 && i < len(m.GetSlots()) {
				v.Confirmed = spanWords(m.GetSlots()[i].GetStartTime().AsTime(), m.GetSlots()[i].GetEndTime().AsTime(), s.london)
			}
			v.Sentence = "Your meeting is arranged."
			v.CalendarPath = v.Action + "/calendar"
		case caseworkv1.Meeting_STATE_DECLINED:
			v.Slots = nil
			v.Sentence = "You chose not to meet your support person. They will write down your concern from what you have told them, and you can still send them messages."
		case caseworkv1.Meeting_STATE_HELD:
			v.Slots, v.Answered = nil, nil
			v.Sentence = "The meeting has taken place."
		}
		if typed != nil && typed.meeting == m.GetName() {
			v.Answer, v.None = typed.answer, typed.none
			for i := range v.Slots {
				v.Slots[i].Checked = slices.Contains(typed.slots, int32(i))
			}
		}
		out = append(out, v)
	}
	slices.SortStableFunc(out, meetingOrder)
	return out
}

// meetingOrder puts first, on a small screen's first view, what the client
// came for: a meeting they may answer now (or change their answer to,
// which is also the one they just answered), then the newest. A meeting
// with the practitioner comes after the one with the support person, so
// that, once answered, it is not left below an older meeting that is done.
func meetingOrder(a, b meetingView) int {
	if (a.Form != "") != (b.Form != "") {
		if a.Form != "" {
			return -1
		}
		return 1
	}
	return b.created.Compare(a.created)
}

// meetingAnswer is what a meeting's form sent.
type meetingAnswer struct {
	meeting string
	// answer is the client meeting's radio: slot-N, other-times or decline.
	answer string
	// slots and none are the joint meeting's checkboxes.
	slots []int32
	none  bool
}

// meetingAnswerSubmit answers a meeting: the client's own (a time, other
// times, or not at all) or the joint one (the times the client can make).
func (s *Site) meetingAnswerSubmit(w http.ResponseWriter, r *http.Request) {
	if !s.readForm(w, r, 8<<10) {
		return
	}
	oc, ok := s.loadCase(w, r)
	if !ok {
		return
	}
	name := oc.sess.Case + "/meetings/" + r.PathValue("meeting")
	if !oc.owns("meetings", name) {
		s.notFoundIn(w, r, oc.group)
		return
	}

	meetings, err := s.api.ListMeetings(r.Context(), oc.sess.Token, oc.sess.Case)
	if err != nil {
		s.fail(w, r, oc.group, err)
		return
	}
	i := slices.IndexFunc(meetings, func(m *caseworkv1.Meeting) bool { return m.GetName() == name })
	if i < 0 {
		s.notFoundIn(w, r, oc.group)
		return
	}
	m := meetings[i]
	words, known := meetingWords[m.GetKind()]
	if !known {
		s.notFoundIn(w, r, oc.group)
		return
	}
	typed := &meetingAnswer{meeting: name, answer: r.PostForm.Get("answer"), none: r.PostForm.Get("none") == "yes"}
	for _, v := range r.PostForm["slots"] {
		if n, err := strconv.Atoi(v); err == nil && n >= 0 && n < len(m.GetSlots()) && !slices.Contains(typed.slots, int32(n)) {
			typed.slots = append(typed.slots, int32(n))
		}
	}
	req := &caseworkv1.TakeStepRequest{Name: oc.sess.Case, Step: words.step, Input: &caseworkv1.TakeStepRequest_MeetingAnswer{
		MeetingAnswer: &caseworkv1.MeetingAnswer{Meeting: name}}}
	var errs formErrors
	next := oc.path + "/meetings"
	done := ""
	switch words.kind {
	case "client":
		switch slot, isSlot := strings.CutPrefix(typed.answer, "slot-"); {
		case isSlot:
			n, err := strconv.Atoi(slot)
			if err != nil || n < 0 || n >= len(m.GetSlots()) {
				errs.add("answer", "Choose one of the times, or say what you would like to do")
				break
			}
			req.Outcome = "ACCEPTED"
			req.GetMeetingAnswer().Slots = []int32{int32(n)}
			done = "meeting-accepted"
		case typed.answer == "other-times":
			req.Outcome = "OTHER_TIMES"
			// The step takes no note: the messages page is where the client
			// can say which times suit them.
			next, done = oc.path+"/messages", "other-times"
		case typed.answer == "decline":
			req.Outcome = "DECLINED"
			next, done = oc.path, "meeting-declined"
		default:
			errs.add("answer", "Choose one of the times, or say what you would like to do")
		}
	case "joint":
		switch {
		case typed.none && len(typed.slots) > 0:
			errs.add("slots", "Select the times you can make, or that you cannot make any of them, not both")
		case !typed.none && len(typed.slots) == 0:
			errs.add("slots", "Select the times you can make, or select \u201cI cannot make any of these times\u201d")
		}
		slices.Sort(typed.slots)
		req.GetMeetingAnswer().Slots = typed.slots
		done = "joint-answered"
	}
	if errs.Any() {
		page := meetingsPage{layout: oc.layout("Meetings"), CasePath: oc.path, FormID: r.PostForm.Get("formId")}
		page.Errors = errs
		page.Meetings = s.meetingViews(oc, meetings, s.supportPersonName(r, oc.c), typed)
		s.render(w, r, http.StatusBadRequest, "meetings", page)
		return
	}
	to, _, err := s.forms.do(formID(r, oc.sess), func() (string, error) {
		if _, err := s.api.TakeStep(r.Context(), oc.sess.Token, req); err != nil {
			return "", err
		}
		s.log.LogAttrs(r.Context(), slog.LevelInfo, "client answered a meeting", slog.String("case", oc.sess.Case), slog.String("step", req.GetStep()), slog.String("outcome", req.GetOutcome()))
		return doneAt(next, done), nil
	})
	if err != nil {
		s.stepFailed(w, r, oc, err, oc.path+"/meetings", "Back to your meetings")
		return
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// meetingCalendar answers with a confirmed meeting's calendar file, as the
// API serves it, for the client's calendar: a download (attachment), never
// a page.
func (s *Site) meetingCalendar(w http.ResponseWriter, r *http.Request) {
	oc, ok := s.loadCase(w, r)
	if !ok {
		return
	}
	name := oc.sess.Case + "/meetings/" + r.PathValue("meeting")
	if !oc.owns("meetings", name) {
		s.notFoundIn(w, r, oc.group)
		return
	}
	cal, err := s.api.GetMeetingCalendar(r.Context(), oc.sess.Token, name)
	switch {
	case api.IsReason(err, "MEETING_NOT_CONFIRMED"):
		s.render(w, r, http.StatusConflict, "step-problem", stepProblemPage{layout: oc.layout("This meeting has no time yet"),
			Explanation: "The time of this meeting is not fixed yet, so it cannot be added to a calendar.", CasePath: oc.path + "/meetings", BackText: "Back to your meetings"})
		return
	case err != nil:
		s.fail(w, r, oc.group, err)
		return
	}
	if !strings.HasPrefix(cal.ContentType, "text/calendar") {
		s.fail(w, r, oc.group, fmt.Errorf("the meeting's calendar came as %q, not text/calendar", cal.ContentType))
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/calendar; charset=utf-8")
	h.Set("Content-Disposition", `attachment; filename="meeting.ics"`)
	w.Write(cal.Body)
}
