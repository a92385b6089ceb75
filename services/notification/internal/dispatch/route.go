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
)

// Route says which messages an event of one type causes.
type Route struct {
	Recipients Recipients
	// Template is the key of the message template in package message.
	Template string
}

// EventTypeConcernRegistered is the type of the event a registered concern
// causes.
const EventTypeConcernRegistered = "ipn.disputes.events.v1.ConcernRegistered"

// Routes maps each event type the service acts on to its route. An event
// of a type not listed causes no message.
var Routes = map[string]Route{
	EventTypeConcernRegistered: {Recipients: ActiveMembers, Template: message.ConcernRegistered},
}
