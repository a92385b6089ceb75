package pages

import (
	"net/http"
	"strings"

	directoryv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/directory/v1"
	"github.com/ipnmediation/disputes/web/internal/api"
)

// home is the site's root: groups share one deployment and each has its
// own address, so the root only says to use the group's link.
func (s *Site) home(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "home", layout{Title: "Raise a concern about a counsellor or psychotherapist"})
}

// groupSlash sends /riverside to /riverside/.
func (s *Site) groupSlash(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("group")
	if !api.ValidID(id) {
		s.notFound(w, r)
		return
	}
	http.Redirect(w, r, "/"+id+"/", http.StatusMovedPermanently)
}

// groupPage is the group's page: raise a concern, or come back to one.
func (s *Site) groupPage(w http.ResponseWriter, r *http.Request) {
	g, ok := s.loadGroup(w, r)
	if !ok {
		return
	}
	s.render(w, r, http.StatusOK, "group", layout{Title: g.Name, Group: g, SignedIn: s.signedIn(r, g)})
}

// statementPage is the ethical statement in force.
type statementPage struct {
	layout
	// Version is its version number; 0 when the group has published none.
	Version  int
	Sections []statementSection
}

// statement shows the group's ethical statement.
func (s *Site) statement(w http.ResponseWriter, r *http.Request) {
	g, ok := s.loadGroup(w, r)
	if !ok {
		return
	}
	data := statementPage{layout: layout{Title: "Our ethical statement", Group: g, SignedIn: s.signedIn(r, g)}}
	st, err := s.api.GetCurrentStatement(r.Context(), g.ID)
	switch {
	case api.IsReason(err, "STATEMENT_NOT_FOUND"):
	case err != nil:
		s.fail(w, r, g, err)
		return
	default:
		data.Version, data.Sections = int(st.GetVersion()), statementSections(st)
	}
	s.render(w, r, http.StatusOK, "statement", data)
}

// statementSections are a version's sections as the statement page shows
// them; the admins' preview of a draft shows them the same way.
func statementSections(st *directoryv1.Statement) []statementSection {
	var out []statementSection
	for _, sec := range st.GetSections() {
		out = append(out, statementSection{Title: sec.GetTitle(), Blocks: markdownBlocks(sec.GetMarkdown())})
	}
	if len(out) == 0 {
		out = []statementSection{{Blocks: markdownBlocks(st.GetMarkdown())}}
	}
	return out
}

// statementSection is one part of the statement.
type statementSection struct {
	Title  string
	Blocks []block
}

// block is a paragraph, a heading or a list of the statement's Markdown.
type block struct {
	Heading   string
	Paragraph string
	Items     []string
}

// markdownBlocks reads the little Markdown a statement is written in:
// paragraphs, headings and lists, as plain text (emphasis marks are left as
// typed; html/template escapes everything). A full Markdown renderer would
// be a library and HTML to sanitise for a page of prose.
func markdownBlocks(md string) []block {
	var out []block
	var para []string
	var items []string
	flush := func() {
		if len(para) > 0 {
			out = append(out, block{Paragraph: strings.Join(para, " ")})
			para = nil
		}
		if len(items) > 0 {
			out = append(out, block{Items: items})
			items = nil
		}
	}
	for _, line := range strings.Split(strings.ReplaceAll(md, "\r\n", "\n"), "\n") {
		t := strings.TrimSpace(line)
		switch {
		case t == "":
			flush()
		case strings.HasPrefix(t, "#"):
			flush()
			if h := strings.TrimSpace(strings.TrimLeft(t, "#")); h != "" {
				out = append(out, block{Heading: h})
			}
		case strings.HasPrefix(t, "- "), strings.HasPrefix(t, "* "):
			if len(para) > 0 {
				out = append(out, block{Paragraph: strings.Join(para, " ")})
				para = nil
			}
			items = append(items, strings.TrimSpace(t[2:]))
		case len(items) > 0 && len(para) == 0 && strings.HasPrefix(line, "  "):
			items[len(items)-1] += " " + t
		default:
			if len(items) > 0 {
				out = append(out, block{Items: items})
				items = nil
			}
			para = append(para, t)
		}
	}
	flush()
	return out
}
