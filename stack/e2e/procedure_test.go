package e2e

import (
	"context"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ipnmediation/disputes/operator/demo"
	"github.com/ipnmediation/disputes/platform/testenv"
	caseworkv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/casework/v1"
	"github.com/ipnmediation/disputes/stack/launch"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// apiCase is the part of a case the long path looks at.
type apiCase struct {
	Name            string   `json:"name"`
	Phase           string   `json:"phase"`
	Therapist       string   `json:"therapist"`
	Reference       string   `json:"reference"`
	Spt             string   `json:"spt"`
	Spc             string   `json:"spc"`
	Lp              string   `json:"lp"`
	Outcome         string   `json:"outcome"`
	Etag            string   `json:"etag"`
	ProgressSummary bool     `json:"progressSummary"`
	CallerRoles     []string `json:"callerRoles"`
	NextSteps       []struct {
		Step          string `json:"step"`
		CallerMayTake bool   `json:"callerMayTake"`
	} `json:"nextSteps"`
	Clock              apiClock `json:"clock"`
	FirstResponseClock apiClock `json:"firstResponseClock"`
}

// apiClock is a case's clock as its JSON came, every field kept, so that a
// test sees a field that is missing rather than its zero value.
type apiClock map[string]any

// clockFields are the fields of a clock a page shows, each present in every
// answer, zero values and nulls included.
var clockFields = []string{"state", "startTime", "deadline", "daysLeft", "daysOverdue", "overdue", "metTime", "stopTime", "elapsed", "remaining"}

// check fails the test unless the clock has every field of clockFields and
// stands as wanted: its state, whole days left and overdue, and whether it
// has stopped and was met (a time, or null).
func (c apiClock) check(t *testing.T, what, state string, daysLeft, daysOverdue int, stopped, met bool) {
	t.Helper()
	for _, f := range clockFields {
		if _, ok := c[f]; !ok {
			t.Errorf("%s: no %q in %v", what, f, c)
		}
	}
	number := func(f string) int {
		n, _ := c[f].(float64)
		return int(n)
	}
	isTime := func(f string) bool {
		v, _ := c[f].(string)
		_, err := time.Parse(time.RFC3339Nano, v)
		return err == nil
	}
	if c["state"] != state || number("daysLeft") != daysLeft || number("daysOverdue") != daysOverdue ||
		c["overdue"] != (daysOverdue > 0) || !isTime("startTime") || !isTime("deadline") ||
		isTime("stopTime") != stopped || (c["stopTime"] != nil) != stopped || isTime("metTime") != met || (c["metTime"] != nil) != met {
		t.Errorf("%s: %v; want %s, %d days left, %d overdue, stopped %v, met %v", what, c, state, daysLeft, daysOverdue, stopped, met)
	}
}

type stepReply struct {
	Case    apiCase `json:"case"`
	Created string  `json:"created"`
}

// party is one actor of the long path with their own credential.
type party struct {
	name  string
	token string
}

// The demo group's members in the long path: cal-reyes is the therapist
// (the concern is about them).
const (
	therapistID = "cal-reyes"
	sptID       = "eli-nakamura"
	spcID       = "alex-morgan"
	lpID        = "bea-lindqvist"
	appointerID = "dana-holt"
	otherID     = "fran-okafor"
)

func member(id string) string { return "groups/" + demo.GroupID + "/members/" + id }

// TestLongPathOverREST walks a concern through the whole procedure over the
// REST API, each actor with their own credentials, and checks at every
// stage what each can and cannot see.
func TestLongPathOverREST(t *testing.T) {
	walkLongPath(t, startSystem(t), newMarker())
}

// newMarker is a string unique to one test run, written into confidential
// text so that the test can look for it where it must not be.
func newMarker() string { return "LONGPATH" + strings.ToUpper(launch.RandomSecret()[:10]) }

// walkLongPath is TestLongPathOverREST's walk on a started system, so that
// it can run on the system configured in other ways too. marker is in every
// piece of confidential text the walk writes: in the canaries it returns,
// one in every confidential field of every request it sends over REST.
func walkLongPath(t *testing.T, s *system, marker string) *canaries {
	cn := newCanaries(marker)
	concern := s.raiseConcernWith(t, marker, cn)

	// Someone asks for a sign-in link for an address of their own (a
	// canary no concern was registered with): the answer is the same as
	// for a client's, and the address must go nowhere in clear (intake
	// counts requests by its keyed hash).
	if code := s.call(t, http.MethodPost, "/v1/clientSignInLinks:request", "",
		cn.fill(t, "ipn.disputes.intake.v1.RequestClientSignInLinkRequest", map[string]string{"group": "groups/" + demo.GroupID}), nil); code != http.StatusOK {
		t.Fatalf("asking for a client's sign-in link: HTTP %d", code)
	}

	// The client exchanges reference and access code for a session.
	var session struct {
		Token   string `json:"token"`
		Concern string `json:"concern"`
		Case    string `json:"case"`
	}
	if code := s.call(t, http.MethodPost, "/v1/clientSessions", "", map[string]string{
		"reference": concern.Reference, "accessCode": strings.ToLower(concern.AccessCode),
	}, &session); code != http.StatusOK || session.Token == "" || session.Concern != concern.Name || session.Case != concern.Case ||
		session.Case != strings.Replace(concern.Name, "/concerns/", "/cases/", 1) {
		t.Fatalf("client session: HTTP %d %+v; want the concern %s and its case", code, session, concern.Name)
	}
	wrong := []byte(concern.AccessCode)
	if wrong[0] == 'A' {
		wrong[0] = 'B'
	} else {
		wrong[0] = 'A'
	}
	if code := s.call(t, http.MethodPost, "/v1/clientSessions", "", map[string]string{
		"reference": concern.Reference, "accessCode": string(wrong),
	}, nil); code != http.StatusUnauthorized {
		t.Errorf("a wrong access code: HTTP %d, want 401", code)
	}

	// A link group gets its own credential from the group's admin.
	var linkToken struct {
		Secret string `json:"secret"`
	}
	if code := s.call(t, http.MethodPost, "/v1/groups/"+demo.GroupID+"/linkGroups/hillside/accessTokens", s.Token("alex-morgan"),
		map[string]string{"displayName": "Hillside's casework link"}, &linkToken); code != http.StatusOK || linkToken.Secret == "" {
		t.Fatalf("link group token: HTTP %d", code)
	}

	client := party{"client", session.Token}
	therapist := party{"therapist", s.Token(therapistID)}
	sptP := party{"SPT", s.Token(sptID)}
	spcP := party{"SPC", s.Token(spcID)}
	lpP := party{"LP", s.Token(lpID)}
	appointer := party{"appointer", s.Token(appointerID)}
	otherP := party{"other member", s.Token(otherID)}
	link := party{"link group", linkToken.Secret}
	stranger := party{"nobody", "ipnpat_unknown_token"}
	everyone := []party{client, therapist, sptP, spcP, lpP, appointer, otherP, link}

	// The case, once casework has opened it.
	caseName := s.openedCase(t, otherP.token, concern.Case)
	// withheld is a detail the client keeps from the therapist's side: the
	// SPC and LP write it in everything they write after the client says
	// so, and the therapist and the SPT must read it nowhere.
	withheld := "WITHHELD" + strings.TrimPrefix(marker, "LONGPATH")
	w := &restWalk{s: s, t: t, name: caseName, created: map[string]string{}, done: map[string]bool{}, everyone: everyone, withheld: withheld, canaries: cn}
	w.checkEveryone("registration")

	// Who sees the case, and how: a link group sees nothing of it until
	// the LP has informed it.
	for _, p := range everyone {
		c, code := w.getCase(p)
		switch {
		case p == link && code != http.StatusNotFound:
			t.Errorf("the link group reads the case before it was informed: HTTP %d", code)
		case p == link:
		case code != http.StatusOK:
			t.Errorf("%s reads the case: HTTP %d", p.name, code)
		case c.Therapist != member(therapistID):
			t.Errorf("%s reads %+v", p.name, c)
		default:
			// Fresh: eight weeks and fourteen days to go, part days
			// counted whole.
			c.Clock.check(t, p.name+" reads the clock at registration", "STATE_RUNNING", 56, 0, false, false)
			c.FirstResponseClock.check(t, p.name+" reads the first-response clock at registration", "STATE_RUNNING", 14, 0, false, false)
		}
	}
	if _, code := w.getCase(stranger); code != http.StatusUnauthorized {
		t.Errorf("an unknown token reads the case: HTTP %d", code)
	}

	// The therapist names a support person; the group appoints SPC and LP.
	w.take(therapist, "nominate_spt", map[string]any{"member": member(sptID)})
	w.take(sptP, "answer_spt_nomination", map[string]any{"outcome": "ACCEPTED"})
	w.refuse(therapist, "appoint_spc_and_lp", map[string]any{"appointment": map[string]string{"spc": member(spcID), "lp": member(lpID)}}, http.StatusForbidden)
	w.refuse(appointer, "appoint_spc_and_lp", map[string]any{"appointment": map[string]string{"spc": member(sptID), "lp": member(lpID)}}, http.StatusBadRequest)
	c := w.take(appointer, "appoint_spc_and_lp", map[string]any{"appointment": map[string]string{"spc": member(spcID), "lp": member(lpID)}})
	if c.Spt != member(sptID) || c.Spc != member(spcID) || c.Lp != member(lpID) || c.Phase != "PHASE_SUPPORT_APPOINTED" {
		t.Fatalf("after the appointments: %+v", c)
	}
	// The group's admin looks for the client's cases, as for a subject
	// access request, with the client's e-mail address and telephone.
	if code := s.call(t, http.MethodPost, "/v1/groups/"+demo.GroupID+"/cases:findClientCases", spcP.token,
		cn.fill(t, "ipn.disputes.casework.v1.FindClientCasesRequest", map[string]any{}), nil); code != http.StatusOK {
		t.Errorf("the admin looks for a client's cases: HTTP %d", code)
	}
	// The SPC gives the client a new access code: the old one stops
	// working, the new one opens a session.
	var reissued struct {
		Reference  string `json:"reference"`
		AccessCode string `json:"accessCode"`
	}
	if code := s.call(t, http.MethodPost, "/v1/"+caseName+":reissueAccessCode", spcP.token, map[string]string{}, &reissued); code != http.StatusOK ||
		reissued.AccessCode == "" || reissued.Reference != concern.Reference {
		t.Fatalf("SPC reissues the access code: HTTP %d %+v", code, reissued)
	}
	if code := s.call(t, http.MethodPost, "/v1/"+caseName+":reissueAccessCode", otherP.token, map[string]string{}, nil); code != http.StatusForbidden {
		t.Errorf("another member reissues the access code: HTTP %d, want 403", code)
	}
	if code := s.call(t, http.MethodPost, "/v1/clientSessions", "", map[string]string{"reference": concern.Reference, "accessCode": concern.AccessCode}, nil); code != http.StatusUnauthorized {
		t.Errorf("the old access code after reissue: HTTP %d, want 401", code)
	}
	if code := s.call(t, http.MethodPost, "/v1/clientSessions", "", map[string]string{"reference": concern.Reference, "accessCode": reissued.AccessCode}, &session); code != http.StatusOK {
		t.Fatalf("the new access code: HTTP %d", code)
	}
	cn.secrets = append(cn.secrets, concern.AccessCode, reissued.AccessCode, client.token, session.Token)
	cn.reference = concern.Reference
	client = party{"client", session.Token}
	everyone[0] = client
	w.everyone = everyone
	w.checkEveryone("a new access code")

	// The LP informs the link groups and consults over meeting dates; the
	// SPC offers the client a meeting: these may run side by side.
	w.take(lpP, "inform_link_groups", nil)
	if c, code := w.getCase(link); code != http.StatusOK || !c.ProgressSummary || c.Therapist != "" || c.Reference != "" {
		t.Errorf("the informed link group reads HTTP %d %+v; want a progress summary only", code, c)
	}
	w.take(spcP, "offer_client_meeting", map[string]any{"meetingProposal": proposal(2)})
	w.take(lpP, "propose_group_meeting_dates", map[string]any{"meetingProposal": proposal(3)})
	w.take(otherP, "give_availability", map[string]any{"meetingAnswer": map[string]any{"meeting": w.created["propose_group_meeting_dates"], "slots": []int{0, 2}}})
	w.take(therapist, "give_availability", map[string]any{"meetingAnswer": map[string]any{"meeting": w.created["propose_group_meeting_dates"], "slots": []int{2}}})
	w.take(lpP, "confirm_group_meeting_date", map[string]any{"meetingAnswer": map[string]any{"meeting": w.created["propose_group_meeting_dates"], "slots": []int{2}}})
	w.take(client, "answer_client_meeting", map[string]any{"outcome": "ACCEPTED", "meetingAnswer": map[string]any{"meeting": w.created["offer_client_meeting"], "slots": []int{1}}})
	w.wantCalendar(w.created["offer_client_meeting"], map[party]int{client: http.StatusOK, spcP: http.StatusOK, therapist: http.StatusNotFound, lpP: http.StatusNotFound})

	// Messages between the client and the SPC; the SPC's own note.
	w.post(client, "/messages", map[string]string{"text": "Thank you; Tuesday suits me " + marker})
	w.post(spcP, "/messages", map[string]string{"text": "See you on Tuesday, " + marker})
	w.post(spcP, "/notes", map[string]string{"text": "Client wants to be heard first " + marker})

	// The written statement, approved with constraints, conveyed.
	w.take(spcP, "write_statement", map[string]any{"writtenStatement": map[string]string{
		"concern":        "Sessions ended without warning; " + marker + " was mentioned as the reason, at " + withheld + ".",
		"desiredOutcome": "An acknowledgement and an explanation.",
		"summary":        "The client felt the ending was abrupt.",
	}})
	w.refuse(spcP, "convey_statement", nil, http.StatusBadRequest) // not yet approved: 400 FAILED_PRECONDITION
	w.take(client, "answer_statement", map[string]any{"outcome": "APPROVED", "statementAnswer": map[string]any{
		"document":    w.created["write_statement"],
		"constraints": map[string]any{"sharing": "SHARING_SUMMARY_ONLY", "withheldDetails": []string{marker, withheld}},
	}})
	w.take(spcP, "convey_statement", nil)

	// The response, relayed; the client wants a joint meeting.
	w.take(therapist, "record_response", map[string]any{"text": map[string]string{"text": "I regret how it ended and would like to explain, " + marker}})
	c = w.take(spcP, "relay_response", nil)
	if c.Phase != "PHASE_AWAITING_CLIENT" {
		t.Errorf("after relaying: %s", c.Phase)
	}
	c.FirstResponseClock.check(t, "the first-response clock once the response is relayed", "STATE_MET", 14, 0, true, true)
	c.Clock.check(t, "the clock once the response is relayed", "STATE_RUNNING", 56, 0, false, false)
	w.take(client, "decide", map[string]any{"outcome": "JOINT_MEETING"})

	// The joint meeting.
	joint := proposal(2)
	joint["location"] = "the café by " + withheld
	w.take(spcP, "arrange_joint_meeting", map[string]any{"meetingProposal": joint})
	jointMeeting := w.created["arrange_joint_meeting"]
	for _, p := range []party{client, therapist, sptP} {
		w.take(p, "answer_joint_meeting", map[string]any{"meetingAnswer": map[string]any{"meeting": jointMeeting, "slots": []int{0}}})
	}
	w.refuse(otherP, "answer_joint_meeting", map[string]any{"meetingAnswer": map[string]any{"meeting": jointMeeting, "slots": []int{0}}}, http.StatusForbidden)
	w.take(spcP, "confirm_joint_meeting", map[string]any{"meetingAnswer": map[string]any{"meeting": jointMeeting, "slots": []int{0}}})
	w.wantCalendar(jointMeeting, map[party]int{client: http.StatusOK, therapist: http.StatusOK, sptP: http.StatusOK, spcP: http.StatusOK, lpP: http.StatusNotFound, otherP: http.StatusNotFound})
	w.take(spcP, "record_joint_meeting_outcome", map[string]any{"outcome": "UNRESOLVED", "meetingAnswer": map[string]any{"meeting": jointMeeting, "notes": "Heard each other; still unresolved. " + marker + " " + withheld}})

	// The link groups: the LP's report, and an issue the link group raises
	// itself over gRPC with its own credential.
	w.take(lpP, "report_progress", map[string]any{"text": map[string]string{"text": "A joint meeting took place; not resolved. " + marker + " " + withheld}})
	conn := s.dial(t, "casework")
	ctx := metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+link.token)
	if _, err := caseworkv1.NewCaseworkServiceClient(conn).TakeStep(ctx, &caseworkv1.TakeStepRequest{
		Name: caseName, Step: "record_link_group_issue",
		Input: &caseworkv1.TakeStepRequest_Text{Text: &caseworkv1.TextInput{Text: "Would an outside mediator help? " + marker}},
	}); err != nil {
		t.Fatalf("the link group's issue over gRPC: %v", err)
	}

	// The full group meets and decides; the case closes unresolved.
	w.take(lpP, "record_group_meeting_decision", map[string]any{"meetingAnswer": map[string]any{"meeting": w.created["propose_group_meeting_dates"], "notes": "Offer an outside mediator. " + marker + " " + withheld}})
	w.refuse(lpP, "close_unresolved", nil, http.StatusBadRequest) // reasons are required
	c = w.take(lpP, "close_unresolved", map[string]any{"text": map[string]string{"text": "The client declined a mediator. " + marker + " " + withheld}})
	if c.Phase != "PHASE_CLOSED" || c.Outcome != "OUTCOME_UNRESOLVED" {
		t.Errorf("closed as %+v", c)
	}
	c.Clock.check(t, "the clock of the case closed unresolved", "STATE_STOPPED", 56, 0, true, false)
	c.FirstResponseClock.check(t, "the first-response clock of the case closed unresolved", "STATE_MET", 14, 0, true, true)
	w.refuse(client, "withdraw", nil, http.StatusBadRequest)

	// The timeline, as each sees it.
	timeline := map[party][]string{}
	for _, p := range everyone {
		timeline[p] = w.timeline(p)
	}
	for p, want := range map[party][]string{
		spcP:      {"nominate_spt", "give_availability", "decide", "close_unresolved", "note", "message"},
		client:    {"answer_client_meeting", "decide", "message", "close_unresolved"},
		otherP:    {"nominate_spt", "give_availability", "close_unresolved"},
		link:      {"inform_link_groups", "report_progress", "record_link_group_issue", "close_unresolved"},
		therapist: {"record_response", "close_unresolved"},
	} {
		for _, step := range want {
			if !slices.Contains(timeline[p], step) {
				t.Errorf("%s's timeline lacks %s: %v", p.name, step, timeline[p])
			}
		}
	}
	for p, never := range map[party][]string{
		client:    {"give_availability", "nominate_spt", "note"},
		otherP:    {"note", "message"},
		therapist: {"note", "message"},
		link:      {"nominate_spt", "decide", "record_response", "message", "note"},
	} {
		for _, step := range never {
			if slices.Contains(timeline[p], step) {
				t.Errorf("%s's timeline shows %s", p.name, step)
			}
		}
	}

	// The link groups were told by e-mail, and no e-mail carries the
	// client's words.
	testenv.Eventually(t, 60*time.Second, "both link groups to get the notice and the report", func() bool {
		inbox := s.inbox(t, []string{marker, "Client " + marker})
		return len(inbox["hillside.contact@example.org"]) == 2 && len(inbox["moorland.contact@example.org"]) == 2
	})
	return cn
}

