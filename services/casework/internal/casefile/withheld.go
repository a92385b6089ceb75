package casefile

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Withheld is what replaces a withheld detail in what the therapist's side
// reads.
const Withheld = "[withheld at the client's request]"

// therapistSide are the roles that read a case within the client's
// constraints: the therapist, their support person and a member nominated
// as that support person who has not answered yet.
var therapistSide = []Role{RoleTherapist, RoleSPT, RoleNominee}

// withholding blots the details the client withheld out of the texts one
// reader reads in one case. It is the one place where the withheld details
// apply: every text a read returns from a case (documents of every kind, the
// written statement, meeting locations, the concern as registered) passes
// through it. It changes nothing for anyone but the therapist's side, nor
// for them before the client has approved a statement with details
// withheld; from then on it applies to every text they read, whoever wrote
// it and whenever, except texts the therapist's side wrote themselves.
type withholding struct {
	// details are the withheld details, trimmed, none blank; empty when
	// nothing is withheld from this reader.
	details []string
}

// withholdingFor is what the caller may not read of c's texts. It reads the
// approved statement's constraints only for the therapist's side.
func (s *Service) withholdingFor(ctx context.Context, c Case, cl caller) (withholding, error) {
	if !cl.has(therapistSide...) || c.Progress.Approved == "" {
		return withholding{}, nil
	}
	statements, err := s.Store.Documents(ctx, c.ID, WrittenStatementDoc)
	if err != nil {
		return withholding{}, fmt.Errorf("read the client's constraints: %w", err)
	}
	w, ok := withholdingFrom(c, cl.roles, statements)
	if !ok {
		// Reading on without the constraints could show the therapist what
		// the client withheld; refusing shows nothing.
		return withholding{}, fmt.Errorf("case %s: the approved statement %s is missing", c.Name(), c.Progress.Approved)
	}
	return w, nil
}

// withholdingFrom is what a reader holding roles may not read of c's texts,
// given the case's written statements; ok is false when the statement the
// client approved is not among them.
func withholdingFrom(c Case, roles []Role, statements []Document) (w withholding, ok bool) {
	if c.Progress.Approved == "" || !slices.ContainsFunc(roles, func(r Role) bool { return slices.Contains(therapistSide, r) }) {
		return withholding{}, true
	}
	for _, d := range statements {
		if d.ID != c.Progress.Approved || d.Kind != WrittenStatementDoc || d.Statement == nil {
			continue
		}
		if con := d.Statement.Constraints; con != nil {
			for _, detail := range con.Withheld {
				if detail = strings.TrimSpace(detail); detail != "" {
					w.details = append(w.details, detail)
				}
			}
		}
		return w, true
	}
	return withholding{}, false
}

// text is t, written by a holder of author, as the reader reads it. The
// therapist's side reads what it wrote itself unchanged: blotting words they
// wrote would tell them which of their own words the client withholds.
func (w withholding) text(author Role, t string) string {
	if len(w.details) == 0 || slices.Contains(therapistSide, author) {
		return t
	}
	return blotAll(t, w.details)
}

// document is d as the reader reads it: its text, or each part of the
// written statement, passed through text. A reader from whom details are
// withheld never reads the constraints themselves.
func (w withholding) document(d Document) Document {
	d.Text = w.text(d.AuthorRole, d.Text)
	if st := d.Statement; st != nil {
		shaped := *st
		shaped.Concern = w.text(d.AuthorRole, st.Concern)
		shaped.DesiredOutcome = w.text(d.AuthorRole, st.DesiredOutcome)
		shaped.Summary = w.text(d.AuthorRole, st.Summary)
		if len(w.details) > 0 {
			shaped.Constraints = nil
		}
		d.Statement = &shaped
	}
	return d
}

// documents is each of docs as the reader reads it.
func (w withholding) documents(docs []Document) []Document {
	out := make([]Document, 0, len(docs))
	for _, d := range docs {
		out = append(out, w.document(d))
	}
	return out
}

// blotAll replaces every occurrence of each of details in text by Withheld,
// ignoring case (see foldCase). It makes one pass from the left: at each
// place the longest detail that matches there is replaced, and a
// replacement is never searched again, so that a detail such as "client"
// does not blot the word inside an earlier replacement.
func blotAll(text string, details []string) string {
	var needles []string
	for _, d := range details {
		if d = strings.TrimSpace(d); d != "" {
			needles = append(needles, foldCase(d))
		}
	}
	if len(needles) == 0 {
		return text
	}
	folded := foldCase(text)
	// next[i] is where needles[i] next occurs at or after pos, or -1 when
	// it occurs no more; kept between matches, so that a long text with
	// many matches is not searched again from each one for every detail.
	next := make([]int, len(needles))
	for i, n := range needles {
		next[i] = indexFrom(folded, n, 0)
	}
	var b strings.Builder
	pos := 0
	for {
		at, size := -1, 0
		for i, n := range needles {
			if next[i] >= 0 && next[i] < pos {
				next[i] = indexFrom(folded, n, pos)
			}
			if j := next[i]; j >= 0 && (at < 0 || j < at || (j == at && len(n) > size)) {
				at, size = j, len(n)
			}
		}
		if at < 0 {
			b.WriteString(text[pos:])
			return b.String()
		}
		b.WriteString(text[pos:at])
		b.WriteString(Withheld)
		pos = at + size
	}
}

// indexFrom is the offset of the first sub in s at or after from, or -1.
func indexFrom(s, sub string, from int) int {
	i := strings.Index(s[from:], sub)
	if i < 0 {
		return -1
	}
	return from + i
}

// foldCase lower-cases s character by character, keeping as they are the
// few characters whose lower case is longer or shorter in UTF-8 (and bytes
// that are not UTF-8), so that every offset in the result is the same
// offset in s and a match can be cut out of s exactly.
func foldCase(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b.WriteByte(s[i])
		} else if l := unicode.ToLower(r); utf8.RuneLen(l) == size {
			b.WriteRune(l)
		} else {
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}
