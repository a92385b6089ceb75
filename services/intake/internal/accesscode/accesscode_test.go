package accesscode

import (
	"errors"
	"regexp"
	"strings"
	"testing"
)

var (
	shownCode      = regexp.MustCompile(`^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){5}-[0-9A-HJKMNP-TV-Z]{2}$`)
	shownReference = regexp.MustCompile(`^[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$`)
)

func TestNewAccessCodeIsShownInGroupsOfFourAndParses(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for range 200 {
		code, err := NewAccessCode()
		if err != nil {
			t.Fatal(err)
		}
		if !shownCode.MatchString(code) {
			t.Fatalf("access code %q is not 26 Crockford characters in groups of four", code)
		}
		canonical, err := ParseAccessCode(code)
		if err != nil {
			t.Fatalf("ParseAccessCode(%q): %v", code, err)
		}
		if got := FormatAccessCode(canonical); got != code {
			t.Fatalf("FormatAccessCode(ParseAccessCode(%q)) = %q", code, got)
		}
		if seen[code] {
			t.Fatalf("access code %q issued twice", code)
		}
		seen[code] = true
	}
}

func TestNewReferenceIsTwoGroupsOfFour(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for range 200 {
		ref, err := NewReference()
		if err != nil {
			t.Fatal(err)
		}
		if !shownReference.MatchString(ref) {
			t.Fatalf("reference %q is not XXXX-XXXX in Crockford's alphabet", ref)
		}
		if got, err := ParseReference(ref); err != nil || got != ref {
			t.Fatalf("ParseReference(%q) = %q, %v", ref, got, err)
		}
		seen[ref] = true
	}
	if len(seen) < 195 { // 40 random bits: a repeat in 200 draws is near impossible
		t.Fatalf("only %d distinct references in 200", len(seen))
	}
}

func TestParseAccessCode(t *testing.T) {
	t.Parallel()
	const canonical = "0123456789ABCDEFGHJKMNPQR0"
	tests := []struct {
		name, in string
		want     string
		wantErr  bool
	}{
		{name: "as shown", in: "0123-4567-89AB-CDEF-GHJK-MNPQ-R0", want: canonical},
		{name: "canonical", in: canonical, want: canonical},
		{name: "lowercase", in: "0123-4567-89ab-cdef-ghjk-mnpq-r0", want: canonical},
		{name: "spaces instead of dashes", in: "0123 4567 89AB CDEF GHJK MNPQ R0", want: canonical},
		{name: "surrounding spaces", in: "  0123-4567-89AB-CDEF-GHJK-MNPQ-R0 ", want: canonical},
		{name: "dashes in odd places", in: "01-234567-89ABCDEFGHJKMNPQR-0", want: canonical},
		{name: "last character may end in 4", in: "0123456789ABCDEFGHJKMNPQR4", want: "0123456789ABCDEFGHJKMNPQR4"},
		{name: "empty", in: "", wantErr: true},
		{name: "too short", in: "0123-4567-89AB-CDEF-GHJK-MNPQ-R", wantErr: true},
		{name: "too long", in: "0123-4567-89AB-CDEF-GHJK-MNPQ-R00", wantErr: true},
		{name: "letter I", in: "I123-4567-89AB-CDEF-GHJK-MNPQ-R0", wantErr: true},
		{name: "letter L", in: "L123-4567-89AB-CDEF-GHJK-MNPQ-R0", wantErr: true},
		{name: "letter O", in: "O123-4567-89AB-CDEF-GHJK-MNPQ-R0", wantErr: true},
		{name: "letter U", in: "U123-4567-89AB-CDEF-GHJK-MNPQ-R0", wantErr: true},
		{name: "tab", in: "0123\t4567-89AB-CDEF-GHJK-MNPQ-R0", wantErr: true},
		{name: "underscore", in: "0123_4567-89AB-CDEF-GHJK-MNPQ-R0", wantErr: true},
		{name: "non-ASCII", in: "0123-4567-89AB-CDEF-GHJK-MNPQ-R０", wantErr: true},
		{name: "last character cannot have been issued", in: "0123456789ABCDEFGHJKMNPQR1", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseAccessCode(tt.in)
			if tt.wantErr {
				if !errors.Is(err, ErrMalformed) {
					t.Fatalf("ParseAccessCode(%q) = %q, %v; want ErrMalformed", tt.in, got, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseAccessCode(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestParseReference(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want string
		wantErr  bool
	}{
		{in: "K7QM-3XRD", want: "K7QM-3XRD"},
		{in: "k7qm3xrd", want: "K7QM-3XRD"},
		{in: " k7qm 3xrd ", want: "K7QM-3XRD"},
		{in: "K7QM-3XR", wantErr: true},
		{in: "K7QM-3XRDD", wantErr: true},
		{in: "K7QM-3XRO", wantErr: true},
		{in: "K7QM/3XRD", wantErr: true},
	}
	for _, tt := range tests {
		got, err := ParseReference(tt.in)
		if tt.wantErr != (err != nil) || got != tt.want {
			t.Errorf("ParseReference(%q) = %q, %v; want %q (error %v)", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestHashAndVerify(t *testing.T) {
	t.Parallel()
	code, err := NewAccessCode()
	if err != nil {
		t.Fatal(err)
	}
	phc, err := Hash(code)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(phc, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("hash %q is not argon2id with the expected parameters", phc)
	}
	if strings.Contains(phc, code) || strings.Contains(phc, strings.ReplaceAll(code, "-", "")) {
		t.Fatal("hash contains the code")
	}
	again, err := Hash(code)
	if err != nil {
		t.Fatal(err)
	}
	if again == phc {
		t.Fatal("two hashes of one code are equal: the salt is not random")
	}

	other, _ := NewAccessCode()
	tests := []struct {
		name, code string
		want       bool
	}{
		{name: "as issued", code: code, want: true},
		{name: "lowercase without dashes", code: strings.ToLower(strings.ReplaceAll(code, "-", "")), want: true},
		{name: "another code", code: other, want: false},
		{name: "malformed", code: "not a code", want: false},
		{name: "empty", code: "", want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := Verify(tt.code, phc)
			if err != nil || got != tt.want {
				t.Fatalf("Verify = %v, %v; want %v", got, err, tt.want)
			}
		})
	}
}

func TestHashRejectsMalformedCode(t *testing.T) {
	t.Parallel()
	if _, err := Hash("short"); !errors.Is(err, ErrMalformed) {
		t.Fatalf("Hash(short) error = %v; want ErrMalformed", err)
	}
}

func TestVerifyRejectsUnusableHash(t *testing.T) {
	t.Parallel()
	code, _ := NewAccessCode()
	good, err := Hash(code)
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(good, "$")
	tests := map[string]string{
		"empty":              "",
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
		if ok, err := Verify(code, phc); err == nil || ok {
			t.Errorf("%s: Verify = %v, %v; want an error", name, ok, err)
		}
	}
}
