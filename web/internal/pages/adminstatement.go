package pages

import (
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	directoryv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/directory/v1"
	"github.com/ipnmediation/disputes/web/internal/api"
)

// The admins' pages of the group's ethical statement,
// /{group}/members/admin/statement: its versions, a form to draft a new one
// section by section (starting from the version in force), a preview of a
// version as the public statement page shows it, and publishing a draft
// after a page that says what it means. The directory keeps a statement as
// Markdown in which each "## " line starts a section; the form writes that
// line from each section's title, so that admins type titles and text only.

// statementVersionsPage lists the versions.
type statementVersionsPage struct {
	layout
	Banner   *banner
	Back     string
	New      string
	Versions []statementVersionRow
}

// statementVersionRow is one version.
type statementVersionRow struct {
	Version            int
	State              string
	Created, Published time.Time
	Preview            string
	Draft              bool
}

// statementStateWords say where a version stands.
var statementStateWords = map[directoryv1.Statement_State]string{
	directoryv1.Statement_STATE_DRAFT:      "Draft",
	directoryv1.Statement_STATE_PUBLISHED:  "In force",
	directoryv1.Statement_STATE_SUPERSEDED: "Replaced",
}

// statementDraftPage is the form of a new version.
type statementDraftPage struct {
	layout
	Back, Action string
	// From is the version the form started from; 0 for none.
	From     int
	Sections []sectionRow
	FormID   string
}

// sectionRow is one section of the form: its title and text.
type sectionRow struct {
	N           int
	Title, Text string
}

// statementPreviewPage is a version as the public page will show it.
type statementPreviewPage struct {
	layout
	Banner *banner
	Back   string
	// Statement is the version as the public statement page renders it.
	Statement statementPage
	Version   int
	Draft     bool
	State     string
	// Publish is the page that asks to confirm publishing it.
	Publish string
}

// emptySectionRows is how many empty sections the form adds after the
// version it starts from, for new sections.
const emptySectionRows = 2

// maxSectionRows bounds the sections a form may carry.
const maxSectionRows = 100

// statementPath is the admins' page of the statement, with rest after it.
func (a *signedInAdmin) statementPath(rest string) string {
	if rest == "" {
		return a.adminPath("statement")
	}
	return a.adminPath("statement/" + rest)
}

// adminStatements lists the versions, newest first.
func (s *Site) adminStatements(w http.ResponseWriter, r *http.Request) {
	a, ok := s.loadAdmin(w, r)
	if !ok {
		return
	}
	versions, err := s.api.ListStatements(r.Context(), a.sess.Token, a.group.ID)
	if err != nil {
		s.fail(w, r, a.group, err)
		return
	}
	page := statementVersionsPage{layout: a.layout("Ethical statement"), Back: a.adminPath(""), New: a.statementPath("new")}
	for _, st := range versions {
		row := statementVersionRow{Version: int(st.GetVersion()), State: statementStateWords[st.GetState()],
			Preview: a.statementPath(strconv.Itoa(int(st.GetVersion()))), Draft: st.GetState() == directoryv1.Statement_STATE_DRAFT}
		if t := st.GetCreateTime(); t != nil {
			row.Created = t.AsTime()
		}
		if t := st.GetPublishTime(); t != nil {
			row.Published = t.AsTime()
		}
		page.Versions = append(page.Versions, row)
	}
	if r.URL.Query().Get("done") == "published" {
		page.Banner = &banner{Title: "The new version is published", Next: "The group's statement page shows it now. The version it replaced stays listed here."}
	}
	s.render(w, r, http.StatusOK, "admin-statement", page)
}

// adminStatementForm is the form of a new version, starting from the
// version in force (or, before one is published, the newest).
func (s *Site) adminStatementForm(w http.ResponseWriter, r *http.Request) {
	a, ok := s.loadAdmin(w, r)
	if !ok {
		return
	}
	versions, err := s.api.ListStatements(r.Context(), a.sess.Token, a.group.ID)
	if err != nil {
		s.fail(w, r, a.group, err)
		return
	}
	page := newStatementDraft(a)
	var from *directoryv1.Statement
	for _, st := range versions {
		if from == nil || st.GetState() == directoryv1.Statement_STATE_PUBLISHED {
			from = st
		}
	}
	if from != nil {
		page.From = int(from.GetVersion())
		for _, sec := range from.GetSections() {
			page.Sections = append(page.Sections, sectionRow{Title: sec.GetTitle(), Text: sec.GetMarkdown()})
		}
	}
	for range emptySectionRows {
		page.Sections = append(page.Sections, sectionRow{})
	}
	number(page.Sections)
	s.render(w, r, http.StatusOK, "admin-statement-draft", page)
}

