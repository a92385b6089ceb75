// Package pages serves the website's pages: a group's page and its ethical
// statement, the concern form and its confirmation, signing in with the
// reference and access code, the client's case, its meetings, the written
// statement, the practitioner's response and the decision, the messages
// with the support person, withdrawing, and the pages for what goes wrong. Pages are rendered on the server from the
// templates in templates/ (html/template) and work without JavaScript; the
// one script, static/site.js, only adds buttons that copy or print.
//
// Handlers are thin: they read the request, call the API (package api), and
// put what it answers into the words of words.go. Nothing a person typed is
// ever logged.
package pages

import (
	"context"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/ipnmediation/disputes/platform/clientaddr"
	"github.com/ipnmediation/disputes/platform/metrics"
	"github.com/ipnmediation/disputes/platform/tracing"
	"github.com/ipnmediation/disputes/web/internal/api"
	"github.com/ipnmediation/disputes/web/internal/secure"
	"github.com/ipnmediation/disputes/web/internal/session"
	"github.com/prometheus/client_golang/prometheus"
)

//go:embed templates
var templateFiles embed.FS

// Options are what the site needs.
type Options struct {
	// API is the REST API's client.
	API *api.Client
	// Sessions seals the client's session into its cookie.
	Sessions *session.Store
	// PublicURL is the site's own address, for the links in the text file
	// a client saves, and (its scheme) HSTS.
	PublicURL *url.URL
	// TrustedProxies are the reverse proxies in front of the site whose
	// X-Forwarded-For is believed.
	TrustedProxies []netip.Prefix
	// Logger gets one line per request and every error.
	Logger *slog.Logger
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// OpeningWait bounds how long the case page waits for a case that
	// casework is still opening before it shows the "being set up" page;
	// 3 s when zero.
	OpeningWait time.Duration
	// Metrics, when set, receives every page's count and time per route
	// (disputes_http_*) and the site's readiness, which is the API's
	// (disputes_ready).
	Metrics prometheus.Registerer
}

// Site is the website.
type Site struct {
	api         *api.Client
	sessions    *session.Store
	public      *url.URL
	proxies     []netip.Prefix
	log         *slog.Logger
	now         func() time.Time
	openingWait time.Duration
	metrics     prometheus.Registerer
	assets      *assets
	pages       map[string]*template.Template
	london      *time.Location
	// forms makes a form sent twice act once.
	forms *forms
	// groups are the groups last read, for the pages that say the API is
	// down.
	groups knownGroups
}

