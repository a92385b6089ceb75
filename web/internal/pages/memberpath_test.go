package pages

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ipnmediation/disputes/operator/demo"
	"github.com/ipnmediation/disputes/platform/testenv"
	"github.com/ipnmediation/disputes/web/internal/confidentiality"
)

// memberSide is the group's members on the website: each signs in from the
// link the directory e-mails them (read from the test's mailbox), in a
// browser of their own, and takes their steps on the step forms.
type memberSide struct {
	t    *testing.T
	sys  *system
	base string
	// caseID is the case the walk is about.
	caseID string

	mu       sync.Mutex
	browsers map[string]*browser
	seenMail map[string]bool
}

func newMemberSide(t *testing.T, sys *system, base, caseID string) *memberSide {
	return &memberSide{t: t, sys: sys, base: base, caseID: caseID, browsers: map[string]*browser{}, seenMail: map[string]bool{}}
}

// signInMailSecret finds the secret of a sign-in link in a mail's text.
var signInMailSecret = regexp.MustCompile(`/sign-in/([a-z2-7]{40,80})\b`)

// as is the member's browser, signed in on first use: the member asks for
// a link on the members' sign-in page, reads it in the mail and presses
// the button on the link's page.
func (m *memberSide) as(member string) *browser {
	m.t.Helper()
	m.mu.Lock()
	defer m.mu.Unlock()
	if b, ok := m.browsers[member]; ok {
		return b
	}
	var email string
	for _, p := range demo.Members {
		if p.ID == member {
			email = p.Email
		}
	}
	b := newBrowser(m.t, m.base)
	resp, body := b.post("/riverside/members/sign-in", url.Values{"email": {email}})
	want(m.t, member+" asks for a link", resp, body, 200, "Check your e-mail")
	var secret string
	testenv.Eventually(m.t, 30*time.Second, "the sign-in mail to "+email, func() bool {
		msgs, err := m.sys.mail.Messages(context.Background())
		if err != nil {
			m.t.Fatal(err)
		}
		for _, msg := range msgs {
			if m.seenMail[msg.ID] || !slices.ContainsFunc(msg.To, func(a testenv.Address) bool { return a.Address == email }) ||
				!strings.HasPrefix(msg.Subject, "Your link to sign in") {
				continue
			}
			m.seenMail[msg.ID] = true
			mb, err := m.sys.mail.Body(context.Background(), msg.ID)
			if err != nil {
				m.t.Fatal(err)
			}
			if found := signInMailSecret.FindStringSubmatch(mb.Text); found != nil {
				secret = found[1]
				return true
			}
		}
		return false
	})
	resp, body = b.get("/riverside/sign-in/" + secret)
	want(m.t, member+" opens the link", resp, body, 200, `id="use-link-form"`)
	resp, _ = b.post("/riverside/sign-in/"+secret, url.Values{})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/riverside/members/" {
		m.t.Fatalf("%s signs in: %d %s", member, resp.StatusCode, resp.Header.Get("Location"))
	}
	m.browsers[member] = b
	return b
}

// casePath is the case's page for members.
func (m *memberSide) casePath() string { return "/riverside/members/cases/" + m.caseID }

// form opens the step's form as member and returns what the browser would
// send with it, unchanged.
func (m *memberSide) form(member, step string) (url.Values, string) {
	m.t.Helper()
	resp, body := m.as(member).get(m.casePath() + "/steps/" + step)
	want(m.t, member+" opens "+step, resp, body, 200, `id="step-form"`, `id="take-step"`)
	return formValues(m.t, body, "step-form", "take-step"), body
}

// step takes a step on its form as member: set fills it in. It checks the
// answer leads back to the case, whose banner names the step.
func (m *memberSide) step(member, step string, set func(f url.Values)) {
	m.t.Helper()
	f, body := m.form(member, step)
	title := regexp.MustCompile(`<h1>([^<]+)</h1>`).FindStringSubmatch(body)
	if set != nil {
		set(f)
	}
	b := m.as(member)
	resp, answer := b.post(m.casePath()+"/steps/"+step, f)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != m.casePath()+"?done=step&step="+step {
		m.t.Fatalf("%s takes %s: %d %s\n%s", member, step, resp.StatusCode, resp.Header.Get("Location"), answer)
	}
	resp, body = b.get(resp.Header.Get("Location"))
	want(m.t, member+" after "+step, resp, body, 200, "Done: "+title[1])
}

