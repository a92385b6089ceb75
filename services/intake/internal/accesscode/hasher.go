package accesscode

import (
	"context"
	"time"

	"github.com/ipnmediation/disputes/platform/fault"
)

// Hasher hashes new access codes and checks the codes clients give against
// stored hashes of either kind.
type Hasher interface {
	// Hash is Keys.Hash: one HMAC.
	Hash(code string) (string, error)
	// Verify is Keys.Verify: one HMAC, also for the empty hash.
	Verify(code, hash string) (ok, current bool, err error)
	// VerifyLegacy is VerifyLegacy, done when ctx allows: one argon2id
	// computation, also for the empty hash.
	VerifyLegacy(ctx context.Context, code, phc string) (bool, error)
}

// Check reports whether code matches a stored hash, and whether a match
// should be hashed anew (an argon2id hash, or a keyed hash under an older
// key). It does the same work whatever stored is, a keyed hash under any
// key, an argon2id hash or "" for a reference that has no concern: one HMAC
// always, and one argon2id computation too when the stored hash is argon2id
// or legacyLeft says that the store still holds some. So the time a refusal
// takes tells neither whether the reference exists nor how old its hash is;
// once the last argon2id hash is gone, a check is one HMAC.
func Check(ctx context.Context, h Hasher, code, stored string, legacyLeft bool) (match, rehash bool, err error) {
	legacy := IsLegacy(stored)
	keyed, phc := stored, ""
	if legacy {
		keyed, phc = "", stored
	}
	ok, current, err := h.Verify(code, keyed)
	if err != nil {
		return false, false, err
	}
	if !legacy && !legacyLeft {
		return ok, ok && !current, nil
	}
	okLegacy, err := h.VerifyLegacy(ctx, code, phc)
	if err != nil {
		return false, false, err
	}
	if legacy {
		return okLegacy, okLegacy, nil
	}
	return ok, ok && !current, nil
}

// DefaultConcurrency is how many argon2id checks a Hashing computes at once
// by default: each takes 19 MiB and a core for tens of milliseconds, so four
// keep a small machine responsive while still serving several clients a
// second.
const DefaultConcurrency = 4

// DefaultWait is how long a request waits for its turn by default, when its
// own deadline does not come sooner.
const DefaultWait = 5 * time.Second

// Hashing is the service's Hasher: keyed hashes under its Keys, which take
// microseconds and need no bound, and argon2id checks of the hashes left
// from before keyed hashing, at most a fixed number at once, so that a flood
// of sign-ins queues for them instead of taking memory without bound. A
// check that cannot start before its request's deadline, or within the
// wait, is refused with UNAVAILABLE rather than left to pile up.
type Hashing struct {
	*Keys
	slots chan struct{}
	wait  time.Duration
}

// NewHashing returns the Hasher for keys whose argon2id checks run at most
// concurrency at once and wait at most wait for their turn
// (DefaultConcurrency and DefaultWait when not positive).
func NewHashing(keys *Keys, concurrency int, wait time.Duration) *Hashing {
	if concurrency <= 0 {
		concurrency = DefaultConcurrency
	}
	if wait <= 0 {
		wait = DefaultWait
	}
	return &Hashing{Keys: keys, slots: make(chan struct{}, concurrency), wait: wait}
}

// errBusy is what a request gets when its turn did not come in time. It
// says nothing about the code or the reference: every request may get it.
func errBusy() error {
	return &fault.Error{Kind: fault.Unavailable, Reason: "BUSY",
		Message: "the service is busy; try again in a moment", RetryDelay: time.Second}
}

func (h *Hashing) acquire(ctx context.Context) error {
	select {
	case h.slots <- struct{}{}:
		return nil
	default:
	}
	timer := time.NewTimer(h.wait)
	defer timer.Stop()
	select {
	case h.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return errBusy()
	case <-timer.C:
		return errBusy()
	}
}

func (h *Hashing) release() { <-h.slots }

// VerifyLegacy implements Hasher.
func (h *Hashing) VerifyLegacy(ctx context.Context, code, phc string) (bool, error) {
	if err := h.acquire(ctx); err != nil {
		return false, err
	}
	defer h.release()
	return VerifyLegacy(code, phc)
}
