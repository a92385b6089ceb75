package eventapi

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"github.com/google/uuid"
	"github.com/ipnmediation/disputes/platform/events"
	"github.com/ipnmediation/disputes/platform/fault"
	eventsv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/events/v1"
	"github.com/ipnmediation/disputes/services/notification/internal/dispatch"
	"google.golang.org/protobuf/proto"
)

// oneGroup is a directory with one group of one active member.
type oneGroup struct{}

func (oneGroup) Group(_ context.Context, name string) (dispatch.Group, error) {
	if name != "groups/riverside" {
		return dispatch.Group{}, dispatch.ErrNotFound
	}
	return dispatch.Group{Name: name, DisplayName: "Riverside"}, nil
}

func (oneGroup) ActiveMembers(context.Context, string) ([]dispatch.Member, error) {
	return []dispatch.Member{{Name: "groups/riverside/members/ann", Active: true}}, nil
}

func (oneGroup) Member(context.Context, string) (dispatch.Member, error) {
	return dispatch.Member{}, dispatch.ErrNotFound
}

func message(t *testing.T, ev *eventsv1.ConcernRegistered, typ string) events.Message {
	t.Helper()
	payload, err := proto.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return events.Message{ID: uuid.NewString(), Type: typ, Payload: payload}
}

func TestHandle(t *testing.T) {
	t.Parallel()
	valid := func() *eventsv1.ConcernRegistered {
		return &eventsv1.ConcernRegistered{
			Metadata: &eventsv1.EventMetadata{EventId: uuid.NewString(), Group: "groups/riverside"},
			Concern:  "groups/riverside/concerns/c1",
		}
	}
	tests := []struct {
		name          string
		msg           func(t *testing.T) events.Message
		wantEffect    bool
		wantMalformed bool
	}{
		{name: "concern registered", wantEffect: true, msg: func(t *testing.T) events.Message {
			return message(t, valid(), dispatch.EventTypeConcernRegistered)
		}},
		{name: "type without a route", msg: func(t *testing.T) events.Message {
			return message(t, valid(), "ipn.disputes.events.v1.CaseOpened")
		}},
		{name: "unknown group", msg: func(t *testing.T) events.Message {
			ev := valid()
			ev.Metadata.Group = "groups/nowhere"
			return message(t, ev, dispatch.EventTypeConcernRegistered)
		}},
		{name: "no concern", wantMalformed: true, msg: func(t *testing.T) events.Message {
			ev := valid()
			ev.Concern = ""
			return message(t, ev, dispatch.EventTypeConcernRegistered)
		}},
		{name: "event id not a UUID", wantMalformed: true, msg: func(t *testing.T) events.Message {
			ev := valid()
			ev.Metadata.EventId = "evt-1"
			return message(t, ev, dispatch.EventTypeConcernRegistered)
		}},
		{name: "garbage payload", wantMalformed: true, msg: func(*testing.T) events.Message {
			return events.Message{ID: uuid.NewString(), Type: dispatch.EventTypeConcernRegistered, Payload: []byte{0xff, 0xff}}
		}},
	}
	h := &Handler{Planner: &dispatch.Planner{Directory: oneGroup{}}, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			effect, err := h.Handle(context.Background(), tt.msg(t))
			if tt.wantMalformed {
				if !fault.IsKind(err, fault.InvalidArgument) {
					t.Fatalf("Handle error = %v; want InvalidArgument so the consumer sets it aside", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if (effect != nil) != tt.wantEffect {
				t.Errorf("effect present = %v; want %v", effect != nil, tt.wantEffect)
			}
		})
	}
}