// refused posts the step's form as set fills it, and expects the form
// again with status and every snippet (what was typed is kept).
func (m *memberSide) refused(member, step string, set func(f url.Values), status int, snippets ...string) {
	m.t.Helper()
	f, _ := m.form(member, step)
	set(f)
	resp, body := m.as(member).post(m.casePath()+"/steps/"+step, f)
	want(m.t, member+" refused "+step, resp, body, status, append(snippets, `id="step-form"`)...)
}

// seen is everything a member can open about the case: My work, the case,
// the concern, the documents, the meetings, and the messages and notes
// (which casework refuses to anyone but the client's support person).
func (m *memberSide) seen(member string) string {
	m.t.Helper()
	b := m.as(member)
	var all strings.Builder
	for _, p := range []string{"/riverside/members/", m.casePath(), m.casePath() + "/concern", m.casePath() + "/documents",
		m.casePath() + "/meetings", m.casePath() + "/messages", m.casePath() + "/notes"} {
		resp, body := b.get(p)
		if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusForbidden {
			m.t.Fatalf("%s opens %s: %d\n%s", member, p, resp.StatusCode, body)
		}
		checkPage(m.t, body)
		all.WriteString(body)
	}
	return all.String()
}

// secret is a piece of text only some parties may read, at a point of the
// walk: Readers must see it, everyone else must not.
type secret struct {
	What, Text string
	Readers    []string
}

// leaks holds what every party saw to the rules (confidentiality.Leaks,
// which the browser test uses too): each secret in the pages of its
// readers and in nobody else's. It returns every breach.
func leaks(seen map[string]string, secrets []secret) []string {
	rules := make([]confidentiality.Secret, 0, len(secrets))
	for _, s := range secrets {
		rules = append(rules, confidentiality.Secret(s))
	}
	return confidentiality.Leaks(seen, rules)
}

