package directory

import (
	"testing"
	"time"
)

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
		{"ana@example.org ", false},
		{"ana@@example.org", false},
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

func TestValidID(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want bool
	}{
		{"riverside", true},
		{"alex-morgan", true},
		{"a1b", true},
		{"ab", false},
		{"1abc", false},
		{"abc-", false},
		{"Abc", false},
		{"a_b_c", false},
	}
	for _, tc := range tests {
		if got := ValidID(tc.in); got != tc.want {
			t.Errorf("ValidID(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestProcedureSettingsDefaults(t *testing.T) {
	t.Parallel()
	got := ProcedureSettings{}.WithDefaults()
	if got.OverallTarget != 8*7*24*time.Hour || got.FirstResponseTarget != 14*24*time.Hour || len(got.ReminderOffsets) != 2 {
		t.Errorf("defaults = %+v", got)
	}
	set := ProcedureSettings{OverallTarget: time.Hour}.WithDefaults()
	if set.OverallTarget != time.Hour {
		t.Errorf("a set target was replaced: %+v", set)
	}
}

// FuzzValidators checks that the validators never panic and that whatever
// they accept has the promised shape.
func FuzzValidators(f *testing.F) {
	for _, s := range []string{"ana@example.org", "+44 1234 567890", "riverside", "", "<a@b>", "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if ValidEmail(s) && (len(s) > 254 || s == "") {
			t.Errorf("ValidEmail accepted %q", s)
		}
		if ValidPhone(s) && len(s) < 7 {
			t.Errorf("ValidPhone accepted %q", s)
		}
		if ValidID(s) && (len(s) < 3 || len(s) > 40) {
			t.Errorf("ValidID accepted %q", s)
		}
	})
}
