package casefile

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/ipnmediation/disputes/platform/fault"
	procedurev1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/procedure/v1"
	"github.com/ipnmediation/disputes/services/casework/internal/procedure"
)

// StepRequest is one step someone wants to take in a case. Only the input
// the step's action takes may be set.
type StepRequest struct {
	// Step is the step's id in the case's procedure.
	Step string
	// Etag, when set, must be the case's current etag.
	Etag string
	// Outcome is the outcome chosen, for steps that have outcomes.
	Outcome string

	Member          string
	Appointment     *Appointment
	Proposal        *Proposal
	MeetingAnswer   *MeetingAnswer
	Statement       *Statement
	StatementAnswer *StatementAnswer
	Text            *TextInput
}

// Appointment names the SPC and the LP.
type Appointment struct{ SPC, LP string }

// Proposal proposes times for a meeting.
type Proposal struct {
	Slots    []Slot
	Location string
}

// MeetingAnswer names a meeting and some of its times, and for a meeting's
// outcome, what it concluded.
type MeetingAnswer struct {
	Meeting string
	Slots   []int
	Notes   string
}

// StatementAnswer is the client's answer to a version of the written
// statement.
type StatementAnswer struct {
	Document    string
	Constraints Constraints
	Comment     string
}

// TextInput is words a step records, and for a link group's issue, the
// link group.
type TextInput struct {
	Text      string
	LinkGroup string
}

// resourceID is the form of the directory's group, member and link group
// ids.
var resourceID = regexp.MustCompile(`^[a-z][a-z0-9-]{1,38}[a-z0-9]$`)

// StepResult is what taking a step changed.
type StepResult struct {
	View  View
	Entry TimelineEntry
	// Created is the meeting or document the step created, if any.
	Created string
}

// Change is what one action does to a case, for the store to write in one
// transaction: the case as it now is, the documents written or amended,
// the timeline entry and, for a step, its event.
type Change struct {
	Case  Case
	Entry TimelineEntry
	// CreatedName is the resource name of the meeting or document the
	// step created, if any.
	CreatedName string
	Created     []Document
	Amended     []Document
	Event       *StepEvent
	Messages    []MessagePosted
	// Awaiting is whom the case waits for once changed; Service.update
	// works it out, whatever the change, for the store to keep.
	Awaiting Awaiting
}

// StepEvent is what the CaseStepTaken event says: ids and facts only.
type StepEvent struct {
	Step      string
	Action    procedurev1.Action
	ActorRole Role
	Outcome   string
	Subject   string
}

// MessagePosted says that a message was sent, for its event.
type MessagePosted struct {
	Message    string
	SenderRole Role
}

// TimelineEntry is one thing that happened in a case.
type TimelineEntry struct {
	CaseID    string
	Seq       int
	Step      string
	Title     string
	Actor     string
	ActorRole Role
	Outcome   string
	Subject   string
	// Audience are the roles that see the entry, besides its actor.
	Audience   []Role
	CreateTime time.Time
}

// visibleTo reports whether a caller with roles who is actor sees e.
func (e TimelineEntry) visibleTo(roles []Role, actor string) bool {
	return e.Actor == actor || slices.ContainsFunc(e.Audience, func(r Role) bool { return slices.Contains(roles, r) })
}

// ErrStale is what Store.Update returns when the case changed under it; the
// caller is told to read it again.
var ErrStale = errors.New("case changed concurrently")

