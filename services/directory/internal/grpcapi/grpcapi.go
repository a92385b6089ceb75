// Package grpcapi serves the directory over gRPC: it translates between
// proto messages and the domain, and nothing more.
package grpcapi

import (
	"context"
	"encoding/base64"
	"strings"

	"github.com/ipnmediation/disputes/platform/fault"
	"github.com/ipnmediation/disputes/platform/fieldmask"
	directoryv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/directory/v1"
	"github.com/ipnmediation/disputes/services/directory/internal/directory"
	"google.golang.org/protobuf/types/known/durationpb"
)

// Handler implements directoryv1.DirectoryServiceServer.
type Handler struct {
	directoryv1.UnimplementedDirectoryServiceServer
	Service *directory.Service
	SignInHandler
}

const (
	defaultPageSize = 50
	maxPageSize     = 200
)

// page reads page_size and page_token of a list ordered by resource id.
func page(size int32, token string) (directory.Page, error) {
	return pageOf(size, token, directory.ValidID)
}

// pageOf reads page_size and page_token; the token is the opaque form of the
// cursor of the previous page (the last id it held), which valid checks.
func pageOf(size int32, token string, valid func(string) bool) (directory.Page, error) {
	p := directory.Page{Size: int(size)}
	switch {
	case size < 0:
		var v fault.Violations
		v.Add("page_size", "must not be negative")
		return p, v.Err()
	case size == 0:
		p.Size = defaultPageSize
	case size > maxPageSize:
		p.Size = maxPageSize
	}
	if token != "" {
		after, err := base64.RawURLEncoding.DecodeString(token)
		if err != nil || !valid(string(after)) {
			var v fault.Violations
			v.Add("page_token", "is not a token from a previous response")
			return p, v.Err()
		}
		p.After = string(after)
	}
	return p, nil
}

func nextToken(after string) string {
	if after == "" {
		return ""
	}
	return base64.RawURLEncoding.EncodeToString([]byte(after))
}

// groupID returns the id in "groups/{group}".
func groupID(name string) string { return strings.TrimPrefix(name, "groups/") }

// memberIDs returns the ids in "groups/{group}/members/{member}".
func memberIDs(name string) (string, string) {
	parts := strings.Split(name, "/")
	if len(parts) != 4 {
		return "", ""
	}
	return parts[1], parts[3]
}

// GetGroup implements directoryv1.DirectoryServiceServer.
func (h *Handler) GetGroup(ctx context.Context, req *directoryv1.GetGroupRequest) (*directoryv1.Group, error) {
	g, err := h.Service.GetGroup(ctx, groupID(req.GetName()))
	if err != nil {
		return nil, err
	}
	return groupProto(g), nil
}

// ListGroups implements directoryv1.DirectoryServiceServer.
func (h *Handler) ListGroups(ctx context.Context, req *directoryv1.ListGroupsRequest) (*directoryv1.ListGroupsResponse, error) {
	p, err := page(req.GetPageSize(), req.GetPageToken())
	if err != nil {
		return nil, err
	}
	groups, next, err := h.Service.ListGroups(ctx, p)
	if err != nil {
		return nil, err
	}
	resp := &directoryv1.ListGroupsResponse{NextPageToken: nextToken(next)}
	for _, g := range groups {
		resp.Groups = append(resp.Groups, groupProto(g))
	}
	return resp, nil
}

// CreateGroup implements directoryv1.DirectoryServiceServer.
func (h *Handler) CreateGroup(ctx context.Context, req *directoryv1.CreateGroupRequest) (*directoryv1.Group, error) {
	g := groupDomain(req.GetGroup())
	g.ID = req.GetGroupId()
	created, err := h.Service.CreateGroup(ctx, g)
	if err != nil {
		return nil, err
	}
	return groupProto(created), nil
}

// UpdateGroup implements directoryv1.DirectoryServiceServer.
func (h *Handler) UpdateGroup(ctx context.Context, req *directoryv1.UpdateGroupRequest) (*directoryv1.Group, error) {
	fields, err := fieldmask.Paths(req.GetGroup(), req.GetUpdateMask())
	if err != nil {
		return nil, err
	}
	g := groupDomain(req.GetGroup())
	g.ID = groupID(req.GetGroup().GetName())
	updated, err := h.Service.UpdateGroup(ctx, directory.GroupUpdate{
		Group:  g,
		Fields: fields,
		Etag:   req.GetGroup().GetEtag(),
	})
	if err != nil {
		return nil, err
	}
	return groupProto(updated), nil
}

