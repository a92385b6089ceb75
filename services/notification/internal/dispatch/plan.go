package dispatch

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/mail"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Group is what dispatch needs to know about a group.
type Group struct {
	// Name is the resource name, "groups/{group}".
	Name        string
	DisplayName string
	// PublicContact is how the public reaches the group, in the group's
	// words; it may or may not be an e-mail address. Like any address it is
	// only used to send, never stored or logged.
	PublicContact string
}

// Member is what dispatch needs to know about a member.
type Member struct {
	// Name is the resource name, "groups/{group}/members/{member}".
	Name        string
	DisplayName string
	Active      bool
	// Admin is whether the member administers the group.
	Admin bool
	// Email is the member's address; it is only ever used to send and is
	// never stored or logged.
	Email string
}

// LinkGroup is what dispatch needs to know about one of a group's link
// groups.
type LinkGroup struct {
	// Name is the resource name, "groups/{group}/linkGroups/{link_group}".
	Name string
	// DisplayName is the linked group's name as the group recorded it.
	DisplayName string
	// LocalGroup is the linked group's resource name when it runs its
	// procedure in this deployment; empty for a group elsewhere.
	LocalGroup string
	// Email is where an external group's notices go; a local group has none
	// of its own. Only used to send, never stored or logged.
	Email string
	// Endpoint is the gRPC address (host:port) of an external group's own
	// deployment of this system, when it has one; notices then go there
	// (see Federation).
	Endpoint string
}

// ErrNotFound is what a Directory returns for a group, member or link group
// it does not have.
var ErrNotFound = errors.New("not in the directory")

// Directory answers dispatch's questions about groups, members and link
// groups.
type Directory interface {
	// Group returns the named group, or ErrNotFound.
	Group(ctx context.Context, name string) (Group, error)
	// ActiveMembers returns every active member of the group.
	ActiveMembers(ctx context.Context, group string) ([]Member, error)
	// Member returns the named member with contact details, or ErrNotFound.
	Member(ctx context.Context, name string) (Member, error)
	// LinkGroups returns every link group of the group, with external
	// groups' contact e-mails.
	LinkGroups(ctx context.Context, group string) ([]LinkGroup, error)
	// LinkGroup returns the named link group with its contact e-mail, or
	// ErrNotFound when the link (or its group) is gone.
	LinkGroup(ctx context.Context, name string) (LinkGroup, error)
}

// LinkGroupAddress returns where a link group's notices go: its own e-mail
// address, or, for a group in this deployment that has none, that group's
// public contact when it is an e-mail address. It returns "" when there is
// nowhere to send. Notification never stores the result: an address is
// looked up again at every attempt, so a corrected one is used at once.
func LinkGroupAddress(ctx context.Context, dir Directory, l LinkGroup) (string, error) {
	if addr := emailAddress(l.Email); addr != "" || l.LocalGroup == "" {
		return addr, nil
	}
	g, err := dir.Group(ctx, l.LocalGroup)
	if errors.Is(err, ErrNotFound) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("linked group: %w", err)
	}
	return emailAddress(g.PublicContact), nil
}

// emailAddress returns the address in s, or "" when s is not one (a public
// contact may as well be a telephone number or a web page).
func emailAddress(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return ""
	}
	a, err := mail.ParseAddress(s)
	if err != nil {
		return ""
	}
	return a.Address
}

// Planner turns events into deliveries.
type Planner struct {
	Directory Directory
	// Casework says who holds a case's roles; events routed to case roles
	// need it.
	Casework Casework
	// Logger notes link groups that cannot be told; nothing is logged when
	// nil.
	Logger *slog.Logger
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// Plan returns the deliveries ev causes, one per recipient, due at once. It
// returns none for an event without a route or a group the directory does
// not have. It only reads; the caller stores the result.
func (p *Planner) Plan(ctx context.Context, ev Event) ([]Delivery, error) {
	route, ok := RouteOf(ev)
	if !ok {
		return nil, nil
	}
	group, err := p.Directory.Group(ctx, ev.Group)
	if errors.Is(err, ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("plan %s: %w", ev.ID, err)
	}
	var recipients []recipient
	if route.Recipients == CaseRoles {
		recipients, err = p.caseRecipients(ctx, ev, route, group)
	} else {
		recipients, err = p.recipients(ctx, ev, route.Recipients, group)
	}
	if err != nil {
		return nil, fmt.Errorf("plan %s: %w", ev.ID, err)
	}
	facts := maps.Clone(ev.Facts)
	if facts == nil {
		facts = Facts{}
	}
	facts[FactGroupName] = group.DisplayName
	now := p.now()
	out := make([]Delivery, 0, len(recipients))
	for _, r := range recipients {
		template := route.Template
		if r.template != "" {
			template = r.template
		}
		out = append(out, Delivery{
			ID:            uuid.NewString(),
			Group:         group.Name,
			EventID:       ev.ID,
			EventType:     ev.Type,
			Template:      template,
			Recipient:     r.name,
			RecipientKind: r.kind,
			Facts:         facts,
			State:         Pending,
			NextAttemptAt: now,
			CreateTime:    now,
		})
	}
	return out, nil
}

// recipient is one addressee of a planned delivery.
type recipient struct {
	name string
	kind RecipientKind
	// template overrides the route's, for case roles.
	template string
}

// recipients returns whom a rule picks, each once.
func (p *Planner) recipients(ctx context.Context, ev Event, rule Recipients, group Group) ([]recipient, error) {
	seen := map[string]bool{}
	var out []recipient
	switch rule {
	case ActiveMembers, GroupAdmins:
		members, err := p.Directory.ActiveMembers(ctx, group.Name)
		if err != nil {
			return nil, err
		}
		for _, m := range members {
			if rule == GroupAdmins && !m.Admin {
				continue
			}
			if m.Active && !seen[m.Name] {
				seen[m.Name] = true
				out = append(out, recipient{name: m.Name, kind: MemberRecipient})
			}
		}
		return out, nil
	case LinkGroups:
		links, err := p.Directory.LinkGroups(ctx, group.Name)
		if err != nil {
			return nil, err
		}
		for _, l := range links {
			if seen[l.Name] {
				continue
			}
			seen[l.Name] = true
			addr, err := LinkGroupAddress(ctx, p.Directory, l)
			if err != nil {
				return nil, err
			}
			if addr == "" {
				// Names the link and the event only: a public contact that
				// is not an address may still be a person's name or number.
				p.logger().Info("link group has no e-mail address; it is not sent this notice",
					slog.String("link_group", l.Name), slog.String("event_id", ev.ID), slog.String("event_type", ev.Type))
				continue
			}
			out = append(out, recipient{name: l.Name, kind: LinkGroupRecipient})
		}
		return out, nil
	}
	return nil, fmt.Errorf("unknown recipient rule %d", rule)
}

func (p *Planner) logger() *slog.Logger {
	if p.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return p.Logger
}

func (p *Planner) now() time.Time {
	if p.Now != nil {
		return p.Now().UTC().Truncate(time.Microsecond)
	}
	return time.Now().UTC().Truncate(time.Microsecond)
}
