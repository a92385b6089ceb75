package pages

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// TestSignInWrongCode: when the reference and the access code do not open
// a concern (the API never says which of the two is wrong), both fields
// are marked, the page says plainly that one of them is not right and why
// it cannot say which, the reference is kept as typed (tidied) and the
// code is not shown again, and it says what to do if the code is lost.
func TestSignInWrongCode(t *testing.T) {
	t.Parallel()
	apiServer := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.Method == http.MethodGet && r.URL.Path == "/v1/groups/riverside":
			io.WriteString(w, `{"name": "groups/riverside", "displayName": "Riverside Practitioners", "publicContact": "contact@riverside.example.org"}`)
		case r.Method == http.MethodPost && r.URL.Path == "/v1/clientSessions":
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, `{"code": 16, "message": "the reference or access code is not valid", "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "INVALID_ACCESS_CODE", "domain": "disputes.ipn.org.uk"}]}`)
		default:
			w.WriteHeader(http.StatusNotFound)
			io.WriteString(w, `{"code": 5, "message": "not here"}`)
		}
	}))
	t.Cleanup(apiServer.Close)
	site := serveSite(t, newTestSite(t, apiServer.URL))

	const code = "ABCD-EFGH-JKMN-PQRS-TVWX-YZ01-20"
	form := url.Values{"reference": {" k7qm 3xrd "}, "accessCode": {strings.ToLower(code)}}
	req, _ := http.NewRequest(http.MethodPost, site.URL+"/riverside/sign-in", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, body := fetch(t, req)
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("status %d, want 401", resp.StatusCode)
	}
	for _, want := range []string{
		// Both fields marked, each with its message, and both in the
		// summary, linked.
		`id="reference-error"`, `aria-describedby="reference-hint reference-error"`,
		`id="access-code-error"`, `aria-describedby="access-code-hint access-code-error"`,
		`href="#reference"`, `href="#access-code"`,
		"The reference or the access code is not right. For your safety, we cannot say which",
		"If you have lost it, ask the group: your support person can give you a new one",
		// The reference kept, in the form it was given.
		`value="K7QM-3XRD"`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	if n := strings.Count(body, `class="field field-error"`); n != 2 {
		t.Errorf("%d fields marked, want both", n)
	}
	for _, never := range []string{code, strings.ToLower(code), "ABCDEFGH"} {
		if strings.Contains(body, never) {
			t.Errorf("the page shows the access code again (%q)", never)
		}
	}
	checkPage(t, body)
}
