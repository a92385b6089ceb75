package dispatch

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"
)

// EventTypeDeliveriesDead is the event type of the messages that tell a
// group's admins that deliveries died: no event causes them, the
// dead-letter job does.
const EventTypeDeliveriesDead = "ipn.disputes.notification.v1.DeliveriesDead"

// DefaultDeadLetterQuiet is how long after telling a group's admins of
// dead deliveries the job waits before telling them of more: an SMTP
// server that is down for a day kills many deliveries, and one message an
// hour says enough.
const DefaultDeadLetterQuiet = time.Hour

// DeathStore finds the deaths nobody was told of.
type DeathStore interface {
	// TellDeaths calls plan for each group that has deliveries that died
	// since its admins were last told and that was not told within quiet
	// before now. For each such group it stores what plan returns and marks
	// the group's deaths told, in one transaction, so that each death is
	// told once. Deliveries of EventTypeDeliveriesDead never count as
	// deaths to tell of: telling of them could go on for ever. It returns
	// how many groups were told.
	TellDeaths(ctx context.Context, now time.Time, quiet time.Duration, plan func(ctx context.Context, group string) ([]Delivery, error)) (int, error)
}

// DeadLetters tells a group's admins when deliveries of the group die, so
// that someone looks at the delivery log and retries them: a member with a
// mistyped address would otherwise never hear of a concern about them.
type DeadLetters struct {
	Store   DeathStore
	Planner *Planner
	// Interval is how often the job looks for deaths; a minute when zero.
	Interval time.Duration
	// Quiet is the least time between two messages to one group's admins;
	// DefaultDeadLetterQuiet when zero.
	Quiet  time.Duration
	Logger *slog.Logger
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Passed, when set, is called after every pass.
	Passed func()
}

// Run makes a pass every Interval until ctx is done.
func (j *DeadLetters) Run(ctx context.Context) error {
	return everyInterval(ctx, j.Interval, j.Pass, j.Passed, j.logger(), "dead-letter")
}

// Pass tells the admins of every group with untold deaths, unless they were
// told within Quiet; those deaths wait for a later pass.
func (j *DeadLetters) Pass(ctx context.Context) error {
	quiet := j.Quiet
	if quiet <= 0 {
		quiet = DefaultDeadLetterQuiet
	}
	told, err := j.Store.TellDeaths(ctx, j.now(), quiet, func(ctx context.Context, group string) ([]Delivery, error) {
		// The transaction that stores the deliveries also marks the deaths
		// told, so a fresh id per pass tells each death once.
		return j.Planner.Plan(ctx, Event{ID: uuid.NewString(), Type: EventTypeDeliveriesDead, Group: group,
			Facts: Facts{FactDeliveryLog: group + "/deliveries"}})
	})
	if err != nil {
		return fmt.Errorf("tell of dead deliveries: %w", err)
	}
	if told > 0 {
		j.logger().Info("admins told of dead deliveries", slog.Int("groups", told))
	}
	return nil
}

func (j *DeadLetters) logger() *slog.Logger {
	if j.Logger != nil {
		return j.Logger
	}
	return slog.Default()
}

func (j *DeadLetters) now() time.Time {
	if j.Now != nil {
		return j.Now().UTC().Truncate(time.Microsecond)
	}
	return time.Now().UTC().Truncate(time.Microsecond)
}
