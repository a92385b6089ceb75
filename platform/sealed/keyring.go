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
	setting, err := ParseKeySetting("encryption key", keys, currentID)
	if err != nil {
		return nil, err
	}
	k := &Keyring{current: setting.Current, aeads: map[string]cipher.AEAD{}}
	for id, raw := range setting.Keys {
		aead, err := newAEAD(raw)
		if err != nil {
			return nil, fmt.Errorf("encryption key %q: %w", id, err)
		}
		k.aeads[id] = aead
	}
	return k, nil
}

// KeySetting is a setting of named secret keys of KeySize bytes each, as
// ENCRYPTION_KEYS and intake's ACCESS_CODE_KEYS take them: several, so that
// a key can be rotated, one of them current (for new data), the others kept
// for what was made under them.
type KeySetting struct {
	// Current is the id of the key for new data.
	Current string
	// Keys are the raw keys by id.
	Keys map[string][]byte
}

// ParseKeySetting reads keys given as "id=base64,id=base64" (each KeySize
// bytes, in standard or URL base64, padded or not; ids of letters, digits,
// '-', '_' and '.') and the id of the current key, which may be empty when
// there is exactly one. what names one key in errors ("encryption key");
// errors never quote a key.
func ParseKeySetting(what, keys, currentID string) (KeySetting, error) {
	setting := KeySetting{Keys: map[string][]byte{}}
	for i, part := range strings.Split(keys, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		// Keys are named by their place in errors, never by id: a key
		// given without an id would have its secret taken for one.
		id, encoded, ok := strings.Cut(part, "=")
		if !ok || strings.Trim(encoded, "=") == "" {
			return KeySetting{}, fmt.Errorf("%s %d: not of the form id=base64", what, i+1)
		}
		if err := checkKeyID(id); err != nil {
			return KeySetting{}, fmt.Errorf("%s %d: %w", what, i+1, err)
		}
		if _, dup := setting.Keys[id]; dup {
			return KeySetting{}, fmt.Errorf("%s %d: its id is given twice", what, i+1)
		}
		raw, err := decodeKey(encoded)
		if err != nil {
			return KeySetting{}, fmt.Errorf("%s %d: not base64", what, i+1)
		}
		if len(raw) != KeySize {
			return KeySetting{}, fmt.Errorf("%s %d: %d bytes, want %d random bytes (openssl rand -base64 32): %w", what, i+1, len(raw), KeySize, ErrKeyLength)
		}
		setting.Keys[id] = raw
	}
	if len(setting.Keys) == 0 {
		return KeySetting{}, fmt.Errorf("%ss: none given: %w", what, ErrNoKeys)
	}
	if currentID == "" {
		if len(setting.Keys) > 1 {
			return KeySetting{}, fmt.Errorf("%d %ss are given: name the one for new data in the key id setting", len(setting.Keys), what)
		}
		for id := range setting.Keys {
			currentID = id
		}
	}
	if _, ok := setting.Keys[currentID]; !ok {
		return KeySetting{}, fmt.Errorf("current %s %q: %w", what, currentID, ErrUnknownKey)
	}
	setting.Current = currentID
	return setting, nil
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
