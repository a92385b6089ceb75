package directory

import (
	"strings"
	"testing"
	"time"

	"github.com/ipnmediation/disputes/platform/fault"
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

func TestValidateGroupProcedure(t *testing.T) {
	t.Parallel()
	tests := []struct {
		procedure string
		ok        bool
	}{
		{"", true},
		{"procedures/ipn-disputes-v1", true},
		{"procedures/p", true},
		{"procedures/" + strings.Repeat("a", 63), true},
		{"procedures/" + strings.Repeat("a", 64), false},
		{"procedures/", false},
		{"procedures/1st", false},
		{"procedures/-x", false},
		{"procedures/IPN", false},
		{"procedures/ipn_disputes", false},
		{"procedures/ipn/v1", false},
		{"ipn-disputes-v1", false},
		{"groups/riverside", false},
		{" procedures/ipn", false},
	}
	for _, tc := range tests {
		g := Group{ID: "riverside", DisplayName: "Riverside", Settings: ProcedureSettings{Procedure: tc.procedure}}
		err := validateGroup(g, true)
		if (err == nil) != tc.ok {
			t.Errorf("procedure %q: err = %v, want ok %v", tc.procedure, err, tc.ok)
			continue
		}
		if f, _ := fault.As(err); err != nil && (f == nil || len(f.Violations) != 1 || f.Violations[0].Field != "group.procedure_settings.procedure") {
			t.Errorf("procedure %q: err = %v, want one violation on group.procedure_settings.procedure", tc.procedure, err)
		}
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
