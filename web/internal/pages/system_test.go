package pages

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ipnmediation/disputes/platform/testenv"
	"github.com/ipnmediation/disputes/stack/launch"
	"github.com/ipnmediation/disputes/stack/launch/launchtest"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// system is the whole system, started from stack/launch as make run starts
// it, with the demo group; the site under test runs in this process against
// its gateway.
type system struct {
	*launch.System
	mail  *testenv.Mailpit
	creds map[string]string // member id to token
}

func startSystem(t *testing.T) *system {
	t.Helper()
	started := launchtest.Start(t, launchtest.Options{})
	s := &system{System: started.System, mail: started.Mail, creds: map[string]string{}}
	for _, c := range started.Demo {
		s.creds[c.Member.ID] = c.Token
	}
	return s
}

// rest calls the REST API as a member, for the members' steps this
// increment has no pages for.
func (s *system) rest(t *testing.T, member, method, path string, body any) {
	t.Helper()
	s.restAnswer(t, member, method, path, body)
}

// restAnswer is rest, returning the answer's JSON.
func (s *system) restAnswer(t *testing.T, member, method, path string, body any) map[string]any {
	t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(method, s.GatewayURL()+path, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+s.creds[member])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s %s as %s: %d %s", method, path, member, resp.StatusCode, out)
	}
	var answer map[string]any
	if err := json.Unmarshal(out, &answer); err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	return answer
}

// browser is one person's browser: its own cookies, posts from the site's
// own pages as a browser sends them.
type browser struct {
	t    *testing.T
	base string
	c    *http.Client
}

func newBrowser(t *testing.T, base string) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, base: base, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (b *browser) do(req *http.Request) (*http.Response, string) {
	b.t.Helper()
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		b.t.Fatal(err)
	}
	return resp, string(body)
}

func (b *browser) get(path string) (*http.Response, string) {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, b.base+path, nil)
	return b.do(req)
}

func (b *browser) post(path string, form url.Values) (*http.Response, string) {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, b.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", b.base)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	return b.do(req)
}

// want fails the test unless resp has the status and body every snippet.
func want(t *testing.T, what string, resp *http.Response, body string, status int, snippets ...string) {
	t.Helper()
	if resp.StatusCode != status {
		t.Fatalf("%s: status %d, want %d\n%s", what, resp.StatusCode, status, body)
	}
	for _, s := range snippets {
		if !strings.Contains(body, s) {
			t.Errorf("%s: the page lacks %q", what, s)
		}
	}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		checkPage(t, body)
		if resp.Header.Get("Content-Security-Policy") == "" || resp.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("%s: headers %v", what, resp.Header)
		}
	}
}

var (
	referenceRe = regexp.MustCompile(`id="reference">([0-9A-Z-]+)<`)
	codeRe      = regexp.MustCompile(`id="access-code">([0-9A-Z-]+)<`)
	requestIDRe = regexp.MustCompile(`name="requestId" id="request-id" value="([0-9a-f-]+)"`)
	casePathRe  = regexp.MustCompile(`href="(/riverside/cases/[0-9a-z-]+)"`)
)

func match(t *testing.T, re *regexp.Regexp, body string) string {
	t.Helper()
	m := re.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no %s in:\n%s", re, body)
	}
	return m[1]
}

