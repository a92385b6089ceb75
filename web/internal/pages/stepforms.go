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
	directoryv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/directory/v1"
	procedurev1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/procedure/v1"
	"github.com/ipnmediation/disputes/web/internal/api"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// A member takes a step on its form, /{group}/members/cases/{case}/steps/{step}.
// The form is built from the step as the case's version of the procedure
// describes it: its title, its description, its outcomes, and the input
// its action takes. The page code knows the kinds of input (a member to
// name, times to propose, words to write...), never the steps: a new
// version of the procedure that reorders steps, renames them or gives them
// new outcomes needs no change here, only a new kind of input does.

// inputKind is the kind of input a step's form asks for.
type inputKind string

// The kinds of input, one sub-template each in page-member-step.html.
const (
	inputConfirm        inputKind = "confirm"
	inputMember         inputKind = "member"
	inputAppointment    inputKind = "appointment"
	inputProposal       inputKind = "proposal"
	inputAvailability   inputKind = "availability"
	inputConfirmTime    inputKind = "confirm-time"
	inputMeetingOutcome inputKind = "meeting-outcome"
	inputStatement      inputKind = "statement"
	inputText           inputKind = "text"
)

// inputOf is the kind of input each action's form asks for. The client's
// own actions (answering the written statement, deciding, withdrawing)
// are taken on the client's pages and have none here.
var inputOf = map[procedurev1.Action]inputKind{
	procedurev1.Action_ACTION_NOMINATE_SPT:            inputMember,
	procedurev1.Action_ACTION_ANSWER_NOMINATION:       inputConfirm,
	procedurev1.Action_ACTION_APPOINT_SUPPORT:         inputAppointment,
	procedurev1.Action_ACTION_INFORM_LINK_GROUPS:      inputConfirm,
	procedurev1.Action_ACTION_PROPOSE_MEETING:         inputProposal,
	procedurev1.Action_ACTION_RESPOND_TO_MEETING:      inputAvailability,
	procedurev1.Action_ACTION_CONFIRM_MEETING:         inputConfirmTime,
	procedurev1.Action_ACTION_RECORD_MEETING_OUTCOME:  inputMeetingOutcome,
	procedurev1.Action_ACTION_WRITE_STATEMENT:         inputStatement,
	procedurev1.Action_ACTION_CONVEY_STATEMENT:        inputConfirm,
	procedurev1.Action_ACTION_RECORD_RESPONSE:         inputText,
	procedurev1.Action_ACTION_RELAY_RESPONSE:          inputConfirm,
	procedurev1.Action_ACTION_REPORT_PROGRESS:         inputText,
	procedurev1.Action_ACTION_RECORD_LINK_GROUP_ISSUE: inputText,
	procedurev1.Action_ACTION_CLOSE:                   inputText,
}

// textLabels are the label and hint of the words a text step records, by
// action.
var textLabels = map[procedurev1.Action][2]string{
	procedurev1.Action_ACTION_RECORD_RESPONSE:         {"Your response", "The client's support person passes it to the client."},
	procedurev1.Action_ACTION_REPORT_PROGRESS:         {"Your report to the link groups", "Both link groups read it. Say where things stand; leave out what the client said in confidence."},
	procedurev1.Action_ACTION_RECORD_LINK_GROUP_ISSUE: {"The issue the link group raised", ""},
	procedurev1.Action_ACTION_CLOSE:                   {"The reasons", "Needed when the case closes unresolved; the group's members read them."},
	procedurev1.Action_ACTION_RECORD_MEETING_OUTCOME:  {"What the meeting concluded", "Those who took part read it."},
}

// proposalRows is how many times a proposal form offers; the API takes up
// to ten, and a member who needs more proposes again.
const proposalRows = 4

// maxStepForm bounds a step form's body: a written statement's three
// texts of up to 20,000 characters each, with room to spare.
const maxStepForm = 256 << 10

// choice is one option of a radio, checkbox or select.
type choice struct {
	Value, Label string
	// Hint is said under the option.
	Hint    string
	Checked bool
}

// slotRow is one proposed time as typed: a date and two times of day.
type slotRow struct {
	N                int
	Date, Start, End string
}

