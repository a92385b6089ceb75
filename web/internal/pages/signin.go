package pages

import (
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/ipnmediation/disputes/web/internal/api"
	"github.com/ipnmediation/disputes/web/internal/session"
)

// signInPage is the form to come back with the reference and access code.
type signInPage struct {
	layout
	// Reference is what was typed, shown again after an error; the access
	// code never is.
	Reference string
}

// signInForm shows the form. An e-mail's link to a case comes here when the
// browser has no session for it; signing in leads to the client's case,
// which is the one the link named.
func (s *Site) signInForm(w http.ResponseWriter, r *http.Request) {
	g, ok := s.loadGroup(w, r)
	if !ok {
		return
	}
	s.render(w, r, http.StatusOK, "sign-in", signInPage{layout: layout{Title: "Come back to your concern", Group: g, SignedIn: s.signedIn(r, g)}})
}

// signInSubmit exchanges the reference and code for a session, and goes to
// the case.
func (s *Site) signInSubmit(w http.ResponseWriter, r *http.Request) {
	g, ok := s.loadGroup(w, r)
	if !ok {
		return
	}
	if !s.readForm(w, r, 4<<10) {
		return
	}
	typedRef, typedCode := r.PostForm.Get("reference"), r.PostForm.Get("accessCode")
	page := signInPage{layout: layout{Title: "Come back to your concern", Group: g}, Reference: typedRef}
	ref, code, refOK, codeOK := normaliseSignIn(typedRef, typedCode)
	switch {
	case singleLine(typedRef) == "":
		page.Errors.add("reference", "Enter your reference")
	case !refOK:
		page.Errors.add("reference", "Enter the reference as it was shown to you: 8 letters and numbers, like K7QM-3XRD")
	}
	switch {
	case singleLine(typedCode) == "":
		page.Errors.add("access-code", "Enter your access code")
	case !codeOK:
		page.Errors.add("access-code", "Enter the access code as it was shown to you: 26 letters and numbers in groups of 4")
	}
	if page.Errors.Any() {
		s.render(w, r, http.StatusBadRequest, "sign-in", page)
		return
	}
	page.Reference = ref
	cs, err := s.api.CreateClientSession(r.Context(), ref, code)
	if err != nil {
		e, isAPI := api.AsError(err)
		switch {
		case isAPI && e.Status == http.StatusUnauthorized:
			// The API says only that the pair is wrong, never which half
			// (so that nobody can find references by guessing): both fields
			// are marked, the reference kept, the code (a secret) typed
			// again.
			page.Errors.add("reference", wrongSignInWords)
			page.Errors.add("access-code", lostCodeWords)
			s.render(w, r, http.StatusUnauthorized, "sign-in", page)
		case isAPI && e.Status == http.StatusTooManyRequests:
			page.Errors.add("reference", "There have been too many attempts to sign in. Please try again "+waitWords(e.RetryAfter))
			s.render(w, r, http.StatusTooManyRequests, "sign-in", page)
		default:
			s.fail(w, r, g, err)
		}
		return
	}
	sess := session.Session{Token: cs.GetToken(), Case: cs.GetCase(), Expiry: cs.GetExpireTime().AsTime()}
	if sess.Group() == "" || !api.ValidID(sess.Group()) || !api.ValidID(sess.CaseID()) {
		s.fail(w, r, g, fmt.Errorf("the client session names no case of the form groups/{group}/cases/{case}"))
		return
	}
	if err := s.sessions.Write(w, sess); err != nil {
		s.fail(w, r, g, fmt.Errorf("write the session cookie: %w", err))
		return
	}
	s.log.LogAttrs(r.Context(), slog.LevelInfo, "client signed in", slog.String("case", sess.Case))
	// The reference may be another group's: the case's own group is where
	// its page is.
	http.Redirect(w, r, "/"+sess.Group()+"/cases/"+sess.CaseID(), http.StatusSeeOther)
}

// What the sign-in form says when the reference and code do not open a
// concern: at the reference, that one of the two is wrong and why we
// cannot say which; at the code, to type it again, and what to do if it
// is lost.
const (
	wrongSignInWords = "The reference or the access code is not right. For your safety, we cannot say which: check both"
	lostCodeWords    = "Type your access code again. If you have lost it, ask the group: your support person can give you a new one"
)

// signOut ends the client's session, at the API and in this browser, and
// says so. The cookie goes whatever the API answers: a session the API
// has already ended (401) is what was asked, and one it could not end just
// now (down) is held by no one once the cookie is gone, and expires within
// the hour.
func (s *Site) signOut(w http.ResponseWriter, r *http.Request) {
	g, ok := s.loadGroup(w, r)
	if !ok {
		return
	}
	if sess, err := s.sessions.Read(r); err == nil && sess.IsMember() {
		s.memberSignOut(w, r, g, sess)
		return
	} else if err == nil {
		err := s.api.EndClientSession(r.Context(), sess.Token)
		if e, isAPI := api.AsError(err); err != nil && !(isAPI && e.Status == http.StatusUnauthorized) {
			s.logError(r.Context(), r, "ending the client session at the API failed; the cookie is deleted", err)
		} else {
			s.log.LogAttrs(r.Context(), slog.LevelInfo, "client signed out", slog.String("case", sess.Case))
		}
	}
	s.sessions.Clear(w)
	s.render(w, r, http.StatusOK, "signed-out", layout{Title: "You have signed out", Group: g})
}

// waitWords says when to try again: "in 10 minutes", "in a minute".
func waitWords(d time.Duration) string {
	switch m := int((d + time.Minute - 1) / time.Minute); {
	case d <= 0:
		return "in a few minutes"
	case m <= 1:
		return "in a minute"
	case m < 90:
		return fmt.Sprintf("in %d minutes", m)
	default:
		return fmt.Sprintf("in %d hours", (m+59)/60)
	}
}
