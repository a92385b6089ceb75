package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/ipnmediation/disputes/platform/postgres"
	"github.com/ipnmediation/disputes/platform/sealed"
	"github.com/ipnmediation/disputes/platform/testenv"
	"github.com/ipnmediation/disputes/services/casework/internal/casefile"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// canary marks every confidential value the tests write, so that a dump can
// be searched for it.
const canary = "CANARY7731"

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

func secretsOf(tag string) casefile.Confidential {
	return casefile.Confidential{
		Description:    canary + " " + tag + ": my sessions ended early",
		DesiredOutcome: canary + " " + tag + ": an apology",
		ClientName:     canary + " " + tag + " Sam",
		ClientEmail:    strings.ToLower(canary) + "." + tag + "@client.example.net",
		ClientPhone:    "+44 20 7946 " + canary,
	}
}

// withoutOutcome is conf as a case opened before the desired outcome
// (migration 008) holds it: with none.
func withoutOutcome(conf casefile.Confidential) casefile.Confidential {
	conf.DesiredOutcome = ""
	return conf
}

// openCase opens a new case through the store, as the consumer does.
func openCase(t *testing.T, s *Store, conf casefile.Confidential) string {
	t.Helper()
	id := uuid.NewString()
	c := casefile.Case{
		ID: id, Group: "groups/riverside", Concern: "groups/riverside/concerns/" + id, Reference: "ABCD-EFGH",
		Therapist: "groups/riverside/members/alex-moss", Phase: "REGISTERED", RegisterTime: registered,
		Deadline: registered.Add(56 * day), FirstResponseDeadline: registered.Add(14 * day), Version: 1,
		CreateTime: registered, Procedure: "procedures/ipn-disputes-v1",
	}
	err := postgres.InTx(context.Background(), s.Pool, func(tx pgx.Tx) error {
		ok, err := s.Open(context.Background(), tx, casefile.Opening{Case: c, Confidential: conf})
		if err == nil && !ok {
			err = errors.New("case not opened")
		}
		return err
	})
	if err != nil {
		t.Fatalf("open case: %v", err)
	}
	return id
}

// insertPlaintextCase writes a case and a note as casework did before
// encryption at rest, straight into the tables; such a case came before the
// desired outcome too, which it leaves NULL.
func insertPlaintextCase(t *testing.T, pool *pgxpool.Pool, conf casefile.Confidential, note string) string {
	t.Helper()
	id := insertCase(t, pool, testCase{})
	_, err := pool.Exec(context.Background(), `
		UPDATE cases SET concern_text = $2, client_name = $3, client_email = $4, client_phone = $5 WHERE id = $1`,
		id, conf.Description, conf.ClientName, conf.ClientEmail, conf.ClientPhone)
	if err != nil {
		t.Fatal(err)
	}
	_, err = pool.Exec(context.Background(), `
		INSERT INTO documents (id, case_id, kind, author, author_role, body, create_time)
		VALUES ($1, $2, 'NOTE', 'groups/riverside/members/bea-lind', 'ROLE_SPC', $3, $4)`,
		uuid.NewString(), id, fmt.Sprintf(`{"text": %q}`, note), registered)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// addDocuments writes a note and a written statement to the case, then
// adds constraints to the statement, as steps would.
func addDocuments(t *testing.T, s *Store, caseID, tag string) {
	t.Helper()
	ctx := context.Background()
	statement := casefile.Document{
		ID: uuid.NewString(), CaseID: caseID, Kind: casefile.WrittenStatementDoc, Author: casefile.ClientActor,
		AuthorRole: casefile.RoleClient, Version: 1, CreateTime: registered.Add(time.Hour),
		Statement: &casefile.Statement{Concern: canary + " " + tag + " (a)", DesiredOutcome: canary + " (b)", Summary: canary + " summary"},
	}
	note := casefile.Document{
		ID: uuid.NewString(), CaseID: caseID, Kind: casefile.NoteDoc, Author: "groups/riverside/members/bea-lind",
		AuthorRole: casefile.RoleSPC, CreateTime: registered.Add(2 * time.Hour), Text: canary + " " + tag + " note",
	}
	for _, ch := range []casefile.Change{
		{Created: []casefile.Document{statement, note}},
		{Amended: []casefile.Document{{ID: statement.ID, CaseID: caseID, Statement: &casefile.Statement{
			Constraints: &casefile.Constraints{Withheld: []string{canary + " detail"}, Other: canary + " other"}}}}},
	} {
		_, err := s.Update(ctx, "groups/riverside", caseID, func(c casefile.Case) (casefile.Change, error) {
			ch.Case = c
			return ch, nil
		})
		if err != nil {
			t.Fatalf("update case: %v", err)
		}
	}
}

// readable is what a case holds in trust, as read through the store.
func readable(t *testing.T, s *Store, caseID string) (casefile.Confidential, []string) {
	t.Helper()
	ctx := context.Background()
	conf, err := s.Confidential(ctx, caseID)
	if err != nil {
		t.Fatalf("Confidential(%s): %v", caseID, err)
	}
	docs, err := s.Documents(ctx, caseID, casefile.NoteDoc, casefile.WrittenStatementDoc)
	if err != nil {
		t.Fatalf("Documents(%s): %v", caseID, err)
	}
	var texts []string
	for _, d := range docs {
		text := d.Text
		if st := d.Statement; st != nil {
			text = st.Concern + "|" + st.DesiredOutcome + "|" + st.Summary
			if st.Constraints != nil {
				text += "|" + strings.Join(st.Constraints.Withheld, ",") + "|" + st.Constraints.Other
			}
		}
		texts = append(texts, string(d.Kind)+": "+text)
	}
	return conf, texts
}

// dump is every confidential column as a plain SELECT shows it, as a leaked
// dump or backup would.
func dump(t *testing.T, pool *pgxpool.Pool) []string {
	t.Helper()
	rows, err := pool.Query(context.Background(), `
		SELECT id::text, concat_ws(' ', concern_text, client_name, client_email, client_phone, desired_outcome) FROM cases
		UNION ALL SELECT case_id::text, body FROM documents
		UNION ALL SELECT case_id::text, wrapped_key FROM case_keys`)
	if err != nil {
		t.Fatal(err)
	}
	values, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (string, error) {
		var id, v string
		err := r.Scan(&id, &v)
		return id + " " + v, err
	})
	if err != nil {
		t.Fatal(err)
	}
	return values
}

