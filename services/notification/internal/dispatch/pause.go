package dispatch

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// pauser is the sender's backoff while something it needs is unreachable,
// shared by its workers: the pause doubles from min to max with each failure
// in a row and ends at the first attempt that gets an answer. While paused,
// one worker at a time probes, once the pause has run out; the others wait
// for its outcome, so an outage costs the dependency one attempt per pause
// however many workers there are. It also keeps the log short: one line
// when sending pauses, one a minute while it stays paused, one when it
// resumes.
type pauser struct {
	min, max time.Duration
	log      *slog.Logger

	mu       sync.Mutex
	delay    time.Duration // 0 while not paused
	until    time.Time     // when the pause runs out
	probing  bool          // a worker is making the probe attempt
	since    time.Time     // when the failures in a row began
	failures int
	warned   time.Time
}

// probeWait is how often a worker looks whether another's probe got
// through.
const probeWait = 50 * time.Millisecond

// admit waits until the worker may make an attempt: at once while sending
// is not paused; while it is, once the pause has run out and no other worker
// is probing. It reports false when ctx ended first.
func (p *pauser) admit(ctx context.Context) bool {
	for {
		p.mu.Lock()
		if p.delay == 0 {
			p.mu.Unlock()
			return true
		}
		wait := time.Until(p.until)
		if !p.probing && wait <= 0 {
			p.probing = true
			p.mu.Unlock()
			return true
		}
		if p.probing || wait <= 0 {
			wait = probeWait
		}
		p.mu.Unlock()
		if !sleep(ctx, wait) {
			return false
		}
	}
}

// failed pauses sending, or pauses it longer, after a Transient failure
// for reason.
func (p *pauser) failed(reason string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	p.probing = false
	p.failures++
	switch {
	case p.delay == 0:
		p.delay, p.since, p.failures, p.warned = p.min, now, 1, now
		p.log.Warn("sending paused: something it needs is unreachable; trying again with backoff", slog.String("reason", reason))
	case now.Sub(p.warned) >= time.Minute:
		p.delay, p.warned = min(2*p.delay, p.max), now
		p.log.Warn("sending still paused: something it needs is unreachable", slog.String("reason", reason),
			slog.Duration("paused_for", now.Sub(p.since).Round(time.Second)), slog.Int("failed_attempts", p.failures))
	default:
		p.delay = min(2*p.delay, p.max)
		p.log.Debug("sending still paused", slog.String("reason", reason), slog.Duration("pause", p.delay))
	}
	p.until = now.Add(p.delay)
}

// answered ends a pause: an attempt got through.
func (p *pauser) answered() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.probing = false
	if p.delay == 0 {
		return
	}
	p.log.Info("sending resumed", slog.Duration("paused_for", time.Since(p.since).Round(time.Millisecond)),
		slog.Int("failed_attempts", p.failures))
	p.delay = 0
}

// idle says the probing worker found nothing due: the pause stays, and the
// next worker with something to send probes.
func (p *pauser) idle() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.probing = false
}

// sleep waits for d or until ctx is done; it reports whether it waited the
// whole time.
func sleep(ctx context.Context, d time.Duration) bool {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-timer.C:
		return true
	}
}
