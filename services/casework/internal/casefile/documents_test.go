package casefile

import (
	"strings"
	"testing"

	procedurev1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/procedure/v1"
)

func TestConveyedCopy(t *testing.T) {
	t.Parallel()
	statement := Statement{
		Concern:        "Sessions with Jo Bloggs ended at the Mill Street practice without notice.",
		DesiredOutcome: "An apology from the practice on Mill Street.",
		Summary:        "The ending felt abrupt.",
	}
	all := Statement{Concern: statement.Concern, DesiredOutcome: statement.DesiredOutcome, Summary: statement.Summary, AsConveyed: true}
	tests := []struct {
		name        string
		constraints *Constraints
		want        Statement
	}{
		{"no constraints: all of it", nil, all},
		{"summary only", &Constraints{Sharing: ShareSummaryOnly}, Statement{DesiredOutcome: statement.DesiredOutcome, Summary: statement.Summary, AsConveyed: true}},
		// Withheld details are blotted out by withholding, with every
		// other text; the copy never carries the constraints.
		{"withheld details are left to withholding", &Constraints{Sharing: ShareFull, Withheld: []string{"jo bloggs"}, Other: "no"}, all},
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
	f.Add("Sessions with Jo Bloggs ended.", "jo bloggs", "")
	f.Add("ÅSA åsa ÅSA", "åsa", "sa")
	f.Add("İstanbul", "i̇", "İ")
	f.Add("aaaa", "aa", "a")
	f.Add("The client's request", "Mill Street", "client")
	f.Add("K\u212aİİ", "k", "\xff")
	f.Fuzz(func(t *testing.T, text, detail, another string) {
		got := blotAll(text, []string{detail, another})
		if strings.TrimSpace(detail) == "" && strings.TrimSpace(another) == "" {
			if got != text {
				t.Fatalf("blank details changed the text: %q", got)
			}
			return
		}
		// What the therapist reads holds neither detail, whatever its
		// case, outside the replacements themselves.
		for _, piece := range strings.Split(got, Withheld) {
			for _, d := range []string{detail, another} {
				if d = strings.TrimSpace(d); d != "" && strings.Contains(foldCase(piece), foldCase(d)) {
					t.Fatalf("blotAll(%q, %q, %q) = %q still holds %q", text, detail, another, got, d)
				}
			}
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
