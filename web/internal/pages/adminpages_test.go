package pages

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ipnmediation/disputes/platform/testenv"
)

// The admins' pages of the directory's side (members, link groups, the
// ethical statement, the settings) and a member's own sign-ins, against
// the whole system. Each person signs in from the e-mailed link in a
// browser of their own whose visitor address is one of the documentation
// addresses, so that the directory's per-network limit on sign-in links
// counts these sign-ins apart from the other subtests'.

// forwardingTransport adds the visitor's address a proxy would.
type forwardingTransport struct{ addr string }

func (f forwardingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("X-Forwarded-For", f.addr)
	return http.DefaultTransport.RoundTrip(r)
}

// adminSide signs people in to a site that believes the test's
// X-Forwarded-For.
type adminSide struct {
	t    *testing.T
	sys  *system
	base string
	mu   sync.Mutex
	seen map[string]bool
}

// signIn is a new browser, at visitor address addr, signed in as the
// member with that e-mail address from the link the directory mails.
func (as *adminSide) signIn(email, addr string) *browser {
	t := as.t
	t.Helper()
	b := newBrowser(t, as.base)
	b.c.Transport = forwardingTransport{addr}
	resp, body := b.post("/riverside/members/sign-in", url.Values{"email": {email}})
	want(t, email+" asks for a link", resp, body, 200, "Check your e-mail")
	var secret string
	testenv.Eventually(t, 30*time.Second, "the sign-in mail to "+email, func() bool {
		msgs, err := as.sys.mail.Messages(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		as.mu.Lock()
		defer as.mu.Unlock()
		for _, msg := range msgs {
			if as.seen[msg.ID] || !slices.ContainsFunc(msg.To, func(a testenv.Address) bool { return a.Address == email }) ||
				!strings.HasPrefix(msg.Subject, "Your link to sign in") {
				continue
			}
			mb, err := as.sys.mail.Body(context.Background(), msg.ID)
			if err != nil {
				t.Fatal(err)
			}
			if found := signInMailSecret.FindStringSubmatch(mb.Text); found != nil {
				as.seen[msg.ID] = true
				secret = found[1]
				return true
			}
		}
		return false
	})
	resp, _ = b.post("/riverside/sign-in/"+secret, url.Values{})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/riverside/members/" {
		t.Fatalf("%s signs in: %d %s", email, resp.StatusCode, resp.Header.Get("Location"))
	}
	return b
}

// sent posts form to path and expects a redirect to where (a prefix), which
// it then opens and expects to say every snippet.
func sent(t *testing.T, b *browser, what, path string, form url.Values, where string, snippets ...string) string {
	t.Helper()
	resp, body := b.post(path, form)
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), where) {
		t.Fatalf("%s: %d %s, want a redirect to %s\n%s", what, resp.StatusCode, resp.Header.Get("Location"), where, body)
	}
	next := resp.Header.Get("Location")
	resp, body = b.get(next)
	want(t, what+": "+next, resp, body, 200, snippets...)
	return next
}

// opened gets path and returns the form formID as the browser would send
// it with the button submit.
func opened(t *testing.T, b *browser, path, formID, submit string, snippets ...string) url.Values {
	t.Helper()
	resp, body := b.get(path)
	want(t, path, resp, body, 200, append(snippets, `id="`+formID+`"`)...)
	return formValues(t, body, formID, submit)
}

