// Package icalendar renders a confirmed meeting as an iCalendar (RFC 5545)
// file, so that the people taking part can add it to their own calendars;
// it is what casework's GetMeetingCalendar RPC returns.
//
// It writes the one small subset casework needs (a VCALENDAR holding one
// VEVENT) by hand rather than through a library: the subset is a few dozen
// lines, and the rules that calendar clients are strict about (CRLF, UTC
// times, TEXT escaping, folding at 75 octets on character boundaries) are
// easier to check here, with tests, than in a general-purpose encoder.
//
// Whatever goes into an Event ends up in files that leave the service and sit
// in people's calendars (often synchronised with a provider outside the
// group), so callers must never put confidential text (concern text, contact
// details) or a case's reference in it.
package icalendar

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// ContentType is the media type to serve a rendered calendar with. The
// charset is stated, although RFC 5545 makes UTF-8 the default, so that
// nothing in between (a browser, a proxy, a mail gateway) has to guess.
const ContentType = "text/calendar; charset=utf-8"

// Fixed parts of every calendar. PRODID identifies us to clients working
// around producer-specific quirks; METHOD PUBLISH says the file is for
// information, so clients do not offer to send replies to an organiser who
// has no address.
const (
	prodID = "-//IPN disputes//casework//EN"
	method = "PUBLISH"
)

// maxLine is the longest a content line may be, in octets, not counting its
// CRLF (RFC 5545 section 3.1).
const maxLine = 75

// utcLayout is the UTC form of DATE-TIME. Only UTC is written: it needs no
// VTIMEZONE component and means the same instant in every client.
const utcLayout = "20060102T150405Z"

// nobody is the ORGANIZER address used when the organiser has a name but no
// address. ORGANIZER must be a URI; a made-up mailto: address could send
// mail to a stranger, whereas "invalid:nomail" goes nowhere and is the value
// Outlook itself writes in this case.
const nobody = "invalid:nomail"

// Event is one meeting to put in a calendar. Text fields may hold any
// characters: CR LF and lone CR become line breaks, other control
// characters except tab (which RFC 5545 forbids in TEXT) are dropped, and
// invalid UTF-8 becomes U+FFFD.
type Event struct {
	// UID identifies the meeting for good, e.g. "<meeting uuid>@disputes.ipn.org.uk",
	// so that a re-rendered file updates the meeting already in a calendar
	// instead of adding a second one.
	UID string
	// Sequence is bumped each time the meeting changes; clients keep the
	// copy with the highest Sequence. It must be from 0 to math.MaxInt32.
	Sequence int
	// Start and End bound the meeting; End must be at least a second after
	// Start, since only whole seconds are written.
	Start, End time.Time
	// Summary is the title calendars show, e.g. "Joint meeting, IPN group
	// riverside". It must never hold confidential text, nor anything that
	// identifies a case or a person: not a case's reference, which is half
	// of a client's sign-in.
	Summary string
	// Location is where the meeting takes place (an address or a video link);
	// it is left out when empty.
	Location string
	// Description is free text shown with the meeting; it is left out when empty.
	Description string
	// Stamp is when this version of the event was produced (DTSTAMP). It is
	// the caller's so that the same meeting renders to the same bytes.
	Stamp time.Time
	// Organizer is an optional display name, never an e-mail address.
	Organizer string
}

// Render returns e as a VCALENDAR (PRODID "-//IPN disputes//casework//EN",
// VERSION 2.0, METHOD PUBLISH) holding one confirmed VEVENT, with CRLF line
// endings, times in UTC truncated to the second, TEXT values escaped and
// lines folded at 75 octets without splitting a UTF-8 character.
//
// It returns an error, and no calendar, when e cannot make a valid one: an
// empty UID, a Sequence outside 0 to math.MaxInt32, a Start, End or Stamp
// that is zero or outside the years 1 to 9999, or an End not after Start.
// These are the caller's mistakes, so the errors are not meant for end users.
func Render(e Event) ([]byte, error) {
	if err := validate(e); err != nil {
		return nil, err
	}
	var b strings.Builder
	line := func(s string) {
		b.WriteString(fold(s))
		b.WriteString("\r\n")
	}
	// Optional properties are left out rather than written empty, which
	// some clients show as a blank location or description.
	text := func(name, value string) {
		if v := escapeText(value); v != "" {
			line(name + ":" + v)
		}
	}
	line("BEGIN:VCALENDAR")
	line("VERSION:2.0")
	line("PRODID:" + prodID)
	line("METHOD:" + method)
	line("BEGIN:VEVENT")
	line("UID:" + escapeText(e.UID))
	line("SEQUENCE:" + strconv.Itoa(e.Sequence))
	line("DTSTAMP:" + utc(e.Stamp))
	line("DTSTART:" + utc(e.Start))
	line("DTEND:" + utc(e.End))
	// Only confirmed meetings have calendars; saying so stops clients
	// showing the meeting as tentative.
	line("STATUS:CONFIRMED")
	text("SUMMARY", e.Summary)
	text("LOCATION", e.Location)
	text("DESCRIPTION", e.Description)
	if sanitize(e.Organizer) != "" {
		line("ORGANIZER;CN=" + quoteParam(e.Organizer) + ":" + nobody)
	}
	line("END:VEVENT")
	line("END:VCALENDAR")
	return []byte(b.String()), nil
}

