package pages

import (
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ipnmediation/disputes/web/internal/session"
)

// meetingsAPI is the little of the REST API the meetings page reads: the
// group, a case with its support person appointed, its meetings (the
// client's own, older and confirmed; the one with the practitioner,
// newer, answered by the client and open to a change), and the support
// person's public name, unless noName.
func meetingsAPI(noName bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.Method == http.MethodGet && r.URL.Path == "/v1/groups/riverside":
			io.WriteString(w, `{"name": "groups/riverside", "displayName": "Riverside Practitioners"}`)
		case r.Method == http.MethodGet && r.URL.Path == "/v1/groups/riverside/cases/c1":
			io.WriteString(w, `{"name": "groups/riverside/cases/c1", "phase": "PHASE_JOINT_MEETING", "spc": "groups/riverside/members/alex-morgan",
				"nextSteps": [{"step": "answer_joint_meeting", "callerMayTake": true}, {"step": "confirm_joint_meeting", "callerMayTake": false}]}`)
		case r.Method == http.MethodGet && r.URL.Path == "/v1/groups/riverside/cases/c1/meetings":
			io.WriteString(w, `{"meetings": [
				{"name": "groups/riverside/cases/c1/meetings/m1", "kind": "MEETING_KIND_CLIENT", "state": "STATE_CONFIRMED", "confirmedSlot": 0,
				 "slots": [{"startTime": "2027-01-12T14:00:00Z", "endTime": "2027-01-12T15:00:00Z"}], "createTime": "2027-01-01T10:00:00Z"},
				{"name": "groups/riverside/cases/c1/meetings/m2", "kind": "MEETING_KIND_JOINT", "state": "STATE_PROPOSED",
				 "slots": [{"startTime": "2027-02-09T14:00:00Z", "endTime": "2027-02-09T15:00:00Z"}, {"startTime": "2027-02-10T14:00:00Z", "endTime": "2027-02-10T15:00:00Z"}],
				 "responses": [{"participant": "client", "availableSlots": [1]}], "createTime": "2027-02-01T10:00:00Z"}]}`)
		case r.Method == http.MethodGet && r.URL.Path == "/v1/groups/riverside/members/alex-morgan" && !noName:
			io.WriteString(w, `{"name": "groups/riverside/members/alex-morgan", "displayName": "Alex Morgan"}`)
		default:
			w.WriteHeader(http.StatusNotFound)
			io.WriteString(w, `{"code": 5, "message": "not here"}`)
		}
	})
}

// TestMeetingsPage: the meetings page names the client's support person
// where it says who meets (as the case page does), and puts first what the
// client may answer now, here the meeting with the practitioner they have
// just answered, above the older meeting that is done; without the name
// (the directory not answering) it says "your support person".
func TestMeetingsPage(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name   string
		noName bool
		who    []string
	}{
		{"named", false, []string{"You and Alex Morgan, your support person.",
			"You, Alex Morgan (your support person), the practitioner and the practitioner&#39;s support person."}},
		{"no name", true, []string{"You and your support person.",
			"You, your support person, the practitioner and the practitioner&#39;s support person."}},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			apiServer := httptest.NewServer(meetingsAPI(c.noName))
			t.Cleanup(apiServer.Close)
			s := newTestSite(t, apiServer.URL)
			site := serveSite(t, s)
			sealedSession, err := s.sessions.Seal(session.Session{Token: "ipncs_x", Case: "groups/riverside/cases/c1", Expiry: time.Now().Add(time.Hour)})
			if err != nil {
				t.Fatal(err)
			}
			req, _ := http.NewRequest(http.MethodGet, site.URL+"/riverside/cases/c1/meetings?done=joint-answered", nil)
			req.AddCookie(&http.Cookie{Name: s.sessions.CookieName(), Value: sealedSession})
			resp, body := fetch(t, req)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d:\n%s", resp.StatusCode, body)
			}
			for _, w := range c.who {
				if !strings.Contains(body, w) {
					t.Errorf("the page lacks %q", w)
				}
			}
			joint, client := strings.Index(body, `id="meeting-joint"`), strings.Index(body, `id="meeting-client"`)
			if joint < 0 || client < 0 || joint > client {
				t.Errorf("the meeting with the practitioner, just answered and still open, is at %d, the older meeting at %d: want it first", joint, client)
			}
			if !strings.Contains(body, `id="send-joint-answer"`) {
				t.Error("the answered meeting with the practitioner has no form to change the answer")
			}
			checkPage(t, body)
		})
	}
}

// TestMeetingOrder: what the client may answer comes first, then the
// newest.
func TestMeetingOrder(t *testing.T) {
	t.Parallel()
	day := func(d int) time.Time { return time.Date(2027, 1, d, 10, 0, 0, 0, time.UTC) }
	cases := []struct {
		name string
		in   []meetingView
		want []string
	}{
		{"open first, though older", []meetingView{{Kind: "joint", created: day(9)}, {Kind: "client", Form: "client", created: day(1)}}, []string{"client", "joint"}},
		{"open first, newer", []meetingView{{Kind: "client", created: day(1)}, {Kind: "joint", Form: "joint", created: day(9)}}, []string{"joint", "client"}},
		{"none open: newest first", []meetingView{{Kind: "client", created: day(1)}, {Kind: "joint", created: day(9)}}, []string{"joint", "client"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			got := append([]meetingView(nil), c.in...)
			slices.SortStableFunc(got, meetingOrder)
			for i, k := range c.want {
				if got[i].Kind != k {
					t.Errorf("order %v, want %v", kinds(got), c.want)
					break
				}
			}
		})
	}
}

func kinds(views []meetingView) []string {
	var out []string
	for _, v := range views {
		out = append(out, v.Kind)
	}
	return out
}
