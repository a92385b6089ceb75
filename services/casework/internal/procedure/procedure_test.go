package procedure

import (
	"io/fs"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/ipnmediation/disputes/services/casework/procedures"
)

func TestShippedProceduresLoad(t *testing.T) {
	t.Parallel()
	c, err := Load(procedures.FS, procedures.Default)
	if err != nil {
		t.Fatal(err)
	}
	d := c.Default()
	if d.Name() != procedures.Default || len(d.Steps()) == 0 {
		t.Fatalf("default = %s with %d steps", d.Name(), len(d.Steps()))
	}
	if _, ok := d.Step(d.FirstResponseStep()); !ok {
		t.Errorf("first response step %q missing", d.FirstResponseStep())
	}
}

// TestTowardFirstResponse: in version 1 the first response needs the
// client's meeting, the statement, the therapist's support person and the
// response; the link groups and the full group's meeting are for later.
func TestTowardFirstResponse(t *testing.T) {
	t.Parallel()
	c, err := Load(procedures.FS, procedures.Default)
	if err != nil {
		t.Fatal(err)
	}
	d := c.Default()
	var toward []string
	for _, s := range d.Steps() {
		if d.TowardFirstResponse(s.GetId()) {
			toward = append(toward, s.GetId())
		}
	}
	want := []string{"nominate_spt", "answer_spt_nomination", "appoint_spc_and_lp", "offer_client_meeting", "answer_client_meeting",
		"write_statement", "answer_statement", "convey_statement", "record_response", "relay_response"}
	if !slices.Equal(toward, want) {
		t.Errorf("steps toward the first response: %v; want %v", toward, want)
	}
	if d.TowardFirstResponse("no_such_step") {
		t.Error("an unknown step leads toward the first response")
	}
}

// TestInformsLinkGroups: in version 1 only the LP's inform_link_groups
// lets the link groups see a case; it is found by its action.
func TestInformsLinkGroups(t *testing.T) {
	t.Parallel()
	c, err := Load(procedures.FS, procedures.Default)
	if err != nil {
		t.Fatal(err)
	}
	d := c.Default()
	var informing []string
	for _, s := range d.Steps() {
		if d.InformsLinkGroups(s.GetId()) {
			informing = append(informing, s.GetId())
		}
	}
	if want := []string{"inform_link_groups"}; !slices.Equal(informing, want) {
		t.Errorf("steps that inform the link groups: %v; want %v", informing, want)
	}
	if d.InformsLinkGroups("no_such_step") {
		t.Error("an unknown step informs the link groups")
	}
}

func TestCheckFindsMistakes(t *testing.T) {
	t.Parallel()
	const base = `name: "procedures/test" display_name: "T"
overall_target { seconds: 100 } first_response_target { seconds: 10 }
steps { id: "a" action: ACTION_NOMINATE_SPT title: "A" actors: [ROLE_THERAPIST] timeline_audience: [ROLE_MEMBER] }
steps { id: "end" action: ACTION_WITHDRAW title: "E" actors: [ROLE_CLIENT] outcomes: ["WITHDRAWN"] closes_case: true timeline_audience: [ROLE_MEMBER] }
`
	tests := []struct {
		name string
		text string
		want string // empty: valid
	}{
		{"valid", base, ""},
		{"unknown field", base + `colour: "red"`, "unknown field"},
		{"bad name", strings.Replace(base, "procedures/test", "Procedures/Test", 1), "is not procedures/"},
		{"duplicate step", base + `steps { id: "a" action: ACTION_NOMINATE_SPT title: "A" actors: [ROLE_THERAPIST] timeline_audience: [ROLE_MEMBER] }`, "defined twice"},
		{"unknown prerequisite", base + `steps { id: "b" action: ACTION_DECIDE title: "B" actors: [ROLE_CLIENT] timeline_audience: [ROLE_MEMBER] requires { step: "nope" explanation: "x" } }`, `unknown step "nope"`},
		{"unknown outcome", base + `steps { id: "b" action: ACTION_DECIDE title: "B" actors: [ROLE_CLIENT] timeline_audience: [ROLE_MEMBER] requires { step: "end" outcome: "MAYBE" explanation: "x" } }`, `outcome "MAYBE"`},
		{"no explanation", base + `steps { id: "b" action: ACTION_DECIDE title: "B" actors: [ROLE_CLIENT] timeline_audience: [ROLE_MEMBER] requires { step: "a" } }`, "no explanation"},
		{"no actors", base + `steps { id: "b" action: ACTION_DECIDE title: "B" timeline_audience: [ROLE_MEMBER] }`, "nobody may take it"},
		{"meeting without kind", base + `steps { id: "b" action: ACTION_PROPOSE_MEETING title: "B" actors: [ROLE_SPC] timeline_audience: [ROLE_MEMBER] }`, "meeting_kind"},
		{"nothing closes", strings.Replace(base, "closes_case: true", "", 1), "no step closes"},
		{"reserved id", base + `steps { id: "overdue" action: ACTION_DECIDE title: "B" actors: [ROLE_CLIENT] timeline_audience: [ROLE_MEMBER] }`, "reserved"},
		{"no targets", strings.Replace(base, "overall_target { seconds: 100 } first_response_target { seconds: 10 }", "", 1), "must both be positive"},
		{"first response after the end", strings.Replace(base, "seconds: 10 }", "seconds: 1000 }", 1), "must not be longer"},
		{"requires an optional step", base + `steps { id: "b" action: ACTION_DECIDE title: "B" actors: [ROLE_CLIENT] timeline_audience: [ROLE_MEMBER] optional: true }
steps { id: "c" action: ACTION_DECIDE title: "C" actors: [ROLE_CLIENT] timeline_audience: [ROLE_MEMBER] requires { step: "b" explanation: "x" } }`, `requires optional step "b"`},
		{"only optional branches", base + `steps { id: "b" action: ACTION_DECIDE title: "B" actors: [ROLE_CLIENT] timeline_audience: [ROLE_MEMBER] optional: true }
steps { id: "c" action: ACTION_DECIDE title: "C" actors: [ROLE_CLIENT] timeline_audience: [ROLE_MEMBER] requires_any { step: "b" explanation: "x" } }`, "every branch of requires_any is an optional step"},
		{"an optional branch beside a required one", base + `steps { id: "b" action: ACTION_DECIDE title: "B" actors: [ROLE_CLIENT] timeline_audience: [ROLE_MEMBER] optional: true }
steps { id: "c" action: ACTION_DECIDE title: "C" actors: [ROLE_CLIENT] timeline_audience: [ROLE_MEMBER] requires_any { step: "b" explanation: "x" } requires_any { step: "a" explanation: "y" } }`, ""},
		{"optional first response", base + `first_response_step: "b"
steps { id: "b" action: ACTION_DECIDE title: "B" actors: [ROLE_CLIENT] timeline_audience: [ROLE_MEMBER] optional: true }`, "first_response_step \"b\" is optional"},
		{"link groups act but are never informed", base + `steps { id: "b" action: ACTION_RECORD_LINK_GROUP_ISSUE title: "B" actors: [ROLE_LINK_GROUP] timeline_audience: [ROLE_MEMBER] }`, "no step informs them"},
		{"link groups act once informed", base + `steps { id: "i" action: ACTION_INFORM_LINK_GROUPS title: "I" actors: [ROLE_LP] timeline_audience: [ROLE_MEMBER] }
steps { id: "b" action: ACTION_RECORD_LINK_GROUP_ISSUE title: "B" actors: [ROLE_LINK_GROUP] timeline_audience: [ROLE_MEMBER] requires { step: "i" explanation: "x" } }`, ""},
		{"answers unknown", base + `steps { id: "b" action: ACTION_DECIDE title: "B" actors: [ROLE_CLIENT] timeline_audience: [ROLE_MEMBER] answers: "zz" }`, "answers unknown"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse([]byte(tt.text))
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("Parse: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("Parse error = %v; want it to mention %q", err, tt.want)
			}
		})
	}
}

