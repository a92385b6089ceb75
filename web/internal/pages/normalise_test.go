package pages

import (
	"regexp"
	"strings"
	"testing"
)

func TestNormaliseReference(t *testing.T) {
	t.Parallel()
	tests := []struct {
		typed string
		want  string // empty: refused
	}{
		{"K7QM-3XRD", "K7QM-3XRD"},
		{"k7qm3xrd", "K7QM-3XRD"},
		{"  K7QM 3XRD ", "K7QM-3XRD"},
		{"K-7-Q-M-3-X-R-D", "K7QM-3XRD"},
		{"K7QM–3XRD", "K7QM-3XRD"},            // en dash from a word processor
		{"K7QM\u00a03XRD", "K7QM-3XRD"},       // non-breaking space
		{"Reference: K7QM-3XRD", "K7QM-3XRD"}, // pasted with its label
		{"k7qo-3xrd", "K7Q0-3XRD"},            // O read as zero
		{"K7QI-3XRL", "K7Q1-3XR1"},            // I and L read as one
		{"K7QM-3XR", ""},                      // too short
		{"K7QM-3XRDD", ""},                    // too long
		{"K7QM-3XRU", ""},                     // U is not in the alphabet
		{"K7QM/3XRD", ""},
		{"", ""},
		{"Ｋ7QM-3XRD", ""}, // a full-width letter
		{strings.Repeat(" ", 300) + "K7QM3XRD", ""},
	}
	for _, tc := range tests {
		got, ok := normaliseReference(tc.typed)
		if ok != (tc.want != "") || got != tc.want {
			t.Errorf("normaliseReference(%q) = %q, %v; want %q", tc.typed, got, ok, tc.want)
		}
	}
}

func TestNormaliseSignIn(t *testing.T) {
	t.Parallel()
	const ref, code = "K7QM-3XRD", "ABCD-EFGH-JKMN-PQRS-TVWX-YZ01-20"
	tests := []struct {
		name, typedRef, typedCode string
		wantRef, wantCode         string
	}{
		{"as shown", ref, code, ref, code},
		{"lowercase without dashes", "k7qm3xrd", "abcdefghjkmnpqrstvwxyz0120", ref, code},
		{"swapped", code, ref, ref, code},
		{"code in groups of two", ref, "AB CD EF GH JK MN PQ RS TV WX YZ 01 20", ref, code},
		{"code pasted with its label", ref, "Access code: " + code, ref, code},
		{"reference wrong", "K7QM", code, "", code},
		{"code wrong", ref, "ABCD", ref, ""},
	}
	for _, tc := range tests {
		r, c, rok, cok := normaliseSignIn(tc.typedRef, tc.typedCode)
		if r != tc.wantRef || c != tc.wantCode || rok != (tc.wantRef != "") || cok != (tc.wantCode != "") {
			t.Errorf("%s: got %q %q %v %v", tc.name, r, c, rok, cok)
		}
	}
}

var (
	referenceForm = regexp.MustCompile(`^[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$`)
	codeForm      = regexp.MustCompile(`^([0-9A-HJKMNP-TV-Z]{4}-){6}[0-9A-HJKMNP-TV-Z]{2}$`)
)

// FuzzNormalise holds the normalisers to their promises on any input: no
// panic; what they accept comes out in the canonical form intake shows,
// normalises to itself, and is unchanged by lowercase, spaces and dashes.
func FuzzNormalise(f *testing.F) {
	for _, s := range []string{"K7QM-3XRD", "k7qm 3xrd", "Reference: K7QM-3XRD", "ABCD-EFGH-JKMN-PQRS-TVWX-YZ01-20", "", "–—", "ｋ", "O0Il"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, typed string) {
		for _, n := range []struct {
			normalise func(string) (string, bool)
			form      *regexp.Regexp
		}{{normaliseReference, referenceForm}, {normaliseAccessCode, codeForm}} {
			got, ok := n.normalise(typed)
			if !ok {
				if got != "" {
					t.Fatalf("refused %q but returned %q", typed, got)
				}
				continue
			}
			if !n.form.MatchString(got) {
				t.Fatalf("%q normalised to %q, not the canonical form", typed, got)
			}
			if again, ok := n.normalise(got); !ok || again != got {
				t.Fatalf("%q normalised to %q, which normalises to %q, %v", typed, got, again, ok)
			}
			loose := strings.ToLower(strings.ReplaceAll(got, "-", " - "))
			if again, ok := n.normalise(loose); !ok || again != got {
				t.Fatalf("%q (from %q) normalised to %q, %v; want %q", loose, typed, again, ok, got)
			}
		}
	})
}
