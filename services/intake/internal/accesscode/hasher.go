package accesscode

import (
	"context"
	"time"

	"github.com/ipnmediation/disputes/platform/fault"
)

// Hasher hashes and checks access codes on behalf of requests, which may
// have to wait for their turn.
type Hasher interface {
	// Hash is Hash, done when ctx allows.
	Hash(ctx context.Context, code string) (string, error)
	// Verify is Verify, done when ctx allows.
	Verify(ctx context.Context, code, phc string) (bool, error)
}

// DefaultConcurrency is how many hashes a Bounded hasher computes at once
// by default: each takes 19 MiB and a core for tens of milliseconds, so four
// keep a small machine responsive while still serving several clients a
// second.
const DefaultConcurrency = 4

// DefaultWait is how long a request waits for its turn by default, when its
// own deadline does not come sooner.
const DefaultWait = 5 * time.Second

// Bounded is a Hasher that computes at most a fixed number of hashes at
// once, so that a flood of requests queues for the hashing instead of taking
// memory without bound. A request that cannot be served before its deadline,
// or within Wait, is refused with UNAVAILABLE rather than left to pile up.
type Bounded struct {
	slots chan struct{}
	wait  time.Duration
}

// NewBounded returns a Bounded hasher for concurrency hashes at once, whose
// callers wait at most wait for their turn (DefaultConcurrency and
// DefaultWait when not positive).
func NewBounded(concurrency int, wait time.Duration) *Bounded {
	if concurrency <= 0 {
		concurrency = DefaultConcurrency
	}
	if wait <= 0 {
		wait = DefaultWait
	}
	return &Bounded{slots: make(chan struct{}, concurrency), wait: wait}
}

// errBusy is what a request gets when its turn did not come in time. It
// says nothing about the code or the reference: every request may get it.
func errBusy() error {
	return &fault.Error{Kind: fault.Unavailable, Reason: "BUSY",
		Message: "the service is busy; try again in a moment", RetryDelay: time.Second}
}

func (b *Bounded) acquire(ctx context.Context) error {
	select {
	case b.slots <- struct{}{}:
		return nil
	default:
	}
	timer := time.NewTimer(b.wait)
	defer timer.Stop()
	select {
	case b.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return errBusy()
	case <-timer.C:
		return errBusy()
	}
}

func (b *Bounded) release() { <-b.slots }

// Hash implements Hasher.
func (b *Bounded) Hash(ctx context.Context, code string) (string, error) {
	if err := b.acquire(ctx); err != nil {
		return "", err
	}
	defer b.release()
	return Hash(code)
}

// Verify implements Hasher.
func (b *Bounded) Verify(ctx context.Context, code, phc string) (bool, error) {
	if err := b.acquire(ctx); err != nil {
		return false, err
	}
	defer b.release()
	return Verify(code, phc)
}

// Unbounded is a Hasher that hashes at once, for tests and tools.
type Unbounded struct{}

// Hash implements Hasher.
func (Unbounded) Hash(_ context.Context, code string) (string, error) { return Hash(code) }

// Verify implements Hasher.
func (Unbounded) Verify(_ context.Context, code, phc string) (bool, error) { return Verify(code, phc) }