// restWalk drives one case over REST.
type restWalk struct {
	s       *system
	t       *testing.T
	name    string
	created map[string]string // the meeting or document each step created, by step
	// done are the steps taken so far, and "message" and "note" once one
	// was written: what each party may read follows from them.
	done     map[string]bool
	everyone []party
	// withheld is a detail the client withholds from the therapist's
	// side; it must reach neither the therapist nor the SPT.
	withheld string
	// canaries fill the confidential fields of every request.
	canaries *canaries
}

func proposal(n int) map[string]any {
	start := time.Now().Add(7 * 24 * time.Hour).UTC().Truncate(time.Hour)
	var slots []map[string]string
	for i := range n {
		s := start.Add(time.Duration(i) * 24 * time.Hour)
		slots = append(slots, map[string]string{"startTime": s.Format(time.RFC3339), "endTime": s.Add(time.Hour).Format(time.RFC3339)})
	}
	return map[string]any{"slots": slots, "location": "the group's usual room"}
}

func (w *restWalk) body(step string, input map[string]any) map[string]any {
	b := map[string]any{"step": step}
	for k, v := range input {
		b[k] = v
	}
	return w.canaries.fill(w.t, "ipn.disputes.casework.v1.TakeStepRequest", b)
}

// take takes a step that must succeed and returns the case.
func (w *restWalk) take(p party, step string, input map[string]any) apiCase {
	w.t.Helper()
	var out stepReply
	if code := w.s.call(w.t, http.MethodPost, "/v1/"+w.name+":takeStep", p.token, w.body(step, input), &out); code != http.StatusOK {
		w.t.Fatalf("%s takes %s: HTTP %d", p.name, step, code)
	}
	if out.Created != "" {
		w.created[step] = out.Created
	}
	w.done[step] = true
	w.checkEveryone("after " + step)
	return out.Case
}

