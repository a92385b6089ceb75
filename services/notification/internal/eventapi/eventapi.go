// Package eventapi turns the events the service subscribes to into stored
// deliveries: it decodes each event into a dispatch.Event, asks the planner
// which deliveries it causes, and returns the effect that stores them in the
// transaction that records the event as applied.
package eventapi

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/google/uuid"

	"github.com/ipnmediation/disputes/platform/events"
	"github.com/ipnmediation/disputes/platform/fault"
	eventsv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/events/v1"
	"github.com/ipnmediation/disputes/services/notification/internal/dispatch"
	"github.com/ipnmediation/disputes/services/notification/internal/store"
	"github.com/jackc/pgx/v5"
)

// decoders read each event type the service acts on; keep it in step with
// dispatch.Routes and Subjects.
var decoders = map[string]func(events.Message) (dispatch.Event, error){
	dispatch.EventTypeConcernRegistered: concernRegistered,
}

// Subjects are the filter subjects of the service's consumer.
func Subjects(ns events.Namespace) []string {
	return []string{ns.Filter("concern", "registered")}
}

// Handler is the consumer's events.Handler.
type Handler struct {
	Planner *dispatch.Planner
	Logger  *slog.Logger
}

// Handle implements events.Handler.
func (h *Handler) Handle(ctx context.Context, msg events.Message) (events.Effect, error) {
	decode, ok := decoders[msg.Type]
	if !ok {
		return nil, nil
	}
	ev, err := decode(msg)
	if err != nil {
		// A malformed event never gets better; the consumer sets it aside.
		return nil, &fault.Error{Kind: fault.InvalidArgument, Reason: "MALFORMED_EVENT", Message: "the event cannot be read", Cause: err}
	}
	deliveries, err := h.Planner.Plan(ctx, ev)
	if err != nil {
		return nil, err
	}
	if len(deliveries) == 0 {
		h.Logger.Info("event causes no message", slog.String("event_id", ev.ID), slog.String("event_type", ev.Type), slog.String("group", ev.Group))
		return nil, nil
	}
	return func(ctx context.Context, tx pgx.Tx) error {
		n, err := store.AddDeliveries(ctx, tx, deliveries)
		if err != nil {
			return err
		}
		h.Logger.Info("deliveries planned", slog.String("event_id", ev.ID), slog.String("event_type", ev.Type), slog.Int("deliveries", n))
		return nil
	}, nil
}

func concernRegistered(msg events.Message) (dispatch.Event, error) {
	var ev eventsv1.ConcernRegistered
	if err := msg.Decode(&ev); err != nil {
		return dispatch.Event{}, err
	}
	id := ev.GetMetadata().GetEventId()
	if id == "" {
		id = msg.ID
	}
	if ev.GetMetadata().GetGroup() == "" || ev.GetConcern() == "" {
		return dispatch.Event{}, fmt.Errorf("event %s lacks its group or concern", id)
	}
	if _, err := uuid.Parse(id); err != nil {
		return dispatch.Event{}, fmt.Errorf("event id %q is not a UUID", id)
	}
	return dispatch.Event{
		ID:    id,
		Type:  msg.Type,
		Group: ev.GetMetadata().GetGroup(),
		Facts: dispatch.Facts{dispatch.FactConcern: ev.GetConcern()},
	}, nil
}
