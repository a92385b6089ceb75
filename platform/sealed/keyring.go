package sealed

import (
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"

	"github.com/ipnmediation/disputes/platform/config"
)

// Keyring is a service's configured keys: the key that wraps new data keys
// (the current one) and older ones still needed to unwrap data keys wrapped
// before a rotation.
type Keyring struct {
	current string
	aeads   map[string]cipher.AEAD
}

// ParseKeyring reads keys given as "id=base64,id=base64" (each key 32 bytes,
// in standard or URL base64, padded or not) and the id of the key that wraps
// new data keys. currentID may be empty when there is exactly one key.
func ParseKeyring(keys, currentID string) (*Keyring, error) {
	k := &Keyring{aeads: map[string]cipher.AEAD{}}
	for i, part := range strings.Split(keys, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		id, encoded, ok := strings.Cut(part, "=")
		if !ok {
			return nil, fmt.Errorf("encryption key %d: not of the form id=base64", i+1)
		}
		if err := checkKeyID(id); err != nil {
			return nil, fmt.Errorf("encryption key %d: %w", i+1, err)
		}
		if _, dup := k.aeads[id]; dup {
			return nil, fmt.Errorf("encryption key %q is given twice", id)
		}
		raw, err := decodeKey(encoded)
		if err != nil {
			return nil, fmt.Errorf("encryption key %q: not base64", id)
		}
		aead, err := newAEAD(raw)
		if err != nil {
			return nil, fmt.Errorf("encryption key %q: %w", id, err)
		}
		k.aeads[id] = aead
	}
	if len(k.aeads) == 0 {
		return nil, ErrNoKeys
	}
	if currentID == "" {
		if len(k.aeads) > 1 {
			return nil, fmt.Errorf("%d encryption keys are given: name the one for new data in the key id setting", len(k.aeads))
		}
		for id := range k.aeads {
			currentID = id
		}
	}
	if _, ok := k.aeads[currentID]; !ok {
		return nil, fmt.Errorf("current key %q: %w", currentID, ErrUnknownKey)
	}
	k.current = currentID
	return k, nil
}

func decodeKey(s string) ([]byte, error) {
	s = strings.TrimRight(strings.TrimSpace(s), "=")
	if raw, err := base64.RawStdEncoding.DecodeString(s); err == nil {
		return raw, nil
	}
	return base64.RawURLEncoding.DecodeString(s)
}

// Current is the id of the key that wraps new data keys.
func (k *Keyring) Current() string { return k.current }

