package directory

import (
	"testing"
	"time"
)

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

// FuzzValidID checks that ValidID never panics and that whatever
// they accept has the promised shape.
func FuzzValidID(f *testing.F) {
	for _, s := range []string{"ana@example.org", "+44 1234 567890", "riverside", "", "<a@b>", "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if ValidID(s) && (len(s) < 3 || len(s) > 40) {
			t.Errorf("ValidID accepted %q", s)
		}
	})
}
