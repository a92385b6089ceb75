package pages

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/ipnmediation/disputes/web/internal/api"
	"github.com/ipnmediation/disputes/web/internal/session"
)

// A member's and a client's e-mailed sign-in links work alike: the link
// lands on a page with one button (a GET uses nothing, since mail scanners
// and link previews fetch links and a link works once), the button posts
// the secret back, and the API exchanges it for a session, which is sealed
// into the cookie; a used, expired or mangled link gets a page that offers
// a new one. emailedLink holds what differs between the two.

// emailedLink is one kind of e-mailed sign-in link.
type emailedLink struct {
	// path is the segment after the group: /{group}/{path}/{secret}.
	path string
	// pages are the templates' prefix: <pages>, <pages>-spent and
	// <pages>-used; open is the template of the button's page.
	pages, open string
	// Titles of the pages: the button's (with the group), a link that
	// cannot be one, a used one, an expired one.
	openTitle                   func(g *groupView) string
	notWork, usedTitle, expired string
	// exchange uses the secret for a session of group's, checked to be
	// what this kind of link gives.
	exchange func(ctx context.Context, group, secret string) (session.Session, error)
	// next is where the new session goes, and what the log says of it.
	next func(g *groupView, sess session.Session) (path string, log slog.Attr)
}

// linkPage is the page the link opens: its button, or the page for a link
// that cannot be one.
type linkPage struct {
	layout
	// Action is where the button posts: the link's own path.
	Action string
}

// linkInPath is the group and the link's secret the path names; a secret
// that cannot be a link's gets the page of a link that does not work, and
// ok false.
func (s *Site) linkInPath(w http.ResponseWriter, r *http.Request, k emailedLink) (*groupView, string, bool) {
	g, ok := s.loadGroup(w, r)
	if !ok {
		return nil, "", false
	}
	secret := r.PathValue("secret")
	if !linkSecret.MatchString(secret) {
		s.render(w, r, http.StatusNotFound, k.pages+"-spent", linkPage{layout: layout{Title: k.notWork, Group: g}})
		return nil, "", false
	}
	return g, secret, true
}

// linkOpen shows the link's button. Nothing is used or checked yet.
func (s *Site) linkOpen(k emailedLink) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		g, secret, ok := s.linkInPath(w, r, k)
		if !ok {
			return
		}
		s.render(w, r, http.StatusOK, k.open, linkPage{layout: layout{Title: k.openTitle(g), Group: g}, Action: "/" + g.ID + "/" + k.path + "/" + secret})
	}
}

// linkUse uses the link for a session, seals it into the cookie and goes
// on; a used or expired link gets a page that offers a new one.
func (s *Site) linkUse(k emailedLink) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		g, secret, ok := s.linkInPath(w, r, k)
		if !ok {
			return
		}
		sess, err := k.exchange(r.Context(), g.ID, secret)
		switch {
		case api.IsReason(err, "SIGN_IN_LINK_USED"):
			s.render(w, r, http.StatusGone, k.pages+"-used", linkPage{layout: layout{Title: k.usedTitle, Group: g}})
			return
		case api.IsReason(err, "SIGN_IN_LINK_EXPIRED"):
			s.render(w, r, http.StatusGone, k.pages+"-spent", linkPage{layout: layout{Title: k.expired, Group: g}})
			return
		case err != nil:
			s.fail(w, r, g, err)
			return
		}
		if err := s.sessions.Write(w, sess); err != nil {
			s.fail(w, r, g, fmt.Errorf("write the session cookie: %w", err))
			return
		}
		next, attr := k.next(g, sess)
		s.log.LogAttrs(r.Context(), slog.LevelInfo, "signed in from an e-mailed link", attr)
		http.Redirect(w, r, next, http.StatusSeeOther)
	}
}
