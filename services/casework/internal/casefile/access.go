package casefile

import (
	"context"
	"fmt"
	"slices"

	"github.com/ipnmediation/disputes/platform/auth"
	"github.com/ipnmediation/disputes/platform/fault"
)

// mayReadGroup decides whether the caller in ctx may list the cases of
// group: its members and the deployment's operator may. A caller that may
// not gets an error that reveals nothing about the group's cases: members
// of another group are told the resource does not exist, exactly as if it
// did not. notFound builds that error.
func mayReadGroup(ctx context.Context, group string, notFound func() *fault.Error) error {
	p := auth.FromContext(ctx)
	switch {
	case p.Kind == auth.Operator, p.InGroup(group), p.IsService(NotifierService):
		return nil
	case p.Kind == auth.Anonymous:
		return auth.ErrUnauthenticated()
	case p.Kind == auth.Service:
		// A service has no group, so refusing it says nothing about any
		// group's cases.
		return fault.New(fault.PermissionDenied, "MEMBERS_ONLY",
			fmt.Sprintf("the %s service may not read cases; only the group's members and the operator may", p.Service))
	case p.Group == group:
		// A link group reads one case at a time, as it is told of them,
		// never the list.
		return fault.New(fault.PermissionDenied, "MEMBERS_ONLY", "only the group's members may list its cases")
	default:
		return notFound()
	}
}

// mayAnswerSubjectAccess decides whether p may answer a subject access
// request about the clients of group's cases: only the group's admins may,
// since the answer gathers what the group holds about one person. what ends
// the refusal's "only the group's admins ...". Whoever may otherwise see the
// group's cases (its members and link groups, a client of the group, the
// operator, the notifier) is told that only admins may; another service is
// refused as for any read of cases; anyone else is told by notFound that
// there is nothing, exactly as when there is not.
func mayAnswerSubjectAccess(p auth.Principal, group, what string, notFound func() *fault.Error) error {
	switch {
	case p.IsGroupAdmin(group):
		return nil
	case p.Kind == auth.Anonymous:
		return auth.ErrUnauthenticated()
	case p.Kind == auth.Service && !p.IsService(NotifierService):
		return fault.New(fault.PermissionDenied, "MEMBERS_ONLY",
			fmt.Sprintf("the %s service may not read cases", p.Service))
	case p.Kind == auth.Operator, p.IsService(NotifierService), p.Group == group:
		return notAllowed("ADMIN_ONLY", "only the group's admins "+what)
	default:
		return notFound()
	}
}

// NotifierService is the service that tells people what to do next: it
// reads where a case stands and who holds its roles, like the operator, and
// the client's contact details (only those, and logged) to write to the
// client.
const NotifierService = "notification"

// caller is who is asking about one case and their roles in it.
type caller struct {
	principal auth.Principal
	roles     []Role
}

// actor is how the caller is named in the case's history: a member's or a
// link group's resource name, or "client".
func (c caller) actor() string {
	switch c.principal.Kind {
	case auth.Client:
		return ClientActor
	case auth.LinkGroup:
		return c.principal.LinkGroup
	case auth.Service:
		return c.principal.String()
	default:
		return c.principal.Member
	}
}

// has reports whether the caller holds any of rs.
func (c caller) has(rs ...Role) bool {
	return slices.ContainsFunc(rs, func(r Role) bool { return slices.Contains(c.roles, r) })
}

// rolesIn are the roles p holds in c. A member of the group is always
// ROLE_MEMBER, and may hold further roles; a client holds ROLE_CLIENT in
// their own case only; a link group holds ROLE_LINK_GROUP in its group's
// cases once the link groups have been informed of the case (see
// linkGroupsInformed), and no role before.
func (s *Service) rolesIn(p auth.Principal, c Case) []Role {
	switch {
	case p.Kind == auth.Client && p.Group == c.Group && p.Concern == c.Concern:
		return []Role{RoleClient}
	case p.Kind == auth.LinkGroup && p.Group == c.Group && s.linkGroupsInformed(c):
		return []Role{RoleLinkGroup}
	case !p.InGroup(c.Group):
		return nil
	}
	roles := []Role{RoleMember}
	for _, held := range []struct {
		member string
		role   Role
	}{
		{c.Therapist, RoleTherapist},
		{c.Roles.SPT, RoleSPT},
		{c.Roles.SPTNominee, RoleNominee},
		{c.Roles.SPC, RoleSPC},
		{c.Roles.LP, RoleLP},
	} {
		if held.member != "" && held.member == p.Member {
			roles = append(roles, held.role)
		}
	}
	return roles
}

// linkGroupsInformed reports whether a step that informs the link groups
// (procedure.Definition.InformsLinkGroups) has been taken in c. Until then a
// link group is told that the case does not exist, whatever it reads or
// tries, even when it knows the case's name. A case whose procedure
// casework does not know counts as not informed.
func (s *Service) linkGroupsInformed(c Case) bool {
	def, err := s.definition(c)
	if err != nil {
		return false
	}
	return slices.ContainsFunc(c.Progress.Taken, func(t TakenStep) bool { return def.InformsLinkGroups(t.Step) })
}

// callerOf checks that the caller in ctx may see case c (named name) and
// returns them with their roles. Whoever may not see it is told it does not
// exist, exactly as for a case that does not.
func (s *Service) callerOf(ctx context.Context, c Case, name string) (caller, error) {
	p := auth.FromContext(ctx)
	cl := caller{principal: p, roles: s.rolesIn(p, c)}
	switch {
	case len(cl.roles) > 0, p.Kind == auth.Operator, p.IsService(NotifierService):
		return cl, nil
	case p.Kind == auth.Anonymous:
		return caller{}, auth.ErrUnauthenticated()
	case p.Kind == auth.Service:
		return caller{}, fault.New(fault.PermissionDenied, "MEMBERS_ONLY",
			fmt.Sprintf("the %s service may not read cases", p.Service))
	default:
		return caller{}, caseNotFound(name)()
	}
}

func caseNotFound(name string) func() *fault.Error {
	return func() *fault.Error {
		return &fault.Error{Kind: fault.NotFound, Reason: "CASE_NOT_FOUND",
			Message: fmt.Sprintf("there is no case %s", name), Metadata: map[string]string{"case": name}}
	}
}

func groupNotFound(group string) func() *fault.Error {
	return func() *fault.Error {
		return &fault.Error{Kind: fault.NotFound, Reason: "GROUP_NOT_FOUND",
			Message: fmt.Sprintf("there is no group %s", group), Metadata: map[string]string{"group": group}}
	}
}

// notAllowed is the error for a caller who may see the case but not do or
// read this; it names who may, never what is there.
func notAllowed(reason, message string) *fault.Error {
	return fault.New(fault.PermissionDenied, reason, message)
}
