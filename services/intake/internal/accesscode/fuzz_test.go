package accesscode

import (
	"strings"
	"testing"
)

// FuzzParseAccessCode checks the normaliser's promises on any input: what it
// accepts is made of Crockford characters, spaces and dashes only, comes out
// as 26 canonical characters that survive formatting and parsing again, and
// is the input itself up to case, spaces and dashes.
func FuzzParseAccessCode(f *testing.F) {
	for _, seed := range []string{
		"0123-4567-89AB-CDEF-GHJK-MNPQ-R0",
		"0123456789abcdefghjkmnpqr0",
		"0123 4567 89ab cdef ghjk mnpq r0",
		"O123-4567-89AB-CDEF-GHJK-MNPQ-R0",
		"0123-4567-89AB-CDEF-GHJK-MNPQ-R1",
		"",
		"----",
		"\x00\xff",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, in string) {
		got, err := ParseAccessCode(in)
		if err != nil {
			return
		}
		if len(got) != CodeLength {
			t.Fatalf("ParseAccessCode(%q) = %q: want %d characters", in, got, CodeLength)
		}
		for i := 0; i < len(got); i++ {
			if !strings.ContainsRune(Alphabet, rune(got[i])) {
				t.Fatalf("ParseAccessCode(%q) = %q: %q is not in the alphabet", in, got, got[i])
			}
		}
		stripped := strings.ToUpper(strings.NewReplacer(" ", "", "-", "").Replace(in))
		if stripped != got {
			t.Fatalf("ParseAccessCode(%q) = %q: want the input without spaces and dashes, %q", in, got, stripped)
		}
		again, err := ParseAccessCode(FormatAccessCode(got))
		if err != nil || again != got {
			t.Fatalf("round trip of %q gave %q, %v", got, again, err)
		}
	})
}

// FuzzParseReference checks the same promises for references.
func FuzzParseReference(f *testing.F) {
	for _, seed := range []string{"K7QM-3XRD", "k7qm3xrd", " k7qm 3xrd ", "K7QM-3XRO", "", "ä"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, in string) {
		got, err := ParseReference(in)
		if err != nil {
			return
		}
		if !shownReference.MatchString(got) {
			t.Fatalf("ParseReference(%q) = %q: not XXXX-XXXX", in, got)
		}
		stripped := strings.ToUpper(strings.NewReplacer(" ", "", "-", "").Replace(in))
		if strings.ReplaceAll(got, "-", "") != stripped {
			t.Fatalf("ParseReference(%q) = %q: want the input without spaces and dashes, %q", in, got, stripped)
		}
	})
}

// FuzzVerify checks that no input makes Verify or VerifyLegacy panic or
// accept a code other than the one hashed.
func FuzzVerify(f *testing.F) {
	keys, err := ParseKeys("k1=AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8", "")
	if err != nil {
		f.Fatal(err)
	}
	hash, err := keys.Hash(legacyCode)
	if err != nil {
		f.Fatal(err)
	}
	f.Add("0123456789abcdefghjkmnpqr4")
	f.Add("0123456789abcdefghjkmnpqr0")
	f.Add("")
	f.Fuzz(func(t *testing.T, in string) {
		canonical, perr := ParseAccessCode(in)
		want := perr == nil && canonical == strings.ReplaceAll(legacyCode, "-", "")
		ok, _, err := keys.Verify(in, hash)
		if err != nil || ok != want {
			t.Fatalf("Verify(%q) = %v, %v; want %v", in, ok, err, want)
		}
		if perr != nil {
			// argon2id is too slow to fuzz every well-formed input; the
			// malformed ones must be refused before any work.
			ok, err := VerifyLegacy(in, legacyCodeHash)
			if err != nil || ok {
				t.Fatalf("VerifyLegacy(%q) = %v, %v", in, ok, err)
			}
		}
	})
}