// TakeStep takes one step of the case named name, for the caller in ctx.
func (s *Service) TakeStep(ctx context.Context, name string, r StepRequest) (StepResult, error) {
	group, id, ok := splitCaseName(name)
	if !ok {
		return StepResult{}, nameViolation("name", "must be a case, groups/{group}/cases/{case}")
	}
	now := dbTime(s.now())
	// Whether the members the step names are active is the directory's to
	// say; asking before the case's row is locked keeps a slow directory
	// from holding the lock.
	active, err := s.activeMembers(ctx, group, r)
	if err != nil {
		return StepResult{}, err
	}
	change, err := s.update(ctx, group, id, func(c Case) (Change, error) {
		cl, err := s.callerOf(ctx, c, name)
		if err != nil {
			return Change{}, err
		}
		def, err := s.definition(c)
		if err != nil {
			return Change{}, err
		}
		step, ok := def.Step(r.Step)
		if !ok {
			var v fault.Violations
			v.Addf("step", "the case's procedure %s has no step %q", def.Name(), r.Step)
			return Change{}, v.Err()
		}
		if r.Etag != "" && r.Etag != c.Etag() {
			return Change{}, staleEtag(name)
		}
		if err := checkInput(step, &r); err != nil {
			return Change{}, err
		}
		// Order before actor: until the procedure reaches a step, nobody
		// may take it, and saying what must happen first helps everyone.
		if err := ready(def, c, step); err != nil {
			return Change{}, err
		}
		role, err := actorRole(cl, step)
		if err != nil {
			return Change{}, err
		}
		a := &applying{svc: s, ctx: ctx, c: c, cl: cl, role: role, step: step, r: r, now: now, active: active}
		if err := a.apply(); err != nil {
			return Change{}, err
		}
		return a.finish(def), nil
	})
	if errors.Is(err, ErrNotFound) {
		return StepResult{}, caseNotFound(name)()
	}
	if errors.Is(err, ErrStale) {
		return StepResult{}, staleEtag(name)
	}
	if err != nil {
		return StepResult{}, err
	}
	cl, err := s.callerOf(ctx, change.Case, name)
	if err != nil {
		return StepResult{}, err
	}
	return StepResult{View: s.view(change.Case, cl, s.now()), Entry: change.Entry, Created: change.CreatedName}, nil
}

// activeMembers asks the directory whether each member of group that the
// request names for a role is active. Names that are no member of group
// are left out: eligible refuses them before it looks.
func (s *Service) activeMembers(ctx context.Context, group string, r StepRequest) (map[string]bool, error) {
	named := []string{r.Member}
	if r.Appointment != nil {
		named = append(named, r.Appointment.SPC, r.Appointment.LP)
	}
	active := map[string]bool{}
	for _, m := range named {
		if _, asked := active[m]; asked || !isMemberOf(group, m) {
			continue
		}
		ok, err := s.Directory.ActiveMember(ctx, m)
		if err != nil {
			return nil, fmt.Errorf("check whether %s is active: %w", m, err)
		}
		active[m] = ok
	}
	return active, nil
}

// isMemberOf reports whether name is a member's resource name in group,
// groups/{group}/members/{member}.
func isMemberOf(group, name string) bool {
	return strings.HasPrefix(name, group+"/members/") && strings.Count(name, "/") == 3
}

func staleEtag(name string) *fault.Error {
	return &fault.Error{Kind: fault.Aborted, Reason: "ETAG_MISMATCH",
		Message:  "the case has changed since it was read; read it again and retry",
		Metadata: map[string]string{"case": name}}
}

func nameViolation(field, description string) error {
	var v fault.Violations
	v.Add(field, description)
	return v.Err()
}

// definition is the procedure version the case follows.
func (s *Service) definition(c Case) (*procedure.Definition, error) {
	d, ok := s.Procedures.Get(c.Procedure)
	if !ok {
		return nil, fmt.Errorf("case %s follows %s, which this casework does not know", c.Name(), c.Procedure)
	}
	return d, nil
}

// procedureFor is the version a new case of a group with terms follows.
func (s *Service) procedureFor(terms Terms) (*procedure.Definition, error) {
	if terms.Procedure == "" {
		return s.Procedures.Default(), nil
	}
	d, ok := s.Procedures.Get(terms.Procedure)
	if !ok {
		return nil, unusableEvent("EVENT_PROCEDURE_UNKNOWN", "the group has chosen a procedure this casework does not know")
	}
	return d, nil
}

// actorRole is the role in which the caller takes step, or the error saying
// who may.
func actorRole(cl caller, step *procedurev1.Step) (Role, error) {
	r, ok := roleFor(cl, step)
	switch {
	case ok:
		return r, nil
	case cl.has(step.GetExcludedActors()...):
		return 0, notAllowed("NOT_YOUR_STEP", fmt.Sprintf("%s: not for the %s", step.GetTitle(), roleWords(step.GetExcludedActors())))
	}
	return 0, notAllowed("NOT_YOUR_STEP", fmt.Sprintf("%s: only the %s may take this step", step.GetTitle(), roleWords(step.GetActors())))
}

// roleFor is the role in which the caller may take step, if any: a cheap
// check, which every listed case makes for every step (actorRole says why
// not, for a caller who is refused).
func roleFor(cl caller, step *procedurev1.Step) (Role, bool) {
	if cl.has(step.GetExcludedActors()...) {
		return 0, false
	}
	for _, r := range step.GetActors() {
		if cl.has(r) {
			return r, true
		}
	}
	return 0, false
}

