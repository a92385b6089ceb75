package icalendar_test

import (
	"bytes"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/ipnmediation/disputes/services/casework/internal/icalendar"
)

// event returns a valid Event for tests to vary, so that each case shows
// only what it is about.
func event() icalendar.Event {
	start := time.Date(2026, 3, 10, 14, 0, 0, 0, time.UTC)
	return icalendar.Event{
		UID:     "0b6f7c1e-3a59-4c1b-9d0e-2f1a6c7d8e90@disputes.ipn.org.uk",
		Start:   start,
		End:     start.Add(90 * time.Minute),
		Summary: "Joint meeting (riverside)",
		Stamp:   time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC),
	}
}

func render(t testing.TB, e icalendar.Event) []byte {
	t.Helper()
	out, err := icalendar.Render(e)
	if err != nil {
		t.Fatalf("Render(%+v): %v", e, err)
	}
	return out
}

// physicalLines splits out at CRLF, failing if it does not end with one or
// holds a bare CR or LF, which calendar clients reject.
func physicalLines(t testing.TB, out []byte) []string {
	t.Helper()
	s := string(out)
	if !strings.HasSuffix(s, "\r\n") {
		t.Fatalf("output does not end with CRLF: %q", s)
	}
	lines := strings.Split(strings.TrimSuffix(s, "\r\n"), "\r\n")
	for _, l := range lines {
		if strings.ContainsAny(l, "\r\n") {
			t.Fatalf("bare CR or LF in line %q", l)
		}
	}
	return lines
}

// contentLines undoes folding (RFC 5545 section 3.1): a line starting with
// a space or tab continues the one before, less that one character.
func contentLines(t testing.TB, out []byte) []string {
	t.Helper()
	var lines []string
	for _, l := range physicalLines(t, out) {
		if l != "" && (l[0] == ' ' || l[0] == '\t') && len(lines) > 0 {
			lines[len(lines)-1] += l[1:]
			continue
		}
		lines = append(lines, l)
	}
	return lines
}

// property returns the raw value of the one property named name (its
// parameters included in the name, as written), and whether there is one.
func property(t testing.TB, out []byte, name string) (string, bool) {
	t.Helper()
	var (
		value string
		found bool
	)
	for _, l := range contentLines(t, out) {
		if v, ok := strings.CutPrefix(l, name+":"); ok {
			if found {
				t.Fatalf("%s appears more than once", name)
			}
			value, found = v, true
		}
	}
	return value, found
}

// unescape reads a TEXT value back (RFC 5545 section 3.3.11).
func unescape(v string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c == '\\' && i+1 < len(v):
			i++
			switch v[i] {
			case '\\', ';', ',':
				b.WriteByte(v[i])
			case 'n', 'N':
				b.WriteByte('\n')
			default:
				return "", fmt.Errorf("unknown escape \\%c in %q", v[i], v)
			}
		case c == '\\':
			return "", fmt.Errorf("trailing backslash in %q", v)
		case c == ';' || c == ',':
			return "", fmt.Errorf("unescaped %c in %q", c, v)
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), nil
}

