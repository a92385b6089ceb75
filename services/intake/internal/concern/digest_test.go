package concern

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"testing"
)

// TestContentDigest holds what tells a repeat of a request from another
// request under the same id: every field the client fills in, the desired
// outcome included, and, for a request without a desired outcome, the
// digest a release from before the field made, so that a repeat sent
// across the upgrade is still recognised.
func TestContentDigest(t *testing.T) {
	t.Parallel()
	base := Draft{
		Practitioner: "groups/riverside/members/alex-moss",
		Description:  "Sessions were cancelled at short notice.",
		ClientName:   "Sam",
		Contact:      Contact{Email: "sam@example.org", Phone: "+44 20 7946 0123"},
	}
	// before is the digest as it was made before the desired outcome.
	before := func(parent string, d Draft) []byte {
		h := sha256.New()
		for _, f := range []string{parent, d.Practitioner, d.Description, d.ClientName, d.Contact.Email, d.Contact.Phone} {
			_ = binary.Write(h, binary.BigEndian, uint64(len(f)))
			h.Write([]byte(f))
		}
		return h.Sum(nil)
	}
	if got, want := contentDigest("groups/riverside", base), before("groups/riverside", base); !bytes.Equal(got, want) {
		t.Errorf("a request without a desired outcome: digest %x; want %x, as before the field", got, want)
	}

	with := func(edit func(*Draft)) Draft {
		d := base
		edit(&d)
		return d
	}
	tests := []struct {
		name string
		a, b Draft
	}{
		{"a desired outcome given or not",
			base, with(func(d *Draft) { d.DesiredOutcome = "An apology." })},
		{"another desired outcome",
			with(func(d *Draft) { d.DesiredOutcome = "An apology." }), with(func(d *Draft) { d.DesiredOutcome = "An explanation." })},
		{"text moved from the description to the desired outcome",
			with(func(d *Draft) { d.Description += " An apology." }), with(func(d *Draft) { d.DesiredOutcome = " An apology." })},
		{"the telephone number or the desired outcome",
			with(func(d *Draft) { d.Contact.Phone = ""; d.DesiredOutcome = "+44 20 7946 0123" }), base},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if bytes.Equal(contentDigest("groups/riverside", tt.a), contentDigest("groups/riverside", tt.b)) {
				t.Errorf("%+v and %+v have the same digest", tt.a, tt.b)
			}
		})
	}
}
