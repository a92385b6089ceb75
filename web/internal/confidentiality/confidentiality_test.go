package confidentiality

import (
	"slices"
	"testing"
)

// TestLeaksFindsALeak: the check the walks make after every step reports a
// page that shows a party what they must not read, and a page that hides
// from a party what they must read.
func TestLeaksFindsALeak(t *testing.T) {
	t.Parallel()
	secrets := []Secret{{What: "the client's e-mail address", Text: "robin@client.example.net", Readers: []string{"alex-morgan", "client"}}}
	ok := map[string]string{"alex-morgan": "<dd>robin@client.example.net</dd>", "client": "robin@client.example.net", "cal-reyes": "<p>The concern</p>"}
	tests := []struct {
		name string
		seen map[string]string
		want []string
	}{
		{"no leak", ok, nil},
		{"a deliberate leak", map[string]string{"alex-morgan": ok["alex-morgan"], "client": ok["client"], "cal-reyes": ok["cal-reyes"] + "robin@client.example.net"},
			[]string{"cal-reyes can read the client's e-mail address"}},
		{"a hidden secret", map[string]string{"alex-morgan": "<dd></dd>", "client": ok["client"], "cal-reyes": ok["cal-reyes"]},
			[]string{"alex-morgan cannot read the client's e-mail address"}},
		{"both at once", map[string]string{"alex-morgan": "", "client": ok["client"], "cal-reyes": "robin@client.example.net"},
			[]string{"alex-morgan cannot read the client's e-mail address", "cal-reyes can read the client's e-mail address"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := Leaks(tt.seen, secrets); !slices.Equal(got, tt.want) {
				t.Errorf("Leaks = %q, want %q", got, tt.want)
			}
		})
	}
	none := []Secret{{What: "the support person's notes", Text: "calls after six", Readers: nil}}
	if got := Leaks(map[string]string{"client": "… calls after six …", "alex-morgan": ""}, none); !slices.Equal(got, []string{"client can read the support person's notes"}) {
		t.Errorf("a secret nobody may read, shown to the client: %q", got)
	}
}