// stepFormPage is a step's form.
type stepFormPage struct {
	layout
	CasePath, Action string
	Reference        string
	// Step is the step as the procedure describes it; Kind the input its
	// form asks for.
	Step *procedurev1.Step
	Kind inputKind
	// Description is the step's description, in the pages' words.
	Description string
	Outcomes    []choice
	// Problem says why the step was not taken, when the API refused it
	// for a reason no field shows.
	Problem string
	// Members are the members to choose from (naming a support person,
	// appointing), Nominee (the member named), SPC and LP the choices made.
	Members          []choice
	Nominee, SPC, LP string
	Slots            []slotRow
	Location         string
	Meeting          string
	MeetingWhere     string
	Times            []choice
	Text             string
	TextLabel        string
	TextHint         string
	LinkGroups       []choice
	LinkGroup        string
	Concern, Outcome string
	Summary          string
	// ClientComment is what the client asked to change in the latest
	// version, when they did.
	ClientComment string
	Version       int32
	Etag, FormID  string
}

// stepNotOpenPage says a step is not the member's to take now.
type stepNotOpenPage struct {
	layout
	CasePath string
	Reason   string
}

// stepOf finds the step the path names in the case's procedure.
func (s *Site) stepOf(ctx context.Context, mc *memberCase, id string) (*procedurev1.Step, error) {
	p, err := s.api.GetProcedure(ctx, mc.c.GetProcedure())
	if err != nil {
		return nil, err
	}
	for _, st := range p.GetSteps() {
		if st.GetId() == id {
			return st, nil
		}
	}
	return nil, nil
}

// stepForm shows a step's form.
func (s *Site) stepForm(w http.ResponseWriter, r *http.Request) {
	mc, _, ok := s.loadMemberCase(w, r, nil)
	if !ok {
		return
	}
	step, open := s.openStep(w, r, mc)
	if !open {
		return
	}
	page := s.newStepForm(mc, step)
	if err := s.fillStepForm(r, mc, &page, true); err != nil {
		s.fail(w, r, mc.group, err)
		return
	}
	s.render(w, r, http.StatusOK, "member-step", page)
}

// openStep finds the step and checks the member may take it now; when
// not, it answers with the page that says why.
func (s *Site) openStep(w http.ResponseWriter, r *http.Request, mc *memberCase) (*procedurev1.Step, bool) {
	id := r.PathValue("step")
	step, err := s.stepOf(r.Context(), mc, id)
	if err != nil {
		s.fail(w, r, mc.group, err)
		return nil, false
	}
	if step == nil {
		s.notFoundIn(w, r, mc.group)
		return nil, false
	}
	if _, known := inputOf[step.GetAction()]; !known {
		s.render(w, r, http.StatusConflict, "member-step-closed", stepNotOpenPage{layout: mc.layout(memberWords(step.GetTitle())), CasePath: mc.path,
			Reason: "The client takes this step on their own pages."})
		return nil, false
	}
	if !mc.mayTake(id) {
		reason := "This step is not yours to take just now. The case page says what is waiting for you."
		if mc.c.GetPhase() == procedurev1.Phase_PHASE_CLOSED {
			reason = "The case is closed, so no more steps can be taken."
		}
		s.render(w, r, http.StatusConflict, "member-step-closed", stepNotOpenPage{layout: mc.layout(memberWords(step.GetTitle())), CasePath: mc.path, Reason: reason})
		return nil, false
	}
	return step, true
}

// newStepForm is the empty form of step.
func (s *Site) newStepForm(mc *memberCase, step *procedurev1.Step) stepFormPage {
	kind := inputOf[step.GetAction()]
	page := stepFormPage{
		layout: mc.layout(memberWords(step.GetTitle())), Description: memberWords(step.GetDescription()), CasePath: mc.path, Action: mc.path + "/steps/" + step.GetId(),
		Reference: mc.c.GetReference(), Step: step, Kind: kind, Etag: mc.c.GetEtag(), FormID: newRequestID(),
	}
	for _, o := range step.GetOutcomes() {
		page.Outcomes = append(page.Outcomes, choice{Value: o, Label: outcomeLabel(o)})
	}
	if len(page.Outcomes) == 1 {
		page.Outcomes[0].Checked = true
	}
	if l, ok := textLabels[step.GetAction()]; ok {
		page.TextLabel, page.TextHint = l[0], l[1]
	}
	if kind == inputProposal {
		for n := range proposalRows {
			page.Slots = append(page.Slots, slotRow{N: n})
		}
	}
	return page
}

