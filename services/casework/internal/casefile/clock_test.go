package casefile

import (
	"testing"
	"time"
)

func TestClockAt(t *testing.T) {
	t.Parallel()
	registered := time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)
	deadline := registered.Add(eightWeeks)
	tests := []struct {
		name string
		now  time.Time
		want Clock
	}{
		{"at registration", registered, Clock{Deadline: deadline, Elapsed: 0, Remaining: eightWeeks}},
		{"before the deadline", registered.Add(10 * 24 * time.Hour), Clock{Deadline: deadline, Elapsed: 10 * 24 * time.Hour, Remaining: 46 * 24 * time.Hour}},
		{"a moment before the deadline", deadline.Add(-time.Microsecond), Clock{Deadline: deadline, Elapsed: eightWeeks - time.Microsecond, Remaining: time.Microsecond}},
		{"at the deadline", deadline, Clock{Deadline: deadline, Elapsed: eightWeeks, Remaining: 0, Overdue: false}},
		{"a moment after the deadline", deadline.Add(time.Microsecond), Clock{Deadline: deadline, Elapsed: eightWeeks + time.Microsecond, Remaining: -time.Microsecond, Overdue: true}},
		{"three days after the deadline", deadline.Add(72 * time.Hour), Clock{Deadline: deadline, Elapsed: eightWeeks + 72*time.Hour, Remaining: -72 * time.Hour, Overdue: true}},
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
	deadline := registered.Add(14 * 24 * time.Hour)
	now := registered.Add(30 * 24 * time.Hour)
	day := func(n int) time.Time { return registered.Add(time.Duration(n) * 24 * time.Hour) }
	tests := []struct {
		name        string
		met, closed time.Time
		wantElapsed time.Duration
		wantOverdue bool
	}{
		{"running, past the deadline", time.Time{}, time.Time{}, 30 * 24 * time.Hour, true},
		{"met in time", day(5), time.Time{}, 5 * 24 * time.Hour, false},
		{"met in time, closed later", day(5), day(20), 5 * 24 * time.Hour, false},
		{"closed unmet before the deadline", time.Time{}, day(10), 10 * 24 * time.Hour, false},
		{"closed unmet after the deadline", time.Time{}, day(20), 20 * 24 * time.Hour, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := targetClock(registered, deadline, tt.met, tt.closed, now)
			if c.Elapsed != tt.wantElapsed || c.Overdue != tt.wantOverdue || !c.Met.Equal(tt.met) {
				t.Errorf("clock = %+v; want elapsed %v overdue %v met %v", c, tt.wantElapsed, tt.wantOverdue, tt.met)
			}
		})
	}
}

// eightWeeks is the shipped procedure's overall target.
const eightWeeks = 56 * 24 * time.Hour
