package browsertest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/ipnmediation/disputes/platform/testenv"
)

// TestBrowser walks a client's case through the website in Chromium, with
// JavaScript and without, against the whole system: the members' steps in
// between go over REST. Then the long path (walkLongPath), with nothing
// over REST: the client and every member on their pages. Every page is
// checked (see tab.check) and, in the walks with JavaScript, saved as
// screenshots into SCREENSHOTS (make screenshots: docs/screenshots), or
// else a temporary folder that is kept when the test fails.
func TestBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the whole system and Chromium")
	}
	sys := startSystem(t)
	axe, err := os.ReadFile(filepath.Join(sys.root, "tools/node_modules/axe-core/axe.min.js"))
	if err != nil {
		t.Fatalf("axe-core, pinned in tools/package.json, is not installed (make tools, or cd tools && npm ci): %v", err)
	}
	shots := screenshotFolder(t)
	b := startChrome(t)

	// Another client's concern: no page of this client's may ever show
	// its words.
	other := "OTHERCLIENT" + random()
	sys.rest(t, "", http.MethodPost, "/v1/groups/riverside/concerns", map[string]any{
		"practitioner": member("bea-lindqvist"), "description": "My sessions were cancelled " + other,
		"clientName": "Kim " + other, "clientContact": map[string]string{"email": "kim@client.example.net"},
	})

	t.Run("journeys", func(t *testing.T) {
		t.Run("with JavaScript", func(t *testing.T) {
			t.Parallel()
			tb := b.newTab(t, sys.WebURL(), true, string(axe), shots)
			tb.hideNever(other)
			walk(t, sys, tb)
		})
		t.Run("without JavaScript", func(t *testing.T) {
			t.Parallel()
			tb := b.newTab(t, sys.WebURL(), false, string(axe), "")
			tb.hideNever(other)
			walk(t, sys, tb)
		})
	})

	// The members' long path, on a case of its own: every member on their
	// pages, signed in from the mail.
	t.Run("long path", func(t *testing.T) {
		t.Run("with JavaScript", func(t *testing.T) {
			t.Parallel()
			walkLongPath(t, sys, b, true, string(axe), shots)
		})
		t.Run("without JavaScript", func(t *testing.T) {
			t.Parallel()
			walkLongPath(t, sys, b, false, string(axe), "")
		})
	})

	// After the journeys: the edges stop the gateway for a while.
	t.Run("edges", func(t *testing.T) {
		tb := b.newTab(t, sys.WebURL(), true, string(axe), shots)
		edges(t, sys, tb)
	})
}

// screenshotFolder is SCREENSHOTS, or a temporary folder that is removed
// unless the test fails.
func screenshotFolder(t *testing.T) string {
	t.Helper()
	if dir := os.Getenv("SCREENSHOTS"); dir != "" {
		compactShots = true
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	dir, err := os.MkdirTemp("", "web-screenshots-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("the screenshots are in %s", dir)
			return
		}
		os.RemoveAll(dir)
	})
	return dir
}

func random() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return strings.ToUpper(hex.EncodeToString(b))
}

// caseHidden are the names a client must not read on their case's pages:
// the practitioner's support person and the liaison person are for the
// members to know.
var caseHidden = []string{"Bea Lindqvist", "Eli Nakamura"}

