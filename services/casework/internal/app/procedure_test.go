package app

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/ipnmediation/disputes/platform/testenv"
	caseworkv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/casework/v1"
	intakev1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/intake/v1"
	procedurev1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/procedure/v1"
	"github.com/ipnmediation/disputes/services/casework/internal/procedure"
	"github.com/ipnmediation/disputes/services/casework/procedures"
)

// The members who take the roles in the test cases.
const (
	therapist = "groups/riverside/members/alex-moss"
	spt       = "groups/riverside/members/cal-reyes"
	spc       = "groups/riverside/members/dana-holt"
	lp        = "groups/riverside/members/eli-nakamura"
	other     = "groups/riverside/members/fran-okafor"
	linkGroup = "groups/riverside/linkGroups/hillside"
)

// walk is one case being taken through the procedure, with a client per
// actor and the meetings and documents it has created so far.
type walk struct {
	e        *env
	name     string
	concern  *intakev1.Concern
	clients  map[string]caseworkv1.CaseworkServiceClient
	meetings map[procedurev1.MeetingKind]string
	draft    string
}

// Who takes part: the tokens of each actor.
const (
	asClient    = "client"
	asTherapist = "therapist"
	asSPT       = "spt"
	asSPC       = "spc"
	asLP        = "lp"
	asOther     = "other"
	asAppointer = "appointer" // bea-lindqvist, a member with no role
	asLinkGroup = "link group"
	asHillside  = "hillside member"
	asOperator  = "operator"
)

// openWalk registers a concern with a marker in every free-text field and
// returns its case, ready to walk.
func (e *env) openWalk(t *testing.T, marker string) *walk {
	t.Helper()
	return e.openWalkOf(t, newConcern("groups/riverside", marker, time.Now().Add(-time.Hour)))
}

// openWalkOf registers c, a riverside concern, and returns its case, ready
// to walk.
func (e *env) openWalkOf(t *testing.T, c *intakev1.Concern) *walk {
	t.Helper()
	e.register(t, c)
	w := &walk{e: e, name: "groups/riverside/cases/" + e.caseID(t, c.GetName()), concern: c, meetings: map[procedurev1.MeetingKind]string{}}
	w.clients = map[string]caseworkv1.CaseworkServiceClient{
		asClient:    e.client(t, e.intake.session(c.GetName())),
		asTherapist: e.client(t, alexToken),
		asSPT:       e.client(t, calToken),
		asSPC:       e.client(t, danaToken),
		asLP:        e.client(t, eliToken),
		asOther:     e.client(t, franToken),
		asAppointer: e.client(t, riversideToken),
		asLinkGroup: e.client(t, linkToken),
		asHillside:  e.client(t, hillsideToken),
		asOperator:  e.client(t, operatorToken),
	}
	return w
}

// scripted is one step of the long path: who takes it and with what input.
type scripted struct {
	step string
	who  string
	set  func(w *walk, r *caseworkv1.TakeStepRequest)
}

func slots(n int) []*caseworkv1.TimeSlot {
	start := time.Now().Add(72 * time.Hour).Truncate(time.Hour)
	var out []*caseworkv1.TimeSlot
	for i := range n {
		s := start.Add(time.Duration(i) * 24 * time.Hour)
		out = append(out, &caseworkv1.TimeSlot{StartTime: timestamppb.New(s), EndTime: timestamppb.New(s.Add(90 * time.Minute))})
	}
	return out
}

func propose(n int) func(*walk, *caseworkv1.TakeStepRequest) {
	return func(_ *walk, r *caseworkv1.TakeStepRequest) {
		r.Input = &caseworkv1.TakeStepRequest_MeetingProposal{MeetingProposal: &caseworkv1.MeetingProposal{Slots: slots(n), Location: "the group's usual room"}}
	}
}

func answerMeeting(kind procedurev1.MeetingKind, outcome string, slots ...int32) func(*walk, *caseworkv1.TakeStepRequest) {
	return func(w *walk, r *caseworkv1.TakeStepRequest) {
		r.Outcome = outcome
		r.Input = &caseworkv1.TakeStepRequest_MeetingAnswer{MeetingAnswer: &caseworkv1.MeetingAnswer{Meeting: w.meetings[kind], Slots: slots}}
	}
}

func meetingOutcome(kind procedurev1.MeetingKind, outcome, notes string) func(*walk, *caseworkv1.TakeStepRequest) {
	return func(w *walk, r *caseworkv1.TakeStepRequest) {
		r.Outcome = outcome
		r.Input = &caseworkv1.TakeStepRequest_MeetingAnswer{MeetingAnswer: &caseworkv1.MeetingAnswer{Meeting: w.meetings[kind], Notes: notes}}
	}
}

func text(words string) func(*walk, *caseworkv1.TakeStepRequest) {
	return func(_ *walk, r *caseworkv1.TakeStepRequest) {
		r.Input = &caseworkv1.TakeStepRequest_Text{Text: &caseworkv1.TextInput{Text: words}}
	}
}

func outcome(o string) func(*walk, *caseworkv1.TakeStepRequest) {
	return func(_ *walk, r *caseworkv1.TakeStepRequest) { r.Outcome = o }
}

const (
	clientMeeting = procedurev1.MeetingKind_MEETING_KIND_CLIENT
	jointMeeting  = procedurev1.MeetingKind_MEETING_KIND_JOINT
	groupMeeting  = procedurev1.MeetingKind_MEETING_KIND_FULL_GROUP
)

