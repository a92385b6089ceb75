package secure

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

func TestHeaders(t *testing.T) {
	t.Parallel()
	page := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("<p>hi</p>")) })
	static := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	})
	notFound := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) })
	tests := []struct {
		name      string
		https     bool
		handler   http.Handler
		wantCache string
	}{
		{"a page over http", false, page, "no-store"},
		{"a page over https", true, page, "no-store"},
		{"an error", true, notFound, "no-store"},
		{"a static file", true, static, "public, max-age=31536000, immutable"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rec := httptest.NewRecorder()
			Headers(tc.https, tc.handler).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/riverside/", nil))
			h := rec.Result().Header
			want := map[string]string{
				"Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self'; script-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
				"Referrer-Policy":         "no-referrer",
				"X-Content-Type-Options":  "nosniff",
				"X-Frame-Options":         "DENY",
				"Cache-Control":           tc.wantCache,
			}
			for k, v := range want {
				if got := h.Get(k); got != v {
					t.Errorf("%s = %q, want %q", k, got, v)
				}
			}
			pp := h.Get("Permissions-Policy")
			for _, f := range []string{"camera=()", "microphone=()", "geolocation=()", "payment=()"} {
				if !strings.Contains(pp, f) {
					t.Errorf("Permissions-Policy %q lacks %s", pp, f)
				}
			}
			if hsts := h.Get("Strict-Transport-Security"); (hsts != "") != tc.https {
				t.Errorf("Strict-Transport-Security = %q over https=%v", hsts, tc.https)
			}
			if csp := h.Get("Content-Security-Policy"); strings.Contains(csp, "unsafe") || strings.Contains(csp, "http") {
				t.Errorf("CSP allows too much: %q", csp)
			}
		})
	}
}

func TestCrossOrigin(t *testing.T) {
	t.Parallel()
	public, _ := url.Parse("https://disputes.example.org")
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	refused := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusForbidden) })
	h, err := CrossOrigin(public, refused, ok)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		method  string
		host    string
		headers map[string]string
		want    int
	}{
		{"a post from another site", http.MethodPost, "127.0.0.1:7190", map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"}, http.StatusForbidden},
		{"a post from another origin, old browser", http.MethodPost, "127.0.0.1:7190", map[string]string{"Origin": "https://evil.example"}, http.StatusForbidden},
		{"a post from a sibling subdomain", http.MethodPost, "disputes.example.org", map[string]string{"Sec-Fetch-Site": "same-site", "Origin": "https://other.example.org"}, http.StatusForbidden},
		{"a post from the site itself", http.MethodPost, "127.0.0.1:7190", map[string]string{"Sec-Fetch-Site": "same-origin", "Origin": "http://127.0.0.1:7190"}, http.StatusNoContent},
		{"a post through a proxy that changes Host", http.MethodPost, "web:7190", map[string]string{"Origin": "https://disputes.example.org"}, http.StatusNoContent},
		{"a post with neither header (not a browser)", http.MethodPost, "127.0.0.1:7190", nil, http.StatusNoContent},
		{"a cross-site GET (a link in an e-mail)", http.MethodGet, "127.0.0.1:7190", map[string]string{"Sec-Fetch-Site": "cross-site"}, http.StatusNoContent},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			req := httptest.NewRequest(tc.method, "/riverside/concern", nil)
			req.Host = tc.host
			for k, v := range tc.headers {
				req.Header.Set(k, v)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tc.want {
				t.Errorf("status %d, want %d", rec.Code, tc.want)
			}
		})
	}
}
