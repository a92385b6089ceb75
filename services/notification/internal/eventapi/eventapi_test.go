package eventapi

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/ipnmediation/disputes/platform/events"
	"github.com/ipnmediation/disputes/platform/fault"
	eventsv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/events/v1"
	procedurev1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/procedure/v1"
	"github.com/ipnmediation/disputes/services/notification/internal/dispatch"
	"google.golang.org/protobuf/proto"
)

// oneGroup is a directory with one group of one active member and one link
// group.
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

func (oneGroup) LinkGroups(context.Context, string) ([]dispatch.LinkGroup, error) {
	return []dispatch.LinkGroup{{Name: "groups/riverside/linkGroups/lakeland", Email: "links@lakeland.example.net"}}, nil
}

func (oneGroup) LinkGroup(context.Context, string) (dispatch.LinkGroup, error) {
	return dispatch.LinkGroup{}, dispatch.ErrNotFound
}

func message(t *testing.T, ev proto.Message, typ string) events.Message {
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
	step := func(action procedurev1.Action, edit func(*eventsv1.CaseStepTaken)) func(t *testing.T) events.Message {
		return func(t *testing.T) events.Message {
			ev := &eventsv1.CaseStepTaken{
				Metadata:    &eventsv1.EventMetadata{EventId: uuid.NewString(), Group: "groups/riverside"},
				Case:        "groups/riverside/cases/k1",
				Step:        "some_step",
				Action:      action.String(),
				ActorRole:   "ROLE_LP",
				CaseVersion: 7,
			}
			if edit != nil {
				edit(ev)
			}
			return message(t, ev, dispatch.EventTypeCaseStepTaken)
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
		{name: "link groups informed", wantEffect: true, msg: step(procedurev1.Action_ACTION_INFORM_LINK_GROUPS, nil)},
		{name: "progress reported", wantEffect: true, msg: step(procedurev1.Action_ACTION_REPORT_PROGRESS, nil)},
		{name: "a step of another action", msg: step(procedurev1.Action_ACTION_RECORD_LINK_GROUP_ISSUE, nil)},
		{name: "a step's id does not decide", msg: step(procedurev1.Action_ACTION_RECORD_LINK_GROUP_ISSUE, func(ev *eventsv1.CaseStepTaken) {
			ev.Step = "inform_link_groups"
		})},
		{name: "a renamed step still counts", wantEffect: true, msg: step(procedurev1.Action_ACTION_REPORT_PROGRESS, func(ev *eventsv1.CaseStepTaken) {
			ev.Step = "tell_the_links"
		})},
		{name: "step for an unknown group", msg: step(procedurev1.Action_ACTION_INFORM_LINK_GROUPS, func(ev *eventsv1.CaseStepTaken) {
			ev.Metadata.Group = "groups/nowhere"
			ev.Case = "groups/nowhere/cases/k1"
		})},
		{name: "step without a case", wantMalformed: true, msg: step(procedurev1.Action_ACTION_INFORM_LINK_GROUPS, func(ev *eventsv1.CaseStepTaken) {
			ev.Case = ""
		})},
		{name: "step with another group's case", wantMalformed: true, msg: step(procedurev1.Action_ACTION_INFORM_LINK_GROUPS, func(ev *eventsv1.CaseStepTaken) {
			ev.Case = "groups/hillside/cases/k1"
		})},
		{name: "step whose case is not a case", wantMalformed: true, msg: step(procedurev1.Action_ACTION_INFORM_LINK_GROUPS, func(ev *eventsv1.CaseStepTaken) {
			ev.Case = "groups/riverside/cases/k1/documents/d1"
		})},
		{name: "step without an action", wantMalformed: true, msg: step(procedurev1.Action_ACTION_UNSPECIFIED, func(ev *eventsv1.CaseStepTaken) {
			ev.Action = ""
		})},
		{name: "step whose id is not a UUID", wantMalformed: true, msg: step(procedurev1.Action_ACTION_REPORT_PROGRESS, func(ev *eventsv1.CaseStepTaken) {
			ev.Metadata.EventId = "evt-1"
		})},
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

// TestActionNames pins dispatch's action names to the procedure's enum, as
// casework writes them into CaseStepTaken.
func TestActionNames(t *testing.T) {
	t.Parallel()
	tests := []struct {
		got  string
		want procedurev1.Action
	}{
		{dispatch.ActionInformLinkGroups, procedurev1.Action_ACTION_INFORM_LINK_GROUPS},
		{dispatch.ActionReportProgress, procedurev1.Action_ACTION_REPORT_PROGRESS},
	}
	for _, tt := range tests {
		if tt.got != tt.want.String() {
			t.Errorf("dispatch names %q; the procedure says %q", tt.got, tt.want.String())
		}
	}
}

func TestSubjects(t *testing.T) {
	t.Parallel()
	ns := events.Namespace("t1")
	tests := []struct {
		name     string
		subjects []string
		match    []string
		miss     []string
	}{
		{
			name:     "concerns",
			subjects: Subjects(ns),
			match:    []string{ns.Subject("groups/riverside", "concern", "registered")},
			miss:     []string{ns.Subject("groups/riverside", "case", "inform_link_groups")},
		},
		{
			name:     "every step of every case, whatever the procedure calls it",
			subjects: CaseSubjects(ns),
			match: []string{
				ns.Subject("groups/riverside", "case", "inform_link_groups"),
				ns.Subject("groups/hillside", "case", "lp_report_2"),
			},
			miss: []string{
				ns.Subject("groups/riverside", "concern", "registered"),
				events.Namespace("").Subject("groups/riverside", "case", "inform_link_groups"),
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			// One subject each, so the consumer works with JetStream before
			// 2.10 too.
			if len(tt.subjects) != 1 {
				t.Fatalf("subjects %v; want one", tt.subjects)
			}
			for _, s := range tt.match {
				if !subjectMatches(tt.subjects[0], s) {
					t.Errorf("%s does not match %s", tt.subjects[0], s)
				}
			}
			for _, s := range tt.miss {
				if subjectMatches(tt.subjects[0], s) {
					t.Errorf("%s matches %s", tt.subjects[0], s)
				}
			}
		})
	}
}

// subjectMatches reports whether a NATS filter matches a subject.
func subjectMatches(filter, subject string) bool {
	f, s := strings.Split(filter, "."), strings.Split(subject, ".")
	for i, tok := range f {
		switch {
		case tok == ">":
			return len(s) > i
		case i >= len(s):
			return false
		case tok != "*" && tok != s[i]:
			return false
		}
	}
	return len(f) == len(s)
}
