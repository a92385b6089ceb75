package store

import (
	"context"
	"fmt"
	"time"

	"github.com/ipnmediation/disputes/services/casework/internal/deadline"
)

// Gauges are the counts the metrics report, read at each scrape.
type Gauges struct {
	// TimersDue counts the timers whose time has come and that have not
	// fired: more than a few for long means the timer runner is stuck.
	TimersDue int64
	// Open counts the open cases by group id and phase.
	Open map[[2]string]int64
	// Overdue counts the open cases past their eight-week target, by
	// group id.
	Overdue map[string]int64
}

// ReadGauges reads the gauges at now.
func (s *Store) ReadGauges(ctx context.Context, now time.Time) (Gauges, error) {
	g := Gauges{Open: map[[2]string]int64{}, Overdue: map[string]int64{}}
	var defaults []int64
	for _, o := range deadline.DefaultOffsets {
		defaults = append(defaults, int64(o/time.Second))
	}
	if err := s.Pool.QueryRow(ctx, dueTimersCTE+`
		SELECT count(*) FROM timers tm
		WHERE tm.due_time <= $1
		  AND NOT EXISTS (SELECT 1 FROM timer_firings f
		                  WHERE f.case_id = tm.id AND f.target = tm.target AND f.kind = tm.kind
		                    AND f.offset_seconds = tm.offset_seconds)`, now, defaults).Scan(&g.TimersDue); err != nil {
		return g, fmt.Errorf("count due timers: %w", err)
	}
	rows, err := s.Pool.Query(ctx, `SELECT group_id, phase, count(*), count(*) FILTER (WHERE deadline < $1)
		FROM cases WHERE close_time IS NULL GROUP BY group_id, phase`, now)
	if err != nil {
		return g, fmt.Errorf("count open cases: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var group, phase string
		var open, overdue int64
		if err := rows.Scan(&group, &phase, &open, &overdue); err != nil {
			return g, fmt.Errorf("count open cases: %w", err)
		}
		g.Open[[2]string{group, phase}] = open
		g.Overdue[group] += overdue
	}
	return g, rows.Err()
}
