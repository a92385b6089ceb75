package store

import (
	"context"
	"fmt"
	"time"

	"github.com/ipnmediation/disputes/platform/events"
	"github.com/ipnmediation/disputes/platform/outbox"
	eventsv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/events/v1"
	"github.com/ipnmediation/disputes/services/casework/internal/deadline"
	"github.com/jackc/pgx/v5"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// DefaultTimerBatch is how many cases FireDueTimers handles in one
// transaction when given no limit of its own.
const DefaultTimerBatch = 100

// dueCasesSQL selects, oldest first, up to $3 open cases that have a timer
// due at $1 that has not fired, and locks them. It spells out the rules of
// package deadline only to find candidates; deadline.Due decides what fires.
// It must never be narrower than deadline.Due (a due timer would then never
// fire) and should not be wider (a candidate with nothing due would take a
// place in the batch for nothing); TestDueCasesAgreeWithDeadline holds the
// two together.
//
// Rows are locked FOR NO KEY UPDATE SKIP LOCKED so that concurrent runners
// (replicas, or a pass overlapping the next) share the work instead of
// waiting for each other, while rows that only reference a case (firings,
// documents, timeline entries) can still be written. The LIMIT applies after
// the lock, so cases another runner holds do not count against it.
const dueCasesSQL = dueTimersCTE + `, pending AS (
    SELECT tm.id, min(tm.due_time) AS first_due
    FROM timers tm
    WHERE tm.due_time <= $1
      AND NOT EXISTS (SELECT 1 FROM timer_firings f
                      WHERE f.case_id = tm.id AND f.target = tm.target AND f.kind = tm.kind
                        AND f.offset_seconds = tm.offset_seconds)
    GROUP BY tm.id
)
SELECT c.id::text, c.group_id, c.phase, c.deadline, c.first_response_deadline, c.first_response_time, c.reminder_offsets
FROM cases c JOIN pending p ON p.id = c.id
WHERE c.close_time IS NULL
ORDER BY p.first_due, c.id
LIMIT $3
FOR NO KEY UPDATE OF c SKIP LOCKED`

// dueTimersCTE lists every timer of every open case (targets, timers), for
// dueCasesSQL and for the count of timers due (TimerGauges).
const dueTimersCTE = `
WITH targets AS (
    SELECT c.id, g.target, g.deadline,
           CASE WHEN cardinality(c.reminder_offsets) = 0 THEN $2::bigint[] ELSE c.reminder_offsets END AS offsets
    FROM cases c
    CROSS JOIN LATERAL (VALUES ('overall', c.deadline, true),
                               ('first_response', c.first_response_deadline, c.first_response_time IS NULL))
        AS g (target, deadline, running)
    WHERE c.close_time IS NULL AND g.running AND g.deadline IS NOT NULL
), timers AS (
    SELECT t.id, t.target, 'reminder' AS kind, s AS offset_seconds, t.deadline - s * interval '1 second' AS due_time
    FROM targets t CROSS JOIN LATERAL unnest(t.offsets) AS s
    WHERE s > 0
    UNION ALL
    SELECT t.id, t.target, 'overdue', 0, t.deadline
    FROM targets t
    WHERE t.deadline < $1
)`

// timerCase is a case as the timer runner reads it.
type timerCase struct {
	id, groupID, phase string
	c                  deadline.Case
}

// FireDueTimers records every reminder and overdue event due at now that has
// not fired yet, and writes a CaseTimerFired to the outbox for each one that
// is announced (reminders skipped because their deadline has passed are only
// recorded). It works through the due cases in transactions of up to limit
// cases (DefaultTimerBatch when limit is zero or less) and returns how many
// events it wrote.
//
// Each timer fires once, ever: its timer_firings row and its event are
// written in one transaction, and the row's primary key stops any other
// runner (another replica, a pass after a restart) from writing either again.
func (s *Store) FireDueTimers(ctx context.Context, now time.Time, limit int) (int, error) {
	if limit <= 0 {
		limit = DefaultTimerBatch
	}
	// PostgreSQL keeps microseconds: deciding on the instant it sees keeps
	// the selection and deadline.Due from disagreeing about a timer due
	// within the microsecond.
	now = now.UTC().Truncate(time.Microsecond)
	total := 0
	for {
		announced, recorded, candidates, err := s.fireBatch(ctx, now, limit)
		total += announced
		if err != nil {
			return total, err
		}
		// A full batch may leave more behind. A batch that recorded nothing
		// lost its cases to another runner, which carries on, or found the
		// selection wider than deadline.Due, and would select the same cases
		// again; either way the next pass comes soon enough.
		if candidates < limit || recorded == 0 {
			return total, nil
		}
	}
}

// fireBatch handles up to limit due cases in one transaction and returns how
// many events it wrote, how many firings it recorded (with the skipped
// reminders) and how many cases it selected.
func (s *Store) fireBatch(ctx context.Context, now time.Time, limit int) (announced, recorded, candidates int, err error) {
	tx, err := s.Pool.Begin(ctx)
	if err != nil {
		return 0, 0, 0, fmt.Errorf("fire timers: begin: %w", err)
	}
	defer tx.Rollback(context.Background()) //nolint:errcheck // no-op after commit

	cases, err := dueCases(ctx, tx, now, limit)
	if err != nil {
		return 0, 0, 0, err
	}
	if len(cases) == 0 {
		return 0, 0, 0, nil
	}
	ids := make([]string, len(cases))
	for i, c := range cases {
		ids[i] = c.id
	}
	fired, err := firedTimers(ctx, tx, ids)
	if err != nil {
		return 0, 0, 0, err
	}
	for _, c := range cases {
		for _, f := range deadline.Due(c.c, fired[c.id], now) {
			ok, err := s.fire(ctx, tx, c, f, now)
			if err != nil {
				return 0, 0, 0, fmt.Errorf("fire timers: case %s: %w", c.id, err)
			}
			if !ok {
				continue
			}
			recorded++
			if !f.Skipped {
				announced++
			}
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return 0, 0, 0, fmt.Errorf("fire timers: commit: %w", err)
	}
	return announced, recorded, len(cases), nil
}

func dueCases(ctx context.Context, tx pgx.Tx, now time.Time, limit int) ([]timerCase, error) {
	defaults := make([]int64, 0, len(deadline.DefaultOffsets))
	for _, o := range deadline.DefaultOffsets {
		defaults = append(defaults, int64(o/time.Second))
	}
	rows, err := tx.Query(ctx, dueCasesSQL, now, defaults, limit)
	if err != nil {
		return nil, fmt.Errorf("fire timers: select due cases: %w", err)
	}
	cases, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (timerCase, error) {
		var (
			tc      timerCase
			met     *time.Time
			offsets []int64
		)
		if err := r.Scan(&tc.id, &tc.groupID, &tc.phase, &tc.c.Deadline, &tc.c.FirstResponseDeadline, &met, &offsets); err != nil {
			return timerCase{}, err
		}
		if met != nil {
			tc.c.FirstResponseTime = *met
		}
		for _, o := range offsets {
			tc.c.ReminderOffsets = append(tc.c.ReminderOffsets, time.Duration(o)*time.Second)
		}
		return tc, nil
	})
	if err != nil {
		return nil, fmt.Errorf("fire timers: select due cases: %w", err)
	}
	return cases, nil
}

// firedTimers returns the timers already fired for each of the cases. It
// runs after the cases are locked, so it sees whatever a runner that held
// them before has committed.
func firedTimers(ctx context.Context, tx pgx.Tx, ids []string) (map[string]map[deadline.Timer]bool, error) {
	rows, err := tx.Query(ctx, `SELECT case_id::text, target, kind, offset_seconds FROM timer_firings WHERE case_id = ANY($1::uuid[])`, ids)
	if err != nil {
		return nil, fmt.Errorf("fire timers: select fired timers: %w", err)
	}
	out := map[string]map[deadline.Timer]bool{}
	var (
		id, target, kind string
		offset           int64
	)
	_, err = pgx.ForEachRow(rows, []any{&id, &target, &kind, &offset}, func() error {
		if out[id] == nil {
			out[id] = map[deadline.Timer]bool{}
		}
		out[id][deadline.Timer{Target: deadline.Target(target), Kind: deadline.Kind(kind), Offset: time.Duration(offset) * time.Second}] = true
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("fire timers: select fired timers: %w", err)
	}
	return out, nil
}

// fire records f and, unless it is skipped, writes its event. It returns
// false, writing nothing, when the timer had already been recorded.
func (s *Store) fire(ctx context.Context, tx pgx.Tx, c timerCase, f deadline.Firing, now time.Time) (bool, error) {
	group := "groups/" + c.groupID
	meta := events.NewMetadata(group, Producer, now)
	var eventID *string
	if !f.Skipped {
		eventID = &meta.EventId
	}
	// The lock on the case already keeps other runners out; the conflict
	// clause is the guarantee should a future writer not take it.
	tag, err := tx.Exec(ctx, `
		INSERT INTO timer_firings (case_id, target, kind, offset_seconds, due_time, fire_time, event_id)
		VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (case_id, target, kind, offset_seconds) DO NOTHING`,
		c.id, string(f.Target), string(f.Kind), int64(f.Offset/time.Second), f.Due, now, eventID)
	if err != nil {
		return false, fmt.Errorf("record %s %s: %w", f.Target, f.Kind, err)
	}
	if tag.RowsAffected() == 0 {
		return false, nil
	}
	if f.Skipped {
		return true, nil
	}
	if s.TimerFired != nil {
		s.TimerFired(now.Sub(f.Due))
	}
	msg := &eventsv1.CaseTimerFired{
		Metadata: meta,
		Case:     group + "/cases/" + c.id,
		Target:   string(f.Target),
		Deadline: timestamppb.New(f.Deadline),
		Phase:    c.phase,
	}
	if f.Kind == deadline.Reminder {
		msg.Offset = f.Offset.String()
	}
	ev, err := s.Namespace.Encode(meta, "case", string(f.Kind), msg)
	if err != nil {
		return false, err
	}
	if err := outbox.Add(ctx, tx, ev); err != nil {
		return false, err
	}
	return true, nil
}