// hold is why a step cannot be taken now (see blocker): holdNone when it
// can.
type hold int

// The reasons a step cannot be taken now, in the order ready checks them.
const (
	holdNone hold = iota
	holdClosed
	holdRequires
	holdRequiresAny
	holdUntil
	holdTaken
	holdNothingToAnswer
	holdAwaitingAnswer
)

// blocker is what keeps a step from being taken now: the reason and the
// condition or step it concerns. Working it out allocates nothing, so that
// the next steps of every case in a list cost what the check costs; the
// error with its message is made only for a caller who is refused.
type blocker struct {
	why hold
	// cond is the condition that does not hold (holdRequires) or that
	// ended the step (holdUntil).
	cond *procedurev1.Condition
	// other is the step whose answer is awaited (holdAwaitingAnswer).
	other *procedurev1.Step
}

// ready checks the step's place in the procedure: what must come first,
// whether it is over and whether there is something to answer. The error
// says what must happen first.
func ready(def *procedure.Definition, c Case, step *procedurev1.Step) error {
	return whyNotReady(def, c, step).err(def, step)
}

// whyNotReady is ready's check, without the error.
func whyNotReady(def *procedure.Definition, c Case, step *procedurev1.Step) blocker {
	p := c.Progress
	if c.Closed() {
		return blocker{why: holdClosed}
	}
	for _, cond := range step.GetRequires() {
		if !p.holds(cond) {
			return blocker{why: holdRequires, cond: cond}
		}
	}
	if any := step.GetRequiresAny(); len(any) > 0 && !slices.ContainsFunc(any, p.holds) {
		return blocker{why: holdRequiresAny}
	}
	for _, cond := range step.GetUntil() {
		if p.holds(cond) {
			return blocker{why: holdUntil, cond: cond}
		}
	}
	if !step.GetRepeatable() && p.count(step.GetId()) > 0 {
		return blocker{why: holdTaken}
	}
	if answered := step.GetAnswers(); answered != "" && p.count(answered) <= p.count(step.GetId()) {
		return blocker{why: holdNothingToAnswer}
	}
	// A step someone must answer is not taken again while its last taking
	// waits for the answer.
	for _, other := range def.Steps() {
		if other.GetAnswers() == step.GetId() && p.count(step.GetId()) > p.count(other.GetId()) {
			return blocker{why: holdAwaitingAnswer, other: other}
		}
	}
	return blocker{}
}

// stepRefused is the error that refuses step now, for the reason.
func stepRefused(step *procedurev1.Step, reason, message string) error {
	return &fault.Error{Kind: fault.FailedPrecondition, Reason: reason, Message: message,
		Metadata: map[string]string{"step": step.GetId()}}
}

// err is the error that refuses step for b; nil when nothing blocks it.
func (b blocker) err(def *procedure.Definition, step *procedurev1.Step) error {
	notYet := func(message string) error { return stepRefused(step, "STEP_NOT_READY", message) }
	switch b.why {
	case holdNone:
		return nil
	case holdClosed:
		return stepRefused(step, "CASE_CLOSED", "the case is closed; no more steps may be taken")
	case holdRequires:
		return notYet(fmt.Sprintf("not yet: first %s", b.cond.GetExplanation()))
	case holdRequiresAny:
		explanations := make([]string, 0, len(step.GetRequiresAny()))
		for _, cond := range step.GetRequiresAny() {
			explanations = append(explanations, cond.GetExplanation())
		}
		return notYet(fmt.Sprintf("not yet: first %s", strings.Join(explanations, ", or ")))
	case holdUntil:
		return stepRefused(step, "STEP_OVER", fmt.Sprintf("this step is over: %s", b.cond.GetExplanation()))
	case holdTaken:
		return stepRefused(step, "STEP_ALREADY_TAKEN", fmt.Sprintf("%s: this has already been done", step.GetTitle()))
	case holdNothingToAnswer:
		return notYet(fmt.Sprintf("there is nothing to answer: %s", stepExplanation(def, step, step.GetAnswers())))
	default: // holdAwaitingAnswer
		return stepRefused(step, "AWAITING_ANSWER", fmt.Sprintf("%s: the last one still waits for an answer (%s)", step.GetTitle(), b.other.GetTitle()))
	}
}