// script is every step of the long path, by step id; approve withholds the
// walk's marker and allows a summary only.
var script = map[string]scripted{
	"nominate_spt": {"nominate_spt", asTherapist, func(_ *walk, r *caseworkv1.TakeStepRequest) {
		r.Input = &caseworkv1.TakeStepRequest_Member{Member: spt}
	}},
	"accept_spt":  {"answer_spt_nomination", asSPT, outcome("ACCEPTED")},
	"decline_spt": {"answer_spt_nomination", asSPT, outcome("DECLINED")},
	"appoint": {"appoint_spc_and_lp", asAppointer, func(_ *walk, r *caseworkv1.TakeStepRequest) {
		r.Input = &caseworkv1.TakeStepRequest_Appointment{Appointment: &caseworkv1.Appointment{Spc: spc, Lp: lp}}
	}},
	"inform":             {"inform_link_groups", asLP, nil},
	"propose_group":      {"propose_group_meeting_dates", asLP, propose(2)},
	"availability":       {"give_availability", asOther, answerMeeting(groupMeeting, "", 0, 1)},
	"confirm_group":      {"confirm_group_meeting_date", asLP, answerMeeting(groupMeeting, "", 1)},
	"offer_client":       {"offer_client_meeting", asSPC, propose(3)},
	"accept_client":      {"answer_client_meeting", asClient, answerMeeting(clientMeeting, "ACCEPTED", 2)},
	"other_times_client": {"answer_client_meeting", asClient, answerMeeting(clientMeeting, "OTHER_TIMES")},
	"write": {"write_statement", asSPC, func(w *walk, r *caseworkv1.TakeStepRequest) {
		r.Input = &caseworkv1.TakeStepRequest_WrittenStatement{WrittenStatement: &caseworkv1.WrittenStatement{
			Concern:        "Sessions ended without notice; the client named " + w.marker() + " as the person who told them.",
			DesiredOutcome: "An apology and an explanation of what happened.",
			Summary:        "The client feels the work ended abruptly and wants it acknowledged.",
		}}
	}},
	"approve": {"answer_statement", asClient, func(w *walk, r *caseworkv1.TakeStepRequest) {
		r.Outcome = "APPROVED"
		r.Input = &caseworkv1.TakeStepRequest_StatementAnswer{StatementAnswer: &caseworkv1.StatementAnswer{
			Document:    w.draft,
			Constraints: &caseworkv1.Constraints{Sharing: caseworkv1.Constraints_SHARING_SUMMARY_ONLY, WithheldDetails: []string{w.marker()}, Other: "Do not mention my workplace."},
		}}
	}},
	"request_changes": {"answer_statement", asClient, func(w *walk, r *caseworkv1.TakeStepRequest) {
		r.Outcome = "CHANGES_REQUESTED"
		r.Input = &caseworkv1.TakeStepRequest_StatementAnswer{StatementAnswer: &caseworkv1.StatementAnswer{Document: w.draft, Comment: "Please say it more plainly."}}
	}},
	"convey":           {"convey_statement", asSPC, nil},
	"respond":          {"record_response", asTherapist, text("I am sorry the ending was abrupt; I would like to explain.")},
	"relay":            {"relay_response", asSPC, nil},
	"resolved":         {"decide", asClient, outcome("RESOLVED")},
	"wants_joint":      {"decide", asClient, outcome("JOINT_MEETING")},
	"not_resolved":     {"decide", asClient, outcome("NOT_RESOLVED")},
	"arrange_joint":    {"arrange_joint_meeting", asSPC, propose(2)},
	"answer_joint":     {"answer_joint_meeting", asTherapist, answerMeeting(jointMeeting, "", 0)},
	"confirm_joint":    {"confirm_joint_meeting", asSPC, answerMeeting(jointMeeting, "", 0)},
	"joint_unresolved": {"record_joint_meeting_outcome", asSPC, meetingOutcome(jointMeeting, "UNRESOLVED", "We talked it through; the client is still unhappy.")},
	"report":           {"report_progress", asLP, text("A joint meeting was held; the concern is not resolved yet.")},
	"issue":            {"record_link_group_issue", asLinkGroup, text("Has the group considered offering a mediator from outside?")},
	"group_decision":   {"record_group_meeting_decision", asLP, meetingOutcome(groupMeeting, "", "The group will ask a link group for an outside mediator.")},
	"close_resolved":   {"close_resolved", asSPC, nil},
	"close_unresolved": {"close_unresolved", asLP, text("An outside mediator was offered and the client declined.")},
	"withdraw":         {"withdraw", asClient, nil},
}

// longPath is the whole procedure, through every branch that escalates.
var longPath = []string{
	"nominate_spt", "accept_spt", "appoint", "inform", "propose_group", "availability", "confirm_group",
	"offer_client", "accept_client", "write", "approve", "convey", "respond", "relay", "wants_joint",
	"arrange_joint", "answer_joint", "confirm_joint", "joint_unresolved", "report", "issue", "group_decision", "close_unresolved",
}

// shortPath ends right after the response.
var shortPath = []string{
	"nominate_spt", "accept_spt", "appoint", "offer_client", "accept_client", "write", "approve", "convey", "respond", "relay",
	"resolved", "close_resolved",
}

func (w *walk) marker() string {
	return strings.Fields(w.concern.GetDescription())[len(strings.Fields(w.concern.GetDescription()))-1]
}

// try takes a scripted step and returns the result.
func (w *walk) try(t *testing.T, key string) (*caseworkv1.TakeStepResponse, error) {
	t.Helper()
	s, ok := script[key]
	if !ok {
		t.Fatalf("no scripted step %q", key)
	}
	r := &caseworkv1.TakeStepRequest{Name: w.name, Step: s.step}
	if s.set != nil {
		s.set(w, r)
	}
	resp, err := w.clients[s.who].TakeStep(context.Background(), r)
	if err == nil {
		w.remember(s.step, resp.GetCreated())
	}
	return resp, err
}

func (w *walk) remember(step, created string) {
	switch {
	case step == "write_statement":
		w.draft = created
	case strings.Contains(created, "/meetings/"):
		for _, s := range []struct {
			step string
			kind procedurev1.MeetingKind
		}{{"propose_group_meeting_dates", groupMeeting}, {"offer_client_meeting", clientMeeting}, {"arrange_joint_meeting", jointMeeting}} {
			if s.step == step {
				w.meetings[s.kind] = created
			}
		}
	}
}

// do takes scripted steps that must succeed.
func (w *walk) do(t *testing.T, keys ...string) *caseworkv1.TakeStepResponse {
	t.Helper()
	var resp *caseworkv1.TakeStepResponse
	for _, k := range keys {
		var err error
		if resp, err = w.try(t, k); err != nil {
			t.Fatalf("step %s (%s): %v", k, script[k].step, err)
		}
	}
	return resp
}

func (w *walk) get(t *testing.T, who string) *caseworkv1.Case {
	t.Helper()
	c, err := w.clients[who].GetCase(context.Background(), &caseworkv1.GetCaseRequest{Name: w.name})
	if err != nil {
		t.Fatalf("%s GetCase: %v", who, err)
	}
	return c
}

// take takes a step as who, with r's step, outcome and input, and fails the
// test when it is refused.
func (w *walk) take(t *testing.T, who string, r *caseworkv1.TakeStepRequest) *caseworkv1.TakeStepResponse {
	t.Helper()
	r.Name = w.name
	resp, err := w.clients[who].TakeStep(context.Background(), r)
	if err != nil {
		t.Fatalf("%s taking %s: %v", who, r.GetStep(), err)
	}
	w.remember(r.GetStep(), resp.GetCreated())
	return resp
}

