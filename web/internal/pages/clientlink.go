package pages

import (
	"context"
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

// clientLinks are clients' links to their case: /{group}/link/{secret},
// used for a client session of the case, which leads to the case as
// signing in with the reference and code does.
func (s *Site) clientLinks() emailedLink {
	return emailedLink{
		path: "link", pages: "client-link", open: "client-link-open",
		openTitle: func(*groupView) string { return "Open your concern" },
		notWork:   "This link does not work", usedTitle: "This link has been used", expired: "This link has expired",
		next: func(g *groupView, sess session.Session) (string, slog.Attr) {
			return "/" + g.ID + "/cases/" + sess.CaseID(), slog.String("case", sess.Case)
		},
		exchange: func(ctx context.Context, group, secret string) (session.Session, error) {
			cs, err := s.api.CreateClientSessionFromLink(ctx, secret)
			if err != nil {
				return session.Session{}, err
			}
			sess := session.Session{Token: cs.GetToken(), Case: cs.GetCase(), Expiry: cs.GetExpireTime().AsTime()}
			if sess.Group() != group || !api.ValidID(sess.CaseID()) {
				return session.Session{}, fmt.Errorf("the client session names no case of the form groups/%s/cases/{case}", group)
			}
			return sess, nil
		},
	}
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
