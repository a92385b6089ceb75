package sealed

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"
)

const canary = "CANARY-the client's own words"

func mustKeyring(t *testing.T, keys, current string) *Keyring {
	t.Helper()
	k, err := ParseKeyring(keys, current)
	if err != nil {
		t.Fatalf("ParseKeyring: %v", err)
	}
	return k
}

func keySetting(t *testing.T, id string) string {
	t.Helper()
	s, err := NewKeySetting(id)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestParseKeyring(t *testing.T) {
	t.Parallel()
	a, b := keySetting(t, "a"), keySetting(t, "b")
	short := "s=" + base64.StdEncoding.EncodeToString(make([]byte, 16))
	raw := "r=" + base64.RawURLEncoding.EncodeToString(make([]byte, 32))
	tests := []struct {
		name, keys, current string
		want                string // current key id, when no error
		err                 error
		errText             string
	}{
		{name: "one key, no current id", keys: a, want: "a"},
		{name: "two keys, current named", keys: a + "," + b, current: "b", want: "b"},
		{name: "spaces and empty entries", keys: " " + a + " ,, " + b + " ", current: "a", want: "a"},
		{name: "unpadded url base64", keys: raw, want: "r"},
		{name: "empty", keys: "", err: ErrNoKeys},
		{name: "two keys, no current id", keys: a + "," + b, errText: "name the one"},
		{name: "current not among keys", keys: a, current: "c", err: ErrUnknownKey},
		{name: "short key", keys: short, err: ErrKeyLength},
		{name: "no equals sign", keys: "abc", errText: "id=base64"},
		{name: "a padded secret without its id", keys: strings.SplitN(a, "=", 2)[1], errText: "id=base64"},
		{name: "bad id", keys: "a b=" + strings.SplitN(a, "=", 2)[1], errText: "key id"},
		{name: "duplicate id", keys: a + "," + a, errText: "twice"},
		{name: "not base64", keys: "a=!!!!", errText: "not base64"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			k, err := ParseKeyring(tt.keys, tt.current)
			switch {
			case tt.err != nil || tt.errText != "":
				if err == nil {
					t.Fatalf("ParseKeyring succeeded; want an error")
				}
				if tt.err != nil && !errors.Is(err, tt.err) {
					t.Errorf("error %v; want %v", err, tt.err)
				}
				if !strings.Contains(err.Error(), tt.errText) {
					t.Errorf("error %q; want it to mention %q", err, tt.errText)
				}
				// The key material never shows in an error.
				for _, part := range strings.Split(tt.keys, ",") {
					if _, secret, ok := strings.Cut(part, "="); ok && len(secret) > 8 && strings.Contains(err.Error(), secret) {
						t.Errorf("error %q shows key material", err)
					}
					if whole := strings.TrimRight(part, "="); len(whole) > 8 && strings.Contains(err.Error(), whole) {
						t.Errorf("error %q shows key material given without an id", err)
					}
				}
			case err != nil:
				t.Fatalf("ParseKeyring: %v", err)
			case k.Current() != tt.want:
				t.Errorf("Current() = %q; want %q", k.Current(), tt.want)
			}
		})
	}
}

func TestSealOpen(t *testing.T) {
	t.Parallel()
	k := mustKeyring(t, keySetting(t, "k1"), "")
	dk, wrapped, err := k.NewDataKey("case_keys:1")
	if err != nil {
		t.Fatal(err)
	}
	other, _, err := k.NewDataKey("case_keys:2")
	if err != nil {
		t.Fatal(err)
	}
	ct, err := dk.Seal(canary, "cases.concern_text:1")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(ct, canary) || strings.Contains(wrapped, canary) || !IsSealed(ct) || !strings.HasPrefix(ct, Prefix+dk.ID()+":") {
		t.Fatalf("ciphertext %q", ct)
	}
	if again, _ := dk.Seal(canary, "cases.concern_text:1"); again == ct {
		t.Error("two seals of the same text are equal; nonces must be random")
	}
	unwrapped, err := k.Unwrap(wrapped, "case_keys:1")
	if err != nil {
		t.Fatal(err)
	}
	if unwrapped.ID() != dk.ID() {
		t.Errorf("unwrapped id %q; want %q", unwrapped.ID(), dk.ID())
	}
	// Flip one byte of the sealed part.
	e, _ := Parse(ct)
	e.Sealed = append([]byte(nil), e.Sealed...)
	e.Sealed[0] ^= 1
	tampered := e.String()

	tests := []struct {
		name, ct, purpose string
		key               DataKey
		err               error
	}{
		{name: "round trip", ct: ct, purpose: "cases.concern_text:1", key: dk},
		{name: "unwrapped key opens it", ct: ct, purpose: "cases.concern_text:1", key: unwrapped},
		{name: "another row", ct: ct, purpose: "cases.concern_text:2", key: dk, err: ErrTampered},
		{name: "another column", ct: ct, purpose: "cases.client_name:1", key: dk, err: ErrTampered},
		{name: "tampered", ct: tampered, purpose: "cases.concern_text:1", key: dk, err: ErrTampered},
		{name: "another case's key", ct: ct, purpose: "cases.concern_text:1", key: other, err: ErrUnknownKey},
		{name: "no key", ct: ct, purpose: "cases.concern_text:1", err: ErrUnknownKey},
		{name: "plaintext", ct: canary, purpose: "cases.concern_text:1", key: dk, err: ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := tt.key.Open(tt.ct, tt.purpose)
			if tt.err == nil {
				if err != nil || got != canary {
					t.Errorf("Open = %q, %v; want the plaintext", got, err)
				}
				return
			}
			if !errors.Is(err, tt.err) {
				t.Errorf("Open error %v; want %v", err, tt.err)
			}
			if err != nil && strings.Contains(err.Error(), "CANARY") {
				t.Errorf("error %q shows the plaintext", err)
			}
		})
	}
}

