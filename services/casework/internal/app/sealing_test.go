package app

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	caseworkv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/casework/v1"
)

// plainRows is every row of every table in casework's schema that holds
// canary in plain form, as a dump or a backup would show it: each row read
// as text, and the outbox's payloads as bytes.
func (e *env) plainRows(t *testing.T, canary string) []string {
	t.Helper()
	ctx := context.Background()
	rows, err := e.db.Query(ctx, `SELECT table_name FROM information_schema.tables
		WHERE table_schema = 'casework' AND table_type = 'BASE TABLE' ORDER BY table_name`)
	if err != nil {
		t.Fatal(err)
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil || len(tables) < 8 {
		t.Fatalf("tables of casework: %v %v", tables, err)
	}
	var found []string
	for _, table := range tables {
		rows, err := e.db.Query(ctx, `SELECT t::text FROM casework.`+pgx.Identifier{table}.Sanitize()+` t WHERE strpos(upper(t::text), upper($1)) > 0`, canary)
		if err != nil {
			t.Fatalf("read %s: %v", table, err)
		}
		hits, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatalf("read %s: %v", table, err)
		}
		for _, h := range hits {
			found = append(found, table+": "+h)
		}
	}
	if n := e.count(t, `SELECT count(*) FROM casework.outbox WHERE position(convert_to($1, 'UTF8') IN payload) > 0`, canary); n > 0 {
		found = append(found, fmt.Sprintf("outbox: %d payloads", n))
	}
	return found
}