// normalized is what Event promises a text field becomes, written apart
// from the package's own code so that each checks the other.
func normalized(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	var b strings.Builder
	rs := []rune(s)
	for i := 0; i < len(rs); i++ {
		switch r := rs[i]; {
		case r == '\r':
			b.WriteRune('\n')
			if i+1 < len(rs) && rs[i+1] == '\n' {
				i++
			}
		case r == '\t', r == '\n', r >= ' ' && r != 0x7f:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func TestRenderEscapesText(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, summary, want string
	}{
		{"plain", "Joint meeting (riverside)", "Joint meeting (riverside)"},
		{"backslash", `C:\cases\K7QM`, `C:\\cases\\K7QM`},
		{"semicolon and comma", "Smith; Jones, and Brown", `Smith\; Jones\, and Brown`},
		{"newline", "first\nsecond", `first\nsecond`},
		{"CRLF is one newline", "first\r\nsecond", `first\nsecond`},
		{"lone CR is a newline", "first\rsecond", `first\nsecond`},
		{"escape-like text stays literal", `a\nb`, `a\\nb`},
		{"colon and quote need no escape", `Re: "room 4"`, `Re: "room 4"`},
		{"tab kept", "a\tb", "a\tb"},
		{"other controls dropped", "a\x00b\x07c\x1bd\x7fe", "abcde"},
		{"invalid UTF-8 replaced", "caf\xe9", "caf\uFFFD"},
		{"non-ASCII kept", "Réunion — 会議", "Réunion — 会議"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := event()
			e.Summary, e.Location, e.Description = tt.summary, tt.summary, tt.summary
			out := render(t, e)
			for _, name := range []string{"SUMMARY", "LOCATION", "DESCRIPTION"} {
				got, ok := property(t, out, name)
				if !ok {
					t.Fatalf("no %s in\n%s", name, out)
				}
				if got != tt.want {
					t.Errorf("%s = %q, want %q", name, got, tt.want)
				}
			}
		})
	}
}

func TestRenderFoldsLongLines(t *testing.T) {
	t.Parallel()
	const prefix = "DESCRIPTION:" // 12 octets, leaving 63 on the first line
	a := func(n int) string { return strings.Repeat("a", n) }
	tests := []struct {
		name        string
		description string
		want        []string // the DESCRIPTION property's physical lines
	}{
		{"exactly 75 octets", a(63), []string{prefix + a(63)}},
		{"76 octets", a(64), []string{prefix + a(63), " a"}},
		{"2-octet character not split", a(62) + "éé", []string{prefix + a(62), " éé"}},
		{"3-octet character not split", a(61) + "€", []string{prefix + a(61), " €"}},
		{"3-octet character just fits", a(60) + "€", []string{prefix + a(60) + "€"}},
		{"4-octet character not split", a(60) + "😀", []string{prefix + a(60), " 😀"}},
		{"escape not split", a(62) + ";", []string{prefix + a(62), ` \;`}},
		{"escaped newline not split", a(62) + "\nb", []string{prefix + a(62), ` \nb`}},
		{
			// The leading space counts: continuations carry 74 octets.
			"continuation lines",
			a(63 + 74 + 5),
			[]string{prefix + a(63), " " + a(74), " " + a(5)},
		},
		{
			"multibyte throughout",
			strings.Repeat("😀", 40),
			[]string{
				prefix + strings.Repeat("😀", 15),
				" " + strings.Repeat("😀", 18),
				" " + strings.Repeat("😀", 7),
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := event()
			e.Description = tt.description
			lines := physicalLines(t, render(t, e))
			var got []string
			for i, l := range lines {
				if strings.HasPrefix(l, prefix) {
					got = append(got, l)
					for _, c := range lines[i+1:] {
						if !strings.HasPrefix(c, " ") {
							break
						}
						got = append(got, c)
					}
				}
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("DESCRIPTION folded as\n%q\nwant\n%q", got, tt.want)
			}
			for _, l := range got {
				if len(l) > 75 || !utf8.ValidString(l) {
					t.Errorf("line of %d octets, valid UTF-8 %t: %q", len(l), utf8.ValidString(l), l)
				}
			}
		})
	}
}

func TestRenderWritesUTC(t *testing.T) {
	t.Parallel()
	paris := time.FixedZone("CEST", 2*60*60)
	newYork := time.FixedZone("EST", -5*60*60)
	tests := []struct {
		name              string
		start, end, stamp time.Time
		wantStart         string
		wantEnd           string
		wantStamp         string
	}{
		{
			name:      "ahead of UTC",
			start:     time.Date(2026, 7, 1, 10, 30, 15, 0, paris),
			end:       time.Date(2026, 7, 1, 12, 0, 0, 0, paris),
			stamp:     time.Date(2026, 6, 20, 8, 0, 0, 0, paris),
			wantStart: "20260701T083015Z",
			wantEnd:   "20260701T100000Z",
			wantStamp: "20260620T060000Z",
		},
		{
			name:      "behind UTC, across the new year",
			start:     time.Date(2026, 12, 31, 22, 0, 0, 0, newYork),
			end:       time.Date(2026, 12, 31, 23, 30, 0, 0, newYork),
			stamp:     time.Date(2026, 12, 1, 0, 0, 0, 0, newYork),
			wantStart: "20270101T030000Z",
			wantEnd:   "20270101T043000Z",
			wantStamp: "20261201T050000Z",
		},
		{
			name:      "fractions of a second dropped",
			start:     time.Date(2026, 3, 10, 14, 0, 0, 999_999_999, time.UTC),
			end:       time.Date(2026, 3, 10, 14, 0, 1, 1, time.UTC),
			stamp:     time.Date(2026, 3, 1, 9, 0, 0, 500_000_000, time.UTC),
			wantStart: "20260310T140000Z",
			wantEnd:   "20260310T140001Z",
			wantStamp: "20260301T090000Z",
		},
		{
			name:      "monotonic reading ignored",
			start:     time.Now().Add(time.Hour),
			end:       time.Now().Add(2 * time.Hour),
			stamp:     time.Now(),
			wantStart: "", // checked against the wall clock below
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := event()
			e.Start, e.End, e.Stamp = tt.start, tt.end, tt.stamp
			out := render(t, e)
			want := map[string]string{"DTSTART": tt.wantStart, "DTEND": tt.wantEnd, "DTSTAMP": tt.wantStamp}
			if tt.wantStart == "" {
				want = map[string]string{
					"DTSTART": tt.start.UTC().Format("20060102T150405Z"),
					"DTEND":   tt.end.UTC().Format("20060102T150405Z"),
					"DTSTAMP": tt.stamp.UTC().Format("20060102T150405Z"),
				}
			}
			for name, w := range want {
				if got, _ := property(t, out, name); got != w {
					t.Errorf("%s = %q, want %q", name, got, w)
				}
			}
		})
	}
}