// newStatementDraft is the empty form.
func newStatementDraft(a *signedInAdmin) statementDraftPage {
	return statementDraftPage{layout: a.layout("Draft a new version"), Back: a.statementPath(""), Action: a.statementPath("new"), FormID: newRequestID()}
}

// number numbers the rows in order, from 0.
func number(rows []sectionRow) {
	for i := range rows {
		rows[i].N = i
	}
}

// readSections reads the form's sections as typed, and the Markdown they
// make; what cannot be written goes into errs.
func readSections(r *http.Request, errs *formErrors) ([]sectionRow, string) {
	f := r.PostForm
	n, _ := strconv.Atoi(f.Get("sections"))
	n = min(max(n, 0), maxSectionRows)
	var rows []sectionRow
	var md []string
	for i := range n {
		id := strconv.Itoa(i)
		row := sectionRow{N: i, Title: singleLine(f.Get("section-" + id + "-title")), Text: strings.ReplaceAll(f.Get("section-"+id+"-text"), "\r\n", "\n")}
		rows = append(rows, row)
		title, text := strings.TrimSpace(row.Title), strings.TrimSpace(row.Text)
		switch {
		case title == "" && text == "":
			continue
		case title == "" && len(md) > 0:
			// Text without a title after a section would be read as more of
			// that section.
			errs.add("section-"+id+"-title", fmt.Sprintf("Section %d: give it a title, or leave its text empty to leave it out", i+1))
			continue
		}
		for _, line := range strings.Split(text, "\n") {
			if strings.HasPrefix(line, "## ") {
				errs.add("section-"+id+"-text", fmt.Sprintf("Section %d: a line of the text starts with ##, which would start a new section. Make it a section of its own below", i+1))
				break
			}
		}
		if title == "" {
			md = append(md, text)
		} else {
			md = append(md, "## "+title+"\n\n"+text)
		}
	}
	if len(md) == 0 && !errs.Any() {
		errs.add("section-0-text", "Write the statement: at least one section with some text")
	}
	return rows, strings.Join(md, "\n\n") + "\n"
}

// adminStatementDraft adds the draft and shows its preview.
func (s *Site) adminStatementDraft(w http.ResponseWriter, r *http.Request) {
	if !s.readForm(w, r, maxAdminForm) {
		return
	}
	a, ok := s.loadAdmin(w, r)
	if !ok {
		return
	}
	page := newStatementDraft(a)
	page.FormID = r.PostForm.Get("formId")
	page.From, _ = strconv.Atoi(r.PostForm.Get("from"))
	var markdown string
	page.Sections, markdown = readSections(r, &page.Errors)
	if page.Errors.Any() {
		s.render(w, r, http.StatusBadRequest, "admin-statement-draft", page)
		return
	}
	next, _, err := s.forms.do(formID(r, a.sess), func() (string, error) {
		st, err := s.api.CreateStatement(r.Context(), a.sess.Token, a.group.ID, markdown)
		if err != nil {
			return "", err
		}
		s.log.LogAttrs(r.Context(), slog.LevelInfo, "admin drafted a statement", slog.String("statement", st.GetName()))
		return doneAt(a.statementPath(strconv.Itoa(int(st.GetVersion()))), "drafted"), nil
	})
	if err == nil {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return
	}
	if unsent(err) {
		page.Errors.add("section-0-text", "We could not save the draft because something on our side is not working. What you wrote is still here: please try again in a few minutes")
		s.render(w, r, http.StatusServiceUnavailable, "admin-statement-draft", page)
		return
	}
	if !fieldRefusals(err, &page.Errors, map[string]string{}, "section-0-text") {
		s.fail(w, r, a.group, err)
		return
	}
	s.render(w, r, http.StatusBadRequest, "admin-statement-draft", page)
}

