package pages

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ipnmediation/disputes/platform/testenv"
	"golang.org/x/net/html"
)

// longPath walks a client through the whole procedure on the website's
// pages, in the order a case goes: the members' steps over REST until
// their pages come. On each page it checks what the client should read,
// and that they read nothing of the roles they must not know (the
// practitioner's support person, the liaison person); want holds every
// page to the rules of TestPagesRender and to the headers.
func longPath(t *testing.T, sys *system, web *Site, base string) {
	b := newBrowser(t, base)
	_, body := b.get("/riverside/concern")
	resp, body := b.post("/riverside/concern", url.Values{"requestId": {match(t, requestIDRe, body)}, "practitioner": {"cal-reyes"},
		"description": {"My sessions ended early, and then stopped."}, "clientName": {"Robin"}, "email": {"robin@client.example.net"}})
	want(t, "confirmation", resp, body, 200, "Go to your case")
	casePath := match(t, casePathRe, body)
	caseName := "groups/riverside/cases/" + strings.TrimPrefix(casePath, "/riverside/cases/")
	takeStep := func(member string, step map[string]any) map[string]any {
		t.Helper()
		return sys.restAnswer(t, member, "POST", "/v1/"+caseName+":takeStep", step)
	}
	never := func(what, body string) {
		t.Helper()
		for _, name := range []string{"Bea Lindqvist", "Eli Nakamura", "bea-lindqvist", "eli-nakamura", caseName} {
			if strings.Contains(body, name) {
				t.Errorf("%s: the page shows %q", what, name)
			}
		}
	}

	resp, body = b.get(casePath + "/meetings")
	want(t, "no meetings yet", resp, body, 200, "has not offered to meet you yet")
	resp, body = b.get(casePath + "/messages")
	want(t, "messages before the support person", resp, body, 200, "The group is still choosing your support person", "No messages yet.")

	takeStep("cal-reyes", map[string]any{"step": "nominate_spt", "member": "groups/riverside/members/eli-nakamura"})
	takeStep("eli-nakamura", map[string]any{"step": "answer_spt_nomination", "outcome": "ACCEPTED"})
	takeStep("dana-holt", map[string]any{"step": "appoint_spc_and_lp",
		"appointment": map[string]string{"spc": "groups/riverside/members/alex-morgan", "lp": "groups/riverside/members/bea-lindqvist"}})

	// The support person offers to meet; the client asks for other times,
	// then accepts one of the next offer.
	day := time.Now().UTC().Add(8 * 24 * time.Hour).Truncate(24 * time.Hour)
	slot := func(from time.Duration) map[string]string {
		return map[string]string{"startTime": day.Add(from).Format(time.RFC3339), "endTime": day.Add(from + time.Hour).Format(time.RFC3339)}
	}
	takeStep("alex-morgan", map[string]any{"step": "offer_client_meeting",
		"meetingProposal": map[string]any{"slots": []any{slot(10 * time.Hour), slot(14 * time.Hour)}, "location": "The group's room, 3 Mill Lane"}})
	resp, body = b.get(casePath)
	want(t, "case: the offer to answer", resp, body, 200, "What you need to do", `href="`+casePath+`/meetings" id="todo-meetings"`,
		"Answer your support person&#39;s offer to meet", `id="page-meetings"`, `id="page-messages"`)
	never("case", body)
	resp, body = b.get(casePath + "/meetings")
	want(t, "meetings: an offer", resp, body, 200, "Which time would you like?", spanWords(day.Add(10*time.Hour), day.Add(11*time.Hour), web.london),
		"The group&#39;s room, 3 Mill Lane", "None of these times suit me", "I would rather not meet")
	action := regexp.MustCompile(`action="(` + regexp.QuoteMeta(casePath) + `/meetings/[0-9a-z-]+)"`).FindStringSubmatch(body)
	if action == nil {
		t.Fatal("the meetings page has no form for the offer")
	}
	form := formValues(t, body, "meeting-form", "send-answer")
	resp, body = b.post(action[1], form)
	want(t, "meetings: no answer chosen", resp, body, 400, "Please check your answers", `href="#answer"`, "Choose one of the times")
	form.Set("answer", "other-times")
	resp, _ = b.post(action[1], form)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != casePath+"/messages?done=other-times" {
		t.Fatalf("other times: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, body = b.get(resp.Header.Get("Location"))
	want(t, "messages after asking for other times", resp, body, 200, "You have asked for other times", "which days and times suit you")

	takeStep("alex-morgan", map[string]any{"step": "offer_client_meeting",
		"meetingProposal": map[string]any{"slots": []any{slot(34 * time.Hour), slot(38 * time.Hour)}}})
	resp, body = b.get(casePath + "/meetings")
	second := spanWords(day.Add(38*time.Hour), day.Add(39*time.Hour), web.london)
	want(t, "meetings: the second offer", resp, body, 200, second, "Your support person will tell you.")
	if strings.Contains(body, spanWords(day.Add(10*time.Hour), day.Add(11*time.Hour), web.london)) {
		t.Error("the meetings page still shows the first offer's times")
	}
	action = regexp.MustCompile(`action="(` + regexp.QuoteMeta(casePath) + `/meetings/[0-9a-z-]+)"`).FindStringSubmatch(body)
	form = formValues(t, body, "meeting-form", "send-answer")
	form.Set("answer", "slot-1")
	resp, _ = b.post(action[1], form)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("accepting a time: %d", resp.StatusCode)
	}
	// The same form again (a double click): the same answer, no error.
	again, _ := b.post(action[1], form)
	if again.StatusCode != http.StatusSeeOther || again.Header.Get("Location") != resp.Header.Get("Location") {
		t.Errorf("the same answer again: %d %s", again.StatusCode, again.Header.Get("Location"))
	}
	resp, body = b.get(resp.Header.Get("Location"))
	want(t, "meetings: confirmed", resp, body, 200, "You have accepted a time to meet", "Your meeting is arranged.", second+" (UK time)", "Add to your calendar")
	calendar := regexp.MustCompile(`href="(` + regexp.QuoteMeta(casePath) + `/meetings/[0-9a-z-]+/calendar)" id="calendar-client"`).FindStringSubmatch(body)
	if calendar == nil {
		t.Fatal("no calendar link")
	}
	resp, body = b.get(calendar[1])
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/calendar") ||
		!strings.HasPrefix(resp.Header.Get("Content-Disposition"), "attachment;") || !strings.Contains(body, "BEGIN:VCALENDAR") ||
		resp.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("calendar: %d %v\n%s", resp.StatusCode, resp.Header, body)
	}

	// The written statement: changes asked for, then a new version
	// approved with limits, after checking the answers.
	resp, body = b.get(casePath + "/written-statement")
	want(t, "no statement yet", resp, body, 200, "has not written it down yet")
	statement := func(version string) {
		t.Helper()
		takeStep("alex-morgan", map[string]any{"step": "write_statement", "writtenStatement": map[string]string{
			"concern":        "Robin's last three sessions ended twenty minutes early, in the room at Mill Lane. " + version,
			"desiredOutcome": "An explanation, and an apology.",
			"summary":        "Sessions ended early without explanation."}})
	}
	statement("First version.")
	resp, body = b.get(casePath)
	want(t, "case: the statement to read", resp, body, 200, `id="todo-written-statement"`, `id="page-written-statement"`)
	resp, body = b.get(casePath + "/written-statement")
	want(t, "statement", resp, body, 200, "What your concern is", "First version.", "The outcome you would like", "An explanation, and an apology.",
		"A shorter account", "Is this right?")
	first := formValues(t, body, "statement-form", "continue")
	first.Set("answer", "changes")
	resp, body = b.post(casePath+"/written-statement", first)
	want(t, "changes", resp, body, 200, "What should change?", "Ask for changes")
	changes := formValues(t, body, "changes-form", "send")
	changes.Set("comment", "The room was on Mill Lane, not the High Street.")
	resp, _ = b.post(casePath+"/written-statement", changes)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != casePath+"/written-statement?done=changes" {
		t.Fatalf("changes: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, body = b.get(resp.Header.Get("Location"))
	want(t, "statement after changes", resp, body, 200, "You have asked for changes", "is writing a new version")

	statement("Second version.")
	// An answer to the old version finds the new one.
	first.Set("answer", "approve")
	resp, _ = b.post(casePath+"/written-statement", first)
	if resp.Header.Get("Location") != casePath+"/written-statement?done=new-version" {
		t.Fatalf("answering an old version: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, body = b.get(casePath + "/written-statement")
	want(t, "statement v2", resp, body, 200, "Version 2", "Second version.")
	question := formValues(t, body, "statement-form", "continue")
	question.Set("answer", "approve")
	resp, body = b.post(casePath+"/written-statement", question)
	want(t, "limits", resp, body, 200, "What may the practitioner read?", "Details to keep from the practitioner")
	limits := formValues(t, body, "limits-form", "continue")
	resp, body = b.post(casePath+"/written-statement", limits)
	want(t, "limits: none chosen", resp, body, 400, "Choose what the practitioner may read", `href="#sharing"`)
	limits = formValues(t, body, "limits-form", "continue")
	limits.Set("sharing", "summary")
	limits.Set("withheld", "Mill Lane\r\n\r\n  my sister \r\nmill lane")
	limits.Set("other", "Please do not mention my work.\r\nCall me before meetings.")
	resp, body = b.post(casePath+"/written-statement", limits)
	want(t, "check", resp, body, 200, "Check your answers before you approve it", "Only the shorter account", "<li>Mill Lane</li>", "<li>my sister</li>",
		"Please do not mention my work.\nCall me before meetings.", "Approve and send")
	if strings.Count(body, "<li>") != 2 {
		t.Errorf("the check page lists the details %d times, want each once", strings.Count(body, "<li>"))
	}
	change := formValues(t, body, "approve-form", "change-withheld")
	resp, body = b.post(casePath+"/written-statement", change)
	want(t, "change the limits", resp, body, 200, "What may the practitioner read?", `value="summary" id="sharing-summary" checked`, "Mill Lane\nmy sister</textarea>",
		"Please do not mention my work.\nCall me before meetings.</textarea>")
	resp, body = b.post(casePath+"/written-statement", formValues(t, body, "limits-form", "continue"))
	want(t, "check again", resp, body, 200, "Approve and send")
	approve := formValues(t, body, "approve-form", "approve")
	resp, _ = b.post(casePath+"/written-statement", approve)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != casePath+"/written-statement?done=approved" {
		t.Fatalf("approve: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, body = b.get(resp.Header.Get("Location"))
	want(t, "approved", resp, body, 200, "You have approved what your support person wrote", "You approved this", "Only the shorter account",
		"<li>Mill Lane</li>", "Please do not mention my work.")
	if strings.Contains(body, `id="statement-form"`) {
		t.Error("an approved statement still asks whether it is right")
	}

	// The practitioner's response, and the decision after checking it.
	takeStep("alex-morgan", map[string]any{"step": "convey_statement"})
	takeStep("cal-reyes", map[string]any{"step": "record_response", "text": map[string]string{"text": "I am sorry.\n\nI should have explained why our sessions ended early."}})
	resp, body = b.get(casePath + "/response")
	want(t, "response not relayed", resp, body, 200, "has not reached you yet")
	if strings.Contains(body, "I am sorry") {
		t.Error("the response shows before it was relayed")
	}
	takeStep("alex-morgan", map[string]any{"step": "relay_response"})
	resp, body = b.get(casePath)
	want(t, "case: the response to read", resp, body, 200, `id="todo-response"`, `id="page-response"`)
	resp, body = b.get(casePath + "/response")
	want(t, "response", resp, body, 200, "I am sorry.\n\nI should have explained", "Does this resolve your concern?",
		decisions[0].Next, decisions[1].Next, decisions[2].Next)
	decision := formValues(t, body, "decision-form", "continue")
	resp, body = b.post(casePath+"/response", decision)
	want(t, "decision: none chosen", resp, body, 400, "Say whether the practitioner&#39;s response resolves your concern", `href="#decision"`)
	decision.Set("decision", "JOINT_MEETING")
	resp, body = b.post(casePath+"/response", decision)
	want(t, "decision check", resp, body, 200, "Check your decision before you send it", decisions[1].Label, decisions[1].Next, "you cannot change it")
	resp, _ = b.post(casePath+"/response", formValues(t, body, "send-decision", "send"))
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != casePath+"/response?done=decided-JOINT_MEETING" {
		t.Fatalf("decide: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, body = b.get(resp.Header.Get("Location"))
	want(t, "decided", resp, body, 200, "You have asked to meet the practitioner", "Your decision", decisions[1].Label)

	// The joint meeting: the times the client can make.
	takeStep("alex-morgan", map[string]any{"step": "arrange_joint_meeting",
		"meetingProposal": map[string]any{"slots": []any{slot(58 * time.Hour), slot(62 * time.Hour)}, "location": "Video call"}})
	resp, body = b.get(casePath + "/meetings")
	want(t, "meetings: joint", resp, body, 200, "Meeting with the practitioner", "Which of these times can you make?", "I cannot make any of these times",
		"Your meeting is arranged.")
	joint := regexp.MustCompile(`action="(` + regexp.QuoteMeta(casePath) + `/meetings/[0-9a-z-]+)" id="joint-meeting-form"`).FindStringSubmatch(body)
	if joint == nil {
		t.Fatal("no form for the joint meeting")
	}
	times := formValues(t, body, "joint-meeting-form", "send-joint-answer")
	times.Set("slots", "0")
	times.Set("none", "yes")
	resp, body = b.post(joint[1], times)
	want(t, "joint: both", resp, body, 400, "not both", `href="#slots"`)
	times = formValues(t, body, "joint-meeting-form", "send-joint-answer")
	times.Del("none")
	times["slots"] = []string{"0", "1"}
	resp, _ = b.post(joint[1], times)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("joint answer: %d", resp.StatusCode)
	}
	resp, body = b.get(resp.Header.Get("Location"))
	want(t, "joint answered", resp, body, 200, "Your answer has been sent", "Your answer so far:", spanWords(day.Add(62*time.Hour), day.Add(63*time.Hour), web.london))
	resp, body = b.get(casePath)
	want(t, "case: the joint meeting answered", resp, body, 200, "You said which times you can make for the meeting with the practitioner.",
		"Your support person confirms when the meeting with the practitioner will be.")
	if strings.Contains(body, `id="todo"`) {
		t.Error("the case still asks the client to answer the joint meeting's times")
	}

	// Messages, newest last, with who wrote them.
	resp, body = b.get(casePath + "/messages")
	send := formValues(t, body, "message-form", "send-message")
	resp, body = b.post(casePath+"/messages", send)
	want(t, "message: empty", resp, body, 400, "Write your message", `href="#message"`)
	send.Set("text", "Thank you.\nTuesdays suit me best.")
	resp, _ = b.post(casePath+"/messages", send)
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), casePath+"/messages?done=message-sent") {
		t.Fatalf("message: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	// Sent twice (a refresh of the answer, a double click): sent once.
	if again, _ := b.post(casePath+"/messages", send); again.Header.Get("Location") != resp.Header.Get("Location") {
		t.Errorf("the message sent again: %d %s", again.StatusCode, again.Header.Get("Location"))
	}
	sys.rest(t, "alex-morgan", "POST", "/v1/"+caseName+"/messages", map[string]string{"text": "Tuesday it is."})
	resp, body = b.get(casePath + "/messages")
	want(t, "messages", resp, body, 200, "<strong>You</strong>", "Thank you.\nTuesdays suit me best.", "<strong>Alex Morgan, your support person</strong>",
		"Tuesday it is.", `id="last-message"`)
	if strings.Count(body, "Tuesdays suit me best.") != 1 {
		t.Error("the message was sent twice")
	}
	if strings.Index(body, "Tuesdays suit me best.") > strings.Index(body, "Tuesday it is.") {
		t.Error("messages are not newest last")
	}
	resp, body = b.get(casePath)
	want(t, "case at the end", resp, body, 200, "You sent your support person a message.", "Your support person sent you a message.",
		"You asked for a meeting with the practitioner.", "You agreed what your support person wrote.")
	never("case at the end", body)

	// Signing out ends the session at the API too, not only the cookie.
	u, _ := url.Parse(base)
	var token string
	for _, c := range b.c.Jar.Cookies(u) {
		if sess, err := web.sessions.Open(c.Value); err == nil && c.Name == web.sessions.CookieName() {
			token = sess.Token
		}
	}
	if token == "" {
		t.Fatal("no session cookie before signing out")
	}
	resp, body = b.post("/riverside/sign-out", nil)
	want(t, "signed out", resp, body, 200, "You have signed out")
	testenv.Eventually(t, 30*time.Second, "the API refusing the signed-out session", func() bool {
		req, _ := http.NewRequest(http.MethodGet, sys.GatewayURL()+"/v1/"+caseName, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusUnauthorized
	})
}

// formValues is what a browser sends with the form whose id is formID: its
// hidden and text fields, textareas, the radios and checkboxes checked,
// and the name and value of the button with the id submit (which may sit
// outside the form, naming it with form=).
func formValues(t *testing.T, body, formID, submit string) url.Values {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	attrs := func(n *html.Node) map[string]string {
		m := map[string]string{}
		for _, a := range n.Attr {
			m[a.Key] = a.Val
		}
		return m
	}
	v := url.Values{}
	found := false
	var walk func(n *html.Node, inForm bool)
	walk = func(n *html.Node, inForm bool) {
		if n.Type == html.ElementNode {
			a := attrs(n)
			if n.Data == "form" && a["id"] == formID {
				inForm, found = true, true
			}
			mine := inForm || a["form"] == formID
			switch {
			case !mine || a["name"] == "" || a["disabled"] != "":
			case n.Data == "button":
				if a["id"] == submit {
					v.Add(a["name"], a["value"])
				}
			case n.Data == "textarea":
				text := ""
				if n.FirstChild != nil {
					text = n.FirstChild.Data
				}
				v.Add(a["name"], text)
			case n.Data == "input" && (a["type"] == "radio" || a["type"] == "checkbox"):
				if _, checked := a["checked"]; checked {
					v.Add(a["name"], a["value"])
				}
			case n.Data == "input" && a["type"] != "submit":
				v.Add(a["name"], a["value"])
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c, inForm)
		}
	}
	walk(doc, false)
	if !found {
		t.Fatalf("the page has no form %q", formID)
	}
	return v
}
