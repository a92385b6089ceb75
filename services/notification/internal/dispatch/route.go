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
	// "ACTION_INFORM_LINK_GROUPS"; for a CaseMessagePosted the sender's
	// role ("ROLE_CLIENT", "ROLE_SPC"); for a CaseTimerFired the timer's
	// kind (TimerReminder, TimerOverdue); empty for other events.
	Action string
	// Step is, for a CaseStepTaken, the step's id in the case's procedure;
	// a meeting step's participants are found through it.
	Step string
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
	// CaseRoles is whoever holds the roles the route's To lists in the
	// event's case, looked up in casework when the event arrives.
	CaseRoles
	// GroupAdmins is every active admin of the event's group.
	GroupAdmins
)

// Route says which messages an event of one type causes.
type Route struct {
	Recipients Recipients
	// Template is the key of the message template in package message, for
	// ActiveMembers and LinkGroups.
	Template string
	// To lists, for CaseRoles, the roles told and the template each gets;
	// a person holding several is told once, by the first that names them.
	To []To
}

// To is one role a case route tells and with which template.
type To struct {
	// Role is a role in the case: the name of an
	// ipn.disputes.procedure.v1.Role value or one of the Role* groupings
	// below (the meeting's participants, everyone involved, the holders of
	// the next steps' roles, the group's admins).
	Role string
	// Template is the key of the message to a member.
	Template string
	// ClientTemplate is the key of the message to the client; a To whose
	// role may take in the client needs one, and the client is never sent
	// a message written for members.
	ClientTemplate string
}

// The roles a case route may name: those of ipn.disputes.procedure.v1.Role
// that a person holds, and groupings of them.
const (
	RoleClient    = "ROLE_CLIENT"
	RoleTherapist = "ROLE_THERAPIST"
	RoleSPT       = "ROLE_SPT"
	RoleNominee   = "ROLE_NOMINEE"
	RoleSPC       = "ROLE_SPC"
	RoleLP        = "ROLE_LP"
	// RoleMember is every active member of the group.
	RoleMember = "ROLE_MEMBER"
	// RoleMeetingParticipants is who takes part in the kind of meeting the
	// step is about (client meeting: client and SPC; joint: client, SPC,
	// therapist and SPT; full group: every member).
	RoleMeetingParticipants = "MEETING_PARTICIPANTS"
	// RoleInvolved is everyone with a part in the case: the client, the
	// therapist, the SPT or nominee, the SPC and the LP.
	RoleInvolved = "INVOLVED"
	// RoleNextStepActors is the holders of the roles that may take one of
	// the case's next steps, as casework reports them now; optional steps
	// (the client's withdrawal) are left out, since the case does not wait
	// for them, and a timer of the first response counts only the steps
	// toward it (see Case.lateFor).
	RoleNextStepActors = "NEXT_STEP_ACTORS"
	// RoleGroupAdmins is the group's active admins.
	RoleGroupAdmins = "GROUP_ADMINS"
)

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
	// EventTypeCaseMessagePosted is the type of the event a message between
	// the client and the SPC causes.
	EventTypeCaseMessagePosted = "ipn.disputes.events.v1.CaseMessagePosted"
	// EventTypeCaseTimerFired is the type of the event a case's time
	// target causes when it nears or passes.
	EventTypeCaseTimerFired = "ipn.disputes.events.v1.CaseTimerFired"
	// EventTypeIncomingNotice is a notice another deployment delivered over
	// the federation API, once recorded for a receiving group. It comes
	// from this service's own federation endpoint, not from the stream;
	// its Action is the notice's NoticeKind.
	EventTypeIncomingNotice = "ipn.disputes.federation.v1.IncomingNotice"
)

