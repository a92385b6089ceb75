package store

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/ipnmediation/disputes/platform/testenv"
	"github.com/ipnmediation/disputes/services/casework/internal/casefile"
)

// TestRegisteredContacts walks a group's cases two at a time and gets every
// one, in list order, with its client's contact details opened, whether
// sealed or from before encryption; another group's case is not among them,
// and a tampered ciphertext fails the walk without showing any plaintext.
func TestRegisteredContacts(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := openDB(t)
	s := &Store{Pool: pool, Namespace: testenv.Namespace(t), Keys: keyring(t, "", keySetting(t, "k1"))}
	want := map[string]casefile.Confidential{}
	var sealedIDs []string
	for _, tag := range []string{"a", "b", "c", "d"} {
		id := openCase(t, s, secretsOf(tag))
		want[id] = secretsOf(tag)
		sealedIDs = append(sealedIDs, id)
	}
	legacy := insertPlaintextCase(t, pool, secretsOf("legacy"), "a note")
	want[legacy] = secretsOf("legacy")
	insertCase(t, pool, testCase{group: "hillside"})
	// Every case was registered at the same instant: the greater id first.
	var wantIDs []string
	for id := range want {
		wantIDs = append(wantIDs, id)
	}
	slices.Sort(wantIDs)
	slices.Reverse(wantIDs)

	var got []string
	var after *casefile.Cursor
	for batches := 1; ; batches++ {
		if batches > 5 {
			t.Fatal("the walk does not end")
		}
		batch, err := s.RegisteredContacts(ctx, "groups/riverside", after, 2)
		if err != nil {
			t.Fatal(err)
		}
		for _, rc := range batch {
			got = append(got, rc.Case.ID)
			w := want[rc.Case.ID]
			if rc.Email != w.ClientEmail || rc.Phone != w.ClientPhone || rc.Case.Group != "groups/riverside" {
				t.Errorf("case %s: %q %q in %s; want %q %q in groups/riverside", rc.Case.ID, rc.Email, rc.Phone, rc.Case.Group, w.ClientEmail, w.ClientPhone)
			}
		}
		if len(batch) < 2 {
			break
		}
		last := batch[len(batch)-1].Case
		after = &casefile.Cursor{RegisterTime: last.RegisterTime, ID: last.ID}
	}
	if !slices.Equal(got, wantIDs) {
		t.Errorf("walked\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(wantIDs, "\n"))
	}

	// Another case's e-mail copied over one case's: the walk fails, and
	// says nothing of either.
	if _, err := pool.Exec(ctx, `UPDATE cases SET client_email = (SELECT client_email FROM cases WHERE id = $2) WHERE id = $1`, sealedIDs[0], sealedIDs[1]); err != nil {
		t.Fatal(err)
	}
	_, err := s.RegisteredContacts(ctx, "groups/riverside", nil, 10)
	if err == nil {
		t.Fatal("a tampered e-mail address was opened")
	}
	if strings.Contains(strings.ToUpper(err.Error()), canary) {
		t.Errorf("error %q shows plaintext", err)
	}
}
