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

// clientLinkAPI is a gateway that knows one group and one client's link,
// which it lets be used once; a request for links from too-many@ is past
// the limit. It records the calls it gets.
type clientLinkAPI struct {
	mu     sync.Mutex
	calls  []string
	asked  []string
	used   bool
	expiry time.Time
}

const (
	testClientSecret = "q4t475fezpcskgamrl2r6ssqjof6byuobtvdbmptmfzpx3kcjzb"
	testClientToken  = "ipncs_k2m4k2m4k2m4k2m4_s3cr3ts3cr3ts3cr3ts3cr3ts3cr3ts3cr3ts3cr3tab"
	testClientCase   = "groups/riverside/cases/0a6f3c4e-9d2b-4e7a-8f1c-2b3d4e5f6a7b"
)

func (a *clientLinkAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
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
	case r.Method == http.MethodPost && r.URL.Path == "/v1/clientSignInLinks:request":
		if strings.Contains(string(body), "too-many@") {
			w.Header().Set("Retry-After", "600")
			failed(http.StatusTooManyRequests, 8, "TOO_MANY_SIGN_IN_LINKS")
			return
		}
		a.asked = append(a.asked, string(body))
		io.WriteString(w, `{}`)
	case r.Method == http.MethodPost && r.URL.Path == "/v1/clientSessions":
		switch {
		case strings.Contains(string(body), `"linkSecret":"`+testClientSecret+`"`) && !a.used:
			a.used = true
			io.WriteString(w, `{"token": "`+testClientToken+`", "case": "`+testClientCase+`", "concern": "groups/riverside/concerns/0a6f3c4e-9d2b-4e7a-8f1c-2b3d4e5f6a7b", "expireTime": "`+a.expiry.Format(time.RFC3339)+`"}`)
		case strings.Contains(string(body), testClientSecret):
			failed(http.StatusBadRequest, 9, "SIGN_IN_LINK_USED")
		default:
			failed(http.StatusBadRequest, 9, "SIGN_IN_LINK_EXPIRED")
		}
	default:
		failed(http.StatusNotFound, 5, "NOT_HERE")
	}
}

func (a *clientLinkAPI) sessionsMade() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	n := 0
	for _, c := range a.calls {
		if c == "POST /v1/clientSessions" {
			n++
		}
	}
	return n
}

