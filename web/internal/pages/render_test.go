package pages

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ipnmediation/disputes/platform/sealed"
	"github.com/ipnmediation/disputes/web/internal/api"
	"github.com/ipnmediation/disputes/web/internal/session"
	"golang.org/x/net/html"
)

// newTestSite is a site whose API is at apiURL (nothing needs to listen
// there for pages that only render).
func newTestSite(t *testing.T, apiURL string, opts ...func(*Options)) *Site {
	t.Helper()
	key, err := sealed.NewKeySetting("k1")
	if err != nil {
		t.Fatal(err)
	}
	store, err := session.NewStore(key, "", false)
	if err != nil {
		t.Fatal(err)
	}
	public, _ := url.Parse("http://127.0.0.1:7190")
	o := Options{Sessions: store, PublicURL: public}
	if apiURL != "" {
		o.API = newAPI(t, apiURL, 2*time.Second)
	}
	for _, f := range opts {
		f(&o)
	}
	s, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

var riverside = &groupView{ID: "riverside", Name: "Riverside Practitioners", Contact: "contact@riverside.example.org", Weeks: 8}

// fixedPages are every page, rendered from fixed data.
func fixedPages() map[string]any {
	var errs formErrors
	errs.add("practitioner", "Choose the practitioner your concern is about")
	errs.add("description", "Tell us what happened")
	errs.add("client-name", "Enter your name")
	errs.add("email", "Enter an email address in the right form, like name@example.com")
	errs.add("phone", "Enter a phone number using digits, like 01632 960 001 or +44 7700 900 982")
	errs.add("send", "We could not send your concern")
	var signInErrs formErrors
	signInErrs.add("reference", "Enter your reference")
	signInErrs.add("access-code", "Enter your access code")
	var wrongSignIn formErrors
	wrongSignIn.add("reference", wrongSignInWords)
	wrongSignIn.add("access-code", lostCodeWords)
	members := []memberOption{{"alex-morgan", "Alex Morgan"}, {"cal-reyes", "Cal Reyes"}}
	at := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	return map[string]any{
		"home":  layout{Title: "Raise a concern about a counsellor or psychotherapist"},
		"group": layout{Title: riverside.Name, Group: riverside},
		"statement": statementPage{layout: layout{Title: "Our ethical statement", Group: riverside}, Version: 2, Sections: []statementSection{
			{Title: "Values", Blocks: markdownBlocks("We meet.\n\n- one\n- two\n\n### More\nText")},
		}},
		"statement-none": statementPage{layout: layout{Title: "Our ethical statement", Group: riverside}},
		"concern":        concernPage{layout: layout{Title: "Raise a concern", Group: riverside}, Members: members, Form: concernForm{RequestID: newRequestID()}},
		"concern-errors": concernPage{layout: layout{Title: "Raise a concern", Group: riverside, Errors: errs}, Members: members,
			Form: concernForm{Practitioner: "cal-reyes", Description: "It <b>hurt</b>", ClientName: "Sam", RequestID: newRequestID()}},
		"confirmation": confirmationPage{layout: layout{Title: "Your concern has been sent", Group: riverside, SignedIn: true},
			Reference: "K7QM-3XRD", AccessCode: "ABCD-EFGH-JKMN-PQRS-TVWX-YZ01-20", CasePath: "/riverside/cases/c1"},
		"confirmation-code-gone": confirmationPage{layout: layout{Title: "Your concern has been sent", Group: riverside},
			Reference: "K7QM-3XRD", ShownBefore: true, CasePath: "/riverside/sign-in"},
		"sign-in":        signInPage{layout: layout{Title: "Come back to your concern", Group: riverside}},
		"sign-in-errors": signInPage{layout: layout{Title: "Come back to your concern", Group: riverside, Errors: signInErrs}, Reference: "K7QM"},
		"sign-in-wrong":  signInPage{layout: layout{Title: "Come back to your concern", Group: riverside, Errors: wrongSignIn}, Reference: "K7QM-3XRD"},
		"signed-out":     layout{Title: "You have signed out", Group: riverside},
		"session-ended":  layout{Title: "You have been signed out", Group: riverside},
		"opening":        openingPage{layout: layout{Title: "We are setting up your case", Group: riverside, SignedIn: true}, CasePath: "/riverside/cases/c1"},
		"case": casePage{
			layout: layout{Title: "Your concern", Group: riverside, SignedIn: true}, Reference: "K7QM-3XRD",
			Banner:   &banner{Title: "You have asked for changes", Next: "Your support person will write a new version."},
			Standing: phaseSentence[3], NextSteps: []string{nextSteps["convey_statement"].Sentence},
			ToDo: []todoLink{{ID: "todo-written-statement", Text: nextSteps["answer_statement"].Do, Detail: nextSteps["answer_statement"].Yours,
				Path: "/riverside/cases/c1/written-statement"}},
			Pages:         []todoLink{{ID: "page-messages", Text: "Messages with your support person", Path: "/riverside/cases/c1/messages"}},
			SupportPerson: "Alex Morgan", FirstResponse: "The group aims to bring you the practitioner's first response by Monday 16 March 2026.",
			Clock: clockView{Week: 3, Weeks: 8, Sentence: "The group aims to resolve your concern within 8 weeks.",
				Boxes: []weekBox{{1, "past"}, {2, "past"}, {3, "now"}, {4, "later"}, {5, "later"}, {6, "later"}, {7, "later"}, {8, "later"}}},
			Timeline:     []timelineItem{{at, "You sent your concern."}, {at, "The group chose your support person."}},
			WithdrawPath: "/riverside/cases/c1/withdraw",
		},
		"case-closed":  casePage{layout: layout{Title: "Your concern", Group: riverside, SignedIn: true}, Reference: "K7QM-3XRD", Closed: true, Standing: closedSentence[2]},
		"withdraw":     withdrawPage{layout: layout{Title: "Withdraw your concern", Group: riverside, SignedIn: true}, CasePath: "/riverside/cases/c1"},
		"step-problem": stepProblemPage{layout: layout{Title: "You cannot withdraw just now", Group: riverside, SignedIn: true}, Explanation: notReadyWords("not yet: first the SPC has relayed the therapist's response"), CasePath: "/riverside/cases/c1"},
		"meetings": meetingsPage{layout: signedIn("Meetings"), CasePath: "/riverside/cases/c1", FormID: newRequestID(),
			Banner: &banner{Title: "There is a new version", Next: "Read it.", Important: true},
			Meetings: []meetingView{
				{Kind: "client", Heading: "Meeting with your support person", Who: "You and Alex Morgan, your support person.", Sentence: "Offered.", Form: "client",
					Action: "/riverside/cases/c1/meetings/m1", Answer: "slot-1",
					Slots: []slotView{{0, "Tuesday 12 January 2027, 2pm to 3pm", false}, {1, "Wednesday 13 January 2027, 10:30am to midday", false}}},
				{Kind: "joint", Heading: "Meeting with the practitioner", Who: "Everyone.", Sentence: "Say which.", Form: "joint", Location: "The group's room",
					Action: "/riverside/cases/c1/meetings/m2", Answered: []string{"Tuesday 12 January 2027, 2pm to 3pm"},
					Slots: []slotView{{0, "Tuesday 12 January 2027, 2pm to 3pm", true}, {1, "Wednesday 13 January 2027, 2pm to 3pm", false}}},
			}},
		"meetings-errors": meetingsPage{layout: layout{Title: "Meetings", Group: riverside, SignedIn: true, Errors: oneError("answer", "Choose one of the times")},
			CasePath: "/riverside/cases/c1", FormID: newRequestID(),
			Meetings: []meetingView{{Kind: "client", Heading: "Meeting with your support person", Form: "client", Action: "/riverside/cases/c1/meetings/m1",
				Slots: []slotView{{0, "Tuesday 12 January 2027, 2pm to 3pm", false}}}}},
		"meetings-confirmed": meetingsPage{layout: signedIn("Meetings"), CasePath: "/riverside/cases/c1",
			Banner: &banner{Title: "You have accepted a time to meet", Next: "Add it to your calendar."},
			Meetings: []meetingView{{Kind: "client", Heading: "Meeting with your support person", Sentence: "Your meeting is arranged.",
				Confirmed: "Tuesday 12 January 2027, 2pm to 3pm", CalendarPath: "/riverside/cases/c1/meetings/m1/calendar"}}},
		"meetings-none": meetingsPage{layout: signedIn("Meetings"), CasePath: "/riverside/cases/c1"},
		"written-statement": writtenStatementPage{layout: signedIn("What your support person wrote"), CasePath: "/riverside/cases/c1",
			Action: "/riverside/cases/c1/written-statement", Statement: statement(false), MayAnswer: true, FormID: newRequestID()},
		"written-statement-errors": writtenStatementPage{layout: layout{Title: "What your support person wrote", Group: riverside, SignedIn: true,
			Errors: oneError("answer", "Say whether what your support person wrote is right")},
			CasePath: "/riverside/cases/c1", Action: "/riverside/cases/c1/written-statement", Statement: statement(false), MayAnswer: true, FormID: newRequestID()},
		"written-statement-approved": writtenStatementPage{layout: signedIn("What your support person wrote"), CasePath: "/riverside/cases/c1",
			Banner: &banner{Title: "You have approved what your support person wrote", Next: "Next."}, Statement: statement(true)},
		"written-statement-none": writtenStatementPage{layout: signedIn("What your support person wrote"), CasePath: "/riverside/cases/c1"},
		"statement-limits": writtenStatementPage{layout: layout{Title: "What may be passed on to the practitioner?", Group: riverside, SignedIn: true,
			Errors: oneError("sharing", "Choose what the practitioner may read")},
			Action: "/riverside/cases/c1/written-statement", Statement: statement(false), FormID: newRequestID(),
			Limits: statementLimits{WithheldText: "Leeds\nMy sister"}},
		"statement-changes": writtenStatementPage{layout: signedIn("What should change?"), Action: "/riverside/cases/c1/written-statement",
			Statement: statement(false), FormID: newRequestID(), Comment: "The date is wrong."},
		"statement-check": writtenStatementPage{layout: signedIn("Check your answers before you approve it"), Action: "/riverside/cases/c1/written-statement",
			Statement: statement(false), FormID: newRequestID(),
			Limits: statementLimits{Sharing: "summary", Withheld: []string{"Leeds", "My sister"}, Other: "Please do not\nmention my job."}},
		"response": responsePage{layout: signedIn("The practitioner's response"), CasePath: "/riverside/cases/c1", Action: "/riverside/cases/c1/response",
			Response: "I am sorry.\n\nI should have explained.", Received: at, MayDecide: true, Options: decisions, FormID: newRequestID()},
		"response-decided": responsePage{layout: signedIn("The practitioner's response"), CasePath: "/riverside/cases/c1",
			Banner:   &banner{Title: "You have asked to meet the practitioner", Next: decisions[1].Next},
			Response: "I am sorry.", Received: at, Decided: decisions[1].Label, Chosen: decisions[1], MeetingsPath: "/riverside/cases/c1/meetings"},
		"response-none": responsePage{layout: signedIn("The practitioner's response"), CasePath: "/riverside/cases/c1"},
		"decision-check": responsePage{layout: signedIn("Check your decision before you send it"), Action: "/riverside/cases/c1/response",
			Chosen: decisions[2], FormID: newRequestID()},
		"messages": messagesPage{layout: signedIn("Messages with your support person"), CasePath: "/riverside/cases/c1", Action: "/riverside/cases/c1/messages",
			SupportPerson: "Alex Morgan", MayWrite: true, FormID: newRequestID(),
			Messages: []messageView{{From: "You", Mine: true, Time: at, Text: "Hello.\nCan we talk?"}, {From: "Alex Morgan, your support person", Time: at, Text: "Yes."}}},
		"messages-errors": messagesPage{layout: layout{Title: "Messages with your support person", Group: riverside, SignedIn: true,
			Errors: oneError("message", "Write your message")}, CasePath: "/riverside/cases/c1", Action: "/riverside/cases/c1/messages", MayWrite: true},
		"messages-closed": messagesPage{layout: signedIn("Messages with your support person"), CasePath: "/riverside/cases/c1"},
		"not-found":       layout{Title: "Page not found"},
		"not-found-group": layout{Title: "Page not found", Group: riverside},
		"problem":         problemPage{layout: layout{Title: "Sorry, something on our side is not working", Group: riverside}},
		"problem-neutral": problemPage{layout: layout{Title: "Sorry, something on our side is not working"}},
		"refused":         layout{Title: "This request was refused"},
	}
}

func signedIn(title string) layout { return layout{Title: title, Group: riverside, SignedIn: true} }

func oneError(id, message string) formErrors {
	var errs formErrors
	errs.add(id, message)
	return errs
}

// statement is a version of the written statement, approved or not.
func statement(approved bool) *statementView {
	v := &statementView{Document: "groups/riverside/cases/c1/documents/d1", Version: 2, Written: time.Date(2026, 3, 9, 10, 0, 0, 0, time.UTC),
		Concern: "My sessions ended early.\n\nNobody said why.", Outcome: "An apology.", Summary: "Sessions ended early."}
	if approved {
		v.Approved, v.Limits = true, statementLimits{Sharing: "full", Withheld: []string{"Leeds"}}
	}
	return v
}

// internalWords are names a client must never read: the procedure's role
// names, resource names, engineers' words.
var internalWords = regexp.MustCompile(`\b(SPC|SPT|LP|phase|therapist|groups/|casework|intake|API|ROLE_|PHASE_|STATE_)\b`)

// memberInternalWords are the names a member must never read. Members are
// practitioners who know their procedure, and the steps' titles are the
// procedure's own words ("The therapist names a support person"), but the
// short names of roles, resource names and engineers' words stay out.
var memberInternalWords = regexp.MustCompile(`\b(SPC|SPT|LP|groups/|casework|intake|API|ROLE_|PHASE_|STATE_|etag)\b`)

// TestPagesRender renders every page from fixed data and holds each to what
// every page promises: one h1, a title, every field labelled, ids unique, no
// inline script or style, no event-handler attribute, static files by their
// hashed names, and none of the words the client must not read.
func TestPagesRender(t *testing.T) {
	t.Parallel()
	s := newTestSite(t, "")
	for name, data := range fixedPages() {
		page := strings.Split(name, "-errors")[0]
		switch name {
		case "statement-none":
			page = "statement"
		case "sign-in-wrong":
			page = "sign-in"
		case "confirmation-code-gone":
			page = "confirmation"
		case "case-closed":
			page = "case"
		case "meetings-confirmed", "meetings-none":
			page = "meetings"
		case "written-statement-approved", "written-statement-none":
			page = "written-statement"
		case "response-decided", "response-none":
			page = "response"
		case "messages-closed":
			page = "messages"
		case "not-found-group":
			page = "not-found"
		case "problem-neutral":
			page = "problem"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			rec := httptest.NewRecorder()
			s.render(rec, httptest.NewRequest(http.MethodGet, "/", nil), http.StatusOK, page, data)
			if rec.Code != http.StatusOK {
				t.Fatalf("status %d: %s", rec.Code, rec.Body.String())
			}
			checkPage(t, rec.Body.String())
		})
	}
}

