package e2e

import (
	"context"
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
// weeks: each reminder and overdue notice of its two time targets reaches
// the members whose step is late, by e-mail, exactly once, across restarts
// of casework and notification. The client, whose only open step is to
// withdraw, is not told that anything waits for them, and a jump past a
// deadline brings the overdue notice without the reminders it overtook.
func TestRemindersOnAMovedClock(t *testing.T) {
	clock := filepath.Join(t.TempDir(), "clock")
	s := startSystemWith(t, systemOptions{clockFile: clock})
	marker := newMarker()
	concern := s.raiseConcern(t, marker)
	clientEmail := strings.ToLower(marker) + "@client.example.net"

	var caseName string
	testenv.Eventually(t, 30*time.Second, "the case to open", func() bool {
		var list struct {
			Cases []apiCase `json:"cases"`
		}
		code := s.call(t, http.MethodGet, "/v1/groups/"+demo.GroupID+"/cases", s.token(otherID), nil, &list)
		if code == http.StatusOK && len(list.Cases) == 1 {
			caseName = list.Cases[0].Name
		}
		return caseName != ""
	})

	// The SPC and the LP are appointed: now the SPC's and the LP's steps
	// are next (offer the client a meeting; inform the link groups and
	// propose dates), and nobody else's but the client's right to withdraw.
	take := func(member, step string, input map[string]any) apiCase {
		t.Helper()
		body := map[string]any{"step": step}
		for k, v := range input {
			body[k] = v
		}
		var out stepReply
		if code := s.call(t, http.MethodPost, "/v1/"+caseName+":takeStep", s.token(member), body, &out); code != http.StatusOK {
			t.Fatalf("%s takes %s: HTTP %d", member, step, code)
		}
		return out.Case
	}
	take(therapistID, "nominate_spt", map[string]any{"member": member(sptID)})
	take(sptID, "answer_spt_nomination", map[string]any{"outcome": "ACCEPTED"})
	c := take(appointerID, "appoint_spc_and_lp", map[string]any{"appointment": map[string]string{"spc": member(spcID), "lp": member(lpID)}})
	var next []string
	for _, n := range c.NextSteps {
		next = append(next, n.Step)
	}
	slices.Sort(next)
	if want := []string{"inform_link_groups", "offer_client_meeting", "propose_group_meeting_dates", "withdraw"}; !slices.Equal(next, want) {
		t.Fatalf("next steps after the appointments: %v; want %v", next, want)
	}
	late := []string{emailOf(lpID), emailOf(spcID)} // sorted; the SPC is also the group's admin

	// timerMail lists, by subject prefix, who received which reminder or
	// overdue notice so far, and checks that none carries confidential
	// text.
	timerMail := func() (reminders, overdue []sentTimer) {
		t.Helper()
		ctx := context.Background()
		msgs, err := s.mail.Messages(ctx)
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
			body, err := s.mail.Body(ctx, m.ID)
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
	// wantTimers waits until the mailbox holds n reminders and m overdue
	// notices for each late member, then checks that they went to nobody
	// else.
	wantTimers := func(stage string, n, m int) (reminders, overdue []sentTimer) {
		t.Helper()
		testenv.Eventually(t, time.Minute, stage, func() bool {
			reminders, overdue = timerMail()
			for _, who := range late {
				if countTo(reminders, who) < n || countTo(overdue, who) < m {
					return false
				}
			}
			return true
		})
		for kind, got := range map[string][]sentTimer{"reminders": reminders, "overdue notices": overdue} {
			want := n
			if kind == "overdue notices" {
				want = m
			}
			counts := map[string]int{}
			for _, g := range got {
				counts[g.to]++
			}
			for _, who := range late {
				if counts[who] != want {
					t.Errorf("%s: %s has %d %s; want %d", stage, who, counts[who], kind, want)
				}
				delete(counts, who)
			}
			if len(counts) > 0 {
				t.Errorf("%s: %s also went to %v", stage, kind, counts)
			}
		}
		return reminders, overdue
	}

	// Nothing is due in the first week.
	if r, o := timerMail(); len(r)+len(o) != 0 {
		t.Fatalf("before the clock moved: %d reminders, %d overdue notices", len(r), len(o))
	}
	// A week before the first response is due (fourteen days), the first
	// reminder.
	moveTo(7*day + time.Hour)
	reminders, _ := wantTimers("the week-before reminder of the first response", 1, 0)
	for _, r := range reminders {
		if !strings.Contains(r.text, "the first response to the client") {
			t.Errorf("the reminder to %s does not name the first response:\n%s", r.to, r.text)
		}
	}

	// Both services restart; the reminder already sent is not sent again,
	// and the day-before reminder comes on time.
	restart("casework", "notification")
	moveTo(13*day + time.Hour)
	wantTimers("the day-before reminder of the first response", 2, 0)
	moveTo(14*day + time.Hour)
	_, overdue := wantTimers("the first response overdue", 2, 1)
	if !strings.Contains(overdue[0].text, "the first response to the client") {
		t.Errorf("the overdue notice does not name the first response:\n%s", overdue[0].text)
	}

	// casework dies without warning; when it is back, the clock has passed
	// the eight weeks: the overall target's overdue notice goes out, and its
	// two reminders, overtaken, never do.
	s.Proc("casework").Kill()
	moveTo(57 * day)
	if _, err := s.Start("casework"); err != nil {
		t.Fatal(err)
	}
	if err := s.WaitReady(context.Background(), "casework"); err != nil {
		t.Fatal(err)
	}
	_, overdue = wantTimers("the overall target overdue", 2, 2)
	resolution := 0
	for _, o := range overdue {
		if strings.Contains(o.text, "the resolution of the concern") {
			resolution++
		}
	}
	if resolution != len(late) {
		t.Errorf("%d overdue notices name the resolution; want %d", resolution, len(late))
	}

	// A last event after all the timers: once its mail is out, whatever the
	// timers caused is out too (notification takes events in order), and
	// the counts must not have moved.
	take(lpID, "inform_link_groups", nil)
	testenv.Eventually(t, time.Minute, "the link groups' notice", func() bool {
		inbox := s.inbox(t, []string{marker})
		return len(inbox["hillside.contact@example.org"]) == 1
	})
	reminders, overdue = wantTimers("in the end", 2, 2)
	for _, m := range append(reminders, overdue...) {
		if m.to == clientEmail {
			t.Errorf("the client was told a step is theirs: %s", m.text)
		}
	}

	// casework recorded each timer once: four announced, and the overall
	// target's two reminders skipped (recorded without an event).
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
	if fired != 4 || skipped != 2 {
		t.Errorf("casework's timer firings: %d fired, %d skipped; want 4 and 2", fired, skipped)
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
