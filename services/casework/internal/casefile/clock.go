package casefile

import "time"

// DefaultOverallTarget is the procedure's promise when the group has set no
// target of its own: resolved within eight weeks of registration.
const DefaultOverallTarget = 56 * 24 * time.Hour

// DefaultFirstResponseTarget is the time from registration to the first
// response reaching the client when the group has set none.
const DefaultFirstResponseTarget = 14 * 24 * time.Hour

// Clock is a case's time target as seen at one moment. It is computed when a
// case is read, never stored, so it is always current.
type Clock struct {
	// Deadline is when the target runs out.
	Deadline time.Time
	// Elapsed is the time since registration.
	Elapsed time.Duration
	// Remaining is the time left before the deadline; negative once it has
	// passed.
	Remaining time.Duration
	// Overdue says whether the deadline has passed. At the deadline itself
	// the case is not yet overdue.
	Overdue bool
	// Met is when the target was met (the case closed resolved, or the
	// first response reached the client); zero while it is not. The clock
	// stops then, or when the case closes.
	Met time.Time
}

// ClockAt is the clock of a case registered at registered with the given
// deadline, as seen at now.
func ClockAt(registered, deadline, now time.Time) Clock {
	return Clock{
		Deadline:  deadline,
		Elapsed:   now.Sub(registered),
		Remaining: deadline.Sub(now),
		Overdue:   now.After(deadline),
	}
}

// deadlineFor is when the target runs out for a concern registered at
// registered; a target of zero or less means the group has none and the
// default applies.
func deadlineFor(registered time.Time, target time.Duration) time.Time {
	return targetFrom(registered, target, DefaultOverallTarget)
}

// targetFrom is registered plus target, or plus fallback when target is zero
// or less.
func targetFrom(registered time.Time, target, fallback time.Duration) time.Time {
	if target <= 0 {
		target = fallback
	}
	return registered.Add(target)
}
