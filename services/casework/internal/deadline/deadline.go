// Package deadline decides when a case's time targets call for a reminder or
// an overdue event. It knows nothing of storage or transport: given a case's
// targets, the timers already fired and the current time, it says which
// timers are due now. The store records each decision under a unique key, so
// every timer fires at most once, ever, however many runners ask.
//
// Every case has two targets, the overall one and the first response. For
// each target, a reminder is due at deadline − offset for every reminder
// offset, and the overdue event is due strictly after the deadline (at the
// deadline itself the target has not yet run out). Nothing is due for a
// closed case, nor for the first response once it has been given.
//
// A runner may come late: the case may have been opened after a reminder's
// due time, or the service may have been down. A reminder found late still
// fires, once, on the next pass — unless the target's deadline has passed
// too. Then only the overdue event fires and the reminders still pending are
// recorded as skipped, so they never fire afterwards: "one day left" after
// the day has gone would only mislead whoever acts on it.
package deadline

import (
	"cmp"
	"slices"
	"time"
)

// DefaultOffsets are how long before a deadline reminders are due when the
// case has no offsets of its own (the directory's defaults).
var DefaultOffsets = []time.Duration{7 * 24 * time.Hour, 24 * time.Hour}

// Target is one of a case's time targets. Its value is what the store keeps
// and what CaseTimerFired carries, so values never change.
type Target string

// The targets of a case.
const (
	// Overall is the target for resolving the concern.
	Overall Target = "overall"
	// FirstResponse is the target for the first response to the client.
	FirstResponse Target = "first_response"
)

// Kind is what a timer announces. Its value is what the store keeps and the
// last part of the event's subject.
type Kind string

// The kinds of timer.
const (
	// Reminder is due a while before a deadline.
	Reminder Kind = "reminder"
	// Overdue is due once a deadline has passed.
	Overdue Kind = "overdue"
)

// Timer identifies one timer of a case: the store's unique key. Offset is
// zero for an overdue timer.
type Timer struct {
	Target Target
	Kind   Kind
	Offset time.Duration
}

// Case is what the decision needs to know about a case.
type Case struct {
	// Deadline is when the overall target runs out.
	Deadline time.Time
	// FirstResponseDeadline is when the first-response target runs out.
	FirstResponseDeadline time.Time
	// FirstResponseTime is when the first response was given; zero until
	// then.
	FirstResponseTime time.Time
	// ReminderOffsets say how long before each deadline reminders are due;
	// DefaultOffsets when empty.
	ReminderOffsets []time.Duration
	// Closed is true once the case has ended.
	Closed bool
}

// Firing is a timer that is due now, to be recorded and, unless Skipped,
// announced.
type Firing struct {
	Timer
	// Deadline is the deadline of the timer's target.
	Deadline time.Time
	// Due is when the timer was due: deadline − offset for a reminder, the
	// deadline it ran past for an overdue event.
	Due time.Time
	// Skipped is true for a reminder found late when its target's deadline
	// has also passed: it is recorded as fired but not announced.
	Skipped bool
}

// Offsets returns the reminder offsets that apply to c, longest first:
// DefaultOffsets when c has none, without offsets of zero or less (a
// "reminder" at or after the deadline would only compete with the overdue
// event), duplicates and fractions of a second (the store keeps whole
// seconds).
func Offsets(c Case) []time.Duration {
	src := c.ReminderOffsets
	if len(src) == 0 {
		src = DefaultOffsets
	}
	out := make([]time.Duration, 0, len(src))
	for _, o := range src {
		o = o.Truncate(time.Second)
		if o > 0 && !slices.Contains(out, o) {
			out = append(out, o)
		}
	}
	slices.SortFunc(out, func(a, b time.Duration) int { return cmp.Compare(b, a) })
	return out
}

// Due returns the timers of c that are due at now and not in fired, overall
// target first, each target's reminders longest offset first and its overdue
// event last.
func Due(c Case, fired map[Timer]bool, now time.Time) []Firing {
	if c.Closed {
		return nil
	}
	var out []Firing
	for _, t := range targets(c) {
		overdue := now.After(t.deadline)
		for _, o := range Offsets(c) {
			tm := Timer{Target: t.target, Kind: Reminder, Offset: o}
			due := t.deadline.Add(-o)
			if fired[tm] || now.Before(due) {
				continue
			}
			out = append(out, Firing{Timer: tm, Deadline: t.deadline, Due: due, Skipped: overdue})
		}
		tm := Timer{Target: t.target, Kind: Overdue}
		if overdue && !fired[tm] {
			out = append(out, Firing{Timer: tm, Deadline: t.deadline, Due: t.deadline})
		}
	}
	return out
}

type target struct {
	target   Target
	deadline time.Time
}

// targets are the targets of c that are still running. A target without a
// deadline has none to remind of; treating it as running since the year 1
// would fire its overdue event at once.
func targets(c Case) []target {
	var out []target
	if !c.Deadline.IsZero() {
		out = append(out, target{Overall, c.Deadline})
	}
	if c.FirstResponseTime.IsZero() && !c.FirstResponseDeadline.IsZero() {
		out = append(out, target{FirstResponse, c.FirstResponseDeadline})
	}
	return out
}
