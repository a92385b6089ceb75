package dispatch

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"time"

	"github.com/google/uuid"
)

// Group is what dispatch needs to know about a group.
type Group struct {
	// Name is the resource name, "groups/{group}".
	Name        string
	DisplayName string
}

// Member is what dispatch needs to know about a member.
type Member struct {
	// Name is the resource name, "groups/{group}/members/{member}".
	Name        string
	DisplayName string
	Active      bool
	// Email is the member's address; it is only ever used to send and is
	// never stored or logged.
	Email string
}

// ErrNotFound is what a Directory returns for a group or member it does not
// have.
var ErrNotFound = errors.New("not in the directory")

// Directory answers dispatch's questions about groups and members.
type Directory interface {
	// Group returns the named group, or ErrNotFound.
	Group(ctx context.Context, name string) (Group, error)
	// ActiveMembers returns every active member of the group.
	ActiveMembers(ctx context.Context, group string) ([]Member, error)
	// Member returns the named member with contact details, or ErrNotFound.
	Member(ctx context.Context, name string) (Member, error)
}

// Planner turns events into deliveries.
type Planner struct {
	Directory Directory
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// Plan returns the deliveries ev causes, one per recipient, due at once. It
// returns none for an event type without a route or a group the directory
// does not have. It only reads; the caller stores the result.
func (p *Planner) Plan(ctx context.Context, ev Event) ([]Delivery, error) {
	route, ok := Routes[ev.Type]
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
	recipients, err := p.recipients(ctx, route.Recipients, group)
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
		out = append(out, Delivery{
			ID:            uuid.NewString(),
			Group:         group.Name,
			EventID:       ev.ID,
			EventType:     ev.Type,
			Template:      route.Template,
			Recipient:     r,
			Facts:         facts,
			State:         Pending,
			NextAttemptAt: now,
			CreateTime:    now,
		})
	}
	return out, nil
}

// recipients returns the resource names a rule picks, each once.
func (p *Planner) recipients(ctx context.Context, rule Recipients, group Group) ([]string, error) {
	switch rule {
	case ActiveMembers:
		members, err := p.Directory.ActiveMembers(ctx, group.Name)
		if err != nil {
			return nil, err
		}
		seen := map[string]bool{}
		var names []string
		for _, m := range members {
			if m.Active && !seen[m.Name] {
				seen[m.Name] = true
				names = append(names, m.Name)
			}
		}
		return names, nil
	}
	return nil, fmt.Errorf("unknown recipient rule %d", rule)
}

func (p *Planner) now() time.Time {
	if p.Now != nil {
		return p.Now().UTC().Truncate(time.Microsecond)
	}
	return time.Now().UTC().Truncate(time.Microsecond)
}