// stepExplanation is the explanation the step gives for needing answered,
// or that step's title.
func stepExplanation(def *procedure.Definition, step *procedurev1.Step, answered string) string {
	for _, cond := range step.GetRequires() {
		if cond.GetStep() == answered {
			return "first " + cond.GetExplanation()
		}
	}
	if s, ok := def.Step(answered); ok {
		return "first: " + s.GetTitle()
	}
	return "first: " + answered
}

// roleWords names roles for people: "therapist or SPC".
func roleWords(roles []Role) string {
	words := make([]string, 0, len(roles))
	for _, r := range roles {
		words = append(words, RoleWord(r))
	}
	return strings.Join(words, " or ")
}

// RoleWord is how people call a role.
func RoleWord(r Role) string {
	switch r {
	case RoleClient:
		return "client"
	case RoleTherapist:
		return "therapist"
	case RoleSPT:
		return "SPT"
	case RoleSPC:
		return "SPC"
	case RoleLP:
		return "LP"
	case RoleMember:
		return "group's members"
	case RoleLinkGroup:
		return "link groups"
	case RoleNominee:
		return "member nominated as SPT"
	}
	return "nobody"
}

// checkInput checks that the request carries the input its step's action
// takes, and nothing else, and that the outcome is one the step offers.
func checkInput(step *procedurev1.Step, r *StepRequest) error {
	var v fault.Violations
	outcomes := step.GetOutcomes()
	switch {
	case len(outcomes) == 0 && r.Outcome != "":
		v.Add("outcome", "this step has no outcomes")
	case len(outcomes) == 1 && r.Outcome == "":
		r.Outcome = outcomes[0]
	case len(outcomes) > 0 && !slices.Contains(outcomes, r.Outcome):
		v.Addf("outcome", "must be one of %s", strings.Join(outcomes, ", "))
	}
	want := inputFor[step.GetAction()]
	given := r.inputs()
	for field, set := range given {
		if set && field != want {
			v.Addf(field, "the step %s does not take this input", step.GetId())
		}
	}
	if want != "" && !given[want] && !optionalInput[step.GetAction()] {
		v.Addf(want, "the step %s needs it", step.GetId())
	}
	return v.Err()
}

// inputFor is the input field each action takes; "" for none.
var inputFor = map[procedurev1.Action]string{
	procedurev1.Action_ACTION_NOMINATE_SPT:            "member",
	procedurev1.Action_ACTION_APPOINT_SUPPORT:         "appointment",
	procedurev1.Action_ACTION_PROPOSE_MEETING:         "meeting_proposal",
	procedurev1.Action_ACTION_RESPOND_TO_MEETING:      "meeting_answer",
	procedurev1.Action_ACTION_CONFIRM_MEETING:         "meeting_answer",
	procedurev1.Action_ACTION_RECORD_MEETING_OUTCOME:  "meeting_answer",
	procedurev1.Action_ACTION_WRITE_STATEMENT:         "written_statement",
	procedurev1.Action_ACTION_ANSWER_STATEMENT:        "statement_answer",
	procedurev1.Action_ACTION_RECORD_RESPONSE:         "text",
	procedurev1.Action_ACTION_REPORT_PROGRESS:         "text",
	procedurev1.Action_ACTION_RECORD_LINK_GROUP_ISSUE: "text",
	procedurev1.Action_ACTION_CLOSE:                   "text",
}

// optionalInput are the actions whose input may be left out: closing as
// resolved needs no words.
var optionalInput = map[procedurev1.Action]bool{
	procedurev1.Action_ACTION_CLOSE: true,
}

func (r *StepRequest) inputs() map[string]bool {
	return map[string]bool{
		"member":            r.Member != "",
		"appointment":       r.Appointment != nil,
		"meeting_proposal":  r.Proposal != nil,
		"meeting_answer":    r.MeetingAnswer != nil,
		"written_statement": r.Statement != nil,
		"statement_answer":  r.StatementAnswer != nil,
		"text":              r.Text != nil,
	}
}

// applying is one step being applied to a case.
type applying struct {
	svc  *Service
	ctx  context.Context
	c    Case
	cl   caller
	role Role
	step *procedurev1.Step
	r    StepRequest
	now  time.Time
	// active says, for each member the request names, whether the
	// directory counts them active (see Service.activeMembers).
	active map[string]bool

	created []Document
	amended []Document
	// subject is what the step concerns, for its timeline entry and event;
	// createdName is what it created, for the caller.
	subject     string
	createdName string
}

