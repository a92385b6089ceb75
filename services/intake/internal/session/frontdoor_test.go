package session_test

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ipnmediation/disputes/platform/fault"
	"github.com/ipnmediation/disputes/platform/limit"
	"github.com/ipnmediation/disputes/platform/sealed"
	"github.com/ipnmediation/disputes/services/intake/internal/accesscode"
	"github.com/ipnmediation/disputes/services/intake/internal/session"
)

// countingHasher counts the HMAC and argon2id computations, the work that
// would tell a known reference from an unknown one by time.
type countingHasher struct {
	accesscode.Hasher
	keyed, legacy atomic.Int64
}

func (c *countingHasher) Verify(code, hash string) (bool, bool, error) {
	c.keyed.Add(1)
	return c.Hasher.Verify(code, hash)
}

func (c *countingHasher) VerifyLegacy(ctx context.Context, code, phc string) (bool, error) {
	c.legacy.Add(1)
	return c.Hasher.VerifyLegacy(ctx, code, phc)
}

// TestBruteForce is the acceptance test of the public door: a brute-force
// run of access codes sees the lockout, with no message or work difference
// between a known and an unknown reference, whatever kind of hash the known
// one has. Work is counted in HMAC and argon2id computations rather than
// timed, which would be flaky; BenchmarkRefusal times them. Each refusal is
// one HMAC; while any argon2id hash is left in the store, it is one
// argon2id computation as well, for every reference alike, so that a
// concern from before keyed hashing does not stand out by its slowness.
func TestBruteForce(t *testing.T) {
	t.Parallel()
	for _, legacyLeft := range []bool{false, true} {
		t.Run(fmt.Sprintf("argon2id hashes left=%v", legacyLeft), func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			h := &countingHasher{Hasher: f.svc.Hasher}
			current := f.addConcern(t, "groups/riverside", "")
			oldCode, _ := accesscode.NewAccessCode()
			oldHash, err := f.oldKeys.Hash(oldCode)
			if err != nil {
				t.Fatal(err)
			}
			older := f.addConcernHashed(t, "groups/riverside", "", oldCode, oldHash)
			targets := []struct{ name, reference, code string }{
				{"unknown reference", "ZZZZ-ZZZZ", current.code},
				{"hash under the current key", current.Reference, current.code},
				{"hash under an older key", older.Reference, older.code},
			}
			var wantArgon2 int64
			if legacyLeft {
				legacy := f.addConcernHashed(t, "groups/riverside", "", legacyCode, legacyCodeHash)
				targets = append(targets, struct{ name, reference, code string }{"argon2id hash", legacy.Reference, legacy.code})
				wantArgon2 = 1
			}
			f.svc.Hasher = h
			wrong, err := accesscode.NewAccessCode()
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()

			type run struct {
				refusals []*fault.Error
				lockout  *fault.Error
			}
			attack := func(t *testing.T, reference, right string) run {
				var r run
				for i := range 10 {
					keyed, legacy := h.keyed.Load(), h.legacy.Load()
					_, err := f.svc.Create(ctx, reference, wrong)
					r.refusals = append(r.refusals, wantFault(t, err, fault.Unauthenticated, "INVALID_ACCESS_CODE"))
					if n, m := h.keyed.Load()-keyed, h.legacy.Load()-legacy; n != 1 || m != wantArgon2 {
						t.Errorf("refusal #%d took %d HMAC and %d argon2id computations; want 1 and %d", i, n, m, wantArgon2)
					}
				}
				keyed, legacy := h.keyed.Load(), h.legacy.Load()
				_, err := f.svc.Create(ctx, reference, right)
				r.lockout = wantFault(t, err, fault.ResourceExhausted, "TOO_MANY_ATTEMPTS")
				if n, m := h.keyed.Load()-keyed, h.legacy.Load()-legacy; n+m != 0 {
					t.Errorf("a locked-out attempt hashed %d times; want none", n+m)
				}
				return r
			}
			var unknown run
			for i, target := range targets {
				// Not in parallel: the counts are the hasher's.
				t.Run(target.name, func(t *testing.T) {
					got := attack(t, target.reference, target.code)
					if i == 0 {
						unknown = got
						return
					}
					for i := range got.refusals {
						if got.refusals[i].Message != unknown.refusals[i].Message || len(got.refusals[i].Metadata)+len(unknown.refusals[i].Metadata) != 0 {
							t.Errorf("refusal #%d: %+v, for an unknown reference %+v; want the same", i, got.refusals[i], unknown.refusals[i])
						}
					}
					if got.lockout.Message != unknown.lockout.Message || got.lockout.Metadata["retryTime"] != unknown.lockout.Metadata["retryTime"] ||
						got.lockout.RetryDelay != unknown.lockout.RetryDelay || got.lockout.RetryDelay != 15*time.Minute {
						t.Errorf("lockouts differ or do not say when: %+v, for an unknown reference %+v", got.lockout, unknown.lockout)
					}
					if strings.Contains(got.lockout.Message, target.reference) {
						t.Errorf("the lockout names the reference: %q", got.lockout.Message)
					}
				})
			}
		})
	}
}

