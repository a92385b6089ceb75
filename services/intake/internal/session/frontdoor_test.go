package session_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ipnmediation/disputes/platform/fault"
	"github.com/ipnmediation/disputes/services/intake/internal/accesscode"
	"github.com/ipnmediation/disputes/services/intake/internal/limit"
	"github.com/ipnmediation/disputes/services/intake/internal/session"
)

// countingHasher counts the argon2id computations, the work that would
// tell a known reference from an unknown one by time.
type countingHasher struct{ hashes, verifies atomic.Int64 }

func (c *countingHasher) Hash(ctx context.Context, code string) (string, error) {
	c.hashes.Add(1)
	return accesscode.Unbounded{}.Hash(ctx, code)
}

func (c *countingHasher) Verify(ctx context.Context, code, phc string) (bool, error) {
	c.verifies.Add(1)
	return accesscode.Unbounded{}.Verify(ctx, code, phc)
}

// TestBruteForce is the acceptance test: a brute-force run of access
// codes sees the lockout, with no message or work difference between a
// known and an unknown reference. Work is counted in argon2id computations
// rather than timed, which would be flaky; BenchmarkRefusal times them.
func TestBruteForce(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	known := f.addConcern(t, "groups/riverside", "")
	const unknown = "ZZZZ-ZZZZ"
	wrong, err := accesscode.NewAccessCode()
	if err != nil {
		t.Fatal(err)
	}
	h := &countingHasher{}
	f.svc.Hasher = h
	ctx := context.Background()

	type run struct {
		refusals []*fault.Error
		verifies []int64
		lockout  *fault.Error
	}
	attack := func(reference string) run {
		var r run
		for range 10 {
			before := h.verifies.Load()
			_, err := f.svc.Create(ctx, reference, wrong)
			r.refusals = append(r.refusals, wantFault(t, err, fault.Unauthenticated, "INVALID_ACCESS_CODE"))
			r.verifies = append(r.verifies, h.verifies.Load()-before)
		}
		before := h.verifies.Load()
		_, err := f.svc.Create(ctx, reference, known.code) // the right code, for the known one
		r.lockout = wantFault(t, err, fault.ResourceExhausted, "TOO_MANY_ATTEMPTS")
		if n := h.verifies.Load() - before; n != 0 {
			t.Errorf("a locked-out attempt on %s hashed %d times; want none", reference, n)
		}
		return r
	}
	k, u := attack(known.Reference), attack(unknown)
	for i := range k.refusals {
		if k.refusals[i].Message != u.refusals[i].Message || len(k.refusals[i].Metadata)+len(u.refusals[i].Metadata) != 0 {
			t.Errorf("refusal #%d: known %+v, unknown %+v; want the same", i, k.refusals[i], u.refusals[i])
		}
		if k.verifies[i] != 1 || u.verifies[i] != 1 {
			t.Errorf("refusal #%d took %d argon2id checks for the known reference and %d for the unknown; want exactly 1 each", i, k.verifies[i], u.verifies[i])
		}
	}
	if k.lockout.Message != u.lockout.Message || k.lockout.Metadata["retryTime"] != u.lockout.Metadata["retryTime"] ||
		k.lockout.RetryDelay != u.lockout.RetryDelay || k.lockout.RetryDelay != 15*time.Minute {
		t.Errorf("lockouts differ or do not say when: known %+v, unknown %+v", k.lockout, u.lockout)
	}
	if strings.Contains(k.lockout.Message, known.Reference) {
		t.Errorf("the lockout names the reference: %q", k.lockout.Message)
	}
}

// BenchmarkRefusal times a refused attempt on a known and on an unknown
// reference, which should cost the same: one argon2id check each. The store
// is in memory, so that only the hashing is timed.
func BenchmarkRefusal(b *testing.B) {
	code, err := accesscode.NewAccessCode()
	if err != nil {
		b.Fatal(err)
	}
	hash, err := accesscode.Hash(code)
	if err != nil {
		b.Fatal(err)
	}
	wrong, err := accesscode.NewAccessCode()
	if err != nil {
		b.Fatal(err)
	}
	const known = "K7QM-3XRD"
	svc := &session.Service{Store: memStore{known: {{ConcernID: "c", Group: "groups/g", AccessCodeHash: hash}}}}
	for _, ref := range []struct{ name, reference string }{{"known", known}, {"unknown", "ZZZZ-ZZZZ"}} {
		b.Run(ref.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := svc.Create(context.Background(), ref.reference, wrong); !fault.IsKind(err, fault.Unauthenticated) {
					b.Fatal(err)
				}
			}
		})
	}
}

// memStore holds credentials and never counts a failure.
type memStore map[string][]session.Credential

func (m memStore) Credentials(_ context.Context, reference string) ([]session.Credential, error) {
	return m[reference], nil
}

func (memStore) CreateSession(context.Context, session.Session) error { return nil }

func (memStore) GetSession(context.Context, string) (session.Session, error) {
	return session.Session{}, session.ErrNotFound
}

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
