package e2e

import (
	"context"
	"maps"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ipnmediation/disputes/operator/demo"
	"github.com/ipnmediation/disputes/platform/testclock"
	"github.com/ipnmediation/disputes/platform/testenv"
	"github.com/jackc/pgx/v5"
)

const day = 24 * time.Hour

// TestRemindersOnAMovedClock runs the whole system with casework on a clock
// the test moves (a testclock build) and follows one case through eight
// weeks. Each reminder and overdue notice of its two time targets reaches,
// by e-mail and exactly once across restarts of casework and notification
// and a crash of casework, the members whose steps are late: for the first
// response the SPC, whose offer of a meeting leads there; for the overall
// target the SPC and the LP; overdue notices also the group's admin. The
// client, whose only open step is the optional withdrawal, is never told
// that something waits for them, and a jump past a deadline brings the
// overdue notice without the reminder it overtook.
func TestRemindersOnAMovedClock(t *testing.T) {
	clock := filepath.Join(t.TempDir(), "clock")
	s := startSystemWith(t, systemOptions{ClockFile: clock})
	marker := newMarker()
	concern := s.raiseConcern(t, marker)
	clientEmail := strings.ToLower(marker) + "@client.example.net"

	caseName := s.openedCase(t, s.Token(otherID), concern.Case)

	// The therapist's support person is found and the SPC and the LP are
	// appointed; neither is the group's admin (alex-morgan). Next: the
	// SPC offers the client a meeting (toward the first response), the LP
	// informs the link groups and proposes dates (toward the end), and the
	// client may withdraw (optional).
	const (
		spc   = "dana-holt"
		lp    = lpID
		admin = "alex-morgan"
	)
	take := func(member, step string, input map[string]any) apiCase {
		t.Helper()
		return s.takeStep(t, caseName, s.Token(member), step, input)
	}
	take(therapistID, "nominate_spt", map[string]any{"member": member(sptID)})
	take(sptID, "answer_spt_nomination", map[string]any{"outcome": "ACCEPTED"})
	c := take(otherID, "appoint_spc_and_lp", map[string]any{"appointment": map[string]string{"spc": member(spc), "lp": member(lp)}})
	var next []string
	for _, n := range c.NextSteps {
		next = append(next, n.Step)
	}
	slices.Sort(next)
	if want := []string{"inform_link_groups", "offer_client_meeting", "propose_group_meeting_dates", "withdraw"}; !slices.Equal(next, want) {
		t.Fatalf("next steps after the appointments: %v; want %v", next, want)
	}

	// timerMail lists who received which reminder or overdue notice so far,
	// and checks that none carries confidential text.
	timerMail := func() (reminders, overdue []sentTimer) {
		t.Helper()
		ctx := context.Background()
		msgs, err := s.Mail.Messages(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range msgs {
			var list *[]sentTimer
			switch {
			case strings.HasPrefix(m.Subject, "Reminder:"):
				list = &reminders
			case strings.HasPrefix(m.Subject, "Overdue:"):
				list = &overdue
			default:
				continue
			}
			body, err := s.Mail.Body(ctx, m.ID)
			if err != nil {
				t.Fatal(err)
			}
			for _, bad := range []string{marker, concern.Reference, concern.AccessCode} {
				if strings.Contains(body.Text+body.HTML+m.Subject, bad) {
					t.Errorf("%q to %v carries %q", m.Subject, m.To, bad)
				}
			}
			for _, to := range m.To {
				*list = append(*list, sentTimer{to: to.Address, text: body.Text})
			}
		}
		return reminders, overdue
	}
	moveTo := func(offset time.Duration) {
		t.Helper()
		if err := testclock.Set(clock, offset); err != nil {
			t.Fatal(err)
		}
	}
	restart := func(names ...string) {
		t.Helper()
		for _, name := range names {
			if err := s.Proc(name).Stop(15 * time.Second); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Start(name); err != nil {
				t.Fatal(err)
			}
			if err := s.WaitReady(context.Background(), name); err != nil {
				t.Fatal(err)
			}
		}
	}
	// want waits until each member has at least the given numbers of
	// reminders and overdue notices about the case, then checks that they
	// have exactly those and that nobody else has any.
	type counts struct{ reminders, overdue int }
	want := func(stage string, by map[string]counts) (reminders, overdue []sentTimer) {
		t.Helper()
		testenv.Eventually(t, time.Minute, stage, func() bool {
			reminders, overdue = timerMail()
			for id, n := range by {
				if countTo(reminders, emailOf(id)) < n.reminders || countTo(overdue, emailOf(id)) < n.overdue {
					return false
				}
			}
			return true
		})
		got := map[string]counts{}
		for _, r := range reminders {
			n := got[r.to]
			n.reminders++
			got[r.to] = n
		}
		for _, o := range overdue {
			n := got[o.to]
			n.overdue++
			got[o.to] = n
		}
		wanted := map[string]counts{}
		for id, n := range by {
			wanted[emailOf(id)] = n
		}
		if !maps.Equal(got, wanted) {
			t.Errorf("%s: reminders and overdue notices by recipient %v; want %v", stage, got, wanted)
		}
		return reminders, overdue
	}
	about := func(sent []sentTimer, to, target string) int {
		n := 0
		for _, m := range sent {
			if m.to == emailOf(to) && strings.Contains(m.text, target) {
				n++
			}
		}
		return n
	}
	const (
		firstResponse = "the first response to the client"
		resolution    = "the resolution of the concern"
	)

	// Nothing is due in the first week.
	if r, o := timerMail(); len(r)+len(o) != 0 {
		t.Fatalf("before the clock moved: %d reminders, %d overdue notices", len(r), len(o))
	}
	// A week before the first response is due (day 14): the SPC, whose
	// step leads there, is reminded; the LP, whose steps do not, is not.
	moveTo(7*day + time.Hour)
	reminders, _ := want("the week-before reminder of the first response", map[string]counts{spc: {1, 0}})
	if about(reminders, spc, firstResponse) != 1 {
		t.Errorf("the reminder does not name the first response:\n%s", reminders[0].text)
	}

	// Both services restart; the reminder already sent is not sent again,
	// and the day-before reminder comes on time, then the overdue notice,
	// which the admin gets too.
	restart("casework", "notification")
	moveTo(13*day + time.Hour)
	want("the day-before reminder of the first response", map[string]counts{spc: {2, 0}})
	moveTo(14*day + time.Hour)
	_, overdue := want("the first response overdue", map[string]counts{spc: {2, 1}, admin: {0, 1}})
	if about(overdue, spc, firstResponse) != 1 || about(overdue, admin, firstResponse) != 1 {
		t.Errorf("the overdue notices do not name the first response: %v", overdue)
	}

	// A week before the eight weeks run out: the overall target's reminder
	// goes to everyone with a step to take, the SPC and the LP.
	moveTo(49*day + time.Hour)
	reminders, _ = want("the week-before reminder of the resolution", map[string]counts{spc: {3, 1}, lp: {1, 0}, admin: {0, 1}})
	if about(reminders, spc, resolution) != 1 || about(reminders, lp, resolution) != 1 {
		t.Errorf("the reminders of the resolution: %v", reminders)
	}

	// casework dies without warning; when it is back, the clock has passed
	// the eight weeks: the overall target's overdue notice goes out, and the
	// day-before reminder it overtook never does.
	s.Proc("casework").Kill()
	moveTo(57 * day)
	if _, err := s.Start("casework"); err != nil {
		t.Fatal(err)
	}
	if err := s.WaitReady(context.Background(), "casework"); err != nil {
		t.Fatal(err)
	}
	final := map[string]counts{spc: {3, 2}, lp: {1, 1}, admin: {0, 2}}
	_, overdue = want("the resolution overdue", final)
	// The clocks say so without arithmetic: both targets missed, by a day
	// and some minutes and by 43 days and some minutes, part days counted
	// whole; neither has stopped, as the case is open.
	var late apiCase
	if code := s.call(t, http.MethodGet, "/v1/"+caseName, s.Token(spc), nil, &late); code != http.StatusOK {
		t.Fatalf("reading the case past its eight weeks: HTTP %d", code)
	}
	late.Clock.check(t, "the clock past the eight weeks", "STATE_MISSED", 0, 2, false, false)
	late.FirstResponseClock.check(t, "the first-response clock past the eight weeks", "STATE_MISSED", 0, 44, false, false)
	for _, id := range []string{spc, lp, admin} {
		if about(overdue, id, resolution) != 1 {
			t.Errorf("%s's overdue notice of the resolution: %v", id, overdue)
		}
	}

	// A last event after all the timers: once its mail is out, whatever the
	// timers caused is out too (notification takes events in order), and
	// the counts must not have moved.
	take(lp, "inform_link_groups", nil)
	testenv.Eventually(t, time.Minute, "the link groups' notice", func() bool {
		inbox := s.inbox(t, []string{marker})
		return len(inbox["hillside.contact@example.org"]) == 1
	})
	reminders, overdue = want("in the end", final)
	for _, m := range append(reminders, overdue...) {
		if m.to == clientEmail {
			t.Errorf("the client was told a step is theirs: %s", m.text)
		}
	}

	// casework recorded each timer once: five announced, and the overall
	// target's day-before reminder skipped (recorded without an event).
	conn, err := pgx.Connect(context.Background(), s.DatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var fired, skipped int
	if err := conn.QueryRow(context.Background(),
		`SELECT count(event_id), count(*) - count(event_id) FROM casework.timer_firings WHERE case_id = $1`,
		strings.TrimPrefix(caseName, "groups/"+demo.GroupID+"/cases/")).Scan(&fired, &skipped); err != nil {
		t.Fatal(err)
	}
	if fired != 5 || skipped != 1 {
		t.Errorf("casework's timer firings: %d announced, %d skipped; want 5 and 1", fired, skipped)
	}
}

// sentTimer is one reminder or overdue notice as a recipient got it.
type sentTimer struct {
	to, text string
}

// countTo counts the notices that went to address.
func countTo(sent []sentTimer, address string) int {
	n := 0
	for _, s := range sent {
		if s.to == address {
			n++
		}
	}
	return n
}

// emailOf is a demo member's address.
func emailOf(id string) string {
	for _, p := range demo.Members {
		if p.ID == id {
			return p.Email
		}
	}
	return ""
}
