package concern_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ipnmediation/disputes/platform/auth"
	"github.com/ipnmediation/disputes/platform/postgres"
	"github.com/ipnmediation/disputes/services/intake/internal/concern"
	"github.com/ipnmediation/disputes/services/intake/internal/session"
	"github.com/jackc/pgx/v5"
)

// storedCode is what the concerns table holds of a concern's kept access
// code: the whole row as text, the sealed code and its data key.
type storedCode struct {
	row           string
	sealed, key   *string
	handedOver    bool
	hashIsCurrent bool
}

func (f *fixture) storedCode(t *testing.T, id string) storedCode {
	t.Helper()
	var s storedCode
	var hash string
	err := f.pool.QueryRow(context.Background(), `
		SELECT c::text, access_code_sealed, wrapped_key, hand_over_time IS NOT NULL, access_code_hash
		FROM concerns c WHERE id = $1`, id).Scan(&s.row, &s.sealed, &s.key, &s.handedOver, &hash)
	if err != nil {
		t.Fatal(err)
	}
	s.hashIsCurrent = strings.HasPrefix(hash, "$hmac-sha256$test$")
	return s
}

// wantNoCode fails when the row shows the code in any form a person could
// type it.
func wantNoCode(t *testing.T, row, code string) {
	t.Helper()
	for _, form := range []string{code, strings.ReplaceAll(code, "-", ""), strings.ToLower(strings.ReplaceAll(code, "-", ""))} {
		if strings.Contains(row, form) {
			t.Fatalf("the concern's row holds the access code in plain form: %s", row)
		}
	}
}

