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
