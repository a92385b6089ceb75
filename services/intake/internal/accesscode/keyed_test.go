package accesscode

import (
	"encoding/base64"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/ipnmediation/disputes/platform/sealed"
)

// keySetting returns a fresh ACCESS_CODE_KEYS entry for id.
func keySetting(t testing.TB, id string) string {
	t.Helper()
	s, err := sealed.NewKeySetting(id)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func mustKeys(t testing.TB, keys, current string) *Keys {
	t.Helper()
	k, err := ParseKeys(keys, current)
	if err != nil {
		t.Fatalf("ParseKeys: %v", err)
	}
	return k
}

func TestParseKeys(t *testing.T) {
	t.Parallel()
	k1, k2 := keySetting(t, "k1"), keySetting(t, "k2")
	secret := strings.TrimPrefix(k1, "k1=")
	raw, err := base64.StdEncoding.DecodeString(secret)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, keys, current string
		wantCurrent         string
		wantErr             string
	}{
		{name: "one key, no id", keys: k1, wantCurrent: "k1"},
		{name: "one key, named", keys: k1, current: "k1", wantCurrent: "k1"},
		{name: "two keys, the second current", keys: k1 + ", " + k2, current: "k2", wantCurrent: "k2"},
		{name: "URL base64 without padding", keys: "u=" + base64.RawURLEncoding.EncodeToString(raw), wantCurrent: "u"},
		{name: "empty", keys: "", wantErr: "none given"},
		{name: "two keys, none named", keys: k1 + "," + k2, wantErr: "name the one"},
		{name: "current not given", keys: k1, current: "k9", wantErr: `"k9"`},
		{name: "no id", keys: secret, wantErr: "id=base64"},
		{name: "id twice", keys: k1 + ",k1=" + strings.TrimPrefix(k2, "k2="), current: "k1", wantErr: "twice"},
		{name: "short", keys: "k1=" + base64.StdEncoding.EncodeToString(raw[:16]), wantErr: "16 bytes"},
		{name: "not base64", keys: "k1=!!!!", wantErr: "not base64"},
		{name: "dollar in the id", keys: "k$1=" + secret, wantErr: "letters, digits"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			k, err := ParseKeys(tt.keys, tt.current)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseKeys = %v; want an error with %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), secret) {
					t.Fatalf("the error shows the secret: %v", err)
				}
				return
			}
			if err != nil || k.Current() != tt.wantCurrent {
				t.Fatalf("ParseKeys = %v, %v; want current %q", k, err, tt.wantCurrent)
			}
		})
	}
}

func TestKeyedHashAndVerify(t *testing.T) {
	t.Parallel()
	oldSetting, newSetting := keySetting(t, "old"), keySetting(t, "new")
	old := mustKeys(t, oldSetting, "")
	rotated := mustKeys(t, oldSetting+","+newSetting, "new")
	stranger := mustKeys(t, keySetting(t, "old"), "") // same id, another secret

	code, err := NewAccessCode()
	if err != nil {
		t.Fatal(err)
	}
	hash, err := old.Hash(code)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(hash, "$hmac-sha256$old$") || len(hash) != len("$hmac-sha256$old$")+43 {
		t.Fatalf("hash %q is not $hmac-sha256$old$<43 base64 characters>", hash)
	}
	if strings.Contains(hash, code) || strings.Contains(hash, strings.ReplaceAll(code, "-", "")) {
		t.Fatal("hash contains the code")
	}
	if again, _ := old.Hash(strings.ToLower(strings.ReplaceAll(code, "-", ""))); again != hash {
		t.Fatalf("the code typed loosely hashes to %q, not %q", again, hash)
	}
	newHash, err := rotated.Hash(code)
	if err != nil || !strings.HasPrefix(newHash, "$hmac-sha256$new$") {
		t.Fatalf("Hash after rotation = %q, %v; want it under the new key", newHash, err)
	}

	other, _ := NewAccessCode()
	tests := []struct {
		name        string
		keys        *Keys
		code, hash  string
		want        bool
		wantCurrent bool
	}{
		{name: "as issued", keys: old, code: code, hash: hash, want: true, wantCurrent: true},
		{name: "lowercase without dashes", keys: old, code: strings.ToLower(strings.ReplaceAll(code, "-", "")), hash: hash, want: true, wantCurrent: true},
		{name: "another code", keys: old, code: other, hash: hash, wantCurrent: true},
		{name: "malformed", keys: old, code: "not a code", hash: hash},
		{name: "old key after rotation", keys: rotated, code: code, hash: hash, want: true, wantCurrent: false},
		{name: "new key after rotation", keys: rotated, code: code, hash: newHash, want: true, wantCurrent: true},
		{name: "same key id, another secret", keys: stranger, code: code, hash: hash, wantCurrent: true},
		{name: "no hash", keys: old, code: code, hash: "", wantCurrent: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, current, err := tt.keys.Verify(tt.code, tt.hash)
			if err != nil || got != tt.want || (got && current != tt.wantCurrent) {
				t.Fatalf("Verify = %v, %v, %v; want %v, current %v", got, current, err, tt.want, tt.wantCurrent)
			}
		})
	}
}

