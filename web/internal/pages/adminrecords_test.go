package pages

import (
	"encoding/json"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ipnmediation/disputes/platform/testenv"
	notificationv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/notification/v1"
	"github.com/ipnmediation/disputes/web/internal/session"
)

// sessionBrowser is a browser signed in as the demo member with the
// demo's access token sealed into the site's cookie, as the site seals a
// member session. The sign-in from the e-mailed link is tested by the
// members' long path; here it would race with it (and with any other
// subtest signing the same member in) for the links mailed to one
// address.
func sessionBrowser(t *testing.T, sys *system, web *Site, base, member string) *browser {
	t.Helper()
	value, err := web.sessions.Seal(session.Session{Token: sys.creds[member],
		MemberSession: "groups/riverside/members/" + member + "/sessions/test", Expiry: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t, base)
	u, _ := url.Parse(base)
	b.c.Jar.SetCookies(u, []*http.Cookie{{Name: web.sessions.CookieName(), Value: value, Path: "/"}})
	return b
}

// follow gets where a form's answer redirects, after checking it does.
func follow(t *testing.T, b *browser, what string, resp *http.Response, body, wantPrefix string) (*http.Response, string) {
	t.Helper()
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, wantPrefix) {
		t.Fatalf("%s: %d to %q, want a redirect to %s\n%s", what, resp.StatusCode, loc, wantPrefix, body)
	}
	return b.get(loc)
}