// checkPage holds a page's HTML to the promises of TestPagesRender.
func checkPage(t *testing.T, body string) {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	labels := map[string]bool{}
	var fields []string
	h1, titles := 0, 0
	var text strings.Builder
	var walk func(n *html.Node, inScriptOrStyle bool)
	walk = func(n *html.Node, skip bool) {
		if n.Type == html.TextNode && !skip {
			text.WriteString(n.Data + " ")
		}
		if n.Type == html.ElementNode {
			attr := map[string]string{}
			for _, a := range n.Attr {
				attr[a.Key] = a.Val
				if strings.HasPrefix(a.Key, "on") {
					t.Errorf("<%s> has an event handler attribute %s", n.Data, a.Key)
				}
				if a.Key == "style" {
					t.Errorf("<%s> has an inline style", n.Data)
				}
				if (a.Key == "href" || a.Key == "src" || a.Key == "action") && (strings.Contains(a.Val, "://") || strings.HasPrefix(a.Val, "//")) {
					t.Errorf("<%s %s=%q> points at another host", n.Data, a.Key, a.Val)
				}
			}
			if id, ok := attr["id"]; ok {
				if ids[id] {
					t.Errorf("id %q is used twice", id)
				}
				ids[id] = true
			}
			switch n.Data {
			case "h1":
				h1++
			case "title":
				titles++
				if n.FirstChild == nil || strings.TrimSpace(n.FirstChild.Data) == "" {
					t.Error("empty <title>")
				}
			case "style":
				t.Error("a <style> element")
			case "script":
				if attr["src"] == "" || n.FirstChild != nil {
					t.Error("an inline <script>")
				}
				if !regexp.MustCompile(`^/static/site\.[0-9a-f]{10}\.js$`).MatchString(attr["src"]) {
					t.Errorf("script %q is not a hashed static file", attr["src"])
				}
				skip = true
			case "link":
				if attr["rel"] == "stylesheet" && !regexp.MustCompile(`^/static/site\.[0-9a-f]{10}\.css$`).MatchString(attr["href"]) {
					t.Errorf("stylesheet %q is not a hashed static file", attr["href"])
				}
			case "label":
				labels[attr["for"]] = true
			case "input", "textarea", "select":
				if attr["type"] != "hidden" && attr["type"] != "submit" {
					fields = append(fields, attr["id"])
				}
			case "html":
				if attr["lang"] != "en-GB" {
					t.Errorf("<html lang=%q>", attr["lang"])
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c, skip)
		}
	}
	walk(doc, false)
	if h1 != 1 || titles != 1 {
		t.Errorf("%d h1 and %d title elements, want one of each", h1, titles)
	}
	for _, f := range fields {
		if f == "" || !labels[f] {
			t.Errorf("field %q has no label", f)
		}
	}
	words, reader := internalWords, "the client"
	if ids["my-work-link"] {
		words, reader = memberInternalWords, "a member"
	}
	if i := words.FindStringIndex(text.String()); i != nil {
		t.Errorf("the page says %q to %s: …%s", text.String()[i[0]:i[1]], reader, strings.Join(strings.Fields(text.String()[max(0, i[0]-120):i[1]]), " "))
	}
}

func newAPI(t *testing.T, base string, timeout time.Duration) *api.Client {
	t.Helper()
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	return api.New(u, timeout)
}
