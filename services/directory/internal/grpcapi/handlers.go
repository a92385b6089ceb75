package grpcapi

import (
	"context"
	"strconv"
	"strings"

	"github.com/ipnmediation/disputes/platform/fault"
	"github.com/ipnmediation/disputes/platform/fieldmask"
	directoryv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/directory/v1"
	"github.com/ipnmediation/disputes/services/directory/internal/directory"
	"google.golang.org/protobuf/types/known/emptypb"
)

// nameParts returns the ids in a name of the form
// "groups/{group}/<collection>/{id}[/<sub>/{id}]" when its collections are
// the ones given, and nil otherwise.
func nameParts(name string, collections ...string) []string {
	parts := strings.Split(name, "/")
	if len(parts) != 2*len(collections)+2 || parts[0] != "groups" {
		return nil
	}
	ids := []string{parts[1]}
	for i, c := range collections {
		if parts[2+2*i] != c {
			return nil
		}
		ids = append(ids, parts[3+2*i])
	}
	return ids
}

// splitName is nameParts for a request field that the annotations already
// checked; a name of another form is a bad argument all the same.
func splitName(field, name string, collections ...string) ([]string, error) {
	ids := nameParts(name, collections...)
	if ids == nil {
		var v fault.Violations
		v.Add(field, "is not a resource name of the expected form")
		return nil, v.Err()
	}
	return ids, nil
}

// tokenHolder reads the name of a token holder:
// groups/{group}/members/{member} or groups/{group}/linkGroups/{link_group}.
func tokenHolder(field, name string) (directory.TokenHolder, error) {
	if ids := nameParts(name, "members"); ids != nil {
		return directory.TokenHolder{GroupID: ids[0], MemberID: ids[1]}, nil
	}
	ids, err := splitName(field, name, "linkGroups")
	if err != nil {
		return directory.TokenHolder{}, err
	}
	return directory.TokenHolder{GroupID: ids[0], LinkGroupID: ids[1]}, nil
}

// tokenName reads the name of an access token under either kind of holder
// and returns the holder and the token's id.
func tokenName(field, name string) (directory.TokenHolder, string, error) {
	if ids := nameParts(name, "members", "accessTokens"); ids != nil {
		return directory.TokenHolder{GroupID: ids[0], MemberID: ids[1]}, ids[2], nil
	}
	ids, err := splitName(field, name, "linkGroups", "accessTokens")
	if err != nil {
		return directory.TokenHolder{}, "", err
	}
	return directory.TokenHolder{GroupID: ids[0], LinkGroupID: ids[1]}, ids[2], nil
}

// UpdateMember implements directoryv1.DirectoryServiceServer.
func (h *Handler) UpdateMember(ctx context.Context, req *directoryv1.UpdateMemberRequest) (*directoryv1.Member, error) {
	fields, err := fieldmask.Paths(req.GetMember(), req.GetUpdateMask())
	if err != nil {
		return nil, err
	}
	m := memberDomain(req.GetMember())
	m.GroupID, m.ID = memberIDs(req.GetMember().GetName())
	updated, err := h.Service.UpdateMember(ctx, directory.MemberUpdate{
		Member: m,
		Fields: fields,
		Etag:   req.GetMember().GetEtag(),
	})
	if err != nil {
		return nil, err
	}
	return memberProto(updated), nil
}

// DeactivateMember implements directoryv1.DirectoryServiceServer.
func (h *Handler) DeactivateMember(ctx context.Context, req *directoryv1.DeactivateMemberRequest) (*directoryv1.Member, error) {
	gid, mid := memberIDs(req.GetName())
	m, err := h.Service.DeactivateMember(ctx, gid, mid, req.GetEtag())
	if err != nil {
		return nil, err
	}
	return memberProto(m), nil
}

// DeleteLinkGroup implements directoryv1.DirectoryServiceServer.
func (h *Handler) DeleteLinkGroup(ctx context.Context, req *directoryv1.DeleteLinkGroupRequest) (*emptypb.Empty, error) {
	ids, err := splitName("name", req.GetName(), "linkGroups")
	if err != nil {
		return nil, err
	}
	if err := h.Service.DeleteLinkGroup(ctx, ids[0], ids[1]); err != nil {
		return nil, err
	}
	return &emptypb.Empty{}, nil
}

