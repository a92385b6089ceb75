package pages

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// memberAPI is a gateway that knows one group, one member and one sign-in
// link, which it lets be used once; it records the calls it gets.
type memberAPI struct {
	mu     sync.Mutex
	calls  []string
	used   bool
	asked  []string
	ended  bool
	expiry time.Time
}

const (
	testLinkSecret   = "dc4t475fezpcskgamrl2r6ssqjof6byuobtvdbmptmfzpx3kcjza"
	expiredSecret    = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	testSessionToken = "ipnms_k2m4_s3cr3ts3cr3ts3cr3ts3cr3ts3cr3ts3cr3ts3cr3t"
	testSessionName  = "groups/riverside/members/bea-lindqvist/sessions/k2m4"
)

func (a *memberAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	defer a.mu.Unlock()
	body, _ := io.ReadAll(r.Body)
	a.calls = append(a.calls, r.Method+" "+r.URL.Path)
	w.Header().Set("Content-Type", "application/json")
	failed := func(code int, status int, reason string) {
		w.WriteHeader(code)
		io.WriteString(w, `{"code": `+strconv.Itoa(status)+`, "message": "no", "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "`+reason+`", "domain": "disputes.ipn.org.uk"}]}`)
	}
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/v1/groups/riverside":
		io.WriteString(w, `{"name": "groups/riverside", "displayName": "Riverside Practitioners"}`)
	case r.Method == http.MethodGet && r.URL.Path == "/v1/groups/riverside/members/bea-lindqvist":
		io.WriteString(w, `{"name": "groups/riverside/members/bea-lindqvist", "displayName": "Bea Lindqvist"}`)
	case r.Method == http.MethodGet && r.URL.Path == "/v1/groups/riverside/cases" && r.Header.Get("Authorization") == "Bearer "+testSessionToken:
		// The same case in both of My work's lists, as when a step moves
		// it between the two reads.
		io.WriteString(w, `{"cases": [{"name": "groups/riverside/cases/c1", "reference": "AB12-CD34", "therapist": "groups/riverside/members/bea-lindqvist",
			"phase": "PHASE_REGISTERED", "clock": {"state": "STATE_RUNNING", "daysLeft": 50}}], "nextPageToken": "", "totalSize": 1}`)
	case r.Method == http.MethodPost && r.URL.Path == "/v1/signInLinks:request":
		a.asked = append(a.asked, string(body))
		io.WriteString(w, `{}`)
	case r.Method == http.MethodPost && r.URL.Path == "/v1/memberSessions":
		switch {
		case strings.Contains(string(body), testLinkSecret) && !a.used:
			a.used = true
			io.WriteString(w, `{"name": "`+testSessionName+`", "token": "`+testSessionToken+`", "expireTime": "`+a.expiry.Format(time.RFC3339)+`"}`)
		case strings.Contains(string(body), testLinkSecret):
			failed(http.StatusBadRequest, 9, "SIGN_IN_LINK_USED")
		default:
			failed(http.StatusBadRequest, 9, "SIGN_IN_LINK_EXPIRED")
		}
	case r.Method == http.MethodPost && r.URL.Path == "/v1/"+testSessionName+":revoke" && r.Header.Get("Authorization") == "Bearer "+testSessionToken:
		a.ended = true
		io.WriteString(w, `{}`)
	default:
		failed(http.StatusNotFound, 5, "NOT_HERE")
	}
}

// callsTo counts the calls made to path.
func (a *memberAPI) callsTo(path string) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	n := 0
	for _, c := range a.calls {
		if strings.HasSuffix(c, " "+path) {
			n++
		}
	}
	return n
}

