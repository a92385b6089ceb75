// Package eventapi is intake's side of the event stream: it translates the
// events intake consumes into changes of its store, nothing more.
package eventapi

import (
	"context"
	"time"

	"github.com/ipnmediation/disputes/platform/events"
	"github.com/ipnmediation/disputes/platform/fault"
	eventsv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/events/v1"
	"github.com/jackc/pgx/v5"
)

// HandOverStore lets go of a concern's confidential part inside the
// transaction that records the event.
type HandOverStore interface {
	HandOver(ctx context.Context, tx pgx.Tx, concern string, at time.Time) error
}

// CaseOpened hands a concern over to casework once casework has opened its
// case: from then on casework owns the concern's text and the client's
// contact details, and intake keeps only what recognises the client's code.
type CaseOpened struct {
	Store HandOverStore
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// Subjects are the events it consumes.
func (CaseOpened) Subjects(ns events.Namespace) []string {
	return []string{ns.Filter("case", "opened")}
}

// Handle implements events.Handler.
func (h CaseOpened) Handle(_ context.Context, msg events.Message) (events.Effect, error) {
	var ev eventsv1.CaseOpened
	if err := msg.Decode(&ev); err != nil || ev.GetConcern() == "" {
		return nil, &fault.Error{Kind: fault.InvalidArgument, Reason: "EVENT_MALFORMED", Message: "the event is not a readable CaseOpened", Cause: err}
	}
	now := time.Now
	if h.Now != nil {
		now = h.Now
	}
	at := now().UTC()
	return func(ctx context.Context, tx pgx.Tx) error {
		return h.Store.HandOver(ctx, tx, ev.GetConcern(), at)
	}, nil
}

// ForgetStore deletes what intake still holds about a concern inside the
// transaction that records the event.
type ForgetStore interface {
	Forget(ctx context.Context, tx pgx.Tx, concern string) error
}

// CasePurged forgets a concern once casework has purged its case at the end
// of the group's retention: its reference and code hash then open nothing.
type CasePurged struct {
	Store ForgetStore
}

// PurgedConsumer is the durable name of CasePurged's consumer, apart from
// the hand-over's so that each keeps a single subject (NATS 2.9 has no
// multi-subject consumers).
const PurgedConsumer = "intake-purged"

// Subjects are the events it consumes.
func (CasePurged) Subjects(ns events.Namespace) []string {
	return []string{ns.Filter("case", "purged")}
}

// Handle implements events.Handler.
func (h CasePurged) Handle(_ context.Context, msg events.Message) (events.Effect, error) {
	var ev eventsv1.CasePurged
	if err := msg.Decode(&ev); err != nil || ev.GetConcern() == "" {
		return nil, &fault.Error{Kind: fault.InvalidArgument, Reason: "EVENT_MALFORMED", Message: "the event is not a readable CasePurged", Cause: err}
	}
	return func(ctx context.Context, tx pgx.Tx) error {
		return h.Store.Forget(ctx, tx, ev.GetConcern())
	}, nil
}