// walk is one client's journey, by clicking and typing: the group's page,
// the concern with an error first, the confirmation, signing out and in
// again, then each page of the case as the members act, and withdrawing
// a second concern.
func walk(t *testing.T, sys *system, tb *tab) {
	note := "MEMBERSNOTE" + random()
	tb.hideNever(note)

	tb.open("/")
	tb.check(page{name: "home", public: true, see: []string{"use the link the group gave you"}})
	tb.open("/riverside")
	tb.check(page{name: "group", public: true, see: []string{"Riverside Practitioners (demo)", "Raise a concern", "Come back to your concern", "within 8 weeks"}})
	tb.clickCSS(`main a[href="/riverside/statement"]`)
	tb.check(page{name: "ethical-statement", public: true, see: []string{"Confidentiality"}})
	tb.clickCSS(`main a[href="/riverside/"]`)
	tb.click("raise-concern")
	tb.check(page{name: "concern-form", see: []string{"What happens next", "Which practitioner is your concern about?", "Cal Reyes", "Send your concern"}})

	// One error first: the summary, and everything typed kept.
	description := "Our sessions <stopped> without a word.\nI was told by text message."
	tb.choose("practitioner-cal-reyes")
	tb.typeInto("description", description)
	tb.click("send")
	tb.check(page{name: "concern-error", status: 400, see: []string{"Please check your answers", "Enter your name"}})
	if got := tb.value("description"); got != description {
		t.Errorf("the form with errors lost the words typed: %q, want %q", got, description)
	}
	if !eval[bool](tb, `document.getElementById("practitioner-cal-reyes").checked`) {
		t.Error("the form with errors lost the practitioner chosen")
	}
	if title := eval[string](tb, `document.title`); !strings.HasPrefix(title, "Error: ") {
		t.Errorf("the title of the form with errors is %q, want it to start with Error:", title)
	}
	if links := eval[[]string](tb, `[...document.querySelectorAll("#error-summary a")].map(a => a.getAttribute("href"))`); !slices.Contains(links, "#client-name") {
		t.Errorf("the error summary links to %v, want the name field among them", links)
	}
	tb.typeInto("client-name", "Jo Client")
	tb.typeInto("email", "jo@client.example.net")
	tb.click("send")
	tb.check(page{name: "confirmation", see: []string{"Your concern has been sent", "We show the access code only this once", "If you lose your access code"}})
	reference, code := tb.text("reference"), tb.text("access-code")
	if len(reference) < 8 || len(code) < 26 {
		t.Fatalf("the confirmation shows the reference %q and the code %q", reference, code)
	}
	saved := tb.download("save-file")
	if !strings.Contains(saved, reference) || !strings.Contains(saved, code) {
		t.Errorf("the text file saved lacks the reference or the code:\n%s", saved)
	}
	// From now on no page shows the access code, nor the concern's words
	// on a page that is not the client's own.
	tb.hideNever(code, strings.ReplaceAll(code, "-", ""))
	casePath := eval[string](tb, `document.getElementById("go-to-case").getAttribute("href")`)
	caseName := "groups/riverside/cases/" + strings.TrimPrefix(casePath, "/riverside/cases/")
	sys.caseOpened(t, caseName)
	tb.click("go-to-case")
	tb.check(page{name: "case-new", see: []string{reference, "Week 1 of 8", "The group is choosing your support person", "fair to you both"}, hidden: caseHidden})
	tb.sessionCookieHidden()

	// Sign out, then back in with a wrong code, and with the reference and
	// code typed as a person might.
	tb.click("sign-out")
	tb.check(page{name: "signed-out", see: []string{"You have signed out"}})
	tb.click("sign-in-again")
	tb.check(page{name: "sign-in", see: []string{"Reference", "Access code"}})
	messyReference := " " + strings.ToLower(strings.ReplaceAll(reference, "-", " ")) + " "
	wrong := []byte(strings.ReplaceAll(code, "-", ""))
	wrong[0] = map[bool]byte{true: 'B', false: 'A'}[wrong[0] == 'A']
	tb.typeInto("reference", messyReference)
	tb.typeInto("access-code", string(wrong))
	tb.click("sign-in")
	tb.check(page{name: "sign-in-error", status: 401, see: []string{"Please check your answers", "The reference or the access code is not right",
		"If you have lost it, ask the group"}})
	if tb.value("reference") == "" || tb.value("access-code") != "" {
		t.Errorf("after a wrong code the form shows reference %q and code %q; want the reference kept and the code empty", tb.value("reference"), tb.value("access-code"))
	}
	if !tb.has("reference-error") || !tb.has("access-code-error") {
		t.Error("after a wrong code, the reference and the access code are not both marked")
	}
	messyCode := strings.ToLower(strings.ReplaceAll(code, "-", " - "))
	if tb.script {
		tb.keyboardSignIn(messyCode)
	} else {
		tb.typeInto("access-code", messyCode)
		tb.click("sign-in")
	}
	if loc := tb.where(); loc != tb.site.String()+casePath {
		t.Fatalf("signing in led to %s, want the case %s", loc, casePath)
	}
	tb.check(page{name: "case-signed-in", see: []string{reference}, hidden: caseHidden})

	// The members appoint the support people; the client's support
	// person writes a note only members read.
	sys.step(t, "cal-reyes", caseName, "nominate_spt", map[string]any{"member": member("eli-nakamura")})
	sys.step(t, "eli-nakamura", caseName, "answer_spt_nomination", map[string]any{"outcome": "ACCEPTED"})
	sys.step(t, "dana-holt", caseName, "appoint_spc_and_lp", map[string]any{"appointment": map[string]string{"spc": member("alex-morgan"), "lp": member("bea-lindqvist")}})
	sys.rest(t, "alex-morgan", http.MethodPost, "/v1/"+caseName+"/notes", map[string]string{"text": "The client seemed anxious " + note})
	tb.open(casePath)
	tb.check(page{name: "case-support", see: []string{"Alex Morgan"}, hidden: caseHidden})

	// Meetings: an offer, answered without a choice first, then a time.
	day := time.Now().UTC().Add(8 * 24 * time.Hour).Truncate(24 * time.Hour)
	slot := func(from time.Duration) map[string]string {
		return map[string]string{"startTime": day.Add(from).Format(time.RFC3339), "endTime": day.Add(from + time.Hour).Format(time.RFC3339)}
	}
	sys.step(t, "alex-morgan", caseName, "offer_client_meeting", map[string]any{"meetingProposal": map[string]any{
		"slots": []any{slot(10 * time.Hour), slot(14 * time.Hour)}, "location": "The group's room, 3 Mill Lane"}})
	tb.open(casePath)
	tb.check(page{name: "case-meeting-offered", see: []string{"What you need to do"}, hidden: caseHidden})
	tb.click("todo-meetings")
	tb.check(page{name: "meetings-offer", see: []string{"Which time would you like?", "3 Mill Lane", "None of these times suit me", "You and Alex Morgan, your support person."}, hidden: caseHidden})
	tb.click("send-answer")
	tb.check(page{name: "meetings-error", status: 400, see: []string{"Please check your answers"}, hidden: caseHidden})
	tb.choose("answer-slot-1")
	tb.click("send-answer")
	tb.check(page{name: "meetings-accepted", see: []string{"You have accepted a time to meet", "Add to your calendar"}, hidden: caseHidden})
	if ics := tb.download("calendar-client"); !strings.Contains(ics, "BEGIN:VCALENDAR") {
		t.Errorf("the calendar file is not a calendar:\n%s", ics)
	}

	// Messages with the support person.
	tb.click("back-to-case")
	tb.click("page-messages")
	tb.check(page{name: "messages-empty", see: []string{"Only you and Alex Morgan", "No messages yet."}, hidden: caseHidden})
	tb.typeInto("message", "Thank you.\nTuesdays suit me best.")
	tb.click("send-message")
	sys.rest(t, "alex-morgan", http.MethodPost, "/v1/"+caseName+"/messages", map[string]string{"text": "Tuesday it is."})
	tb.open(casePath + "/messages")
	tb.check(page{name: "messages", see: []string{"Tuesdays suit me best.", "Tuesday it is."}, hidden: caseHidden})

	// The written statement: changes asked for, then the new version
	// approved with limits.
	statement := func(version string) {
		sys.step(t, "alex-morgan", caseName, "write_statement", map[string]any{"writtenStatement": map[string]string{
			"concern":        "Jo's sessions ended without a word, at the room on Mill Lane. " + version,
			"desiredOutcome": "An explanation.",
			"summary":        "Sessions ended without explanation."}})
	}
	statement("First version.")
	tb.open(casePath)
	tb.click("todo-written-statement")
	tb.check(page{name: "written-statement", see: []string{"What your concern is", "First version.", "Is this right?"}, hidden: caseHidden})
	tb.choose("answer-changes")
	tb.click("continue")
	tb.check(page{name: "statement-changes", see: []string{"Ask for changes"}, hidden: caseHidden})
	tb.typeInto("comment", "The room was on Mill Lane, not the High Street.")
	tb.click("send")
	tb.check(page{name: "statement-changes-sent", see: []string{"You have asked for changes"}, hidden: caseHidden})
	statement("Second version.")
	tb.open(casePath + "/written-statement")
	tb.choose("answer")
	tb.click("continue")
	tb.check(page{name: "statement-limits", see: []string{"What may the practitioner read?"}, hidden: caseHidden})
	tb.choose("sharing-summary")
	tb.typeInto("withheld", "Mill Lane")
	tb.typeInto("other", "Please do not mention my work.")
	tb.click("continue")
	tb.check(page{name: "statement-check", see: []string{"Only the shorter account", "Mill Lane", "Approve and send"}, hidden: caseHidden})
	tb.click("approve")
	tb.check(page{name: "statement-approved", see: []string{"You have approved what your support person wrote", "You approved this"}, hidden: caseHidden})

	// The practitioner's response, relayed; the client asks to meet.
	sys.step(t, "alex-morgan", caseName, "convey_statement", nil)
	sys.step(t, "cal-reyes", caseName, "record_response", map[string]any{"text": map[string]string{"text": "I am sorry.\n\nI should have explained why our sessions ended."}})
	sys.step(t, "alex-morgan", caseName, "relay_response", nil)
	tb.open(casePath)
	tb.click("todo-response")
	tb.check(page{name: "response", see: []string{"I am sorry.", "Does this resolve your concern?"}, hidden: caseHidden})
	tb.choose("decision-JOINT_MEETING")
	tb.click("continue")
	tb.check(page{name: "decision-check", see: []string{"No, and I would like to meet the practitioner", "you cannot change it"}, hidden: caseHidden})
	tb.click("send")
	tb.check(page{name: "decided", see: []string{"You have asked to meet the practitioner"}, hidden: caseHidden})

	// The joint meeting: the times the client can make.
	sys.step(t, "alex-morgan", caseName, "arrange_joint_meeting", map[string]any{"meetingProposal": map[string]any{
		"slots": []any{slot(58 * time.Hour), slot(62 * time.Hour)}, "location": "Video call"}})
	tb.open(casePath + "/meetings")
	tb.check(page{name: "meetings-joint", see: []string{"Which of these times can you make?"}, hidden: caseHidden})
	tb.choose("slots")
	tb.choose("slots-1")
	tb.click("send-joint-answer")
	tb.check(page{name: "meetings-joint-answered", see: []string{"Your answer has been sent", "Alex Morgan (your support person)"}, hidden: caseHidden})
	// What the client just answered, and may still change, comes first,
	// above their older meeting with the support person.
	if !eval[bool](tb, `!!(document.getElementById("meeting-joint").compareDocumentPosition(document.getElementById("meeting-client")) & Node.DOCUMENT_POSITION_FOLLOWING)`) {
		t.Error("the meeting with the practitioner, just answered, is not first on the meetings page")
	}
	tb.open(casePath)
	tb.check(page{name: "case-late", see: []string{"You asked for a meeting with the practitioner."}, hidden: caseHidden})

	// A second concern, withdrawn: its confirmation signs in to it.
	tb.open("/riverside/concern")
	tb.choose("practitioner-fran-okafor")
	tb.typeInto("description", "A second concern, about a group I joined.")
	tb.typeInto("client-name", "Jo Client")
	tb.typeInto("phone", "01632 960 002")
	tb.click("send")
	second := eval[string](tb, `document.getElementById("go-to-case").getAttribute("href")`)
	sys.caseOpened(t, "groups/riverside/cases/"+strings.TrimPrefix(second, "/riverside/cases/"))
	tb.click("go-to-case")
	tb.click("withdraw")
	tb.check(page{name: "withdraw", see: []string{"You can stop at any time", "Withdraw my concern"}})
	tb.click("confirm-withdraw")
	tb.check(page{name: "withdrawn", see: []string{"You withdrew your concern"}})
	if tb.has("withdraw") {
		t.Error("a withdrawn case still offers to withdraw")
	}
}

