package casefile

import "time"

// ClockState says where a time target stands.
type ClockState int

// The states of a clock.
const (
	// ClockRunning: not met, the case is open and the deadline has not
	// passed.
	ClockRunning ClockState = iota + 1
	// ClockMet: met on or before the deadline; the clock has stopped.
	ClockMet
	// ClockMissed: the deadline passed before the target was met, whether
	// the case is still open, was met late or closed since.
	ClockMissed
	// ClockStopped: the case closed before the deadline without the
	// target being met.
	ClockStopped
)

// day is a whole day of a clock's count: 24 hours, whatever the calendar.
const day = 24 * time.Hour

// Clock is a case's time target as seen at one moment. It is computed when a
// case is read, never stored, so it is always current. It carries what a
// page shows, so that no client has to work it out: where the target
// stands and whole days left or past.
type Clock struct {
	// Start is when the clock started: when the concern was registered.
	Start time.Time
	// Deadline is when the target runs out.
	Deadline time.Time
	// Elapsed is the time since registration, up to Stop once stopped.
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
	// Stop is when the clock stopped (Met, or else the case's close); zero
	// while it runs.
	Stop time.Time
	// State is where the target stands.
	State ClockState
	// DaysLeft is Remaining in whole days, a part day counted as a day; 0
	// once the deadline has passed.
	DaysLeft int
	// DaysOverdue is how far past the deadline, in whole days, a part day
	// counted as a day; 0 until the deadline has passed.
	DaysOverdue int
}

// ClockAt is the running clock of a case registered at registered with the
// given deadline, as seen at now.
func ClockAt(registered, deadline, now time.Time) Clock {
	c := Clock{
		Start:     registered,
		Deadline:  deadline,
		Elapsed:   now.Sub(registered),
		Remaining: deadline.Sub(now),
		Overdue:   now.After(deadline),
		State:     ClockRunning,
	}
	if c.Overdue {
		c.State, c.DaysOverdue = ClockMissed, wholeDays(-c.Remaining)
	} else {
		c.DaysLeft = wholeDays(c.Remaining)
	}
	return c
}

// targetClock is a target's clock. It stops when the target is met (met
// not zero) or, failing that, when the case closed (closed not zero).
func targetClock(registered, deadline, met, closed, now time.Time) Clock {
	var stop time.Time
	switch {
	case !met.IsZero():
		stop = met
	case !closed.IsZero():
		stop = closed
	}
	at := now
	if !stop.IsZero() {
		at = stop
	}
	c := ClockAt(registered, deadline, at)
	c.Met, c.Stop = met, stop
	switch {
	case c.Overdue:
		// Missed, whatever happened since.
	case !met.IsZero():
		c.State = ClockMet
	case !closed.IsZero():
		c.State = ClockStopped
	}
	return c
}

// wholeDays is d in whole days, a part day counted as a day.
func wholeDays(d time.Duration) int {
	if d <= 0 {
		return 0
	}
	return int((d + day - 1) / day)
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
