package message

import (
	"bytes"
	"crypto/rand"
	"fmt"
	htmltemplate "html/template"
	"io/fs"
	"strings"
	texttemplate "text/template"
)

// Override is a group's own wording of a template. An empty part keeps the
// embedded one.
type Override struct {
	Subject string
	Text    string
	HTML    string
}

// IsZero reports whether o changes nothing.
func (o Override) IsZero() bool { return o.Subject == "" && o.Text == "" && o.HTML == "" }

// Source is a template's wording as written: the three parts' source text.
// HTML is empty for a plain-text message.
type Source = Override

// Has reports whether the catalog holds key.
func (c *Catalog) Has(key string) bool {
	_, ok := c.templates[key]
	return ok
}

// PlainText reports whether key's message has no HTML body.
func (c *Catalog) PlainText(key string) bool { return c.templates[key].html == nil }

// Source returns the embedded wording of key.
func (c *Catalog) Source(key string) (Source, error) {
	if !c.Has(key) {
		return Source{}, fmt.Errorf("%w %q", ErrUnknownTemplate, key)
	}
	read := func(suffix string) string {
		b, err := fs.ReadFile(files, "templates/"+key+suffix)
		if err != nil {
			return ""
		}
		return string(b)
	}
	return Source{Subject: read(".subject.tmpl"), Text: read(".txt.tmpl"), HTML: read(".html.tmpl")}, nil
}

// Problems says, for each part of an override that cannot be used, why:
// keys "subject", "text" and "html".
type Problems map[string]string

// Check parses o's parts and renders them with Sample data, so that an
// override that would fail at send time is refused when it is set. It
// returns nil when o is usable for key. Each part's length and what
// characters it may hold are the contract's text rule (max_length in the
// proto, in characters), which the platform applies before any handler.
func (c *Catalog) Check(key string, o Override) Problems {
	p := Problems{}
	if !c.Has(key) {
		p["name"] = "there is no such template"
		return p
	}
	if o.HTML != "" && c.PlainText(key) {
		p["html"] = "this message is plain text only; it has no HTML body"
	}
	if len(p) > 0 {
		return p
	}
	data := Sample()
	if LinkRequired(key) {
		// Links no wording could contain by chance, so that a wording
		// that merely quotes a sample link is not taken for one that
		// inserts it.
		data.SignInURL = "https://disputes.example.org/sample/sign-in/" + rand.Text()
		data.Links = []CaseLink{
			{Reference: "SAMP-LE01", URL: "https://disputes.example.org/sample/link/" + rand.Text()},
			{Reference: "SAMP-LE02", URL: "https://disputes.example.org/sample/link/" + rand.Text()},
		}
	}
	m, err := c.RenderOverride(key, o, data)
	if err != nil {
		if perr, ok := err.(*partError); ok {
			p[perr.part] = perr.err.Error()
		} else {
			p["text"] = err.Error()
		}
		return p
	}
	if LinkRequired(key) {
		for part, missing := range LinkMissing(m, RequiredLinks(key, data)...) {
			p[part] = missing
		}
		if len(p) > 0 {
			return p
		}
	}
	return nil
}

// LinkMissing says, for each part of m that breaks the rule of a message
// whose links are required, why: the text body, and the HTML body when
// there is one, must hold every link (`{{.SignInURL}}`, or each of
// `{{range .Links}}{{.URL}}{{end}}`), and the subject none, since mail
// servers and clients show and log subjects freely. Nil when m keeps the
// rule.
func LinkMissing(m Message, links ...string) Problems {
	p := Problems{}
	for _, link := range links {
		if !strings.Contains(m.Text, link) {
			p["text"] = "must contain every sign-in link ({{.SignInURL}}, or each {{.URL}} of {{range .Links}}): without them the message is of no use"
		}
		if m.HTML != "" && !strings.Contains(m.HTML, link) {
			p["html"] = "must contain every sign-in link ({{.SignInURL}}, or each {{.URL}} of {{range .Links}}): without them the message is of no use"
		}
		if strings.Contains(m.Subject, link) {
			p["subject"] = "must not contain a sign-in link: subjects are shown and logged where the link must not be"
		}
	}
	if len(links) == 0 {
		p["text"] = "has no sign-in link to hold"
	}
	if len(p) == 0 {
		return nil
	}
	return p
}

// partError is a failure in one part of an override.
type partError struct {
	part string
	err  error
}

func (e *partError) Error() string { return e.part + ": " + e.err.Error() }
func (e *partError) Unwrap() error { return e.err }

// RenderOverride fills key's template with data, using o's parts where
// they are set and the embedded ones elsewhere.
func (c *Catalog) RenderOverride(key string, o Override, data Data) (Message, error) {
	if o.IsZero() {
		return c.Render(key, data)
	}
	base, err := c.Render(key, data)
	if err != nil {
		return Message{}, err
	}
	out := base
	if o.Subject != "" {
		if out.Subject, err = renderText(key+".subject", o.Subject, data); err != nil {
			return Message{}, &partError{"subject", err}
		}
		out.Subject = oneLine(out.Subject)
		if out.Subject == "" {
			return Message{}, &partError{"subject", fmt.Errorf("renders empty")}
		}
	}
	if o.Text != "" {
		if out.Text, err = renderText(key+".txt", o.Text, data); err != nil {
			return Message{}, &partError{"text", err}
		}
	}
	if o.HTML != "" {
		if c.PlainText(key) {
			return Message{}, &partError{"html", fmt.Errorf("the message is plain text only")}
		}
		t, err := htmltemplate.New(key + ".html").Option("missingkey=error").Parse(o.HTML)
		if err != nil {
			return Message{}, &partError{"html", err}
		}
		var b bytes.Buffer
		if err := t.Execute(&b, data); err != nil {
			return Message{}, &partError{"html", err}
		}
		out.HTML = b.String()
	}
	return out, nil
}

func renderText(name, src string, data Data) (string, error) {
	t, err := texttemplate.New(name).Option("missingkey=error").Parse(src)
	if err != nil {
		return "", err
	}
	var b bytes.Buffer
	if err := t.Execute(&b, data); err != nil {
		return "", err
	}
	return b.String(), nil
}

// Sample is the data previews and checks render with: invented, and clearly
// so.
func Sample() Data {
	return Data{
		RecipientName: "Sample Member",
		GroupName:     "Sample Group",
		SignInURL:     "https://disputes.example.org/",
		Reference:     "groups/sample/cases/00000000-0000-4000-8000-000000000000",
		Target:        "the resolution of the concern",
		Deadline:      "Monday 2 March 2026",
		Items: []DigestItem{
			{Case: "groups/sample/cases/00000000-0000-4000-8000-000000000000", Step: "Sample step"},
			{Case: "groups/sample/cases/00000000-0000-4000-8000-000000000001", Step: "Another sample step"},
		},
		FromGroupName: "Sample Link Group",
		AskedFor:      "sample.member@example.org",
		AskedAt:       "Monday 2 March 2026 at 14:05 UK time",
		AskedFrom:     "a network whose addresses start 192.0.2",
		ExpiresAt:     "14:20 UK time",
		Links:         []CaseLink{{Reference: "K7QM-3XRD", URL: "https://disputes.example.org/sample/link/"}},
	}
}