// Inputs of steps, for tests that choose every word.
func proposal(location string, n int) *caseworkv1.TakeStepRequest_MeetingProposal {
	return &caseworkv1.TakeStepRequest_MeetingProposal{MeetingProposal: &caseworkv1.MeetingProposal{Slots: slots(n), Location: location}}
}

func meetingAnswer(meeting, notes string, slots ...int32) *caseworkv1.TakeStepRequest_MeetingAnswer {
	return &caseworkv1.TakeStepRequest_MeetingAnswer{MeetingAnswer: &caseworkv1.MeetingAnswer{Meeting: meeting, Slots: slots, Notes: notes}}
}

func textInput(words, linkGroup string) *caseworkv1.TakeStepRequest_Text {
	return &caseworkv1.TakeStepRequest_Text{Text: &caseworkv1.TextInput{Text: words, LinkGroup: linkGroup}}
}

// wantCode fails unless err has the code and, when given, the ErrorInfo
// reason and words in the message.
func wantCode(t *testing.T, what string, err error, code codes.Code, reason, words string) {
	t.Helper()
	st := status.Convert(err)
	if st.Code() != code {
		t.Fatalf("%s: %v; want %v", what, err, code)
	}
	if words != "" && !strings.Contains(st.Message(), words) {
		t.Errorf("%s: message %q does not say %q", what, st.Message(), words)
	}
	if reason != "" && reasonOf(err) != reason {
		t.Errorf("%s: reason %q, want %q", what, reasonOf(err), reason)
	}
}

func TestShortPathResolvedAfterResponse(t *testing.T) {
	t.Parallel()
	e := startCasework(t)
	w := e.openWalk(t, "SHORT"+strings.ToUpper(uuid.NewString()[:8]))
	resp := w.do(t, shortPath...)
	c := resp.GetCase()
	if c.GetPhase() != procedurev1.Phase_PHASE_CLOSED || c.GetOutcome() != caseworkv1.Case_OUTCOME_RESOLVED || c.GetCloseTime() == nil {
		t.Fatalf("after the short path: phase %v outcome %v", c.GetPhase(), c.GetOutcome())
	}
	if c.GetFirstResponseClock().GetMetTime() == nil || c.GetClock().GetMetTime() == nil || len(c.GetNextSteps()) != 0 {
		t.Errorf("clocks %v / %v, next %v", c.GetFirstResponseClock(), c.GetClock(), c.GetNextSteps())
	}
	_, err := w.try(t, "withdraw")
	wantCode(t, "withdraw after closing", err, codes.FailedPrecondition, "CASE_CLOSED", "closed")
}

func TestWithdrawalAtAnyPoint(t *testing.T) {
	t.Parallel()
	e := startCasework(t)
	for _, before := range [][]string{
		nil,
		{"nominate_spt"},
		{"nominate_spt", "accept_spt", "appoint", "offer_client"},
		{"nominate_spt", "accept_spt", "appoint", "offer_client", "accept_client", "write", "approve", "convey", "respond", "relay", "wants_joint"},
	} {
		w := e.openWalk(t, "WDRW"+strings.ToUpper(uuid.NewString()[:8]))
		w.do(t, before...)
		// Nobody but the client may withdraw the concern.
		for _, who := range []string{asSPC, asTherapist, asOther} {
			if _, err := w.clients[who].TakeStep(context.Background(), &caseworkv1.TakeStepRequest{Name: w.name, Step: "withdraw"}); status.Code(err) != codes.PermissionDenied && !(who == asSPC && len(before) == 0) {
				wantCode(t, who+" withdrawing", err, codes.PermissionDenied, "NOT_YOUR_STEP", "client")
			}
		}
		c := w.do(t, "withdraw").GetCase()
		if c.GetOutcome() != caseworkv1.Case_OUTCOME_WITHDRAWN || c.GetPhase() != procedurev1.Phase_PHASE_CLOSED {
			t.Errorf("after %v and withdrawal: %v %v", before, c.GetOutcome(), c.GetPhase())
		}
		_, err := w.try(t, "withdraw")
		wantCode(t, "second withdrawal", err, codes.FailedPrecondition, "CASE_CLOSED", "")
	}
}

