// Package timerloop runs the case timers: it asks the store to fire whatever
// is due, at start and then at a fixed interval. Deciding what is due, and
// making sure each timer fires once however many loops run, is the store's
// and package deadline's business; the loop only keeps asking.
package timerloop

import (
	"context"
	"fmt"
	"log/slog"
	"time"
)

// FireFunc fires the timers due at now and returns how many events it
// wrote.
type FireFunc func(ctx context.Context, now time.Time) (int, error)

// Run calls fire with now() at once and then every interval until ctx is
// done, and returns nil then. A failed pass is logged and retried on the
// next tick rather than returned: a database that is briefly away must not
// stop the whole service, and whatever was due is still due next time.
func Run(ctx context.Context, every time.Duration, now func() time.Time, fire FireFunc, log *slog.Logger) error {
	if every <= 0 {
		return fmt.Errorf("timer loop: interval %v: want a positive interval", every)
	}
	ticker := time.NewTicker(every)
	defer ticker.Stop()
	run(ctx, ticker.C, now, fire, log)
	return nil
}

// run is Run with its ticks given, so tests decide when they come.
func run(ctx context.Context, ticks <-chan time.Time, now func() time.Time, fire FireFunc, log *slog.Logger) {
	for {
		// The time comes from now, not from the tick: tests drive it, and a
		// tick that waited in the channel would be stale.
		at := now()
		n, err := fire(ctx, at)
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			log.Warn("firing case timers failed", slog.Time("now", at), slog.Any("error", err))
		case n > 0:
			log.Info("case timers fired", slog.Time("now", at), slog.Int("events", n))
		}
		select {
		case <-ctx.Done():
			return
		case <-ticks:
		}
	}
}
