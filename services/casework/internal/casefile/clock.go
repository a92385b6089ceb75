package casefile

import "time"

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

// targetFrom is when a target runs out for a concern registered at
// registered: registered plus the group's target, or plus the procedure's
// (fallback) when the group has set none (zero or less).
func targetFrom(registered time.Time, target, fallback time.Duration) time.Time {
	if target <= 0 {
		target = fallback
	}
	return registered.Add(target)
}
