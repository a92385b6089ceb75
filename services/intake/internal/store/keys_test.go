package store

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/ipnmediation/disputes/platform/postgres"
	"github.com/ipnmediation/disputes/platform/sealed"
	"github.com/ipnmediation/disputes/services/intake/internal/concern"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

const canary = "CANARY4417"

func keyring(t *testing.T, current string, settings ...string) *sealed.Keyring {
	t.Helper()
	k, err := sealed.ParseKeyring(strings.Join(settings, ","), current)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func keySetting(t *testing.T, id string) string {
	t.Helper()
	s, err := sealed.NewKeySetting(id)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func secretConcern(reference string) concern.Concern {
	c := sampleConcern(reference)
	c.Description, c.ClientName, c.DesiredOutcome = canary+" "+c.Description, canary+" "+c.ClientName, canary+" "+c.DesiredOutcome
	c.Contact.Email, c.Contact.Phone = strings.ToLower(canary)+"@example.org", "+44 20 "+canary
	return c
}

// confidentialDump is every confidential column as a plain SELECT shows it.
func confidentialDump(t *testing.T, pool *pgxpool.Pool) string {
	t.Helper()
	rows, err := pool.Query(context.Background(), `
		SELECT concat_ws(' ', description, client_name, client_email, client_phone, desired_outcome, wrapped_key) FROM concerns`)
	if err != nil {
		t.Fatal(err)
	}
	values, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return strings.ToUpper(strings.Join(values, "\n"))
}

// TestKeyRotation: rotate, read old and new rows, re-encrypt, remove the old
// key, read everything; a concern from before encryption is sealed by the
// re-encryption, and a dump never shows a sealed concern's plaintext. The
// concerns from before the desired outcome (migration 008), sealed or not,
// read with none.
func TestKeyRotation(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, pool := newStore(t)
	k1, k2 := keySetting(t, "k1"), keySetting(t, "k2")
	before := &Store{Pool: pool, Namespace: s.Namespace, Keys: keyring(t, "", k1), Emails: s.Emails}
	during := &Store{Pool: pool, Namespace: s.Namespace, Keys: keyring(t, "k2", k1, k2), Emails: s.Emails}
	after := &Store{Pool: pool, Namespace: s.Namespace, Keys: keyring(t, "", k2), Emails: s.Emails}

	// A concern registered before encryption, straight into the table; it
	// came before the desired outcome too.
	legacy := secretConcern("LGCY-0001")
	legacy.DesiredOutcome = ""
	_, err := pool.Exec(ctx, `
		INSERT INTO concerns (id, group_id, practitioner, client_name, description, client_email, client_phone,
		                      reference, access_code_hash, create_time)
		VALUES ($1, 'riverside', $2, $3, $4, $5, $6, $7, 'h', $8)`,
		legacy.ID, legacy.Practitioner, legacy.ClientName, legacy.Description, legacy.Contact.Email, legacy.Contact.Phone,
		legacy.Reference, legacy.CreateTime)
	if err != nil {
		t.Fatal(err)
	}
	old, fresh, handedOver := secretConcern("OLDC-0001"), secretConcern("NEWC-0001"), secretConcern("GONE-0001")
	// A concern sealed before the desired outcome: its column is NULL.
	sealedEarlier := secretConcern("SEAL-0001")
	sealedEarlier.DesiredOutcome = ""
	for _, x := range []struct {
		s *Store
		c concern.Concern
	}{{before, old}, {before, handedOver}, {before, sealedEarlier}, {during, fresh}} {
		if err := x.s.Create(ctx, x.c, "h", ""); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := pool.Exec(ctx, `UPDATE concerns SET desired_outcome = NULL WHERE id = $1`, sealedEarlier.ID); err != nil {
		t.Fatal(err)
	}
	err = postgres.InTx(ctx, pool, func(tx pgx.Tx) error { return during.HandOver(ctx, tx, handedOver.Name(), old.CreateTime) })
	if err != nil {
		t.Fatal(err)
	}
	var left string
	if err := pool.QueryRow(ctx, `SELECT concat_ws('|', description, client_name, client_email, client_phone, desired_outcome, wrapped_key) FROM concerns WHERE id = $1`,
		handedOver.ID).Scan(&left); err != nil || left != "|||" {
		t.Errorf("the handed-over concern still holds %q (%v); want every confidential column blank, the desired outcome and the data key NULL", left, err)
	}
	if n := strings.Count(confidentialDump(t, pool), canary); n != 4 {
		t.Errorf("the dump shows the canary %d times; want 4 (the concern from before encryption only)", n)
	}

	read := func(s *Store, stage string) {
		t.Helper()
		for _, want := range []concern.Concern{legacy, old, fresh, sealedEarlier} {
			got, err := s.Get(ctx, want.Group, want.ID)
			if err != nil {
				t.Errorf("%s: Get(%s): %v", stage, want.Reference, err)
				continue
			}
			if got.Description != want.Description || got.ClientName != want.ClientName || got.Contact != want.Contact || got.DesiredOutcome != want.DesiredOutcome {
				t.Errorf("%s: Get(%s) = %+v; want %+v", stage, want.Reference, got.Draft, want.Draft)
			}
		}
		if _, err := s.Get(ctx, handedOver.Group, handedOver.ID); !errors.Is(err, concern.ErrHandedOver) {
			t.Errorf("%s: Get of a handed-over concern: %v", stage, err)
		}
	}
	read(during, "during rotation")
	if _, err := after.Get(ctx, old.Group, old.ID); !errors.Is(err, sealed.ErrUnknownKey) {
		t.Errorf("reading a concern wrapped by a removed key before re-encryption: %v; want ErrUnknownKey", err)
	}

	for i, want := range []ReencryptResult{{Sealed: 1, Rewrapped: 2}, {}} {
		res, err := during.Reencrypt(ctx)
		if err != nil || res != want {
			t.Fatalf("Reencrypt run %d = %+v, %v; want %+v", i+1, res, err, want)
		}
	}
	if strings.Contains(confidentialDump(t, pool), canary) {
		t.Error("after re-encryption, the dump shows plaintext")
	}
	read(after, "with the old key removed")

	var keyIDs []string
	rows, err := pool.Query(ctx, `SELECT DISTINCT key_id FROM concerns WHERE key_id IS NOT NULL`)
	if err != nil {
		t.Fatal(err)
	}
	if keyIDs, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil || strings.Join(keyIDs, ",") != "k2" {
		t.Errorf("wrapping keys after re-encryption %v, %v; want k2", keyIDs, err)
	}
}
