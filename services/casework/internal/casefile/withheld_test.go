package casefile

import (
	"strings"
	"testing"
)

func TestBlotAll(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		text    string
		details []string
		want    string
	}{
		{"regardless of case", "Sessions with Jo Bloggs ended at MILL street.", []string{"jo bloggs", "Mill Street"},
			"Sessions with " + Withheld + " ended at " + Withheld + "."},
		{"a detail inside another is blotted out whole", "At the Mill Street practice on Mill Lane.", []string{"Mill", "Mill Street practice"},
			"At the " + Withheld + " on " + Withheld + " Lane."},
		{"a replacement is never blotted again", "My client Ann", []string{"Ann", "client", "request"},
			"My " + Withheld + " " + Withheld},
		{"every occurrence", "aXaXa", []string{"a"}, Withheld + "X" + Withheld + "X" + Withheld},
		{"blank details are ignored", "nothing to hide", []string{"", "  "}, "nothing to hide"},
		{"details are trimmed", "meet at the café", []string{" café "}, "meet at the " + Withheld},
		{"letters whose lower case has another length match exactly", "İstanbul and istanbul", []string{"İstanbul"},
			Withheld + " and istanbul"},
		{"not UTF-8", "a\xffb", []string{"\xffB"}, "a" + Withheld},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := blotAll(tt.text, tt.details); got != tt.want {
				t.Errorf("blotAll(%q, %q) = %q; want %q", tt.text, tt.details, got, tt.want)
			}
		})
	}
}

func TestWithholding(t *testing.T) {
	t.Parallel()
	approved := Document{ID: "s2", Kind: WrittenStatementDoc, AuthorRole: RoleSPC, Statement: &Statement{
		Concern: "It was Ann who told me, at Elm House.", DesiredOutcome: "An apology.", Summary: "An abrupt end.",
		Constraints: &Constraints{Sharing: ShareFull, Withheld: []string{"Elm House", " ann ", ""}, Other: "Not Elm House."},
	}}
	earlier := Document{ID: "s1", Kind: WrittenStatementDoc, AuthorRole: RoleSPC, Statement: &Statement{Concern: "draft"}}
	statements := []Document{earlier, approved}
	withApproval := Case{Progress: Progress{Approved: "s2"}}
	tests := []struct {
		name       string
		c          Case
		roles      []Role
		statements []Document
		wantOK     bool
		// The therapist's side's own words, anyone else's, and the
		// approved statement, as read.
		wantOwn, wantOthers, wantConcern string
		wantConstraints                  bool
	}{
		{name: "therapist, constraints set", c: withApproval, roles: []Role{RoleMember, RoleTherapist}, statements: statements, wantOK: true,
			wantOwn: "Ann at Elm House", wantOthers: Withheld + " at " + Withheld, wantConcern: "It was " + Withheld + " who told me, at " + Withheld + "."},
		{name: "SPT", c: withApproval, roles: []Role{RoleMember, RoleSPT}, statements: statements, wantOK: true,
			wantOwn: "Ann at Elm House", wantOthers: Withheld + " at " + Withheld, wantConcern: "It was " + Withheld + " who told me, at " + Withheld + "."},
		{name: "nominee", c: withApproval, roles: []Role{RoleMember, RoleNominee}, statements: statements, wantOK: true,
			wantOwn: "Ann at Elm House", wantOthers: Withheld + " at " + Withheld, wantConcern: "It was " + Withheld + " who told me, at " + Withheld + "."},
		{name: "therapist, nothing approved yet", c: Case{}, roles: []Role{RoleMember, RoleTherapist}, statements: statements, wantOK: true,
			wantOwn: "Ann at Elm House", wantOthers: "Ann at Elm House", wantConcern: approved.Statement.Concern, wantConstraints: true},
		{name: "SPC", c: withApproval, roles: []Role{RoleMember, RoleSPC}, statements: statements, wantOK: true,
			wantOwn: "Ann at Elm House", wantOthers: "Ann at Elm House", wantConcern: approved.Statement.Concern, wantConstraints: true},
		{name: "another member", c: withApproval, roles: []Role{RoleMember}, statements: statements, wantOK: true,
			wantOwn: "Ann at Elm House", wantOthers: "Ann at Elm House", wantConcern: approved.Statement.Concern, wantConstraints: true},
		{name: "the approved statement is missing", c: withApproval, roles: []Role{RoleTherapist}, statements: []Document{earlier}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w, ok := withholdingFrom(tt.c, tt.roles, tt.statements)
			if ok != tt.wantOK {
				t.Fatalf("withholdingFrom ok = %v; want %v", ok, tt.wantOK)
			}
			if !ok {
				return
			}
			const words = "Ann at Elm House"
			for _, author := range []Role{RoleTherapist, RoleSPT} {
				if got := w.text(author, words); got != tt.wantOwn {
					t.Errorf("words of the %s read as %q; want %q", RoleWord(author), got, tt.wantOwn)
				}
			}
			for _, author := range []Role{RoleSPC, RoleLP, RoleClient, RoleLinkGroup, RoleMember, RoleNone} {
				if got := w.text(author, words); got != tt.wantOthers {
					t.Errorf("words of the %s read as %q; want %q", RoleWord(author), got, tt.wantOthers)
				}
			}
			d := w.document(approved)
			if d.Statement.Concern != tt.wantConcern || (d.Statement.Constraints != nil) != tt.wantConstraints {
				t.Errorf("the approved statement reads as %+v (constraints %+v)", d.Statement, d.Statement.Constraints)
			}
			if approved.Statement.Concern != "It was Ann who told me, at Elm House." {
				t.Error("document changed the stored statement")
			}
			note := w.document(Document{Kind: MeetingOutcomeDoc, AuthorRole: RoleSPC, Text: "We met near Elm House."})
			if strings.Contains(note.Text, "Elm House") != (tt.wantOthers == words) {
				t.Errorf("meeting outcome reads as %q", note.Text)
			}
		})
	}
}
