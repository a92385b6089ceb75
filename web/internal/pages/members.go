package pages

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/mail"
	"regexp"
	"strings"

	"github.com/ipnmediation/disputes/web/internal/api"
	"github.com/ipnmediation/disputes/web/internal/session"
)

// Members sign in from a link e-mailed to them: they give their address on
// /{group}/members/sign-in, the directory e-mails the link
// /{group}/sign-in/{secret}, and that page has one button that uses it. A
// GET never uses a link: mail scanners and link previews fetch links, and
// a link is good once.

// linkSecret is the form of a sign-in link's secret (the directory's
// base32 of 32 random bytes, lower case); anything else cannot be one.
var linkSecret = regexp.MustCompile(`^[a-z2-7]{40,80}$`)

// memberSignInPage is the form for asking for a sign-in link.
type memberSignInPage struct {
	layout
	// Email is what was typed, shown again after an error.
	Email string
}

// memberSignInForm asks for the member's e-mail address.
func (s *Site) memberSignInForm(w http.ResponseWriter, r *http.Request) {
	g, ok := s.loadGroup(w, r)
	if !ok {
		return
	}
	s.render(w, r, http.StatusOK, "member-sign-in", memberSignInPage{layout: layout{Title: "Sign in as a member", Group: g, SignedIn: s.signedIn(r, g)}})
}

// memberSignInSubmit asks the API to e-mail a link, and says the same
// whatever the address: whether it is a member's is not ours to tell.
func (s *Site) memberSignInSubmit(w http.ResponseWriter, r *http.Request) {
	g, ok := s.loadGroup(w, r)
	if !ok {
		return
	}
	if !s.readForm(w, r, 4<<10) {
		return
	}
	page := memberSignInPage{layout: layout{Title: "Sign in as a member", Group: g}, Email: singleLine(r.PostForm.Get("email"))}
	if page.Email == "" {
		page.Errors.add("email", "Enter your e-mail address")
	} else if a, err := mail.ParseAddress(page.Email); err != nil || a.Address != page.Email {
		page.Errors.add("email", "Enter your e-mail address as the group has it, like name@example.org")
	}
	if page.Errors.Any() {
		s.render(w, r, http.StatusBadRequest, "member-sign-in", page)
		return
	}
	err := s.api.RequestSignInLink(r.Context(), g.ID, page.Email)
	if e, isAPI := api.AsError(err); err != nil {
		switch {
		case isAPI && e.Status == http.StatusTooManyRequests:
			page.Errors.add("email", "Too many sign-in links have been asked for lately. Please try again "+waitWords(e.RetryAfter))
			s.render(w, r, http.StatusTooManyRequests, "member-sign-in", page)
		case isAPI && e.Status == http.StatusBadRequest && len(e.Fields) > 0:
			page.Errors.add("email", "Enter your e-mail address as the group has it, like name@example.org")
			s.render(w, r, http.StatusBadRequest, "member-sign-in", page)
		default:
			s.fail(w, r, g, err)
		}
		return
	}
	s.render(w, r, http.StatusOK, "member-link-sent", layout{Title: "Check your e-mail", Group: g})
}

// memberLinks are members' sign-in links: /{group}/sign-in/{secret}, used
// for a member session (its ipnms_ token and name), which leads to My work.
func (s *Site) memberLinks() emailedLink {
	return emailedLink{
		path: "sign-in", pages: "member-link", open: "member-link",
		openTitle: func(g *groupView) string { return "Sign in to " + g.Name },
		notWork:   "This sign-in link does not work", usedTitle: "This sign-in link has been used", expired: "This sign-in link has expired",
		next: func(g *groupView, sess session.Session) (string, slog.Attr) {
			return "/" + g.ID + "/members/", slog.String("member", sess.Member())
		},
		exchange: func(ctx context.Context, group, secret string) (session.Session, error) {
			ms, err := s.api.CreateMemberSession(ctx, secret)
			if err != nil {
				return session.Session{}, err
			}
			sess := session.Session{Token: ms.GetToken(), MemberSession: ms.GetName(), Expiry: ms.GetExpireTime().AsTime()}
			if sess.Group() != group || !strings.HasPrefix(sess.Token, "ipnms_") {
				return session.Session{}, fmt.Errorf("the member session is not of the form groups/%s/members/{member}/sessions/{session}", group)
			}
			return sess, nil
		},
	}
}

// memberSignOut ends a member's session at the API and in this browser.
// The cookie goes whatever the API answers, as for a client.
func (s *Site) memberSignOut(w http.ResponseWriter, r *http.Request, g *groupView, sess session.Session) {
	err := s.api.RevokeMemberSession(r.Context(), sess.Token, sess.MemberSession)
	if e, isAPI := api.AsError(err); err != nil && !(isAPI && (e.Status == http.StatusUnauthorized || e.Status == http.StatusNotFound)) {
		s.logError(r.Context(), r, "ending the member session at the API failed; the cookie is deleted", err)
	} else {
		s.log.LogAttrs(r.Context(), slog.LevelInfo, "member signed out", slog.String("member", sess.Member()))
	}
	s.sessions.Clear(w)
	s.render(w, r, http.StatusOK, "member-signed-out", layout{Title: "You have signed out", Group: g})
}

// loggedPath is a request's path as the log may show it: a sign-in link's
// secret is cut out, since whoever reads the log could sign in with it.
func loggedPath(p string) string {
	parts := strings.SplitN(p, "/", 4)
	if len(parts) == 4 && parts[0] == "" && parts[2] == "sign-in" && parts[3] != "" {
		return "/" + parts[1] + "/sign-in/{secret}"
	}
	return p
}