// refuse takes a step that must fail with the given HTTP status.
func (w *restWalk) refuse(p party, step string, input map[string]any, want int) {
	w.t.Helper()
	if code := w.s.call(w.t, http.MethodPost, "/v1/"+w.name+":takeStep", p.token, w.body(step, input), nil); code != want {
		w.t.Errorf("%s takes %s: HTTP %d, want %d", p.name, step, code, want)
	}
}

func (w *restWalk) getCase(p party) (apiCase, int) {
	var c apiCase
	code := w.s.call(w.t, http.MethodGet, "/v1/"+w.name, p.token, nil, &c)
	return c, code
}

func (w *restWalk) post(p party, path string, body any) {
	w.t.Helper()
	body = w.canaries.fill(w.t, map[string]protoreflect.FullName{"/messages": "ipn.disputes.casework.v1.Message", "/notes": "ipn.disputes.casework.v1.Note"}[path], body)
	if code := w.s.call(w.t, http.MethodPost, "/v1/"+w.name+path, p.token, body, nil); code != http.StatusOK {
		w.t.Fatalf("%s POST %s: HTTP %d", p.name, path, code)
	}
	w.done[map[string]string{"/messages": "message", "/notes": "note"}[path]] = true
	w.checkEveryone("after POST " + path)
}