// edges are the pages for what goes wrong: an unknown page, a session
// that no longer opens, a cross-site post, and the API down.
func edges(t *testing.T, sys *system, tb *tab) {
	tb.open("/riverside/nothing-here")
	tb.check(page{name: "not-found", status: 404, public: true, see: []string{"Page not found", "Riverside Practitioners (demo)"}})
	if !tb.has("back-to-group") {
		t.Error("a page not found in a group has no link back to the group's page")
	}
	tb.open("/nowhere/nothing-here")
	tb.check(page{name: "not-found-no-group", status: 404, public: true, see: []string{"Page not found", "use the link the group gave you"}})

	// A session cookie the site cannot open any more (sealed under a key
	// it no longer has): the page says so, and the cookie is deleted.
	if _, err := chromedp.Call(tb.ctx, network.SetCookie, network.SetCookieParams{
		Name: "session", Value: "enc:v1:k1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", URL: tb.site.String() + "/", HTTPOnly: new(true),
	}); err != nil {
		t.Fatal(err)
	}
	tb.open("/riverside/cases/0b0c5a43-4b53-4a8e-9d0e-1b2f7b1c9a11")
	tb.check(page{name: "session-ended", status: 401, see: []string{"You have been signed out", "Sign in again"}})

	// A page on another site posts a form to this one: the browser says
	// where it comes from, and the site refuses it.
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `<!doctype html><html lang="en"><title>Elsewhere</title><link rel="icon" href="data:,"><form method="post" action="%s/riverside/concern">
<input type="hidden" name="practitioner" value="cal-reyes"><input type="hidden" name="description" value="Sent from elsewhere">
<input type="hidden" name="clientName" value="Nobody"><input type="hidden" name="email" value="nobody@elsewhere.example">
<button id="post">Post</button></form>`, html.EscapeString(tb.site.String()))
	}))
	t.Cleanup(evil.Close)
	// localhost and 127.0.0.1 are different sites to the browser.
	elsewhere := strings.Replace(evil.URL, "127.0.0.1", "localhost", 1)
	tb.load(chromedp.Navigate(elsewhere))
	tb.forgetRequests()
	tb.click("post")
	tb.check(page{name: "cross-site-refused", status: 403, see: []string{"did not come from this website"}})
	if fetch := tb.requestHeader("Sec-Fetch-Site"); fetch != "cross-site" {
		t.Errorf("the browser sent Sec-Fetch-Site %q, want cross-site", fetch)
	}

	// The API down: a calm page, and the site back once the API is.
	gateway := sys.Proc("gateway")
	if err := gateway.Stop(15 * time.Second); err != nil {
		t.Fatal(err)
	}
	// The website read the group before: the page names it, and links
	// back. A group it never read cannot be named. The website keeps the
	// group for 10 s (its cache of what anyone may read), so the group's
	// page may still show for those seconds.
	testenv.Eventually(t, 30*time.Second, "the page for the API down", func() bool {
		tb.open("/riverside/")
		return tb.status() == http.StatusServiceUnavailable
	})
	tb.check(page{name: "unavailable", status: 503, see: []string{"try again in a few minutes", "Riverside Practitioners (demo)"}})
	if !tb.has("back-to-group") {
		t.Error("the page for the API down has no link back to the group's page")
	}
	tb.open("/hillside/")
	tb.check(page{name: "unavailable-no-group", status: 503, see: []string{"try again in a few minutes", "use the link the group gave you"}})
	if _, err := sys.Start("gateway"); err != nil {
		t.Fatal(err)
	}
	if err := sys.WaitReady(context.Background(), "gateway"); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 30*time.Second, "the group's page back", func() bool {
		tb.open("/riverside/")
		return tb.status() == http.StatusOK
	})
}