// adminRecords: the admins' pages for e-mails and records, and a case's
// access log, against the whole system. Alex Morgan is the group's admin
// and, in the case made here, the client's support person; Bea Lindqvist
// is neither an admin nor able to read the access log.
func adminRecords(t *testing.T, sys *system, web *Site, base string) {
	alex := sessionBrowser(t, sys, web, base, "alex-morgan")
	bea := sessionBrowser(t, sys, web, base, "bea-lindqvist")

	// A client raises a concern; Alex becomes their support person.
	const email, phone = "quinn.admin-records@client.example.net", "01632 960 417"
	client := newBrowser(t, base)
	_, body := client.get("/riverside/concern")
	resp, body := client.post("/riverside/concern", url.Values{"requestId": {match(t, requestIDRe, body)}, "practitioner": {"cal-reyes"},
		"description": {"Our sessions were moved without notice, twice."}, "clientName": {"Quinn"}, "email": {email}, "phone": {phone}})
	want(t, "confirmation", resp, body, 200, "Go to your case")
	clientCase := match(t, casePathRe, body)
	reference := match(t, referenceRe, body)
	caseID := strings.TrimPrefix(clientCase, "/riverside/cases/")
	caseName := "groups/riverside/cases/" + caseID
	memberCase := "/riverside/members/cases/" + caseID
	resp, body = client.get(clientCase)
	want(t, "the client's case", resp, body, 200, "Week 1 of 8")
	sys.rest(t, "cal-reyes", "POST", "/v1/"+caseName+":takeStep", map[string]any{"step": "nominate_spt", "member": "groups/riverside/members/eli-nakamura"})
	sys.rest(t, "eli-nakamura", "POST", "/v1/"+caseName+":takeStep", map[string]any{"step": "answer_spt_nomination", "outcome": "ACCEPTED"})
	sys.rest(t, "dana-holt", "POST", "/v1/"+caseName+":takeStep", map[string]any{"step": "appoint_spc_and_lp",
		"appointment": map[string]string{"spc": "groups/riverside/members/alex-morgan", "lp": "groups/riverside/members/bea-lindqvist"}})

	t.Run("not for members who are not admins", func(t *testing.T) {
		for _, p := range []string{"templates", "templates/statement-conveyed-spt", "deliveries", "deliveries?state=failed", "subject-access",
			"subject-access/" + caseID} {
			resp, body := bea.get("/riverside/members/admin/" + p)
			want(t, "a member opens "+p, resp, body, http.StatusForbidden, "This page is not for you")
		}
		for _, p := range []string{"templates/statement-conveyed-spt", "templates/statement-conveyed-spt/restore", "deliveries/retry-dead", "subject-access",
			"subject-access/" + caseID} {
			resp, body := bea.post("/riverside/members/admin/"+p, url.Values{"email": {email}, "subject": {"x"}})
			want(t, "a member posts "+p, resp, body, http.StatusForbidden, "This page is not for you")
			if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
				t.Errorf("a member downloaded %s", p)
			}
		}
	})

	t.Run("templates", func(t *testing.T) {
		const tpl = "/riverside/members/admin/templates/statement-conveyed-spt"
		resp, body := alex.get("/riverside/members/admin/templates")
		if strings.Contains(body, "An e-mail the group sends.") {
			t.Error("an e-mail the system sends has no words on the page")
		}
		want(t, "the e-mails", resp, body, 200, "A new concern", "To every active member, when a client raises a concern", `href="`+tpl+`"`, "The standard wording")
		resp, body = alex.get(tpl)
		want(t, "an e-mail's wording", resp, body, 200, "To the practitioner&#39;s support person", "{{.RecipientName}}", "the name of the person",
			`id="template-form"`, "The standard wording.")
		if strings.Contains(body, `id="restore-form"`) {
			t.Fatal("the standard wording offers to go back to the standard wording")
		}

		// Preview: the wording typed, rendered with sample values; what was
		// typed is kept.
		f := formValues(t, body, "template-form", "preview-button")
		f.Set("subject", "Passed on: a statement for {{.GroupName}}")
		resp, body = alex.post(tpl, f)
		want(t, "preview", resp, body, 200, "How it reads", `id="preview-subject">Passed on: a statement for Sample Group<`,
			`value="Passed on: a statement for {{.GroupName}}"`, "Dear Sample Member")

		// A wording that does not render is refused at its field, kept.
		bad := formValues(t, body, "template-form", "save")
		bad.Set("text-body", "Dear {{.Nobody}},")
		resp, body = alex.post(tpl, bad)
		want(t, "a wording refused", resp, body, http.StatusBadRequest, `href="#text-body"`, `id="text-body-error"`, "Dear {{.Nobody}},", "<title>Error: ")
		bad.Set("action", "preview")
		resp, body = alex.post(tpl, bad)
		want(t, "a preview refused", resp, body, http.StatusBadRequest, `id="text-body-error"`)

		// Save: once, however often it is sent; then back to the standard.
		save := formValues(t, body, "template-form", "save")
		save.Set("text-body", "")
		resp, body = alex.post(tpl, save)
		resp, body = follow(t, alex, "save", resp, body, tpl+"?done=saved")
		want(t, "saved", resp, body, 200, "The new wording is saved", "The group&#39;s own wording, set", `value="Passed on: a statement for {{.GroupName}}"`, `id="restore-form"`)
		if !strings.Contains(body, "Dear {{.RecipientName}}") {
			t.Error("the body, left empty, is not the standard wording after the save")
		}
		if again, _ := alex.post(tpl, save); again.StatusCode != http.StatusSeeOther || again.Header.Get("Location") != tpl+"?done=saved" {
			t.Errorf("the same form again: %d %s", again.StatusCode, again.Header.Get("Location"))
		}
		_, list := alex.get("/riverside/members/admin/templates")
		row := list[strings.Index(list, `id="template-statement-conveyed-spt"`):]
		if !strings.Contains(row[:strings.Index(row, "</li>")], "Your group's own wording") {
			t.Error("the list does not say the group changed the wording")
		}
		resp, body = alex.post(tpl+"/restore", formValues(t, body, "restore-form", "restore"))
		resp, body = follow(t, alex, "restore", resp, body, tpl+"?done=restored")
		want(t, "restored", resp, body, 200, "The standard wording is back", "The standard wording.")
		if strings.Contains(body, "Passed on: a statement") {
			t.Error("the group's wording is still there after going back to the standard")
		}
	})

	t.Run("deliveries", func(t *testing.T) {
		const log = "/riverside/members/admin/deliveries"
		testenv.Eventually(t, 30*time.Second, "the deliveries of the new concern in the log", func() bool {
			resp, body = alex.get(log)
			return resp.StatusCode == 200 && strings.Contains(body, "A new concern") && strings.Contains(body, "To Alex Morgan")
		})
		want(t, "the delivery log", resp, body, 200, `aria-current="page">All e-mails`, `href="`+log+`?state=failed"`, `id="deliveries"`)
		if strings.Contains(body, "Our sessions were moved") || strings.Contains(body, email) {
			t.Error("the delivery log shows the concern or the client's address")
		}
		// A next page shows when the subtests running alongside have
		// made more than a page's worth.
		if next := hrefOf("next-page").FindStringSubmatch(body); next != nil {
			resp, body := alex.get(html.UnescapeString(next[1]))
			want(t, "the next page", resp, body, 200, `id="first-page"`)
		}
		resp, body := alex.get(log + "?state=failed")
		want(t, "the failed ones", resp, body, 200, `aria-current="page">Only those that could not be delivered`, "Send again all that failed")
		if strings.Contains(body, "Sent</span>") {
			t.Error("the failed ones list an e-mail that was sent")
		}

		// No delivery dies here without a broken mail server: sending every
		// failed one again answers how many there were (none, most likely).
		resp, body = alex.post(log+"/retry-dead", formValues(t, body, "retry-dead-form", "retry-dead"))
		resp, body = follow(t, alex, "send again all", resp, body, log+"?state=failed&done=retried-all&count=")
		want(t, "after sending again", resp, body, 200, `id="banner"`, "sent again")
		resp, body = alex.get(log + "?page=%3Cnot-a-token%3E")
		want(t, "a page token of the wrong form", resp, body, http.StatusNotFound)
		resp, body = alex.post(log+"/00000000-0000-4000-8000-000000000000/retry", url.Values{})
		want(t, "sending again an e-mail there is not", resp, body, http.StatusNotFound)
	})

	t.Run("access log", func(t *testing.T) {
		resp, body := alex.get(memberCase + "/concern")
		want(t, "the support person reads the concern", resp, body, 200, "Our sessions were moved without notice", email)
		resp, body = alex.get(memberCase)
		want(t, "the case, to its support person", resp, body, 200, `id="page-access-log"`, `href="`+memberCase+`/access-log"`)
		resp, body = bea.get(memberCase)
		want(t, "the case, to the liaison person", resp, body, 200)
		if strings.Contains(body, `id="page-access-log"`) {
			t.Error("the liaison person, not an admin, is offered the access log")
		}
		resp, body = bea.get(memberCase + "/access-log")
		want(t, "the access log, to the liaison person", resp, body, http.StatusForbidden, "This page is not for you")
		resp, body = alex.get(memberCase + "/access-log")
		want(t, "the access log", resp, body, 200, "Who has read what", reference, "The concern as the client registered it",
			"The client&#39;s name and contact details", "Alex Morgan, as the client&#39;s support person")
		if strings.Contains(body, "Our sessions were moved") || strings.Contains(body, email) {
			t.Error("the access log shows what was read")
		}
	})

	t.Run("subject access", func(t *testing.T) {
		const search = "/riverside/members/admin/subject-access"
		resp, body := alex.get(search)
		want(t, "the search", resp, body, 200, `id="subject-access-form"`, "records your search in its access log")
		resp, body = alex.post(search, url.Values{"email": {""}, "phone": {""}})
		want(t, "nothing to search for", resp, body, http.StatusBadRequest, `href="#email"`, "Enter the person&#39;s e-mail address or telephone number")
		resp, body = alex.post(search, url.Values{"email": {"quinn at home"}, "phone": {"12"}})
		want(t, "malformed", resp, body, http.StatusBadRequest, `href="#email"`, `href="#phone"`, `value="quinn at home"`, `value="12"`)
		resp, body = alex.post(search, url.Values{"email": {"Nobody.Here@client.example.net"}})
		want(t, "nobody", resp, body, 200, "No case found")
		resp, body = alex.post(search, url.Values{"email": {"  " + strings.ToUpper(email) + " "}})
		want(t, "found", resp, body, 200, "1 case found", reference, "About Cal Reyes", `href="`+search+`/`+caseID+`"`)
		resp, body = alex.post(search, url.Values{"phone": {"+44 1632 960417"}})
		want(t, "found by telephone", resp, body, 200, "1 case found", reference)

		resp, body = alex.get(search + "/" + caseID)
		want(t, "what the export holds", resp, body, 200, "What the file holds", reference, `id="export-form"`)
		resp, body = alex.post(search+"/"+caseID, url.Values{})
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") ||
			!strings.HasPrefix(resp.Header.Get("Content-Disposition"), "attachment;") || resp.Header.Get("Cache-Control") != "no-store" {
			t.Fatalf("the export: %d %v\n%s", resp.StatusCode, resp.Header, body)
		}
		var export map[string]any
		if err := json.Unmarshal([]byte(body), &export); err != nil || export["registeredConcern"] == nil {
			t.Fatalf("the export is not the API's JSON: %v\n%s", err, body)
		}
		for _, s := range []string{"Our sessions were moved without notice, twice.", email, reference} {
			if !strings.Contains(body, s) {
				t.Errorf("the export lacks %q", s)
			}
		}
		resp, body = alex.get(memberCase + "/access-log")
		want(t, "the access log after", resp, body, 200, "exported for a request for their data", "compared in a search for a person&#39;s data")
	})
}

