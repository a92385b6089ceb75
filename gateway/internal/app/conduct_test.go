package app

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	intakev1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/intake/v1"
)

// violations returns the fields of the BadRequest field violations of an
// error answer, in order.
func violations(t *testing.T, resp response) (e errorBody, fields []string) {
	t.Helper()
	if err := json.Unmarshal(resp.body, &e); err != nil {
		t.Fatalf("not JSON: %v: %s", err, resp.body)
	}
	if br := e.detail("google.rpc.BadRequest"); br != nil {
		vs, _ := br["fieldViolations"].([]any)
		for _, v := range vs {
			fields = append(fields, fmt.Sprint(v.(map[string]any)["field"]))
		}
	}
	return e, fields
}

// TestFieldViolationsNameJSONFields: the field violations a service gives
// on proto paths reach a REST client named as its JSON spells them: JSON
// names, inside the body the route takes (CreateConcern's body is the
// concern), the body itself as "(body)", a query parameter by its JSON
// name; a path the request does not have stays as it is. The message that
// lists them follows.
func TestFieldViolationsNameJSONFields(t *testing.T) {
	t.Parallel()
	s := startSystem(t, nil)
	resp := do(t, "POST", s.url+"/v1/groups/g/concerns", map[string]string{"Content-Type": "application/json"},
		strings.NewReader(`{"description": "violations"}`))
	if resp.status != http.StatusBadRequest {
		t.Fatalf("status %d: %s", resp.status, resp.body)
	}
	e, fields := violations(t, resp)
	want := []string{"clientName", "clientContact.email", "requestId", "(body)", "not_a_field"}
	if strings.Join(fields, " ") != strings.Join(want, " ") {
		t.Errorf("fields %q, want %q", fields, want)
	}
	if wantMessage := "the request has invalid fields: " + strings.Join(want, ", "); e.Message != wantMessage {
		t.Errorf("message %q, want %q", e.Message, wantMessage)
	}
}

// TestContentType: a body on a route that takes one must say it is JSON,
// or it is 415 UNSUPPORTED_MEDIA_TYPE and never reaches the service; an
// empty body, and a body on a route that takes none, need no type.
func TestContentType(t *testing.T) {
	t.Parallel()
	s := startSystem(t, nil)
	tests := []struct {
		name        string
		method      string
		path        string
		contentType string // none when empty
		body        string
		wantStatus  int
		// wantAccept is the Accept-Post header of a 415.
		wantAccept string
	}{
		{name: "JSON", method: "POST", path: "/v1/groups/g/concerns", contentType: "application/json",
			body: `{"description": "ct1"}`, wantStatus: 200},
		{name: "JSON with a charset", method: "POST", path: "/v1/groups/g/concerns", contentType: "application/json; charset=utf-8",
			body: `{"description": "ct2"}`, wantStatus: 200},
		{name: "JSON in capitals", method: "POST", path: "/v1/groups/g/concerns", contentType: "Application/JSON",
			body: `{"description": "ct3"}`, wantStatus: 200},
		{name: "no Content-Type", method: "POST", path: "/v1/groups/g/concerns",
			body: `{"description": "ct4"}`, wantStatus: 415, wantAccept: "application/json"},
		{name: "text/plain, as a page's simple request sends it", method: "POST", path: "/v1/groups/g/concerns", contentType: "text/plain;charset=UTF-8",
			body: `{"description": "ct5"}`, wantStatus: 415, wantAccept: "application/json"},
		{name: "a form", method: "POST", path: "/v1/groups/g/concerns", contentType: "application/x-www-form-urlencoded",
			body: `description=ct6`, wantStatus: 415, wantAccept: "application/json"},
		{name: "another JSON-like type", method: "POST", path: "/v1/groups/g/concerns", contentType: "application/merge-patch+json",
			body: `{"description": "ct7"}`, wantStatus: 415, wantAccept: "application/json"},
		{name: "a type that cannot be read", method: "POST", path: "/v1/groups/g/concerns", contentType: "application/json; =",
			body: `{"description": "ct8"}`, wantStatus: 415, wantAccept: "application/json"},
		{name: "an empty body needs no type", method: "POST", path: "/v1/clientSessions", wantStatus: 200},
		{name: "a body on a route that takes none needs no type", method: "GET", path: "/v1/groups/g/cases/c1",
			body: `{}`, wantStatus: 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			header := map[string]string{}
			if tt.contentType != "" {
				header["Content-Type"] = tt.contentType
			}
			var body io.Reader
			if tt.body != "" {
				body = strings.NewReader(tt.body)
			}
			resp := do(t, tt.method, s.url+tt.path, header, body)
			if resp.status != tt.wantStatus {
				t.Fatalf("status %d, want %d: %s", resp.status, tt.wantStatus, resp.body)
			}
			description := strings.TrimSuffix(strings.TrimPrefix(tt.body, `{"description": "`), `"}`)
			reached := s.intake.received(func(c call) bool {
				r, ok := c.request.(*intakev1.CreateConcernRequest)
				return ok && r.GetConcern().GetDescription() == description
			})
			if tt.wantStatus != 415 {
				return
			}
			if reached {
				t.Error("the call reached intake")
			}
			e, _ := violations(t, resp)
			if info := e.detail("google.rpc.ErrorInfo"); e.Code != 3 || info == nil || info["reason"] != "UNSUPPORTED_MEDIA_TYPE" {
				t.Errorf("code %d, ErrorInfo %v, want 3 UNSUPPORTED_MEDIA_TYPE", e.Code, info)
			}
			if !strings.Contains(e.Message, "Content-Type: application/json") {
				t.Errorf("message %q does not say what to send", e.Message)
			}
			if got := resp.header.Get("Accept-Post"); got != tt.wantAccept {
				t.Errorf("Accept-Post %q, want %q", got, tt.wantAccept)
			}
		})
	}
}