// IDs are the ids of every key held, sorted.
func (k *Keyring) IDs() []string {
	ids := make([]string, 0, len(k.aeads))
	for id := range k.aeads {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// NewDataKey returns a fresh random data key and the same key wrapped under
// the current configured key for purpose (which names the row that keeps
// it, e.g. "casework.case_keys:<case id>").
func (k *Keyring) NewDataKey(purpose string) (DataKey, string, error) {
	raw := make([]byte, KeySize)
	if _, err := rand.Read(raw); err != nil {
		return DataKey{}, "", fmt.Errorf("new data key: %w", err)
	}
	idBytes := make([]byte, 8)
	if _, err := rand.Read(idBytes); err != nil {
		return DataKey{}, "", fmt.Errorf("new data key: %w", err)
	}
	dk, err := dataKey("dk-"+hex.EncodeToString(idBytes), raw)
	if err != nil {
		return DataKey{}, "", err
	}
	wrapped, err := k.Wrap(dk, purpose)
	if err != nil {
		return DataKey{}, "", err
	}
	return dk, wrapped, nil
}

// Wrap seals the data key under the current configured key.
func (k *Keyring) Wrap(dk DataKey, purpose string) (string, error) {
	if dk.aead == nil {
		return "", fmt.Errorf("wrap: %w", ErrKeyLength)
	}
	// The data key's id travels inside the wrapped plaintext so that the
	// values sealed under it can say which key they need.
	plain := append(append([]byte(nil), dk.raw...), dk.id...)
	return seal(k.aeads[k.current], k.current, plain, purpose)
}

// WrappedBy returns the id of the configured key that wrapped a data key,
// without unwrapping it.
func WrappedBy(wrapped string) (string, error) {
	e, err := Parse(wrapped)
	if err != nil {
		return "", err
	}
	return e.KeyID, nil
}

// Unwrap opens a wrapped data key with the configured key that wrapped it.
func (k *Keyring) Unwrap(wrapped, purpose string) (DataKey, error) {
	e, err := Parse(wrapped)
	if err != nil {
		return DataKey{}, fmt.Errorf("unwrap data key: %w", err)
	}
	aead, ok := k.aeads[e.KeyID]
	if !ok {
		return DataKey{}, fmt.Errorf("unwrap data key: key %q: %w", e.KeyID, ErrUnknownKey)
	}
	plain, err := open(aead, e, purpose)
	if err != nil {
		return DataKey{}, fmt.Errorf("unwrap data key under %q: %w", e.KeyID, err)
	}
	if len(plain) <= KeySize {
		return DataKey{}, fmt.Errorf("unwrap data key: %w", ErrKeyLength)
	}
	dk, err := dataKey(string(plain[KeySize:]), plain[:KeySize])
	if err != nil {
		return DataKey{}, fmt.Errorf("unwrap data key: %w", err)
	}
	return dk, nil
}

// Rewrap unwraps a data key with whichever configured key wrapped it and
// wraps it again under the current one. The data key, and so every value
// sealed under it, is unchanged.
func (k *Keyring) Rewrap(wrapped, purpose string) (string, error) {
	dk, err := k.Unwrap(wrapped, purpose)
	if err != nil {
		return "", err
	}
	return k.Wrap(dk, purpose)
}

// DataKey is the key of one case's (or concern's) confidential values. Its
// zero value seals nothing.
type DataKey struct {
	id   string
	raw  []byte
	aead cipher.AEAD
}

func dataKey(id string, raw []byte) (DataKey, error) {
	if err := checkKeyID(id); err != nil {
		return DataKey{}, fmt.Errorf("data key: %w", err)
	}
	aead, err := newAEAD(raw)
	if err != nil {
		return DataKey{}, fmt.Errorf("data key: %w", err)
	}
	return DataKey{id: id, raw: raw, aead: aead}, nil
}

// ID names the data key in the ciphertexts it seals.
func (d DataKey) ID() string { return d.id }

// Seal encrypts plaintext for purpose, which names the value's row and
// column (e.g. "casework.cases.concern_text:<case id>").
func (d DataKey) Seal(plaintext, purpose string) (string, error) {
	if d.aead == nil {
		return "", fmt.Errorf("seal: no data key: %w", ErrUnknownKey)
	}
	return seal(d.aead, d.id, []byte(plaintext), purpose)
}

// Open decrypts a ciphertext that Seal made for the same purpose.
func (d DataKey) Open(ciphertext, purpose string) (string, error) {
	e, err := Parse(ciphertext)
	if err != nil {
		return "", fmt.Errorf("open: %w", err)
	}
	if d.aead == nil || e.KeyID != d.id {
		return "", fmt.Errorf("open: sealed under data key %q: %w", e.KeyID, ErrUnknownKey)
	}
	plain, err := open(d.aead, e, purpose)
	if err != nil {
		return "", fmt.Errorf("open: %w", err)
	}
	return string(plain), nil
}

// NewKeySetting returns a fresh random configured key as the "id=base64"
// entry ENCRYPTION_KEYS takes.
func NewKeySetting(id string) (string, error) {
	if err := checkKeyID(id); err != nil {
		return "", err
	}
	raw := make([]byte, KeySize)
	if _, err := rand.Read(raw); err != nil {
		return "", fmt.Errorf("new key: %w", err)
	}
	return id + "=" + base64.StdEncoding.EncodeToString(raw), nil
}

// FromConfig parses the keys of a service's settings.
func FromConfig(c config.Keys) (*Keyring, error) {
	k, err := ParseKeyring(c.EncryptionKeys, c.EncryptionKeyID)
	if err != nil {
		return nil, fmt.Errorf("ENCRYPTION_KEYS/ENCRYPTION_KEY_ID: %w", err)
	}
	return k, nil
}
