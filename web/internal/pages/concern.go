package pages

import (
	"crypto/rand"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/ipnmediation/disputes/platform/contact"
	intakev1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/intake/v1"
	"github.com/ipnmediation/disputes/web/internal/api"
	"github.com/ipnmediation/disputes/web/internal/session"
)

// The limits of the concern's fields, as intake's contract declares them,
// in characters.
const (
	maxDescription    = 20000
	maxDesiredOutcome = 5000
	maxClientName     = 200
	maxPhone          = 40
	// maxFormBytes bounds a posted form: the longest description and
	// desired outcome, each character up to four bytes of UTF-8, each byte
	// percent-encoded, and room for the rest.
	maxFormBytes = (maxDescription+maxDesiredOutcome)*4*3 + 64<<10
)

// concernForm is what the client typed, kept whatever happens so that an
// error never loses it.
type concernForm struct {
	Practitioner string // the member's id
	Description  string
	// DesiredOutcome is what the client would like to happen; optional.
	DesiredOutcome string
	ClientName     string
	Email, Phone   string
	// RequestID is made when the form is first shown and travels with it,
	// so that a second press of the button, or a refresh of the answer,
	// registers nothing twice.
	RequestID string
}

// memberOption is a practitioner the client can choose.
type memberOption struct {
	ID, Name string
}

// concernPage is the form.
type concernPage struct {
	layout
	Members []memberOption
	Form    concernForm
}

// confirmationPage is the answer to a registered concern.
type confirmationPage struct {
	layout
	Reference  string
	AccessCode string
	// ShownBefore: the same form was sent again; the answer is the first
	// one's.
	ShownBefore bool
	// CasePath is the client's case page.
	CasePath string
}

var uuidForm = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// newRequestID returns a random (version 4) UUID.
func newRequestID() string {
	b := make([]byte, 16)
	rand.Read(b) // never fails (crypto/rand)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// members lists the group's active members to choose from.
func (s *Site) members(r *http.Request, g *groupView) ([]memberOption, error) {
	ms, err := s.api.ListActiveMembers(r.Context(), g.ID)
	if err != nil {
		return nil, err
	}
	out := make([]memberOption, 0, len(ms))
	prefix := "groups/" + g.ID + "/members/"
	for _, m := range ms {
		id, ok := strings.CutPrefix(m.GetName(), prefix)
		if !ok || !api.ValidID(id) {
			continue
		}
		out = append(out, memberOption{ID: id, Name: m.GetDisplayName()})
	}
	return out, nil
}

// concernForm shows the explanation and the empty form.
func (s *Site) concernForm(w http.ResponseWriter, r *http.Request) {
	g, ok := s.loadGroup(w, r)
	if !ok {
		return
	}
	members, err := s.members(r, g)
	if err != nil {
		s.fail(w, r, g, err)
		return
	}
	s.render(w, r, http.StatusOK, "concern", concernPage{
		layout:  layout{Title: "Raise a concern", Group: g, SignedIn: s.signedIn(r, g)},
		Members: members,
		Form:    concernForm{RequestID: newRequestID()},
	})
}

// singleLine tidies a one-line field: browsers send no line breaks from
// one, but a paste may bring tabs, and spaces at the ends mean nothing.
func singleLine(s string) string {
	return strings.TrimSpace(strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s))
}

// multiLine drops the invisible control characters a paste from a word
// processor may bring (the API refuses them), keeping tabs and line breaks;
// a browser sends a textarea's line breaks as CR LF, which become LF.
func multiLine(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) && r != '\t' && r != '\n' && r != '\r' {
			return -1
		}
		return r
	}, s)
}

// check finds what the client must correct before the concern can be sent,
// in the order of the form's fields.
func (f concernForm) check(members []memberOption) formErrors {
	var errs formErrors
	known := false
	for _, m := range members {
		known = known || m.ID == f.Practitioner
	}
	if !known {
		errs.add("practitioner", "Choose the practitioner your concern is about")
	}
	switch n := utf8.RuneCountInString(f.Description); {
	case strings.TrimSpace(f.Description) == "":
		errs.add("description", "Tell us what happened")
	case n > maxDescription:
		errs.add("description", fmt.Sprintf("What happened must be %s characters or fewer: it has %s now", thousands(maxDescription), thousands(n)))
	}
	if n := utf8.RuneCountInString(f.DesiredOutcome); n > maxDesiredOutcome {
		errs.add("desired-outcome", fmt.Sprintf("What you would like to happen must be %s characters or fewer: it has %s now", thousands(maxDesiredOutcome), thousands(n)))
	}
	switch {
	case f.ClientName == "":
		errs.add("client-name", "Enter your name")
	case utf8.RuneCountInString(f.ClientName) > maxClientName:
		errs.add("client-name", "Your name must be 200 characters or fewer")
	}
	switch {
	case f.Email == "" && f.Phone == "":
		errs.add("email", "Enter an email address or a phone number, so that your support person can contact you")
	default:
		if f.Email != "" && !contact.ValidEmail(f.Email) {
			errs.add("email", "Enter an email address in the right form, like name@example.com")
		}
		if f.Phone != "" && (utf8.RuneCountInString(f.Phone) > maxPhone || !contact.ValidPhone(f.Phone)) {
			errs.add("phone", "Enter a phone number using digits, like 01632 960 001 or +44 7700 900 982")
		}
	}
	return errs
}

