package api

import (
	"context"
	"io"
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// clock is a test's clock, moved by hand.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// directoryStandIn answers a group, its members and a member, counting the
// calls by path; a path in fail answers 503 while set.
type directoryStandIn struct {
	calls sync.Map // path -> *atomic.Int64
	fail  atomic.Bool
	// hold, when set, is waited for before the group is answered.
	hold chan struct{}
}

func (d *directoryStandIn) count(path string) int64 {
	n, _ := d.calls.LoadOrStore(path, new(atomic.Int64))
	return n.(*atomic.Int64).Load()
}

func (d *directoryStandIn) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n, _ := d.calls.LoadOrStore(r.URL.Path, new(atomic.Int64))
	n.(*atomic.Int64).Add(1)
	w.Header().Set("Content-Type", "application/json")
	if d.fail.Load() {
		w.WriteHeader(http.StatusServiceUnavailable)
		io.WriteString(w, `{"code": 14, "message": "down"}`)
		return
	}
	switch r.URL.Path {
	case "/v1/groups/riverside":
		if d.hold != nil {
			<-d.hold
		}
		io.WriteString(w, `{"name": "groups/riverside", "displayName": "Riverside Practitioners"}`)
	case "/v1/groups/riverside/members":
		io.WriteString(w, `{"members": [{"name": "groups/riverside/members/alex-morgan", "displayName": "Alex Morgan"}]}`)
	case "/v1/groups/riverside/members/alex-morgan":
		io.WriteString(w, `{"name": "groups/riverside/members/alex-morgan", "displayName": "Alex Morgan"}`)
	default:
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, `{"code": 5, "message": "not here"}`)
	}
}

// TestPublicCache: with CachePublic, a group, its members and a member are
// asked of the API once within the ttl and again after it; a failure is
// not kept; each caller gets its own copy; without it, every read is a
// call.
func TestPublicCache(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	reads := []struct {
		name, path string
		read       func(c *Client) (string, error)
	}{
		{"group", "/v1/groups/riverside", func(c *Client) (string, error) {
			g, err := c.GetGroup(ctx, "riverside")
			return g.GetDisplayName(), err
		}},
		{"members", "/v1/groups/riverside/members", func(c *Client) (string, error) {
			ms, err := c.ListActiveMembers(ctx, "riverside")
			if len(ms) != 1 {
				return "", err
			}
			return ms[0].GetDisplayName(), err
		}},
		{"member", "/v1/groups/riverside/members/alex-morgan", func(c *Client) (string, error) {
			m, err := c.GetMember(ctx, "groups/riverside/members/alex-morgan")
			return m.GetDisplayName(), err
		}},
	}
	for _, rd := range reads {
		t.Run(rd.name, func(t *testing.T) {
			t.Parallel()
			d := &directoryStandIn{}
			c := serve(t, d.ServeHTTP)
			clk := &clock{now: time.Date(2027, 1, 1, 10, 0, 0, 0, time.UTC)}
			c.CachePublic(10*time.Second, clk.Now)
			step := func(what string, wantCalls int64, wantErr bool) {
				t.Helper()
				name, err := rd.read(c)
				if (err != nil) != wantErr || !wantErr && name == "" {
					t.Errorf("%s: %q, %v", what, name, err)
				}
				if n := d.count(rd.path); n != wantCalls {
					t.Errorf("%s: %d calls, want %d", what, n, wantCalls)
				}
			}
			d.fail.Store(true)
			step("the API failing", 1, true)
			d.fail.Store(false)
			step("a failure is not kept", 2, false)
			step("within the ttl", 2, false)
			clk.add(9 * time.Second)
			step("just within the ttl", 2, false)
			clk.add(time.Second)
			step("at the ttl", 3, false)
		})
	}

	t.Run("copies", func(t *testing.T) {
		t.Parallel()
		c := serve(t, (&directoryStandIn{}).ServeHTTP)
		c.CachePublic(time.Minute, nil)
		g, err := c.GetGroup(ctx, "riverside")
		if err != nil {
			t.Fatal(err)
		}
		g.DisplayName = "changed by a page"
		if g, _ := c.GetGroup(ctx, "riverside"); g.GetDisplayName() != "Riverside Practitioners" {
			t.Errorf("a change to one answer reached the next: %q", g.GetDisplayName())
		}
	})

	t.Run("off", func(t *testing.T) {
		t.Parallel()
		d := &directoryStandIn{}
		c := serve(t, d.ServeHTTP)
		for range 3 {
			if _, err := c.GetGroup(ctx, "riverside"); err != nil {
				t.Fatal(err)
			}
		}
		if n := d.count("/v1/groups/riverside"); n != 3 {
			t.Errorf("%d calls without the cache, want 3", n)
		}
	})
}

// TestPublicCacheOneCall: pages that miss the same key at once make one
// call between them.
func TestPublicCacheOneCall(t *testing.T) {
	t.Parallel()
	d := &directoryStandIn{hold: make(chan struct{})}
	c := serve(t, d.ServeHTTP)
	c.CachePublic(time.Minute, nil)
	const pages = 20
	var started, done sync.WaitGroup
	started.Add(pages)
	done.Add(pages)
	errs := make(chan error, pages)
	for range pages {
		go func() {
			defer done.Done()
			started.Done()
			g, err := c.GetGroup(context.Background(), "riverside")
			if err == nil && g.GetDisplayName() != "Riverside Practitioners" {
				t.Errorf("got %q", g.GetDisplayName())
			}
			errs <- err
		}()
	}
	// The first call is held until every page has started, so that the
	// others ask while it is in flight.
	started.Wait()
	deadline := time.Now().Add(5 * time.Second)
	for d.count("/v1/groups/riverside") == 0 && time.Now().Before(deadline) {
		// Wait for the first call to reach the API.
		runtime.Gosched()
	}
	close(d.hold)
	done.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := d.count("/v1/groups/riverside"); n != 1 {
		t.Errorf("%d calls for %d pages at once, want 1", n, pages)
	}
}