func TestStepsOutOfOrderSayWhatComesFirst(t *testing.T) {
	t.Parallel()
	e := startCasework(t)
	tests := []struct {
		before  []string
		attempt string
		reason  string
		words   string
	}{
		{nil, "accept_spt", "STEP_NOT_READY", "the therapist has named a support person"},
		{nil, "inform", "STEP_NOT_READY", "the SPC and the LP have been appointed"},
		{nil, "propose_group", "STEP_NOT_READY", "the SPC and the LP have been appointed"},
		{nil, "offer_client", "STEP_NOT_READY", "the SPC and the LP have been appointed"},
		{[]string{"appoint"}, "availability", "STEP_NOT_READY", "the LP has proposed dates"},
		{[]string{"appoint"}, "confirm_group", "STEP_NOT_READY", "the LP has proposed dates"},
		{[]string{"appoint"}, "accept_client", "STEP_NOT_READY", "the SPC has offered the client a meeting"},
		{[]string{"appoint", "offer_client"}, "write", "STEP_NOT_READY", "the client has accepted the offer of a meeting, or the client has declined"},
		{[]string{"appoint", "offer_client", "accept_client"}, "approve", "STEP_NOT_READY", "the SPC has written the statement"},
		{[]string{"appoint", "offer_client", "accept_client", "write"}, "convey", "STEP_NOT_READY", "the client has approved the written statement"},
		{[]string{"nominate_spt", "decline_spt", "appoint", "offer_client", "accept_client", "write", "approve"}, "convey", "STEP_NOT_READY", "a support person for the therapist has accepted"},
		{[]string{"nominate_spt", "accept_spt", "appoint", "offer_client", "accept_client", "write", "approve"}, "respond", "STEP_NOT_READY", "the SPC has conveyed the statement"},
		{[]string{"nominate_spt", "accept_spt", "appoint", "offer_client", "accept_client", "write", "approve", "convey"}, "relay", "STEP_NOT_READY", "the therapist has responded"},
		{[]string{"nominate_spt", "accept_spt", "appoint", "offer_client", "accept_client", "write", "approve", "convey", "respond"}, "resolved", "STEP_NOT_READY", "relayed the therapist's response"},
		{[]string{"nominate_spt", "accept_spt", "appoint", "offer_client", "accept_client", "write", "approve", "convey", "respond", "relay", "not_resolved"}, "arrange_joint", "STEP_NOT_READY", "the client has asked for a joint meeting"},
		{[]string{"nominate_spt", "accept_spt", "appoint", "offer_client", "accept_client", "write", "approve", "convey", "respond", "relay", "wants_joint"}, "answer_joint", "STEP_NOT_READY", "the SPC has proposed times for the joint meeting"},
		{[]string{"nominate_spt", "accept_spt", "appoint", "offer_client", "accept_client", "write", "approve", "convey", "respond", "relay", "wants_joint"}, "confirm_joint", "STEP_NOT_READY", "the SPC has proposed times for the joint meeting"},
		{[]string{"nominate_spt", "accept_spt", "appoint", "offer_client", "accept_client", "write", "approve", "convey", "respond", "relay", "wants_joint", "arrange_joint"}, "joint_unresolved", "STEP_NOT_READY", "the joint meeting has been confirmed"},
		{[]string{"nominate_spt", "accept_spt", "appoint", "offer_client", "accept_client", "write", "approve", "convey", "respond", "relay", "not_resolved"}, "report", "STEP_NOT_READY", "the LP has informed the link groups"},
		{[]string{"appoint", "inform"}, "report", "STEP_NOT_READY", "the client has said the concern is not resolved, or the joint meeting ended unresolved"},
		{[]string{"appoint", "inform"}, "issue", "STEP_NOT_READY", "the LP has reported progress"},
		{[]string{"appoint", "inform"}, "group_decision", "STEP_NOT_READY", "the LP has reported progress"},
		{[]string{"appoint"}, "close_resolved", "STEP_NOT_READY", "the client has said the concern is resolved, or"},
		{[]string{"appoint"}, "close_unresolved", "STEP_NOT_READY", "the full group has met and decided"},
		// Steps already done, over, or waiting for an answer.
		{[]string{"appoint"}, "appoint", "STEP_ALREADY_TAKEN", "already been done"},
		{[]string{"nominate_spt"}, "nominate_spt", "AWAITING_ANSWER", "waits for an answer"},
		{[]string{"nominate_spt", "accept_spt"}, "nominate_spt", "STEP_OVER", "a support person for the therapist has accepted"},
		{[]string{"nominate_spt", "accept_spt"}, "accept_spt", "STEP_NOT_READY", "nothing to answer"},
		{[]string{"appoint", "offer_client", "other_times_client"}, "accept_client", "STEP_NOT_READY", "nothing to answer"},
		{[]string{"appoint", "propose_group", "confirm_group"}, "availability", "STEP_OVER", "has been confirmed"},
		{[]string{"appoint", "offer_client", "accept_client", "write", "approve"}, "write", "STEP_OVER", "approved"},
	}
	// Every step that has something to wait for is tried too early.
	tried := map[string]bool{}
	for _, tt := range tests {
		if tt.reason == "STEP_NOT_READY" {
			tried[script[tt.attempt].step] = true
		}
	}
	catalogue, err := procedure.Load(procedures.FS, procedures.Default)
	if err != nil {
		t.Fatal(err)
	}
	for _, step := range catalogue.Default().Steps() {
		if (len(step.GetRequires()) > 0 || len(step.GetRequiresAny()) > 0) && !tried[step.GetId()] {
			t.Errorf("step %s is never tried before its prerequisites", step.GetId())
		}
	}
	for _, tt := range tests {
		t.Run(tt.attempt+" after "+strings.Join(tt.before, ","), func(t *testing.T) {
			t.Parallel()
			w := e.openWalk(t, "ORDR"+strings.ToUpper(uuid.NewString()[:8]))
			w.do(t, tt.before...)
			_, err := w.try(t, tt.attempt)
			wantCode(t, tt.attempt, err, codes.FailedPrecondition, tt.reason, tt.words)
		})
	}
	// A step that may be taken again once answered: a declined nomination
	// lets the therapist name someone else.
	w := e.openWalk(t, "AGAIN"+strings.ToUpper(uuid.NewString()[:8]))
	w.do(t, "nominate_spt", "decline_spt", "nominate_spt", "accept_spt")
	if got := w.get(t, asOther).GetSpt(); got != spt {
		t.Errorf("SPT after a decline and a second nomination = %q", got)
	}
	// Asking for other times, then asking for changes to a draft, each
	// lets the SPC try again.
	w.do(t, "appoint", "offer_client", "other_times_client", "offer_client", "accept_client", "write", "request_changes", "write", "approve")
	docs, err := w.clients[asClient].ListDocuments(context.Background(), &caseworkv1.ListDocumentsRequest{Parent: w.name})
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, d := range docs.GetDocuments() {
		kinds = append(kinds, fmt.Sprintf("%s v%d", d.GetKind(), d.GetVersion()))
	}
	if want := []string{"KIND_WRITTEN_STATEMENT v1", "KIND_CLIENT_COMMENT v0", "KIND_WRITTEN_STATEMENT v2"}; !slices.Equal(kinds, want) {
		t.Errorf("documents after a request for changes: %v, want %v", kinds, want)
	}
}

