package pages

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
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
