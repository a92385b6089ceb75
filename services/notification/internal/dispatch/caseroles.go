package dispatch

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
)

// Case is what dispatch needs to know about a case: who holds its roles and
// what may happen next. It never holds the concern, the client's name or
// the client's contact details.
type Case struct {
	// Name is the resource name, "groups/{group}/cases/{case}".
	Name string
	// Procedure is the procedure the case follows, "procedures/{procedure}".
	Procedure string
	// The members holding the case's roles, by resource name; empty while
	// nobody does.
	Therapist, SPT, Nominee, SPC, LP string
	// Closed is whether the case has an outcome.
	Closed bool
	// NextSteps are the steps that may be taken now.
	NextSteps []NextStep
}

// NextStep is a step that may be taken now and the roles that may take it.
type NextStep struct {
	// Step is the step's id; Title its title in the procedure.
	Step, Title string
	// Actors are names of ipn.disputes.procedure.v1.Role values.
	Actors []string
	// Excluded are the roles that may not take it even when they hold one
	// of the actors' roles (the therapist among the members who appoint
	// the SPC and the LP).
	Excluded []string
	// Optional steps may be taken but the case does not wait for them (the
	// client's withdrawal): they are nobody's to be reminded of.
	Optional bool
	// TowardFirstResponse says whether taking the step brings the case
	// nearer its first response, as casework reads the procedure.
	TowardFirstResponse bool
}

// lateFor narrows the case's next steps to those a timer of target is
// about. For the first response that is the steps toward it: the LP's
// link group notice does not make the first response late. Should none of
// the next steps lead there, every next step stays, so that someone is
// still told.
func (c Case) lateFor(target string) Case {
	if target != TargetFirstResponse {
		return c
	}
	var toward []NextStep
	for _, s := range c.NextSteps {
		if s.TowardFirstResponse && !s.Optional {
			toward = append(toward, s)
		}
	}
	if len(toward) > 0 {
		c.NextSteps = toward
	}
	return c
}

// awaits reports whether case c waits for member to take the step: it is
// not optional, and member holds one of its actors' roles (every member
// holds ROLE_MEMBER) and none of its excluded roles.
func (s NextStep) awaits(c Case, member string) bool {
	if s.Optional {
		return false
	}
	if slices.ContainsFunc(s.Excluded, func(role string) bool { return c.holder(role) == member }) {
		return false
	}
	return slices.ContainsFunc(s.Actors, func(role string) bool { return c.Holds(member, role) })
}

// The kinds of meeting, names of ipn.disputes.procedure.v1.MeetingKind
// values.
const (
	MeetingClient    = "MEETING_KIND_CLIENT"
	MeetingJoint     = "MEETING_KIND_JOINT"
	MeetingFullGroup = "MEETING_KIND_FULL_GROUP"
)

// meetingParticipants are the roles of each kind of meeting, as the
// procedure defines them.
var meetingParticipants = map[string][]string{
	MeetingClient:    {RoleClient, RoleSPC},
	MeetingJoint:     {RoleClient, RoleSPC, RoleTherapist, RoleSPT},
	MeetingFullGroup: {RoleMember},
}

// involved are the roles of RoleInvolved.
var involved = []string{RoleClient, RoleTherapist, RoleSPT, RoleNominee, RoleSPC, RoleLP}

// Casework answers dispatch's questions about cases.
type Casework interface {
	// Case returns the named case, or ErrNotFound.
	Case(ctx context.Context, name string) (Case, error)
	// MeetingKind returns the kind of meeting a step of a procedure is
	// about; "" for a step about none.
	MeetingKind(ctx context.Context, procedure, step string) (string, error)
	// ClientEmail returns the client's e-mail address for the case, "" when
	// the client gave none, or ErrNotFound. It is only used to send, never
	// stored or logged.
	ClientEmail(ctx context.Context, caseName string) (string, error)
}

// ClientRecipientOf is the recipient name of the client of a case. It names
// the case, not the person.
func ClientRecipientOf(caseName string) string { return caseName + "/client" }

