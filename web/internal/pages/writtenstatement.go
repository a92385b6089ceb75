package pages

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	caseworkv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/casework/v1"
	"github.com/ipnmediation/disputes/web/internal/session"
)

// The written statement is what the client's support person writes down
// with them: (a) what the concern is, (b) the outcome the client would see
// as satisfactory, and a shorter account. The client reads it, then either
// asks for changes (a new version follows) or approves it and sets what may
// reach the practitioner. Approving cannot be undone (the support person
// then passes it on), so it has a page to check the answers first; asking
// for changes can always be followed by another version, so it is sent at
// once. One question a page: without scripts, content revealed under a
// radio would sit out of its context.

// The limits of the answer's fields, as casework's contract declares them.
const (
	maxWithheld       = 50
	maxWithheldLength = 500
	maxLongText       = 20000
	// maxStatementForm bounds a posted answer: the longest instructions
	// and details, each character up to four bytes percent-encoded, and
	// room for the rest.
	maxStatementForm = (maxLongText+maxWithheld*maxWithheldLength)*4*3 + 64<<10
)

// statementView is one version of the written statement.
type statementView struct {
	// Document is its resource name, which the answer names.
	Document string
	Version  int
	Written  time.Time
	// Concern is (a), Outcome (b), Summary the shorter account.
	Concern, Outcome, Summary string
	// Approved is set once the client approved it, with the limits set.
	Approved bool
	Limits   statementLimits
}

// statementLimits are what the client allows to reach the practitioner.
type statementLimits struct {
	// Sharing is "full" or "summary".
	Sharing string
	// Withheld are the details to keep from the practitioner; WithheldText
	// is them as typed, one a line.
	Withheld     []string
	WithheldText string
	// Other is anything else the support person should respect.
	Other string
}

// SummaryOnly reports whether the practitioner reads the shorter account
// instead of (a).
func (l statementLimits) SummaryOnly() bool { return l.Sharing == "summary" }

// writtenStatementPage is every page of the answer: reading it (and the
// question), the limits, the changes, and the check before approving.
type writtenStatementPage struct {
	layout
	CasePath string
	Action   string
	Banner   *banner
	// Statement is the latest version; nil before the first.
	Statement *statementView
	// MayAnswer: the client may answer this version now.
	MayAnswer bool
	// Closed: the case has ended.
	Closed bool
	// Answer is the question's answer, approve or changes.
	Answer string
	// Limits and Comment are what the client typed, carried from page to
	// page in the forms.
	Limits  statementLimits
	Comment string
	FormID  string
}

// latestStatement reads the written statement's latest version.
func (s *Site) latestStatement(r *http.Request, oc *openCase) (*statementView, error) {
	docs, err := s.api.ListDocuments(r.Context(), oc.sess.Token, oc.sess.Case, caseworkv1.Document_KIND_WRITTEN_STATEMENT)
	if err != nil {
		return nil, err
	}
	return latestOf(oc, docs), nil
}

// latestOf is the latest version among the documents read, or nil.
func latestOf(oc *openCase, docs []*caseworkv1.Document) *statementView {
	var latest *caseworkv1.Document
	for _, d := range docs {
		if latest == nil || d.GetVersion() > latest.GetVersion() {
			latest = d
		}
	}
	if latest == nil || !oc.owns("documents", latest.GetName()) {
		return nil
	}
	ws := latest.GetWrittenStatement()
	v := &statementView{Document: latest.GetName(), Version: int(latest.GetVersion()), Written: latest.GetCreateTime().AsTime(),
		Concern: ws.GetConcern(), Outcome: ws.GetDesiredOutcome(), Summary: ws.GetSummary()}
	if con := ws.GetConstraints(); con != nil {
		v.Approved = true
		v.Limits = statementLimits{Sharing: "full", Withheld: con.GetWithheldDetails(), Other: con.GetOther()}
		if con.GetSharing() == caseworkv1.Constraints_SHARING_SUMMARY_ONLY {
			v.Limits.Sharing = "summary"
		}
	}
	return v
}

// statementPage shows the latest version, and the question when the
// client may answer it.
func (s *Site) statementPage(w http.ResponseWriter, r *http.Request) {
	var docs []*caseworkv1.Document
	oc, err, ok := s.loadCaseWith(w, r, func(ctx context.Context, sess session.Session) (err error) {
		docs, err = s.api.ListDocuments(ctx, sess.Token, sess.Case, caseworkv1.Document_KIND_WRITTEN_STATEMENT)
		return err
	})
	if !ok {
		return
	}
	if err != nil {
		s.fail(w, r, oc.group, err)
		return
	}
	st := latestOf(oc, docs)
	page := s.newStatementPage(oc, st, "What your support person wrote")
	page.Banner = bannerFor(r)
	s.render(w, r, http.StatusOK, "written-statement", page)
}