func TestRotation(t *testing.T) {
	t.Parallel()
	oldSetting, newSetting := keySetting(t, "2025"), keySetting(t, "2026")
	before := mustKeyring(t, oldSetting, "")
	dk, wrapped, err := before.NewDataKey("p")
	if err != nil {
		t.Fatal(err)
	}
	ct, err := dk.Seal(canary, "v")
	if err != nil {
		t.Fatal(err)
	}
	during := mustKeyring(t, oldSetting+","+newSetting, "2026")
	if by, _ := WrappedBy(wrapped); by != "2025" {
		t.Errorf("WrappedBy = %q; want 2025", by)
	}
	_, fresh, err := during.NewDataKey("q")
	if err != nil {
		t.Fatal(err)
	}
	if by, _ := WrappedBy(fresh); by != "2026" {
		t.Errorf("a new data key is wrapped by %q; want 2026", by)
	}
	if _, err := during.Unwrap(wrapped, "p"); err != nil {
		t.Errorf("an old data key does not unwrap during rotation: %v", err)
	}
	rewrapped, err := during.Rewrap(wrapped, "p")
	if err != nil {
		t.Fatal(err)
	}
	after := mustKeyring(t, newSetting, "")
	if _, err := after.Unwrap(wrapped, "p"); !errors.Is(err, ErrUnknownKey) {
		t.Errorf("unwrapping under a removed key: %v; want ErrUnknownKey", err)
	}
	if _, err := after.Unwrap(rewrapped, "other"); !errors.Is(err, ErrTampered) {
		t.Errorf("unwrapping for another row: %v; want ErrTampered", err)
	}
	dk2, err := after.Unwrap(rewrapped, "p")
	if err != nil {
		t.Fatal(err)
	}
	if got, err := dk2.Open(ct, "v"); err != nil || got != canary {
		t.Errorf("Open after rewrap = %q, %v", got, err)
	}
}

func TestParse(t *testing.T) {
	t.Parallel()
	good := Prefix + "k:" + base64.RawURLEncoding.EncodeToString(make([]byte, 28))
	tests := []struct {
		name, in string
		ok       bool
	}{
		{"good", good, true},
		{"plaintext", "hello", false},
		{"other version", "enc:v2:k:" + strings.TrimPrefix(good, Prefix+"k:"), false},
		{"no key id", Prefix + ":" + strings.TrimPrefix(good, Prefix+"k:"), false},
		{"no body separator", Prefix + "k", false},
		{"padded body", good + "==", false},
		{"too short", Prefix + "k:" + base64.RawURLEncoding.EncodeToString(make([]byte, 27)), false},
		{"bad key id", Prefix + "k/x:" + strings.TrimPrefix(good, Prefix+"k:"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e, err := Parse(tt.in)
			if (err == nil) != tt.ok {
				t.Fatalf("Parse error %v; want ok=%v", err, tt.ok)
			}
			if err != nil && !errors.Is(err, ErrMalformed) {
				t.Errorf("error %v; want ErrMalformed", err)
			}
			if tt.ok && e.String() != tt.in {
				t.Errorf("String() = %q; want %q", e.String(), tt.in)
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	f.Add(Prefix + "k:" + base64.RawURLEncoding.EncodeToString(make([]byte, 28)))
	f.Add("enc:v1:dk-0011223344556677:AAAA")
	f.Add("plain text")
	f.Add("enc:v1::")
	dk, _ := dataKey("dk-1", make([]byte, KeySize))
	f.Fuzz(func(t *testing.T, s string) {
		e, err := Parse(s)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("Parse error %v is not ErrMalformed", err)
			}
			return
		}
		if e.String() != s {
			t.Fatalf("String() = %q; parsed from %q", e.String(), s)
		}
		// Opening anything that parses fails cleanly or opens; never panics.
		_, _ = dk.Open(s, "p")
	})
}
