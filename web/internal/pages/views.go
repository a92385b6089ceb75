package pages

import (
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ipnmediation/disputes/web/internal/api"
	"github.com/ipnmediation/disputes/web/internal/session"
)

// layout is what every page's frame needs; each page's data embeds it.
type layout struct {
	// Title is the page's title, its h1 as a rule.
	Title string
	// Group is the group whose page this is; nil outside a group.
	Group *groupView
	// SignedIn shows the sign-out button.
	SignedIn bool
	// Member marks a member's page: the header links to "My work".
	Member bool
	// Errors are the form's errors, shown in a summary at the top and next
	// to each field; the title then starts with "Error:".
	Errors formErrors
}

// problemPage says that something went wrong, and what to do.
type problemPage struct {
	layout
	// Lead says what to do; "try again in a few minutes" when empty.
	Lead string
}

// groupView is what the pages show of a group.
type groupView struct {
	// ID is the group's id, the first segment of its paths.
	ID string
	// Name is its display name.
	Name string
	// Contact is how the public reaches it, in its words.
	Contact string
	// Weeks is its aim for resolving a concern, in whole weeks.
	Weeks int
}

// defaultWeeks is the procedure's aim when the group sets none.
const defaultWeeks = 8

// Path is the group's page.
func (g *groupView) Path() string { return "/" + g.ID + "/" }

// fieldError is one thing to correct in a form.
type fieldError struct {
	// ID is the id of the field to correct, which the summary links to.
	ID string
	// Message says what to do, in the same words at the field and in the
	// summary.
	Message string
}

// formErrors are a form's errors, in the order of its fields.
type formErrors struct {
	List []fieldError
}

func (f *formErrors) add(id, message string) { f.List = append(f.List, fieldError{id, message}) }

// Any reports whether there is anything to correct.
func (f formErrors) Any() bool { return len(f.List) > 0 }

// Get is the message for the field with that id, or "".
func (f formErrors) Get(id string) string {
	for _, e := range f.List {
		if e.ID == id {
			return e.Message
		}
	}
	return ""
}

// loadGroup reads the group the path names. When it cannot, it answers
// with the page that says why (with the group's name, as last read, when
// the API cannot answer) and returns false.
func (s *Site) loadGroup(w http.ResponseWriter, r *http.Request) (*groupView, bool) {
	id := r.PathValue("group")
	if !api.ValidID(id) {
		s.notFound(w, r)
		return nil, false
	}
	g, err := s.fetchGroup(r, id)
	if err != nil {
		s.fail(w, r, s.groups.last(id), err)
		return nil, false
	}
	return g, true
}

// fetchGroup reads the group with that id, and remembers it (or that it
// does not exist) for the pages that say something went wrong.
func (s *Site) fetchGroup(r *http.Request, id string) (*groupView, error) {
	g, err := s.api.GetGroup(r.Context(), id)
	if e, isAPI := api.AsError(err); isAPI && e.Status == http.StatusNotFound {
		s.groups.forget(id)
	}
	if err != nil {
		return nil, err
	}
	view := &groupView{ID: id, Name: g.GetDisplayName(), Contact: g.GetPublicContact(), Weeks: defaultWeeks}
	if d := g.GetProcedureSettings().GetOverallTarget(); d != nil && d.AsDuration() > 0 {
		view.Weeks = int((d.AsDuration() + 3*24*time.Hour) / (7 * 24 * time.Hour))
	}
	if view.Name == "" {
		view.Name = id
	}
	s.groups.remember(view)
	return view, nil
}

// pathGroup is the group the path's first segment names, for the frame of
// a page that says something went wrong (not found, the API down), so that
// the page still names the group and links back to it: read from the API,
// or as last read when the API cannot answer. It is nil when the path names
// no group that exists, or one this site has never read while the API is
// down: the page is then neutral and says how to find the group's own link.
func (s *Site) pathGroup(r *http.Request) *groupView {
	id, _, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	if !api.ValidID(id) || id == "static" || id == "healthz" {
		return nil
	}
	g, err := s.fetchGroup(r, id)
	if err != nil {
		return s.groups.last(id)
	}
	return g
}

// maxKnownGroups bounds the groups remembered: one deployment serves a few
// groups, and only groups the API named exist are kept, so the bound is
// never reached unless something is wrong; then the oldest are dropped.
const maxKnownGroups = 1000