func TestRenderRejectsInvalidEvents(t *testing.T) {
	t.Parallel()
	tooBig := math.MaxInt32
	tooBig++ // wraps to negative where int is 32 bits, which is refused too
	tests := []struct {
		name   string
		modify func(*icalendar.Event)
		want   string // in the error
	}{
		{"empty UID", func(e *icalendar.Event) { e.UID = "" }, "UID"},
		{"blank UID", func(e *icalendar.Event) { e.UID = " \t " }, "UID"},
		{"UID of control characters", func(e *icalendar.Event) { e.UID = "\x00\x01" }, "UID"},
		{"End equal to Start", func(e *icalendar.Event) { e.End = e.Start }, "not after Start"},
		{"End before Start", func(e *icalendar.Event) { e.End = e.Start.Add(-time.Minute) }, "not after Start"},
		{"End in the same second", func(e *icalendar.Event) { e.End = e.Start.Add(500 * time.Millisecond) }, "not after Start"},
		{"negative Sequence", func(e *icalendar.Event) { e.Sequence = -1 }, "Sequence"},
		{"Sequence beyond 32 bits", func(e *icalendar.Event) { e.Sequence = tooBig }, "Sequence"},
		{"zero Start", func(e *icalendar.Event) { e.Start = time.Time{} }, "zero Start"},
		{"zero End", func(e *icalendar.Event) { e.End = time.Time{} }, "zero End"},
		{"zero Stamp", func(e *icalendar.Event) { e.Stamp = time.Time{} }, "zero Stamp"},
		{"five-digit year", func(e *icalendar.Event) { e.End = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) }, "year 10000"},
		{"year before 1", func(e *icalendar.Event) { e.Stamp = time.Date(0, 12, 31, 0, 0, 0, 0, time.UTC) }, "year 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := event()
			tt.modify(&e)
			out, err := icalendar.Render(e)
			if err == nil {
				t.Fatalf("Render(%+v) = %q, want an error", e, out)
			}
			if out != nil {
				t.Errorf("Render returned output with its error: %q", out)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not mention %q", err, tt.want)
			}
		})
	}
}