// TestEveryTypedTextIsSealed walks the long path with a canary in every
// text a person types into casework (meeting locations, the notes of every
// meeting answer, the statement, the client's comment and constraints,
// texts of steps, messages and notes), and then finds the canary in no row
// of casework's tables read as text: the words are there only as
// ciphertext. Each still reads back to whoever may read it.
func TestEveryTypedTextIsSealed(t *testing.T) {
	t.Parallel()
	e := startCasework(t)
	ctx := context.Background()
	w := e.openWalk(t, "SEAL"+strings.ToUpper(uuid.NewString()[:8]))
	canary := "TYPED" + strings.ToUpper(uuid.NewString()[:8])
	typed := func(field string) string { return canary + " " + field }

	w.do(t, "nominate_spt", "accept_spt", "appoint", "inform")
	w.take(t, asLP, &caseworkv1.TakeStepRequest{Step: "propose_group_meeting_dates", Input: proposal(typed("group meeting location"), 2)})
	w.take(t, asOther, &caseworkv1.TakeStepRequest{Step: "give_availability", Input: meetingAnswer(w.meetings[groupMeeting], typed("availability notes"), 0, 1)})
	w.take(t, asLP, &caseworkv1.TakeStepRequest{Step: "confirm_group_meeting_date", Input: meetingAnswer(w.meetings[groupMeeting], typed("confirmation notes"), 1)})
	w.take(t, asSPC, &caseworkv1.TakeStepRequest{Step: "offer_client_meeting", Input: proposal(typed("client meeting location"), 2)})
	w.take(t, asClient, &caseworkv1.TakeStepRequest{Step: "answer_client_meeting", Outcome: "OTHER_TIMES", Input: meetingAnswer(w.meetings[clientMeeting], typed("other times notes"))})
	w.take(t, asSPC, &caseworkv1.TakeStepRequest{Step: "offer_client_meeting", Input: proposal(typed("second client meeting location"), 2)})
	w.take(t, asClient, &caseworkv1.TakeStepRequest{Step: "answer_client_meeting", Outcome: "ACCEPTED", Input: meetingAnswer(w.meetings[clientMeeting], typed("acceptance notes"), 1)})
	statement := &caseworkv1.TakeStepRequest_WrittenStatement{WrittenStatement: &caseworkv1.WrittenStatement{
		Concern: typed("statement concern"), DesiredOutcome: typed("statement outcome"), Summary: typed("statement summary")}}
	w.take(t, asSPC, &caseworkv1.TakeStepRequest{Step: "write_statement", Input: statement})
	w.take(t, asClient, &caseworkv1.TakeStepRequest{Step: "answer_statement", Outcome: "CHANGES_REQUESTED",
		Input: &caseworkv1.TakeStepRequest_StatementAnswer{StatementAnswer: &caseworkv1.StatementAnswer{Document: w.draft, Comment: typed("client comment")}}})
	w.take(t, asSPC, &caseworkv1.TakeStepRequest{Step: "write_statement", Input: statement})
	w.take(t, asClient, &caseworkv1.TakeStepRequest{Step: "answer_statement", Outcome: "APPROVED",
		Input: &caseworkv1.TakeStepRequest_StatementAnswer{StatementAnswer: &caseworkv1.StatementAnswer{Document: w.draft,
			Constraints: &caseworkv1.Constraints{WithheldDetails: []string{typed("withheld detail")}, Other: typed("other constraints")}}}})
	w.do(t, "convey")
	w.take(t, asTherapist, &caseworkv1.TakeStepRequest{Step: "record_response", Input: textInput(typed("response"), "")})
	w.do(t, "relay", "wants_joint")
	w.take(t, asSPC, &caseworkv1.TakeStepRequest{Step: "arrange_joint_meeting", Input: proposal(typed("joint meeting location"), 2)})
	w.take(t, asTherapist, &caseworkv1.TakeStepRequest{Step: "answer_joint_meeting", Input: meetingAnswer(w.meetings[jointMeeting], typed("joint answer notes"), 0)})
	w.take(t, asSPC, &caseworkv1.TakeStepRequest{Step: "confirm_joint_meeting", Input: meetingAnswer(w.meetings[jointMeeting], typed("joint confirmation notes"), 0)})
	w.take(t, asSPC, &caseworkv1.TakeStepRequest{Step: "record_joint_meeting_outcome", Outcome: "UNRESOLVED", Input: meetingAnswer(w.meetings[jointMeeting], typed("joint outcome notes"))})
	w.take(t, asLP, &caseworkv1.TakeStepRequest{Step: "report_progress", Input: textInput(typed("progress report"), "")})
	w.take(t, asLinkGroup, &caseworkv1.TakeStepRequest{Step: "record_link_group_issue", Input: textInput(typed("link group's own issue"), "")})
	w.take(t, asLP, &caseworkv1.TakeStepRequest{Step: "record_link_group_issue", Input: textInput(typed("issue recorded by the LP"), linkGroup)})
	w.take(t, asLP, &caseworkv1.TakeStepRequest{Step: "record_group_meeting_decision", Input: meetingAnswer(w.meetings[groupMeeting], typed("group decision notes"))})
	if _, err := w.clients[asClient].CreateMessage(ctx, &caseworkv1.CreateMessageRequest{Parent: w.name, Message: &caseworkv1.Message{Text: typed("message")}}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.clients[asSPC].CreateNote(ctx, &caseworkv1.CreateNoteRequest{Parent: w.name, Note: &caseworkv1.Note{Text: typed("note")}}); err != nil {
		t.Fatal(err)
	}
	w.take(t, asLP, &caseworkv1.TakeStepRequest{Step: "close_unresolved", Input: textInput(typed("closing reasons"), "")})

	if found := e.plainRows(t, canary); len(found) > 0 {
		t.Errorf("typed text in plain form in casework's tables:\n%s", strings.Join(found, "\n"))
	}
	// The concern as the client registered it is sealed too.
	if found := e.plainRows(t, w.marker()); len(found) > 0 {
		t.Errorf("the client's words in plain form in casework's tables:\n%s", strings.Join(found, "\n"))
	}

	// Sealed is not lost: each meeting's participants read its location.
	locations := map[string]string{}
	for _, who := range []string{asSPC, asLP} {
		meetings, err := w.clients[who].ListMeetings(ctx, &caseworkv1.ListMeetingsRequest{Parent: w.name})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range meetings.GetMeetings() {
			locations[m.GetName()] = m.GetLocation()
		}
	}
	for meeting, want := range map[string]string{
		w.meetings[groupMeeting]:  typed("group meeting location"),
		w.meetings[clientMeeting]: typed("second client meeting location"),
		w.meetings[jointMeeting]:  typed("joint meeting location"),
	} {
		if locations[meeting] != want {
			t.Errorf("meeting %s reads at %q; want %q", meeting, locations[meeting], want)
		}
	}
	if len(locations) != 4 {
		t.Errorf("%d meetings read; want the four proposed", len(locations))
	}
}