// clickCSS clicks the first element the CSS selector matches and waits for
// the page it leads to.
func (tb *tab) clickCSS(selector string) {
	tb.t.Helper()
	tb.load(chromedp.Click(chromedp.CSS(selector)))
}

// keyboardSignIn signs in on the sign-in page with the keyboard alone:
// Tab until the access code's field has the focus, the code typed, Enter.
func (tb *tab) keyboardSignIn(code string) {
	tb.t.Helper()
	for range 20 {
		if eval[string](tb, `document.activeElement ? document.activeElement.id : ""`) == "access-code" {
			tb.do(chromedp.KeyEvent(code))
			tb.load(chromedp.KeyEvent(kb.Enter))
			return
		}
		tb.do(chromedp.KeyEvent(kb.Tab))
	}
	tb.t.Fatal("twenty presses of Tab did not reach the access code's field")
}

// sessionCookieHidden checks that the session cookie is there, HttpOnly
// and SameSite=Lax, and that the page's script cannot read it.
func (tb *tab) sessionCookieHidden() {
	tb.t.Helper()
	res, err := chromedp.Call(tb.ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{tb.site.String() + "/"}})
	if err != nil {
		tb.t.Fatal(err)
	}
	found := false
	for _, c := range res.Cookies {
		if c.Name != "session" {
			tb.t.Errorf("a cookie other than the session: %s", c.Name)
			continue
		}
		found = true
		if !c.HTTPOnly || c.SameSite != network.CookieSameSiteLax {
			tb.t.Errorf("the session cookie is HttpOnly=%v SameSite=%q, want HttpOnly and Lax", c.HTTPOnly, c.SameSite)
		}
	}
	if !found {
		tb.t.Fatal("no session cookie once signed in")
	}
	if tb.script {
		if jar := eval[string](tb, `document.cookie`); jar != "" {
			tb.t.Errorf("document.cookie shows %q, want nothing", jar)
		}
	}
}

