package casefile

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// DefaultRetention is how long a closed case is kept when the directory
// gives no retention for its group: six years.
const DefaultRetention = 6 * 365 * 24 * time.Hour

// MinRetention is the shortest retention a group may set; closed cases
// younger than it are never looked at by the purge.
const MinRetention = 30 * 24 * time.Hour

// Statistics are what remains of a purged case: facts that identify no
// one.
type Statistics struct {
	Group               string
	Procedure           string
	Outcome             Outcome
	RegisterMonth       time.Time
	DaysOpen            int
	FirstResponseInTime bool
	ClosedInTime        bool
	JointMeetingHeld    bool
	Escalated           bool
	PurgeTime           time.Time
}

// statisticsOf is what c leaves behind when purged at now.
func statisticsOf(c Case, now time.Time) Statistics {
	month := time.Date(c.RegisterTime.Year(), c.RegisterTime.Month(), 1, 0, 0, 0, 0, time.UTC)
	held := slices.ContainsFunc(c.Progress.Meetings, func(m Meeting) bool {
		return m.Kind == meetingJoint && m.State == MeetingHeld
	})
	return Statistics{
		Group:               c.GroupID(),
		Procedure:           c.Procedure,
		Outcome:             c.Outcome,
		RegisterMonth:       month,
		DaysOpen:            int(c.CloseTime.Sub(c.RegisterTime) / (24 * time.Hour)),
		FirstResponseInTime: !c.FirstResponseTime.IsZero() && !c.FirstResponseTime.After(c.FirstResponseDeadline),
		ClosedInTime:        !c.CloseTime.After(c.Deadline),
		JointMeetingHeld:    held,
		Escalated:           c.Phase == PhaseOf(phaseEscalated) || slices.ContainsFunc(c.Progress.Taken, escalates),
		PurgeTime:           now,
	}
}

// escalates reports whether a taken step took the case to the link groups.
func escalates(t TakenStep) bool { return t.Step == "report_progress" }

// PurgeStore is what the purge needs of the store.
type PurgeStore interface {
	// ClosedBefore returns up to limit cases that closed before t, in
	// order of closing (then id), after the cursor when it is not nil.
	ClosedBefore(ctx context.Context, t time.Time, after *ClosedCursor, limit int) ([]Case, error)
	// Purge deletes everything held about the case (its key, documents,
	// timeline, access log, timers and the case itself), keeps stats and
	// writes a CasePurged event, in one transaction.
	Purge(ctx context.Context, c Case, stats Statistics) error
}

// ClosedCursor is a position in the list of closed cases.
type ClosedCursor struct {
	CloseTime time.Time
	ID        string
}

// Purger removes closed cases once their group's retention has passed.
type Purger struct {
	Store     PurgeStore
	Directory Directory
}

// PurgeDue purges, as of now, every closed case whose group's retention
// has passed, reading batches of limit, and returns how many it purged. A
// group the directory does not know keeps the default retention.
func (p *Purger) PurgeDue(ctx context.Context, now time.Time, limit int) (int, error) {
	retention := map[string]time.Duration{}
	purged := 0
	var after *ClosedCursor
	for {
		cases, err := p.Store.ClosedBefore(ctx, now.Add(-MinRetention), after, limit)
		if err != nil {
			return purged, fmt.Errorf("find closed cases: %w", err)
		}
		for _, c := range cases {
			r, ok := retention[c.Group]
			if !ok {
				terms, found, err := p.Directory.Terms(ctx, c.Group)
				if err != nil {
					return purged, fmt.Errorf("retention of %s: %w", c.Group, err)
				}
				r = DefaultRetention
				if found && terms.Retention > 0 {
					r = terms.Retention
				}
				retention[c.Group] = r
			}
			if !c.CloseTime.Add(r).After(now) {
				if err := p.Store.Purge(ctx, c, statisticsOf(c, now)); err != nil {
					return purged, fmt.Errorf("purge %s: %w", c.Name(), err)
				}
				purged++
			}
		}
		if len(cases) < limit {
			return purged, nil
		}
		last := cases[len(cases)-1]
		after = &ClosedCursor{CloseTime: last.CloseTime, ID: last.ID}
	}
}