// loadStatement reads the admin and the version the path names.
func (s *Site) loadStatement(w http.ResponseWriter, r *http.Request) (*signedInAdmin, *directoryv1.Statement, bool) {
	a, ok := s.loadAdmin(w, r)
	if !ok {
		return nil, nil, false
	}
	version, err := strconv.Atoi(r.PathValue("version"))
	if err != nil || version < 1 || strconv.Itoa(version) != r.PathValue("version") {
		s.notFoundIn(w, r, a.group)
		return nil, nil, false
	}
	st, err := s.api.GetStatement(r.Context(), a.sess.Token, a.group.ID, version)
	if err != nil {
		s.fail(w, r, a.group, err)
		return nil, nil, false
	}
	return a, st, true
}

// adminStatementPreview shows a version as the public statement page will.
func (s *Site) adminStatementPreview(w http.ResponseWriter, r *http.Request) {
	a, st, ok := s.loadStatement(w, r)
	if !ok {
		return
	}
	v := int(st.GetVersion())
	page := statementPreviewPage{layout: a.layout(fmt.Sprintf("Version %d of the ethical statement", v)), Back: a.statementPath(""),
		Statement: statementPage{layout: layout{Group: a.group}, Version: v, Sections: statementSections(st)},
		Version:   v, Draft: st.GetState() == directoryv1.Statement_STATE_DRAFT, State: statementStateWords[st.GetState()],
		Publish: a.statementPath(strconv.Itoa(v) + "/publish")}
	if r.URL.Query().Get("done") == "drafted" {
		page.Banner = &banner{Title: fmt.Sprintf("Version %d is saved as a draft", v), Next: "Below is how the public will read it. Nobody outside the group sees it until you publish it."}
	}
	s.render(w, r, http.StatusOK, "admin-statement-preview", page)
}

// publishPage is the confirmation of publishing st.
func publishPage(a *signedInAdmin, st *directoryv1.Statement) confirmPage {
	v := strconv.Itoa(int(st.GetVersion()))
	return confirmPage{layout: a.layout("Publish version " + v + "?"), Back: a.statementPath(v), BackText: "Back to the preview of version " + v,
		Lead: "Make version " + v + " the group's ethical statement.",
		Means: []string{
			"The group's statement page shows it at once, to everyone.",
			"The version in force now is replaced. It stays listed on the admins' page of the statement.",
			"A published version cannot be changed: to change it, draft a new version.",
		},
		Action: a.statementPath(v + "/publish"), Button: "Publish version " + v, FormID: newRequestID()}
}

// adminStatementPublishForm asks to confirm publishing a draft.
func (s *Site) adminStatementPublishForm(w http.ResponseWriter, r *http.Request) {
	a, st, ok := s.loadStatement(w, r)
	if !ok {
		return
	}
	page := publishPage(a, st)
	if st.GetState() != directoryv1.Statement_STATE_DRAFT {
		page.Problem, page.Action = notDraftWords(st), ""
	}
	s.render(w, r, http.StatusOK, "admin-confirm", page)
}

// notDraftWords say why a version cannot be published.
func notDraftWords(st *directoryv1.Statement) string {
	where := "it has been published already"
	switch st.GetState() {
	case directoryv1.Statement_STATE_PUBLISHED:
		where = "it is in force already"
	case directoryv1.Statement_STATE_SUPERSEDED:
		where = "it has been replaced"
	}
	return fmt.Sprintf("Version %d is not a draft: %s. Only a draft can be published. To change the statement, draft a new version.", st.GetVersion(), where)
}

// adminStatementPublish publishes the draft.
func (s *Site) adminStatementPublish(w http.ResponseWriter, r *http.Request) {
	if !s.readForm(w, r, maxAdminForm) {
		return
	}
	a, st, ok := s.loadStatement(w, r)
	if !ok {
		return
	}
	next, _, err := s.forms.do(formID(r, a.sess), func() (string, error) {
		if _, err := s.api.PublishStatement(r.Context(), a.sess.Token, a.group.ID, int(st.GetVersion())); err != nil {
			return "", err
		}
		s.log.LogAttrs(r.Context(), slog.LevelInfo, "admin published a statement", slog.String("statement", st.GetName()))
		return doneAt(a.statementPath(""), "published"), nil
	})
	switch {
	case err == nil:
		http.Redirect(w, r, next, http.StatusSeeOther)
	case api.IsReason(err, "STATEMENT_NOT_DRAFT"):
		page := publishPage(a, st)
		page.Problem, page.Action = notDraftWords(st), ""
		s.render(w, r, http.StatusConflict, "admin-confirm", page)
	default:
		s.fail(w, r, a.group, err)
	}
}
