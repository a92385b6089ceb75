// Package accesscode makes and checks what a client gets back when they
// register a concern: the case reference they quote and the one-time access
// code that lets them back in without an account. Both are random strings in
// Crockford's base32, which leaves out I, L, O and U so that a code read out
// over the telephone or copied by hand is hard to get wrong. The access code
// is kept only as a slow argon2id hash.
package accesscode

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base32"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"
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

// The argon2id parameters for new hashes: OWASP's minimum recommendation
// (19 MiB, two passes, one thread), slow enough to make guessing from a
// stolen table costly and fast enough for a public form.
const (
	hashTime    = 2
	hashMemory  = 19 * 1024 // KiB
	hashThreads = 1
	hashKeyLen  = 32
	saltLen     = 16
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

// Hash returns the argon2id hash of an access code in PHC string form,
// $argon2id$v=19$m=19456,t=2,p=1$<salt>$<key>, with a fresh random salt.
// The code may be in any form ParseAccessCode accepts.
func Hash(code string) (string, error) {
	canonical, err := ParseAccessCode(code)
	if err != nil {
		return "", err
	}
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("salt: %w", err)
	}
	key := argon2.IDKey([]byte(canonical), salt, hashTime, hashMemory, hashThreads, hashKeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, hashMemory, hashTime, hashThreads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key)), nil
}

// Verify reports whether code matches the PHC-form hash. A code of the wrong
// form simply does not match; an error means the stored hash is unusable.
func Verify(code, phc string) (bool, error) {
	p, err := parsePHC(phc)
	if err != nil {
		return false, err
	}
	canonical, err := ParseAccessCode(code)
	if err != nil {
		return false, nil
	}
	key := argon2.IDKey([]byte(canonical), p.salt, p.time, p.memory, p.threads, uint32(len(p.key)))
	return subtle.ConstantTimeCompare(key, p.key) == 1, nil
}

type phcHash struct {
	time, memory uint32
	threads      uint8
	salt, key    []byte
}

// parsePHC reads a hash written by Hash. Its limits keep a corrupt row from
// asking for gigabytes of memory or hours of work.
func parsePHC(s string) (phcHash, error) {
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return phcHash{}, errors.New("access code hash: not an argon2id PHC string")
	}
	if parts[2] != fmt.Sprintf("v=%d", argon2.Version) {
		return phcHash{}, fmt.Errorf("access code hash: unsupported version %q", parts[2])
	}
	var p phcHash
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.memory, &p.time, &p.threads); err != nil ||
		parts[3] != fmt.Sprintf("m=%d,t=%d,p=%d", p.memory, p.time, p.threads) {
		return phcHash{}, fmt.Errorf("access code hash: bad parameters %q", parts[3])
	}
	if p.memory < 8 || p.memory > 1<<20 || p.time < 1 || p.time > 16 || p.threads < 1 {
		return phcHash{}, fmt.Errorf("access code hash: parameters %q out of range", parts[3])
	}
	var err error
	if p.salt, err = base64.RawStdEncoding.DecodeString(parts[4]); err != nil || len(p.salt) < 8 {
		return phcHash{}, errors.New("access code hash: bad salt")
	}
	if p.key, err = base64.RawStdEncoding.DecodeString(parts[5]); err != nil || len(p.key) < 16 || len(p.key) > 64 {
		return phcHash{}, errors.New("access code hash: bad key")
	}
	return p, nil
}