func TestLoadNeedsTheDefault(t *testing.T) {
	t.Parallel()
	if _, err := Load(fstest.MapFS{}, "procedures/missing"); err == nil {
		t.Fatal("Load accepted a catalogue without its default")
	}
}

// TestExtend: a folder's versions join the built-in ones, checked as they
// are; a bad file, or a name already known, adds nothing and names the
// file.
func TestExtend(t *testing.T) {
	t.Parallel()
	v1, err := fs.ReadFile(procedures.FS, "ipn-disputes-v1.txtpb")
	if err != nil {
		t.Fatal(err)
	}
	renamed := func(name string) *fstest.MapFile {
		return &fstest.MapFile{Data: []byte(strings.Replace(string(v1), `name: "procedures/ipn-disputes-v1"`, `name: "`+name+`"`, 1))}
	}
	tests := []struct {
		name  string
		files fstest.MapFS
		added []string
		want  []string // what the error says; empty: no error
	}{
		{name: "two new versions", files: fstest.MapFS{"a.txtpb": renamed("procedures/a"), "b.txtpb": renamed("procedures/b")},
			added: []string{"procedures/a", "procedures/b"}},
		{name: "other files and folders are not versions", files: fstest.MapFS{
			"a.txtpb": renamed("procedures/a"), "README.md": {Data: []byte("words")}, "old.txtpb.bak": {Data: []byte("x")},
			"folder.txtpb/inner.txtpb": renamed("procedures/inner"),
		}, added: []string{"procedures/a"}},
		{name: "an empty folder", files: fstest.MapFS{}},
		{name: "a built-in name", files: fstest.MapFS{"a.txtpb": renamed("procedures/a"), "v1.txtpb": renamed(procedures.Default)},
			want: []string{"extra/v1.txtpb", procedures.Default, "new name"}},
		{name: "a name twice", files: fstest.MapFS{"a.txtpb": renamed("procedures/a"), "b.txtpb": renamed("procedures/a")},
			want: []string{"extra/b.txtpb", "defined twice"}},
		{name: "a file that fails the checks", files: fstest.MapFS{"a.txtpb": renamed("procedures/a"), "b.txtpb": renamed("Procedures/B")},
			want: []string{"extra/b.txtpb", "is not procedures/"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := Load(procedures.FS, procedures.Default)
			if err != nil {
				t.Fatal(err)
			}
			err = c.Extend(tt.files, "extra")
			var names []string
			for _, d := range c.All() {
				names = append(names, d.Name())
			}
			if len(tt.want) > 0 {
				for _, w := range tt.want {
					if err == nil || !strings.Contains(err.Error(), w) {
						t.Errorf("Extend = %v; want it to say %q", err, w)
					}
				}
				if !slices.Equal(names, []string{procedures.Default}) {
					t.Errorf("after a refused folder the catalogue holds %v; want the built-in version alone", names)
				}
				return
			}
			if err != nil {
				t.Fatalf("Extend: %v", err)
			}
			want := append([]string{procedures.Default}, tt.added...)
			slices.Sort(want)
			if !slices.Equal(names, want) || c.Default().Name() != procedures.Default {
				t.Errorf("catalogue %v, default %s; want %v, default %s", names, c.Default().Name(), want, procedures.Default)
			}
		})
	}
}
