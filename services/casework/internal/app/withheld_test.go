package app

import (
	"context"
	"strings"
	"testing"

	"github.com/google/uuid"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	caseworkv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/casework/v1"
	"github.com/ipnmediation/disputes/services/casework/internal/casefile"
)

// readEverything is everything who can read in the case, each answer as
// text under the name of the call that gave it (refusals included, as
// their messages); a calendar is unfolded, so that no detail hides across a
// line break.
func (w *walk) readEverything(t *testing.T, who string) map[string]string {
	t.Helper()
	ctx := context.Background()
	c := w.clients[who]
	out := map[string]string{}
	put := func(what string, m proto.Message, err error) {
		if err != nil {
			out[what] = "error: " + status.Convert(err).Message()
			return
		}
		out[what] = protojson.Format(m)
	}
	got, err := c.GetCase(ctx, &caseworkv1.GetCaseRequest{Name: w.name})
	put("GetCase", got, err)
	cases, err := c.ListCases(ctx, &caseworkv1.ListCasesRequest{Parent: "groups/riverside"})
	put("ListCases", cases, err)
	rc, err := c.GetRegisteredConcern(ctx, &caseworkv1.GetRegisteredConcernRequest{Name: w.name + "/registeredConcern"})
	put("GetRegisteredConcern", rc, err)
	docs, err := c.ListDocuments(ctx, &caseworkv1.ListDocumentsRequest{Parent: w.name})
	put("ListDocuments", docs, err)
	for _, d := range docs.GetDocuments() {
		got, err := c.GetDocument(ctx, &caseworkv1.GetDocumentRequest{Name: d.GetName()})
		put("GetDocument "+d.GetKind().String()+" "+d.GetName(), got, err)
	}
	meetings, err := c.ListMeetings(ctx, &caseworkv1.ListMeetingsRequest{Parent: w.name})
	put("ListMeetings", meetings, err)
	for _, m := range meetings.GetMeetings() {
		got, err := c.GetMeeting(ctx, &caseworkv1.GetMeetingRequest{Name: m.GetName()})
		put("GetMeeting "+m.GetKind().String(), got, err)
		cal, err := c.GetMeetingCalendar(ctx, &caseworkv1.GetMeetingCalendarRequest{Name: m.GetName()})
		if err == nil {
			out["GetMeetingCalendar "+m.GetKind().String()] = strings.ReplaceAll(string(cal.GetData()), "\r\n ", "")
		} else {
			put("GetMeetingCalendar "+m.GetKind().String(), nil, err)
		}
	}
	var timeline []string
	req := &caseworkv1.ListTimelineEntriesRequest{Parent: w.name, PageSize: 5}
	for {
		resp, err := c.ListTimelineEntries(ctx, req)
		if err != nil {
			put("ListTimelineEntries", nil, err)
			break
		}
		timeline = append(timeline, protojson.Format(resp))
		for _, e := range resp.GetTimelineEntries() {
			got, err := c.GetTimelineEntry(ctx, &caseworkv1.GetTimelineEntryRequest{Name: e.GetName()})
			put("GetTimelineEntry "+e.GetName(), got, err)
		}
		if req.PageToken = resp.GetNextPageToken(); req.PageToken == "" {
			out["ListTimelineEntries"] = strings.Join(timeline, "\n")
			break
		}
	}
	msgs, err := c.ListMessages(ctx, &caseworkv1.ListMessagesRequest{Parent: w.name})
	put("ListMessages", msgs, err)
	for _, m := range msgs.GetMessages() {
		got, err := c.GetMessage(ctx, &caseworkv1.GetMessageRequest{Name: m.GetName()})
		put("GetMessage "+m.GetName(), got, err)
	}
	notes, err := c.ListNotes(ctx, &caseworkv1.ListNotesRequest{Parent: w.name})
	put("ListNotes", notes, err)
	for _, n := range notes.GetNotes() {
		got, err := c.GetNote(ctx, &caseworkv1.GetNoteRequest{Name: n.GetName()})
		put("GetNote "+n.GetName(), got, err)
	}
	log, err := c.ListAccessLogEntries(ctx, &caseworkv1.ListAccessLogEntriesRequest{Parent: w.name})
	put("ListAccessLogEntries", log, err)
	for _, a := range log.GetAccessLogEntries() {
		got, err := c.GetAccessLogEntry(ctx, &caseworkv1.GetAccessLogEntryRequest{Name: a.GetName()})
		put("GetAccessLogEntry "+a.GetName(), got, err)
	}
	export, err := c.ExportClientData(ctx, &caseworkv1.ExportClientDataRequest{Name: w.name})
	put("ExportClientData", export, err)
	return out
}