// GetLinkGroup implements directoryv1.DirectoryServiceServer.
func (h *Handler) GetLinkGroup(ctx context.Context, req *directoryv1.GetLinkGroupRequest) (*directoryv1.LinkGroup, error) {
	ids, err := splitName("name", req.GetName(), "linkGroups")
	if err != nil {
		return nil, err
	}
	l, err := h.Service.GetLinkGroup(ctx, ids[0], ids[1])
	if err != nil {
		return nil, err
	}
	return linkGroupProto(l), nil
}

// CreateStatement implements directoryv1.DirectoryServiceServer.
func (h *Handler) CreateStatement(ctx context.Context, req *directoryv1.CreateStatementRequest) (*directoryv1.Statement, error) {
	st, err := h.Service.CreateStatement(ctx, groupID(req.GetParent()), req.GetStatement().GetMarkdown())
	if err != nil {
		return nil, err
	}
	return statementProto(st), nil
}

// PublishStatement implements directoryv1.DirectoryServiceServer.
func (h *Handler) PublishStatement(ctx context.Context, req *directoryv1.PublishStatementRequest) (*directoryv1.Statement, error) {
	ids, err := splitName("name", req.GetName(), "statements")
	if err != nil {
		return nil, err
	}
	published, err := h.Service.PublishStatement(ctx, ids[0], ids[1])
	if err != nil {
		return nil, err
	}
	return statementProto(published.Statement), nil
}

// GetStatement implements directoryv1.DirectoryServiceServer.
func (h *Handler) GetStatement(ctx context.Context, req *directoryv1.GetStatementRequest) (*directoryv1.Statement, error) {
	ids, err := splitName("name", req.GetName(), "statements")
	if err != nil {
		return nil, err
	}
	st, err := h.Service.GetStatement(ctx, ids[0], ids[1])
	if err != nil {
		return nil, err
	}
	return statementProto(st), nil
}

// ListStatements implements directoryv1.DirectoryServiceServer.
func (h *Handler) ListStatements(ctx context.Context, req *directoryv1.ListStatementsRequest) (*directoryv1.ListStatementsResponse, error) {
	p, err := pageOf(req.GetPageSize(), req.GetPageToken(), func(s string) bool {
		n, err := strconv.Atoi(s)
		return err == nil && n > 0
	})
	if err != nil {
		return nil, err
	}
	statements, next, err := h.Service.ListStatements(ctx, groupID(req.GetParent()), p)
	if err != nil {
		return nil, err
	}
	resp := &directoryv1.ListStatementsResponse{NextPageToken: nextToken(next)}
	for _, st := range statements {
		resp.Statements = append(resp.Statements, statementProto(st))
	}
	return resp, nil
}

// ListAccessTokens implements directoryv1.DirectoryServiceServer.
func (h *Handler) ListAccessTokens(ctx context.Context, req *directoryv1.ListAccessTokensRequest) (*directoryv1.ListAccessTokensResponse, error) {
	p, err := pageOf(req.GetPageSize(), req.GetPageToken(), directory.ValidTokenID)
	if err != nil {
		return nil, err
	}
	holder, err := tokenHolder("parent", req.GetParent())
	if err != nil {
		return nil, err
	}
	tokens, next, err := h.Service.ListAccessTokens(ctx, holder, p)
	if err != nil {
		return nil, err
	}
	resp := &directoryv1.ListAccessTokensResponse{NextPageToken: nextToken(next)}
	for _, t := range tokens {
		resp.AccessTokens = append(resp.AccessTokens, accessTokenProto(t))
	}
	return resp, nil
}

// GetAccessToken implements directoryv1.DirectoryServiceServer.
func (h *Handler) GetAccessToken(ctx context.Context, req *directoryv1.GetAccessTokenRequest) (*directoryv1.AccessToken, error) {
	holder, id, err := tokenName("name", req.GetName())
	if err != nil {
		return nil, err
	}
	t, err := h.Service.GetAccessToken(ctx, holder, id)
	if err != nil {
		return nil, err
	}
	return accessTokenProto(t), nil
}

// RevokeAccessToken implements directoryv1.DirectoryServiceServer.
func (h *Handler) RevokeAccessToken(ctx context.Context, req *directoryv1.RevokeAccessTokenRequest) (*directoryv1.AccessToken, error) {
	holder, id, err := tokenName("name", req.GetName())
	if err != nil {
		return nil, err
	}
	t, err := h.Service.RevokeAccessToken(ctx, holder, id)
	if err != nil {
		return nil, err
	}
	return accessTokenProto(t), nil
}
