package store

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/ipnmediation/disputes/services/intake/internal/concern"
	"github.com/ipnmediation/disputes/services/intake/internal/session"
)

func sampleSession(concernID string, created time.Time) session.Session {
	return session.Session{
		ID:           strings.ReplaceAll(uuid.NewString(), "-", "")[:16],
		ConcernID:    concernID,
		SecretSHA256: bytes.Repeat([]byte{7}, 32),
		CreateTime:   created,
		ExpireTime:   created.Add(time.Hour),
	}
}

func TestCredentialsAcrossGroups(t *testing.T) {
	t.Parallel()
	s, _ := newStore(t)
	ctx := context.Background()
	a := sampleConcern("K7QM-3XRD")
	b := sampleConcern("K7QM-3XRD")
	b.Group, b.Practitioner = "groups/hillside", "groups/hillside/members/jo-park"
	other := sampleConcern("AAAA-0001")
	for i, c := range []struct {
		c    concern.Concern
		hash string
	}{{a, "hash-a"}, {b, "hash-b"}, {other, "hash-other"}} {
		if err := s.Create(ctx, c.c, c.hash, ""); err != nil {
			t.Fatalf("Create %d: %v", i, err)
		}
	}
	got, err := s.Credentials(ctx, "K7QM-3XRD")
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(got, func(x, y session.Credential) int { return strings.Compare(x.AccessCodeHash, y.AccessCodeHash) })
	want := []session.Credential{
		{ConcernID: a.ID, Group: "groups/riverside", AccessCodeHash: "hash-a"},
		{ConcernID: b.ID, Group: "groups/hillside", AccessCodeHash: "hash-b"},
	}
	if !slices.Equal(got, want) {
		t.Errorf("Credentials = %+v; want %+v", got, want)
	}
	if got, err := s.Credentials(ctx, "ZZZZ-ZZZZ"); err != nil || len(got) != 0 {
		t.Errorf("Credentials of an unknown reference = %+v, %v; want none", got, err)
	}
}

