package deadline

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

const day = 24 * time.Hour

// fmtFirings writes firings compactly, e.g. "overall/reminder/168h0m0s" and
// "first_response/overdue" with "(skipped)" after skipped ones, so a table
// row reads like the rule it checks.
func fmtFirings(fs []Firing) string {
	var parts []string
	for _, f := range fs {
		s := string(f.Target) + "/" + string(f.Kind)
		if f.Kind == Reminder {
			s += "/" + f.Offset.String()
		}
		if f.Skipped {
			s += "(skipped)"
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, " ")
}

func TestDue(t *testing.T) {
	t.Parallel()
	registered := time.Date(2031, 3, 3, 9, 0, 0, 0, time.UTC)
	overall := registered.Add(56 * day)
	first := registered.Add(14 * day)
	open := Case{Deadline: overall, FirstResponseDeadline: first}
	with := func(f func(*Case)) Case {
		c := open
		f(&c)
		return c
	}
	fired := func(ts ...Timer) map[Timer]bool {
		m := map[Timer]bool{}
		for _, t := range ts {
			m[t] = true
		}
		return m
	}
	firstWeek := Timer{FirstResponse, Reminder, 7 * day}
	firstDay := Timer{FirstResponse, Reminder, day}
	overallWeek := Timer{Overall, Reminder, 7 * day}
	overallDay := Timer{Overall, Reminder, day}

	tests := []struct {
		name  string
		c     Case
		fired map[Timer]bool
		now   time.Time
		want  string
	}{
		{name: "just registered", c: open, now: registered, want: ""},
		{name: "an instant before the first reminder", c: open, now: first.Add(-7 * day).Add(-time.Nanosecond), want: ""},
		{name: "at the first reminder's due time exactly", c: open, now: first.Add(-7 * day),
			want: "first_response/reminder/168h0m0s"},
		{name: "first reminder already fired", c: open, fired: fired(firstWeek), now: first.Add(-2 * day), want: ""},
		{name: "at the first response deadline exactly: not overdue", c: open, fired: fired(firstWeek, firstDay), now: first, want: ""},
		{name: "a nanosecond after the first response deadline", c: open, fired: fired(firstWeek, firstDay), now: first.Add(time.Nanosecond),
			want: "first_response/overdue"},
		{name: "overdue event already fired", c: open, fired: fired(firstWeek, firstDay, Timer{FirstResponse, Overdue, 0}), now: first.Add(day), want: ""},
		{name: "late for one reminder: it fires once", c: open, now: first.Add(-12 * time.Hour),
			want: "first_response/reminder/168h0m0s first_response/reminder/24h0m0s"},
		{name: "late at the deadline exactly: reminders still fire", c: open, now: first,
			want: "first_response/reminder/168h0m0s first_response/reminder/24h0m0s"},
		{name: "late past the deadline: only the overdue event, reminders skipped", c: open, fired: fired(firstWeek), now: first.Add(time.Hour),
			want: "first_response/reminder/24h0m0s(skipped) first_response/overdue"},
		{name: "first response given: its target stays quiet", c: with(func(c *Case) { c.FirstResponseTime = first.Add(-10 * day) }),
			now: first.Add(day), want: ""},
		{name: "first response given, overall reminder due", c: with(func(c *Case) { c.FirstResponseTime = first.Add(-10 * day) }),
			now: overall.Add(-7 * day), want: "overall/reminder/168h0m0s"},
		{name: "both targets due, overall first", c: open, fired: fired(firstWeek, firstDay, Timer{FirstResponse, Overdue, 0}),
			now: overall.Add(time.Second), want: "overall/reminder/168h0m0s(skipped) overall/reminder/24h0m0s(skipped) overall/overdue"},
		{name: "service down for the whole case", c: open, now: overall.Add(day),
			want: "overall/reminder/168h0m0s(skipped) overall/reminder/24h0m0s(skipped) overall/overdue " +
				"first_response/reminder/168h0m0s(skipped) first_response/reminder/24h0m0s(skipped) first_response/overdue"},
		{name: "overall reminders fired, at the deadline exactly", c: open, fired: fired(firstWeek, firstDay, Timer{FirstResponse, Overdue, 0}, overallWeek, overallDay),
			now: overall, want: ""},
		{name: "closed case", c: with(func(c *Case) { c.Closed = true }), now: overall.Add(day), want: ""},
		{name: "offsets of the case's own", c: with(func(c *Case) { c.ReminderOffsets = []time.Duration{3 * day, 10 * day} }),
			now: first.Add(-3 * day), want: "first_response/reminder/240h0m0s first_response/reminder/72h0m0s"},
		{name: "offsets of zero or less never fire", c: with(func(c *Case) { c.ReminderOffsets = []time.Duration{0, -day} }),
			now: first, want: ""},
		{name: "no deadlines", c: Case{}, now: overall, want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := Due(tt.c, tt.fired, tt.now)
			if s := fmtFirings(got); s != tt.want {
				t.Errorf("Due at %v\n got: %s\nwant: %s", tt.now.Sub(registered), s, tt.want)
			}
			for _, f := range got {
				wantDue := f.Deadline.Add(-f.Offset)
				if f.Due != wantDue || (f.Kind == Overdue && f.Offset != 0) {
					t.Errorf("%+v: due %v; want %v", f, f.Due, wantDue)
				}
			}
		})
	}
}