// knownGroups are the groups last read from the API, by id: the page that
// says the API is down names the group and links back to it, although the
// group cannot be read just then. A group's name and contact are public.
type knownGroups struct {
	mu    sync.Mutex
	byID  map[string]*groupView
	order []string
}

// remember keeps g as the group's last known view.
func (k *knownGroups) remember(g *groupView) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.byID == nil {
		k.byID = map[string]*groupView{}
	}
	if _, ok := k.byID[g.ID]; !ok {
		k.order = append(k.order, g.ID)
	}
	k.byID[g.ID] = g
	for len(k.order) > maxKnownGroups {
		delete(k.byID, k.order[0])
		k.order = k.order[1:]
	}
}

// forget drops a group the API says does not exist (any more).
func (k *knownGroups) forget(id string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if _, ok := k.byID[id]; ok {
		delete(k.byID, id)
		k.order = slices.DeleteFunc(k.order, func(x string) bool { return x == id })
	}
}

// last is the group's last known view, or nil.
func (k *knownGroups) last(id string) *groupView {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.byID[id]
}

// signedIn reports whether r carries a session of g's.
func (s *Site) signedIn(r *http.Request, g *groupView) bool {
	sess, err := s.sessions.Read(r)
	return err == nil && g != nil && sess.Group() == g.ID
}

// isMember reports whether r carries a member's session of g's.
func (s *Site) isMember(r *http.Request, g *groupView) bool {
	sess, err := s.sessions.Read(r)
	return err == nil && g != nil && sess.IsMember() && sess.Group() == g.ID
}

// fail answers with the page for err: the API down or slow (503, "try again
// in a few minutes"), something not found (404), a session that has ended,
// or anything else (500, in the same calm words). It logs err; the person
// sees no detail of it.
func (s *Site) fail(w http.ResponseWriter, r *http.Request, g *groupView, err error) {
	e, isAPI := api.AsError(err)
	switch {
	case isAPI && e.Unavailable():
		s.logError(r.Context(), r, "the API is unavailable", err)
		s.unavailable(w, r, g, e.RetryAfter)
	case isAPI && e.Status == http.StatusNotFound:
		s.notFoundIn(w, r, g)
	case isAPI && e.Status == http.StatusUnauthorized:
		s.sessionEnded(w, r, g)
	case isAPI && e.Status == http.StatusForbidden:
		// A member's part in the case does not let them read this (a
		// page of the client's support person, say): a page, not an error.
		s.log.LogAttrs(r.Context(), slog.LevelInfo, "the API refused a read to this caller", slog.String("path", logPath(r.URL.Path)), slog.String("reason", e.Reason))
		s.render(w, r, http.StatusForbidden, "not-yours", layout{Title: "This page is not for you", Group: g, SignedIn: s.signedIn(r, g), Member: s.isMember(r, g)})
	case errors.Is(err, session.ErrExpired), errors.Is(err, session.ErrInvalid):
		s.sessionEnded(w, r, g)
	default:
		s.logError(r.Context(), r, "a page failed", err)
		s.render(w, r, http.StatusInternalServerError, "problem", problemPage{layout: layout{Title: "Sorry, something went wrong", Group: g}})
	}
}

// unavailable is the calm page for an API that is down or too slow.
func (s *Site) unavailable(w http.ResponseWriter, r *http.Request, g *groupView, retryAfter time.Duration) {
	if retryAfter <= 0 {
		retryAfter = 30 * time.Second
	}
	w.Header().Set("Retry-After", strconv.Itoa(int(retryAfter.Seconds())))
	s.render(w, r, http.StatusServiceUnavailable, "problem", problemPage{layout: layout{Title: "Sorry, something on our side is not working", Group: g}})
}

// notFound is the 404 page, with the group the path names when it exists.
func (s *Site) notFound(w http.ResponseWriter, r *http.Request) { s.notFoundIn(w, r, s.pathGroup(r)) }

func (s *Site) notFoundIn(w http.ResponseWriter, r *http.Request, g *groupView) {
	s.render(w, r, http.StatusNotFound, "not-found", layout{Title: "Page not found", Group: g})
}

// sessionEnded deletes the session's cookie and says so, offering to sign
// in again.
func (s *Site) sessionEnded(w http.ResponseWriter, r *http.Request, g *groupView) {
	s.sessions.Clear(w)
	s.log.LogAttrs(r.Context(), slog.LevelInfo, "a client session has ended", slog.String("path", r.URL.Path))
	s.render(w, r, http.StatusUnauthorized, "session-ended", layout{Title: "You have been signed out", Group: g})
}