func TestRenderOptionalProperties(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		modify    func(*icalendar.Event)
		property  string
		want      string // "" for absent
		wantFound bool
	}{
		{"no location", func(e *icalendar.Event) { e.Location = "" }, "LOCATION", "", false},
		{"no description", func(e *icalendar.Event) { e.Description = "" }, "DESCRIPTION", "", false},
		{"description of control characters", func(e *icalendar.Event) { e.Description = "\x00" }, "DESCRIPTION", "", false},
		{"no organiser", func(e *icalendar.Event) { e.Organizer = "" }, `ORGANIZER;CN="`, "", false},
		{
			"organiser name quoted",
			func(e *icalendar.Event) { e.Organizer = "Jo Smith, mediator" },
			`ORGANIZER;CN="Jo Smith, mediator"`, "invalid:nomail", true,
		},
		{
			// RFC 6868: a quoted value cannot hold DQUOTE or a line break.
			"organiser name with caret escapes",
			func(e *icalendar.Event) { e.Organizer = "Dr \"Jo\" O:Neill ^\nIPN" },
			`ORGANIZER;CN="Dr ^'Jo^' O:Neill ^^^nIPN"`, "invalid:nomail", true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := event()
			e.Location, e.Description = "Room 4", "Bring the case file."
			tt.modify(&e)
			out := render(t, e)
			var found []string
			for _, l := range contentLines(t, out) {
				if strings.HasPrefix(l, strings.SplitN(tt.property, ";", 2)[0]) {
					found = append(found, l)
				}
			}
			switch {
			case !tt.wantFound && len(found) > 0:
				t.Errorf("want no %s, got %q", tt.property, found)
			case tt.wantFound && (len(found) != 1 || found[0] != tt.property+":"+tt.want):
				t.Errorf("got %q, want %q", found, tt.property+":"+tt.want)
			}
		})
	}
}

// TestRenderCalendar pins one whole calendar, byte for byte, so that any
// change to the output is a deliberate one.
func TestRenderCalendar(t *testing.T) {
	t.Parallel()
	london := time.FixedZone("BST", 60*60)
	e := icalendar.Event{
		UID:      "0b6f7c1e-3a59-4c1b-9d0e-2f1a6c7d8e90@disputes.ipn.org.uk",
		Sequence: 2,
		Start:    time.Date(2026, 4, 14, 10, 0, 0, 0, london),
		End:      time.Date(2026, 4, 14, 11, 30, 0, 0, london),
		Summary:  "Joint meeting (riverside)",
		Location: "IPN office, 12 Market Street; Room 4",
		Description: "Second joint meeting with both parties and their support people.\n" +
			"Please arrive ten minutes early — café on the ground floor.",
		Stamp:     time.Date(2026, 4, 1, 9, 15, 30, 0, time.UTC),
		Organizer: "Jo Smith",
	}
	want := strings.Join([]string{
		"BEGIN:VCALENDAR",
		"VERSION:2.0",
		"PRODID:-//IPN disputes//casework//EN",
		"METHOD:PUBLISH",
		"BEGIN:VEVENT",
		"UID:0b6f7c1e-3a59-4c1b-9d0e-2f1a6c7d8e90@disputes.ipn.org.uk",
		"SEQUENCE:2",
		"DTSTAMP:20260401T091530Z",
		"DTSTART:20260414T090000Z",
		"DTEND:20260414T103000Z",
		"STATUS:CONFIRMED",
		"SUMMARY:Joint meeting (riverside)",
		`LOCATION:IPN office\, 12 Market Street\; Room 4`,
		"DESCRIPTION:Second joint meeting with both parties and their support people",
		` .\nPlease arrive ten minutes early — café on the ground floor.`,
		`ORGANIZER;CN="Jo Smith":invalid:nomail`,
		"END:VEVENT",
		"END:VCALENDAR",
		"",
	}, "\r\n")
	got := render(t, e)
	if string(got) != want {
		t.Errorf("Render =\n%s\nwant\n%s", got, want)
	}
	if icalendar.ContentType != "text/calendar; charset=utf-8" {
		t.Errorf("ContentType = %q", icalendar.ContentType)
	}
}

