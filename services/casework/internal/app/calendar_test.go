package app

import (
	"context"
	"strings"
	"testing"

	"github.com/google/uuid"

	caseworkv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/casework/v1"
)

// TestCalendarNamesNoCase reads the calendar file of every kind of meeting
// as each of its participants: it names the kind of meeting and the group,
// and nothing that identifies the case (its reference, which is half of the
// client's sign-in, its id, its concern) or anyone in it, nor the place its
// proposer typed, anywhere in the file.
func TestCalendarNamesNoCase(t *testing.T) {
	t.Parallel()
	e := startCasework(t)
	ctx := context.Background()
	w := e.openWalk(t, "CALR"+strings.ToUpper(uuid.NewString()[:8]))
	w.do(t, "nominate_spt", "accept_spt", "appoint", "inform", "propose_group", "availability", "confirm_group",
		"offer_client", "accept_client", "write", "approve", "convey", "respond", "relay", "wants_joint",
		"arrange_joint", "answer_joint", "confirm_joint")
	var location string
	if m, err := w.clients[asSPC].GetMeeting(ctx, &caseworkv1.GetMeetingRequest{Name: w.meetings[jointMeeting]}); err != nil || m.GetLocation() == "" {
		t.Fatalf("the joint meeting's location: %v %v", m, err)
	} else {
		location = m.GetLocation()
	}
	c := w.get(t, asSPC)
	caseID := strings.TrimPrefix(w.name, "groups/riverside/cases/")
	concernID := w.concern.GetName()[strings.LastIndex(w.concern.GetName(), "/")+1:]
	reference := w.concern.GetReference()
	identifying := []string{reference, strings.ReplaceAll(reference, "-", ""), caseID, concernID, w.marker(),
		"alex-moss", "cal-reyes", "dana-holt", "eli-nakamura", "concern", "Sam", location, "\r\nLOCATION"}
	if reference == "" || c.GetReference() != reference {
		t.Fatalf("the case's reference is %q, the concern's %q", c.GetReference(), reference)
	}

	tests := []struct {
		name    string
		meeting string
		readers []string
		title   string
	}{
		{"the client's meeting", w.meetings[clientMeeting], []string{asClient, asSPC}, "Meeting with the client's support person\\, IPN group riverside"},
		{"the joint meeting", w.meetings[jointMeeting], []string{asClient, asSPC, asTherapist, asSPT}, "Joint meeting\\, IPN group riverside"},
		{"the full group meeting", w.meetings[groupMeeting], []string{asOther, asLP, asTherapist, asSPC, asAppointer}, "Full group meeting\\, IPN group riverside"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			for _, who := range tt.readers {
				body, err := w.clients[who].GetMeetingCalendar(ctx, &caseworkv1.GetMeetingCalendarRequest{Name: tt.meeting})
				if err != nil {
					t.Fatalf("%s reading the calendar: %v", who, err)
				}
				// Unfolded, so that nothing hides across a line break.
				ics := strings.ReplaceAll(string(body.GetData()), "\r\n ", "")
				for _, s := range identifying {
					if strings.Contains(strings.ToUpper(ics), strings.ToUpper(s)) {
						t.Errorf("%s's calendar holds %q:\n%s", who, s, ics)
					}
				}
				if !strings.Contains(ics, "\r\nSUMMARY:"+tt.title+"\r\n") {
					t.Errorf("%s's calendar has not the title %q:\n%s", who, tt.title, ics)
				}
				meetingID := tt.meeting[strings.LastIndex(tt.meeting, "/")+1:]
				if !strings.Contains(ics, "\r\nUID:"+meetingID+"@") {
					t.Errorf("%s's calendar is not identified by its meeting alone:\n%s", who, ics)
				}
			}
		})
	}
}