type timelineEntry struct {
	Step    string `json:"step"`
	Title   string `json:"title"`
	Subject string `json:"subject"`
}

func (w *restWalk) entries(p party) []timelineEntry {
	var out []timelineEntry
	token := ""
	for {
		var page struct {
			Entries []timelineEntry `json:"timelineEntries"`
			Next    string          `json:"nextPageToken"`
		}
		path := "/v1/" + w.name + "/timelineEntries?pageSize=10"
		if token != "" {
			path += "&pageToken=" + token
		}
		if code := w.s.call(w.t, http.MethodGet, path, p.token, nil, &page); code != http.StatusOK {
			w.t.Fatalf("%s timeline: HTTP %d", p.name, code)
		}
		out = append(out, page.Entries...)
		if token = page.Next; token == "" {
			return out
		}
	}
}

// timeline names each entry the caller sees: the step, or "message"/"note".
func (w *restWalk) timeline(p party) []string {
	var out []string
	for _, e := range w.entries(p) {
		switch {
		case e.Step != "":
			out = append(out, e.Step)
		case strings.Contains(e.Subject, "/messages/"):
			out = append(out, "message")
		case strings.Contains(e.Subject, "/notes/"):
			out = append(out, "note")
		default:
			out = append(out, e.Title)
		}
	}
	return out
}

