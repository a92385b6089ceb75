package pages

import (
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	caseworkv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/casework/v1"
	procedurev1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/procedure/v1"
	"github.com/ipnmediation/disputes/web/internal/api"
	"github.com/ipnmediation/disputes/web/internal/session"
)

// The pages of a client's case beyond its summary (meetings, the written
// statement, the practitioner's response, messages) share this: the case
// read with the client's session, whether a step is theirs to take now,
// the answer after a step (a banner on the page it leads back to), and
// what to say when the API refuses a step.

// openCase is a client's case as one of its pages reads it.
type openCase struct {
	group *groupView
	sess  session.Session
	c     *caseworkv1.Case
	// path is the case's page, /{group}/cases/{case}.
	path string
}

// loadCase reads the case the path names with the client's session. When it
// cannot (no session, the case being opened, the API down), it answers and
// returns false.
func (s *Site) loadCase(w http.ResponseWriter, r *http.Request) (*openCase, bool) {
	oc, _, ok := s.loadCaseWith(w, r, nil)
	return oc, ok
}

// loadCaseWith is loadCase that also makes the page's own read, which needs
// only the session, at the same time as the case is read (see
// getCaseWith), and returns read's error for the page to answer. When the
// case cannot be read, it answers as loadCase does, whatever read did.
func (s *Site) loadCaseWith(w http.ResponseWriter, r *http.Request, read sessionRead) (*openCase, error, bool) {
	g, sess, ok := s.clientCase(w, r)
	if !ok {
		return nil, nil, false
	}
	oc := &openCase{group: g, sess: sess, path: "/" + g.ID + "/cases/" + sess.CaseID()}
	c, readErr, err := s.getCaseWith(r.Context(), sess, read)
	if api.IsReason(err, "CASE_OPENING") {
		s.render(w, r, http.StatusOK, "opening", openingPage{layout: oc.layout("We are setting up your case"), CasePath: oc.path})
		return nil, nil, false
	}
	if err != nil {
		s.fail(w, r, g, err)
		return nil, nil, false
	}
	oc.c = c
	return oc, readErr, true
}

// layout is the frame of one of the case's pages.
func (oc *openCase) layout(title string) layout {
	return layout{Title: title, Group: oc.group, SignedIn: true}
}

// closed reports whether the case has ended.
func (oc *openCase) closed() bool { return oc.c.GetPhase() == procedurev1.Phase_PHASE_CLOSED }

// mayTake reports whether the client may take step now.
func (oc *openCase) mayTake(step string) bool {
	for _, n := range oc.c.GetNextSteps() {
		if n.GetStep() == step && n.GetCallerMayTake() {
			return true
		}
	}
	return false
}

// owns reports whether name is a resource of the client's case in
// collection ("meetings", "documents"), of the form every id has.
func (oc *openCase) owns(collection, name string) bool {
	id, ok := strings.CutPrefix(name, oc.sess.Case+"/"+collection+"/")
	return ok && api.ValidID(id)
}

// banner says, at the top of the page a step leads back to, that it was
// done and what happens next (the GOV.UK notification banner's success
// form, in our words).
type banner struct {
	Title string
	Next  string
	// Important marks a notice that is not a success.
	Important bool
}

// bannerFor is the banner the query's done names, if it names one.
func bannerFor(r *http.Request) *banner {
	b, ok := doneBanners[r.URL.Query().Get("done")]
	if !ok {
		return nil
	}
	return &b
}

// doneAt is path with the banner done, for the redirect after a step.
func doneAt(path, done string) string {
	return path + "?" + url.Values{"done": {done}}.Encode()
}

// formID reads the id a form carried (made when it was shown), for
// forms.do; a form without a well-formed one gets none, and so acts every
// time it is sent.
func formID(r *http.Request, sess session.Session) string {
	id := r.PostForm.Get("formId")
	if !uuidForm.MatchString(id) {
		return ""
	}
	return formKey(sess.Token, id)
}

// stepProblem is a step the API would not take, for the page that says
// why: its title and its explanation in the client's words. ok is false
// when err is not a refusal of that kind (the API down, the session ended),
// which fail answers.
func stepProblem(err error) (title, explanation string, ok bool) {
	e, isAPI := api.AsError(err)
	if !isAPI {
		return "", "", false
	}
	switch e.Reason {
	case "CASE_CLOSED":
		return "Your case is closed", "Your case is closed, so this can no longer be done.", true
	case "STEP_OVER", "STEP_ALREADY_TAKEN":
		return "This has already been done", "This has already been done, so there is nothing more to do here.", true
	case "STEP_NOT_READY", "AWAITING_ANSWER":
		if strings.HasPrefix(e.Message, "there is nothing to answer") {
			return "There is nothing to answer just now", "There is nothing to answer just now. You may have answered already.", true
		}
		return "This cannot be done yet", notReadyWords(e.Message), true
	case "NOT_YOUR_STEP":
		return "This is not for you to do", "This step is for someone else in the procedure to take.", true
	}
	if strings.HasPrefix(e.Reason, "MEETING_NOT_") {
		return "The meeting has changed", "The meeting has changed since you opened the page. Please look at it again.", true
	}
	return "", "", false
}

