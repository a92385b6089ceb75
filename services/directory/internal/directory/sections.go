package directory

import "strings"

// sectionHeading starts a line that begins a named section: a second-level
// Markdown heading. Deeper headings ("### ") stay inside their section.
const sectionHeading = "## "

// Section is one named part of an ethical statement.
type Section struct {
	// Title is the heading's text; empty for text before the first heading.
	Title string
	// Markdown is the section's text without its heading, with leading and
	// trailing blank lines removed.
	Markdown string
}

// ParseSections splits a statement's Markdown into sections. Each line that
// starts with "## " begins a section titled by the rest of the line; text
// before the first such line is a section with an empty title when it is not
// blank. Fenced code blocks are not recognised: a "## " line inside one still
// starts a section, which statements written as prose never meet.
func ParseSections(markdown string) []Section {
	var sections []Section
	var title string
	var body []string
	preamble := true
	flush := func() {
		text := trimBlankLines(body)
		if !preamble || text != "" {
			sections = append(sections, Section{Title: title, Markdown: text})
		}
	}
	for _, line := range strings.Split(markdown, "\n") {
		if rest, ok := strings.CutPrefix(line, sectionHeading); ok {
			flush()
			title, body, preamble = strings.TrimSpace(rest), nil, false
			continue
		}
		body = append(body, line)
	}
	flush()
	return sections
}

// trimBlankLines joins lines without the blank ones at either end, so that a
// section's text does not depend on the spacing around its heading.
func trimBlankLines(lines []string) string {
	for len(lines) > 0 && strings.TrimSpace(lines[0]) == "" {
		lines = lines[1:]
	}
	for len(lines) > 0 && strings.TrimSpace(lines[len(lines)-1]) == "" {
		lines = lines[:len(lines)-1]
	}
	return strings.Join(lines, "\n")
}
