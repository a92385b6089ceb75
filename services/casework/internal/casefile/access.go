package casefile

import (
	"context"
	"fmt"

	"github.com/ipnmediation/disputes/platform/auth"
	"github.com/ipnmediation/disputes/platform/fault"
)

// mayReadGroup decides whether the caller in ctx may read the cases of group:
// its members and the deployment's operator may. A caller that may not gets
// an error that reveals nothing about the group's cases: members of another
// group are told the resource does not exist, exactly as if it did not.
// notFound builds that error.
func mayReadGroup(ctx context.Context, group string, notFound func() *fault.Error) error {
	p := auth.FromContext(ctx)
	switch {
	case p.Kind == auth.Operator, p.InGroup(group):
		return nil
	case p.Kind == auth.Anonymous:
		return auth.ErrUnauthenticated()
	case p.Kind == auth.Service:
		// A service has no group, so refusing it says nothing about any
		// group's cases; no service needs to read cases yet.
		return fault.New(fault.PermissionDenied, "MEMBERS_ONLY",
			fmt.Sprintf("the %s service may not read cases; only the group's members and the operator may", p.Service))
	default:
		return notFound()
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
