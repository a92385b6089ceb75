package pages

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/ipnmediation/disputes/web/internal/session"
)

// serveSite serves s's whole handler.
func serveSite(t *testing.T, s *Site) *httptest.Server {
	t.Helper()
	h, err := s.Handler()
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

// noRedirects is a client that shows redirects rather than following them.
var noRedirects = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func fetch(t *testing.T, req *http.Request) (*http.Response, string) {
	t.Helper()
	resp, err := noRedirects.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

// TestAPIUnavailable: with the API down or too slow, every page is the calm
// "try again in a few minutes" page, 503 with Retry-After, soon; never a
// stack trace or a blank page; and the concern form keeps what was typed.
func TestAPIUnavailable(t *testing.T) {
	t.Parallel()
	closed := httptest.NewServer(http.NotFoundHandler())
	closedURL := closed.URL
	closed.Close()
	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(func() { close(release); slow.Close() })
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "2")
		w.WriteHeader(http.StatusServiceUnavailable)
		w.Write([]byte(`{"code": 14, "message": "the service is not available at the moment; try again shortly", "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "SERVICE_UNAVAILABLE", "domain": "disputes.ipn.org.uk"}]}`))
	}))
	t.Cleanup(down.Close)

	for _, api := range []struct{ name, url string }{{"refused", closedURL}, {"too slow", slow.URL}, {"503", down.URL}} {
		t.Run(api.name, func(t *testing.T) {
			t.Parallel()
			site := serveSite(t, newTestSite(t, api.url, func(o *Options) { o.API = newAPI(t, api.url, 300*time.Millisecond) }))
			for _, path := range []string{"/riverside/", "/riverside/concern", "/riverside/statement", "/riverside/sign-in"} {
				start := time.Now()
				req, _ := http.NewRequest(http.MethodGet, site.URL+path, nil)
				resp, body := fetch(t, req)
				if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
					t.Errorf("%s: status %d, Retry-After %q", path, resp.StatusCode, resp.Header.Get("Retry-After"))
				}
				if !strings.Contains(body, "something on our side is not working") || !strings.Contains(body, "try again in a few minutes") {
					t.Errorf("%s: not the calm page:\n%s", path, body)
				}
				if d := time.Since(start); d > 3*time.Second {
					t.Errorf("%s took %s", path, d)
				}
				checkPage(t, body)
			}

			form := url.Values{"practitioner": {"cal-reyes"}, "description": {"My sessions <ended> early & nobody said why."},
				"clientName": {"Sam"}, "email": {"sam@client.example.net"}, "requestId": {"0b0c5a43-4b53-4a8e-9d0e-1b2f7b1c9a11"}}
			req, _ := http.NewRequest(http.MethodPost, site.URL+"/riverside/concern", strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			resp, body := fetch(t, req)
			if resp.StatusCode != http.StatusServiceUnavailable {
				t.Errorf("concern sent: status %d", resp.StatusCode)
			}
			for _, kept := range []string{"My sessions &lt;ended&gt; early &amp; nobody said why.", `value="Sam"`, `value="sam@client.example.net"`,
				`value="cal-reyes"`, `value="0b0c5a43-4b53-4a8e-9d0e-1b2f7b1c9a11"`, "What you wrote is still here"} {
				if !strings.Contains(body, kept) {
					t.Errorf("the form shown again lacks %q", kept)
				}
			}
			checkPage(t, body)
		})
	}
}

