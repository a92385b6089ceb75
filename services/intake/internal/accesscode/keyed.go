package accesscode

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/ipnmediation/disputes/platform/sealed"
)

// An access code carries 128 random bits, so a slow hash adds cost and no
// safety: nobody can search that space, fast hash or slow. What a stolen
// table must not allow is checking a code without the service, hence a
// keyed hash: HMAC-SHA-256 under a secret that is in the service's settings
// (ACCESS_CODE_KEYS), never in the database. It is written
//
//	$hmac-sha256$<key id>$<base64 of the 32-byte MAC, unpadded>
//
// so that the key that made it is known and the secret can be rotated: the
// current key hashes new codes, older keys still check the codes hashed
// under them, which are hashed again under the current key at their next
// sign-in.

// keyedScheme names keyed hashes in their stored form.
const keyedScheme = "hmac-sha256"

// macDomain starts every MAC's input, so that the secret keys nothing but
// access codes of this format.
const macDomain = "ipn-disputes intake access code v1\x00"

// ErrUnknownKey says that a stored hash was made under a key that the
// settings no longer hold.
var ErrUnknownKey = errors.New("access code hash: its key is not in ACCESS_CODE_KEYS")

// Keys are the secrets that key access code hashes: the current one for new
// hashes and older ones still needed to check codes hashed before a
// rotation.
type Keys struct {
	current string
	secrets map[string][]byte
	// none stands in for a missing hash: shaped like a real one under the
	// current key, so that checking against it takes the same steps.
	none string
}

// ParseKeys reads keys given as ACCESS_CODE_KEYS takes them,
// "id=base64,id=base64" (each 32 bytes, in standard or URL base64, padded or
// not: the form of ENCRYPTION_KEYS, so sealed.NewKeySetting and
// `openssl rand -base64 32` make them), and the id of the key for new hashes,
// which may be empty when there is exactly one key.
func ParseKeys(keys, currentID string) (*Keys, error) {
	setting, err := sealed.ParseKeySetting("access code key", keys, currentID)
	if err != nil {
		return nil, err
	}
	k := &Keys{current: setting.Current, secrets: setting.Keys}
	k.none = "$" + keyedScheme + "$" + k.current + "$" + base64.RawStdEncoding.EncodeToString(make([]byte, sha256.Size))
	return k, nil
}

// Current is the id of the key that hashes new codes.
func (k *Keys) Current() string { return k.current }

// IDs are the ids of every key held, sorted.
func (k *Keys) IDs() []string {
	ids := make([]string, 0, len(k.secrets))
	for id := range k.secrets {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

func (k *Keys) mac(keyID, canonical string) []byte {
	m := hmac.New(sha256.New, k.secrets[keyID])
	m.Write([]byte(macDomain))
	m.Write([]byte(canonical))
	return m.Sum(nil)
}

// Hash returns the keyed hash of an access code under the current key. The
// code may be in any form ParseAccessCode accepts; the hash is the same for
// all of them.
func (k *Keys) Hash(code string) (string, error) {
	canonical, err := ParseAccessCode(code)
	if err != nil {
		return "", err
	}
	return "$" + keyedScheme + "$" + k.current + "$" + base64.RawStdEncoding.EncodeToString(k.mac(k.current, canonical)), nil
}

// IsKeyed reports whether a stored hash is a keyed hash, of any key.
func IsKeyed(hash string) bool { return strings.HasPrefix(hash, "$"+keyedScheme+"$") }

// Verify reports whether code matches a keyed hash, and whether that hash
// was made under the current key (when it was not, a match should be hashed
// again). It computes one HMAC whatever the hash: given the empty hash it
// does the same work under the current key and matches nothing, so that a
// reference without a concern costs what one with a concern does. A code of
// the wrong form simply does not match; an error means the stored hash is
// unusable (ErrUnknownKey when its key was removed from the settings).
func (k *Keys) Verify(code, hash string) (ok, current bool, err error) {
	missing := hash == ""
	if missing {
		hash = k.none
	}
	keyID, want, err := parseKeyed(hash)
	if err != nil {
		return false, false, err
	}
	if _, held := k.secrets[keyID]; !held {
		return false, false, fmt.Errorf("key %q: %w", keyID, ErrUnknownKey)
	}
	canonical, err := ParseAccessCode(code)
	if err != nil {
		return false, false, nil
	}
	got := k.mac(keyID, canonical)
	return hmac.Equal(got, want) && !missing, keyID == k.current, nil
}

// parseKeyed reads a hash written by Hash.
func parseKeyed(s string) (keyID string, mac []byte, err error) {
	parts := strings.Split(s, "$")
	if len(parts) != 4 || parts[0] != "" || parts[1] != keyedScheme {
		return "", nil, errors.New("access code hash: not a keyed hash")
	}
	if parts[2] == "" {
		return "", nil, errors.New("access code hash: no key id")
	}
	mac, err = base64.RawStdEncoding.Strict().DecodeString(parts[3])
	if err != nil || len(mac) != sha256.Size {
		return "", nil, errors.New("access code hash: bad MAC")
	}
	return parts[2], mac, nil
}

// emailDomain starts the input of every MAC of a client's e-mail address,
// so that an address's MAC can never stand for an access code's, though
// both are made under the same key.
const emailDomain = "ipn-disputes intake client e-mail v1\x00"

// NormaliseEmail is a client's e-mail address as it is hashed: spaces
// around it taken off and in lower case, so that the address typed when
// asking for a link finds the one typed with the concern, letter case aside.
func NormaliseEmail(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

func (k *Keys) emailHash(keyID, email string) string {
	m := hmac.New(sha256.New, k.secrets[keyID])
	m.Write([]byte(emailDomain))
	m.Write([]byte(NormaliseEmail(email)))
	return "$" + keyedScheme + "$" + keyID + "$" + base64.RawStdEncoding.EncodeToString(m.Sum(nil))
}

// EmailHash is the keyed hash of a client's e-mail address under the
// current key, kept beside the concern so that intake can find a client's
// concerns by their address without holding it: the address is sealed, and
// gone once casework has the concern. Empty for an empty address.
func (k *Keys) EmailHash(email string) string {
	if NormaliseEmail(email) == "" {
		return ""
	}
	return k.emailHash(k.current, email)
}

// EmailHashes are the keyed hashes of an address under every key held, to
// look it up whatever key hashed it. An address's hash cannot be made anew
// once casework has the concern, so an old key must stay listed for as
// long as its clients should find their cases by e-mail.
func (k *Keys) EmailHashes(email string) []string {
	if NormaliseEmail(email) == "" {
		return nil
	}
	out := make([]string, 0, len(k.secrets))
	for _, id := range k.IDs() {
		out = append(out, k.emailHash(id, email))
	}
	return out
}