// TestWithheldDetailsNeverReachTheTherapistSide walks the long path with
// the client's withheld detail in every text anyone writes, before and
// after the client sets the constraints, and at every stage from then on
// reads everything the therapist (also signed in as a group admin), their
// support person and, while one is pending, the nominee can read: no
// answer holds the detail. Where the stage added text they read, they find
// the replacement instead, so the reads are not empty by accident.
func TestWithheldDetailsNeverReachTheTherapistSide(t *testing.T) {
	t.Parallel()
	e := startCasework(t)
	w := e.openWalk(t, "WHLD"+strings.ToUpper(uuid.NewString()[:8]))
	w.clients["therapist as admin"] = e.client(t, alexAdminToken)
	detail := w.marker() // also in the concern as registered
	says := func(words string) string { return words + " (" + strings.ToLower(detail) + ")" }

	// Before the constraints: the full group's and the client's meetings
	// are proposed with the detail in their locations, the statement
	// written with it, and the therapist's first nominee declines.
	w.do(t, "nominate_spt", "decline_spt", "appoint", "inform")
	w.take(t, asLP, &caseworkv1.TakeStepRequest{Step: "propose_group_meeting_dates", Input: proposal(says("Room 2"), 2)})
	w.take(t, asOther, &caseworkv1.TakeStepRequest{Step: "give_availability", Input: meetingAnswer(w.meetings[groupMeeting], "", 0, 1)})
	w.take(t, asSPC, &caseworkv1.TakeStepRequest{Step: "offer_client_meeting", Input: proposal(says("the café"), 2)})
	w.take(t, asClient, &caseworkv1.TakeStepRequest{Step: "answer_client_meeting", Outcome: "ACCEPTED", Input: meetingAnswer(w.meetings[clientMeeting], says("see you"), 0)})
	w.take(t, asSPC, &caseworkv1.TakeStepRequest{Step: "write_statement", Input: &caseworkv1.TakeStepRequest_WrittenStatement{WrittenStatement: &caseworkv1.WrittenStatement{
		Concern: says("Sessions ended without notice"), DesiredOutcome: says("An apology"), Summary: says("An abrupt end"),
	}}})

	readers := []string{asTherapist, "therapist as admin", asSPT} // asSPT is cal-reyes: the nominee, then the SPT
	stages := []struct {
		name string
		take func(t *testing.T)
		// blotted are reads (by the start of their names) in which each
		// reader must by now find the replacement.
		blotted []string
	}{
		{"constraints set, a new nominee pending", func(t *testing.T) {
			w.take(t, asClient, &caseworkv1.TakeStepRequest{Step: "answer_statement", Outcome: "APPROVED",
				Input: &caseworkv1.TakeStepRequest_StatementAnswer{StatementAnswer: &caseworkv1.StatementAnswer{Document: w.draft,
					Constraints: &caseworkv1.Constraints{Sharing: caseworkv1.Constraints_SHARING_FULL, WithheldDetails: []string{detail}, Other: says("Keep it out")}}}})
			w.do(t, "nominate_spt")
		}, []string{"GetRegisteredConcern", "ListMeetings", "GetMeeting MEETING_KIND_FULL_GROUP"}},
		{"group meeting confirmed", func(t *testing.T) {
			w.take(t, asLP, &caseworkv1.TakeStepRequest{Step: "confirm_group_meeting_date", Input: meetingAnswer(w.meetings[groupMeeting], says("confirmed"), 1)})
		}, []string{"GetMeeting MEETING_KIND_FULL_GROUP"}},
		{"statement conveyed", func(t *testing.T) { w.do(t, "accept_spt", "convey") },
			[]string{"ListDocuments", "GetDocument KIND_WRITTEN_STATEMENT"}},
		{"response relayed, messages and notes written", func(t *testing.T) {
			w.do(t, "respond", "relay")
			ctx := context.Background()
			for who, words := range map[string]string{asClient: says("A message"), asSPC: says("A reply")} {
				if _, err := w.clients[who].CreateMessage(ctx, &caseworkv1.CreateMessageRequest{Parent: w.name, Message: &caseworkv1.Message{Text: words}}); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := w.clients[asSPC].CreateNote(ctx, &caseworkv1.CreateNoteRequest{Parent: w.name, Note: &caseworkv1.Note{Text: says("A note")}}); err != nil {
				t.Fatal(err)
			}
		}, nil},
		{"joint meeting confirmed", func(t *testing.T) {
			w.do(t, "wants_joint")
			w.take(t, asSPC, &caseworkv1.TakeStepRequest{Step: "arrange_joint_meeting", Input: proposal(says("Room 5"), 2)})
			w.take(t, asTherapist, &caseworkv1.TakeStepRequest{Step: "answer_joint_meeting", Input: meetingAnswer(w.meetings[jointMeeting], "", 0)})
			w.take(t, asSPC, &caseworkv1.TakeStepRequest{Step: "confirm_joint_meeting", Input: meetingAnswer(w.meetings[jointMeeting], says("confirmed"), 0)})
		}, []string{"GetMeeting MEETING_KIND_JOINT"}},
		{"joint meeting held", func(t *testing.T) {
			w.take(t, asSPC, &caseworkv1.TakeStepRequest{Step: "record_joint_meeting_outcome", Outcome: "UNRESOLVED",
				Input: meetingAnswer(w.meetings[jointMeeting], says("We talked it through"))})
		}, []string{"GetDocument KIND_MEETING_OUTCOME"}},
		{"escalated", func(t *testing.T) {
			w.take(t, asLP, &caseworkv1.TakeStepRequest{Step: "report_progress", Input: textInput(says("Not resolved yet"), "")})
			w.take(t, asLinkGroup, &caseworkv1.TakeStepRequest{Step: "record_link_group_issue", Input: textInput(says("Has an outside mediator been offered?"), "")})
			w.take(t, asLP, &caseworkv1.TakeStepRequest{Step: "record_link_group_issue", Input: textInput(says("By telephone"), linkGroup)})
			w.take(t, asLP, &caseworkv1.TakeStepRequest{Step: "record_group_meeting_decision", Input: meetingAnswer(w.meetings[groupMeeting], says("An outside mediator"))})
		}, []string{"GetDocument KIND_PROGRESS_REPORT", "GetDocument KIND_LINK_GROUP_ISSUE"}},
		{"closed", func(t *testing.T) {
			w.take(t, asLP, &caseworkv1.TakeStepRequest{Step: "close_unresolved", Outcome: "UNRESOLVED", Input: textInput(says("The client declined a mediator"), "")})
		}, []string{"GetDocument KIND_CLOSING_REASONS"}},
	}
	for _, stage := range stages {
		// Stages build on each other, so they run in order.
		t.Run(stage.name, func(t *testing.T) {
			stage.take(t)
			for _, who := range readers {
				read := w.readEverything(t, who)
				for what, text := range read {
					if strings.Contains(strings.ToUpper(text), strings.ToUpper(detail)) {
						t.Errorf("%s reads the withheld detail in %s: %s", who, what, text)
					}
				}
				for _, prefix := range stage.blotted {
					found := false
					for what, text := range read {
						found = found || strings.HasPrefix(what, prefix) && strings.Contains(text, "[withheld at the client")
					}
					if !found {
						t.Errorf("%s finds no %q in %s…: %v", who, casefile.Withheld, prefix, read)
					}
				}
			}
			// The therapist who administers the group may not export the
			// case; another admin may, whole.
			_, err := w.clients["therapist as admin"].ExportClientData(context.Background(), &caseworkv1.ExportClientDataRequest{Name: w.name})
			wantCode(t, "the therapist exporting as an admin", err, codes.PermissionDenied, "THERAPIST_SIDE", "")
			export, err := w.clients[asAppointer].ExportClientData(context.Background(), &caseworkv1.ExportClientDataRequest{Name: w.name})
			if err != nil || !strings.Contains(protojson.Format(export), detail) {
				t.Errorf("another admin's export does not hold the detail: %v", err)
			}
		})
	}
	// The SPC, who wrote most of it, reads every text whole.
	read := w.readEverything(t, asSPC)
	for _, what := range []string{"GetRegisteredConcern", "ListMeetings", "ListDocuments", "ListNotes", "ListMessages"} {
		if !strings.Contains(strings.ToUpper(read[what]), strings.ToUpper(detail)) || strings.Contains(read[what], casefile.Withheld) {
			t.Errorf("the SPC's %s is not whole: %s", what, read[what])
		}
	}
}