// apply does what the step's action does.
func (a *applying) apply() error {
	switch a.step.GetAction() {
	case procedurev1.Action_ACTION_NOMINATE_SPT:
		return a.nominate()
	case procedurev1.Action_ACTION_ANSWER_NOMINATION:
		if a.r.Outcome == "ACCEPTED" {
			a.c.Roles.SPT = a.c.Roles.SPTNominee
		}
		a.c.Roles.SPTNominee = ""
	case procedurev1.Action_ACTION_APPOINT_SUPPORT:
		return a.appoint()
	case procedurev1.Action_ACTION_INFORM_LINK_GROUPS, procedurev1.Action_ACTION_DECIDE, procedurev1.Action_ACTION_WITHDRAW:
		// The step itself is the record.
	case procedurev1.Action_ACTION_PROPOSE_MEETING:
		return a.proposeMeeting()
	case procedurev1.Action_ACTION_RESPOND_TO_MEETING:
		return a.respondToMeeting()
	case procedurev1.Action_ACTION_CONFIRM_MEETING:
		return a.confirmMeeting()
	case procedurev1.Action_ACTION_RECORD_MEETING_OUTCOME:
		return a.recordMeetingOutcome()
	case procedurev1.Action_ACTION_WRITE_STATEMENT:
		return a.writeStatement()
	case procedurev1.Action_ACTION_ANSWER_STATEMENT:
		return a.answerStatement()
	case procedurev1.Action_ACTION_CONVEY_STATEMENT:
		a.c.Progress.Conveyed = a.c.Progress.Approved
		a.subject = a.docName(a.c.Progress.Conveyed)
	case procedurev1.Action_ACTION_RECORD_RESPONSE:
		return a.writeText(ResponseDoc, true, func(d Document) { a.c.Progress.Response = d.ID })
	case procedurev1.Action_ACTION_RELAY_RESPONSE:
		a.c.Progress.Relayed = true
		a.subject = a.docName(a.c.Progress.Response)
	case procedurev1.Action_ACTION_REPORT_PROGRESS:
		return a.writeText(ProgressReportDoc, true, nil)
	case procedurev1.Action_ACTION_RECORD_LINK_GROUP_ISSUE:
		return a.linkGroupIssue()
	case procedurev1.Action_ACTION_CLOSE:
		if a.r.Outcome == string(Unresolved) && (a.r.Text == nil || strings.TrimSpace(a.r.Text.Text) == "") {
			return nameViolation("text.text", "closing a case unresolved needs the reasons")
		}
		if a.r.Text != nil && strings.TrimSpace(a.r.Text.Text) != "" {
			return a.writeText(ClosingReasonsDoc, true, nil)
		}
	default:
		return fmt.Errorf("step %s: action %s has no effect defined", a.step.GetId(), a.step.GetAction())
	}
	return nil
}

// finish records the step: phase, closing, first response, the taking,
// the timeline entry and the event.
func (a *applying) finish(def *procedure.Definition) Change {
	c := a.c
	if p := a.step.GetEntersPhase(); p != procedurev1.Phase_PHASE_UNSPECIFIED {
		c.Phase = PhaseOf(p)
	}
	if a.step.GetClosesCase() {
		c.Outcome = Outcome(a.r.Outcome)
		c.CloseTime = a.now
	}
	if a.step.GetId() == def.FirstResponseStep() && c.FirstResponseTime.IsZero() {
		c.FirstResponseTime = a.now
	}
	actor := a.cl.actor()
	c.Progress.Taken = append(c.Progress.Taken, TakenStep{
		Step: a.step.GetId(), Outcome: a.r.Outcome, Actor: actor, Role: a.role, Time: a.now, Subject: a.subject,
	})
	entry := c.appendEntry(TimelineEntry{
		Step: a.step.GetId(), Title: a.step.GetTitle(), Actor: actor, ActorRole: a.role,
		Outcome: a.r.Outcome, Subject: a.subject, Audience: a.step.GetTimelineAudience(), CreateTime: a.now,
	})
	return Change{
		Case: c, Entry: entry, CreatedName: a.createdName, Created: a.created, Amended: a.amended,
		Event: &StepEvent{Step: a.step.GetId(), Action: a.step.GetAction(), ActorRole: a.role, Outcome: a.r.Outcome, Subject: a.subject},
	}
}

