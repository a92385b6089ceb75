package grpcapi

import (
	"context"

	"github.com/ipnmediation/disputes/platform/fault"
	directoryv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/directory/v1"
)

// Validate checks what the proto annotations cannot: the domain checks field
// contents; here only the shape of names that the handlers split. Names in
// resource_reference fields are already checked against their patterns, and
// every string's length (an Authenticate secret's 512 characters included)
// is the contract's max_length, applied before Validate runs.
func Validate(_ context.Context, _ string, req any) error {
	var v fault.Violations
	switch r := req.(type) {
	case *directoryv1.UpdateGroupRequest:
		if r.GetGroup().GetName() == "" {
			v.Add("group.name", "is required")
		}
	case *directoryv1.UpdateMemberRequest:
		if ids := nameParts(r.GetMember().GetName(), "members"); ids == nil || ids[0] == "" || ids[1] == "" {
			v.Add("member.name", "must be a resource name of the form groups/{group}/members/{member}")
		}
	}
	return v.Err()
}