// hrefOf matches the href of the link with that id.
func hrefOf(id string) *regexp.Regexp { return regexp.MustCompile(`href="([^"]*)" id="` + id + `"`) }

// TestAdminRecordPagesRender renders the admins' pages for e-mails and
// records, and the access log, from fixed data, and holds each to the
// promises of TestPagesRender for members' pages.
func TestAdminRecordPagesRender(t *testing.T) {
	t.Parallel()
	s := newTestSite(t, "")
	m := &signedInMember{group: riverside}
	a := &signedInAdmin{signedInMember: m, Name: "Alex Morgan"}
	at := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	var tplErrs formErrors
	tplErrs.add("text-body", "Check this: template: no such field Nobody.")
	var searchErrs formErrors
	searchErrs.add("email", "Enter an e-mail address in the right form, like name@example.com")
	searchErrs.add("phone", "Enter a telephone number with at least 6 digits, like 01632 960 001")
	info := templateInfoFor("reminder")
	var ph []placeholder
	for _, f := range info.Fields {
		ph = append(ph, placeholder{Code: "{{." + f + "}}", Words: placeholderWords[f]})
	}
	pages := map[string]struct {
		page string
		data any
	}{
		"templates": {"admin-templates", adminTemplatesPage{layout: a.layout("E-mail wording"), BackPath: "/riverside/members/admin/",
			Templates: []templateRow{{ID: "reminder", Title: info.Title, Purpose: info.Purpose, Path: "/riverside/members/admin/templates/reminder", Changed: true}}}},
		"template": {"admin-template", adminTemplatePage{layout: a.layout(info.Title), Purpose: info.Purpose, Placeholders: ph,
			Subject: "Reminder from {{.GroupName}}", Text: "Dear {{.RecipientName}},", HTML: "<p>Dear {{.RecipientName}},</p>", Changed: true,
			UpdatedWords: "The group's own wording, set today.", FormID: newRequestID(), RestoreFormID: newRequestID(),
			Banner: &banner{Title: "The new wording is saved", Next: "From now on."},
			Preview: previewView(&notificationv1.RenderedMessage{Subject: "Reminder from Sample Group",
				TextBody: "Reference: groups/sample/cases/00000000-0000-4000-8000-000000000000", HtmlBody: "<p>groups/sample/cases/1</p>"})}},
		"template-errors": {"admin-template", adminTemplatePage{layout: layout{Title: info.Title, Group: riverside, SignedIn: true, Member: true, Errors: tplErrs},
			Text: "Dear {{.Nobody}},", PlainText: true, Problem: "We could not do this."}},
		"deliveries": {"admin-deliveries", adminDeliveriesPage{layout: a.layout("E-mails sent"), Failed: true, FormID: newRequestID(),
			Banner: deliveriesBanner(url.Values{"done": {"retried-all"}, "count": {"3"}}), NextPath: "/riverside/members/admin/deliveries?page=x",
			FirstPath: "/riverside/members/admin/deliveries",
			Rows: []deliveryRow{
				{ID: "d1", When: at, To: "Alex Morgan", What: "A new concern", State: "Sent", Attempts: 1, Sent: &at, CasePath: "/riverside/members/cases/c1"},
				{ID: "d2", When: at, To: "the client of the case", What: "A step taken in a case", State: "Could not be delivered", Attempts: 8, Dead: true,
					Why: "550 mailbox unavailable", RetryPath: "/riverside/members/admin/deliveries/d2/retry", FormID: newRequestID()},
			}}},
		"deliveries-none": {"admin-deliveries", adminDeliveriesPage{layout: a.layout("E-mails sent")}},
		"access-log": {"member-access-log", accessLogPage{layout: m.layout("Who has read what"), CasePath: "/riverside/members/cases/c1", Reference: "K7QM-3XRD",
			Rows: []accessRow{{Time: at, Who: "Alex Morgan, as the client's support person", What: accessKindWords["CONCERN"]}}}},
		"subject-access": {"admin-subject-access", subjectAccessPage{layout: a.layout("A person's data"), Searched: true, Email: "a@b.example",
			Found: []foundCase{{ID: "c1", Reference: "K7QM-3XRD", Practitioner: "Cal Reyes", Phase: "Open", ExportPath: "/x", AccessLogPath: "/y"}}}},
		"subject-access-errors": {"admin-subject-access", subjectAccessPage{layout: layout{Title: "A person's data", Group: riverside, SignedIn: true, Member: true,
			Errors: searchErrs}, Email: "nope", Phone: "12", Problem: "We could not search."}},
		"subject-access-none": {"admin-subject-access", subjectAccessPage{layout: a.layout("A person's data"), Searched: true}},
		"export":              {"admin-export", exportPage{layout: a.layout("Export a client's data"), Reference: "K7QM-3XRD", Action: "/x", Problem: "Ask another admin."}},
	}
	for name, p := range pages {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			rec := httptest.NewRecorder()
			s.render(rec, httptest.NewRequest(http.MethodGet, "/", nil), http.StatusOK, p.page, p.data)
			if rec.Code != http.StatusOK {
				t.Fatalf("status %d: %s", rec.Code, rec.Body.String())
			}
			checkPage(t, rec.Body.String())
		})
	}
}

// TestTemplateInfos: every e-mail notification sends has words here, and
// every placeholder named has its explanation.
func TestTemplateInfos(t *testing.T) {
	t.Parallel()
	for id, info := range templateInfos {
		if info.Title == "" || info.Purpose == "" || len(info.Fields) == 0 {
			t.Errorf("%s: %+v", id, info)
		}
		for _, f := range info.Fields {
			if placeholderWords[f] == "" {
				t.Errorf("%s: no words for the placeholder %s", id, f)
			}
		}
	}
	if got := templateInfoFor("new-kind").Title; got != "New kind" {
		t.Errorf("an e-mail without words is called %q", got)
	}
}
