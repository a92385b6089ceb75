package app

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/ipnmediation/disputes/platform/config"
	"github.com/ipnmediation/disputes/platform/sealed"
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
	// Only the new key now: everything still opens.
	onlyNew, err := sealed.FromConfig(config.Keys{EncryptionKeys: newKey, EncryptionKeyID: newID})
	if err != nil {
		t.Fatal(err)
	}
	st := &store.Store{Pool: e.db, Keys: onlyNew}
	id := strings.TrimPrefix(w.name, "groups/riverside/cases/")
	conf, err := st.Confidential(ctx, id)
	if err != nil || conf.Description != w.concern.GetDescription() || conf.ClientEmail != w.concern.GetClientContact().GetEmail() {
		t.Errorf("the concern with the new key alone: %v", err)
	}
	docs, err := st.Documents(ctx, id, casefile.WrittenStatementDoc)
	if err != nil || len(docs) != 1 || !strings.Contains(docs[0].Statement.Concern, w.marker()) {
		t.Errorf("the statement with the new key alone: %d documents, %v", len(docs), err)
	}
}