func leaks(values []string) []string {
	var out []string
	for _, v := range values {
		if strings.Contains(strings.ToUpper(v), canary) {
			out = append(out, v)
		}
	}
	return out
}

func keyIDs(t *testing.T, pool *pgxpool.Pool) map[string]string {
	t.Helper()
	out := map[string]string{}
	rows, err := pool.Query(context.Background(), `SELECT case_id::text, key_id FROM case_keys`)
	if err != nil {
		t.Fatal(err)
	}
	var id, key string
	if _, err := pgx.ForEachRow(rows, []any{&id, &key}, func() error { out[id] = key; return nil }); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestKeyRotation is issue 5's acceptance test: rotate, read old and new
// rows, re-encrypt, remove the old key, read everything; and at every stage
// a dump of the confidential columns shows none of the plaintext. The cases
// from before the desired outcome (migration 008), sealed or not, read with
// none.
func TestKeyRotation(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := openDB(t)
	ns := testenv.Namespace(t)
	k2025, k2026 := keySetting(t, "k2025"), keySetting(t, "k2026")
	before := &Store{Pool: pool, Namespace: ns, Keys: keyring(t, "", k2025)}
	during := &Store{Pool: pool, Namespace: ns, Keys: keyring(t, "k2026", k2025, k2026)}
	after := &Store{Pool: pool, Namespace: ns, Keys: keyring(t, "", k2026)}

	// Cases from before encryption: one gets a document (and so its key)
	// during the rotation, the other is left for the re-encrypt command.
	legacyWritten := insertPlaintextCase(t, pool, secretsOf("legacy-written"), canary+" legacy note 1")
	legacyIdle := insertPlaintextCase(t, pool, secretsOf("legacy-idle"), canary+" legacy note 2")

	old := openCase(t, before, secretsOf("old"))
	addDocuments(t, before, old, "old")
	// A case sealed before the desired outcome: its column is NULL.
	sealedEarlier := openCase(t, before, withoutOutcome(secretsOf("sealed-earlier")))
	if _, err := pool.Exec(ctx, `UPDATE cases SET desired_outcome = NULL WHERE id = $1`, sealedEarlier); err != nil {
		t.Fatal(err)
	}
	if got := leaks(dump(t, pool)); len(got) != 4 {
		t.Errorf("before rotation, the dump shows %d plaintext rows; want the 4 of the cases from before encryption: %q", len(got), got)
	}

	// Rotate: new cases' keys are wrapped by the new key; old rows still read.
	fresh := openCase(t, during, secretsOf("new"))
	addDocuments(t, during, fresh, "new")
	addDocuments(t, during, legacyWritten, "legacy-written")
	if got, want := keyIDs(t, pool), map[string]string{old: "k2025", fresh: "k2026", legacyWritten: "k2026", sealedEarlier: "k2025"}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("wrapping keys after rotation %v; want %v", got, want)
	}
	want := map[string]casefile.Confidential{}
	wantDocs := map[string][]string{}
	for id, tag := range map[string]string{old: "old", fresh: "new", legacyWritten: "legacy-written", legacyIdle: "legacy-idle", sealedEarlier: "sealed-earlier"} {
		want[id] = secretsOf(tag)
		if id == legacyWritten || id == legacyIdle || id == sealedEarlier {
			want[id] = withoutOutcome(want[id])
		}
		conf, docs := readable(t, during, id)
		if conf != want[id] {
			t.Errorf("case %s (%s) during rotation: confidential %+v; want %+v", id, tag, conf, want[id])
		}
		wantDocs[id] = docs
	}
	for _, id := range []string{old, fresh, legacyWritten} {
		if len(wantDocs[id]) < 2 || !strings.Contains(strings.Join(wantDocs[id], "\n"), canary+" detail|") {
			t.Errorf("case %s: documents %q; want the note and the statement with its constraints", id, wantDocs[id])
		}
	}
	if got := leaks(dump(t, pool)); len(got) != 2 {
		t.Errorf("during rotation, the dump shows %d plaintext rows; want the 2 of the idle case from before encryption: %q", len(got), got)
	}

	// Without the old key, the old case cannot be read yet.
	if _, err := after.Confidential(ctx, old); !errors.Is(err, sealed.ErrUnknownKey) {
		t.Errorf("reading a case wrapped by a removed key before re-encryption: %v; want ErrUnknownKey", err)
	}

	// Re-encrypt, twice: the second run finds nothing to do.
	for i, wantRes := range []ReencryptResult{{Sealed: 1, Rewrapped: 2}, {}} {
		res, err := during.Reencrypt(ctx)
		if err != nil || res != wantRes {
			t.Fatalf("Reencrypt run %d = %+v, %v; want %+v", i+1, res, err, wantRes)
		}
	}
	if got := leaks(dump(t, pool)); len(got) != 0 {
		t.Errorf("after re-encryption, the dump shows plaintext: %q", got)
	}

	// Remove the old key: everything still reads, the same as before.
	for id, w := range want {
		conf, docs := readable(t, after, id)
		if conf != w || strings.Join(docs, "\n") != strings.Join(wantDocs[id], "\n") {
			t.Errorf("case %s with the old key removed: %+v %q; want %+v %q", id, conf, docs, w, wantDocs[id])
		}
	}
	for id, key := range keyIDs(t, pool) {
		if key != "k2026" {
			t.Errorf("case %s: data key wrapped by %q after re-encryption; want k2026", id, key)
		}
	}
}