// download clicks the element with the id, which starts a download, and
// returns the file downloaded.
func (tb *tab) download(id string) string {
	tb.t.Helper()
	dir := tb.t.TempDir()
	if _, err := chromedp.CallBrowser(tb.ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
		Behavior: browser.SetDownloadBehaviorBehaviorAllow, BrowserContextID: chromedp.FromContext(tb.ctx).BrowserContextID, DownloadPath: dir,
	}); err != nil {
		tb.t.Fatal(err)
	}
	tb.do(chromedp.Click(chromedp.ID(id)))
	var body string
	testenv.Eventually(tb.t, 30*time.Second, "the download of "+id, func() bool {
		files, _ := filepath.Glob(filepath.Join(dir, "*"))
		for _, f := range files {
			if strings.HasSuffix(f, ".crdownload") {
				continue
			}
			b, err := os.ReadFile(f)
			if err == nil && len(b) > 0 {
				body = string(b)
				return true
			}
		}
		return false
	})
	return body
}

// status is the HTTP status of the page the tab shows.
func (tb *tab) status() int {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	if tb.doc == nil {
		return 0
	}
	return int(tb.doc.Status)
}

// requestHeader is a header the browser sent for the page the tab shows.
func (tb *tab) requestHeader(name string) string {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	for k, v := range tb.sent[tb.docID] {
		if strings.EqualFold(k, name) {
			s, _ := v.(string)
			return s
		}
	}
	return ""
}

// forgetRequests forgets the requests made so far, after a page of
// another site that the test loaded on purpose.
func (tb *tab) forgetRequests() {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	tb.elsewhere = nil
}