func FuzzRender(f *testing.F) {
	f.Add("uid@disputes.ipn.org.uk", "Joint meeting (riverside)", "Room 4", "", "Jo Smith", 0, int64(1773151200), int64(5400), int64(1772355600))
	f.Add("u", `a\b;c,d`+"\ne\r\nf\rg", strings.Repeat("é", 50), strings.Repeat("😀", 40), "Dr \"Jo\" ^", 7, int64(0), int64(1), int64(-1))
	f.Add("u", strings.Repeat("a", 62)+";", "\x00\x7f\t", "caf\xe9 \xf0\x9f", "", 1, int64(-62135596800), int64(0), int64(253402300799))
	f.Add("", "", "", "", "", -1, int64(0), int64(-1), int64(0))
	f.Fuzz(func(t *testing.T, uid, summary, location, description, organizer string, sequence int, start, seconds, stamp int64) {
		e := icalendar.Event{
			UID:         uid,
			Sequence:    sequence,
			Start:       time.Unix(start, 0).In(time.FixedZone("", int(start%50400))),
			End:         time.Unix(start, 0).Add(time.Duration(seconds) * time.Second),
			Summary:     summary,
			Location:    location,
			Description: description,
			Stamp:       time.Unix(stamp, 0),
			Organizer:   organizer,
		}
		out, err := icalendar.Render(e)

		inYears := func(t time.Time) bool { y := t.UTC().Year(); return !t.IsZero() && y >= 1 && y <= 9999 }
		valid := strings.TrimSpace(normalized(uid)) != "" &&
			sequence >= 0 && int64(sequence) <= math.MaxInt32 &&
			inYears(e.Start) && inYears(e.End) && inYears(e.Stamp) &&
			e.End.Unix() > e.Start.Unix()
		if (err == nil) != valid {
			t.Fatalf("Render(%+v) error = %v, want error %t", e, err, !valid)
		}
		if err != nil {
			return
		}

		for _, l := range physicalLines(t, out) {
			if len(l) > 75 {
				t.Errorf("line of %d octets: %q", len(l), l)
			}
			if !utf8.ValidString(l) {
				t.Errorf("line not valid UTF-8: %q", l)
			}
		}
		if !bytes.HasSuffix(out, []byte("END:VEVENT\r\nEND:VCALENDAR\r\n")) {
			t.Errorf("calendar not closed: %q", out)
		}

		for name, in := range map[string]string{"SUMMARY": summary, "LOCATION": location, "DESCRIPTION": description, "UID": uid} {
			raw, found := property(t, out, name)
			want := normalized(in)
			if !found {
				if want != "" {
					t.Errorf("no %s for %q", name, in)
				}
				continue
			}
			got, err := unescape(raw)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if got != want {
				t.Errorf("%s read back as %q, want %q", name, got, want)
			}
			// Text needing no normalising must come back exactly.
			if in == want && got != in {
				t.Errorf("%s read back as %q, want the input %q", name, got, in)
			}
		}

		if got, _ := property(t, out, "DTSTART"); got != e.Start.UTC().Format("20060102T150405Z") {
			t.Errorf("DTSTART = %q for %v", got, e.Start)
		}
	})
}