// TestCiphertextBoundToItsRow checks that a ciphertext moved to another row
// or column does not open, and that the error shows no plaintext.
func TestCiphertextBoundToItsRow(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := openDB(t)
	s := &Store{Pool: pool, Namespace: testenv.Namespace(t), Keys: keyring(t, "", keySetting(t, "k1"))}
	a, b := openCase(t, s, secretsOf("a")), openCase(t, s, secretsOf("b"))
	addDocuments(t, s, b, "b")

	tests := []struct {
		name, sql string
	}{
		{"another case's text", `UPDATE cases SET concern_text = (SELECT concern_text FROM cases WHERE id = $2) WHERE id = $1`},
		{"another column", `UPDATE cases SET client_name = client_email WHERE id = $1 AND $2::uuid IS NOT NULL`},
		{"the concern's text as the desired outcome", `UPDATE cases SET desired_outcome = concern_text WHERE id = $1 AND $2::uuid IS NOT NULL`},
		{"another case's desired outcome", `UPDATE cases SET desired_outcome = (SELECT desired_outcome FROM cases WHERE id = $2) WHERE id = $1`},
		{"another case's key", `UPDATE case_keys SET wrapped_key = (SELECT wrapped_key FROM case_keys WHERE case_id = $2) WHERE case_id = $1`},
		{"a document from another case", `UPDATE cases SET concern_text = (SELECT body FROM documents WHERE case_id = $2 LIMIT 1) WHERE id = $1`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tx, err := pool.Begin(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer tx.Rollback(ctx) //nolint:errcheck // the test's change is undone
			if _, err := tx.Exec(ctx, tt.sql, a, b); err != nil {
				t.Fatal(err)
			}
			_, err = s.confidential(ctx, tx, a)
			if !errors.Is(err, sealed.ErrTampered) && !errors.Is(err, sealed.ErrUnknownKey) {
				t.Errorf("reading the tampered case: %v; want ErrTampered or ErrUnknownKey", err)
			}
			if err != nil && strings.Contains(err.Error(), canary) {
				t.Errorf("error %q shows plaintext", err)
			}
		})
	}
}
