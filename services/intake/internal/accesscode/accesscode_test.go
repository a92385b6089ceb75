package accesscode

import (
	"errors"
	"regexp"
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