// TestDueFiresEachTimerOnce walks a case through its life in passes of
// different lengths and checks every timer fires (or is skipped) exactly
// once, and never before it is due.
func TestDueFiresEachTimerOnce(t *testing.T) {
	t.Parallel()
	registered := time.Date(2031, 3, 3, 9, 0, 0, 0, time.UTC)
	c := Case{Deadline: registered.Add(56 * day), FirstResponseDeadline: registered.Add(14 * day)}
	for _, every := range []time.Duration{time.Minute, 7 * time.Hour, 5 * day, 60 * day} {
		t.Run(fmt.Sprint(every), func(t *testing.T) {
			t.Parallel()
			fired := map[Timer]bool{}
			announced := 0
			for now := registered; now.Before(registered.Add(70 * day)); now = now.Add(every) {
				for _, f := range Due(c, fired, now) {
					if fired[f.Timer] {
						t.Fatalf("%+v fired twice", f.Timer)
					}
					if now.Before(f.Due) || (f.Kind == Overdue && !now.After(f.Deadline)) {
						t.Fatalf("%+v fired at %v, before it was due", f.Timer, now)
					}
					fired[f.Timer] = true
					if !f.Skipped {
						announced++
					}
				}
			}
			if len(fired) != 6 {
				t.Errorf("%d timers recorded; want 6 (two reminders and the overdue event per target)", len(fired))
			}
			if every <= time.Hour && announced != 6 {
				t.Errorf("%d announced with passes every %v; want all 6", announced, every)
			}
		})
	}
}

func TestOffsets(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   []time.Duration
		want []time.Duration
	}{
		{"none: the defaults", nil, []time.Duration{7 * day, day}},
		{"longest first", []time.Duration{time.Hour, 3 * day}, []time.Duration{3 * day, time.Hour}},
		{"duplicates once", []time.Duration{day, day, 24 * time.Hour}, []time.Duration{day}},
		{"zero and negative dropped", []time.Duration{0, -time.Hour, time.Hour}, []time.Duration{time.Hour}},
		{"fractions of a second dropped", []time.Duration{time.Hour + 400*time.Millisecond, 500 * time.Millisecond}, []time.Duration{time.Hour}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := Offsets(Case{ReminderOffsets: tt.in}); !slices.Equal(got, tt.want) {
				t.Errorf("Offsets(%v) = %v; want %v", tt.in, got, tt.want)
			}
		})
	}
}