// appendEntry numbers e as the case's next timeline entry.
func (c *Case) appendEntry(e TimelineEntry) TimelineEntry {
	c.Progress.Entries++
	e.CaseID, e.Seq = c.ID, c.Progress.Entries
	return e
}

func (a *applying) docName(id string) string {
	if id == "" {
		return ""
	}
	return a.c.Name() + "/documents/" + id
}

// newDocument starts a document written by the caller in this step.
func (a *applying) newDocument(kind DocumentKind) Document {
	return Document{ID: uuid.NewString(), CaseID: a.c.ID, Kind: kind, Author: a.cl.actor(), AuthorRole: a.role,
		Step: a.step.GetId(), CreateTime: a.now}
}

// writeText stores the request's text as a document of kind.
func (a *applying) writeText(kind DocumentKind, required bool, then func(Document)) error {
	text := ""
	if a.r.Text != nil {
		text = strings.TrimSpace(a.r.Text.Text)
	}
	if err := checkText("text.text", text, required); err != nil {
		return err
	}
	d := a.newDocument(kind)
	d.Text = text
	a.created = append(a.created, d)
	a.subject = a.docName(d.ID)
	a.createdName = a.subject
	if then != nil {
		then(d)
	}
	return nil
}

// checkText refuses an empty text where one is required. How long a text
// may be, and what it may hold, is the contract's text rule (max_length in
// the proto), which the platform applies before any handler runs.
func checkText(field, text string, required bool) error {
	if required && text == "" {
		return nameViolation(field, "must not be empty")
	}
	return nil
}

// eligible checks that member may hold role in the case: a member of the
// case's group, active, and holding none of the case's other roles.
func (a *applying) eligible(field, member string, role Role, others map[Role]string) error {
	if !isMemberOf(a.c.Group, member) {
		return nameViolation(field, fmt.Sprintf("must be a member of %s, %s/members/{member}", a.c.Group, a.c.Group))
	}
	for otherRole, holder := range others {
		if holder == member && otherRole != role {
			return &fault.Error{Kind: fault.InvalidArgument, Reason: "ROLE_CONFLICT",
				Message:    fmt.Sprintf("%s is the case's %s and cannot also be its %s", member, RoleWord(otherRole), RoleWord(role)),
				Violations: []fault.FieldViolation{{Field: field, Description: fmt.Sprintf("already the %s", RoleWord(otherRole))}},
				Metadata:   map[string]string{"conflict": RoleWord(otherRole) + "/" + RoleWord(role)}}
		}
	}
	if !a.active[member] {
		return &fault.Error{Kind: fault.InvalidArgument, Reason: "MEMBER_NOT_ACTIVE",
			Message:    fmt.Sprintf("%s is not an active member of the group and cannot hold a role", member),
			Violations: []fault.FieldViolation{{Field: field, Description: "not an active member of the group"}}}
	}
	return nil
}

// holders are the case's role holders, as eligible compares them.
func (a *applying) holders() map[Role]string {
	return map[Role]string{
		RoleTherapist: a.c.Therapist,
		RoleSPT:       a.c.Roles.SPT,
		RoleSPC:       a.c.Roles.SPC,
		RoleLP:        a.c.Roles.LP,
	}
}

func (a *applying) nominate() error {
	if err := a.eligible("member", a.r.Member, RoleSPT, a.holders()); err != nil {
		return err
	}
	a.c.Roles.SPTNominee = a.r.Member
	return nil
}

func (a *applying) appoint() error {
	ap := a.r.Appointment
	others := a.holders()
	// A pending nominee counts as the SPT: accepting must not make one
	// member hold two roles.
	if a.c.Roles.SPTNominee != "" {
		others[RoleNominee] = a.c.Roles.SPTNominee
	}
	if err := a.eligible("appointment.spc", ap.SPC, RoleSPC, others); err != nil {
		return err
	}
	others[RoleSPC] = ap.SPC
	if err := a.eligible("appointment.lp", ap.LP, RoleLP, others); err != nil {
		return err
	}
	a.c.Roles.SPC, a.c.Roles.LP = ap.SPC, ap.LP
	return nil
}

// The kinds of meeting the engine treats apart: all members attend a full
// group meeting; a held joint meeting counts in the statistics.
const (
	meetingFullGroup = procedurev1.MeetingKind_MEETING_KIND_FULL_GROUP
	meetingJoint     = procedurev1.MeetingKind_MEETING_KIND_JOINT
	phaseEscalated   = procedurev1.Phase_PHASE_ESCALATED
)