// fillStepForm reads what the form offers to choose from: the members,
// the meeting and its times, the link groups, the written statement so
// far. fresh fills the written statement's fields from what is written
// already; a form sent back keeps what was typed.
func (s *Site) fillStepForm(r *http.Request, mc *memberCase, page *stepFormPage, fresh bool) error {
	ctx, token := r.Context(), mc.sess.Token
	switch page.Kind {
	case inputMember, inputAppointment:
		members, err := s.api.ListActiveMembers(ctx, mc.group.ID)
		if err != nil {
			return err
		}
		page.Members = memberChoices(members, mc.sess.Member(), page.Kind == inputAppointment, mc.c)
	case inputAvailability, inputConfirmTime, inputMeetingOutcome:
		meetings, err := s.api.ListMeetings(ctx, token, mc.name())
		if err != nil {
			return err
		}
		want := caseworkv1.Meeting_STATE_PROPOSED
		if page.Kind == inputMeetingOutcome {
			want = caseworkv1.Meeting_STATE_CONFIRMED
		}
		m := latestMeeting(meetings, page.Step.GetMeetingKind(), want)
		if m == nil {
			page.Problem = "There is no meeting for this step just now. The case page says what is waiting."
			return nil
		}
		typed := page.Times
		page.Meeting = m.GetName()
		page.MeetingWhere = m.GetLocation()
		page.Times = s.timeChoices(m, mc.sess.Member(), page.Kind)
		if !fresh {
			for i := range page.Times {
				page.Times[i].Checked = slices.ContainsFunc(typed, func(c choice) bool { return c.Value == page.Times[i].Value })
			}
		}
	case inputText:
		if page.Step.GetAction() == procedurev1.Action_ACTION_RECORD_LINK_GROUP_ISSUE {
			lgs, err := s.api.ListLinkGroups(ctx, token, mc.group.ID)
			if err != nil {
				return err
			}
			for _, lg := range lgs {
				page.LinkGroups = append(page.LinkGroups, choice{Value: lg.GetName(), Label: lg.GetDisplayName(), Checked: lg.GetName() == page.LinkGroup})
			}
		}
	case inputStatement:
		return s.fillStatement(ctx, mc, page, fresh)
	}
	return nil
}

// fillStatement shows the client's latest comment, and, on a fresh form,
// starts from the latest version (or, before there is one, the concern in
// the client's words).
func (s *Site) fillStatement(ctx context.Context, mc *memberCase, page *stepFormPage, fresh bool) error {
	docs, err := s.api.ListDocuments(ctx, mc.sess.Token, mc.name(), caseworkv1.Document_KIND_UNSPECIFIED)
	if err != nil {
		return err
	}
	var latest *caseworkv1.Document
	for _, d := range docs {
		switch d.GetKind() {
		case caseworkv1.Document_KIND_WRITTEN_STATEMENT:
			latest, page.ClientComment = d, ""
		case caseworkv1.Document_KIND_CLIENT_COMMENT:
			page.ClientComment = d.GetText()
		}
	}
	if latest != nil {
		page.Version = latest.GetVersion()
	}
	if !fresh {
		return nil
	}
	if latest != nil {
		ws := latest.GetWrittenStatement()
		page.Concern, page.Outcome, page.Summary = ws.GetConcern(), ws.GetDesiredOutcome(), ws.GetSummary()
		return nil
	}
	rc, err := s.api.GetRegisteredConcern(ctx, mc.sess.Token, mc.name())
	if err != nil {
		return err
	}
	page.Concern, page.Outcome = rc.GetDescription(), rc.GetDesiredOutcome()
	return nil
}

// memberChoices are the group's active members a step may name: not the
// member taking it, and not the practitioner the concern is about or a
// member holding another part already (casework refuses them too, and says
// why, but a list without them is easier to choose from).
func memberChoices(members []*directoryv1.Member, self string, appointing bool, c *caseworkv1.Case) []choice {
	taken := []string{c.GetTherapist(), c.GetSpt(), c.GetSptNominee(), c.GetSpc(), c.GetLp()}
	var out []choice
	for _, m := range members {
		if m.GetName() == self && !appointing {
			continue
		}
		if slices.Contains(taken, m.GetName()) {
			continue
		}
		out = append(out, choice{Value: m.GetName(), Label: m.GetDisplayName()})
	}
	return out
}

// latestMeeting is the newest meeting of kind in state, or nil.
func latestMeeting(meetings []*caseworkv1.Meeting, kind procedurev1.MeetingKind, state caseworkv1.Meeting_State) *caseworkv1.Meeting {
	var found *caseworkv1.Meeting
	for _, m := range meetings {
		if m.GetKind() == kind && m.GetState() == state {
			found = m
		}
	}
	return found
}

