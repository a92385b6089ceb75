// Package eventapi turns the events the service subscribes to into stored
// deliveries: it decodes each event into a dispatch.Event, asks the planner
// which deliveries it causes, and returns the effect that stores them in the
// transaction that records the event as applied.
package eventapi

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/ipnmediation/disputes/platform/events"
	"github.com/ipnmediation/disputes/platform/fault"
	eventsv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/events/v1"
	"github.com/ipnmediation/disputes/services/notification/internal/dispatch"
	"github.com/ipnmediation/disputes/services/notification/internal/store"
	"github.com/jackc/pgx/v5"
)

// decoders read each event type the service acts on; keep it in step with
// dispatch.Routes, Subjects and CaseSubjects.
var decoders = map[string]func(events.Message) (dispatch.Event, error){
	dispatch.EventTypeConcernRegistered: concernRegistered,
	dispatch.EventTypeCaseStepTaken:     caseStepTaken,
	dispatch.EventTypeCaseMessagePosted: caseMessagePosted,
	dispatch.EventTypeCaseTimerFired:    caseTimerFired,
}

// Subjects are the filter subjects of the service's first consumer: concern
// events.
func Subjects(ns events.Namespace) []string {
	return []string{ns.Filter("concern", "registered")}
}

// CaseSubjects are the filter subjects of the service's consumer of case
// events. Casework publishes each step on the subject of its step id, which a
// procedure may name as it likes, so every case event is taken and those that
// matter are picked by type and action. It is one subject, for a durable of
// its own: JetStream before 2.10 cannot filter one consumer on two subjects,
// and a single filter over every aggregate would have the first consumer
// read every member and statement event as well.
func CaseSubjects(ns events.Namespace) []string {
	return []string{ns.Filter("case", "*")}
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
	if _, ok := dispatch.RouteOf(ev); !ok {
		// Most case steps concern nobody here; saying so for each would
		// drown the lines that matter.
		return nil, nil
	}
	deliveries, err := h.Planner.Plan(ctx, ev)
	if err != nil {
		return nil, err
	}
	if len(deliveries) == 0 {
		h.Logger.InfoContext(ctx, "event causes no message", slog.String("event_id", ev.ID), slog.String("event_type", ev.Type), slog.String("group", ev.Group))
		return nil, nil
	}
	return func(ctx context.Context, tx pgx.Tx) error {
		n, err := store.AddDeliveries(ctx, tx, deliveries)
		if err != nil {
			return err
		}
		h.Logger.InfoContext(ctx, "deliveries planned", slog.String("event_id", ev.ID), slog.String("event_type", ev.Type), slog.Int("deliveries", n))
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

func caseStepTaken(msg events.Message) (dispatch.Event, error) {
	var ev eventsv1.CaseStepTaken
	if err := msg.Decode(&ev); err != nil {
		return dispatch.Event{}, fmt.Errorf("decode case step: %w", err)
	}
	id := ev.GetMetadata().GetEventId()
	if id == "" {
		id = msg.ID
	}
	group := ev.GetMetadata().GetGroup()
	if group == "" || ev.GetAction() == "" {
		return dispatch.Event{}, fmt.Errorf("event %s lacks its group or action", id)
	}
	// A case of another group would send one group's notices to another's
	// link groups.
	if caseID, ok := strings.CutPrefix(ev.GetCase(), group+"/cases/"); !ok || caseID == "" || strings.Contains(caseID, "/") {
		return dispatch.Event{}, fmt.Errorf("event %s names a case %q not of its group", id, ev.GetCase())
	}
	if _, err := uuid.Parse(id); err != nil {
		return dispatch.Event{}, fmt.Errorf("event id %q is not a UUID", id)
	}
	return dispatch.Event{
		ID:     id,
		Type:   msg.Type,
		Action: ev.GetAction(),
		Step:   ev.GetStep(),
		Group:  group,
		Facts:  dispatch.Facts{dispatch.FactCase: ev.GetCase()},
	}, nil
}

// caseEvent checks what every case event must have: a group, a case of that
// group and a UUID for an id.
func caseEvent(md *eventsv1.EventMetadata, msgID, caseName string) (id, group string, err error) {
	id = md.GetEventId()
	if id == "" {
		id = msgID
	}
	group = md.GetGroup()
	if group == "" {
		return "", "", fmt.Errorf("event %s lacks its group", id)
	}
	// A case of another group would tell one group's people of another's.
	if caseID, ok := strings.CutPrefix(caseName, group+"/cases/"); !ok || caseID == "" || strings.Contains(caseID, "/") {
		return "", "", fmt.Errorf("event %s names a case %q not of its group", id, caseName)
	}
	if _, err := uuid.Parse(id); err != nil {
		return "", "", fmt.Errorf("event id %q is not a UUID", id)
	}
	return id, group, nil
}

func caseMessagePosted(msg events.Message) (dispatch.Event, error) {
	var ev eventsv1.CaseMessagePosted
	if err := msg.Decode(&ev); err != nil {
		return dispatch.Event{}, fmt.Errorf("decode case message: %w", err)
	}
	id, group, err := caseEvent(ev.GetMetadata(), msg.ID, ev.GetCase())
	if err != nil {
		return dispatch.Event{}, err
	}
	if ev.GetSenderRole() == "" {
		return dispatch.Event{}, fmt.Errorf("event %s lacks its sender's role", id)
	}
	return dispatch.Event{
		ID:     id,
		Type:   msg.Type,
		Action: ev.GetSenderRole(),
		Group:  group,
		Facts:  dispatch.Facts{dispatch.FactCase: ev.GetCase()},
	}, nil
}

// caseTimerFired reads a timer. Its kind is the last token of its subject,
// disputes.<group>.case.reminder or .overdue; an event on another subject
// is told apart by its offset, which only a reminder has.
func caseTimerFired(msg events.Message) (dispatch.Event, error) {
	var ev eventsv1.CaseTimerFired
	if err := msg.Decode(&ev); err != nil {
		return dispatch.Event{}, fmt.Errorf("decode case timer: %w", err)
	}
	id, group, err := caseEvent(ev.GetMetadata(), msg.ID, ev.GetCase())
	if err != nil {
		return dispatch.Event{}, err
	}
	kind := msg.Subject[strings.LastIndex(msg.Subject, ".")+1:]
	if kind != dispatch.TimerReminder && kind != dispatch.TimerOverdue {
		kind = dispatch.TimerOverdue
		if ev.GetOffset() != "" {
			kind = dispatch.TimerReminder
		}
	}
	facts := dispatch.Facts{dispatch.FactCase: ev.GetCase(), dispatch.FactTarget: ev.GetTarget()}
	if ev.GetDeadline() != nil {
		facts[dispatch.FactDeadline] = ev.GetDeadline().AsTime().UTC().Format(time.RFC3339)
	}
	return dispatch.Event{ID: id, Type: msg.Type, Action: kind, Group: group, Facts: facts}, nil
}