// TestMemberSignIn walks a member's sign-in on the website against a fake
// API: asking for a link (the same page for any address; a malformed one
// is marked), the link's page, which uses nothing on a GET (mail scanners
// fetch links), the button's POST, which seals the member session in the
// cookie and leads to "You are signed in as", a second use (used: a new
// link is offered), an unknown or expired link, and signing out, which
// ends the session at the API. No log line holds the link's secret.
func TestMemberSignIn(t *testing.T) {
	t.Parallel()
	fake := &memberAPI{expiry: time.Now().Add(12 * time.Hour)}
	apiServer := httptest.NewServer(fake)
	t.Cleanup(apiServer.Close)
	var logs bytes.Buffer
	var logMu sync.Mutex
	site := serveSite(t, newTestSite(t, apiServer.URL, func(o *Options) {
		o.Logger = slog.New(slog.NewJSONHandler(lockedWriter{&logMu, &logs}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}))
	post := func(path string, form url.Values, cookie *http.Cookie) (*http.Response, string) {
		req, _ := http.NewRequest(http.MethodPost, site.URL+path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if cookie != nil {
			req.AddCookie(cookie)
		}
		return fetch(t, req)
	}
	get := func(path string, cookie *http.Cookie) (*http.Response, string) {
		req, _ := http.NewRequest(http.MethodGet, site.URL+path, nil)
		if cookie != nil {
			req.AddCookie(cookie)
		}
		return fetch(t, req)
	}
	expect := func(what string, resp *http.Response, body string, status int, want ...string) {
		t.Helper()
		if resp.StatusCode != status {
			t.Errorf("%s: status %d, want %d", what, resp.StatusCode, status)
		}
		for _, w := range want {
			if !strings.Contains(body, w) {
				t.Errorf("%s: the page lacks %q", what, w)
			}
		}
		if status < 300 || status >= 400 {
			checkPage(t, body)
		}
	}

	resp, body := get("/riverside/members/sign-in", nil)
	expect("the form", resp, body, http.StatusOK, `<label class="label" for="email">`, `id="send-link"`)

	// Any address, member's or not, gets the same page.
	var answers []string
	for _, email := range []string{"bea.lindqvist@riverside.example.org", "nobody@example.org"} {
		resp, body = post("/riverside/members/sign-in", url.Values{"email": {" " + email + " "}}, nil)
		expect("asking for "+email, resp, body, http.StatusOK, "If this address belongs to a member of Riverside Practitioners, a link to sign in is on its way", "works once, for 15 minutes")
		answers = append(answers, strings.ReplaceAll(body, email, ""))
	}
	if answers[0] != answers[1] {
		t.Error("the answers for a member's address and another differ")
	}
	if len(fake.asked) != 2 || !strings.Contains(fake.asked[0], `"group":"groups/riverside"`) {
		t.Errorf("the API was asked %v", fake.asked)
	}
	resp, body = post("/riverside/members/sign-in", url.Values{"email": {"not an address"}}, nil)
	expect("a malformed address", resp, body, http.StatusBadRequest, `id="email-error"`, `value="not an address"`)

	// The link's page uses nothing.
	resp, body = get("/riverside/sign-in/"+testLinkSecret, nil)
	expect("the link's page", resp, body, http.StatusOK, `<form method="post" action="/riverside/sign-in/`+testLinkSecret+`"`, `id="sign-in"`, ">Sign in</button>")
	if n := fake.callsTo("/v1/memberSessions"); n != 0 {
		t.Fatalf("opening the link made %d member sessions; want none before the button", n)
	}

	// The button signs in.
	resp, _ = post("/riverside/sign-in/"+testLinkSecret, url.Values{}, nil)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/riverside/members/" {
		t.Fatalf("using the link: %d to %q; want 303 to /riverside/members/", resp.StatusCode, resp.Header.Get("Location"))
	}
	var cookie *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == "session" {
			cookie = c
		}
	}
	if cookie == nil || !cookie.HttpOnly || cookie.SameSite != http.SameSiteLaxMode || strings.Contains(cookie.Value, testSessionToken) {
		t.Fatalf("session cookie %+v; want a sealed HttpOnly SameSite=Lax cookie", cookie)
	}
	resp, body = get("/riverside/members/", cookie)
	expect("the member's page", resp, body, http.StatusOK, "<h1>My work</h1>", "Signed in as Bea Lindqvist", `id="case-c1"`, `id="my-work-link"`, `id="sign-out"`)
	if n := strings.Count(body, `id="case-c1"`); n != 1 {
		t.Errorf("My work shows the case %d times; want once, in the first list that has it", n)
	}

	// Once only; an unknown or expired link likewise offers a new one.
	resp, body = post("/riverside/sign-in/"+testLinkSecret, url.Values{}, nil)
	expect("the link used again", resp, body, http.StatusGone, "This sign-in link has been used", `href="/riverside/members/sign-in"`, "admins: they can end every session signed in as you")
	resp, body = post("/riverside/sign-in/"+expiredSecret, url.Values{}, nil)
	expect("an expired link", resp, body, http.StatusGone, "This sign-in link has expired", `href="/riverside/members/sign-in"`)
	resp, body = get("/riverside/sign-in/not-a-secret", nil)
	expect("a mangled link", resp, body, http.StatusNotFound, "This sign-in link does not work", `href="/riverside/members/sign-in"`)

	// Without a session the member's page asks to sign in.
	resp, _ = get("/riverside/members/", nil)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/riverside/members/sign-in" {
		t.Errorf("the member's page without a session: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}

	// Signing out ends the session at the API.
	resp, body = post("/riverside/sign-out", url.Values{}, cookie)
	expect("signing out", resp, body, http.StatusOK, "You have signed out", `href="/riverside/members/sign-in"`)
	if !fake.ended {
		t.Error("signing out did not end the member session at the API")
	}

	logMu.Lock()
	defer logMu.Unlock()
	if strings.Contains(logs.String(), testLinkSecret) || strings.Contains(logs.String(), testSessionToken) {
		t.Errorf("the log holds the link's secret or the session's token:\n%s", logs.String())
	}
	if !strings.Contains(logs.String(), "/riverside/sign-in/{secret}") {
		t.Errorf("the log does not show the link's requests, without the secret:\n%s", logs.String())
	}
}

// lockedWriter serialises writes to a buffer shared by the site's handlers.
type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
