package pages

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// groupAPI is the little of the REST API the frame of a page needs: the
// group riverside, no other group, and a switch that takes the API down
// (503, as the gateway answers when a service is).
type groupAPI struct {
	down atomic.Bool
}

func (a *groupAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	switch {
	case a.down.Load():
		w.Header().Set("Retry-After", "2")
		w.WriteHeader(http.StatusServiceUnavailable)
		io.WriteString(w, `{"code": 14, "message": "the service is not available at the moment; try again shortly", "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "SERVICE_UNAVAILABLE", "domain": "disputes.ipn.org.uk"}]}`)
	case r.Method == http.MethodGet && r.URL.Path == "/v1/groups/riverside":
		io.WriteString(w, `{"name": "groups/riverside", "displayName": "Riverside Practitioners", "publicContact": "contact@riverside.example.org"}`)
	default:
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, `{"code": 5, "message": "no such group", "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "GROUP_NOT_FOUND", "domain": "disputes.ipn.org.uk"}]}`)
	}
}

// TestErrorPagesKeepTheGroup: a page not found under a group's path, and
// the "something is not working" page, name the group and link back to its
// page whenever the group is known: the path names a group that exists, or
// the site read the group before the API went down. Otherwise the header
// is neutral and the page says how to find the group's own link.
func TestErrorPagesKeepTheGroup(t *testing.T) {
	t.Parallel()
	groupFrame := []string{`class="site-name" href="/riverside/"`, ">Riverside Practitioners</a>", `id="back-to-group"`}
	neutral := []string{`class="site-name" href="/" id="site-name">Raising a concern</a>`, `id="find-group"`, "use the link the group gave you"}
	cases := []struct {
		name string
		// readFirst reads the group's page before the API goes down.
		readFirst, down bool
		path            string
		status          int
		see, never      []string
	}{
		{"a page not found in a group", false, false, "/riverside/nothing-here", 404, append([]string{"Page not found"}, groupFrame...), neutral},
		{"a case's path not found", false, false, "/riverside/cases/UPPER", 404, groupFrame, neutral},
		{"no such group", false, false, "/nowhere/nothing-here", 404, append([]string{"Page not found"}, neutral...), groupFrame},
		{"not a group's path", false, false, "/static/nothing.css", 404, neutral, groupFrame},
		{"the API down, the group read before", true, true, "/riverside/", 503,
			append([]string{"something on our side is not working", "contact@riverside.example.org"}, groupFrame...), neutral},
		{"the API down, a page not found in a group read before", true, true, "/riverside/nothing-here", 404, groupFrame, neutral},
		{"the API down, the group never read", false, true, "/riverside/sign-in", 503, append([]string{"something on our side is not working"}, neutral...), groupFrame},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			fake := &groupAPI{}
			apiServer := httptest.NewServer(fake)
			t.Cleanup(apiServer.Close)
			site := serveSite(t, newTestSite(t, apiServer.URL, func(o *Options) { o.API = newAPI(t, apiServer.URL, time.Second) }))
			if c.readFirst {
				req, _ := http.NewRequest(http.MethodGet, site.URL+"/riverside/", nil)
				if resp, _ := fetch(t, req); resp.StatusCode != http.StatusOK {
					t.Fatalf("the group's page: %d", resp.StatusCode)
				}
			}
			fake.down.Store(c.down)
			req, _ := http.NewRequest(http.MethodGet, site.URL+c.path, nil)
			resp, body := fetch(t, req)
			if resp.StatusCode != c.status {
				t.Errorf("status %d, want %d", resp.StatusCode, c.status)
			}
			for _, s := range c.see {
				if !strings.Contains(body, s) {
					t.Errorf("the page lacks %q", s)
				}
			}
			for _, s := range c.never {
				if strings.Contains(body, s) {
					t.Errorf("the page has %q", s)
				}
			}
			checkPage(t, body)
		})
	}
}

// TestGroupForgotten: a group the API says no longer exists is not named
// on the pages that say the API is down.
func TestGroupForgotten(t *testing.T) {
	t.Parallel()
	s := newTestSite(t, "")
	s.groups.remember(&groupView{ID: "riverside", Name: "Riverside Practitioners"})
	s.groups.remember(&groupView{ID: "hillside", Name: "Hillside"})
	s.groups.forget("riverside")
	if g := s.groups.last("riverside"); g != nil {
		t.Errorf("a forgotten group is still known: %+v", g)
	}
	if g := s.groups.last("hillside"); g == nil || g.Name != "Hillside" {
		t.Errorf("forgetting one group lost another: %+v", g)
	}
	for i := range maxKnownGroups + 5 {
		s.groups.remember(&groupView{ID: fmt.Sprintf("g%d", i)})
	}
	if n := len(s.groups.byID); n > maxKnownGroups || n != len(s.groups.order) {
		t.Errorf("%d groups known (%d in order), want at most %d", n, len(s.groups.order), maxKnownGroups)
	}
}
