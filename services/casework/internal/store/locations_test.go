package store

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/ipnmediation/disputes/platform/testenv"
	"github.com/ipnmediation/disputes/services/casework/internal/casefile"
	"github.com/jackc/pgx/v5/pgxpool"
)

const legacySPC = "groups/riverside/members/dana-holt"

// withLegacyLocation writes into case id's progress a meeting proposed by
// the SPC with its location in plaintext, as casework kept it before
// locations were sealed, and returns the meeting's name.
func withLegacyLocation(t *testing.T, pool *pgxpool.Pool, id, location string) string {
	t.Helper()
	meetingID := uuid.NewString()
	name := "groups/riverside/cases/" + id + "/meetings/" + meetingID
	at := registered.Add(time.Hour)
	progress, err := json.Marshal(map[string]any{
		"entries": 2,
		"taken":   []map[string]any{{"step": "offer_client_meeting", "actor": legacySPC, "role": casefile.RoleSPC, "time": at, "subject": name}},
		"meetings": []map[string]any{{"id": meetingID, "kind": 1, "state": "PROPOSED", "location": location, "proposer": legacySPC,
			"confirmed": -1, "create_time": at, "sequence": 0,
			"slots": []map[string]any{{"start": at.Add(72 * time.Hour), "end": at.Add(73 * time.Hour)}}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(context.Background(), `UPDATE cases SET progress = $2 WHERE id = $1`, id, progress); err != nil {
		t.Fatal(err)
	}
	return name
}

// rowsHolding counts the rows of cases and documents that hold s in
// plain form, read as text.
func rowsHolding(t *testing.T, pool *pgxpool.Pool, s string) int {
	t.Helper()
	var n int
	err := pool.QueryRow(context.Background(), `
		SELECT (SELECT count(*) FROM cases c WHERE strpos(c::text, $1) > 0) + (SELECT count(*) FROM documents d WHERE strpos(d::text, $1) > 0)`, s).Scan(&n)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestLegacyMeetingLocationsAreSealed: a meeting location that progress
// still holds in plaintext reads as before, and is sealed into a document
// of its own, by the re-encrypt command for a case from before encryption
// and for one with a data key, and by the case's next change; afterwards it
// reads the same and no row holds it in plain form.
func TestLegacyMeetingLocationsAreSealed(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		plaintext bool // a case from before encryption
		seal      func(t *testing.T, s *Store, id string)
	}{
		{"re-encrypting a case from before encryption", true, func(t *testing.T, s *Store, id string) {
			if res, err := s.Reencrypt(context.Background()); err != nil || res != (ReencryptResult{Sealed: 1}) {
				t.Fatalf("Reencrypt = %+v, %v; want one case sealed", res, err)
			}
		}},
		{"re-encrypting a case with a data key", false, func(t *testing.T, s *Store, id string) {
			if res, err := s.Reencrypt(context.Background()); err != nil || res != (ReencryptResult{Locations: 1}) {
				t.Fatalf("Reencrypt = %+v, %v; want one case's locations sealed", res, err)
			}
		}},
		{"the case's next change", false, func(t *testing.T, s *Store, id string) {
			_, err := s.Update(context.Background(), "groups/riverside", id, func(c casefile.Case) (casefile.Change, error) {
				return casefile.Change{Case: c}, nil
			})
			if err != nil {
				t.Fatal(err)
			}
		}},
		{"a change of a case from before encryption", true, func(t *testing.T, s *Store, id string) {
			_, err := s.Update(context.Background(), "groups/riverside", id, func(c casefile.Case) (casefile.Change, error) {
				return casefile.Change{Case: c}, nil
			})
			if err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			pool := openDB(t)
			s := &Store{Pool: pool, Namespace: testenv.Namespace(t), Keys: keyring(t, "", keySetting(t, "k1"))}
			location := canary + " " + uuid.NewString()[:8] + " Elm Street"
			var id string
			if tt.plaintext {
				id = insertPlaintextCase(t, pool, secretsOf("legacy"), canary+" legacy note")
			} else {
				id = openCase(t, s, secretsOf("keyed"))
			}
			meeting := withLegacyLocation(t, pool, id, location)

			// Until sealed it reads as before.
			c, err := s.Get(ctx, "groups/riverside", id)
			if err != nil || len(c.Progress.Meetings) != 1 || c.Progress.Meetings[0].Location != location {
				t.Fatalf("before sealing: %+v, %v", c.Progress.Meetings, err)
			}
			if rowsHolding(t, pool, location) != 1 {
				t.Fatal("the legacy location is not in progress")
			}

			tt.seal(t, s, id)

			if n := rowsHolding(t, pool, location); n != 0 {
				t.Errorf("%d rows hold the location in plain form", n)
			}
			if n := rowsHolding(t, pool, canary); n != 0 {
				t.Errorf("%d rows hold the case's confidential text in plain form", n)
			}
			c, err = s.Get(ctx, "groups/riverside", id)
			if err != nil || len(c.Progress.Meetings) != 1 || c.Progress.Meetings[0].Location != "" || c.Progress.Meetings[0].Proposer != legacySPC {
				t.Errorf("after sealing, progress holds %+v, %v", c.Progress.Meetings, err)
			}
			docs, err := s.Documents(ctx, id, casefile.MeetingLocationDoc)
			if err != nil || len(docs) != 1 {
				t.Fatalf("location documents: %d, %v", len(docs), err)
			}
			d := docs[0]
			if d.Text != location || d.Subject != meeting || d.Author != legacySPC || d.AuthorRole != casefile.RoleSPC || d.Step != "offer_client_meeting" {
				t.Errorf("the location's document: %+v", d)
			}
			// Sealing again finds nothing more to do.
			if res, err := s.Reencrypt(ctx); err != nil || res != (ReencryptResult{}) {
				t.Errorf("Reencrypt after sealing = %+v, %v; want nothing done", res, err)
			}
			if docs, _ := s.Documents(ctx, id, casefile.MeetingLocationDoc); len(docs) != 1 {
				t.Errorf("%d location documents after sealing again", len(docs))
			}
			if strings.Contains(strings.Join(leaks(dump(t, pool)), ""), location) {
				t.Error("the dump shows the location")
			}
		})
	}
}
