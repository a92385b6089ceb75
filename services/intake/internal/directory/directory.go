// Package directory answers the concern package's questions about groups and
// members by asking the directory service over gRPC.
package directory

import (
	"context"
	"fmt"

	"github.com/ipnmediation/disputes/platform/fault"
	directoryv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/directory/v1"
	"github.com/ipnmediation/disputes/services/intake/internal/concern"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// maxLinkGroupPages bounds the paging through a group's link groups; a group
// has two, so one page is the rule.
const maxLinkGroupPages = 10

// Client implements concern.Directory.
type Client struct {
	Directory directoryv1.DirectoryServiceClient
}

var _ concern.Directory = Client{}

// Group implements concern.Directory.
func (c Client) Group(ctx context.Context, name string) (concern.GroupFacts, bool, error) {
	if _, err := c.Directory.GetGroup(ctx, &directoryv1.GetGroupRequest{Name: name}); err != nil {
		if status.Code(err) == codes.NotFound {
			return concern.GroupFacts{}, false, nil
		}
		return concern.GroupFacts{}, false, failed("get group", err)
	}
	var facts concern.GroupFacts
	token := ""
	for range maxLinkGroupPages {
		resp, err := c.Directory.ListLinkGroups(ctx, &directoryv1.ListLinkGroupsRequest{Parent: name, PageSize: 50, PageToken: token})
		if err != nil {
			return concern.GroupFacts{}, false, failed("list link groups", err)
		}
		facts.LinkGroups += len(resp.GetLinkGroups())
		if token = resp.GetNextPageToken(); token == "" {
			return facts, true, nil
		}
	}
	return concern.GroupFacts{}, false, fmt.Errorf("list link groups of %s: more than %d pages", name, maxLinkGroupPages)
}

// Member implements concern.Directory.
func (c Client) Member(ctx context.Context, name string) (concern.MemberFacts, bool, error) {
	m, err := c.Directory.GetMember(ctx, &directoryv1.GetMemberRequest{Name: name})
	if err != nil {
		if status.Code(err) == codes.NotFound {
			return concern.MemberFacts{}, false, nil
		}
		return concern.MemberFacts{}, false, failed("get member", err)
	}
	return concern.MemberFacts{Active: m.GetState() == directoryv1.Member_STATE_ACTIVE}, true, nil
}

// failed tells a directory that is down or slow (worth trying again later)
// from anything else, which is this deployment's fault and stays internal.
func failed(what string, err error) error {
	switch status.Code(err) {
	case codes.Unavailable, codes.DeadlineExceeded, codes.ResourceExhausted:
		return &fault.Error{Kind: fault.Unavailable, Reason: "DIRECTORY_UNAVAILABLE",
			Message: "the directory of groups cannot be reached just now; please try again shortly",
			Cause:   fmt.Errorf("%s: %w", what, err)}
	}
	return fmt.Errorf("directory: %s: %w", what, err)
}

// GroupName is the display name of the group name (groups/{g}), for the
// mail with a client's sign-in links; session.Groups.
func (c Client) GroupName(ctx context.Context, name string) (string, error) {
	g, err := c.Directory.GetGroup(ctx, &directoryv1.GetGroupRequest{Name: name})
	if err != nil {
		return "", failed("get group", err)
	}
	return g.GetDisplayName(), nil
}