// TestCORS: with CORS_ALLOWED_ORIGINS set, a preflight from a configured
// origin is answered with what a page needs to call the API, and one from
// any other origin is not; answers to a configured origin let its page read
// them, Retry-After included. Without the setting there is no CORS at all.
func TestCORS(t *testing.T) {
	t.Parallel()
	const website = "https://riverside.example.org"
	withCORS := startSystem(t, func(c *Config) { c.CORSAllowedOrigins = website + ", http://localhost:5173" })
	without := startSystem(t, nil)
	preflight := func(origin, method, headers string) map[string]string {
		h := map[string]string{"Origin": origin, "Access-Control-Request-Method": method}
		if headers != "" {
			h["Access-Control-Request-Headers"] = headers
		}
		return h
	}
	tests := []struct {
		name   string
		url    string
		method string
		path   string
		header map[string]string
		// wantStatus is the status; wantOrigin the Access-Control-Allow-Origin
		// (none when empty).
		wantStatus int
		wantOrigin string
		// wantHeaders are other headers the answer must carry.
		wantHeaders map[string]string
	}{
		{name: "a preflight from the website", url: withCORS.url, method: "OPTIONS", path: "/v1/groups/g/concerns",
			header: preflight(website, "POST", "content-type"), wantStatus: 204, wantOrigin: website,
			wantHeaders: map[string]string{"Access-Control-Allow-Methods": "POST", "Access-Control-Allow-Headers": "content-type", "Access-Control-Max-Age": "600"}},
		{name: "a preflight with a token, a deadline and a PATCH", url: withCORS.url, method: "OPTIONS", path: "/v1/groups/g",
			header: preflight(website, "PATCH", "authorization,content-type,grpc-timeout"), wantStatus: 204, wantOrigin: website,
			wantHeaders: map[string]string{"Access-Control-Allow-Methods": "PATCH", "Access-Control-Allow-Headers": "authorization,content-type,grpc-timeout"}},
		{name: "a preflight from the other configured origin", url: withCORS.url, method: "OPTIONS", path: "/v1/groups/g/cases",
			header: preflight("http://localhost:5173", "GET", "authorization"), wantStatus: 204, wantOrigin: "http://localhost:5173"},
		{name: "a preflight from another origin", url: withCORS.url, method: "OPTIONS", path: "/v1/groups/g/concerns",
			header: preflight("https://elsewhere.example.com", "POST", "content-type"), wantStatus: 204},
		{name: "a preflight from a look-alike origin", url: withCORS.url, method: "OPTIONS", path: "/v1/groups/g/concerns",
			header: preflight("https://riverside.example.org.evil.example", "POST", "content-type"), wantStatus: 204},
		{name: "a preflight for a header the API does not take", url: withCORS.url, method: "OPTIONS", path: "/v1/groups/g/concerns",
			header: preflight(website, "POST", "x-secret"), wantStatus: 204},
		{name: "a preflight for a method the API does not use", url: withCORS.url, method: "OPTIONS", path: "/v1/groups/g/concerns",
			header: preflight(website, "PUT", ""), wantStatus: 204},
		{name: "a request from the website", url: withCORS.url, method: "GET", path: "/v1/groups/g/cases/c1",
			header: map[string]string{"Origin": website}, wantStatus: 200, wantOrigin: website,
			wantHeaders: map[string]string{"Access-Control-Expose-Headers": "Retry-After"}},
		{name: "a 429 to the website, whose Retry-After it may read", url: withCORS.url, method: "GET", path: "/v1/groups/g/cases/exhausted",
			header: map[string]string{"Origin": website}, wantStatus: 429, wantOrigin: website,
			wantHeaders: map[string]string{"Access-Control-Expose-Headers": "Retry-After", "Retry-After": "7"}},
		{name: "a request from another origin", url: withCORS.url, method: "GET", path: "/v1/groups/g/cases/c1",
			header: map[string]string{"Origin": "https://elsewhere.example.com"}, wantStatus: 200},
		{name: "no CORS without the setting: a preflight", url: without.url, method: "OPTIONS", path: "/v1/groups/g/concerns",
			header: preflight(website, "POST", "content-type"), wantStatus: 405},
		{name: "no CORS without the setting: a request", url: without.url, method: "GET", path: "/v1/groups/g/cases/c1",
			header: map[string]string{"Origin": website}, wantStatus: 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			resp := do(t, tt.method, tt.url+tt.path, tt.header, nil)
			if resp.status != tt.wantStatus {
				t.Errorf("status %d, want %d: %s", resp.status, tt.wantStatus, resp.body)
			}
			if got := resp.header.Get("Access-Control-Allow-Origin"); got != tt.wantOrigin {
				t.Errorf("Access-Control-Allow-Origin %q, want %q", got, tt.wantOrigin)
			}
			for k, want := range tt.wantHeaders {
				if got := resp.header.Get(k); got != want {
					t.Errorf("%s %q, want %q", k, got, want)
				}
			}
			if got := resp.header.Get("Access-Control-Allow-Credentials"); got != "" {
				t.Errorf("Access-Control-Allow-Credentials %q: tokens travel in the Authorization header, not cookies", got)
			}
			if tt.wantOrigin == "" {
				for k := range resp.header {
					if strings.HasPrefix(k, "Access-Control-") {
						t.Errorf("%s: %q, for an origin that is not allowed", k, resp.header.Get(k))
					}
				}
			}
		})
	}
}

// TestCORSSetting: a CORS_ALLOWED_ORIGINS entry that is not an origin stops
// the start with a message that names the setting and the entry.
func TestCORSSetting(t *testing.T) {
	t.Parallel()
	for _, value := range []string{"*", "https://*.example.org", "https://riverside.example.org/", "riverside.example.org", "ftp://riverside.example.org"} {
		t.Run(value, func(t *testing.T) {
			t.Parallel()
			cfg := defaults(t)
			cfg.CORSAllowedOrigins = "https://ok.example.org," + value
			err := Run(context.Background(), cfg)
			if err == nil || !strings.Contains(err.Error(), "CORS_ALLOWED_ORIGINS") || !strings.Contains(err.Error(), fmt.Sprintf("%q", value)) {
				t.Errorf("Run = %v, want an error naming CORS_ALLOWED_ORIGINS and %q", err, value)
			}
		})
	}
}