func (a *applying) proposeMeeting() error {
	p := a.r.Proposal
	var v fault.Violations
	// At most max_items times, and a location of at most max_length
	// characters: the contract's rule, applied before any handler.
	if len(p.Slots) == 0 {
		v.Add("meeting_proposal.slots", "must propose at least one time")
	}
	for i, s := range p.Slots {
		switch {
		case !s.End.After(s.Start):
			v.Addf(fmt.Sprintf("meeting_proposal.slots[%d]", i), "must end after it starts")
		case !s.Start.After(a.now):
			v.Addf(fmt.Sprintf("meeting_proposal.slots[%d]", i), "must be in the future")
		case s.End.Sub(s.Start) > 12*time.Hour:
			v.Addf(fmt.Sprintf("meeting_proposal.slots[%d]", i), "must last at most 12 hours")
		}
	}
	if err := v.Err(); err != nil {
		return err
	}
	kind := a.step.GetMeetingKind()
	for i := range a.c.Progress.Meetings {
		if m := &a.c.Progress.Meetings[i]; m.Kind == kind && m.State == MeetingProposed {
			m.State = MeetingSuperseded
			m.Sequence++
		}
	}
	m := Meeting{ID: uuid.NewString(), Kind: kind, State: MeetingProposed, Proposer: a.cl.actor(), Confirmed: -1, CreateTime: a.now}
	for _, s := range p.Slots {
		m.Slots = append(m.Slots, Slot{Start: dbTime(s.Start), End: dbTime(s.End)})
	}
	a.c.Progress.Meetings = append(a.c.Progress.Meetings, m)
	a.subject = m.Name(a.c)
	a.createdName = a.subject
	// The location is words the proposer typed (an address, perhaps the
	// client's), so it is a sealed document beside the meeting, never part
	// of progress.
	if location := strings.TrimSpace(p.Location); location != "" {
		d := a.newDocument(MeetingLocationDoc)
		d.Text, d.Subject = location, m.Name(a.c)
		a.created = append(a.created, d)
	}
	return nil
}

// openMeeting returns the meeting the answer names, which must be of the
// step's kind and in state want.
func (a *applying) openMeeting(want MeetingState) (*Meeting, error) {
	name := a.r.MeetingAnswer.Meeting
	id, ok := strings.CutPrefix(name, a.c.Name()+"/meetings/")
	m, found := a.c.Progress.meeting(id)
	if !ok || !found || m.Kind != a.step.GetMeetingKind() {
		return nil, nameViolation("meeting_answer.meeting", "must be a meeting of this case of the kind the step is about")
	}
	if m.State != want {
		return nil, &fault.Error{Kind: fault.FailedPrecondition, Reason: "MEETING_NOT_" + string(want),
			Message:  fmt.Sprintf("the meeting is %s, not %s", strings.ToLower(string(m.State)), strings.ToLower(string(want))),
			Metadata: map[string]string{"meeting": name}}
	}
	a.subject = name
	return m, nil
}

// checkSlots checks indexes into m's slots; exactlyOne for a choice.
func checkSlots(m *Meeting, slots []int, exactlyOne bool) error {
	if exactlyOne && len(slots) != 1 {
		return nameViolation("meeting_answer.slots", "must name exactly one of the proposed times")
	}
	for _, i := range slots {
		if i < 0 || i >= len(m.Slots) {
			return nameViolation("meeting_answer.slots", fmt.Sprintf("must be between 0 and %d", len(m.Slots)-1))
		}
	}
	return nil
}

func (a *applying) respondToMeeting() error {
	m, err := a.openMeeting(MeetingProposed)
	if err != nil {
		return err
	}
	ans := a.r.MeetingAnswer
	if err := checkSlots(m, ans.Slots, a.r.Outcome == "ACCEPTED"); err != nil {
		return err
	}
	resp := MeetingResponse{Participant: a.cl.actor(), Available: slices.Clone(ans.Slots), Answer: a.r.Outcome, Time: a.now}
	m.Responses = slices.DeleteFunc(m.Responses, func(r MeetingResponse) bool { return r.Participant == resp.Participant })
	m.Responses = append(m.Responses, resp)
	switch a.r.Outcome {
	case "ACCEPTED":
		m.State, m.Confirmed = MeetingConfirmed, ans.Slots[0]
	case "DECLINED":
		m.State = MeetingDeclined
	case "OTHER_TIMES":
		m.State = MeetingSuperseded
	}
	m.Sequence++
	return nil
}

