// Package sealed encrypts confidential text at rest with envelope
// encryption: each case (or concern) has its own random data key, which is
// stored only wrapped (encrypted) under one of the service's configured keys
// (the Keyring). Destroying a data key makes everything sealed under it
// unreadable, so purging a case means deleting one row; rotating the
// configured key means rewrapping the data keys, not re-encrypting the data.
//
// Everything is AES-256-GCM with a random 96-bit nonce. Every ciphertext is a
// printable string that fits a text column:
//
//	enc:v1:<key id>:<base64url, no padding, of nonce || ciphertext || tag>
//
// The key id names the key that sealed it: a configured key for a wrapped
// data key, the data key's own id for a value. The associated data is
// "enc:v1:<key id>:" followed by the caller's purpose, which names the row
// and column the ciphertext belongs to (for example
// "casework.documents.body:<id>"), so a ciphertext copied into another row
// or column does not open.
//
// Errors never contain plaintext or key material.
package sealed

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// Prefix starts every ciphertext of the current format version.
const Prefix = "enc:v1:"

// KeySize is the length of every key, configured or data key: AES-256.
const KeySize = 32

// maxKeyID bounds key ids so that a ciphertext's header stays short.
const maxKeyID = 64

var (
	// ErrNoKeys means no configured key was given.
	ErrNoKeys = errors.New("no encryption keys configured")
	// ErrUnknownKey means a ciphertext names a key the keyring does not hold,
	// or the current key id is not among the keys.
	ErrUnknownKey = errors.New("unknown encryption key id")
	// ErrKeyLength means a key is not 32 bytes.
	ErrKeyLength = errors.New("encryption key must be 32 bytes (AES-256)")
	// ErrMalformed means a string is not a ciphertext of a known version.
	ErrMalformed = errors.New("malformed ciphertext")
	// ErrTampered means a ciphertext did not authenticate: it was changed,
	// sealed under another key, or belongs to another row or column.
	ErrTampered = errors.New("ciphertext does not authenticate (tampered, wrong key or wrong row)")
)

// Envelope is a parsed ciphertext.
type Envelope struct {
	// KeyID names the key that sealed it.
	KeyID string
	// Nonce is GCM's 96-bit nonce.
	Nonce []byte
	// Sealed is the ciphertext with its tag.
	Sealed []byte
}

// IsSealed reports whether s looks like a ciphertext of this package, as
// opposed to plaintext written before encryption was introduced.
func IsSealed(s string) bool { return strings.HasPrefix(s, Prefix) }

// Parse splits a ciphertext into its parts without opening it.
func Parse(s string) (Envelope, error) {
	rest, ok := strings.CutPrefix(s, Prefix)
	if !ok {
		return Envelope{}, fmt.Errorf("%w: no %q prefix", ErrMalformed, Prefix)
	}
	id, body, ok := strings.Cut(rest, ":")
	if !ok {
		return Envelope{}, fmt.Errorf("%w: no key id", ErrMalformed)
	}
	if err := checkKeyID(id); err != nil {
		return Envelope{}, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(body)
	// The decoder skips line breaks; one ciphertext has one spelling.
	if err != nil || base64.RawURLEncoding.EncodeToString(raw) != body {
		return Envelope{}, fmt.Errorf("%w: body is not unpadded base64url", ErrMalformed)
	}
	// 12-byte nonce and 16-byte tag at least.
	if len(raw) < 12+16 {
		return Envelope{}, fmt.Errorf("%w: too short", ErrMalformed)
	}
	return Envelope{KeyID: id, Nonce: raw[:12], Sealed: raw[12:]}, nil
}

// String formats e as a ciphertext string.
func (e Envelope) String() string {
	raw := make([]byte, 0, len(e.Nonce)+len(e.Sealed))
	raw = append(append(raw, e.Nonce...), e.Sealed...)
	return Prefix + e.KeyID + ":" + base64.RawURLEncoding.EncodeToString(raw)
}

// checkKeyID accepts ids of letters, digits, '-', '_' and '.'.
func checkKeyID(id string) error {
	if id == "" || len(id) > maxKeyID {
		return fmt.Errorf("key id must be 1 to %d characters", maxKeyID)
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return errors.New("key id may hold only letters, digits, '-', '_' and '.'")
		}
	}
	return nil
}

func newAEAD(key []byte) (cipher.AEAD, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("%w, got %d", ErrKeyLength, len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

func additional(keyID, purpose string) []byte { return []byte(Prefix + keyID + ":" + purpose) }

func seal(aead cipher.AEAD, keyID string, plaintext []byte, purpose string) (string, error) {
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("seal: nonce: %w", err)
	}
	return Envelope{KeyID: keyID, Nonce: nonce, Sealed: aead.Seal(nil, nonce, plaintext, additional(keyID, purpose))}.String(), nil
}

func open(aead cipher.AEAD, e Envelope, purpose string) ([]byte, error) {
	out, err := aead.Open(nil, e.Nonce, e.Sealed, additional(e.KeyID, purpose))
	if err != nil {
		return nil, ErrTampered
	}
	return out, nil
}
