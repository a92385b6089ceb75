// Package eventapi handles the events casework consumes: it translates them
// into calls on the casefile package and hands the result to the store,
// nothing more.
package eventapi

import (
	"context"

	"github.com/ipnmediation/disputes/platform/events"
	"github.com/ipnmediation/disputes/platform/fault"
	eventsv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/events/v1"
	"github.com/ipnmediation/disputes/services/casework/internal/casefile"
	"github.com/ipnmediation/disputes/services/casework/internal/store"
	"github.com/jackc/pgx/v5"
)

// ConcernRegistered opens a case for every concern a client registers.
type ConcernRegistered struct {
	Cases *casefile.Service
	Store *store.Store
}

// Subjects are the subjects it consumes in namespace ns.
func (ConcernRegistered) Subjects(ns events.Namespace) []string {
	return []string{ns.Filter("concern", "registered")}
}

// Handle is an events.Handler: it takes the concern over (calls to intake
// and the directory) and returns the effect that stores the case and its
// CaseOpened event in the consumer's transaction.
func (h ConcernRegistered) Handle(ctx context.Context, msg events.Message) (events.Effect, error) {
	var ev eventsv1.ConcernRegistered
	if err := msg.Decode(&ev); err != nil {
		return nil, &fault.Error{Kind: fault.InvalidArgument, Reason: "EVENT_MALFORMED",
			Message: "the event is not a readable ConcernRegistered", Cause: err}
	}
	opening, err := h.Cases.OpenFromConcern(ctx, casefile.Registration{
		Group:   ev.GetMetadata().GetGroup(),
		Concern: ev.GetConcern(),
	})
	if err != nil || opening == nil {
		return nil, err
	}
	return func(ctx context.Context, tx pgx.Tx) error {
		_, err := h.Store.Open(ctx, tx, *opening)
		return err
	}, nil
}
