// Package accesscode makes and checks what a client gets back when they
// register a concern: the case reference they quote and the one-time access
// code that lets them back in without an account. Both are random strings in
// Crockford's base32, which leaves out I, L, O and U so that a code read out
// over the telephone or copied by hand is hard to get wrong. The access code
// is kept only as a keyed hash (HMAC-SHA-256 under a configured secret,
// keyed.go); codes issued before that are kept as argon2id hashes, which
// still open the case and are replaced at the next sign-in (legacy.go).
package accesscode

import (
	"crypto/rand"
	"encoding/base32"
	"errors"
	"fmt"
	"strings"
)

// Alphabet is Crockford's base32 alphabet.
const Alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

var crockford = base32.NewEncoding(Alphabet).WithPadding(base32.NoPadding)

const (
	// codeBytes is the access code's entropy: 128 bits.
	codeBytes = 16
	// CodeLength is the number of characters of an access code, without
	// dashes: 128 bits need 26 base32 characters.
	CodeLength = 26
	// referenceBytes is the reference's entropy: 40 bits, exactly 8
	// characters.
	referenceBytes = 5
	// ReferenceLength is the number of characters of a reference, without
	// the dash.
	ReferenceLength = 8
)

// ErrMalformed says that a string is not an access code or reference of the
// right form.
var ErrMalformed = errors.New("malformed code")

// NewAccessCode returns a fresh access code, shown as groups of four
// characters joined by dashes.
func NewAccessCode() (string, error) {
	b := make([]byte, codeBytes)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("access code: %w", err)
	}
	return group(crockford.EncodeToString(b), 4), nil
}

// NewReference returns a fresh case reference such as "K7QM-3XRD".
func NewReference() (string, error) {
	b := make([]byte, referenceBytes)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("reference: %w", err)
	}
	return group(crockford.EncodeToString(b), 4), nil
}

// ParseAccessCode turns what a person typed into the access code's canonical
// form (26 capitals, no dashes). It accepts lowercase letters, spaces and
// missing or extra dashes, and rejects everything else, including letters
// outside Crockford's alphabet and codes that could never have been issued.
func ParseAccessCode(s string) (string, error) {
	c, err := normalise(s, CodeLength)
	if err != nil {
		return "", err
	}
	// 128 bits fill 25 characters and 3 bits of the 26th; the last two bits
	// of an issued code are always zero.
	if strings.IndexByte(Alphabet, c[CodeLength-1])&0b11 != 0 {
		return "", ErrMalformed
	}
	return c, nil
}

// FormatAccessCode shows a canonical access code in groups of four.
func FormatAccessCode(canonical string) string { return group(canonical, 4) }

// ParseReference turns what a person typed into the reference as it is
// shown and stored ("K7QM-3XRD"), with the same leniency as ParseAccessCode.
func ParseReference(s string) (string, error) {
	c, err := normalise(s, ReferenceLength)
	if err != nil {
		return "", err
	}
	return group(c, 4), nil
}

// normalise removes spaces and dashes, upper-cases, and checks the length
// and the alphabet.
func normalise(s string, length int) (string, error) {
	if len(s) > 4*length { // bounds the work on hostile input
		return "", ErrMalformed
	}
	var b strings.Builder
	b.Grow(length)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '-':
			continue
		case c >= 'a' && c <= 'z':
			c -= 'a' - 'A'
		}
		if strings.IndexByte(Alphabet, c) < 0 {
			return "", ErrMalformed
		}
		b.WriteByte(c)
	}
	if b.Len() != length {
		return "", ErrMalformed
	}
	return b.String(), nil
}

// group joins runs of n characters with dashes.
func group(s string, n int) string {
	var b strings.Builder
	for i := 0; i < len(s); i += n {
		if i > 0 {
			b.WriteByte('-')
		}
		b.WriteString(s[i:min(i+n, len(s))])
	}
	return b.String()
}