// checkEveryone checks that every party reads exactly what the design's
// confidentiality table allows at this stage of the case.
func (w *restWalk) checkEveryone(stage string) {
	w.t.Helper()
	for _, p := range w.everyone {
		if got, want := w.visible(p), w.allowed(p); !slices.Equal(got, want) {
			w.t.Errorf("%s: the %s reads %v; want %v", stage, p.name, got, want)
		}
		if p.name == "therapist" || p.name == "SPT" {
			w.readsNothingWithheld(stage, p)
		}
	}
}

// readsNothingWithheld reads, as the therapist or the SPT, everything they
// may read of the case (the case, the registered concern, every document,
// every meeting and its calendar file, the timeline) and finds the detail
// the client withheld in none of it.
func (w *restWalk) readsNothingWithheld(stage string, p party) {
	w.t.Helper()
	paths := []string{"", "/registeredConcern", "/documents", "/meetings", "/timelineEntries?pageSize=100"}
	var docs struct {
		Documents []struct{ Name string } `json:"documents"`
	}
	w.s.call(w.t, http.MethodGet, "/v1/"+w.name+"/documents", p.token, nil, &docs)
	for _, d := range docs.Documents {
		paths = append(paths, strings.TrimPrefix(d.Name, w.name))
	}
	var meetings struct {
		Meetings []struct{ Name string } `json:"meetings"`
	}
	w.s.call(w.t, http.MethodGet, "/v1/"+w.name+"/meetings", p.token, nil, &meetings)
	for _, m := range meetings.Meetings {
		paths = append(paths, strings.TrimPrefix(m.Name, w.name), strings.TrimPrefix(m.Name, w.name)+"/calendar")
	}
	for _, path := range paths {
		_, _, body := w.getRaw(p, "/v1/"+w.name+path)
		if strings.Contains(string(body), w.withheld) {
			w.t.Errorf("%s: the %s reads the withheld detail in %s", stage, p.name, path)
		}
	}
}