// timeChoices are a meeting's times: for giving availability, each with
// whether the member said they can make it; for confirming, each with how
// many can; for recording the outcome, the time confirmed.
func (s *Site) timeChoices(m *caseworkv1.Meeting, self string, kind inputKind) []choice {
	var out []choice
	for i, slot := range m.GetSlots() {
		c := choice{Value: strconv.Itoa(i), Label: spanWords(slot.GetStartTime().AsTime(), slot.GetEndTime().AsTime(), s.london)}
		can := 0
		for _, resp := range m.GetResponses() {
			if slices.Contains(resp.GetAvailableSlots(), int32(i)) {
				can++
				if resp.GetParticipant() == self {
					c.Checked = kind == inputAvailability
				}
			}
		}
		switch kind {
		case inputConfirmTime:
			c.Hint = fmt.Sprintf("%d of %d who answered can make it", can, len(m.GetResponses()))
		case inputMeetingOutcome:
			if int32(i) != m.GetConfirmedSlot() {
				continue
			}
		}
		out = append(out, c)
	}
	return out
}

// stepSubmit takes the step with what the form says. What was typed is
// kept whatever goes wrong: shown again with what to correct, or with why
// the step was refused.
func (s *Site) stepSubmit(w http.ResponseWriter, r *http.Request) {
	if !s.readForm(w, r, maxStepForm) {
		return
	}
	mc, _, ok := s.loadMemberCase(w, r, nil)
	if !ok {
		return
	}
	step, open := s.openStep(w, r, mc)
	if !open {
		return
	}
	page := s.newStepForm(mc, step)
	page.readTyped(r)
	req := page.request(mc.name(), s.london)
	if page.Errors.Any() {
		s.stepFormAgain(w, r, mc, &page, http.StatusBadRequest)
		return
	}
	next, _, err := s.forms.do(formID(r, mc.sess), func() (string, error) {
		if _, err := s.api.TakeStep(r.Context(), mc.sess.Token, req); err != nil {
			return "", err
		}
		s.log.LogAttrs(r.Context(), slog.LevelInfo, "member took a step", slog.String("case", mc.name()), slog.String("step", step.GetId()))
		return mc.path + "?done=step&step=" + step.GetId(), nil
	})
	if err != nil {
		status, handled := page.refused(err)
		if !handled {
			s.fail(w, r, mc.group, err)
			return
		}
		s.stepFormAgain(w, r, mc, &page, status)
		return
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// stepFormAgain shows the form again, with what was typed, what to correct
// and the case's current etag (so that, having read why, the member can
// send it again).
func (s *Site) stepFormAgain(w http.ResponseWriter, r *http.Request, mc *memberCase, page *stepFormPage, status int) {
	page.Etag = mc.c.GetEtag()
	if err := s.fillStepForm(r, mc, page, false); err != nil {
		s.logError(r.Context(), r, "reading a step form's choices failed", err)
	}
	s.render(w, r, status, "member-step", *page)
}

// readTyped keeps what the form carried.
func (p *stepFormPage) readTyped(r *http.Request) {
	f := r.PostForm
	p.FormID = f.Get("formId")
	if etag := f.Get("etag"); etag != "" {
		// The case as the member saw it: when it changed since, the API
		// says so rather than act on what they did not see.
		p.Etag = etag
	}
	for i := range p.Outcomes {
		p.Outcomes[i].Checked = p.Outcomes[i].Value == f.Get("outcome")
	}
	p.Nominee, p.SPC, p.LP = f.Get("member"), f.Get("spc"), f.Get("lp")
	for i := range p.Slots {
		n := strconv.Itoa(i)
		p.Slots[i].Date, p.Slots[i].Start, p.Slots[i].End = f.Get("slot-"+n+"-date"), f.Get("slot-"+n+"-start"), f.Get("slot-"+n+"-end")
	}
	p.Location = singleLine(f.Get("location"))
	p.Meeting = f.Get("meeting")
	p.Text = f.Get("text")
	p.LinkGroup = f.Get("link-group")
	p.Concern, p.Outcome, p.Summary = f.Get("concern"), f.Get("desired-outcome"), f.Get("summary")
	p.Times = nil
	for _, v := range f["times"] {
		p.Times = append(p.Times, choice{Value: v, Checked: true})
	}
}

// request is the step's request from what was typed; what is missing or
// malformed goes into p.Errors instead.
func (p *stepFormPage) request(caseName string, loc *time.Location) *caseworkv1.TakeStepRequest {
	req := &caseworkv1.TakeStepRequest{Name: caseName, Step: p.Step.GetId(), Etag: p.Etag}
	if len(p.Outcomes) > 0 {
		for _, o := range p.Outcomes {
			if o.Checked {
				req.Outcome = o.Value
			}
		}
		if req.Outcome == "" {
			p.Errors.add("outcome-0", "Choose one")
		}
	}
	switch p.Kind {
	case inputMember:
		if p.Nominee == "" {
			p.Errors.add("member", "Choose a member")
		}
		req.Input = &caseworkv1.TakeStepRequest_Member{Member: p.Nominee}
	case inputAppointment:
		if p.SPC == "" {
			p.Errors.add("spc", "Choose the client's support person")
		}
		if p.LP == "" {
			p.Errors.add("lp", "Choose the liaison person")
		}
		if p.SPC != "" && p.SPC == p.LP {
			p.Errors.add("lp", "Choose someone other than the client's support person: each part needs its own member")
		}
		req.Input = &caseworkv1.TakeStepRequest_Appointment{Appointment: &caseworkv1.Appointment{Spc: p.SPC, Lp: p.LP}}
	case inputProposal:
		proposal := &caseworkv1.MeetingProposal{Location: p.Location}
		for _, row := range p.Slots {
			slot, ok := row.slot(loc, &p.Errors)
			if ok {
				proposal.Slots = append(proposal.Slots, slot)
			}
		}
		if len(proposal.Slots) == 0 && !p.Errors.Any() {
			p.Errors.add("slot-0-date", "Give at least one time: a date, when it starts and when it ends")
		}
		req.Input = &caseworkv1.TakeStepRequest_MeetingProposal{MeetingProposal: proposal}
	case inputAvailability, inputConfirmTime, inputMeetingOutcome:
		answer := &caseworkv1.MeetingAnswer{Meeting: p.Meeting}
		for _, t := range p.Times {
			n, err := strconv.Atoi(t.Value)
			if err == nil && n >= 0 && n < 10 {
				answer.Slots = append(answer.Slots, int32(n))
			}
		}
		switch p.Kind {
		case inputConfirmTime:
			if len(answer.Slots) != 1 {
				p.Errors.add("times-0", "Choose the time to confirm")
			}
		case inputMeetingOutcome:
			answer.Notes, answer.Slots = p.Text, nil
			if strings.TrimSpace(p.Text) == "" {
				p.Errors.add("text", "Write what the meeting concluded")
			}
		}
		req.Input = &caseworkv1.TakeStepRequest_MeetingAnswer{MeetingAnswer: answer}
	case inputStatement:
		if strings.TrimSpace(p.Concern) == "" {
			p.Errors.add("concern", "Write what the concern is")
		}
		if strings.TrimSpace(p.Outcome) == "" {
			p.Errors.add("desired-outcome", "Write the outcome the client would like")
		}
		req.Input = &caseworkv1.TakeStepRequest_WrittenStatement{WrittenStatement: &caseworkv1.WrittenStatement{
			Concern: p.Concern, DesiredOutcome: p.Outcome, Summary: p.Summary}}
	case inputText:
		text := &caseworkv1.TextInput{Text: p.Text, LinkGroup: p.LinkGroup}
		needsText := p.Step.GetAction() != procedurev1.Action_ACTION_CLOSE || req.Outcome != "RESOLVED"
		if p.Step.GetAction() == procedurev1.Action_ACTION_RECORD_LINK_GROUP_ISSUE && p.LinkGroup == "" {
			p.Errors.add("link-group-0", "Choose the link group that raised it")
		}
		switch {
		case strings.TrimSpace(p.Text) != "":
			req.Input = &caseworkv1.TakeStepRequest_Text{Text: text}
		case needsText:
			p.Errors.add("text", "Write "+strings.ToLower(p.TextLabel[:1])+p.TextLabel[1:])
		}
	}
	return req
}

// slot reads one proposed time; a row left empty is no time, a row filled
// in part or wrongly is an error.
func (row slotRow) slot(loc *time.Location, errs *formErrors) (*caseworkv1.TimeSlot, bool) {
	if row.Date == "" && row.Start == "" && row.End == "" {
		return nil, false
	}
	id := fmt.Sprintf("slot-%d-", row.N)
	day, err := time.ParseInLocation("2006-01-02", strings.TrimSpace(row.Date), loc)
	if err != nil {
		errs.add(id+"date", fmt.Sprintf("Time %d: give the date as day, month and year", row.N+1))
		return nil, false
	}
	at := func(field, hm string) (time.Time, bool) {
		t, err := time.Parse("15:04", strings.TrimSpace(hm))
		if err != nil {
			errs.add(id+field, fmt.Sprintf("Time %d: give when it %ss, like 14:00", row.N+1, field))
			return time.Time{}, false
		}
		return time.Date(day.Year(), day.Month(), day.Day(), t.Hour(), t.Minute(), 0, 0, loc), true
	}
	start, ok1 := at("start", row.Start)
	end, ok2 := at("end", row.End)
	if !ok1 || !ok2 {
		return nil, false
	}
	if !end.After(start) {
		errs.add(id+"end", fmt.Sprintf("Time %d: it must end after it starts", row.N+1))
		return nil, false
	}
	return &caseworkv1.TimeSlot{StartTime: timestamppb.New(start), EndTime: timestamppb.New(end)}, true
}

// fieldOf is the form's field for a field the API names.
var fieldOf = map[string]string{
	"member":                          "member",
	"appointment.spc":                 "spc",
	"appointment.lp":                  "lp",
	"meetingProposal.location":        "location",
	"meetingProposal.slots":           "slot-0-date",
	"meetingAnswer.slots":             "times-0",
	"meetingAnswer.notes":             "text",
	"text.text":                       "text",
	"text.linkGroup":                  "link-group-0",
	"writtenStatement.concern":        "concern",
	"writtenStatement.desiredOutcome": "desired-outcome",
	"writtenStatement.summary":        "summary",
	"outcome":                         "outcome-0",
}

// refused puts the API's refusal of the step on the form: on the field it
// concerns, or as the form's problem. handled is false for what the form
// cannot answer (the API down, the session ended), which fail answers.
func (p *stepFormPage) refused(err error) (status int, handled bool) {
	e, isAPI := api.AsError(err)
	if !isAPI {
		return 0, false
	}
	switch {
	case e.Status == http.StatusBadRequest && len(e.Fields) > 0:
		for _, f := range e.Fields {
			id, ok := fieldOf[f.Field]
			if !ok {
				id = "step-form"
			}
			if p.Errors.Get(id) == "" {
				p.Errors.add(id, "Check this: "+memberRoleWords.Replace(f.Description))
			}
		}
		return http.StatusBadRequest, true
	case e.Reason == "ETAG_MISMATCH":
		p.Problem = "Someone else acted on this case while you had this page open. Please check the case page first; what you typed is still here, and you can send it again."
	case e.Reason == "ROLE_CONFLICT" || e.Reason == "MEMBER_NOT_ACTIVE" || e.Reason == "MEMBER_INACTIVE":
		id := "member"
		if p.Kind == inputAppointment {
			id = "spc"
		}
		p.Errors.add(id, memberRoleWords.Replace(sentence(e.Message)))
		return http.StatusBadRequest, true
	case e.Reason == "STEP_NOT_READY" || e.Reason == "AWAITING_ANSWER":
		first, ok := strings.CutPrefix(e.Message, "not yet: first ")
		p.Problem = "This cannot be done yet."
		if ok {
			p.Problem = "This cannot be done yet: first, " + memberRoleWords.Replace(first) + "."
		}
	case e.Reason == "NOT_YOUR_STEP" || e.Reason == "THERAPIST_SIDE":
		p.Problem = "This step is for someone else in the case."
	case e.Reason == "CASE_CLOSED":
		p.Problem = "The case is closed, so no more steps can be taken."
	case e.Reason == "STEP_OVER" || e.Reason == "STEP_ALREADY_TAKEN":
		p.Problem = "This has been done already."
	case strings.HasPrefix(e.Reason, "MEETING_NOT_"):
		p.Problem = "The meeting has changed since you opened this page. Please check the times again."
	case unsent(err):
		p.Problem = "We could not send this because something on our side is not working. What you typed is still here: please try again in a few minutes."
		return http.StatusServiceUnavailable, true
	default:
		return 0, false
	}
	return http.StatusConflict, true
}

// sentence is s with a capital letter and a full stop.
func sentence(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return s
	}
	s = strings.ToUpper(s[:1]) + s[1:]
	if !strings.HasSuffix(s, ".") {
		s += "."
	}
	return s
}
