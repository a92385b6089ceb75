package store

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/ipnmediation/disputes/services/intake/internal/session"
	"github.com/jackc/pgx/v5"
)

// TestFillEmailHashes: concerns registered before the e-mail hashes were
// kept (their hash NULL) get one when intake starts if intake still holds
// the address, and are found by it; a handed-over one, whose address is
// gone, gets an empty hash and is found by nothing; a second pass changes
// nothing. Forgetting a purged concern deletes its links.
func TestFillEmailHashes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, pool := newStore(t)
	held, gone := sampleConcern("HELD-0001"), sampleConcern("GONE-0001")
	if err := s.Create(ctx, held, "hash", ""); err != nil {
		t.Fatal(err)
	}
	if err := s.Create(ctx, gone, "hash", ""); err != nil {
		t.Fatal(err)
	}
	if err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error { return s.HandOver(ctx, tx, gone.Name(), time.Now()) }); err != nil {
		t.Fatal(err)
	}
	// As a release before the hashes left them.
	if _, err := pool.Exec(ctx, `UPDATE concerns SET client_email_hash = NULL`); err != nil {
		t.Fatal(err)
	}
	hashes := s.Emails.EmailHashes(held.Contact.Email)
	if found, err := s.ClientCases(ctx, held.Group, hashes, 5); err != nil || len(found) != 0 {
		t.Fatalf("before the pass: %+v, %v; want nothing found", found, err)
	}
	for pass, want := range []int{1, 0} {
		if n, err := s.FillEmailHashes(ctx); err != nil || n != want {
			t.Errorf("pass %d hashed %d, %v; want %d", pass+1, n, err, want)
		}
	}
	found, err := s.ClientCases(ctx, held.Group, hashes, 5)
	if err != nil || len(found) != 1 || found[0].ConcernID != held.ID || found[0].Reference != held.Reference {
		t.Errorf("after the pass: %+v, %v; want the concern still held", found, err)
	}
	var empty int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM concerns WHERE client_email_hash = ''`).Scan(&empty); err != nil || empty != 1 {
		t.Errorf("empty hashes %d, %v; want the handed-over concern's", empty, err)
	}

	link := session.SignInLink{SecretSHA256: []byte("0123456789abcdef0123456789abcdef"), ConcernID: held.ID, CreateTime: time.Now(), ExpireTime: time.Now().Add(time.Minute)}
	if err := s.CreateSignInLinks(ctx, []session.SignInLink{link}); err != nil {
		t.Fatal(err)
	}
	if err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error { return s.Forget(ctx, tx, held.Name()) }); err != nil {
		t.Fatalf("Forget a concern with a link: %v", err)
	}
	if _, err := s.UseSignInLink(ctx, link.SecretSHA256, nil); !errors.Is(err, session.ErrNotFound) {
		t.Errorf("the link after the concern was forgotten: %v; want not found", err)
	}
}