func TestRoleConflictsAreRefused(t *testing.T) {
	t.Parallel()
	e := startCasework(t)
	appoint := func(spcMember, lpMember string) func(*walk, *caseworkv1.TakeStepRequest) {
		return func(_ *walk, r *caseworkv1.TakeStepRequest) {
			r.Input = &caseworkv1.TakeStepRequest_Appointment{Appointment: &caseworkv1.Appointment{Spc: spcMember, Lp: lpMember}}
		}
	}
	nominate := func(m string) func(*walk, *caseworkv1.TakeStepRequest) {
		return func(_ *walk, r *caseworkv1.TakeStepRequest) {
			r.Input = &caseworkv1.TakeStepRequest_Member{Member: m}
		}
	}
	tests := []struct {
		name   string
		before []string
		step   string
		who    string
		set    func(*walk, *caseworkv1.TakeStepRequest)
		code   codes.Code
		reason string
		words  string
	}{
		{"therapist nominates themself", nil, "nominate_spt", asTherapist, nominate(therapist), codes.InvalidArgument, "ROLE_CONFLICT", "therapist"},
		{"SPC named as the therapist", nil, "appoint_spc_and_lp", asAppointer, appoint(therapist, lp), codes.InvalidArgument, "ROLE_CONFLICT", "therapist"},
		{"LP named as the therapist", nil, "appoint_spc_and_lp", asAppointer, appoint(spc, therapist), codes.InvalidArgument, "ROLE_CONFLICT", "therapist"},
		{"SPC and LP the same member", nil, "appoint_spc_and_lp", asAppointer, appoint(spc, spc), codes.InvalidArgument, "ROLE_CONFLICT", "SPC"},
		{"SPC is the SPT", []string{"nominate_spt", "accept_spt"}, "appoint_spc_and_lp", asAppointer, appoint(spt, lp), codes.InvalidArgument, "ROLE_CONFLICT", "SPT"},
		{"LP is the pending nominee", []string{"nominate_spt"}, "appoint_spc_and_lp", asAppointer, appoint(spc, spt), codes.InvalidArgument, "ROLE_CONFLICT", "nominated"},
		{"nominee is the SPC", []string{"appoint"}, "nominate_spt", asTherapist, nominate(spc), codes.InvalidArgument, "ROLE_CONFLICT", "SPC"},
		{"nominee is the LP", []string{"appoint"}, "nominate_spt", asTherapist, nominate(lp), codes.InvalidArgument, "ROLE_CONFLICT", "LP"},
		{"member who has left", nil, "nominate_spt", asTherapist, nominate(inactiveMember), codes.InvalidArgument, "MEMBER_NOT_ACTIVE", "not an active member"},
		{"member of another group", nil, "appoint_spc_and_lp", asAppointer, appoint("groups/hillside/members/kim-lee", lp), codes.InvalidArgument, "INVALID_FIELDS", ""},
		{"therapist appoints the SPC and LP", nil, "appoint_spc_and_lp", asTherapist, appoint(spc, lp), codes.PermissionDenied, "NOT_YOUR_STEP", "not for the therapist"},
		{"someone else nominates the SPT", nil, "nominate_spt", asOther, nominate(spt), codes.PermissionDenied, "NOT_YOUR_STEP", "only the therapist"},
		{"someone else answers the nomination", []string{"nominate_spt"}, "answer_spt_nomination", asOther, outcome("ACCEPTED"), codes.PermissionDenied, "NOT_YOUR_STEP", "nominated"},
		// Before the LP has informed the link groups, the case does not
		// exist for a link group.
		{"the link group appoints", nil, "appoint_spc_and_lp", asLinkGroup, appoint(spc, lp), codes.NotFound, "CASE_NOT_FOUND", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := e.openWalk(t, "ROLE"+strings.ToUpper(uuid.NewString()[:8]))
			w.do(t, tt.before...)
			r := &caseworkv1.TakeStepRequest{Name: w.name, Step: tt.step}
			tt.set(w, r)
			_, err := w.clients[tt.who].TakeStep(context.Background(), r)
			wantCode(t, tt.name, err, tt.code, tt.reason, tt.words)
		})
	}
}

func TestClientConstraintsShapeWhatTheTherapistReads(t *testing.T) {
	t.Parallel()
	e := startCasework(t)
	readStatement := func(w *walk, who string) *caseworkv1.WrittenStatement {
		t.Helper()
		docs, err := w.clients[who].ListDocuments(context.Background(), &caseworkv1.ListDocumentsRequest{Parent: w.name, Kind: caseworkv1.Document_KIND_WRITTEN_STATEMENT})
		if err != nil {
			t.Fatalf("%s ListDocuments: %v", who, err)
		}
		if len(docs.GetDocuments()) == 0 {
			return nil
		}
		return docs.GetDocuments()[len(docs.GetDocuments())-1].GetWrittenStatement()
	}
	tests := []struct {
		name        string
		constraints *caseworkv1.Constraints
		wantConcern bool
	}{
		{"summary only, a detail withheld", &caseworkv1.Constraints{Sharing: caseworkv1.Constraints_SHARING_SUMMARY_ONLY, WithheldDetails: []string{"MARKER"}}, false},
		{"everything but a detail", &caseworkv1.Constraints{Sharing: caseworkv1.Constraints_SHARING_FULL, WithheldDetails: []string{"MARKER"}, Other: "Keep my workplace out of it."}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := e.openWalk(t, "CONS"+strings.ToUpper(uuid.NewString()[:8]))
			w.do(t, "nominate_spt", "accept_spt", "appoint", "inform", "offer_client", "accept_client", "write")
			marker := w.marker()
			// Until conveyed, the therapist, the SPT, the LP and the rest
			// read nothing of it.
			for _, who := range []string{asTherapist, asSPT, asLP, asOther, asLinkGroup} {
				if st := readStatement(w, who); st != nil {
					t.Errorf("%s reads the statement before it is conveyed", who)
				}
			}
			tt.constraints.WithheldDetails = []string{strings.ToLower(marker)} // matched regardless of case
			r := &caseworkv1.TakeStepRequest{Name: w.name, Step: "answer_statement", Outcome: "APPROVED",
				Input: &caseworkv1.TakeStepRequest_StatementAnswer{StatementAnswer: &caseworkv1.StatementAnswer{Document: w.draft, Constraints: tt.constraints}}}
			if _, err := w.clients[asClient].TakeStep(context.Background(), r); err != nil {
				t.Fatal(err)
			}
			for _, who := range []string{asTherapist, asSPT} {
				if st := readStatement(w, who); st != nil {
					t.Errorf("%s reads the statement once approved but before it is conveyed", who)
				}
			}
			w.do(t, "convey")
			for _, who := range []string{asTherapist, asSPT} {
				st := readStatement(w, who)
				if st == nil || !st.GetAsConveyed() {
					t.Fatalf("%s reads %v after conveying", who, st)
				}
				if (st.GetConcern() != "") != tt.wantConcern || st.GetSummary() == "" || st.GetDesiredOutcome() == "" {
					t.Errorf("%s reads %+v", who, st)
				}
				if tt.wantConcern && !strings.Contains(st.GetConcern(), "[withheld at the client's request]") {
					t.Errorf("%s reads the concern without the withheld detail blotted out: %q", who, st.GetConcern())
				}
				if strings.Contains(strings.ToUpper(st.String()), marker) || st.GetConstraints() != nil {
					t.Errorf("%s reads a withheld detail or the constraints: %v", who, st)
				}
			}
			// The client and the SPC read it whole, constraints included.
			for _, who := range []string{asClient, asSPC} {
				st := readStatement(w, who)
				if st == nil || st.GetAsConveyed() || !strings.Contains(st.GetConcern(), marker) || st.GetConstraints() == nil {
					t.Errorf("%s reads %v", who, st)
				}
			}
			for _, who := range []string{asLP, asOther, asLinkGroup} {
				if st := readStatement(w, who); st != nil {
					t.Errorf("%s reads the statement", who)
				}
			}
		})
	}
}

