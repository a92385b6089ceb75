package app

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/ipnmediation/disputes/platform/config"
	"github.com/ipnmediation/disputes/platform/sealed"
	caseworkv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/casework/v1"
	"github.com/ipnmediation/disputes/services/casework/internal/casefile"
	"github.com/ipnmediation/disputes/services/casework/internal/store"
)

// TestReencryptCommand runs the binary's -reencrypt mode (Run with
// Reencrypt set) beside a serving casework after a key rotation: every data
// key ends up wrapped by the new key, and with the new key alone everything
// still reads.
func TestReencryptCommand(t *testing.T) {
	t.Parallel()
	e := startCasework(t)
	ctx := context.Background()
	w := e.openWalk(t, "RKEY"+strings.ToUpper(uuid.NewString()[:8]))
	w.do(t, "appoint", "offer_client", "accept_client", "write")
	// The client's meeting as casework recorded it before meeting locations
	// were sealed: its location in plaintext inside progress.
	id := strings.TrimPrefix(w.name, "groups/riverside/cases/")
	location := "LEGACY" + strings.ToUpper(uuid.NewString()[:8]) + " Elm Street"
	if _, err := e.db.Exec(ctx, `DELETE FROM documents WHERE case_id = $1 AND kind = 'MEETING_LOCATION'`, id); err != nil {
		t.Fatal(err)
	}
	if _, err := e.db.Exec(ctx, `UPDATE cases SET progress = jsonb_set(progress, '{meetings,0,location}', to_jsonb($2::text)) WHERE id = $1`, id, location); err != nil {
		t.Fatal(err)
	}
	meetings, err := w.clients[asClient].ListMeetings(ctx, &caseworkv1.ListMeetingsRequest{Parent: w.name})
	if err != nil || len(meetings.GetMeetings()) != 1 || meetings.GetMeetings()[0].GetLocation() != location {
		t.Fatalf("the client's meetings before re-encrypting: %v %v", meetings, err)
	}

	// Rotate: a new key becomes current; the old one stays listed.
	newID := "rotated-" + uuid.NewString()[:8]
	newKey, err := sealed.NewKeySetting(newID)
	if err != nil {
		t.Fatal(err)
	}
	rotated := config.Keys{EncryptionKeys: e.keys.EncryptionKeys + "," + newKey, EncryptionKeyID: newID}
	cfg := Config{
		Service: config.Service{DatabaseURL: e.dbURL, DatabaseSchema: "casework", LogLevel: "warn"},
		Keys:    rotated, Reencrypt: true,
	}
	runCtx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := Run(runCtx, cfg); err != nil {
		t.Fatalf("casework -reencrypt: %v", err)
	}
	if n := e.count(t, `SELECT count(*) FROM case_keys WHERE key_id <> $1`, newID); n != 0 {
		t.Errorf("%d data keys still wrapped by the old key", n)
	}
	if n := e.count(t, `SELECT count(*) FROM case_keys`); n == 0 {
		t.Fatal("no data keys at all")
	}
	// The meeting location is sealed (read below with the new key alone).
	if found := e.plainRows(t, location); len(found) > 0 {
		t.Errorf("the meeting location in plain form after re-encrypting: %v", found)
	}
	// Only the new key now: everything still opens.
	onlyNew, err := sealed.FromConfig(config.Keys{EncryptionKeys: newKey, EncryptionKeyID: newID})
	if err != nil {
		t.Fatal(err)
	}
	st := &store.Store{Pool: e.db, Keys: onlyNew}
	conf, err := st.Confidential(ctx, id)
	if err != nil || conf.Description != w.concern.GetDescription() || conf.DesiredOutcome != w.concern.GetDesiredOutcome() ||
		conf.ClientEmail != w.concern.GetClientContact().GetEmail() {
		t.Errorf("the concern with the new key alone: %v", err)
	}
	docs, err := st.Documents(ctx, id, casefile.WrittenStatementDoc)
	if err != nil || len(docs) != 1 || !strings.Contains(docs[0].Statement.Concern, w.marker()) {
		t.Errorf("the statement with the new key alone: %d documents, %v", len(docs), err)
	}
	docs, err = st.Documents(ctx, id, casefile.MeetingLocationDoc)
	if err != nil || len(docs) != 1 || docs[0].Text != location || docs[0].Subject != w.meetings[clientMeeting] {
		t.Errorf("the meeting location with the new key alone: %+v, %v", docs, err)
	}
}