// allowed is what p may read now, among: "words" and "contact" of the
// registered concern, "messages", "notes", "statement" (and "marker": the
// detail the client withheld from the therapist), "response", "report".
func (w *restWalk) allowed(p party) []string {
	d := w.done
	role := p.name
	isClient, isLink := role == "client", role == "link group"
	isMember := !isClient && !isLink
	spc := role == "SPC" && d["appoint_spc_and_lp"]
	therapistSide := role == "therapist" || (role == "SPT" && d["answer_spt_nomination"])
	var out []string
	add := func(ok bool, things ...string) {
		if ok {
			out = append(out, things...)
		}
	}
	add(isClient || isMember, "words")
	add(isClient || spc, "contact")
	add(d["message"] && (isClient || spc), "messages")
	add(d["note"] && spc, "notes")
	add(d["write_statement"] && (isClient || spc), "statement", "marker")
	add(d["convey_statement"] && therapistSide, "statement")
	add(d["record_response"] && (spc || therapistSide), "response")
	add(d["relay_response"] && isClient, "response")
	add(d["report_progress"] && (isMember || isLink), "report")
	slices.Sort(out)
	return slices.Compact(out)
}

func (w *restWalk) visible(p party) []string {
	var out []string
	var rc struct {
		Description    string `json:"description"`
		DesiredOutcome string `json:"desiredOutcome"`
		ClientEmail    string `json:"clientEmail"`
	}
	if w.s.call(w.t, http.MethodGet, "/v1/"+w.name+"/registeredConcern", p.token, nil, &rc) == http.StatusOK {
		// The walk's concern has a desired outcome (a canary), which is
		// read with the words or not at all.
		if rc.Description != "" && rc.DesiredOutcome != "" {
			out = append(out, "words")
		} else if rc.Description != "" || rc.DesiredOutcome != "" {
			out = append(out, "half the words")
		}
		if rc.ClientEmail != "" {
			out = append(out, "contact")
		}
	}
	var msgs struct {
		Messages []any `json:"messages"`
	}
	if w.s.call(w.t, http.MethodGet, "/v1/"+w.name+"/messages", p.token, nil, &msgs) == http.StatusOK && len(msgs.Messages) > 0 {
		out = append(out, "messages")
	}
	var notes struct {
		Notes []any `json:"notes"`
	}
	if w.s.call(w.t, http.MethodGet, "/v1/"+w.name+"/notes", p.token, nil, &notes) == http.StatusOK && len(notes.Notes) > 0 {
		out = append(out, "notes")
	}
	var docs struct {
		Documents []struct {
			Kind             string `json:"kind"`
			WrittenStatement struct {
				Concern string `json:"concern"`
				Summary string `json:"summary"`
			} `json:"writtenStatement"`
		} `json:"documents"`
	}
	if w.s.call(w.t, http.MethodGet, "/v1/"+w.name+"/documents", p.token, nil, &docs) == http.StatusOK {
		for _, d := range docs.Documents {
			switch d.Kind {
			case "KIND_WRITTEN_STATEMENT":
				out = append(out, "statement")
				if strings.Contains(d.WrittenStatement.Concern, "LONGPATH") {
					out = append(out, "marker")
				}
			case "KIND_THERAPIST_RESPONSE":
				out = append(out, "response")
			case "KIND_PROGRESS_REPORT":
				out = append(out, "report")
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func (w *restWalk) wantCalendar(meeting string, want map[party]int) {
	w.t.Helper()
	for p, code := range want {
		got, header, _ := w.getRaw(p, "/v1/"+meeting+"/calendar")
		if got != code {
			w.t.Errorf("%s reads the calendar of %s: HTTP %d, want %d", p.name, meeting, got, code)
		}
		if code == http.StatusOK && !strings.HasPrefix(header.Get("Content-Type"), "text/calendar") {
			w.t.Errorf("calendar content type %q", header.Get("Content-Type"))
		}
	}
}

// getRaw GETs path as p and returns the answer as it came, whatever its
// type: JSON or a calendar file.
func (w *restWalk) getRaw(p party, path string) (int, http.Header, []byte) {
	w.t.Helper()
	req, err := http.NewRequest(http.MethodGet, w.s.GatewayURL()+path, nil)
	if err != nil {
		w.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+p.token)
	resp, err := contractClient.Do(req) // checks both ways against the OpenAPI document (openapi_test.go)
	if err != nil {
		w.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		w.t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, body
}
