package directory

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseSections(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want []Section
	}{
		{"empty", "", nil},
		{"blank", "  \n\n\t\n", nil},
		{"text without headings", "We are a group.\nWe meet monthly.", []Section{{"", "We are a group.\nWe meet monthly."}}},
		{
			"preamble and sections",
			"# Ethical statement\n\nIntro.\n\n## Values\n\nRespect.\n\n## Confidentiality\nWe keep confidences.\n### Limits\nRisk to life.\n",
			[]Section{
				{"", "# Ethical statement\n\nIntro."},
				{"Values", "Respect."},
				{"Confidentiality", "We keep confidences.\n### Limits\nRisk to life."},
			},
		},
		{"blank preamble dropped", "\n\n## Values\nRespect.", []Section{{"Values", "Respect."}}},
		{"heading without text", "## Values\n## Boundaries\nClear.", []Section{{"Values", ""}, {"Boundaries", "Clear."}}},
		{"title is trimmed", "##   Supervision  \nRegular.", []Section{{"Supervision", "Regular."}}},
		{"CRLF line ends", "## Values\r\nRespect.\r\n", []Section{{"Values", "Respect.\r"}}},
		{"not a heading without a space", "##Values\nText.", []Section{{"", "##Values\nText."}}},
		{"indented is not a heading", " ## Values\nText.", []Section{{"", " ## Values\nText."}}},
		{"blank title", "## \nText.", []Section{{"", "Text."}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := ParseSections(tc.in); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("ParseSections(%q) =\n%#v\nwant\n%#v", tc.in, got, tc.want)
			}
		})
	}
}

// nonBlankBodyLines lists the lines of markdown that are neither headings
// nor blank: the text a statement's sections must keep.
func nonBlankBodyLines(markdown string) []string {
	var out []string
	for _, line := range strings.Split(markdown, "\n") {
		if strings.HasPrefix(line, sectionHeading) || strings.TrimSpace(line) == "" {
			continue
		}
		out = append(out, line)
	}
	return out
}

// FuzzParseSections checks that parsing never panics, that re-joining the
// sections loses no text other than headings and blank lines, and that there
// is one section per heading (plus the preamble when it has text).
func FuzzParseSections(f *testing.F) {
	for _, s := range []string{"", "## A\nb", "x\n## A\n\n## B\nc\n", "##\n## \n###  x", "\r\n## \r\n", "\xff## a"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, markdown string) {
		sections := ParseSections(markdown)
		var joined []string
		for _, s := range sections {
			joined = append(joined, s.Markdown)
		}
		got := nonBlankBodyLines(strings.Join(joined, "\n"))
		want := nonBlankBodyLines(markdown)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("sections of %q keep %q, want %q", markdown, got, want)
		}
		headings := 0
		for _, line := range strings.Split(markdown, "\n") {
			if strings.HasPrefix(line, sectionHeading) {
				headings++
			}
		}
		if len(sections) != headings && len(sections) != headings+1 {
			t.Fatalf("%d sections for %d headings in %q", len(sections), headings, markdown)
		}
	})
}