func TestStaleEtagIsAborted(t *testing.T) {
	t.Parallel()
	e := startCasework(t)
	w := e.openWalk(t, "ETAG"+strings.ToUpper(uuid.NewString()[:8]))
	old := w.get(t, asTherapist).GetEtag()
	w.do(t, "appoint")
	r := &caseworkv1.TakeStepRequest{Name: w.name, Step: "nominate_spt", Etag: old, Input: &caseworkv1.TakeStepRequest_Member{Member: spt}}
	_, err := w.clients[asTherapist].TakeStep(context.Background(), r)
	wantCode(t, "stale etag", err, codes.Aborted, "ETAG_MISMATCH", "read it again")
	r.Etag = w.get(t, asTherapist).GetEtag()
	if _, err := w.clients[asTherapist].TakeStep(context.Background(), r); err != nil {
		t.Fatalf("fresh etag: %v", err)
	}
}

// TestLongPathVisibility walks the long path and checks at each stage what
// each actor can and cannot see.
func TestLongPathVisibility(t *testing.T) {
	t.Parallel()
	e := startCasework(t)
	w := e.openWalk(t, "LONG"+strings.ToUpper(uuid.NewString()[:8]))
	ctx := context.Background()
	everyone := []string{asClient, asTherapist, asSPT, asSPC, asLP, asOther, asAppointer, asLinkGroup, asHillside, asOperator}

	// The case: everyone involved reads it; the link group nothing until
	// the LP has informed it (below); the other group nothing.
	for _, who := range everyone {
		c, err := w.clients[who].GetCase(ctx, &caseworkv1.GetCaseRequest{Name: w.name})
		switch who {
		case asHillside, asLinkGroup:
			wantCode(t, who, err, codes.NotFound, "CASE_NOT_FOUND", "")
		default:
			if err != nil || c.GetTherapist() != therapist || c.GetProgressSummary() {
				t.Errorf("%s GetCase: %v %v", who, c, err)
			}
		}
	}
	// The concern as registered: words for the client and members, the
	// client's details for the client and the SPC only.
	w.do(t, "nominate_spt", "accept_spt", "appoint")
	for _, who := range everyone {
		rc, err := w.clients[who].GetRegisteredConcern(ctx, &caseworkv1.GetRegisteredConcernRequest{Name: w.name + "/registeredConcern"})
		switch who {
		case asHillside:
			wantCode(t, who, err, codes.NotFound, "", "")
		case asLinkGroup, asOperator:
			wantCode(t, who, err, codes.PermissionDenied, "", "")
		case asClient, asSPC:
			if err != nil || rc.GetDescription() != w.concern.GetDescription() || rc.GetDesiredOutcome() != w.concern.GetDesiredOutcome() ||
				rc.GetClientEmail() != w.concern.GetClientContact().GetEmail() {
				t.Errorf("%s reads %v %v", who, rc, err)
			}
		default:
			if err != nil || rc.GetDescription() != w.concern.GetDescription() || rc.GetDesiredOutcome() != w.concern.GetDesiredOutcome() ||
				rc.GetClientEmail() != "" || rc.GetClientName() != "" || rc.GetClientPhone() != "" {
				t.Errorf("%s reads %v %v", who, rc, err)
			}
		}
	}
	// Messages between the client and the SPC, the SPC's notes.
	if _, err := w.clients[asClient].CreateMessage(ctx, &caseworkv1.CreateMessageRequest{Parent: w.name, Message: &caseworkv1.Message{Text: "Can we meet on a weekday?"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.clients[asSPC].CreateMessage(ctx, &caseworkv1.CreateMessageRequest{Parent: w.name, Message: &caseworkv1.Message{Text: "Yes, I will offer weekdays."}}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.clients[asSPC].CreateNote(ctx, &caseworkv1.CreateNoteRequest{Parent: w.name, Note: &caseworkv1.Note{Text: "Client sounded anxious."}}); err != nil {
		t.Fatal(err)
	}
	for _, who := range everyone {
		msgs, mErr := w.clients[who].ListMessages(ctx, &caseworkv1.ListMessagesRequest{Parent: w.name})
		notes, nErr := w.clients[who].ListNotes(ctx, &caseworkv1.ListNotesRequest{Parent: w.name})
		_, sendErr := w.clients[who].CreateMessage(ctx, &caseworkv1.CreateMessageRequest{Parent: w.name, Message: &caseworkv1.Message{Text: "hello"}})
		switch who {
		case asClient, asSPC:
			if mErr != nil || len(msgs.GetMessages()) < 2 {
				t.Errorf("%s messages: %v %v", who, msgs, mErr)
			}
			if sendErr != nil {
				t.Errorf("%s cannot send: %v", who, sendErr)
			}
		case asHillside:
			wantCode(t, who+" messages", mErr, codes.NotFound, "", "")
		default:
			wantCode(t, who+" messages", mErr, codes.PermissionDenied, "", "")
			wantCode(t, who+" sending", sendErr, codes.PermissionDenied, "", "")
		}
		switch who {
		case asSPC:
			if nErr != nil || len(notes.GetNotes()) != 1 {
				t.Errorf("SPC notes: %v %v", notes, nErr)
			}
		case asHillside:
			wantCode(t, who+" notes", nErr, codes.NotFound, "", "")
		default:
			wantCode(t, who+" notes", nErr, codes.PermissionDenied, "", "")
		}
	}

	w.do(t, "inform")
	// Informed, the link group reads a progress summary of the case.
	if c, err := w.clients[asLinkGroup].GetCase(ctx, &caseworkv1.GetCaseRequest{Name: w.name}); err != nil || !c.GetProgressSummary() ||
		c.GetTherapist() != "" || c.GetReference() != "" || c.GetConcern() != "" || c.GetClock() == nil {
		t.Errorf("link group's view: %v %v", c, err)
	}
	w.do(t, "propose_group", "availability", "confirm_group", "offer_client", "accept_client", "write", "approve", "convey", "respond")
	// The response: not for the client until relayed.
	readResponse := func(who string) bool {
		docs, err := w.clients[who].ListDocuments(ctx, &caseworkv1.ListDocumentsRequest{Parent: w.name, Kind: caseworkv1.Document_KIND_THERAPIST_RESPONSE})
		return err == nil && len(docs.GetDocuments()) == 1
	}
	for who, want := range map[string]bool{asClient: false, asSPC: true, asTherapist: true, asSPT: true, asLP: false, asOther: false, asLinkGroup: false} {
		if readResponse(who) != want {
			t.Errorf("before relaying, %s reads the response: %v", who, !want)
		}
	}
	w.do(t, "relay")
	if !readResponse(asClient) {
		t.Error("the client does not read the relayed response")
	}
	w.do(t, "wants_joint", "arrange_joint", "answer_joint", "confirm_joint")
	// The calendar of a confirmed meeting, for its participants only.
	for who, want := range map[string]codes.Code{asClient: codes.OK, asTherapist: codes.OK, asSPT: codes.OK, asSPC: codes.OK, asLP: codes.NotFound, asOther: codes.NotFound} {
		body, err := w.clients[who].GetMeetingCalendar(ctx, &caseworkv1.GetMeetingCalendarRequest{Name: w.meetings[jointMeeting]})
		if status.Code(err) != want {
			t.Errorf("%s calendar: %v, want %v", who, err, want)
		}
		if want == codes.OK && (body.GetContentType() != "text/calendar; charset=utf-8" || !strings.Contains(string(body.GetData()), "BEGIN:VEVENT") || strings.Contains(string(body.GetData()), w.marker())) {
			t.Errorf("%s calendar: %q", who, body.GetData())
		}
	}
	_, err := w.clients[asClient].GetMeetingCalendar(ctx, &caseworkv1.GetMeetingCalendarRequest{Name: w.meetings[clientMeeting]})
	if err != nil {
		t.Errorf("the client's own meeting calendar: %v", err)
	}
	w.do(t, "joint_unresolved", "report", "issue", "group_decision")
	// The progress report and the link group's issue: members and link
	// groups, not the client.
	for who, want := range map[string]int{asLinkGroup: 2, asOther: 2, asLP: 2, asClient: 0} {
		docs, err := w.clients[who].ListDocuments(ctx, &caseworkv1.ListDocumentsRequest{Parent: w.name})
		n := 0
		for _, d := range docs.GetDocuments() {
			if k := d.GetKind(); k == caseworkv1.Document_KIND_PROGRESS_REPORT || k == caseworkv1.Document_KIND_LINK_GROUP_ISSUE {
				n++
			}
		}
		if err != nil || n != want {
			t.Errorf("%s reads %d report/issue documents (%v), want %d", who, n, err, want)
		}
	}
	c := w.do(t, "close_unresolved").GetCase()
	if c.GetOutcome() != caseworkv1.Case_OUTCOME_UNRESOLVED || c.GetPhase() != procedurev1.Phase_PHASE_CLOSED {
		t.Fatalf("closed as %v in %v", c.GetOutcome(), c.GetPhase())
	}

	// The timeline: everything for the SPC; the client not the members'
	// arrangements nor the SPC's note; the link group only what concerns it.
	steps := func(who string) []string {
		resp, err := w.clients[who].ListTimelineEntries(ctx, &caseworkv1.ListTimelineEntriesRequest{Parent: w.name, PageSize: 7})
		if err != nil {
			t.Fatalf("%s timeline: %v", who, err)
		}
		var out []string
		for {
			for _, e := range resp.GetTimelineEntries() {
				out = append(out, e.GetStep()+"|"+e.GetTitle())
			}
			if resp.GetNextPageToken() == "" {
				return out
			}
			if resp, err = w.clients[who].ListTimelineEntries(ctx, &caseworkv1.ListTimelineEntriesRequest{Parent: w.name, PageSize: 7, PageToken: resp.GetNextPageToken()}); err != nil {
				t.Fatal(err)
			}
		}
	}
	has := func(entries []string, prefix string) bool {
		return slices.ContainsFunc(entries, func(e string) bool { return strings.HasPrefix(e, prefix) })
	}
	spcSees, clientSees, linkSees, otherSees := steps(asSPC), steps(asClient), steps(asLinkGroup), steps(asOther)
	for _, want := range []string{"|The client registered", "nominate_spt|", "give_availability|", "|The SPC wrote a note", "|A message was sent", "close_unresolved|"} {
		if !has(spcSees, want) {
			t.Errorf("the SPC's timeline lacks %q", want)
		}
	}
	if !has(clientSees, "decide|") || !has(clientSees, "|A message was sent") || has(clientSees, "give_availability|") || has(clientSees, "|The SPC wrote a note") || has(clientSees, "nominate_spt|") {
		t.Errorf("the client's timeline: %v", clientSees)
	}
	if has(otherSees, "|The SPC wrote a note") || has(otherSees, "|A message was sent") || !has(otherSees, "give_availability|") {
		t.Errorf("another member's timeline: %v", otherSees)
	}
	for _, entry := range linkSees {
		step, _, _ := strings.Cut(entry, "|")
		if !slices.Contains([]string{"inform_link_groups", "report_progress", "record_link_group_issue", "record_group_meeting_decision", "close_unresolved"}, step) {
			t.Errorf("the link group sees %q", entry)
		}
	}
	if _, err := w.clients[asOperator].ListTimelineEntries(ctx, &caseworkv1.ListTimelineEntriesRequest{Parent: w.name}); status.Code(err) != codes.PermissionDenied {
		t.Errorf("operator timeline: %v", err)
	}

	// Events: one per step, with no confidential words in them.
	e.waitRelayed(t)
	caseEvents := e.streamMessages(t, e.ns.Filter("case", "*"))
	// CaseOpened, one event per step taken and one per message (four).
	if want := 1 + len(longPath) + 4; len(caseEvents) != want {
		t.Errorf("%d case events on the stream, want %d", len(caseEvents), want)
	}
	for _, m := range caseEvents {
		for _, secret := range append(confidential(w.concern), w.marker(), "anxious", "weekday", "apolog", "mediator") {
			if strings.Contains(strings.ToLower(string(m.Data())), strings.ToLower(secret)) {
				t.Errorf("event %s carries %q", m.Subject(), secret)
			}
		}
	}
}

func TestListCasesFilters(t *testing.T) {
	t.Parallel()
	e := startCasework(t)
	a := e.openWalk(t, "LSTA"+strings.ToUpper(uuid.NewString()[:8]))
	b := e.openWalk(t, "LSTB"+strings.ToUpper(uuid.NewString()[:8]))
	a.do(t, "appoint")
	b.do(t, "nominate_spt")
	list := func(who string, r *caseworkv1.ListCasesRequest) []string {
		r.Parent = "groups/riverside"
		resp, err := a.clients[who].ListCases(context.Background(), r)
		if err != nil {
			t.Fatalf("%s ListCases %v: %v", who, r, err)
		}
		var names []string
		for _, c := range resp.GetCases() {
			names = append(names, c.GetName())
		}
		return names
	}
	tests := []struct {
		name string
		who  string
		req  *caseworkv1.ListCasesRequest
		want []string
	}{
		{"by phase", asOther, &caseworkv1.ListCasesRequest{Phase: procedurev1.Phase_PHASE_SUPPORT_APPOINTED}, []string{a.name}},
		{"registered", asOther, &caseworkv1.ListCasesRequest{Phase: procedurev1.Phase_PHASE_REGISTERED}, []string{b.name}},
		{"where I am SPC", asSPC, &caseworkv1.ListCasesRequest{CallerRole: procedurev1.Role_ROLE_SPC}, []string{a.name}},
		{"where I am nominee", asSPT, &caseworkv1.ListCasesRequest{CallerRole: procedurev1.Role_ROLE_NOMINEE}, []string{b.name}},
		{"where I am therapist", asTherapist, &caseworkv1.ListCasesRequest{CallerRole: procedurev1.Role_ROLE_THERAPIST}, []string{b.name, a.name}},
		{"where I am LP, not being one", asOther, &caseworkv1.ListCasesRequest{CallerRole: procedurev1.Role_ROLE_LP}, nil},
		{"overdue: none yet", asOther, &caseworkv1.ListCasesRequest{OverdueOnly: true}, nil},
	}
	for _, tt := range tests {
		got := list(tt.who, tt.req)
		if !slices.Equal(got, tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}
	// A client's list is their own case; a link group lists nothing: the
	// contract does not declare ListCases for link groups, so the platform
	// refuses one before the handler runs.
	if got := list(asClient, &caseworkv1.ListCasesRequest{}); !slices.Equal(got, []string{a.name}) {
		t.Errorf("the client's list: %v", got)
	}
	_, err := a.clients[asLinkGroup].ListCases(context.Background(), &caseworkv1.ListCasesRequest{Parent: "groups/riverside"})
	wantCode(t, "link group listing", err, codes.PermissionDenied, "CALLER_NOT_ALLOWED", "")
	// Overdue, once a deadline has passed.
	if _, err := e.db.Exec(context.Background(), `UPDATE cases SET deadline = now() - interval '1 day' WHERE id = $1`, strings.TrimPrefix(a.name, "groups/riverside/cases/")); err != nil {
		t.Fatal(err)
	}
	if got := list(asOther, &caseworkv1.ListCasesRequest{OverdueOnly: true}); !slices.Equal(got, []string{a.name}) {
		t.Errorf("overdue: %v", got)
	}
}

func TestProcedureIsServed(t *testing.T) {
	t.Parallel()
	e := startCasework(t)
	w := e.openWalk(t, "PROC"+strings.ToUpper(uuid.NewString()[:8]))
	c := w.get(t, asOther)
	p, err := w.clients[asClient].GetProcedure(context.Background(), &caseworkv1.GetProcedureRequest{Name: c.GetProcedure()})
	if err != nil || len(p.GetSteps()) < 20 || p.GetName() != c.GetProcedure() {
		t.Fatalf("GetProcedure(%q) = %d steps, %v", c.GetProcedure(), len(p.GetSteps()), err)
	}
	// Anyone may read it, without credentials.
	if _, err := e.client(t, "").GetProcedure(context.Background(), &caseworkv1.GetProcedureRequest{Name: c.GetProcedure()}); err != nil {
		t.Errorf("GetProcedure without credentials: %v", err)
	}
	_, err = w.clients[asClient].GetProcedure(context.Background(), &caseworkv1.GetProcedureRequest{Name: "procedures/none"})
	wantCode(t, "unknown procedure", err, codes.NotFound, "PROCEDURE_NOT_FOUND", "")
	// What each may do next, from the case.
	var mine []string
	for _, n := range w.get(t, asTherapist).GetNextSteps() {
		if n.GetCallerMayTake() {
			mine = append(mine, n.GetStep())
		}
	}
	if !slices.Equal(mine, []string{"nominate_spt"}) {
		t.Errorf("the therapist's next steps: %v", mine)
	}
	// The client may withdraw, but nothing waits for it: the step is
	// marked optional, so that nobody is reminded of it. The other two
	// lead toward the first response.
	type kind struct{ optional, toward bool }
	kinds := map[string]kind{}
	for _, n := range w.get(t, asClient).GetNextSteps() {
		kinds[n.GetStep()] = kind{n.GetOptional(), n.GetTowardFirstResponse()}
	}
	if want := map[string]kind{"nominate_spt": {false, true}, "appoint_spc_and_lp": {false, true}, "withdraw": {true, false}}; !maps.Equal(kinds, want) {
		t.Errorf("next steps, {optional, toward the first response}: %v; want %v", kinds, want)
	}
	testenv.Eventually(t, 10*time.Second, "procedure list", func() bool {
		l, err := w.clients[asOther].ListProcedures(context.Background(), &caseworkv1.ListProceduresRequest{})
		return err == nil && l.GetDefaultProcedure() == c.GetProcedure()
	})
}

func TestReissueAccessCode(t *testing.T) {
	t.Parallel()
	e := startCasework(t)
	w := e.openWalk(t, "CODE"+strings.ToUpper(uuid.NewString()[:8]))
	w.do(t, "appoint")
	// The contract declares ReissueAccessCode for members only: the client
	// is refused before the handler runs; a member who is not the case's
	// SPC, by the handler.
	_, err := w.clients[asClient].ReissueAccessCode(context.Background(), &caseworkv1.ReissueAccessCodeRequest{Name: w.name})
	wantCode(t, "client reissuing", err, codes.PermissionDenied, "CALLER_NOT_ALLOWED", "")
	for _, who := range []string{asTherapist, asLP, asOther} {
		_, err := w.clients[who].ReissueAccessCode(context.Background(), &caseworkv1.ReissueAccessCodeRequest{Name: w.name})
		wantCode(t, who+" reissuing", err, codes.PermissionDenied, "SPC_ONLY", "")
	}
	got, err := w.clients[asSPC].ReissueAccessCode(context.Background(), &caseworkv1.ReissueAccessCodeRequest{Name: w.name})
	if err != nil || got.GetAccessCode() == "" || got.GetReference() != w.concern.GetReference() {
		t.Fatalf("SPC reissuing: %v %v", got, err)
	}
}
