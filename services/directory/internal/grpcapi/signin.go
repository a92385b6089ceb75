package grpcapi

import (
	"context"
	"strings"

	"github.com/ipnmediation/disputes/platform/grpcserver"
	"github.com/ipnmediation/disputes/platform/signinlink"
	directoryv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/directory/v1"
	"github.com/ipnmediation/disputes/services/directory/internal/directory"
	"google.golang.org/protobuf/types/known/emptypb"
)

// SignInHandler serves sign-in links and member sessions; Handler embeds it.
type SignInHandler struct {
	SignIns   *directory.SignIns
	Addresses grpcserver.ClientAddresses
}

// RequestSignInLink implements directoryv1.DirectoryServiceServer.
func (h *Handler) RequestSignInLink(ctx context.Context, req *directoryv1.RequestSignInLinkRequest) (*emptypb.Empty, error) {
	source, where := signinlink.Source(ctx, h.Addresses)
	err := h.SignIns.RequestSignInLink(ctx, directory.LinkRequest{
		GroupID: groupID(req.GetGroup()), Email: req.GetEmail(), Source: source, Where: where})
	if err != nil {
		return nil, err
	}
	return &emptypb.Empty{}, nil
}

// CreateMemberSession implements directoryv1.DirectoryServiceServer.
func (h *Handler) CreateMemberSession(ctx context.Context, req *directoryv1.CreateMemberSessionRequest) (*directoryv1.MemberSession, error) {
	s, err := h.SignIns.CreateMemberSession(ctx, req.GetSecret())
	if err != nil {
		return nil, err
	}
	out := sessionProto(s.MemberSession)
	out.Token = s.Token
	return out, nil
}

// ListMemberSessions implements directoryv1.DirectoryServiceServer.
func (h *Handler) ListMemberSessions(ctx context.Context, req *directoryv1.ListMemberSessionsRequest) (*directoryv1.ListMemberSessionsResponse, error) {
	p, err := pageOf(req.GetPageSize(), req.GetPageToken(), directory.ValidTokenID)
	if err != nil {
		return nil, err
	}
	gid, mid := memberIDs(req.GetParent())
	sessions, next, err := h.SignIns.ListMemberSessions(ctx, gid, mid, p)
	if err != nil {
		return nil, err
	}
	resp := &directoryv1.ListMemberSessionsResponse{NextPageToken: nextToken(next)}
	for _, s := range sessions {
		resp.MemberSessions = append(resp.MemberSessions, sessionProto(s))
	}
	return resp, nil
}

// GetMemberSession implements directoryv1.DirectoryServiceServer.
func (h *Handler) GetMemberSession(ctx context.Context, req *directoryv1.GetMemberSessionRequest) (*directoryv1.MemberSession, error) {
	gid, mid, id := sessionIDs(req.GetName())
	s, err := h.SignIns.GetMemberSession(ctx, gid, mid, id)
	if err != nil {
		return nil, err
	}
	return sessionProto(s), nil
}

// RevokeMemberSession implements directoryv1.DirectoryServiceServer.
func (h *Handler) RevokeMemberSession(ctx context.Context, req *directoryv1.RevokeMemberSessionRequest) (*directoryv1.MemberSession, error) {
	gid, mid, id := sessionIDs(req.GetName())
	s, err := h.SignIns.RevokeMemberSession(ctx, gid, mid, id)
	if err != nil {
		return nil, err
	}
	return sessionProto(s), nil
}

// sessionIDs splits groups/{g}/members/{m}/sessions/{s}.
func sessionIDs(name string) (groupID, memberID, id string) {
	parent, id, _ := strings.Cut(name, "/sessions/")
	groupID, memberID = memberIDs(parent)
	return groupID, memberID, id
}

func sessionProto(s directory.MemberSession) *directoryv1.MemberSession {
	return &directoryv1.MemberSession{
		Name:        s.Name(),
		CreateTime:  optionalTime(s.CreateTime),
		ExpireTime:  optionalTime(s.ExpireTime),
		LastUseTime: optionalTime(s.LastUseTime),
		RevokeTime:  optionalTime(s.RevokeTime),
	}
}