// GetMember implements directoryv1.DirectoryServiceServer.
func (h *Handler) GetMember(ctx context.Context, req *directoryv1.GetMemberRequest) (*directoryv1.Member, error) {
	gid, mid := memberIDs(req.GetName())
	m, err := h.Service.GetMember(ctx, gid, mid)
	if err != nil {
		return nil, err
	}
	return memberProto(m), nil
}

// ListMembers implements directoryv1.DirectoryServiceServer.
func (h *Handler) ListMembers(ctx context.Context, req *directoryv1.ListMembersRequest) (*directoryv1.ListMembersResponse, error) {
	p, err := page(req.GetPageSize(), req.GetPageToken())
	if err != nil {
		return nil, err
	}
	members, next, err := h.Service.ListMembers(ctx, groupID(req.GetParent()), req.GetActiveOnly(), p)
	if err != nil {
		return nil, err
	}
	resp := &directoryv1.ListMembersResponse{NextPageToken: nextToken(next)}
	for _, m := range members {
		resp.Members = append(resp.Members, memberProto(m))
	}
	return resp, nil
}

// CreateMember implements directoryv1.DirectoryServiceServer.
func (h *Handler) CreateMember(ctx context.Context, req *directoryv1.CreateMemberRequest) (*directoryv1.Member, error) {
	m := memberDomain(req.GetMember())
	m.GroupID, m.ID = groupID(req.GetParent()), req.GetMemberId()
	created, err := h.Service.CreateMember(ctx, m)
	if err != nil {
		return nil, err
	}
	return memberProto(created), nil
}

// ListLinkGroups implements directoryv1.DirectoryServiceServer.
func (h *Handler) ListLinkGroups(ctx context.Context, req *directoryv1.ListLinkGroupsRequest) (*directoryv1.ListLinkGroupsResponse, error) {
	p, err := page(req.GetPageSize(), req.GetPageToken())
	if err != nil {
		return nil, err
	}
	links, next, err := h.Service.ListLinkGroups(ctx, groupID(req.GetParent()), p)
	if err != nil {
		return nil, err
	}
	resp := &directoryv1.ListLinkGroupsResponse{NextPageToken: nextToken(next)}
	for _, l := range links {
		resp.LinkGroups = append(resp.LinkGroups, linkGroupProto(l))
	}
	return resp, nil
}

// CreateLinkGroup implements directoryv1.DirectoryServiceServer.
func (h *Handler) CreateLinkGroup(ctx context.Context, req *directoryv1.CreateLinkGroupRequest) (*directoryv1.LinkGroup, error) {
	in := req.GetLinkGroup()
	l := directory.LinkGroup{
		GroupID:      groupID(req.GetParent()),
		ID:           req.GetLinkGroupId(),
		DisplayName:  in.GetDisplayName(),
		LocalGroup:   in.GetLocalGroup(),
		ContactEmail: in.GetExternalGroup().GetContactEmail(),
		GRPCEndpoint: in.GetExternalGroup().GetGrpcEndpoint(),
	}
	created, err := h.Service.CreateLinkGroup(ctx, l)
	if err != nil {
		return nil, err
	}
	return linkGroupProto(created), nil
}

// CreateAccessToken implements directoryv1.DirectoryServiceServer.
func (h *Handler) CreateAccessToken(ctx context.Context, req *directoryv1.CreateAccessTokenRequest) (*directoryv1.AccessToken, error) {
	holder, err := tokenHolder("parent", req.GetParent())
	if err != nil {
		return nil, err
	}
	var expire = req.GetAccessToken().GetExpireTime()
	issued, err := h.Service.CreateAccessToken(ctx, holder, req.GetAccessToken().GetDisplayName(), timeOrZero(expire))
	if err != nil {
		return nil, err
	}
	out := accessTokenProto(issued.AccessToken)
	out.Secret = issued.Secret
	return out, nil
}

// Authenticate implements directoryv1.DirectoryServiceServer.
func (h *Handler) Authenticate(ctx context.Context, req *directoryv1.AuthenticateRequest) (*directoryv1.AuthenticateResponse, error) {
	a, err := h.Service.Authenticate(ctx, req.GetSecret())
	if err != nil {
		return nil, err
	}
	return &directoryv1.AuthenticateResponse{
		Member:     a.Member,
		Group:      a.Group,
		GroupAdmin: a.GroupAdmin,
		Operator:   a.Operator,
		LinkGroup:  a.LinkGroup,
		CacheTtl:   durationpb.New(directory.AuthCacheTTL),
	}, nil
}