// TestReplayGetsTheCode: a repeat of the request gets the first answer's
// access code for as long as the request id is remembered, also after the
// hand-over; the code is kept only sealed, and destroyed after the window
// and when it is reissued.
func TestReplayGetsTheCode(t *testing.T) {
	t.Parallel()
	const id = "5f0c3e9a-2b7d-4e1f-8a6c-9d0e1f2a3b4c"
	tests := []struct {
		name string
		// before runs between the first request and the repeat.
		before func(t *testing.T, f *fixture, first concern.Registered)
		after  time.Duration
		// wantCode says whether the repeat gets the first code back.
		wantCode bool
	}{
		{name: "at once", wantCode: true},
		{name: "just inside the window", after: concern.RequestIDTTL - time.Microsecond, wantCode: true},
		{name: "after the hand-over", wantCode: true, before: func(t *testing.T, f *fixture, first concern.Registered) {
			err := postgres.InTx(context.Background(), f.pool, func(tx pgx.Tx) error {
				return f.store.HandOver(context.Background(), tx, first.Name(), start.Add(time.Second))
			})
			if err != nil {
				t.Fatal(err)
			}
			if s := f.storedCode(t, first.ID); !s.handedOver || s.sealed == nil || s.key == nil {
				t.Fatalf("after the hand-over: %+v; want the sealed code and its key kept", s)
			}
		}},
		{name: "after the code was reissued", wantCode: false, before: func(t *testing.T, f *fixture, first concern.Registered) {
			sessions := &session.Service{Store: f.store, Hasher: f.hasher, Now: f.clock.Now}
			ctx := auth.WithPrincipal(context.Background(), auth.Principal{Kind: auth.Service, Service: "casework"})
			if _, err := sessions.ReissueAccessCode(ctx, first.Name()); err != nil {
				t.Fatal(err)
			}
			if s := f.storedCode(t, first.ID); s.sealed != nil {
				t.Fatal("the first code is still kept after it was reissued")
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			ctx := context.Background()
			first, err := f.svc.Submit(ctx, submission(id))
			if err != nil || first.AccessCode == "" {
				t.Fatalf("Submit = %+v, %v", first, err)
			}
			s := f.storedCode(t, first.ID)
			if s.sealed == nil || !strings.HasPrefix(*s.sealed, "enc:v1:dk-") || !s.hashIsCurrent {
				t.Fatalf("stored %+v; want the code sealed under the concern's data key and its keyed hash", s)
			}
			wantNoCode(t, s.row, first.AccessCode)
			if tt.before != nil {
				tt.before(t, f, first)
			}
			f.clock.Set(start.Add(tt.after))
			again, err := f.svc.Submit(ctx, submission(id))
			if err != nil || !again.Repeated || again.Name() != first.Name() || again.Reference != first.Reference {
				t.Fatalf("repeat = %+v, %v; want the first concern", again, err)
			}
			if tt.wantCode && again.AccessCode != first.AccessCode || !tt.wantCode && again.AccessCode != "" {
				t.Errorf("repeat's access code = %q; want the first's (%q): %v", again.AccessCode, first.AccessCode, tt.wantCode)
			}
			wantNoCode(t, f.storedCode(t, first.ID).row, first.AccessCode)
		})
	}
}

// TestReplayCodeForgottenAfterTheWindow: once the request id is no longer
// remembered, the sealed code is destroyed, and so is the data key a
// handed-over concern kept for it; a concern registered without a request
// id never keeps its code.
func TestReplayCodeForgottenAfterTheWindow(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.svc.AddressLimit = nil
	ctx := context.Background()
	kept, err := f.svc.Submit(ctx, submission("6a1d4f0b-3c8e-4f2a-9b7d-0e1f2a3b4c5d"))
	if err != nil {
		t.Fatal(err)
	}
	handedOver, err := f.svc.Submit(ctx, submission("7b2e5a1c-4d9f-4a3b-8c8e-1f2a3b4c5d6e"))
	if err != nil {
		t.Fatal(err)
	}
	err = postgres.InTx(ctx, f.pool, func(tx pgx.Tx) error { return f.store.HandOver(ctx, tx, handedOver.Name(), start) })
	if err != nil {
		t.Fatal(err)
	}
	f.clock.Set(start.Add(time.Hour))
	later, err := f.svc.Submit(ctx, submission("8c3f6b2d-5e0a-4b4c-9d9f-2a3b4c5d6e7f"))
	if err != nil {
		t.Fatal(err)
	}
	plain, err := f.svc.Submit(ctx, submission(""))
	if err != nil {
		t.Fatal(err)
	}
	if s := f.storedCode(t, plain.ID); s.sealed != nil {
		t.Error("a concern registered without a request id keeps its code")
	}

	steps := []struct {
		at       time.Duration
		wantN    int
		gone     []concern.Registered
		kept     []concern.Registered
		keyGone  []concern.Registered // handed over, data key deleted
		keyStays []concern.Registered
	}{
		{at: concern.RequestIDTTL - time.Microsecond, wantN: 0, kept: []concern.Registered{kept, handedOver, later}, keyStays: []concern.Registered{kept, handedOver, later}},
		{at: concern.RequestIDTTL, wantN: 2, gone: []concern.Registered{kept, handedOver}, kept: []concern.Registered{later},
			keyGone: []concern.Registered{handedOver}, keyStays: []concern.Registered{kept, later}},
		{at: concern.RequestIDTTL + time.Hour, wantN: 1, gone: []concern.Registered{kept, handedOver, later}, keyStays: []concern.Registered{kept, later}},
	}
	for _, st := range steps {
		f.clock.Set(start.Add(st.at))
		n, err := f.svc.ForgetReplayCodes(ctx)
		if err != nil || n != st.wantN {
			t.Fatalf("at %v: ForgetReplayCodes = %d, %v; want %d", st.at, n, err, st.wantN)
		}
		for _, r := range st.gone {
			if s := f.storedCode(t, r.ID); s.sealed != nil {
				t.Errorf("at %v: the code of %s is still kept", st.at, r.ID)
			}
		}
		for _, r := range st.kept {
			if s := f.storedCode(t, r.ID); s.sealed == nil {
				t.Errorf("at %v: the code of %s is gone too soon", st.at, r.ID)
			}
		}
		for _, r := range st.keyGone {
			if s := f.storedCode(t, r.ID); s.key != nil {
				t.Errorf("at %v: the handed-over concern %s still has its data key", st.at, r.ID)
			}
		}
		for _, r := range st.keyStays {
			if s := f.storedCode(t, r.ID); s.key == nil {
				t.Errorf("at %v: the data key of %s, not handed over, was deleted", st.at, r.ID)
			}
		}
	}
	// What is not handed over still opens: forgetting the code took only it.
	casework := auth.WithPrincipal(ctx, auth.Principal{Kind: auth.Service, Service: "casework"})
	if got, err := f.svc.Get(casework, kept.Name()); err != nil || got.Description != kept.Description {
		t.Errorf("Get after the code was forgotten = %+v, %v", got, err)
	}
}