// memberLongPath walks the whole long path on the website, with nothing
// over REST: the client on their pages, each member signed in from the
// mail on theirs, taking every step on its form. After each step it holds
// what every party can open to the confidentiality table (see leaks).
func memberLongPath(t *testing.T, sys *system, web *Site, base string) {
	client := newBrowser(t, base)
	_, body := client.get("/riverside/concern")
	resp, body := client.post("/riverside/concern", url.Values{"requestId": {match(t, requestIDRe, body)}, "practitioner": {"cal-reyes"},
		"description": {"My sessions at Mill Lane ended early, and then stopped."}, "clientName": {"Robin"}, "email": {"robin@client.example.net"}})
	want(t, "confirmation", resp, body, 200, "Go to your case")
	clientCase := match(t, casePathRe, body)
	ms := newMemberSide(t, sys, base, strings.TrimPrefix(clientCase, "/riverside/cases/"))
	everyone := []string{"alex-morgan", "bea-lindqvist", "cal-reyes", "dana-holt", "eli-nakamura", "fran-okafor"}
	// check holds every party's pages to the secrets, as they stand.
	check := func(stage string, secrets ...secret) {
		t.Helper()
		seen := map[string]string{}
		var mu sync.Mutex
		var wg sync.WaitGroup
		for _, m := range everyone {
			wg.Add(1)
			go func() {
				defer wg.Done()
				s := ms.seen(m)
				mu.Lock()
				seen[m] = s
				mu.Unlock()
			}()
		}
		wg.Wait()
		var all strings.Builder
		for _, p := range []string{"", "/meetings", "/written-statement", "/response", "/messages"} {
			resp, body := client.get(clientCase + p)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("%s: the client opens %s: %d", stage, p, resp.StatusCode)
			}
			all.WriteString(body)
		}
		seen["client"] = all.String()
		for _, l := range leaks(seen, secrets) {
			t.Errorf("after %s: %s", stage, l)
		}
	}
	allMembers := func(more ...string) []string { return append(slices.Clone(everyone), more...) }
	therapistSide := []string{"cal-reyes", "eli-nakamura"}
	concern := secret{"the concern's words", "My sessions at", allMembers()}
	millLane := secret{"a detail the client keeps from the practitioner", "Mill Lane", allMembers()}

	// My work: the practitioner's step first.
	resp, body = ms.as("cal-reyes").get("/riverside/members/")
	want(t, "My work", resp, body, 200, "Cases waiting for you", `id="case-`+ms.caseID+`"`, "The practitioner names a support person", "About you")
	check("registration", concern, millLane, secret{"the client's e-mail address", "robin@client.example.net", nil})

	ms.step("cal-reyes", "nominate_spt", func(f url.Values) { f.Set("member", "groups/riverside/members/eli-nakamura") })
	ms.step("eli-nakamura", "answer_spt_nomination", func(f url.Values) { f.Set("outcome", "ACCEPTED") })

	// The practitioner takes no part in choosing the support people; a
	// member holding a part already cannot take another.
	resp, body = ms.as("cal-reyes").get(ms.casePath() + "/steps/appoint_spc_and_lp")
	want(t, "the practitioner opens the appointment", resp, body, http.StatusConflict, "This step is not yours to take just now")
	ms.refused("dana-holt", "appoint_spc_and_lp", func(f url.Values) {
		f.Set("spc", "groups/riverside/members/eli-nakamura")
		f.Set("lp", "groups/riverside/members/bea-lindqvist")
	}, http.StatusBadRequest, `id="spc-error"`, `value="groups/riverside/members/bea-lindqvist" selected`)
	ms.step("dana-holt", "appoint_spc_and_lp", func(f url.Values) {
		f.Set("spc", "groups/riverside/members/alex-morgan")
		f.Set("lp", "groups/riverside/members/bea-lindqvist")
	})
	email := secret{"the client's e-mail address", "robin@client.example.net", []string{"alex-morgan"}}
	check("appointment", concern, millLane, email)

	// The liaison person informs the link groups and proposes dates for a
	// full group meeting; members give their availability.
	ms.step("bea-lindqvist", "inform_link_groups", nil)
	day := time.Now().In(web.london).AddDate(0, 0, 9).Format("2006-01-02")
	ms.refused("bea-lindqvist", "propose_group_meeting_dates", func(f url.Values) {
		f.Set("slot-0-date", day)
		f.Set("slot-0-start", "14:00")
		f.Set("slot-0-end", "13:00")
	}, http.StatusBadRequest, `href="#slot-0-end"`, "it must end after it starts", `value="`+day+`"`)
	ms.step("bea-lindqvist", "propose_group_meeting_dates", func(f url.Values) {
		for i, t := range [][2]string{{"10:00", "12:00"}, {"14:00", "16:00"}, {"18:00", "20:00"}} {
			n := strconv.Itoa(i)
			f.Set("slot-"+n+"-date", day)
			f.Set("slot-"+n+"-start", t[0])
			f.Set("slot-"+n+"-end", t[1])
		}
		f.Set("location", "The group's room")
	})
	ms.step("fran-okafor", "give_availability", func(f url.Values) { f["times"] = []string{"0", "2"} })
	ms.step("cal-reyes", "give_availability", func(f url.Values) { f["times"] = []string{"2"} })
	_, body = ms.form("bea-lindqvist", "confirm_group_meeting_date")
	if !strings.Contains(body, "2 of 2 who answered can make it") {
		t.Error("confirming the date does not show how many can make each time")
	}
	ms.step("bea-lindqvist", "confirm_group_meeting_date", func(f url.Values) { f.Set("times", "2") })

	// The client's support person offers to meet; the client accepts.
	ms.step("alex-morgan", "offer_client_meeting", func(f url.Values) {
		f.Set("slot-0-date", day)
		f.Set("slot-0-start", "11:00")
		f.Set("slot-0-end", "12:00")
		f.Set("location", "3 Mill Lane, the small room")
	})
	millLane.Readers = append(millLane.Readers, "client") // the meeting's place
	resp, body = client.get(clientCase + "/meetings")
	action := regexp.MustCompile(`action="(` + regexp.QuoteMeta(clientCase) + `/meetings/[0-9a-z-]+)"`).FindStringSubmatch(body)
	if action == nil {
		t.Fatalf("the client's meetings page has no form:\n%s", body)
	}
	form := formValues(t, body, "meeting-form", "send-answer")
	form.Set("answer", "slot-0")
	if resp, _ = client.post(action[1], form); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("the client accepts: %d", resp.StatusCode)
	}
	resp, body = ms.as("alex-morgan").get(ms.casePath() + "/meetings")
	want(t, "the support person's meetings", resp, body, 200, "Confirmed", "Add it to your calendar", "The client can make")
	cal := regexp.MustCompile(`href="(/riverside/members/cases/[a-z0-9-]+/meetings/[a-z0-9-]+/calendar)"`).FindStringSubmatch(body)
	if cal == nil {
		t.Fatal("no calendar link for the confirmed meeting")
	}
	resp, body = ms.as("alex-morgan").get(cal[1])
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/calendar") || !strings.Contains(body, "BEGIN:VCALENDAR") {
		t.Errorf("the member's calendar file: %d %v", resp.StatusCode, resp.Header)
	}

	// Messages and notes: the client's support person's alone.
	resp, body = ms.as("alex-morgan").get(ms.casePath() + "/messages")
	send := formValues(t, body, "thread-form", "send-text")
	send.Set("text", "Thank you for meeting me. Tuesdays suit me best to talk.")
	if resp, _ = ms.as("alex-morgan").post(ms.casePath()+"/messages", send); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("the support person writes: %d", resp.StatusCode)
	}
	resp, body = ms.as("alex-morgan").get(ms.casePath() + "/notes")
	note := formValues(t, body, "thread-form", "send-text")
	note.Set("text", "Note to self: Robin prefers calls after six.")
	if resp, _ = ms.as("alex-morgan").post(ms.casePath()+"/notes", note); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("the support person notes: %d", resp.StatusCode)
	}
	message := secret{"a message between the client and their support person", "Tuesdays suit me best to talk.", []string{"alex-morgan", "client"}}
	notes := secret{"the support person's notes", "Robin prefers calls after six.", []string{"alex-morgan"}}
	check("the meeting and the messages", concern, millLane, email, message, notes)

	// The written statement: from the concern's words, approved with
	// limits, conveyed.
	f, body := ms.form("alex-morgan", "write_statement")
	if f.Get("concern") != "My sessions at Mill Lane ended early, and then stopped." {
		t.Errorf("the statement's form does not start from the concern's words: %q", f.Get("concern"))
	}
	ms.step("alex-morgan", "write_statement", func(f url.Values) {
		f.Set("concern", "Robin's last three sessions at Mill Lane ended twenty minutes early.")
		f.Set("desired-outcome", "An explanation, and an apology.")
		f.Set("summary", "Sessions ended early without explanation.")
	})
	full := secret{"the written statement in full", "ended twenty minutes early", []string{"alex-morgan", "client"}}
	summary := secret{"the written statement's shorter account", "Sessions ended early without explanation.", []string{"alex-morgan", "client"}}
	check("the statement written", concern, millLane, email, message, notes, full, summary)

	resp, body = client.get(clientCase + "/written-statement")
	q := formValues(t, body, "statement-form", "continue")
	q.Set("answer", "approve")
	resp, body = client.post(clientCase+"/written-statement", q)
	limits := formValues(t, body, "limits-form", "continue")
	limits.Set("sharing", "summary")
	limits.Set("withheld", "Mill Lane")
	resp, body = client.post(clientCase+"/written-statement", limits)
	if resp, _ = client.post(clientCase+"/written-statement", formValues(t, body, "approve-form", "approve")); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("the client approves: %d", resp.StatusCode)
	}
	millLane.Readers = []string{"alex-morgan", "bea-lindqvist", "dana-holt", "fran-okafor", "client"}
	ms.step("alex-morgan", "convey_statement", nil)
	summary.Readers = append(summary.Readers, therapistSide...)
	check("the statement conveyed", concern, millLane, email, message, notes, full, summary)

	// The practitioner responds; the response is relayed; the client asks
	// for a joint meeting.
	ms.step("cal-reyes", "record_response", func(f url.Values) { f.Set("text", "I am sorry. I should have explained why our sessions ended early.") })
	response := secret{"the practitioner's response", "I should have explained why", []string{"alex-morgan", "cal-reyes", "eli-nakamura"}}
	check("the response recorded", concern, millLane, email, message, notes, full, summary, response)
	ms.step("alex-morgan", "relay_response", nil)
	response.Readers = append(response.Readers, "client")
	resp, body = client.get(clientCase + "/response")
	decision := formValues(t, body, "decision-form", "continue")
	decision.Set("decision", "JOINT_MEETING")
	resp, body = client.post(clientCase+"/response", decision)
	if resp, _ = client.post(clientCase+"/response", formValues(t, body, "send-decision", "send")); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("the client decides: %d", resp.StatusCode)
	}

	// The joint meeting: proposed, answered by all four, confirmed, held.
	ms.step("alex-morgan", "arrange_joint_meeting", func(f url.Values) {
		f.Set("slot-0-date", day)
		f.Set("slot-0-start", "16:00")
		f.Set("slot-0-end", "17:00")
		f.Set("location", "Video call")
	})
	resp, body = client.get(clientCase + "/meetings")
	joint := regexp.MustCompile(`action="(` + regexp.QuoteMeta(clientCase) + `/meetings/[0-9a-z-]+)" id="joint-meeting-form"`).FindStringSubmatch(body)
	if joint == nil {
		t.Fatalf("no joint meeting form for the client:\n%s", body)
	}
	times := formValues(t, body, "joint-meeting-form", "send-joint-answer")
	times.Set("slots", "0")
	if resp, _ = client.post(joint[1], times); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("the client answers the joint meeting: %d", resp.StatusCode)
	}
	ms.step("cal-reyes", "answer_joint_meeting", func(f url.Values) { f.Set("times", "0") })
	ms.step("eli-nakamura", "answer_joint_meeting", func(f url.Values) { f.Set("times", "0") })
	ms.step("alex-morgan", "confirm_joint_meeting", func(f url.Values) { f.Set("times", "0") })
	ms.refused("alex-morgan", "record_joint_meeting_outcome", func(f url.Values) { f.Set("outcome", "UNRESOLVED") },
		http.StatusBadRequest, `href="#text"`, "Write what the meeting concluded")
	ms.step("alex-morgan", "record_joint_meeting_outcome", func(f url.Values) {
		f.Set("outcome", "UNRESOLVED")
		f.Set("text", "We heard each other; it is not resolved.")
	})
	check("the joint meeting", concern, millLane, email, message, notes, full, summary, response)

	// The liaison person reports, records a link group's issue, the group
	// decides, and the case closes unresolved with reasons.
	ms.step("bea-lindqvist", "report_progress", func(f url.Values) { f.Set("text", "A joint meeting took place; it is not resolved.") })
	_, body = ms.form("bea-lindqvist", "record_link_group_issue")
	linkGroup := match(t, regexp.MustCompile(`name="link-group" value="([^"]+)"`), body)
	ms.step("bea-lindqvist", "record_link_group_issue", func(f url.Values) {
		f.Set("text", "The link group asks whether an outside mediator was offered.")
		f.Set("link-group", linkGroup)
	})
	ms.step("bea-lindqvist", "record_group_meeting_decision", func(f url.Values) { f.Set("text", "Offer an outside mediator.") })
	ms.refused("bea-lindqvist", "close_unresolved", func(f url.Values) {}, http.StatusBadRequest, `href="#text"`)
	ms.step("bea-lindqvist", "close_unresolved", func(f url.Values) { f.Set("text", "The client declined a mediator.") })
	resp, body = ms.as("fran-okafor").get("/riverside/members/")
	want(t, "My work at the end", resp, body, 200, `href="/riverside/members/closed" id="closed-link"`)
	resp, body = ms.as("fran-okafor").get("/riverside/members/closed")
	want(t, "the closed cases at the end", resp, body, 200, "<h1>Closed cases (", `id="case-`+ms.caseID+`"`, "Closed: not resolved")
	check("the case closed", concern, millLane, email, message, notes, full, summary, response)
}
