package casefile

import (
	"context"
	"slices"
	"time"

	"github.com/ipnmediation/disputes/platform/auth"
)

// Awaiting says which of the group's members a case waits for: who may now
// take a step of its next steps that is not optional. The store keeps it
// beside the case, rewritten with every change, so that a member's list of
// the cases waiting for them is a query rather than the next steps of every
// case worked out on every read. A member m is awaited when
//
//	m is in Members, or AnyMember and m is not in Excluded
//
// (the store's SQL says the same). The client and link groups are left out:
// their lists are their own case, or none.
type Awaiting struct {
	// Members are the case's role holders (therapist, SPT, nominee, SPC,
	// LP) who may take a step the case waits for, in any of their roles.
	Members []string
	// AnyMember says that a member who holds no role in the case may take
	// such a step.
	AnyMember bool
	// Excluded are the role holders who may not, although AnyMember is set:
	// the roles they hold keep them from every step the case waits for (the
	// therapist from appointing the support people, say). Empty unless
	// AnyMember.
	Excluded []string
}

// Includes reports whether the case waits for member, as the store's query
// decides it.
func (a Awaiting) Includes(member string) bool {
	return slices.Contains(a.Members, member) || (a.AnyMember && !slices.Contains(a.Excluded, member))
}

// AwaitingOf works out whom c waits for with the code that gives every
// reader the case's next steps (view): for a member with no role in the case
// and for each of its role holders, it asks whether any next step that is
// not optional has CallerMay. So the stored answer and next_steps'
// caller_may_take cannot disagree. A closed case, or one whose procedure
// casework does not know, waits for nobody, as it shows no next steps.
func (s *Service) AwaitingOf(c Case) Awaiting {
	mayTake := func(member string) bool {
		p := auth.Principal{Kind: auth.Member, Group: c.Group, Member: member}
		// The clock plays no part in next steps; any instant will do.
		v := s.view(c, caller{principal: p, roles: s.rolesIn(p, c)}, time.Time{})
		return slices.ContainsFunc(v.Next, func(n NextStep) bool { return n.CallerMay && !n.Optional })
	}
	// A member without a role: the empty name, which no role holder has
	// (rolesIn skips roles nobody holds), so it gets ROLE_MEMBER alone.
	a := Awaiting{AnyMember: mayTake("")}
	for _, holder := range []string{c.Therapist, c.Roles.SPT, c.Roles.SPTNominee, c.Roles.SPC, c.Roles.LP} {
		if holder == "" || slices.Contains(a.Members, holder) || slices.Contains(a.Excluded, holder) {
			continue
		}
		switch {
		case mayTake(holder):
			a.Members = append(a.Members, holder)
		case a.AnyMember:
			a.Excluded = append(a.Excluded, holder)
		}
	}
	slices.Sort(a.Members)
	slices.Sort(a.Excluded)
	return a
}

// update is Store.Update with whom the case then waits for worked out from
// the case change returns, so that every change of a case, whatever it is,
// keeps the stored Awaiting in step within its transaction. Every change of
// a case goes through here.
func (s *Service) update(ctx context.Context, group, id string, change func(Case) (Change, error)) (Change, error) {
	return s.Store.Update(ctx, group, id, func(c Case) (Change, error) {
		ch, err := change(c)
		if err != nil {
			return ch, err
		}
		ch.Awaiting = s.AwaitingOf(ch.Case)
		return ch, nil
	})
}