func (s *Site) newStatementPage(oc *openCase, st *statementView, title string) writtenStatementPage {
	return writtenStatementPage{
		layout: oc.layout(title), CasePath: oc.path, Action: oc.path + "/written-statement",
		Statement: st, MayAnswer: st != nil && !st.Approved && oc.mayTake("answer_statement"), Closed: oc.closed(),
		FormID: newRequestID(),
	}
}

// statementSubmit takes each page of the answer in turn; the form's stage
// says which.
func (s *Site) statementSubmit(w http.ResponseWriter, r *http.Request) {
	if !s.readForm(w, r, maxStatementForm) {
		return
	}
	oc, ok := s.loadCaseKeeping(w, r, func(oc *openCase, err error) { s.statementNotSent(w, r, oc, err) })
	if !ok {
		return
	}
	st, err := s.latestStatement(r, oc)
	if unsent(err) {
		s.statementNotSent(w, r, oc, err)
		return
	}
	if err != nil {
		s.fail(w, r, oc.group, err)
		return
	}
	back := oc.path + "/written-statement"
	if st == nil || r.PostForm.Get("document") != st.Document {
		// A new version came while the client was answering: it is the
		// one to read and answer.
		http.Redirect(w, r, doneAt(back, "new-version"), http.StatusSeeOther)
		return
	}
	page := s.newStatementPage(oc, st, "What your support person wrote")
	if id := r.PostForm.Get("formId"); uuidForm.MatchString(id) {
		page.FormID = id
	}
	if !page.MayAnswer {
		http.Redirect(w, r, back, http.StatusSeeOther)
		return
	}
	page.Answer = r.PostForm.Get("answer")
	page.Limits = typedLimits(r)
	page.Comment = multiLine(r.PostForm.Get("comment"))

	switch r.PostForm.Get("stage") {
	case "question":
		switch page.Answer {
		case "approve":
			s.statementLimitsPage(w, r, page, http.StatusOK)
		case "changes":
			page.Title = "What should change?"
			s.render(w, r, http.StatusOK, "statement-changes", page)
		default:
			page.Errors.add("answer", "Say whether what your support person wrote is right")
			s.render(w, r, http.StatusBadRequest, "written-statement", page)
		}
	case "limits":
		if page.Errors = page.Limits.check(); page.Errors.Any() {
			s.statementLimitsPage(w, r, page, http.StatusBadRequest)
			return
		}
		page.Title = "Check your answers before you approve it"
		s.render(w, r, http.StatusOK, "statement-check", page)
	case "change":
		s.statementLimitsPage(w, r, page, http.StatusOK)
	case "approve":
		if page.Errors = page.Limits.check(); page.Errors.Any() {
			s.statementLimitsPage(w, r, page, http.StatusBadRequest)
			return
		}
		con := &caseworkv1.Constraints{Sharing: caseworkv1.Constraints_SHARING_FULL, WithheldDetails: page.Limits.Withheld, Other: strings.TrimSpace(page.Limits.Other)}
		if page.Limits.SummaryOnly() {
			con.Sharing = caseworkv1.Constraints_SHARING_SUMMARY_ONLY
		}
		s.answerStatement(w, r, oc, "APPROVED", &caseworkv1.StatementAnswer{Document: st.Document, Constraints: con}, "approved")
	case "changes":
		if n := utf8.RuneCountInString(page.Comment); n > maxLongText {
			page.Title = "What should change?"
			page.Errors.add("comment", fmt.Sprintf("What should change must be %s characters or fewer: it has %s now", thousands(maxLongText), thousands(n)))
			s.render(w, r, http.StatusBadRequest, "statement-changes", page)
			return
		}
		s.answerStatement(w, r, oc, "CHANGES_REQUESTED", &caseworkv1.StatementAnswer{Document: st.Document, Comment: strings.TrimSpace(page.Comment)}, "changes")
	default:
		http.Redirect(w, r, back, http.StatusSeeOther)
	}
}