// The kinds of CaseTimerFired, from its subject.
const (
	// TimerReminder fires before a deadline.
	TimerReminder = "reminder"
	// TimerOverdue fires when a deadline has passed.
	TimerOverdue = "overdue"
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

// step is the key of a CaseStepTaken's route.
func step(action string) RouteKey { return RouteKey{Type: EventTypeCaseStepTaken, Action: action} }

// roles is a CaseRoles route.
func roles(to ...To) Route { return Route{Recipients: CaseRoles, To: to} }

// Routes maps each event the service acts on to its route: who is told and
// with which message. An event without a route causes no message.
var Routes = map[RouteKey]Route{
	{Type: EventTypeConcernRegistered}: {Recipients: ActiveMembers, Template: message.ConcernRegistered},
	step(ActionInformLinkGroups):       {Recipients: LinkGroups, Template: message.LinkGroupsInformed},
	step(ActionReportProgress):         {Recipients: LinkGroups, Template: message.ProgressReported},

	// Deliveries that died: the admins, who read the delivery log and
	// retry.
	{Type: EventTypeDeliveriesDead}: {Recipients: GroupAdmins, Template: message.DeliveriesDead},

	// A notice from a group on another deployment that has this group as a
	// link group: the admins, who read the group's incoming notices.
	{Type: EventTypeIncomingNotice, Action: string(NoticeLinkGroupsInformed)}: {Recipients: GroupAdmins, Template: message.IncomingLinkGroupsInformed},
	{Type: EventTypeIncomingNotice, Action: string(NoticeProgressReported)}:   {Recipients: GroupAdmins, Template: message.IncomingProgressReported},

	// Each step tells the people whose turn it now is.
	step("ACTION_NOMINATE_SPT"):      roles(To{Role: RoleNominee, Template: message.SPTNominated}),
	step("ACTION_ANSWER_NOMINATION"): roles(To{Role: RoleTherapist, Template: message.NominationAnswered}),
	step("ACTION_APPOINT_SUPPORT"): roles(
		To{Role: RoleSPC, Template: message.SupportAppointedSPC},
		To{Role: RoleLP, Template: message.SupportAppointedLP}),
	step("ACTION_PROPOSE_MEETING"):  roles(To{Role: RoleMeetingParticipants, Template: message.MeetingProposed, ClientTemplate: message.MeetingProposedClient}),
	step("ACTION_CONFIRM_MEETING"):  roles(To{Role: RoleMeetingParticipants, Template: message.MeetingConfirmed, ClientTemplate: message.MeetingConfirmedClient}),
	step("ACTION_WRITE_STATEMENT"):  roles(To{Role: RoleClient, ClientTemplate: message.StatementDraftClient}),
	step("ACTION_ANSWER_STATEMENT"): roles(To{Role: RoleSPC, Template: message.StatementAnswered}),
	step("ACTION_CONVEY_STATEMENT"): roles(
		To{Role: RoleTherapist, Template: message.StatementConveyed},
		To{Role: RoleSPT, Template: message.StatementConveyedSPT}),
	step("ACTION_RECORD_RESPONSE"): roles(To{Role: RoleSPC, Template: message.ResponseRecorded}),
	step("ACTION_RELAY_RESPONSE"):  roles(To{Role: RoleClient, ClientTemplate: message.ResponseRelayedClient}),
	step("ACTION_DECIDE"): roles(
		To{Role: RoleSPC, Template: message.ClientDecided},
		To{Role: RoleLP, Template: message.ClientDecided}),
	step("ACTION_CLOSE"):    roles(To{Role: RoleInvolved, Template: message.CaseClosed, ClientTemplate: message.CaseClosedClient}),
	step("ACTION_WITHDRAW"): roles(To{Role: RoleInvolved, Template: message.CaseWithdrawn, ClientTemplate: message.CaseWithdrawnClient}),

	// Messages between the client and the SPC: the other one is told.
	{Type: EventTypeCaseMessagePosted, Action: RoleClient}: roles(To{Role: RoleSPC, Template: message.MessageToSPC}),
	{Type: EventTypeCaseMessagePosted, Action: RoleSPC}:    roles(To{Role: RoleClient, ClientTemplate: message.MessageToClient}),

	// Time targets: whoever may take a next step; when late, the admins too.
	{Type: EventTypeCaseTimerFired, Action: TimerReminder}: roles(To{Role: RoleNextStepActors, Template: message.Reminder, ClientTemplate: message.ReminderClient}),
	{Type: EventTypeCaseTimerFired, Action: TimerOverdue}: roles(
		To{Role: RoleNextStepActors, Template: message.Overdue, ClientTemplate: message.OverdueClient},
		To{Role: RoleGroupAdmins, Template: message.Overdue}),
}

// RouteOf returns ev's route; ok is false when ev causes no message.
func RouteOf(ev Event) (route Route, ok bool) {
	route, ok = Routes[RouteKey{Type: ev.Type, Action: ev.Action}]
	return route, ok
}