// caseRecipients returns whom a CaseRoles route tells, each once, with the
// template each gets.
func (p *Planner) caseRecipients(ctx context.Context, ev Event, route Route, group Group) ([]recipient, error) {
	if p.Casework == nil {
		return nil, errors.New("no casework to ask who holds the case's roles")
	}
	caseName := ev.Facts[FactCase]
	c, err := p.Casework.Case(ctx, caseName)
	if errors.Is(err, ErrNotFound) {
		// Purged, or never there: there is nobody to tell.
		p.logger().Info("the case is not in casework; nobody is told",
			slog.String("case", caseName), slog.String("event_id", ev.ID), slog.String("event_type", ev.Type))
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("case: %w", err)
	}
	if ev.Type == EventTypeCaseTimerFired {
		c = c.lateFor(ev.Facts[FactTarget])
	}
	var members []Member
	loadMembers := func() error {
		if members != nil {
			return nil
		}
		ms, err := p.Directory.ActiveMembers(ctx, group.Name)
		if err != nil {
			return err
		}
		members = append([]Member{}, ms...)
		return nil
	}
	seen := map[string]bool{}
	var out []recipient
	add := func(name string, kind RecipientKind, template string) {
		if name == "" || template == "" || seen[name] {
			return
		}
		seen[name] = true
		out = append(out, recipient{name: name, kind: kind, template: template})
	}
	for _, to := range route.To {
		held, err := p.expand(ctx, ev, c, to.Role)
		if err != nil {
			return nil, err
		}
		for _, role := range held {
			switch role {
			case RoleClient:
				add(ClientRecipientOf(c.Name), ClientRecipient, to.ClientTemplate)
			case RoleMember, RoleGroupAdmins:
				if err := loadMembers(); err != nil {
					return nil, err
				}
				for _, m := range members {
					if !m.Active || (role == RoleGroupAdmins && !m.Admin) {
						continue
					}
					// For the steps to take next, only members who may take
					// one of them: a step open to every member may still
					// exclude some (the therapist).
					if to.Role == RoleNextStepActors && !slices.ContainsFunc(c.NextSteps, func(s NextStep) bool { return s.awaits(c, m.Name) }) {
						continue
					}
					add(m.Name, MemberRecipient, to.Template)
				}
			default:
				holder := c.holder(role)
				if holder == "" {
					// Names the case and the role only: nobody to tell yet.
					p.logger().Info("nobody holds the role; it is not told",
						slog.String("role", role), slog.String("case", c.Name), slog.String("event_id", ev.ID), slog.String("event_type", ev.Type))
					continue
				}
				add(holder, MemberRecipient, to.Template)
			}
		}
	}
	return out, nil
}

// expand turns a route's role into the case roles it stands for.
func (p *Planner) expand(ctx context.Context, ev Event, c Case, role string) ([]string, error) {
	switch role {
	case RoleInvolved:
		return involved, nil
	case RoleMeetingParticipants:
		kind, err := p.Casework.MeetingKind(ctx, c.Procedure, ev.Step)
		if err != nil {
			return nil, fmt.Errorf("meeting kind: %w", err)
		}
		return meetingParticipants[kind], nil
	case RoleNextStepActors:
		var out []string
		for _, s := range c.NextSteps {
			if s.Optional {
				continue
			}
			for _, a := range s.Actors {
				if !slices.Contains(out, a) {
					out = append(out, a)
				}
			}
		}
		return out, nil
	}
	return []string{role}, nil
}

// holder is the member holding a role of the case, "" when nobody does.
func (c Case) holder(role string) string {
	switch role {
	case RoleTherapist:
		return c.Therapist
	case RoleSPT:
		return c.SPT
	case RoleNominee:
		return c.Nominee
	case RoleSPC:
		return c.SPC
	case RoleLP:
		return c.LP
	}
	return ""
}

// Holds reports whether member holds role in the case (RoleMember is every
// member, which the caller knows).
func (c Case) Holds(member, role string) bool {
	return role == RoleMember || (member != "" && c.holder(role) == member)
}
