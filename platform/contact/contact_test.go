package contact

import "testing"

func TestValidEmail(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want bool
	}{
		{"ana@example.org", true},
		{"a.b+c@sub.example.org", true},
		{"", false},
		{"ana", false},
		{"Ana <ana@example.org>", false},
		{"<ana@example.org>", false},
		{"ana@example.org ", false},
		{"ana@@example.org", false},
		{"ana@example.org (home)", false},
	}
	for _, tc := range tests {
		if got := ValidEmail(tc.in); got != tc.want {
			t.Errorf("ValidEmail(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestValidPhone(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want bool
	}{
		{"+44 1234 567890", true},
		{"(01234) 567-890", true},
		{"123456", false},
		{"call me", false},
		{"+44 1234 567890 ext 2", false},
		{"123456789012345678901", false},
	}
	for _, tc := range tests {
		if got := ValidPhone(tc.in); got != tc.want {
			t.Errorf("ValidPhone(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func FuzzContact(f *testing.F) {
	for _, s := range []string{"ana@example.org", "+44 1234 567890", "", "<a@b>", "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if ValidEmail(s) && (len(s) > MaxEmailLength || s == "") {
			t.Errorf("ValidEmail accepted %q", s)
		}
		if ValidPhone(s) && len(s) < MinPhoneDigits {
			t.Errorf("ValidPhone accepted %q", s)
		}
	})
}
