package dispatch

import "github.com/ipnmediation/disputes/services/notification/internal/message"

// Event is an event as far as dispatch cares: its ids and the
// non-confidential facts its templates need.
type Event struct {
	// ID is the event id, a UUID.
	ID string
	// Type is the full proto name, for example
	// "ipn.disputes.events.v1.ConcernRegistered".
	Type string
	// Action is, for a CaseStepTaken, the name of the step's
	// ipn.disputes.procedure.v1.Action value, for example
	// "ACTION_INFORM_LINK_GROUPS"; empty for other events.
	Action string
	// Group is the group's resource name.
	Group string
	// Facts are saved with each delivery for its template.
	Facts Facts
}

// Recipients says who an event's messages go to.
type Recipients int

// The recipient rules.
const (
	// ActiveMembers is every active member of the event's group.
	ActiveMembers Recipients = iota + 1
	// LinkGroups is every link group of the event's group that has an
	// e-mail address (see LinkGroupAddress).
	LinkGroups
)

// Route says which messages an event of one type causes.
type Route struct {
	Recipients Recipients
	// Template is the key of the message template in package message.
	Template string
}

// RouteKey picks a route: the event's type and, for a CaseStepTaken, the
// step's action. Case steps are routed by action rather than by step id
// because a group's procedure may name its steps as it likes.
type RouteKey struct {
	Type string
	// Action is empty for events other than CaseStepTaken.
	Action string
}

// The event types the service acts on.
const (
	// EventTypeConcernRegistered is the type of the event a registered
	// concern causes.
	EventTypeConcernRegistered = "ipn.disputes.events.v1.ConcernRegistered"
	// EventTypeCaseStepTaken is the type of the event every step taken in a
	// case causes.
	EventTypeCaseStepTaken = "ipn.disputes.events.v1.CaseStepTaken"
)

// The actions of case steps that cause messages: names of
// ipn.disputes.procedure.v1.Action values, as CaseStepTaken carries them.
const (
	// ActionInformLinkGroups is the liaison person recording that the link
	// groups were told of the concern.
	ActionInformLinkGroups = "ACTION_INFORM_LINK_GROUPS"
	// ActionReportProgress is the liaison person's progress report to the
	// link groups.
	ActionReportProgress = "ACTION_REPORT_PROGRESS"
)

// Routes maps each event the service acts on to its route. An event without
// a route causes no message.
var Routes = map[RouteKey]Route{
	{Type: EventTypeConcernRegistered}:                             {Recipients: ActiveMembers, Template: message.ConcernRegistered},
	{Type: EventTypeCaseStepTaken, Action: ActionInformLinkGroups}: {Recipients: LinkGroups, Template: message.LinkGroupsInformed},
	{Type: EventTypeCaseStepTaken, Action: ActionReportProgress}:   {Recipients: LinkGroups, Template: message.ProgressReported},
}

// RouteOf returns ev's route; ok is false when ev causes no message.
func RouteOf(ev Event) (route Route, ok bool) {
	route, ok = Routes[RouteKey{Type: ev.Type, Action: ev.Action}]
	return route, ok
}
