package pages

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/mail"
	"strings"

	"github.com/ipnmediation/disputes/web/internal/api"
	"github.com/ipnmediation/disputes/web/internal/session"
)

// Clients who gave an e-mail address with their concern may come back
// without the reference and access code: they give the address on
// /{group}/link, intake e-mails a link /{group}/link/{secret} to each of
// their cases, and that page has one button that uses it. As for members'
// links, a GET never uses a link: mail scanners and link previews fetch
// links, and a link is good once.

// clientLinkPage is the form for asking for a link, and the page that
// says it is on its way.
type clientLinkPage struct {
	layout
	// Email is what was typed, shown again after an error.
	Email string
}

// clientLinkOpenPage is the page a link opens, and the pages for a link
// that cannot be used.
type clientLinkOpenPage struct {
	layout
	// Action is where the button posts: the link's own path.
	Action string
}

const clientLinkTitle = "Get a link to your concern by e-mail"

// clientLinkForm asks for the e-mail address the client gave.
func (s *Site) clientLinkForm(w http.ResponseWriter, r *http.Request) {
	g, ok := s.loadGroup(w, r)
	if !ok {
		return
	}
	s.render(w, r, http.StatusOK, "client-link", clientLinkPage{layout: layout{Title: clientLinkTitle, Group: g, SignedIn: s.signedIn(r, g)}})
}

// clientLinkSubmit asks the API to e-mail the links, and says the same
// whatever the address: whether it was given with a concern is not ours
// to tell.
func (s *Site) clientLinkSubmit(w http.ResponseWriter, r *http.Request) {
	g, ok := s.loadGroup(w, r)
	if !ok {
		return
	}
	if !s.readForm(w, r, 4<<10) {
		return
	}
	page := clientLinkPage{layout: layout{Title: clientLinkTitle, Group: g}, Email: singleLine(r.PostForm.Get("email"))}
	const malformed = "Enter the e-mail address you gave with your concern, like name@example.org"
	if page.Email == "" {
		page.Errors.add("email", "Enter your e-mail address")
	} else if a, err := mail.ParseAddress(page.Email); err != nil || a.Address != page.Email {
		page.Errors.add("email", malformed)
	}
	if page.Errors.Any() {
		s.render(w, r, http.StatusBadRequest, "client-link", page)
		return
	}
	err := s.api.RequestClientSignInLink(r.Context(), g.ID, page.Email)
	if e, isAPI := api.AsError(err); err != nil {
		switch {
		case isAPI && e.Status == http.StatusTooManyRequests:
			page.Errors.add("email", "Too many links have been asked for lately. Please try again "+waitWords(e.RetryAfter)+", or come back with your reference and access code")
			s.render(w, r, http.StatusTooManyRequests, "client-link", page)
		case isAPI && e.Status == http.StatusBadRequest && len(e.Fields) > 0:
			page.Errors.add("email", malformed)
			s.render(w, r, http.StatusBadRequest, "client-link", page)
		default:
			s.fail(w, r, g, err)
		}
		return
	}
	s.render(w, r, http.StatusOK, "client-link-sent", clientLinkPage{layout: layout{Title: "Check your e-mail", Group: g}})
}

// clientLinkOpen is where a client's link lands: one button, which posts
// back here. Nothing is used or checked yet.
func (s *Site) clientLinkOpen(w http.ResponseWriter, r *http.Request) {
	g, ok := s.loadGroup(w, r)
	if !ok {
		return
	}
	secret := r.PathValue("secret")
	if !linkSecret.MatchString(secret) {
		s.render(w, r, http.StatusNotFound, "client-link-spent", clientLinkOpenPage{layout: layout{Title: "This link does not work", Group: g}})
		return
	}
	s.render(w, r, http.StatusOK, "client-link-open", clientLinkOpenPage{layout: layout{Title: "Open your concern", Group: g}, Action: "/" + g.ID + "/link/" + secret})
}

// clientLinkUse uses the link for a client session, seals it into the
// cookie and goes to the case, as signing in with the reference and code
// does. A used or expired link gets a page that offers a new one.
func (s *Site) clientLinkUse(w http.ResponseWriter, r *http.Request) {
	g, ok := s.loadGroup(w, r)
	if !ok {
		return
	}
	secret := r.PathValue("secret")
	if !linkSecret.MatchString(secret) {
		s.render(w, r, http.StatusNotFound, "client-link-spent", clientLinkOpenPage{layout: layout{Title: "This link does not work", Group: g}})
		return
	}
	cs, err := s.api.CreateClientSessionFromLink(r.Context(), secret)
	switch {
	case api.IsReason(err, "SIGN_IN_LINK_USED"):
		s.render(w, r, http.StatusGone, "client-link-used", clientLinkOpenPage{layout: layout{Title: "This link has been used", Group: g}})
		return
	case api.IsReason(err, "SIGN_IN_LINK_EXPIRED"):
		s.render(w, r, http.StatusGone, "client-link-spent", clientLinkOpenPage{layout: layout{Title: "This link has expired", Group: g}})
		return
	case err != nil:
		s.fail(w, r, g, err)
		return
	}
	sess := session.Session{Token: cs.GetToken(), Case: cs.GetCase(), Expiry: cs.GetExpireTime().AsTime()}
	if sess.Group() != g.ID || !api.ValidID(sess.CaseID()) {
		s.fail(w, r, g, fmt.Errorf("the client session names no case of the form groups/%s/cases/{case}", g.ID))
		return
	}
	if err := s.sessions.Write(w, sess); err != nil {
		s.fail(w, r, g, fmt.Errorf("write the session cookie: %w", err))
		return
	}
	s.log.LogAttrs(r.Context(), slog.LevelInfo, "client signed in from an e-mailed link", slog.String("case", sess.Case))
	http.Redirect(w, r, "/"+g.ID+"/cases/"+sess.CaseID(), http.StatusSeeOther)
}

// logPath is a request's path as the log may show it: the secret of a
// client's link (/{group}/link/{secret}) is cut out, as loggedPath cuts a
// member's, since whoever reads the log could open the case with it.
func logPath(p string) string {
	parts := strings.SplitN(p, "/", 4)
	if len(parts) == 4 && parts[0] == "" && parts[2] == "link" && parts[3] != "" {
		return "/" + parts[1] + "/link/{secret}"
	}
	return loggedPath(p)
}