// New loads the templates and static files and returns the site.
func New(o Options) (*Site, error) {
	s := &Site{
		api: o.API, sessions: o.Sessions, public: o.PublicURL, proxies: o.TrustedProxies,
		log: o.Logger, now: o.Now, openingWait: o.OpeningWait, metrics: o.Metrics,
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.openingWait == 0 {
		s.openingWait = 3 * time.Second
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.forms = newForms(s.now)
	var err error
	// Dates are shown as people in the UK read them, in UK time.
	if s.london, err = time.LoadLocation("Europe/London"); err != nil {
		return nil, fmt.Errorf("time zone: %w", err)
	}
	if s.assets, err = loadAssets(); err != nil {
		return nil, err
	}
	if s.pages, err = s.parseTemplates(); err != nil {
		return nil, err
	}
	return s, nil
}

// parseTemplates parses every page of templates/ with the layout and the
// shared parts, as one template set per page.
func (s *Site) parseTemplates() (map[string]*template.Template, error) {
	funcs := template.FuncMap{
		"asset":  s.assets.path,
		"date":   func(t time.Time) string { return t.In(s.london).Format("Monday 2 January 2006") },
		"moment": func(t time.Time) string { return momentWords(t, s.london) },
		"add":    func(a, b int) int { return a + b },
		"int":    func(n int32) int { return int(n) },
		// dict passes several values to a shared part of a page.
		"dict": func(kv ...any) (map[string]any, error) {
			if len(kv)%2 != 0 {
				return nil, fmt.Errorf("dict: %d arguments, not pairs", len(kv))
			}
			m := make(map[string]any, len(kv)/2)
			for i := 0; i < len(kv); i += 2 {
				k, ok := kv[i].(string)
				if !ok {
					return nil, fmt.Errorf("dict: key %v is not a string", kv[i])
				}
				m[k] = kv[i+1]
			}
			return m, nil
		},
		"lines": func(s string) []string { return strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n") },
		"plural": func(n int, one, many string) string {
			if n == 1 {
				return one
			}
			return many
		},
	}
	shared := []string{"templates/layout.html", "templates/parts.html"}
	entries, err := fs.Glob(templateFiles, "templates/page-*.html")
	if err != nil {
		return nil, err
	}
	out := map[string]*template.Template{}
	for _, e := range entries {
		name := strings.TrimSuffix(strings.TrimPrefix(path.Base(e), "page-"), ".html")
		t, err := template.New(name).Funcs(funcs).ParseFS(templateFiles, append(shared, e)...)
		if err != nil {
			return nil, fmt.Errorf("template %s: %w", name, err)
		}
		out[name] = t
	}
	return out, nil
}

// Handler is the whole site: every route, behind the security headers, the
// refusal of cross-site posts, a line of log per request and a page (not a
// stack trace) for a panic.
func (s *Site) Handler() (http.Handler, error) {
	// The group's pages take every path below /{group}/; the few fixed
	// paths are kept apart, so that no group's path can shadow them (and
	// no group may be called "static" or "healthz").
	pages := http.NewServeMux()
	pages.HandleFunc("GET /{$}", s.home)
	pages.HandleFunc("GET /{group}", s.groupSlash)
	pages.HandleFunc("GET /{group}/{$}", s.groupPage)
	pages.HandleFunc("GET /{group}/statement", s.statement)
	pages.HandleFunc("GET /{group}/concern", s.concernForm)
	pages.HandleFunc("POST /{group}/concern", s.concernSubmit)
	pages.HandleFunc("POST /{group}/concern/keep", s.concernKeep)
	pages.HandleFunc("GET /{group}/sign-in", s.signInForm)
	pages.HandleFunc("POST /{group}/sign-in", s.signInSubmit)
	pages.HandleFunc("POST /{group}/sign-out", s.signOut)
	pages.HandleFunc("GET /{group}/link", s.clientLinkForm)
	pages.HandleFunc("POST /{group}/link", s.clientLinkSubmit)
	pages.HandleFunc("GET /{group}/link/{secret}", s.linkOpen(s.clientLinks()))
	pages.HandleFunc("POST /{group}/link/{secret}", s.linkUse(s.clientLinks()))
	pages.HandleFunc("GET /{group}/members/sign-in", s.memberSignInForm)
	pages.HandleFunc("POST /{group}/members/sign-in", s.memberSignInSubmit)
	pages.HandleFunc("GET /{group}/sign-in/{secret}", s.linkOpen(s.memberLinks()))
	pages.HandleFunc("POST /{group}/sign-in/{secret}", s.linkUse(s.memberLinks()))
	pages.HandleFunc("GET /{group}/members/{$}", s.memberHome)
	pages.HandleFunc("GET /{group}/members/closed", s.closedCases)
	pages.HandleFunc("GET /{group}/members/admin/{$}", s.adminHome)
	s.adminDirectoryRoutes(pages)
	s.adminRecordRoutes(pages)
	pages.HandleFunc("GET /{group}/members/cases/{case}", s.memberCaseView)
	pages.HandleFunc("GET /{group}/members/cases/{case}/steps/{step}", s.stepForm)
	pages.HandleFunc("POST /{group}/members/cases/{case}/steps/{step}", s.stepSubmit)
	pages.HandleFunc("GET /{group}/members/cases/{case}/concern", s.memberConcern)
	pages.HandleFunc("GET /{group}/members/cases/{case}/documents", s.memberDocuments)
	pages.HandleFunc("GET /{group}/members/cases/{case}/meetings", s.memberMeetings)
	pages.HandleFunc("GET /{group}/members/cases/{case}/meetings/{meeting}/calendar", s.memberCalendar)
	pages.HandleFunc("GET /{group}/members/cases/{case}/messages", s.memberThread(false))
	pages.HandleFunc("POST /{group}/members/cases/{case}/messages", s.memberThreadSubmit(false))
	pages.HandleFunc("GET /{group}/members/cases/{case}/notes", s.memberThread(true))
	pages.HandleFunc("POST /{group}/members/cases/{case}/notes", s.memberThreadSubmit(true))
	pages.HandleFunc("GET /{group}/cases/{case}", s.casePage)
	pages.HandleFunc("GET /{group}/cases/{case}/withdraw", s.withdrawForm)
	pages.HandleFunc("POST /{group}/cases/{case}/withdraw", s.withdrawSubmit)
	pages.HandleFunc("GET /{group}/cases/{case}/meetings", s.meetingsPage)
	pages.HandleFunc("POST /{group}/cases/{case}/meetings/{meeting}", s.meetingAnswerSubmit)
	pages.HandleFunc("GET /{group}/cases/{case}/meetings/{meeting}/calendar", s.meetingCalendar)
	pages.HandleFunc("GET /{group}/cases/{case}/written-statement", s.statementPage)
	pages.HandleFunc("POST /{group}/cases/{case}/written-statement", s.statementSubmit)
	pages.HandleFunc("GET /{group}/cases/{case}/response", s.responseView)
	pages.HandleFunc("POST /{group}/cases/{case}/response", s.responseSubmit)
	pages.HandleFunc("GET /{group}/cases/{case}/messages", s.messagesView)
	pages.HandleFunc("POST /{group}/cases/{case}/messages", s.messageSubmit)
	pages.HandleFunc("/", s.notFound)

	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /static/{file}", func(w http.ResponseWriter, r *http.Request) { s.assets.serve(w, r, s.notFound) })
	mux.HandleFunc("/static/", s.notFound)
	mux.Handle("/", pages)
	routed := tracing.Patterns(mux)

	refused := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.log.LogAttrs(r.Context(), slog.LevelWarn, "cross-site request refused", slog.String("method", r.Method), slog.String("path", logPath(r.URL.Path)))
		s.render(w, r, http.StatusForbidden, "refused", layout{Title: "This request was refused"})
	})
	protected, err := secure.CrossOrigin(s.public, refused, routed)
	if err != nil {
		return nil, err
	}
	handler := secure.Headers(s.public.Scheme == "https", s.observe(protected))
	if s.metrics == nil {
		return handler, nil
	}
	s.metrics.MustRegister(metrics.Ready(s.api.Ready))
	return metrics.NewHTTP(s.metrics).Middleware(handler), nil
}

// observe logs one line per request (never its query or body: they may
// hold a person's words or an access code), passes the client's address on
// to the API calls, and turns a panic into a page.
func (s *Site) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := s.now()
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		if a, ok := clientaddr.Forwarded(r.RemoteAddr, r.Header.Values("X-Forwarded-For"), s.proxies); ok {
			r = r.WithContext(api.WithClientAddress(r.Context(), a))
		}
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				s.log.LogAttrs(r.Context(), slog.LevelError, "panic serving a page", slog.String("path", logPath(r.URL.Path)), slog.Any("panic", p))
				if !rec.wrote {
					s.render(rec, r, http.StatusInternalServerError, "problem", problemPage{layout: layout{Title: "Sorry, something went wrong"}})
				}
			}
			if r.URL.Path == "/healthz" {
				return
			}
			s.log.LogAttrs(r.Context(), slog.LevelInfo, "request",
				slog.String("method", r.Method), slog.String("path", logPath(r.URL.Path)), slog.String("route", r.Pattern),
				slog.Int("status", rec.status), slog.Duration("duration", s.now().Sub(start)))
		}()
		next.ServeHTTP(rec, r)
	})
}