func (a *applying) confirmMeeting() error {
	m, err := a.openMeeting(MeetingProposed)
	if err != nil {
		return err
	}
	if err := checkSlots(m, a.r.MeetingAnswer.Slots, true); err != nil {
		return err
	}
	m.State, m.Confirmed = MeetingConfirmed, a.r.MeetingAnswer.Slots[0]
	m.Sequence++
	return nil
}

func (a *applying) recordMeetingOutcome() error {
	m, err := a.openMeeting(MeetingConfirmed)
	if err != nil {
		return err
	}
	notes := strings.TrimSpace(a.r.MeetingAnswer.Notes)
	if err := checkText("meeting_answer.notes", notes, true); err != nil {
		return err
	}
	m.State = MeetingHeld
	m.Sequence++
	d := a.newDocument(MeetingOutcomeDoc)
	d.Text, d.Subject = notes, m.Name(a.c)
	a.created = append(a.created, d)
	a.createdName = a.docName(d.ID)
	return nil
}

func (a *applying) writeStatement() error {
	s := a.r.Statement
	st := Statement{Concern: strings.TrimSpace(s.Concern), DesiredOutcome: strings.TrimSpace(s.DesiredOutcome), Summary: strings.TrimSpace(s.Summary)}
	for _, f := range []struct{ field, text string }{
		{"written_statement.concern", st.Concern},
		{"written_statement.desired_outcome", st.DesiredOutcome},
		{"written_statement.summary", st.Summary},
	} {
		if err := checkText(f.field, f.text, true); err != nil {
			return err
		}
	}
	d := a.newDocument(WrittenStatementDoc)
	a.c.Progress.StatementVersion++
	d.Version, d.Statement = a.c.Progress.StatementVersion, &st
	a.c.Progress.Statement = d.ID
	a.created = append(a.created, d)
	a.subject = a.docName(d.ID)
	a.createdName = a.subject
	return nil
}

func (a *applying) answerStatement() error {
	ans := a.r.StatementAnswer
	if ans.Document != a.docName(a.c.Progress.Statement) {
		return nameViolation("statement_answer.document", "must be the latest version of the written statement")
	}
	a.subject = ans.Document
	if a.r.Outcome != "APPROVED" {
		// The comment is optional; its length is the contract's rule.
		if comment := strings.TrimSpace(ans.Comment); comment != "" {
			d := a.newDocument(ClientCommentDoc)
			d.Text, d.Subject = comment, ans.Document
			a.created = append(a.created, d)
			a.createdName = a.docName(d.ID)
		}
		return nil
	}
	con := ans.Constraints
	if con.Sharing == "" {
		con.Sharing = ShareFull
	}
	// How many details, and how long each and `other` may be, is the
	// contract's rule (max_items, max_length), applied before any handler.
	kept := con.Withheld[:0:0]
	for _, w := range con.Withheld {
		if w = strings.TrimSpace(w); w != "" {
			kept = append(kept, w)
		}
	}
	con.Withheld = kept
	a.c.Progress.Approved = a.c.Progress.Statement
	a.amended = append(a.amended, Document{ID: a.c.Progress.Statement, CaseID: a.c.ID, Kind: WrittenStatementDoc,
		Statement: &Statement{Constraints: &con}})
	return nil
}

func (a *applying) linkGroupIssue() error {
	linkGroup := ""
	if a.r.Text != nil {
		linkGroup = a.r.Text.LinkGroup
	}
	if a.role == RoleLinkGroup {
		if linkGroup != "" && linkGroup != a.cl.principal.LinkGroup {
			return nameViolation("text.link_group", "a link group records its own issues")
		}
		linkGroup = a.cl.principal.LinkGroup
	} else if id, ok := strings.CutPrefix(linkGroup, a.c.Group+"/linkGroups/"); !ok || !resourceID.MatchString(id) {
		// The name is kept in the clear (as the issue's author), so only a
		// resource id may pass, never free words.
		return nameViolation("text.link_group", fmt.Sprintf("must be one of the group's link groups, %s/linkGroups/{link_group}", a.c.Group))
	}
	if err := a.writeText(LinkGroupIssueDoc, true, nil); err != nil {
		return err
	}
	a.created[len(a.created)-1].Author = linkGroup
	return nil
}