// TestClientSignInByLink walks a client's way back by e-mail on the
// website against a fake API: the sign-in page offers it; asking for a
// link gives the same page for any address, marks a malformed one in the
// error summary and says when to try again past the limit; the link's
// page uses nothing on a GET (mail scanners fetch links); its button seals
// a client session in the cookie and leads to the case, as the reference
// sign-in does; a used, expired or mangled link offers a new one. No log
// line holds the link's secret (shown to fail when logPath is bypassed).
func TestClientSignInByLink(t *testing.T) {
	t.Parallel()
	fake := &clientLinkAPI{expiry: time.Now().Add(time.Hour)}
	apiServer := httptest.NewServer(fake)
	t.Cleanup(apiServer.Close)
	var logs bytes.Buffer
	var logMu sync.Mutex
	site := serveSite(t, newTestSite(t, apiServer.URL, func(o *Options) {
		o.Logger = slog.New(slog.NewJSONHandler(lockedWriter{&logMu, &logs}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}))
	do := func(method, path string, form url.Values) (*http.Response, string) {
		var body io.Reader
		if form != nil {
			body = strings.NewReader(form.Encode())
		}
		req, _ := http.NewRequest(method, site.URL+path, body)
		if form != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
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

	resp, body := do(http.MethodGet, "/riverside/sign-in", nil)
	expect("the reference sign-in", resp, body, http.StatusOK, `href="/riverside/link" id="client-link"`, "get a link by e-mail")
	resp, body = do(http.MethodGet, "/riverside/link", nil)
	expect("the form", resp, body, http.StatusOK, `<label class="label" for="email">`, `id="send-link"`, `href="/riverside/sign-in"`)

	var answers []string
	for _, email := range []string{"sam@client.example.net", "nobody@example.org"} {
		resp, body = do(http.MethodPost, "/riverside/link", url.Values{"email": {" " + email + " "}})
		expect("asking for "+email, resp, body, http.StatusOK, "If this address was given with a concern raised with Riverside Practitioners, a link to it is on its way", "works once, for 15 minutes")
		answers = append(answers, body)
	}
	if answers[0] != answers[1] {
		t.Error("the answers for a client's address and another differ")
	}
	if len(fake.asked) != 2 || !strings.Contains(fake.asked[0], `"group":"groups/riverside"`) || !strings.Contains(fake.asked[0], `"email":"sam@client.example.net"`) {
		t.Errorf("the API was asked %v", fake.asked)
	}
	for _, tt := range []struct{ email, want string }{
		{"", "Enter your e-mail address"},
		{"not an address", "Enter the e-mail address you gave with your concern"},
		{"Sam <sam@client.example.net>", "Enter the e-mail address you gave with your concern"},
	} {
		resp, body = do(http.MethodPost, "/riverside/link", url.Values{"email": {tt.email}})
		expect("the address "+strconv.Quote(tt.email), resp, body, http.StatusBadRequest, `id="error-summary"`, `href="#email"`, `id="email-error"`, tt.want)
	}
	resp, body = do(http.MethodPost, "/riverside/link", url.Values{"email": {"too-many@example.org"}})
	expect("past the limit", resp, body, http.StatusTooManyRequests, `id="error-summary"`, "Too many links have been asked for lately. Please try again in 10 minutes")

	// The link's page uses nothing.
	resp, body = do(http.MethodGet, "/riverside/link/"+testClientSecret, nil)
	expect("the link's page", resp, body, http.StatusOK, `<form method="post" action="/riverside/link/`+testClientSecret+`"`, ">Open your case</button>")
	if n := fake.sessionsMade(); n != 0 {
		t.Fatalf("opening the link made %d client sessions; want none before the button", n)
	}

	// The button opens the case.
	resp, _ = do(http.MethodPost, "/riverside/link/"+testClientSecret, url.Values{})
	if want := "/riverside/cases/0a6f3c4e-9d2b-4e7a-8f1c-2b3d4e5f6a7b"; resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != want {
		t.Fatalf("using the link: %d to %q; want 303 to %s", resp.StatusCode, resp.Header.Get("Location"), want)
	}
	var cookie *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == "session" {
			cookie = c
		}
	}
	if cookie == nil || !cookie.HttpOnly || strings.Contains(cookie.Value, testClientToken) {
		t.Fatalf("session cookie %+v; want a sealed HttpOnly cookie", cookie)
	}

	// Once only; an expired or mangled link likewise offers a new one.
	resp, body = do(http.MethodPost, "/riverside/link/"+testClientSecret, url.Values{})
	expect("the link used again", resp, body, http.StatusGone, "This link has been used", `href="/riverside/link"`, "If it wasn't you who used it")
	resp, body = do(http.MethodPost, "/riverside/link/"+strings.Repeat("a", 52), url.Values{})
	expect("an expired link", resp, body, http.StatusGone, "This link has expired", `href="/riverside/link"`, `href="/riverside/sign-in"`)
	resp, body = do(http.MethodGet, "/riverside/link/not-a-secret", nil)
	expect("a mangled link", resp, body, http.StatusNotFound, "This link does not work", `href="/riverside/link"`)

	logMu.Lock()
	defer logMu.Unlock()
	if strings.Contains(logs.String(), testClientSecret) || strings.Contains(logs.String(), testClientToken) {
		t.Errorf("the log holds the link's secret or the session's token:\n%s", logs.String())
	}
	if !strings.Contains(logs.String(), "/riverside/link/{secret}") {
		t.Errorf("the log does not show the link's requests, without the secret:\n%s", logs.String())
	}
}
