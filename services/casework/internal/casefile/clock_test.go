package casefile

import (
	"testing"
	"time"
)

func TestClockAt(t *testing.T) {
	t.Parallel()
	registered := time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)
	deadline := registered.Add(eightWeeks)
	running := func(elapsed time.Duration, daysLeft int) Clock {
		return Clock{Start: registered, Deadline: deadline, Elapsed: elapsed, Remaining: eightWeeks - elapsed, State: ClockRunning, DaysLeft: daysLeft}
	}
	missed := func(elapsed time.Duration, daysOverdue int) Clock {
		return Clock{Start: registered, Deadline: deadline, Elapsed: elapsed, Remaining: eightWeeks - elapsed, Overdue: true, State: ClockMissed, DaysOverdue: daysOverdue}
	}
	tests := []struct {
		name string
		now  time.Time
		want Clock
	}{
		{"at registration", registered, running(0, 56)},
		{"an hour in: a part day counts as a day", registered.Add(time.Hour), running(time.Hour, 56)},
		{"before the deadline", registered.Add(10 * day), running(10*day, 46)},
		{"a moment before the deadline", deadline.Add(-time.Microsecond), running(eightWeeks-time.Microsecond, 1)},
		{"at the deadline", deadline, running(eightWeeks, 0)},
		{"a moment after the deadline", deadline.Add(time.Microsecond), missed(eightWeeks+time.Microsecond, 1)},
		{"three days after the deadline", deadline.Add(72 * time.Hour), missed(eightWeeks+72*time.Hour, 3)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := ClockAt(registered, deadline, tt.now); got != tt.want {
				t.Errorf("ClockAt = %+v; want %+v", got, tt.want)
			}
		})
	}
}

func TestTargetFrom(t *testing.T) {
	t.Parallel()
	registered := time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)
	tests := []struct {
		name   string
		target time.Duration
		want   time.Time
	}{
		{"no target of the group's own: eight weeks", 0, time.Date(2026, 4, 27, 9, 30, 0, 0, time.UTC)},
		{"negative target is no target", -time.Hour, time.Date(2026, 4, 27, 9, 30, 0, 0, time.UTC)},
		{"the group's own target", 14 * 24 * time.Hour, time.Date(2026, 3, 16, 9, 30, 0, 0, time.UTC)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := targetFrom(registered, tt.target, eightWeeks); !got.Equal(tt.want) {
				t.Errorf("targetFrom = %v; want %v", got, tt.want)
			}
		})
	}
}

func TestTargetClockStops(t *testing.T) {
	t.Parallel()
	registered := time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)
	deadline := registered.Add(14 * day)
	now := registered.Add(30 * day)
	at := func(n int) time.Time { return registered.Add(time.Duration(n) * day) }
	tests := []struct {
		name               string
		deadline           time.Time // the 14th day when zero
		met, closed        time.Time
		wantElapsed        time.Duration
		wantOverdue        bool
		wantState          ClockState
		wantStop           time.Time
		wantLeft, wantOver int
	}{
		{"running, before the deadline", at(40), time.Time{}, time.Time{}, 30 * day, false, ClockRunning, time.Time{}, 10, 0},
		{"running, past the deadline", time.Time{}, time.Time{}, time.Time{}, 30 * day, true, ClockMissed, time.Time{}, 0, 16},
		{"met in time", time.Time{}, at(5), time.Time{}, 5 * day, false, ClockMet, at(5), 9, 0},
		{"met in time, closed later", time.Time{}, at(5), at(20), 5 * day, false, ClockMet, at(5), 9, 0},
		{"met late", time.Time{}, at(16), time.Time{}, 16 * day, true, ClockMissed, at(16), 0, 2},
		{"closed unmet before the deadline", time.Time{}, time.Time{}, at(10), 10 * day, false, ClockStopped, at(10), 4, 0},
		{"closed unmet after the deadline", time.Time{}, time.Time{}, at(20), 20 * day, true, ClockMissed, at(20), 0, 6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dl := tt.deadline
			if dl.IsZero() {
				dl = deadline
			}
			c := targetClock(registered, dl, tt.met, tt.closed, now)
			if c.Elapsed != tt.wantElapsed || c.Overdue != tt.wantOverdue || !c.Met.Equal(tt.met) || c.State != tt.wantState ||
				!c.Stop.Equal(tt.wantStop) || c.DaysLeft != tt.wantLeft || c.DaysOverdue != tt.wantOver || !c.Start.Equal(registered) {
				t.Errorf("clock = %+v; want elapsed %v overdue %v met %v state %v stop %v days left %d overdue %d",
					c, tt.wantElapsed, tt.wantOverdue, tt.met, tt.wantState, tt.wantStop, tt.wantLeft, tt.wantOver)
			}
		})
	}
}

// eightWeeks is the shipped procedure's overall target.
const eightWeeks = 56 * 24 * time.Hour
