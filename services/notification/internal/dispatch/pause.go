package dispatch

import (
	"context"
	"log/slog"
	"time"
)

// pauser is the sender's backoff while something it needs is unreachable:
// the pause doubles from min to max with each failure in a row and ends at
// the first attempt that gets an answer. It also keeps the log short: one
// line when sending pauses, one a minute while it stays paused, one when it
// resumes.
type pauser struct {
	min, max time.Duration
	log      *slog.Logger

	delay    time.Duration // 0 while not paused
	since    time.Time     // when the failures in a row began
	failures int
	warned   time.Time
}

// failed returns how long to pause after a Transient failure, for reason.
func (p *pauser) failed(reason string) time.Duration {
	now := time.Now()
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
	return p.delay
}

// answered ends a pause: an attempt got through.
func (p *pauser) answered() {
	if p.delay == 0 {
		return
	}
	p.log.Info("sending resumed", slog.Duration("paused_for", time.Since(p.since).Round(time.Millisecond)),
		slog.Int("failed_attempts", p.failures))
	p.delay = 0
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