// statementNotSent answers a page of the answer that the API could not
// take (down, or failing) with the same page and what the client typed in
// it, saying to try again; a page with nothing typed (the first question)
// gets the calm "try again" page.
func (s *Site) statementNotSent(w http.ResponseWriter, r *http.Request, oc *openCase, err error) {
	page := writtenStatementPage{layout: oc.layout(""), CasePath: oc.path, Action: oc.path + "/written-statement",
		Statement: &statementView{Document: r.PostForm.Get("document")}, Answer: r.PostForm.Get("answer"),
		Limits: typedLimits(r), Comment: multiLine(r.PostForm.Get("comment")), FormID: newRequestID()}
	if id := r.PostForm.Get("formId"); uuidForm.MatchString(id) {
		page.FormID = id
	}
	var template string
	switch r.PostForm.Get("stage") {
	case "approve":
		page.Title, template = "Check your answers before you approve it", "statement-check"
		page.Errors.add("approve", notSentWords("your answer"))
	case "changes":
		page.Title, template = "What should change?", "statement-changes"
		page.Errors.add("send", notSentWords("your answer"))
	case "limits", "change":
		page.Title, template = "What may be passed on to the practitioner?", "statement-limits"
		page.Errors.add("continue", "We could not go on because something on our side is not working. What you wrote is still here: please try again in a few minutes")
	default:
		s.fail(w, r, oc.group, err)
		return
	}
	s.logError(r.Context(), r, "answering the written statement failed", err)
	w.Header().Set("Retry-After", "30")
	s.render(w, r, http.StatusServiceUnavailable, template, page)
}

func (s *Site) statementLimitsPage(w http.ResponseWriter, r *http.Request, page writtenStatementPage, status int) {
	page.Title = "What may be passed on to the practitioner?"
	s.render(w, r, status, "statement-limits", page)
}

// answerStatement takes the step answer_statement, once, and goes back to
// the statement, which says what happens next.
func (s *Site) answerStatement(w http.ResponseWriter, r *http.Request, oc *openCase, outcome string, answer *caseworkv1.StatementAnswer, done string) {
	req := &caseworkv1.TakeStepRequest{Name: oc.sess.Case, Step: "answer_statement", Outcome: outcome,
		Input: &caseworkv1.TakeStepRequest_StatementAnswer{StatementAnswer: answer}}
	back := oc.path + "/written-statement"
	to, _, err := s.forms.do(formID(r, oc.sess), func() (string, error) {
		if _, err := s.api.TakeStep(r.Context(), oc.sess.Token, req); err != nil {
			return "", err
		}
		s.log.LogAttrs(r.Context(), slog.LevelInfo, "client answered the written statement", slog.String("case", oc.sess.Case), slog.String("outcome", outcome))
		return doneAt(back, done), nil
	})
	if unsent(err) {
		// What the client typed is kept: the page they sent it from, again.
		s.statementNotSent(w, r, oc, err)
		return
	}
	if err != nil {
		s.stepFailed(w, r, oc, err, back, "Back to what your support person wrote")
		return
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// typedLimits reads the limits from a form: the details one a line, each
// tidied, the empty and repeated ones left out.
func typedLimits(r *http.Request) statementLimits {
	// The check page carries each detail, and each line of the rest, as
	// a hidden field of its own: a line break in a hidden field's value is
	// not kept the same by every browser.
	l := statementLimits{Sharing: r.PostForm.Get("sharing"),
		WithheldText: multiLine(strings.Join(r.PostForm["withheld"], "\n")), Other: multiLine(strings.Join(r.PostForm["other"], "\n"))}
	for _, line := range strings.Split(strings.ReplaceAll(l.WithheldText, "\r\n", "\n"), "\n") {
		if d := singleLine(line); d != "" && !slices.ContainsFunc(l.Withheld, func(x string) bool { return strings.EqualFold(x, d) }) {
			l.Withheld = append(l.Withheld, d)
		}
	}
	return l
}

// check finds what the client must correct in the limits, in the order of
// the form's fields.
func (l statementLimits) check() formErrors {
	var errs formErrors
	if l.Sharing != "full" && l.Sharing != "summary" {
		errs.add("sharing", "Choose what the practitioner may read")
	}
	switch {
	case len(l.Withheld) > maxWithheld:
		errs.add("withheld", fmt.Sprintf("List at most %d details to keep from the practitioner: there are %d now", maxWithheld, len(l.Withheld)))
	case slices.ContainsFunc(l.Withheld, func(d string) bool { return utf8.RuneCountInString(d) > maxWithheldLength }):
		errs.add("withheld", fmt.Sprintf("Each detail to keep from the practitioner must be %d characters or fewer: put each on its own line", maxWithheldLength))
	}
	if n := utf8.RuneCountInString(l.Other); n > maxLongText {
		errs.add("other", fmt.Sprintf("What else your support person should know must be %s characters or fewer: it has %s now", thousands(maxLongText), thousands(n)))
	}
	return errs
}