type statusRecorder struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (r *statusRecorder) WriteHeader(code int) {
	if !r.wrote {
		r.status, r.wrote = code, true
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	r.wrote = true
	return r.ResponseWriter.Write(b)
}

// render writes the named page with data and status.
func (s *Site) render(w http.ResponseWriter, r *http.Request, status int, page string, data any) {
	t, ok := s.pages[page]
	if !ok {
		s.log.LogAttrs(r.Context(), slog.LevelError, "no such page template", slog.String("page", page))
		http.Error(w, "Sorry, something went wrong on our side. Please try again in a few minutes.", http.StatusInternalServerError)
		return
	}
	var b strings.Builder
	if err := t.ExecuteTemplate(&b, "layout", data); err != nil {
		s.log.LogAttrs(r.Context(), slog.LevelError, "rendering a page failed", slog.String("page", page), slog.String("error", err.Error()))
		http.Error(w, "Sorry, something went wrong on our side. Please try again in a few minutes.", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write([]byte(b.String()))
}

// logError logs err, an error of the API or of the site, with the request's
// path: never a person's words (the API's messages carry none).
func (s *Site) logError(ctx context.Context, r *http.Request, msg string, err error) {
	level := slog.LevelError
	if e, ok := api.AsError(err); ok && e.Unavailable() {
		level = slog.LevelWarn
	}
	s.log.LogAttrs(ctx, level, msg, slog.String("path", logPath(r.URL.Path)), slog.String("error", err.Error()))
}
