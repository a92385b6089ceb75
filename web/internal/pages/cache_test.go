package pages

import (
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/ipnmediation/disputes/web/internal/session"
)

// countingAPI is meetingsAPI with the case's timeline, counting the calls
// by path and whether each carried a session.
type countingAPI struct {
	mu    sync.Mutex
	calls map[string]int
	// anonymous counts the calls by path that carried no credentials.
	anonymous map[string]int
	next      http.Handler
}

func (a *countingAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	a.calls[r.URL.Path]++
	if r.Header.Get("Authorization") == "" {
		a.anonymous[r.URL.Path]++
	}
	a.mu.Unlock()
	if r.URL.Path == "/v1/groups/riverside/cases/c1/timelineEntries" {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"timelineEntries": [{"step": "appoint_spc", "title": "A support person was appointed", "createTime": "2027-01-01T10:00:00Z"}]}`)
		return
	}
	a.next.ServeHTTP(w, r)
}

func (a *countingAPI) count(path string) (all, anonymous int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.calls[path], a.anonymous[path]
}

// TestPublicReadsCached: the group and the support person's name, read by
// every page without credentials, are asked of the API once while they are
// kept (10 s here) and again after; the case, its timeline and its meetings,
// read with the client's session, are asked for on every page, whoever
// asks. It fails with the cache off, or with a session's read kept.
func TestPublicReadsCached(t *testing.T) {
	t.Parallel()
	fake := &countingAPI{calls: map[string]int{}, anonymous: map[string]int{}, next: meetingsAPI(false)}
	apiServer := httptest.NewServer(fake)
	t.Cleanup(apiServer.Close)
	clk := &struct {
		sync.Mutex
		t time.Time
	}{t: time.Now()}
	now := func() time.Time { clk.Lock(); defer clk.Unlock(); return clk.t }
	s := newTestSite(t, apiServer.URL, func(o *Options) {
		o.API = newAPI(t, apiServer.URL, 2*time.Second)
		o.API.CachePublic(10*time.Second, now)
	})
	site := serveSite(t, s)
	get := func(path, token string) {
		t.Helper()
		sealed, err := s.sessions.Seal(session.Session{Token: token, Case: "groups/riverside/cases/c1", Expiry: time.Now().Add(time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		req, _ := http.NewRequest(http.MethodGet, site.URL+path, nil)
		req.AddCookie(&http.Cookie{Name: s.sessions.CookieName(), Value: sealed})
		if resp, body := fetch(t, req); resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: status %d:\n%s", path, resp.StatusCode, body)
		}
	}
	type want struct {
		path       string
		calls      int
		anonymous  bool
		whatItIsOf string
	}
	check := func(when string, wants []want) {
		t.Helper()
		for _, w := range wants {
			all, anon := fake.count(w.path)
			if all != w.calls {
				t.Errorf("%s: %d calls for %s, want %d", when, all, w.whatItIsOf, w.calls)
			}
			if w.anonymous && anon != all || !w.anonymous && anon != 0 {
				t.Errorf("%s: %d of %d calls for %s without credentials", when, anon, all, w.whatItIsOf)
			}
		}
	}
	const (
		group    = "/v1/groups/riverside"
		member   = "/v1/groups/riverside/members/alex-morgan"
		theCase  = "/v1/groups/riverside/cases/c1"
		timeline = "/v1/groups/riverside/cases/c1/timelineEntries"
		meetings = "/v1/groups/riverside/cases/c1/meetings"
	)
	get("/riverside/cases/c1", "ipncs_first")
	get("/riverside/cases/c1/meetings", "ipncs_first")
	// Another session for the same case, within the ttl: what it reads with
	// its session is its own.
	get("/riverside/cases/c1/meetings", "ipncs_second")
	check("three pages within the ttl", []want{
		{group, 1, true, "the group"},
		{member, 1, true, "the support person's name"},
		{theCase, 3, false, "the case"},
		{timeline, 1, false, "the timeline"},
		{meetings, 2, false, "the meetings"},
	})

	clk.Lock()
	clk.t = clk.t.Add(10 * time.Second)
	clk.Unlock()
	get("/riverside/cases/c1", "ipncs_first")
	check("a page after the ttl", []want{
		{group, 2, true, "the group"},
		{member, 2, true, "the support person's name"},
		{theCase, 4, false, "the case"},
		{timeline, 2, false, "the timeline"},
	})
}
