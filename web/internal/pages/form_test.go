package pages

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestFormTooLong posts more than each form takes: every one answers 413
// with the calm page that says so, in the group's name, and nothing is sent
// on to the API.
func TestFormTooLong(t *testing.T) {
	t.Parallel()
	fake := &concernAPI{}
	apiServer := httptest.NewServer(fake)
	t.Cleanup(apiServer.Close)
	site := serveSite(t, newTestSite(t, apiServer.URL))
	for _, tt := range []struct {
		name, path string
		size       int
	}{
		{"the concern form", "/riverside/concern", maxFormBytes + 1},
		{"the client's sign-in", "/riverside/sign-in", 4<<10 + 1},
		{"the member's sign-in", "/riverside/members/sign-in", 4<<10 + 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			req, _ := http.NewRequest(http.MethodPost, site.URL+tt.path, strings.NewReader("description="+strings.Repeat("a", tt.size)))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Origin", site.URL)
			resp, body := fetch(t, req)
			if resp.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(body, "What you sent is too long") {
				t.Errorf("HTTP %d; want 413 and the page that says so:\n%s", resp.StatusCode, body)
			}
			checkPage(t, body)
		})
	}
	if fake.last() != nil {
		t.Error("a form that was too long reached the API")
	}
}