// thousands writes n with commas, as people read it: 20,000.
func thousands(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// apiFields are the concern's fields as the API names them in field
// violations, with the form's field and what to say.
var apiFields = map[string]fieldError{
	"practitioner":        {"practitioner", "Choose the practitioner your concern is about"},
	"description":         {"description", "Check what happened: it must be 20,000 characters or fewer"},
	"desiredOutcome":      {"desired-outcome", "Check what you would like to happen: it must be 5,000 characters or fewer"},
	"clientName":          {"client-name", "Check your name: it must be one line of 200 characters or fewer"},
	"clientContact":       {"email", "Enter an email address or a phone number, so that your support person can contact you"},
	"clientContact.email": {"email", "Enter an email address in the right form, like name@example.com"},
	"clientContact.phone": {"phone", "Enter a phone number using digits, like 01632 960 001 or +44 7700 900 982"},
}

// concernSubmit registers the concern, or shows the form again, with what
// was typed, and what to correct.
func (s *Site) concernSubmit(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("group")
	if !api.ValidID(id) {
		s.notFound(w, r)
		return
	}
	// The form is read first: whatever fails next, the client's words are
	// shown again.
	if !s.readForm(w, r, maxFormBytes) {
		return
	}
	f := concernForm{
		Practitioner:   r.PostForm.Get("practitioner"),
		Description:    multiLine(r.PostForm.Get("description")),
		DesiredOutcome: multiLine(r.PostForm.Get("desiredOutcome")),
		ClientName:     singleLine(r.PostForm.Get("clientName")),
		Email:          singleLine(r.PostForm.Get("email")),
		Phone:          singleLine(r.PostForm.Get("phone")),
		RequestID:      r.PostForm.Get("requestId"),
	}
	if !uuidForm.MatchString(f.RequestID) {
		f.RequestID = newRequestID()
	}
	g, err := s.fetchGroup(r, id)
	var members []memberOption
	if err == nil {
		members, err = s.members(r, g)
	}
	if err != nil {
		if g == nil {
			g = &groupView{ID: id, Name: id, Weeks: defaultWeeks}
		}
		s.concernRefused(w, r, concernPage{layout: layout{Title: "Raise a concern", Group: g}, Form: f}, err)
		return
	}
	page := concernPage{layout: layout{Title: "Raise a concern", Group: g}, Members: members, Form: f}
	if page.Errors = f.check(members); page.Errors.Any() {
		s.render(w, r, http.StatusBadRequest, "concern", page)
		return
	}
	answer, err := s.api.CreateConcern(r.Context(), g.ID, &intakev1.Concern{
		Practitioner:   "groups/" + g.ID + "/members/" + f.Practitioner,
		Description:    f.Description,
		DesiredOutcome: f.DesiredOutcome,
		ClientName:     f.ClientName,
		ClientContact:  &intakev1.ClientContact{Email: f.Email, Phone: f.Phone},
	}, f.RequestID, r.PostForm.Get("website"))
	if err != nil {
		s.concernRefused(w, r, page, err)
		return
	}
	s.log.LogAttrs(r.Context(), slog.LevelInfo, "concern registered", slog.String("group", g.ID), slog.Bool("repeat", answer.GetAccessCodeShownBefore()))
	conf := confirmationPage{
		layout:      layout{Title: "Your concern has been sent", Group: g},
		Reference:   answer.GetReference(),
		AccessCode:  answer.GetAccessCode(),
		ShownBefore: answer.GetAccessCodeShownBefore(),
	}
	// The client can go straight to their case: sign them in now with what
	// they were just given. Should that fail, the page still shows the
	// reference and the code, and the link leads to the sign-in form.
	if conf.AccessCode != "" {
		if cs, err := s.api.CreateClientSession(r.Context(), conf.Reference, conf.AccessCode); err == nil {
			sess := session.Session{Token: cs.GetToken(), Case: cs.GetCase(), Expiry: cs.GetExpireTime().AsTime()}
			if err := s.sessions.Write(w, sess); err == nil && sess.Group() == g.ID {
				conf.SignedIn = true
				conf.CasePath = "/" + g.ID + "/cases/" + sess.CaseID()
			}
		} else {
			s.logError(r.Context(), r, "signing in after registering failed", err)
		}
	}
	if conf.CasePath == "" {
		conf.CasePath = "/" + g.ID + "/sign-in"
	}
	s.render(w, r, http.StatusOK, "confirmation", conf)
}

// concernRefused shows the form again, with everything typed, when the API
// refused the concern or could not take it.
func (s *Site) concernRefused(w http.ResponseWriter, r *http.Request, page concernPage, err error) {
	e, ok := api.AsError(err)
	if !ok {
		s.logError(r.Context(), r, "sending a concern failed", err)
		page.Errors.add("send", "We could not send your concern because something on our side is not working. What you wrote is still here: please try again in a few minutes")
		s.render(w, r, http.StatusInternalServerError, "concern", page)
		return
	}
	status := http.StatusBadRequest
	switch {
	case e.Reason == "INVALID_FIELDS" && len(e.Fields) > 0:
		seen := map[string]bool{}
		for _, v := range e.Fields {
			fe, ok := apiFields[v.Field]
			if !ok {
				// A field the form does not show (the request id, say):
				// the form's own fault, not the client's.
				s.logError(r.Context(), r, "the API refused a field of the concern form", err)
				fe = fieldError{"send", "We could not send your concern because of a problem on our side. What you wrote is still here: please try again"}
				page.Form.RequestID = newRequestID()
			}
			if !seen[fe.ID] {
				page.Errors.add(fe.ID, fe.Message)
				seen[fe.ID] = true
			}
		}
	case e.Reason == "GROUP_NOT_ACCEPTING_CONCERNS":
		status = http.StatusConflict
		msg := "This group cannot take concerns through this website at the moment. Please contact the group directly"
		if page.Group.Contact != "" {
			msg += ": " + page.Group.Contact
		}
		page.Errors.add("send", msg)
	case e.Reason == "REQUEST_ID_REUSED":
		// The form was sent before with other words (the client went
		// back and changed them): that concern is registered. A fresh
		// request id lets them send this one too, if they mean to.
		status = http.StatusConflict
		page.Form.RequestID = newRequestID()
		page.Errors.add("send", "You already sent a concern from this form, and we have it. To add to it, tell your support person when they contact you. To send this as a second concern, select the button again")
	case e.Status == http.StatusTooManyRequests:
		status = http.StatusTooManyRequests
		page.Errors.add("send", "Too many concerns have been sent from your internet connection recently. What you wrote is still here: please try again "+waitWords(e.RetryAfter))
	case e.Unavailable():
		s.logError(r.Context(), r, "the API is unavailable", err)
		status = http.StatusServiceUnavailable
		page.Errors.add("send", "We could not send your concern because something on our side is not working. What you wrote is still here: please try again in a few minutes")
	case e.Status == http.StatusNotFound:
		s.notFoundIn(w, r, page.Group)
		return
	default:
		s.logError(r.Context(), r, "sending a concern failed", err)
		status = http.StatusInternalServerError
		page.Errors.add("send", "We could not send your concern because something on our side is not working. What you wrote is still here: please try again in a few minutes")
	}
	s.render(w, r, status, "concern", page)
}

// concernKeep answers the confirmation page's "save as a file" button with
// the reference and access code as a small text file. It is a POST, so the
// code never appears in a URL (an address bar, a history, a log).
func (s *Site) concernKeep(w http.ResponseWriter, r *http.Request) {
	g, ok := s.loadGroup(w, r)
	if !ok {
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
	if err := r.ParseForm(); err != nil {
		s.notFoundIn(w, r, g)
		return
	}
	ref, code, refOK, codeOK := normaliseSignIn(r.PostForm.Get("reference"), r.PostForm.Get("accessCode"))
	if !refOK || !codeOK {
		s.notFoundIn(w, r, g)
		return
	}
	signIn := s.public.JoinPath(g.ID, "sign-in").String()
	var b strings.Builder
	fmt.Fprintf(&b, "Your concern with %s\r\n\r\n", g.Name)
	fmt.Fprintf(&b, "Reference: %s\r\nAccess code: %s\r\n\r\n", ref, code)
	fmt.Fprintf(&b, "To come back to your concern, go to %s and enter both.\r\n\r\n", signIn)
	b.WriteString("Keep this file private: anyone who has both can read about your concern.\r\n")
	b.WriteString("If you lose the access code, contact the group")
	if g.Contact != "" {
		fmt.Fprintf(&b, " (%s)", g.Contact)
	}
	b.WriteString(". Your support person can give you a new one.\r\n")
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("Content-Disposition", `attachment; filename="concern-`+ref+`.txt"`)
	w.Write([]byte(b.String()))
}