// TestTypedWordsKept: with the API down, refusing connections or failing,
// a client who sends a message or an answer to the written statement gets
// the page back with every word they typed in it and what to do; the
// case's other pages are the calm "try again" page.
func TestTypedWordsKept(t *testing.T) {
	t.Parallel()
	closed := httptest.NewServer(http.NotFoundHandler())
	closedURL := closed.URL
	closed.Close()
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "2")
		w.WriteHeader(http.StatusServiceUnavailable)
		w.Write([]byte(`{"code": 14, "message": "the service is not available at the moment; try again shortly", "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "SERVICE_UNAVAILABLE", "domain": "disputes.ipn.org.uk"}]}`))
	}))
	t.Cleanup(down.Close)
	// The group and the case read, the step and the message refused: the
	// API failing at the last call.
	failing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == http.MethodGet && r.URL.Path == "/v1/groups/riverside":
			w.Write([]byte(`{"name": "groups/riverside", "displayName": "Riverside Practitioners"}`))
		case r.Method == http.MethodGet && r.URL.Path == "/v1/groups/riverside/cases/c1":
			w.Write([]byte(`{"name": "groups/riverside/cases/c1", "phase": "PHASE_CLARIFYING", "nextSteps": [{"step": "answer_statement", "callerMayTake": true}]}`))
		case r.Method == http.MethodGet && r.URL.Path == "/v1/groups/riverside/cases/c1/documents":
			w.Write([]byte(`{"documents": [{"name": "groups/riverside/cases/c1/documents/d1", "kind": "KIND_WRITTEN_STATEMENT", "version": 1, "writtenStatement": {"concern": "a", "desiredOutcome": "b", "summary": "c"}}]}`))
		case r.Method == http.MethodGet && r.URL.Path == "/v1/groups/riverside/cases/c1/messages":
			w.Write([]byte(`{"messages": []}`))
		default:
			w.WriteHeader(http.StatusInternalServerError)
			w.Write([]byte(`{"code": 13, "message": "internal error", "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "INTERNAL", "domain": "disputes.ipn.org.uk"}]}`))
		}
	}))
	t.Cleanup(failing.Close)

	const document = "groups/riverside/cases/c1/documents/d1"
	posts := []struct {
		name, path string
		form       url.Values
		kept       []string
	}{
		{"message", "/riverside/cases/c1/messages", url.Values{"text": {"I was <upset> & I\r\nwanted to say so."}},
			[]string{"I was &lt;upset&gt; &amp; I\nwanted to say so.</textarea>", "We could not send your message", `href="#message"`}},
		{"changes", "/riverside/cases/c1/written-statement", url.Values{"stage": {"changes"}, "document": {document}, "answer": {"changes"},
			"comment": {"The date is wrong:\r\nit was March."}},
			[]string{"The date is wrong:\nit was March.</textarea>", "We could not send your answer", `value="` + document + `"`}},
		{"limits", "/riverside/cases/c1/written-statement", url.Values{"stage": {"limits"}, "document": {document}, "answer": {"approve"},
			"sharing": {"summary"}, "withheld": {"Mill Lane\r\nmy sister"}, "other": {"Do not mention my job."}},
			[]string{"Mill Lane\nmy sister</textarea>", "Do not mention my job.</textarea>", `value="summary" id="sharing-summary" checked`, "What you wrote is still here"}},
		{"approve", "/riverside/cases/c1/written-statement", url.Values{"stage": {"approve"}, "document": {document}, "answer": {"approve"},
			"sharing": {"summary"}, "withheld": {"Mill Lane", "my sister"}, "other": {"Do not mention", "my job."}},
			[]string{`name="withheld" value="Mill Lane"`, `name="withheld" value="my sister"`, `name="other" value="Do not mention"`, `name="other" value="my job."`,
				"Do not mention\nmy job.", "We could not send your answer", `href="#approve"`}},
	}
	for _, api := range []struct{ name, url string }{{"refused", closedURL}, {"503", down.URL}, {"failing", failing.URL}} {
		t.Run(api.name, func(t *testing.T) {
			t.Parallel()
			s := newTestSite(t, api.url, func(o *Options) { o.API = newAPI(t, api.url, 300*time.Millisecond) })
			site := serveSite(t, s)
			sealedSession, err := s.sessions.Seal(session.Session{Token: "ipncs_x", Case: "groups/riverside/cases/c1", Expiry: time.Now().Add(time.Hour)})
			if err != nil {
				t.Fatal(err)
			}
			cookie := &http.Cookie{Name: s.sessions.CookieName(), Value: sealedSession}
			for _, p := range posts {
				if api.name == "failing" && p.name == "limits" {
					// Nothing is sent at this stage: with the case read, it
					// goes on to the check page.
					continue
				}
				form := url.Values{"formId": {"0b0c5a43-4b53-4a8e-9d0e-1b2f7b1c9a11"}}
				for k, v := range p.form {
					form[k] = v
				}
				req, _ := http.NewRequest(http.MethodPost, site.URL+p.path, strings.NewReader(form.Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				req.AddCookie(cookie)
				resp, body := fetch(t, req)
				if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
					t.Errorf("%s: status %d, Retry-After %q", p.name, resp.StatusCode, resp.Header.Get("Retry-After"))
				}
				for _, k := range append(p.kept, `value="0b0c5a43-4b53-4a8e-9d0e-1b2f7b1c9a11"`) {
					if !strings.Contains(body, k) {
						t.Errorf("%s: the page lacks %q", p.name, k)
					}
				}
				checkPage(t, body)
			}
			for _, path := range []string{"/riverside/cases/c1/meetings", "/riverside/cases/c1/response"} {
				req, _ := http.NewRequest(http.MethodGet, site.URL+path, nil)
				req.AddCookie(cookie)
				resp, body := fetch(t, req)
				if api.name != "failing" && (resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(body, "try again in a few minutes")) {
					t.Errorf("%s: status %d, not the calm page", path, resp.StatusCode)
				}
				checkPage(t, body)
			}
		})
	}
}
