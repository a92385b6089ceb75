package accesscode

import (
	"strings"
	"testing"
)

// legacyCode and legacyCodeHash are a code and the argon2id hash that intake
// wrote for it before keyed hashing (made with that release's Hash), so
// that the hashes in the field are what these tests check.
const (
	legacyCode     = "0123-4567-89AB-CDEF-GHJK-MNPQ-R0"
	legacyCodeHash = "$argon2id$v=19$m=19456,t=2,p=1$36/two43MkDEfBt9oEtGHg$fodr3MUno8phHgwOCnetiIrpZZq5uK2LtVtud2TZoT0"
)

func TestVerifyLegacy(t *testing.T) {
	t.Parallel()
	other, _ := NewAccessCode()
	tests := []struct {
		name, code, phc string
		want            bool
	}{
		{name: "as issued", code: legacyCode, phc: legacyCodeHash, want: true},
		{name: "lowercase without dashes", code: strings.ToLower(strings.ReplaceAll(legacyCode, "-", "")), phc: legacyCodeHash, want: true},
		{name: "another code", code: other, phc: legacyCodeHash},
		{name: "malformed", code: "not a code", phc: legacyCodeHash},
		{name: "no hash", code: legacyCode, phc: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := VerifyLegacy(tt.code, tt.phc)
			if err != nil || got != tt.want {
				t.Fatalf("VerifyLegacy = %v, %v; want %v", got, err, tt.want)
			}
		})
	}
	if !IsLegacy(legacyCodeHash) || IsKeyed(legacyCodeHash) {
		t.Error("the argon2id hash is not told apart from a keyed one")
	}
}

func TestVerifyLegacyRejectsUnusableHash(t *testing.T) {
	t.Parallel()
	good := legacyCodeHash
	parts := strings.Split(good, "$")
	tests := map[string]string{
		"bcrypt":             "$2a$10$abcdefghijklmnopqrstuv",
		"argon2i":            strings.Replace(good, "argon2id", "argon2i", 1),
		"old version":        strings.Replace(good, "v=19", "v=16", 1),
		"trailing parameter": strings.Replace(good, "p=1", "p=1x", 1),
		"huge memory":        strings.Replace(good, "m=19456", "m=99999999", 1),
		"zero time":          strings.Replace(good, "t=2", "t=0", 1),
		"bad salt":           strings.Join([]string{"", parts[1], parts[2], parts[3], "!!!", parts[5]}, "$"),
		"short key":          strings.Join([]string{"", parts[1], parts[2], parts[3], parts[4], "AAAA"}, "$"),
	}
	for name, phc := range tests {
		if ok, err := VerifyLegacy(legacyCode, phc); err == nil || ok {
			t.Errorf("%s: VerifyLegacy = %v, %v; want an error", name, ok, err)
		}
	}
}
