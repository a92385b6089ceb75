package dispatch

import "time"

// Retry is the policy for failed attempts: for failures of Unknown class,
// exponential backoff with full jitter and a limit after which a delivery
// is dead; for Transient ones, a short wait and no limit.
type Retry struct {
	// MaxAttempts is how many failures of Unknown class make a delivery
	// dead; 8 when zero.
	MaxAttempts int
	// Base is the ceiling of the first delay; 2s when zero.
	Base time.Duration
	// Max caps every delay; 10 minutes when zero.
	Max time.Duration
	// Transient caps the wait after a Transient failure; 3s when zero. It
	// is short so that the queue is due again within seconds of the
	// dependency's return: the sender, not each delivery, is what backs
	// off during an outage (see Sender.ProbeMax).
	Transient time.Duration
}

// The defaults of Retry.
const (
	DefaultMaxAttempts    = 8
	DefaultRetryBase      = 2 * time.Second
	DefaultRetryMax       = 10 * time.Minute
	DefaultTransientDelay = 3 * time.Second
)

// TransientDelay is the wait after a Transient failure: uniform in
// [Transient/2, Transient], so deliveries that failed together come back
// spread out but none later than Transient.
func (r Retry) TransientDelay(jitter float64) time.Duration {
	ceiling := r.Transient
	if ceiling <= 0 {
		ceiling = DefaultTransientDelay
	}
	jitter = max(0, min(jitter, 1))
	return ceiling/2 + time.Duration(jitter*float64(ceiling/2))
}

func (r Retry) maxAttempts() int {
	if r.MaxAttempts <= 0 {
		return DefaultMaxAttempts
	}
	return r.MaxAttempts
}

// Ceiling is the longest wait after the given number of failed attempts
// (1 or more): Base·2^(attempts-1), at most Max.
func (r Retry) Ceiling(attempts int) time.Duration {
	base, ceiling := r.Base, r.Max
	if base <= 0 {
		base = DefaultRetryBase
	}
	if ceiling <= 0 {
		ceiling = DefaultRetryMax
	}
	d := base
	for i := 1; i < attempts; i++ {
		if d >= ceiling {
			break
		}
		d *= 2
	}
	return min(d, ceiling)
}

// Delay is the wait before the next attempt after the given number of
// failed attempts. jitter, uniform in [0, 1), spreads the waits over the
// whole of [0, Ceiling] ("full jitter"), so messages that failed together
// during an outage do not all come back at once.
func (r Retry) Delay(attempts int, jitter float64) time.Duration {
	jitter = max(0, min(jitter, 1))
	return time.Duration(jitter * float64(r.Ceiling(attempts)))
}