func validate(e Event) error {
	var problems []string
	if strings.TrimSpace(sanitize(e.UID)) == "" {
		problems = append(problems, "empty UID")
	}
	// SEQUENCE is an RFC 5545 integer, which is 32 bits.
	if e.Sequence < 0 || int64(e.Sequence) > math.MaxInt32 {
		problems = append(problems, fmt.Sprintf("Sequence %d outside 0 to %d", e.Sequence, math.MaxInt32))
	}
	for _, t := range []struct {
		name string
		t    time.Time
	}{{"Start", e.Start}, {"End", e.End}, {"Stamp", e.Stamp}} {
		if p := checkTime(t.name, t.t); p != "" {
			problems = append(problems, p)
		}
	}
	// Compare what will be written, not the inputs: an End a few
	// milliseconds after Start would otherwise yield DTEND equal to DTSTART.
	if s, en := e.Start.Truncate(time.Second), e.End.Truncate(time.Second); !en.After(s) {
		problems = append(problems, fmt.Sprintf("End %s not after Start %s", utc(en), utc(s)))
	}
	if len(problems) > 0 {
		return fmt.Errorf("icalendar: invalid event: %s", strings.Join(problems, "; "))
	}
	return nil
}

// checkTime describes what is wrong with t, if anything. The zero time is
// refused because it is always a forgotten field, never a meeting in year 1;
// years beyond four digits because DATE-TIME cannot hold them.
func checkTime(name string, t time.Time) string {
	if t.IsZero() {
		return "zero " + name
	}
	if y := t.UTC().Year(); y < 1 || y > 9999 {
		return fmt.Sprintf("%s in year %d, outside 1 to 9999", name, y)
	}
	return ""
}

func utc(t time.Time) string {
	return t.UTC().Truncate(time.Second).Format(utcLayout)
}

// sanitize makes s something a TEXT value can carry (see Event): RFC 5545
// forbids control characters other than tab, and a line break is the only
// one with a meaning worth keeping.
func sanitize(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	return strings.Map(func(r rune) rune {
		if r == '\t' || r == '\n' || (r >= 0x20 && r != 0x7f) {
			return r
		}
		return -1
	}, s)
}

// textEscaper escapes the four characters RFC 5545 TEXT values (section
// 3.3.11) reserve; ':' and '"' need no escaping there.
var textEscaper = strings.NewReplacer(`\`, `\\`, `;`, `\;`, `,`, `\,`, "\n", `\n`)

func escapeText(s string) string {
	return textEscaper.Replace(sanitize(s))
}

// paramEscaper and quoteParam write a quoted parameter value. It is always
// quoted because a display name may hold ':', ';' or ','. A quoted value
// cannot hold DQUOTE or a line break, so those take RFC 6868's caret
// escapes, which in turn means '^' itself must be escaped.
var paramEscaper = strings.NewReplacer(`^`, `^^`, `"`, `^'`, "\n", `^n`)

func quoteParam(s string) string {
	return `"` + paramEscaper.Replace(sanitize(s)) + `"`
}

// fold splits a content line into lines of at most maxLine octets, each
// continuation starting with the single space that unfolding removes.
// It breaks only between characters, since a client may decode each
// physical line on its own, and never inside a backslash escape, which RFC
// 5545 allows but some clients then fail to unescape.
func fold(s string) string {
	if len(s) <= maxLine {
		return s
	}
	var b strings.Builder
	n := 0 // octets on the current physical line
	for i := 0; i < len(s); {
		size := unitLen(s[i:])
		if n+size > maxLine {
			b.WriteString("\r\n ")
			n = 1 // the leading space counts towards the limit
		}
		b.WriteString(s[i : i+size])
		n += size
		i += size
	}
	return b.String()
}

// unitLen is the length of the leading unit of s that must not be split:
// one UTF-8 character, or a backslash and the character after it.
func unitLen(s string) int {
	_, size := utf8.DecodeRuneInString(s)
	if s[0] == '\\' && len(s) > 1 {
		_, next := utf8.DecodeRuneInString(s[1:])
		size += next
	}
	return size
}
