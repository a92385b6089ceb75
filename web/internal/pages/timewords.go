package pages

import (
	"fmt"
	"time"
)

// Times are shown as people in the UK read them (the GOV.UK style guide's
// way, in our words): in UK time, the day written out, the hour on a
// 12-hour clock without ":00", "midday" and "midnight" rather than 12pm and
// 12am, and a span with "to".

// dayWords is a date in full: "Tuesday 12 January 2027".
func dayWords(t time.Time) string { return t.Format("Monday 2 January 2006") }

// clockWords is a time of day: "2pm", "2:30pm", "midday", "midnight".
func clockWords(t time.Time) string {
	switch h, m := t.Hour(), t.Minute(); {
	case h == 12 && m == 0:
		return "midday"
	case h == 0 && m == 0:
		return "midnight"
	case m == 0:
		return t.Format("3pm")
	default:
		return t.Format("3:04pm")
	}
}

// spanWords is a meeting's time, from start to end, both in loc: "Tuesday
// 12 January 2027, 2pm to 3pm"; a meeting that ends on another day names
// that day too.
func spanWords(start, end time.Time, loc *time.Location) string {
	start, end = start.In(loc), end.In(loc)
	sy, sm, sd := start.Date()
	ey, em, ed := end.Date()
	// A meeting that ends at midnight ends on the day it started.
	sameDay := sy == ey && sm == em && sd == ed ||
		end.Hour() == 0 && end.Minute() == 0 && end.Sub(start) <= 24*time.Hour && end.Sub(start) > 0
	if sameDay {
		return fmt.Sprintf("%s, %s to %s", dayWords(start), clockWords(start), clockWords(end))
	}
	return fmt.Sprintf("%s, %s to %s, %s", dayWords(start), clockWords(start), dayWords(end), clockWords(end))
}

// momentWords is when something happened: "Tuesday 12 January 2027 at
// 2:05pm", in loc.
func momentWords(t time.Time, loc *time.Location) string {
	t = t.In(loc)
	return dayWords(t) + " at " + clockWords(t)
}
