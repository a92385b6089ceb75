package casefile

import (
	"strings"
	"testing"
	"unicode/utf8"

	procedurev1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/procedure/v1"
)

func TestConveyedCopy(t *testing.T) {
	t.Parallel()
	statement := Statement{
		Concern:        "Sessions with Jo Bloggs ended at the Mill Street practice without notice.",
		DesiredOutcome: "An apology from the practice on Mill Street.",
		Summary:        "The ending felt abrupt.",
	}
	tests := []struct {
		name        string
		constraints *Constraints
		want        Statement
	}{
		{"no constraints: all of it", nil, Statement{Concern: statement.Concern, DesiredOutcome: statement.DesiredOutcome, Summary: statement.Summary, AsConveyed: true}},
		{"summary only", &Constraints{Sharing: ShareSummaryOnly}, Statement{DesiredOutcome: statement.DesiredOutcome, Summary: statement.Summary, AsConveyed: true}},
		{"withheld details, in any case", &Constraints{Sharing: ShareFull, Withheld: []string{"jo bloggs", "MILL STREET"}}, Statement{
			Concern:        "Sessions with " + Withheld + " ended at the " + Withheld + " practice without notice.",
			DesiredOutcome: "An apology from the practice on " + Withheld + ".",
			Summary:        statement.Summary, AsConveyed: true,
		}},
		{"a detail inside another is blotted out whole", &Constraints{Withheld: []string{"Mill", "Mill Street practice"}}, Statement{
			Concern:        "Sessions with Jo Bloggs ended at the " + Withheld + " without notice.",
			DesiredOutcome: "An apology from the practice on " + Withheld + " Street.",
			Summary:        statement.Summary, AsConveyed: true,
		}},
		{"blank details are ignored", &Constraints{Withheld: []string{"", "  "}}, Statement{Concern: statement.Concern, DesiredOutcome: statement.DesiredOutcome, Summary: statement.Summary, AsConveyed: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := statement
			s.Constraints = tt.constraints
			got := conveyedCopy(s)
			if got != tt.want {
				t.Errorf("conveyedCopy =\n%+v\nwant\n%+v", got, tt.want)
			}
		})
	}
}

func FuzzBlot(f *testing.F) {
	f.Add("Sessions with Jo Bloggs ended.", "jo bloggs")
	f.Add("ÅSA åsa ÅSA", "åsa")
	f.Add("İstanbul", "i̇")
	f.Add("aaaa", "aa")
	f.Fuzz(func(t *testing.T, text, detail string) {
		got := blot(text, detail)
		d := strings.TrimSpace(detail)
		if d == "" {
			if got != text {
				t.Fatalf("blank detail changed the text: %q", got)
			}
			return
		}
		// What the therapist reads never contains the detail, whatever its
		// case, unless the replacement itself spells it.
		if utf8.ValidString(text) && utf8.ValidString(d) && !strings.Contains(strings.ToLower(Withheld), strings.ToLower(d)) &&
			strings.Contains(strings.ToLower(got), strings.ToLower(d)) && len(strings.ToLower(text)) == len(text) && len(strings.ToLower(d)) == len(d) {
			t.Fatalf("blot(%q, %q) = %q still holds the detail", text, detail, got)
		}
	})
}

func TestEveryActionHasAnInputRule(t *testing.T) {
	t.Parallel()
	// Actions that record nothing but the step itself take no input.
	none := map[procedurev1.Action]bool{
		procedurev1.Action_ACTION_ANSWER_NOMINATION: true, procedurev1.Action_ACTION_INFORM_LINK_GROUPS: true,
		procedurev1.Action_ACTION_CONVEY_STATEMENT: true, procedurev1.Action_ACTION_RELAY_RESPONSE: true,
		procedurev1.Action_ACTION_DECIDE: true, procedurev1.Action_ACTION_WITHDRAW: true,
	}
	for v := range procedurev1.Action_name {
		a := procedurev1.Action(v)
		if a == procedurev1.Action_ACTION_UNSPECIFIED {
			continue
		}
		if _, ok := inputFor[a]; ok == none[a] {
			t.Errorf("%v: input rule %v, but takes-no-input %v", a, ok, none[a])
		}
	}
}
