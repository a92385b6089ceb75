package httpapi

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// TestReferencePage loads the reference page through the gateway's handler,
// as a browser would: the page, every file it references, and the document
// the script renders. Each answers 200 with its type and the page's
// Content-Security-Policy, which lets the browser reach this origin only;
// nothing the page or its script names is on another host.
func TestReferencePage(t *testing.T) {
	t.Parallel()
	doc := []byte(`{"openapi":"3.0.3"}`)
	h, err := New(context.Background(), Options{OpenAPI: doc})
	if err != nil {
		t.Fatal(err)
	}
	get := func(t *testing.T, target string, header http.Header) *httptest.ResponseRecorder {
		t.Helper()
		req := httptest.NewRequest(http.MethodGet, target, nil)
		for k, v := range header {
			req.Header[k] = v
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	base, _ := url.Parse("http://gateway.test/reference")
	page := get(t, base.Path, nil)
	if page.Code != http.StatusOK || !strings.HasPrefix(page.Header().Get("Content-Type"), "text/html") {
		t.Fatalf("GET /reference: %d %s", page.Code, page.Header().Get("Content-Type"))
	}
	checkPolicy(t, page.Header().Get("Content-Security-Policy"))

	refs := regexp.MustCompile(`(?:src|href)="([^"]+)"`).FindAllStringSubmatch(page.Body.String(), -1)
	if len(refs) < 2 {
		t.Fatalf("the page references %d files, want the bundle and its start", len(refs))
	}
	scripts := 0
	for _, ref := range refs {
		u, err := base.Parse(ref[1])
		if err != nil || u.Host != base.Host {
			t.Errorf("the page references %q, not on this gateway", ref[1])
			continue
		}
		t.Run(u.Path, func(t *testing.T) {
			rec := get(t, u.Path, nil)
			if rec.Code != http.StatusOK || rec.Body.Len() == 0 {
				t.Fatalf("GET %s: %d, %d bytes", u.Path, rec.Code, rec.Body.Len())
			}
			if u.Path == "/openapi.json" {
				return // the noscript link; its own test checks it
			}
			checkPolicy(t, rec.Header().Get("Content-Security-Policy"))
			if !strings.HasSuffix(u.Path, ".js") {
				return
			}
			scripts++
			if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/javascript") {
				t.Errorf("GET %s: Content-Type %q", u.Path, ct)
			}
			if rec.Header().Get("X-Content-Type-Options") != "nosniff" {
				t.Errorf("GET %s: no nosniff", u.Path)
			}
			// A browser that has the file is told it has not changed.
			again := get(t, u.Path, http.Header{"If-None-Match": {rec.Header().Get("ETag")}})
			if again.Code != http.StatusNotModified {
				t.Errorf("GET %s again with its ETag: %d, want 304", u.Path, again.Code)
			}
		})
	}
	if scripts != 2 {
		t.Errorf("%d scripts loaded, want the bundle and init.js", scripts)
	}

	// The script that starts Redoc names the document relative to the page,
	// and no other host.
	init := get(t, "/reference/init.js", nil).Body.String()
	if strings.Contains(init, "//") {
		t.Errorf("init.js names a URL with a host: %s", init)
	}
	spec := regexp.MustCompile(`Redoc\.init\("([^"]+)"`).FindStringSubmatch(init)
	if spec == nil {
		t.Fatalf("init.js starts Redoc on no document: %s", init)
	}
	specURL, _ := base.Parse(spec[1])
	rec := get(t, specURL.Path, nil)
	if rec.Code != http.StatusOK || rec.Body.String() != string(doc) {
		t.Errorf("GET %s (the document the page renders): %d %q", specURL.Path, rec.Code, rec.Body)
	}

	// The licences are served with the bundle; no other file is.
	for _, name := range []string{"LICENSE", "redoc.standalone.js.LICENSE.txt"} {
		if rec := get(t, "/reference/"+name, nil); rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "MIT") {
			t.Errorf("GET /reference/%s: %d", name, rec.Code)
		}
	}
	if rec := get(t, "/reference/httpapi.go", nil); rec.Code != http.StatusNotFound {
		t.Errorf("GET /reference/httpapi.go: %d, want 404", rec.Code)
	}
}

// checkPolicy fails unless the Content-Security-Policy lets the page load
// from its own origin only: every source of every directive is 'self', a
// keyword, or a data: or blob: URL, never a host.
func checkPolicy(t *testing.T, policy string) {
	t.Helper()
	if policy == "" {
		t.Fatal("no Content-Security-Policy")
	}
	directives := map[string]bool{}
	for _, d := range strings.Split(policy, ";") {
		fields := strings.Fields(d)
		if len(fields) == 0 {
			continue
		}
		directives[fields[0]] = true
		for _, src := range fields[1:] {
			if !strings.HasPrefix(src, "'") && src != "data:" && src != "blob:" {
				t.Errorf("Content-Security-Policy %s allows %s", fields[0], src)
			}
		}
	}
	if !directives["default-src"] {
		t.Errorf("Content-Security-Policy %q has no default-src", policy)
	}
}
