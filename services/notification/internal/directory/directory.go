// Package directory answers dispatch's questions about groups, members and
// link groups by asking the directory service over gRPC with the
// notification service's credential, which is what lets it see members'
// contact details and external link groups' contact e-mails.
package directory

import (
	"context"
	"fmt"
	"strings"

	directoryv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/directory/v1"
	"github.com/ipnmediation/disputes/services/notification/internal/dispatch"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// maxPages bounds the paging through a group's members or link groups: a
// group has six or seven members and two link groups, so one page is the
// rule and a hundred is a broken directory.
const maxPages = 100

// Client implements dispatch.Directory.
type Client struct {
	Directory directoryv1.DirectoryServiceClient
}

var _ dispatch.Directory = Client{}

// Group implements dispatch.Directory.
func (c Client) Group(ctx context.Context, name string) (dispatch.Group, error) {
	g, err := c.Directory.GetGroup(ctx, &directoryv1.GetGroupRequest{Name: name})
	if err != nil {
		return dispatch.Group{}, failed("get group", err)
	}
	return dispatch.Group{Name: g.GetName(), DisplayName: g.GetDisplayName(), PublicContact: g.GetPublicContact()}, nil
}

// ActiveMembers implements dispatch.Directory.
func (c Client) ActiveMembers(ctx context.Context, group string) ([]dispatch.Member, error) {
	var out []dispatch.Member
	token := ""
	for range maxPages {
		resp, err := c.Directory.ListMembers(ctx, &directoryv1.ListMembersRequest{
			Parent: group, PageSize: 200, PageToken: token, ActiveOnly: true,
		})
		if err != nil {
			return nil, failed("list members", err)
		}
		for _, m := range resp.GetMembers() {
			out = append(out, member(m))
		}
		if token = resp.GetNextPageToken(); token == "" {
			return out, nil
		}
	}
	return nil, fmt.Errorf("directory: members of %s: more than %d pages", group, maxPages)
}

// Member implements dispatch.Directory.
func (c Client) Member(ctx context.Context, name string) (dispatch.Member, error) {
	m, err := c.Directory.GetMember(ctx, &directoryv1.GetMemberRequest{Name: name})
	if err != nil {
		return dispatch.Member{}, failed("get member", err)
	}
	return member(m), nil
}

// LinkGroups implements dispatch.Directory.
func (c Client) LinkGroups(ctx context.Context, group string) ([]dispatch.LinkGroup, error) {
	var out []dispatch.LinkGroup
	token := ""
	for range maxPages {
		resp, err := c.Directory.ListLinkGroups(ctx, &directoryv1.ListLinkGroupsRequest{
			Parent: group, PageSize: 200, PageToken: token,
		})
		if err != nil {
			return nil, failed("list link groups", err)
		}
		for _, l := range resp.GetLinkGroups() {
			out = append(out, linkGroup(l))
		}
		if token = resp.GetNextPageToken(); token == "" {
			return out, nil
		}
	}
	return nil, fmt.Errorf("directory: link groups of %s: more than %d pages", group, maxPages)
}

// LinkGroup implements dispatch.Directory. The directory has no call for
// one link group, so it lists the group's few and picks the one named.
func (c Client) LinkGroup(ctx context.Context, name string) (dispatch.LinkGroup, error) {
	group, _, ok := strings.Cut(name, "/linkGroups/")
	if !ok {
		return dispatch.LinkGroup{}, fmt.Errorf("directory: %q is not a link group: %w", name, dispatch.ErrNotFound)
	}
	links, err := c.LinkGroups(ctx, group)
	if err != nil {
		return dispatch.LinkGroup{}, err
	}
	for _, l := range links {
		if l.Name == name {
			return l, nil
		}
	}
	return dispatch.LinkGroup{}, fmt.Errorf("directory: link group: %w", dispatch.ErrNotFound)
}

func linkGroup(l *directoryv1.LinkGroup) dispatch.LinkGroup {
	return dispatch.LinkGroup{
		Name:        l.GetName(),
		DisplayName: l.GetDisplayName(),
		LocalGroup:  l.GetLocalGroup(),
		Email:       l.GetExternalGroup().GetContactEmail(),
		Endpoint:    l.GetExternalGroup().GetGrpcEndpoint(),
	}
}

func member(m *directoryv1.Member) dispatch.Member {
	return dispatch.Member{
		Name:        m.GetName(),
		DisplayName: m.GetDisplayName(),
		Active:      m.GetState() == directoryv1.Member_STATE_ACTIVE,
		Admin:       m.GetGroupAdmin(),
		Email:       m.GetContact().GetEmail(),
	}
}

// failed turns NotFound into dispatch.ErrNotFound, marks what a retry cures
// (the directory unreachable, overloaded or too slow, or our call cut
// short) as dispatch.Unreachable, and keeps anything else as it is, which
// counts toward a delivery's attempts. gRPC status messages from the
// directory carry no contact details.
func failed(what string, err error) error {
	switch status.Code(err) {
	case codes.NotFound:
		return fmt.Errorf("directory: %s: %w", what, dispatch.ErrNotFound)
	case codes.Unavailable, codes.DeadlineExceeded, codes.Canceled, codes.ResourceExhausted, codes.Aborted:
		return dispatch.Unreachable(fmt.Errorf("directory: %s: %w", what, err))
	}
	return fmt.Errorf("directory: %s: %w", what, err)
}