func TestSessionRoundTripAndReplaceAccessCode(t *testing.T) {
	t.Parallel()
	s, pool := newStore(t)
	ctx := context.Background()
	c := sampleConcern("K7QM-3XRD")
	bystander := sampleConcern("AAAA-0001")
	for _, x := range []concern.Concern{c, bystander} {
		if err := s.Create(ctx, x, "old-hash", ""); err != nil {
			t.Fatal(err)
		}
	}
	created := time.Date(2026, 3, 4, 11, 0, 0, 0, time.UTC)
	first, second, other := sampleSession(c.ID, created), sampleSession(c.ID, created), sampleSession(bystander.ID, created)
	for _, x := range []session.Session{first, second, other} {
		if err := s.CreateSession(ctx, x, session.Rehash{}); err != nil {
			t.Fatal(err)
		}
	}

	got, err := s.GetSession(ctx, first.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := first
	want.Group = "groups/riverside"
	if got.ID != want.ID || got.ConcernID != want.ConcernID || got.Group != want.Group || !bytes.Equal(got.SecretSHA256, want.SecretSHA256) ||
		!got.CreateTime.Equal(want.CreateTime) || !got.ExpireTime.Equal(want.ExpireTime) || !got.RevokeTime.IsZero() {
		t.Errorf("GetSession = %+v; want %+v", got, want)
	}
	if _, err := s.GetSession(ctx, "nosuchsession000"); !errors.Is(err, session.ErrNotFound) {
		t.Errorf("GetSession of an unknown id = %v; want ErrNotFound", err)
	}

	if _, err := s.ReplaceAccessCode(ctx, "groups/hillside", c.ID, "new-hash", created); !errors.Is(err, session.ErrNotFound) {
		t.Errorf("ReplaceAccessCode of a concern in another group = %v; want ErrNotFound", err)
	}
	if _, err := s.ReplaceAccessCode(ctx, c.Group, uuid.NewString(), "new-hash", created); !errors.Is(err, session.ErrNotFound) {
		t.Errorf("ReplaceAccessCode of an unknown concern = %v; want ErrNotFound", err)
	}

	revoked := created.Add(time.Minute)
	ref, err := s.ReplaceAccessCode(ctx, c.Group, c.ID, "new-hash", revoked)
	if err != nil || ref != c.Reference {
		t.Fatalf("ReplaceAccessCode = %q, %v; want %q", ref, err, c.Reference)
	}
	var hash string
	if err := pool.QueryRow(ctx, `SELECT access_code_hash FROM concerns WHERE id = $1`, c.ID).Scan(&hash); err != nil || hash != "new-hash" {
		t.Errorf("stored hash %q, %v; want new-hash", hash, err)
	}
	for _, x := range []session.Session{first, second} {
		got, err := s.GetSession(ctx, x.ID)
		if err != nil || !got.RevokeTime.Equal(revoked) {
			t.Errorf("session of the concern: revoke time %v, %v; want %v", got.RevokeTime, err, revoked)
		}
	}
	if got, err := s.GetSession(ctx, other.ID); err != nil || !got.RevokeTime.IsZero() {
		t.Errorf("session of another concern: revoke time %v, %v; want none", got.RevokeTime, err)
	}
}

func TestFailures(t *testing.T) {
	t.Parallel()
	s, pool := newStore(t)
	ctx := context.Background()
	t0 := time.Date(2026, 3, 4, 11, 0, 0, 0, time.UTC)
	window := 15 * time.Minute
	record := func(ref string, at time.Time) {
		t.Helper()
		if err := s.RecordFailure(ctx, ref, at, at.Add(-window)); err != nil {
			t.Fatal(err)
		}
	}
	record("K7QM-3XRD", t0)
	record("AAAA-0001", t0.Add(time.Minute))
	record("K7QM-3XRD", t0.Add(2*time.Minute))

	tests := []struct {
		name  string
		since time.Time
		want  []time.Time
	}{
		{name: "all", since: t0.Add(-time.Second), want: []time.Time{t0, t0.Add(2 * time.Minute)}},
		{name: "one made exactly at since no longer counts", since: t0, want: []time.Time{t0.Add(2 * time.Minute)}},
		{name: "none", since: t0.Add(2 * time.Minute), want: nil},
	}
	for _, tt := range tests {
		got, err := s.Failures(ctx, "K7QM-3XRD", tt.since)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.EqualFunc(got, tt.want, time.Time.Equal) {
			t.Errorf("%s: Failures = %v; want %v", tt.name, got, tt.want)
		}
	}

	// A failure a window after the first forgets it, on every reference.
	record("ZZZZ-ZZZZ", t0.Add(window+time.Minute))
	var n int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM access_code_failures`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 2 {
		t.Errorf("%d attempts kept; want 2 (the newest of K7QM-3XRD and ZZZZ-ZZZZ's)", n)
	}

	// A new session forgets the refused attempts on its concern's reference.
	c := sampleConcern("K7QM-3XRD")
	if err := s.Create(ctx, c, "h", ""); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateSession(ctx, sampleSession(c.ID, t0), session.Rehash{}); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Failures(ctx, "K7QM-3XRD", t0.Add(-time.Hour)); err != nil || len(got) != 0 {
		t.Errorf("Failures after a new session = %v, %v; want none", got, err)
	}
	if got, err := s.Failures(ctx, "ZZZZ-ZZZZ", t0.Add(-time.Hour)); err != nil || len(got) != 1 {
		t.Errorf("another reference's attempts = %v, %v; want one", got, err)
	}
}

// TestLegacyHashesLeft: the store tells whether any argon2id hash is left,
// and a session's rehash replaces the hash that was checked and no other.
func TestLegacyHashesLeft(t *testing.T) {
	t.Parallel()
	s, pool := newStore(t)
	ctx := context.Background()
	wantLeft := func(want bool) {
		t.Helper()
		if left, err := s.LegacyHashesLeft(ctx); err != nil || left != want {
			t.Fatalf("LegacyHashesLeft = %v, %v; want %v", left, err, want)
		}
	}
	keyed, legacy := sampleConcern("AAAA-0001"), sampleConcern("AAAA-0002")
	if err := s.Create(ctx, keyed, "$hmac-sha256$k1$mac", ""); err != nil {
		t.Fatal(err)
	}
	wantLeft(false)
	if err := s.Create(ctx, legacy, "$argon2id$v=19$m=19456,t=2,p=1$salt$key", ""); err != nil {
		t.Fatal(err)
	}
	wantLeft(true)

	at := time.Date(2026, 3, 4, 11, 0, 0, 0, time.UTC)
	stale := session.Rehash{Old: "$argon2id$v=19$m=19456,t=2,p=1$other$key", New: "$hmac-sha256$k1$stale"}
	if err := s.CreateSession(ctx, sampleSession(legacy.ID, at), stale); err != nil {
		t.Fatal(err)
	}
	wantLeft(true)
	rehash := session.Rehash{Old: "$argon2id$v=19$m=19456,t=2,p=1$salt$key", New: "$hmac-sha256$k1$new"}
	if err := s.CreateSession(ctx, sampleSession(legacy.ID, at), rehash); err != nil {
		t.Fatal(err)
	}
	wantLeft(false)
	var hash string
	if err := pool.QueryRow(ctx, `SELECT access_code_hash FROM concerns WHERE id = $1`, legacy.ID).Scan(&hash); err != nil || hash != rehash.New {
		t.Fatalf("hash after the rehash = %q, %v; want %q", hash, err, rehash.New)
	}
}