// adminPages walks the admins' pages as alex-morgan, the demo group's only
// admin, and a member's own sign-ins as bea-lindqvist, who is not an admin.
func adminPages(t *testing.T, sys *system) {
	site := serveSite(t, newTestSite(t, sys.GatewayURL(), func(o *Options) {
		o.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
	}))
	as := &adminSide{t: t, sys: sys, base: site.URL, seen: map[string]bool{}}
	const admin = "/riverside/members/admin/"
	alex := as.signIn("alex.morgan@riverside.example.org", "198.51.100.21")

	resp, body := alex.get("/riverside/members/")
	want(t, "My work", resp, body, 200, `id="sessions-link"`, `href="/riverside/members/sessions"`, `id="admin-link"`)

	t.Run("members", func(t *testing.T) {
		// Invite: what is missing, then a member.
		f := opened(t, alex, admin+"members/new", "invite-form", "send-invite", "members' sign-in page")
		f.Set("email", "gil.ashby")
		resp, body := alex.post(admin+"members/new", f)
		want(t, "invite with errors", resp, body, 400, "Please check your answers", `href="#name"`, "Enter their name",
			`value="gil.ashby"`, "Enter an e-mail address in the right form", "<title>Error: ")
		f.Set("name", "Gil Ashby")
		f.Set("email", "gil.ashby@riverside.example.org")
		gilPath := sent(t, alex, "invite", admin+"members/new", f, admin+"members/gil-ashby",
			"Gil Ashby is now a member", `href="/riverside/members/sign-in"`, "gil.ashby@riverside.example.org", "Not signed in anywhere just now")
		gilPath = strings.Split(gilPath, "?")[0]
		// The form sent again (a double click) adds no second member.
		if resp, _ := alex.post(admin+"members/new", f); resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), gilPath+"?") {
			t.Errorf("the invite sent twice: %d %s", resp.StatusCode, resp.Header.Get("Location"))
		}
		resp, body = alex.get(admin + "members")
		want(t, "members", resp, body, 200, "Gil Ashby", "Bea Lindqvist", `href="`+gilPath+`"`, `id="invite-member"`)
		if strings.Contains(body, "gil-ashby-2") {
			t.Error("the invite sent twice added a second member")
		}

		// Gil signs in; Alex ends Gil's sign-ins, and Gil is signed out.
		gil := as.signIn("gil.ashby@riverside.example.org", "198.51.100.23")
		resp, body = gil.get("/riverside/members/sessions")
		want(t, "Gil's sign-ins", resp, body, 200, "This device")
		f = opened(t, alex, gilPath, "end-sign-ins-form", "end-sign-ins", "Signed in 1 time now")
		sent(t, alex, "end Gil's sign-ins", gilPath+"/end-sign-ins", f, gilPath+"?done=sessions-ended", "You have ended Gil Ashby", "Not signed in anywhere just now")
		resp, body = gil.get("/riverside/members/sessions")
		want(t, "Gil after their sign-ins ended", resp, body, 401, "You have been signed out")

		// Deactivating: what it means first, then the list says so.
		f = opened(t, alex, gilPath+"/deactivate", "confirm-form", "confirm", "Deactivate Gil Ashby?", "can no longer sign in", "stays on record")
		sent(t, alex, "deactivate Gil", gilPath+"/deactivate", f, admin+"members?done=deactivated", "The member has been deactivated", "Left on ")
		resp, body = alex.get(gilPath)
		want(t, "Gil after leaving", resp, body, 200, "Left on ")
		if strings.Contains(body, `id="deactivate"`) {
			t.Error("a member who left can be deactivated again")
		}

		// Alex is the group's only admin: the directory refuses, in plain words.
		f = opened(t, alex, admin+"members/alex-morgan/deactivate", "confirm-form", "confirm", "This is you")
		resp, body = alex.post(admin+"members/alex-morgan/deactivate", f)
		want(t, "the last admin deactivated", resp, body, 409, "This was not done", "Alex Morgan is the group&#39;s only admin", "make another member an admin first")
		resp, body = alex.get(admin + "members/alex-morgan")
		want(t, "Alex still here", resp, body, 200, "Active", `id="own-sessions"`)
	})

	t.Run("link groups", func(t *testing.T) {
		resp, body := alex.get(admin + "link-groups")
		want(t, "link groups", resp, body, 200, "Hillside IPN Group (demo)", "Moorland IPN Group (demo)", "hillside.contact@example.org",
			"has its two link groups", `href="`+admin+`link-groups/hillside/remove"`)
		// A third is refused, whatever the form (a page opened before the
		// second was added, say) says.
		third := url.Values{"formId": {newRequestID()}, "kind": {"external"}, "name": {"Valley IPN Group"}, "email": {"valley@example.org"}}
		resp, body = alex.post(admin+"link-groups", third)
		want(t, "a third link group", resp, body, 409, "This was not done", "Your group has its two link groups already", "remove one of them first")
		third.Set("kind", "local")
		third.Set("address", "http://127.0.0.1:7190/nowhere/")
		third.Set("formId", newRequestID())
		resp, body = alex.post(admin+"link-groups", third)
		want(t, "a group not on this website", resp, body, 400, "Please check your answers", "There is no group at that address", `value="http://127.0.0.1:7190/nowhere/"`)
		third.Set("address", "/riverside/")
		resp, body = alex.post(admin+"link-groups", third)
		want(t, "the group itself", resp, body, 400, "That is your own group")
		// Removing says what it means first (and is not done here: the
		// other subtests' cases tell the demo's link groups).
		resp, body = alex.get(admin + "link-groups/hillside/remove")
		want(t, "remove a link group", resp, body, 200, "Remove Hillside IPN Group (demo)?", "told nothing more", `id="confirm-form"`)
		resp, body = alex.get(admin + "link-groups/nowhere/remove")
		want(t, "remove no link group", resp, body, 404, "Page not found")
	})

	t.Run("statement", func(t *testing.T) {
		resp, body := alex.get(admin + "statement")
		want(t, "statement versions", resp, body, 200, "Version 1", "In force", `id="draft-new"`)
		f := opened(t, alex, admin+"statement/new", "statement-draft-form", "save-draft", "This starts from version 1", `value="Confidentiality"`,
			"What clients tell us stays between us and them")
		sections := f.Get("sections")
		last := "section-" + strconv.Itoa(atoi(t, sections)-1)
		// Text without a title after the first section would run into the
		// one before: the form says so, and keeps what was typed.
		f.Set(last+"-text", "Tell the group's contact if this website lets you down.")
		resp, body = alex.post(admin+"statement/new", f)
		want(t, "a section without a title", resp, body, 400, "Please check your answers", `href="#`+last+`-title"`, "give it a title",
			"Tell the group&#39;s contact if this website lets you down.")
		f.Set(last+"-title", "This website")
		sent(t, alex, "draft", admin+"statement/new", f, admin+"statement/2?done=drafted",
			"Version 2 is saved as a draft", "<h2>Confidentiality</h2>", "What clients tell us stays between us and them", "<h2>This website</h2>",
			"Tell the group&#39;s contact if this website lets you down.", `id="publish"`)
		resp, body = alex.get("/riverside/statement")
		if strings.Contains(body, "This website</h2>") {
			t.Error("the public statement shows a draft")
		}
		publish := opened(t, alex, admin+"statement/2/publish", "confirm-form", "confirm", "Publish version 2?", "replaced")
		sent(t, alex, "publish", admin+"statement/2/publish", publish, admin+"statement?done=published", "The new version is published", "Replaced")
		resp, body = newBrowser(t, site.URL).get("/riverside/statement")
		want(t, "the public statement", resp, body, 200, "(version 2)", "<h2>This website</h2>", "<h2>Confidentiality</h2>", "What clients tell us stays between us and them")
		// Published already: the directory refuses, in plain words.
		publish.Set("formId", newRequestID())
		resp, body = alex.post(admin+"statement/2/publish", publish)
		want(t, "publish again", resp, body, 409, "Version 2 is not a draft", "draft a new version")
		resp, body = alex.get(admin + "statement/1/publish")
		want(t, "publish a replaced version", resp, body, 200, "Version 1 is not a draft: it has been replaced")
		if strings.Contains(body, `id="confirm-form"`) {
			t.Error("a replaced version offers to publish it")
		}
	})

	t.Run("settings", func(t *testing.T) {
		// Should the walk stop half way, the demo's settings are put back
		// all the same, for the subtests that read them.
		t.Cleanup(func() {
			sys.rest(t, "alex-morgan", "PATCH", "/v1/groups/riverside?updateMask=procedureSettings.retention,procedureSettings.memberSessionLifetime",
				map[string]any{"procedureSettings": map[string]any{"retention": "189216000s", "memberSessionLifetime": "43200s"}})
		})
		before := opened(t, alex, admin+"settings", "settings-form", "save-settings", `value="8"`, `value="14"`, `value="6"`, `value="12"`, `id="procedure-0"`)
		// What cannot be read is marked and kept.
		f := cloneValues(before)
		f.Set("retention-years", "lots")
		f.Set("session-hours", "0")
		resp, body := alex.post(admin+"settings", f)
		want(t, "settings with errors", resp, body, 400, "Please check your answers", `href="#retention-years"`, `value="lots"`, "whole number of years",
			`href="#session-hours"`, "between 1 and 720 hours")
		// Two admins' pages open at once: the second to save is told, not
		// overwritten unseen.
		f = cloneValues(before)
		f.Set("retention-years", "7")
		sent(t, alex, "save the settings", admin+"settings", f, admin+"settings?done=settings", "The settings are saved", `value="7"`, `value="8"`)
		stale := cloneValues(before)
		stale.Set("formId", newRequestID())
		stale.Set("session-hours", "10")
		resp, body = alex.post(admin+"settings", stale)
		want(t, "stale settings", resp, body, 409, "Someone changed these settings while you were on the page", "Now: 7 years", `value="10"`)
		// Put back what was there; sending it unchanged changes nothing.
		f = opened(t, alex, admin+"settings", "settings-form", "save-settings")
		f.Set("retention-years", "6")
		sent(t, alex, "restore the settings", admin+"settings", f, admin+"settings?done=settings", "The settings are saved", `value="6"`, `value="12"`)
		f = opened(t, alex, admin+"settings", "settings-form", "save-settings")
		sent(t, alex, "unchanged settings", admin+"settings", f, admin+"settings?done=settings-unchanged", "Nothing was changed")
	})

	t.Run("not for members who are not admins", func(t *testing.T) {
		bea := as.signIn("bea.lindqvist@riverside.example.org", "198.51.100.24")
		resp, body := bea.get("/riverside/members/")
		if strings.Contains(body, `id="admin-link"`) {
			t.Error("My work links a member who is not an admin to the admins' pages")
		}
		want(t, "Bea's work", resp, body, 200, `id="sessions-link"`)
		for _, p := range []string{"members", "members/new", "members/alex-morgan", "members/alex-morgan/deactivate", "link-groups",
			"link-groups/hillside/remove", "statement", "statement/new", "statement/1", "statement/1/publish", "settings"} {
			resp, body := bea.get(admin + p)
			want(t, "Bea opens "+p, resp, body, 403, "This page is not for you")
		}
		resp, body = bea.post(admin+"members/alex-morgan/deactivate", url.Values{"formId": {newRequestID()}})
		want(t, "Bea deactivates Alex", resp, body, 403, "This page is not for you")
		resp, body = bea.post(admin+"settings", url.Values{"formId": {newRequestID()}, "retention-years": {"1"}})
		want(t, "Bea changes the settings", resp, body, 403, "This page is not for you")

		// Bea's own sign-ins: another device's is ended, then this one.
		other := as.signIn("bea.lindqvist@riverside.example.org", "198.51.100.25")
		resp, body = bea.get("/riverside/members/sessions")
		want(t, "Bea's sign-ins", resp, body, 200, "This device", "Another sign-in", "Last used")
		otherID := match(t, regexp.MustCompile(`id="session-([a-z0-9]+)">\s*<p class="case-row-title">Another sign-in`), body)
		thisID := match(t, regexp.MustCompile(`id="session-([a-z0-9]+)">\s*<p class="case-row-title"><strong>This device`), body)
		f := url.Values{"formId": {match(t, regexp.MustCompile(`name="formId" value="([0-9a-f-]+)"`), body)}}
		sent(t, bea, "end another sign-in", "/riverside/members/sessions/"+otherID+"/end", f, "/riverside/members/sessions?done=session-ended",
			"You have ended that sign-in", "This device")
		resp, body = bea.get("/riverside/members/sessions")
		if strings.Contains(body, `id="session-`+otherID+`"`) {
			t.Error("the sign-in ended is still listed")
		}
		resp, body = other.get("/riverside/members/sessions")
		want(t, "the other device", resp, body, 401, "You have been signed out")
		resp, body = bea.post("/riverside/members/sessions/"+thisID+"/end", url.Values{"formId": {newRequestID()}})
		want(t, "end this sign-in", resp, body, 200, "You have signed out")
		if resp, _ = bea.get("/riverside/members/"); resp.StatusCode != http.StatusSeeOther {
			t.Errorf("My work after signing out: %d", resp.StatusCode)
		}
	})
}

