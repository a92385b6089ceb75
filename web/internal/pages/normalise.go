package pages

import (
	"strings"
	"unicode"
)

// The case reference and the access code are written in Crockford's base32
// (intake's accesscode package): digits and capitals without I, L, O and U.
// A person copying them by hand, from a phone or from a printout, may type
// lowercase, spaces or no dashes (intake accepts those), but also letters
// that look like digits, a typographic dash from a word processor, or the
// label in front of a pasted line. The sign-in form forgives all of that:
// what it sends intake is the canonical form, or nothing.

const (
	// crockford is intake's alphabet.
	crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
	// referenceLength and accessCodeLength are their lengths without
	// dashes.
	referenceLength  = 8
	accessCodeLength = 26
	// maxTyped bounds what the normaliser reads, against hostile input.
	maxTyped = 200
)

// labels are what may precede a pasted reference or code, from the
// confirmation page or its text file.
var labels = []string{"reference", "access code", "code"}

// normaliseReference turns what a person typed into a reference as intake
// shows it, "K7QM-3XRD"; ok is false when it cannot be one.
func normaliseReference(typed string) (string, bool) {
	c, ok := canonical(typed, referenceLength)
	if !ok {
		return "", false
	}
	return group4(c), true
}

// normaliseAccessCode turns what a person typed into an access code in
// groups of four ("ABCD-EFGH-…-XY"); ok is false when it cannot be one.
func normaliseAccessCode(typed string) (string, bool) {
	c, ok := canonical(typed, accessCodeLength)
	if !ok {
		return "", false
	}
	return group4(c), true
}

// canonical reads typed as length characters of Crockford's alphabet: it
// drops a leading label, spaces and anything dash-like, upper-cases, and
// reads O as 0 and I and L as 1, as Crockford's decoding does.
func canonical(typed string, length int) (string, bool) {
	if len(typed) > maxTyped {
		return "", false
	}
	s := strings.TrimSpace(typed)
	lower := strings.ToLower(s)
	for _, l := range labels {
		if strings.HasPrefix(lower, l) {
			rest := strings.TrimLeft(s[len(l):], " \t")
			if strings.HasPrefix(rest, ":") {
				s = rest[1:]
				break
			}
		}
	}
	var b strings.Builder
	b.Grow(length)
	for _, r := range s {
		switch {
		case unicode.IsSpace(r), r == '-', r == '_', unicode.Is(unicode.Pd, r), r == '\u2212':
			continue
		}
		r = unicode.ToUpper(r)
		switch r {
		case 'O':
			r = '0'
		case 'I', 'L':
			r = '1'
		}
		if r > unicode.MaxASCII || !strings.ContainsRune(crockford, r) {
			return "", false
		}
		b.WriteRune(r)
	}
	if b.Len() != length {
		return "", false
	}
	return b.String(), true
}

// group4 joins runs of four characters with dashes.
func group4(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i += 4 {
		if i > 0 {
			b.WriteByte('-')
		}
		b.WriteString(s[i:min(i+4, len(s))])
	}
	return b.String()
}

// normaliseSignIn reads the sign-in form's two fields. A person who typed
// the code where the reference goes and the reference where the code goes
// is forgiven too: the lengths tell them apart.
func normaliseSignIn(typedReference, typedCode string) (reference, code string, refOK, codeOK bool) {
	reference, refOK = normaliseReference(typedReference)
	code, codeOK = normaliseAccessCode(typedCode)
	if !refOK && !codeOK {
		if r, ok := normaliseReference(typedCode); ok {
			if c, ok := normaliseAccessCode(typedReference); ok {
				return r, c, true, true
			}
		}
	}
	return reference, code, refOK, codeOK
}
