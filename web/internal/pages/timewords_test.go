package pages

import (
	"testing"
	"time"
)

func TestTimeWords(t *testing.T) {
	t.Parallel()
	london, err := time.LoadLocation("Europe/London")
	if err != nil {
		t.Fatal(err)
	}
	utc := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	tests := []struct {
		name       string
		start, end string
		want       string
	}{
		{"winter: UK time is UTC", "2027-01-12T14:00:00Z", "2027-01-12T15:00:00Z", "Tuesday 12 January 2027, 2pm to 3pm"},
		{"summer: UK time is an hour ahead", "2027-06-15T13:00:00Z", "2027-06-15T14:30:00Z", "Tuesday 15 June 2027, 2pm to 3:30pm"},
		{"midday", "2027-01-13T10:30:00Z", "2027-01-13T12:00:00Z", "Wednesday 13 January 2027, 10:30am to midday"},
		{"to midnight", "2027-01-13T23:00:00Z", "2027-01-14T00:00:00Z", "Wednesday 13 January 2027, 11pm to midnight"},
		{"over midnight", "2027-01-13T23:00:00Z", "2027-01-14T01:00:00Z", "Wednesday 13 January 2027, 11pm to Thursday 14 January 2027, 1am"},
		{"the clocks go forward", "2027-03-28T00:30:00Z", "2027-03-28T01:30:00Z", "Sunday 28 March 2027, 12:30am to 2:30am"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := spanWords(utc(tt.start), utc(tt.end), london); got != tt.want {
				t.Errorf("spanWords = %q, want %q", got, tt.want)
			}
		})
	}
	if got := momentWords(utc("2027-07-01T08:05:00Z"), london); got != "Thursday 1 July 2027 at 9:05am" {
		t.Errorf("momentWords = %q", got)
	}
}