// stepFailed answers a step the API did not take: the page that says why,
// with a link back to the page the step was taken from (back, named
// backText), or fail's page.
func (s *Site) stepFailed(w http.ResponseWriter, r *http.Request, oc *openCase, err error, back, backText string) {
	title, explanation, ok := stepProblem(err)
	if !ok {
		s.fail(w, r, oc.group, err)
		return
	}
	s.log.LogAttrs(r.Context(), slog.LevelInfo, "a client's step was refused", slog.String("path", r.URL.Path), slog.String("error", err.Error()))
	s.render(w, r, http.StatusConflict, "step-problem", stepProblemPage{layout: oc.layout(title), Explanation: explanation, CasePath: back, BackText: backText})
}

// readForm parses a posted form of at most limit bytes; when it is longer
// (or cannot be read) it answers and returns false. A page that keeps what
// was typed calls it before reading anything from the API, so that whatever
// fails next, the words can be shown again.
func (s *Site) readForm(w http.ResponseWriter, r *http.Request, limit int64) bool {
	r.Body = http.MaxBytesReader(w, r.Body, limit)
	if err := r.ParseForm(); err != nil {
		g := s.groupAsKnown(r.PathValue("group"))
		s.render(w, r, http.StatusRequestEntityTooLarge, "problem", problemPage{layout: layout{Title: "What you sent is too long", Group: g, SignedIn: s.signedIn(r, g)},
			Lead: "Please shorten it and try again."})
		return false
	}
	return true
}

// loadCaseKeeping is loadCase for a form that carries words the client
// typed: when the API cannot be reached (or fails) while the group or the
// case is read, keep answers instead of the calm "try again" page, with
// the case as far as it is known (the group's id for its name), so that the
// form can be shown again with the words in it. Everything else (no
// session, an ended one, a case being opened) is answered as loadCase
// does.
func (s *Site) loadCaseKeeping(w http.ResponseWriter, r *http.Request, keep func(oc *openCase, err error)) (*openCase, bool) {
	groupID, caseID := r.PathValue("group"), r.PathValue("case")
	sess, err := s.sessions.Read(r)
	if !api.ValidID(groupID) || !api.ValidID(caseID) || err != nil || sess.Case != "groups/"+groupID+"/cases/"+caseID {
		return s.loadCase(w, r)
	}
	oc := &openCase{group: s.groupAsKnown(groupID), sess: sess, path: "/" + groupID + "/cases/" + caseID}
	g, err := s.fetchGroup(r, groupID)
	if unsent(err) {
		keep(oc, err)
		return nil, false
	}
	if err != nil {
		s.fail(w, r, nil, err)
		return nil, false
	}
	oc.group = g
	c, err := s.getCase(r.Context(), sess)
	switch {
	case api.IsReason(err, "CASE_OPENING"):
		s.render(w, r, http.StatusOK, "opening", openingPage{layout: oc.layout("We are setting up your case"), CasePath: oc.path})
		return nil, false
	case unsent(err):
		keep(oc, err)
		return nil, false
	case err != nil:
		s.fail(w, r, g, err)
		return nil, false
	}
	oc.c = c
	return oc, true
}

// groupAsKnown is the group with that id as last read, or, never read, a
// view with its id for its name: the frame of a page that must be shown
// before the group is read, or without it.
func (s *Site) groupAsKnown(id string) *groupView {
	if g := s.groups.last(id); g != nil {
		return g
	}
	return &groupView{ID: id, Name: id, Weeks: defaultWeeks}
}

// unsent reports whether err means the API could not take what the client
// sent just now (down, too slow, or failing): the page then keeps what they
// typed and says to try again, rather than losing it.
func unsent(err error) bool {
	if err == nil {
		return false
	}
	e, isAPI := api.AsError(err)
	return !isAPI || e.Unavailable() || e.Status >= http.StatusInternalServerError
}

// notSentWords says that what (your message, your answer) could not be
// sent, that it is still here, and what to do.
func notSentWords(what string) string {
	return "We could not send " + what + " because something on our side is not working. What you wrote is still here: please try again in a few minutes"
}