// TestSystem drives the pages against the whole system: every page a
// client sees in this increment, what it must and must not say, and the
// edges (a wrong code, a cross-site post, a session that no longer opens,
// a case still being opened).
func TestSystem(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the whole system")
	}
	sys := startSystem(t)
	web := newTestSite(t, sys.GatewayURL())
	site := serveSite(t, web)

	t.Run("pages", func(t *testing.T) {
		t.Run("long path", func(t *testing.T) {
			t.Parallel()
			longPath(t, sys, web, site.URL)
		})

		t.Run("members' long path", func(t *testing.T) {
			t.Parallel()
			memberLongPath(t, sys, web, site.URL)
		})

		t.Run("admins' directory pages", func(t *testing.T) {
			t.Parallel()
			adminPages(t, sys)
		})

		t.Run("admin records", func(t *testing.T) {
			t.Parallel()
			adminRecords(t, sys, web, site.URL)
		})

		t.Run("group", func(t *testing.T) {
			t.Parallel()
			b := newBrowser(t, site.URL)
			resp, body := b.get("/riverside/")
			want(t, "group page", resp, body, 200, "Riverside Practitioners (demo)", `href="/riverside/concern"`, `href="/riverside/sign-in"`, `href="/riverside/statement"`, "within 8 weeks")
			resp, body = b.get("/riverside/statement")
			want(t, "statement", resp, body, 200, "<h2>Confidentiality</h2>", "What clients tell us stays between us and them")
			resp, body = b.get("/")
			want(t, "root", resp, body, 200, "use the link the group gave you")
			resp, _ = b.get("/riverside")
			if resp.StatusCode != http.StatusMovedPermanently || resp.Header.Get("Location") != "/riverside/" {
				t.Errorf("/riverside: %d %s", resp.StatusCode, resp.Header.Get("Location"))
			}
			// A page not found in a group names the group and links back to
			// it; elsewhere the page says how to find the group's link.
			for _, p := range []string{"/riverside/nothing", "/riverside/cases/UPPER"} {
				resp, body = b.get(p)
				want(t, p, resp, body, 404, "Page not found", `<a href="/riverside/" id="back-to-group">Riverside Practitioners (demo)</a>`)
			}
			for _, p := range []string{"/nowhere/", "/Riverside/", "/static/site.css"} {
				resp, body = b.get(p)
				want(t, p, resp, body, 404, "Page not found", "use the link the group gave you")
			}
		})

		t.Run("journey", func(t *testing.T) {
			t.Parallel()
			b := newBrowser(t, site.URL)
			resp, body := b.get("/riverside/concern")
			want(t, "form", resp, body, 200, "Alex Morgan", "Cal Reyes", "Fran Okafor", `id="practitioner"`, `class="hp"`, "within 8 weeks")
			requestID := match(t, requestIDRe, body)

			// Errors: next to each field and in the summary; the words kept.
			resp, body = b.post("/riverside/concern", url.Values{"requestId": {requestID}, "description": {"It <started> badly."}})
			want(t, "form with errors", resp, body, 400, "Please check your answers", `href="#practitioner"`, `href="#client-name"`, `href="#email"`,
				`id="client-name-error"`, "It &lt;started&gt; badly.", "<title>Error: ")
			resp, body = b.post("/riverside/concern", url.Values{"requestId": {requestID}, "practitioner": {"cal-reyes"}, "description": {"It started badly."},
				"clientName": {"Jo"}, "email": {"not an address"}})
			want(t, "a bad address", resp, body, 400, "Enter an email address in the right form", `value="not an address"`)

			form := url.Values{"requestId": {requestID}, "practitioner": {"cal-reyes"}, "description": {"Our sessions stopped without a word."},
				"clientName": {"Jo"}, "email": {"jo@client.example.net"}, "website": {""}}
			resp, body = b.post("/riverside/concern", form)
			want(t, "confirmation", resp, body, 200, "Your concern has been sent", "We show the access code only this once", "Save as a text file",
				"If you lose your access code", "Go to your case")
			reference, code := match(t, referenceRe, body), match(t, codeRe, body)
			casePath := match(t, casePathRe, body)
			var sessionCookie *http.Cookie
			for _, c := range resp.Cookies() {
				if c.Name == "session" {
					sessionCookie = c
				}
			}
			if sessionCookie == nil || !sessionCookie.HttpOnly || sessionCookie.SameSite != http.SameSiteLaxMode || strings.Contains(sessionCookie.Value, "ipncs_") {
				t.Errorf("session cookie %+v", sessionCookie)
			}

			// A refresh posts again: the same concern, the same code.
			resp, body = b.post("/riverside/concern", form)
			want(t, "confirmation again", resp, body, 200, reference, code)

			resp, body = b.post("/riverside/concern/keep", url.Values{"reference": {reference}, "accessCode": {code}})
			if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") ||
				!strings.HasPrefix(resp.Header.Get("Content-Disposition"), "attachment;") || !strings.Contains(body, code) || !strings.Contains(body, reference) {
				t.Errorf("saved file: %d %v\n%s", resp.StatusCode, resp.Header, body)
			}

			resp, body = b.get(casePath)
			want(t, "case", resp, body, 200, "Your concern", reference, "Week 1 of 8", "There are 56 days left", "You sent your concern.",
				"The group is choosing your support person", "first response by", "Withdraw your concern")

			// The members' steps, over REST until their pages come.
			caseName := "groups/riverside/cases/" + strings.TrimPrefix(casePath, "/riverside/cases/")
			sys.rest(t, "cal-reyes", "POST", "/v1/"+caseName+":takeStep", map[string]any{"step": "nominate_spt", "member": "groups/riverside/members/eli-nakamura"})
			sys.rest(t, "eli-nakamura", "POST", "/v1/"+caseName+":takeStep", map[string]any{"step": "answer_spt_nomination", "outcome": "ACCEPTED"})
			sys.rest(t, "dana-holt", "POST", "/v1/"+caseName+":takeStep", map[string]any{"step": "appoint_spc_and_lp",
				"appointment": map[string]string{"spc": "groups/riverside/members/alex-morgan", "lp": "groups/riverside/members/bea-lindqvist"}})
			resp, body = b.get(casePath)
			want(t, "case with support", resp, body, 200, "Your support person is <strong>Alex Morgan</strong>",
				"A member of the group agreed to support the practitioner.", "The group chose your support person.",
				"Your support person has been chosen", "Your support person contacts you and offers to meet you.")
			for _, never := range []string{"Bea Lindqvist", "Eli Nakamura", "Cal Reyes"} {
				if strings.Contains(body, never) {
					t.Errorf("the case page names %s", never)
				}
			}

			// Signing out ends it here; the case's link leads to sign-in.
			resp, body = b.post("/riverside/sign-out", nil)
			want(t, "signed out", resp, body, 200, "You have signed out")
			resp, _ = b.get(casePath)
			if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/riverside/sign-in" {
				t.Fatalf("case after sign-out: %d %s", resp.StatusCode, resp.Header.Get("Location"))
			}

			resp, body = b.post("/riverside/sign-in", url.Values{"reference": {reference}, "accessCode": {"AAAA" + code[4:]}})
			want(t, "wrong code", resp, body, 401, "The reference or the access code is not right", "If you have lost it, ask the group",
				`value="`+reference+`"`, `id="reference-error"`, `id="access-code-error"`)
			if strings.Contains(body, code[5:]) {
				t.Error("the sign-in form shows the code again")
			}
			resp, body = b.post("/riverside/sign-in", url.Values{"reference": {"K7"}, "accessCode": {""}})
			want(t, "malformed", resp, body, 400, "Enter the reference as it was shown to you", "Enter your access code")
			forgiving := strings.ToLower(strings.ReplaceAll(reference, "-", " "))
			resp, _ = b.post("/riverside/sign-in", url.Values{"reference": {forgiving}, "accessCode": {strings.ToLower(strings.ReplaceAll(code, "-", ""))}})
			if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != casePath {
				t.Fatalf("sign-in: %d %s", resp.StatusCode, resp.Header.Get("Location"))
			}

			resp, body = b.get(casePath + "/withdraw")
			want(t, "withdraw", resp, body, 200, "You can stop at any time", "Withdraw my concern")
			resp, _ = b.post(casePath+"/withdraw", nil)
			if resp.StatusCode != http.StatusSeeOther {
				t.Fatalf("withdraw: %d", resp.StatusCode)
			}
			resp, _ = b.post(casePath+"/withdraw", nil)
			if resp.StatusCode != http.StatusSeeOther {
				t.Fatalf("withdraw again: %d", resp.StatusCode)
			}
			resp, body = b.get(casePath)
			want(t, "withdrawn", resp, body, 200, "You withdrew your concern, and the case is closed.", "You withdrew your concern.")
			if strings.Contains(body, `id="withdraw"`) {
				t.Error("a closed case still offers to withdraw")
			}

			// The e-mail to the client links to a page of the website that
			// make run starts.
			var link string
			testenv.Eventually(t, 30*time.Second, "an e-mail to the client linking to the website", func() bool {
				msgs, err := sys.mail.Messages(context.Background())
				if err != nil {
					return false
				}
				for _, m := range msgs {
					for _, to := range m.To {
						if to.Address != "jo@client.example.net" {
							continue
						}
						mb, err := sys.mail.Body(context.Background(), m.ID)
						if err == nil {
							link = regexp.MustCompile(`https?://[^\s"<>]+` + regexp.QuoteMeta(casePath)).FindString(mb.Text)
						}
					}
				}
				return link != ""
			})
			if !strings.HasPrefix(link, sys.WebURL()+"/riverside/cases/") {
				t.Errorf("the e-mail links to %q, not the website at %s", link, sys.WebURL())
			}
			launched := newBrowser(t, sys.WebURL())
			resp, _ = launched.get(strings.TrimPrefix(link, sys.WebURL()))
			if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/riverside/sign-in" {
				t.Errorf("the e-mail's link on the launched website: %d %s", resp.StatusCode, resp.Header.Get("Location"))
			}
		})

		t.Run("cross-site post", func(t *testing.T) {
			t.Parallel()
			b := newBrowser(t, site.URL)
			req, _ := http.NewRequest(http.MethodPost, site.URL+"/riverside/concern", strings.NewReader("practitioner=cal-reyes"))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Origin", "https://elsewhere.example")
			req.Header.Set("Sec-Fetch-Site", "cross-site")
			resp, body := b.do(req)
			want(t, "cross-site", resp, body, 403, "did not come from this website")
		})

		t.Run("session that no longer opens", func(t *testing.T) {
			t.Parallel()
			b := newBrowser(t, site.URL)
			u, _ := url.Parse(site.URL)
			b.c.Jar.SetCookies(u, []*http.Cookie{{Name: "session", Value: "enc:v1:k1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", Path: "/"}})
			resp, body := b.get("/riverside/cases/0b0c5a43-4b53-4a8e-9d0e-1b2f7b1c9a11")
			want(t, "ended", resp, body, 401, "You have been signed out", "Sign in again")
			if c := resp.Cookies(); len(c) != 1 || c[0].MaxAge >= 0 {
				t.Errorf("the cookie was not deleted: %v", c)
			}
		})
	})

	// Last, alone: casework is restarted on another event stream, so the
	// case of a concern registered now stays "being opened" (casework
	// answers CASE_OPENING) until it is back on its own.
	t.Run("case being opened", func(t *testing.T) {
		quick := serveSite(t, newTestSite(t, sys.GatewayURL(), func(o *Options) { o.OpeningWait = 200 * time.Millisecond }))
		restart := func(settings []string) {
			t.Helper()
			if err := sys.Proc("casework").Stop(15 * time.Second); err != nil {
				t.Fatal(err)
			}
			sys.Settings = map[string][]string{"casework": settings}
			if _, err := sys.Start("casework"); err != nil {
				t.Fatal(err)
			}
			if err := sys.WaitReady(context.Background(), "casework"); err != nil {
				t.Fatal(err)
			}
		}
		restart([]string{"EVENT_NAMESPACE=" + string(testenv.Namespace(t))})
		b := newBrowser(t, quick.URL)
		_, body := b.get("/riverside/concern")
		resp, body := b.post("/riverside/concern", url.Values{"requestId": {match(t, requestIDRe, body)}, "practitioner": {"bea-lindqvist"},
			"description": {"It went wrong."}, "clientName": {"Kim"}, "phone": {"01632 960 001"}})
		want(t, "confirmation", resp, body, 200, "Go to your case")
		casePath := match(t, casePathRe, body)
		resp, body = b.get(casePath)
		want(t, "opening", resp, body, 200, "We are setting up your case", `data-reload-after`, `href="`+casePath+`"`)
		restart(nil)
		testenv.Eventually(t, 30*time.Second, "the case opened", func() bool {
			resp, body = b.get(casePath)
			return resp.StatusCode == 200 && strings.Contains(body, "Week 1 of 8")
		})
	})
}
