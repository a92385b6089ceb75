package accesscode

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ipnmediation/disputes/platform/fault"
)

// counting is a Hasher that counts the computations Check asks for.
type counting struct {
	Hasher
	keyed, legacy atomic.Int64
}

func (c *counting) Verify(code, hash string) (bool, bool, error) {
	c.keyed.Add(1)
	return c.Hasher.Verify(code, hash)
}

func (c *counting) VerifyLegacy(ctx context.Context, code, phc string) (bool, error) {
	c.legacy.Add(1)
	return c.Hasher.VerifyLegacy(ctx, code, phc)
}

// TestCheck: Check finds the right code under any kind of hash, says when to
// hash it anew, and does the same work whatever the stored hash is, a
// missing one included: one HMAC, and one argon2id as well while argon2id
// hashes are left.
func TestCheck(t *testing.T) {
	t.Parallel()
	oldSetting := keySetting(t, "old")
	h := &counting{Hasher: NewHashing(mustKeys(t, oldSetting+","+keySetting(t, "new"), "new"), 1, time.Minute)}
	oldKeys := mustKeys(t, oldSetting, "")
	code, _ := NewAccessCode()
	wrong, _ := NewAccessCode()
	current, _ := h.Hash(code)
	old, _ := oldKeys.Hash(code)
	oldLegacy, _ := oldKeys.Hash(legacyCode)

	tests := []struct {
		name        string
		code        string
		stored      string
		legacyLeft  bool
		wantMatch   bool
		wantRehash  bool
		wantArgon2s int64
	}{
		{name: "current key", code: code, stored: current, wantMatch: true},
		{name: "old key: rehash", code: code, stored: old, wantMatch: true, wantRehash: true},
		{name: "current key, wrong code", code: wrong, stored: current},
		{name: "old key, wrong code", code: wrong, stored: old},
		{name: "no hash", code: code, stored: ""},
		{name: "argon2id: rehash", code: legacyCode, stored: legacyCodeHash, legacyLeft: true, wantMatch: true, wantRehash: true, wantArgon2s: 1},
		{name: "argon2id, wrong code", code: wrong, stored: legacyCodeHash, legacyLeft: true, wantArgon2s: 1},
		{name: "argon2id, though none was said to be left", code: legacyCode, stored: legacyCodeHash, wantMatch: true, wantRehash: true, wantArgon2s: 1},
		{name: "current key while argon2id hashes are left", code: code, stored: current, legacyLeft: true, wantMatch: true, wantArgon2s: 1},
		{name: "old key while argon2id hashes are left", code: legacyCode, stored: oldLegacy, legacyLeft: true, wantMatch: true, wantRehash: true, wantArgon2s: 1},
		{name: "wrong code while argon2id hashes are left", code: wrong, stored: current, legacyLeft: true, wantArgon2s: 1},
		{name: "no hash while argon2id hashes are left", code: legacyCode, stored: "", legacyLeft: true, wantArgon2s: 1},
	}
	for _, tt := range tests {
		// Not parallel: the counts are the hasher's.
		keyed, legacy := h.keyed.Load(), h.legacy.Load()
		match, rehash, err := Check(context.Background(), h, tt.code, tt.stored, tt.legacyLeft)
		if err != nil || match != tt.wantMatch || rehash != tt.wantRehash {
			t.Errorf("%s: Check = %v, %v, %v; want %v, %v", tt.name, match, rehash, err, tt.wantMatch, tt.wantRehash)
		}
		if n, m := h.keyed.Load()-keyed, h.legacy.Load()-legacy; n != 1 || m != tt.wantArgon2s {
			t.Errorf("%s: %d HMAC and %d argon2id computations; want 1 and %d", tt.name, n, m, tt.wantArgon2s)
		}
	}
}

func TestHashingBoundsArgon2id(t *testing.T) {
	t.Parallel()
	h := NewHashing(mustKeys(t, keySetting(t, "k1"), ""), 1, time.Hour)
	// Take the only slot, as an argon2id check in progress would.
	if err := h.acquire(context.Background()); err != nil {
		t.Fatal(err)
	}
	expired, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := h.VerifyLegacy(expired, legacyCode, legacyCodeHash)
	if fe, ok := fault.As(err); !ok || fe.Kind != fault.Unavailable || fe.Reason != "BUSY" || fe.RetryDelay <= 0 {
		t.Errorf("VerifyLegacy while full: %v; want UNAVAILABLE BUSY with a retry delay", err)
	}
	// Keyed hashing takes microseconds and never waits for a slot.
	code, _ := NewAccessCode()
	hash, err := h.Hash(code)
	if err != nil {
		t.Fatalf("Hash while the argon2id slot is taken: %v", err)
	}
	if ok, _, err := h.Verify(code, hash); err != nil || !ok {
		t.Errorf("Verify while the argon2id slot is taken = %v, %v; want a match", ok, err)
	}
	h.release()
	ok, err := h.VerifyLegacy(expired, legacyCode, legacyCodeHash)
	if err != nil || !ok {
		t.Errorf("VerifyLegacy with a free slot = %v, %v; want a match even with a done context, the slot being free at once", ok, err)
	}
}