// BenchmarkRefusal times a refused attempt on a known and on an unknown
// reference, which should cost the same: one HMAC each, and one argon2id
// computation each as well while argon2id hashes are left. The store is in
// memory, so that only the hashing is timed.
func BenchmarkRefusal(b *testing.B) {
	setting, err := sealed.NewKeySetting("k1")
	if err != nil {
		b.Fatal(err)
	}
	keys, err := accesscode.ParseKeys(setting, "")
	if err != nil {
		b.Fatal(err)
	}
	code, _ := accesscode.NewAccessCode()
	hash, err := keys.Hash(code)
	if err != nil {
		b.Fatal(err)
	}
	wrong, _ := accesscode.NewAccessCode()
	const known, legacy = "K7QM-3XRD", "M3XR-K7QD"
	creds := map[string][]session.Credential{
		known:  {{ConcernID: "c", Group: "groups/g", AccessCodeHash: hash}},
		legacy: {{ConcernID: "l", Group: "groups/g", AccessCodeHash: legacyCodeHash}},
	}
	for _, tt := range []struct {
		name, reference string
		legacyLeft      bool
	}{
		{"known", known, false},
		{"unknown", "ZZZZ-ZZZZ", false},
		{"argon2id left/known", known, true},
		{"argon2id left/known argon2id", legacy, true},
		{"argon2id left/unknown", "ZZZZ-ZZZZ", true},
	} {
		svc := &session.Service{Store: memStore{creds: creds, legacyLeft: tt.legacyLeft}, Hasher: accesscode.NewHashing(keys, 1, time.Minute)}
		b.Run(tt.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := svc.Create(context.Background(), tt.reference, wrong); !fault.IsKind(err, fault.Unauthenticated) {
					b.Fatal(err)
				}
			}
		})
	}
}

// memStore holds credentials and never counts a failure.
type memStore struct {
	creds      map[string][]session.Credential
	legacyLeft bool
}

func (m memStore) Credentials(_ context.Context, reference string) ([]session.Credential, error) {
	return m.creds[reference], nil
}

func (m memStore) LegacyHashesLeft(context.Context) (bool, error) { return m.legacyLeft, nil }

func (memStore) CreateSession(context.Context, session.Session, session.Rehash) error { return nil }

func (memStore) GetSession(context.Context, string) (session.Session, error) {
	return session.Session{}, session.ErrNotFound
}

func (memStore) EndSession(context.Context, string, time.Time) error { return nil }

func (memStore) ReplaceAccessCode(context.Context, string, string, string, time.Time) (string, error) {
	return "", session.ErrNotFound
}

func (memStore) Failures(context.Context, string, time.Time) ([]time.Time, error) { return nil, nil }

func (memStore) RecordFailure(context.Context, string, time.Time, time.Time) error { return nil }

func TestAddressLimit(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	a := f.addConcern(t, "groups/riverside", "")
	b := f.addConcern(t, "groups/riverside", "")
	f.svc.AddressLimit = &limit.Limiter{Store: f.store, Rule: limit.Rule{Bucket: "session", Max: 3, Window: 15 * time.Minute}}
	const here, there = "203.0.113.9/32", "198.51.100.0/32"
	ctx := context.Background()
	steps := []struct {
		name            string
		at              time.Duration
		source          string
		reference, code string
		wantReason      string
		wantRetry       time.Duration // from start, for TOO_MANY_ATTEMPTS
	}{
		{name: "wrong code on one reference", source: here, reference: a.Reference, code: b.code, wantReason: "INVALID_ACCESS_CODE"},
		{name: "malformed code counts too", at: time.Minute, source: here, reference: b.Reference, code: "nonsense", wantReason: "INVALID_ACCESS_CODE"},
		{name: "right code counts too", at: 2 * time.Minute, source: here, reference: b.Reference, code: b.code},
		{name: "locked out, right code and another reference alike", at: 3 * time.Minute, source: here, reference: a.Reference, code: a.code,
			wantReason: "TOO_MANY_ATTEMPTS", wantRetry: 15 * time.Minute},
		{name: "unknown reference alike", at: 3 * time.Minute, source: here, reference: "ZZZZ-ZZZZ", code: a.code,
			wantReason: "TOO_MANY_ATTEMPTS", wantRetry: 15 * time.Minute},
		{name: "another address is not", at: 3 * time.Minute, source: there, reference: a.Reference, code: a.code},
		{name: "unknown address is not limited", at: 3 * time.Minute, source: "", reference: a.Reference, code: a.code},
		{name: "open again once the first aged out", at: 15 * time.Minute, source: here, reference: a.Reference, code: a.code},
		{name: "and shut until the second does", at: 15 * time.Minute, source: here, reference: a.Reference, code: a.code,
			wantReason: "TOO_MANY_ATTEMPTS", wantRetry: 16 * time.Minute},
	}
	for _, s := range steps {
		f.clock.Set(start.Add(s.at))
		_, err := f.svc.CreateFrom(ctx, s.source, s.reference, s.code)
		switch s.wantReason {
		case "":
			if err != nil {
				t.Fatalf("%s: %v", s.name, err)
			}
		case "TOO_MANY_ATTEMPTS":
			fe := wantFault(t, err, fault.ResourceExhausted, s.wantReason)
			retry := start.Add(s.wantRetry).Format(time.RFC3339)
			if fe.Metadata["retryTime"] != retry || !strings.Contains(fe.Message, retry) || fe.RetryDelay != s.wantRetry-s.at {
				t.Errorf("%s: %+v; want retry at %s", s.name, fe, retry)
			}
		default:
			wantFault(t, err, fault.Unauthenticated, s.wantReason)
		}
	}
}