func TestKeyedVerifyRejectsUnusableHash(t *testing.T) {
	t.Parallel()
	k := mustKeys(t, keySetting(t, "k1"), "")
	code, _ := NewAccessCode()
	good, err := k.Hash(code)
	if err != nil {
		t.Fatal(err)
	}
	tests := map[string]struct {
		hash    string
		wantErr error
	}{
		"removed key":      {hash: strings.Replace(good, "$k1$", "$k0$", 1), wantErr: ErrUnknownKey},
		"other scheme":     {hash: strings.Replace(good, "hmac-sha256", "hmac-sha1", 1)},
		"short MAC":        {hash: good[:len(good)-4]},
		"MAC not base64":   {hash: good[:len(good)-1] + "!"},
		"trailing field":   {hash: good + "$x"},
		"key id with junk": {hash: strings.Replace(good, "$k1$", "$k 1$", 1)},
		"argon2id":         {hash: legacyCodeHash},
	}
	for name, tt := range tests {
		ok, _, err := k.Verify(code, tt.hash)
		if err == nil || ok || (tt.wantErr != nil && !errors.Is(err, tt.wantErr)) {
			t.Errorf("%s: Verify = %v, %v; want an error (%v)", name, ok, err, tt.wantErr)
		}
	}
}

func TestHashRejectsMalformedCode(t *testing.T) {
	t.Parallel()
	k := mustKeys(t, keySetting(t, "k1"), "")
	if _, err := k.Hash("short"); !errors.Is(err, ErrMalformed) {
		t.Fatalf("Hash(short) error = %v; want ErrMalformed", err)
	}
}

// TestEmailHash: an address hashes alike whatever its letter case and the
// spaces around it, differently from other addresses and under another
// key, never to an access code's MAC, and is found among EmailHashes under
// every key held, the old one after a rotation included.
func TestEmailHash(t *testing.T) {
	t.Parallel()
	old, current := keySetting(t, "k1"), keySetting(t, "k2")
	before, err := ParseKeys(old, "")
	if err != nil {
		t.Fatal(err)
	}
	after, err := ParseKeys(old+","+current, "k2")
	if err != nil {
		t.Fatal(err)
	}
	h := before.EmailHash("Sam@Client.Example.NET ")
	for _, tt := range []struct {
		name string
		got  string
		same bool
	}{
		{"the same address in lower case", before.EmailHash("sam@client.example.net"), true},
		{"another address", before.EmailHash("sam@client.example.org"), false},
		{"the same address under the new key", after.EmailHash("sam@client.example.net"), false},
	} {
		if (tt.got == h) != tt.same {
			t.Errorf("%s: %q against %q; same %v wanted", tt.name, tt.got, h, tt.same)
		}
	}
	if !strings.HasPrefix(h, "$hmac-sha256$k1$") {
		t.Errorf("hash %q does not name its key", h)
	}
	if !slices.Contains(after.EmailHashes("SAM@client.example.net"), h) || len(after.EmailHashes("x@example.org")) != 2 {
		t.Errorf("EmailHashes under both keys do not hold the old key's hash %q", h)
	}
	if before.EmailHash("  ") != "" || before.EmailHashes("") != nil {
		t.Error("an empty address has a hash")
	}
}