// cloneValues is a copy of v.
func cloneValues(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatalf("%q is not a number", s)
	}
	return n
}

// TestAdminPagesRender renders the admins' pages of this file and a
// member's sign-ins from fixed data, held to what every page promises
// (checkPage), with the members' words.
func TestAdminPagesRender(t *testing.T) {
	t.Parallel()
	s := newTestSite(t, "")
	m := &signedInMember{group: riverside}
	a := &signedInAdmin{signedInMember: m, Name: "Alex Morgan"}
	at := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	withErrors := func(l layout, id, msg string) layout { l.Errors.add(id, msg); return l }
	settings := settingsPage{layout: a.layout("Procedure settings and retention"), Back: "/riverside/members/admin/", Action: "/riverside/members/admin/settings",
		Form: settingsForm{OverallWeeks: "8", FirstResponseDays: "14", RetentionYears: "6", SessionHours: "12"}, Etag: "e1", FormID: newRequestID(),
		Procedures: []choice{{Value: "", Label: "The standard version", Checked: true}, {Value: "procedures/ipn-disputes-v1", Label: "IPN disputes, version 1", Hint: "The first."}}}
	settings.fillHints()
	stale := settings
	stale.Stale, stale.Now, stale.Problem = true, settingsForm{OverallWeeks: "8", FirstResponseDays: "14", RetentionYears: "7", SessionHours: "12"}, "Someone changed these settings."
	stale.layout = withErrors(stale.layout, "retention-years", "Enter how long closed cases are kept, in years")
	stale.fillHints()
	pages := map[string]struct {
		page string
		data any
	}{
		"sessions": {"member-sessions", sessionsPage{layout: m.layout("Where you are signed in"), FormID: newRequestID(),
			Banner:   &banner{Title: "You have ended that sign-in", Next: "Gone."},
			Sessions: []sessionView{{ID: "abc", Started: at, LastUsed: at, Ends: at, ThisDevice: true, End: "/riverside/members/sessions/abc/end"}, {ID: "def", Started: at, End: "/riverside/members/sessions/def/end"}}}},
		"sessions-none": {"member-sessions", sessionsPage{layout: m.layout("Where you are signed in")}},
		"members": {"admin-members", adminMembersPage{layout: a.layout("Members"), Back: "/riverside/members/admin/", Invite: "/riverside/members/admin/members/new",
			Members: []adminMemberRow{{ID: "alex-morgan", Path: "/riverside/members/admin/members/alex-morgan", Name: "Alex Morgan", Email: "alex@example.org", Admin: true, Active: true},
				{ID: "gil", Path: "/riverside/members/admin/members/gil", Name: "Gil", Left: at}}}},
		"member": {"admin-member", adminMemberPage{layout: a.layout("Gil Ashby"), Back: "/riverside/members/admin/members", ID: "gil", Name: "Gil Ashby", Email: "gil@example.org",
			Phone: "01632 960 001", Active: true, Joined: at, Sessions: []sessionView{{ID: "abc", Started: at}}, EndSessions: "/e", SetAdmin: "/a", Deactivate: "/d",
			SignInPath: "/riverside/members/sign-in", FormID: newRequestID(), Etag: "e", Problem: "Gil Ashby is the group's only admin.", Banner: &banner{Title: "Gil Ashby is now a member", Next: "Tell them."}}},
		"member-self": {"admin-member", adminMemberPage{layout: a.layout("Alex Morgan"), Name: "Alex Morgan", Admin: true, Active: true, Self: true, SignInPath: "/riverside/members/sign-in"}},
		"member-left": {"admin-member", adminMemberPage{layout: a.layout("Gil Ashby"), Name: "Gil Ashby", Left: at}},
		"invite":      {"admin-invite", inviteForm{layout: withErrors(a.layout("Invite a member"), "name", "Enter their name"), Back: "/b", Action: "/a", Email: "gil@", FormID: newRequestID()}},
		"confirm":     {"admin-confirm", confirmPage{layout: a.layout("Deactivate Gil?"), Back: "/b", BackText: "Back to Gil", Lead: "Deactivate.", Means: []string{"One.", "Two."}, Action: "/a", Button: "Deactivate Gil", Warning: true, FormID: newRequestID(), Etag: "e", Problem: "No."}},
		"link-groups": {"admin-link-groups", linkGroupsPage{layout: withErrors(a.layout("Link groups"), "address", "There is no group at that address"), Back: "/b", Action: "/a", Kind: "local", Address: "/nowhere/", FormID: newRequestID(),
			LinkGroups: []linkGroupView{{ID: "hillside", Name: "Hillside", Where: "A group on this website", Remove: "/r"}}}},
		"link-groups-full": {"admin-link-groups", linkGroupsPage{layout: a.layout("Link groups"), Full: true, Problem: "Your group has its two link groups already.", Banner: &banner{Title: "Added", Next: "Told."},
			LinkGroups: []linkGroupView{{ID: "hillside", Name: "Hillside", Where: "A group on this website", Remove: "/r"}, {ID: "moorland", Name: "Moorland", Where: "A group elsewhere", Remove: "/r2"}}}},
		"statement": {"admin-statement", statementVersionsPage{layout: a.layout("Ethical statement"), Back: "/b", New: "/n", Banner: &banner{Title: "Published", Next: "Now."},
			Versions: []statementVersionRow{{Version: 2, State: "Draft", Created: at, Preview: "/p2", Draft: true}, {Version: 1, State: "In force", Created: at, Published: at, Preview: "/p1"}}}},
		"statement-draft": {"admin-statement-draft", statementDraftPage{layout: withErrors(a.layout("Draft a new version"), "section-1-title", "Section 2: give it a title"), Back: "/b", Action: "/a", From: 1, FormID: newRequestID(),
			Sections: []sectionRow{{N: 0, Text: "# Us\n\nWe are."}, {N: 1, Text: "More."}, {N: 2}}}},
		"statement-preview": {"admin-statement-preview", statementPreviewPage{layout: a.layout("Version 2 of the ethical statement"), Back: "/b", Version: 2, Draft: true, State: "Draft", Publish: "/p",
			Statement: statementPage{layout: layout{Group: riverside}, Version: 2, Sections: []statementSection{{Blocks: markdownBlocks("# Us\n\nWe are.")}, {Title: "Values", Blocks: markdownBlocks("We meet.\n\n- one\n- two")}}}}},
		"settings":       {"admin-settings", settings},
		"settings-stale": {"admin-settings", stale},
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

// TestNewID makes the directory's ids from people's words.
func TestNewID(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		words string
		try   int
		want  string
	}{
		{"Gil Ashby", 1, "gil-ashby"},
		{"Gil Ashby", 2, "gil-ashby-2"},
		{"  Zoë O'Brien-Smith ", 1, "zo-o-brien-smith"},
		{"2nd Group", 1, "nd-group"},
		{"Jo", 1, "member"},
		{"Jo", 3, "member-3"},
		{"李", 1, "member"},
		{strings.Repeat("a", 60), 2, strings.Repeat("a", 38) + "-2"},
	} {
		if got := newID("member", c.words, c.try); got != c.want {
			t.Errorf("newID(%q, %d) = %q, want %q", c.words, c.try, got, c.want)
		}
	}
}
