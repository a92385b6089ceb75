package grpcapi

import (
	"context"

	notificationv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/notification/v1"
	"github.com/ipnmediation/disputes/services/notification/internal/dispatch"
	"github.com/ipnmediation/disputes/services/notification/internal/message"
	"google.golang.org/protobuf/types/known/emptypb"
)

// SendSignInLink implements notificationv1.NotificationServiceServer. The
// platform admits the directory alone (the contract's callers), before this
// runs.
func (s *Server) SendSignInLink(ctx context.Context, req *notificationv1.SendSignInLinkRequest) (*emptypb.Empty, error) {
	l := dispatch.SignInLink{
		Member:        req.GetMember(),
		MemberName:    req.GetMemberDisplayName(),
		GroupName:     req.GetGroupDisplayName(),
		Email:         req.GetEmail(),
		URL:           req.GetLinkUrl(),
		RequestedFrom: req.GetRequestedFrom(),
	}
	if req.GetRequestTime() != nil {
		l.RequestTime = req.GetRequestTime().AsTime()
	}
	if req.GetExpireTime() != nil {
		l.ExpireTime = req.GetExpireTime().AsTime()
	}
	if err := s.SignIns.Send(ctx, l); err != nil {
		return nil, err
	}
	return &emptypb.Empty{}, nil
}

// SendClientSignInLinks implements notificationv1.NotificationServiceServer.
// The platform admits intake alone (the contract's callers), before this
// runs.
func (s *Server) SendClientSignInLinks(ctx context.Context, req *notificationv1.SendClientSignInLinksRequest) (*emptypb.Empty, error) {
	l := dispatch.ClientSignInLinks{
		Group:         req.GetGroup(),
		GroupName:     req.GetGroupDisplayName(),
		Email:         req.GetEmail(),
		RequestedFrom: req.GetRequestedFrom(),
	}
	for _, link := range req.GetLinks() {
		l.Links = append(l.Links, message.CaseLink{Reference: link.GetReference(), URL: link.GetLinkUrl()})
	}
	if req.GetRequestTime() != nil {
		l.RequestTime = req.GetRequestTime().AsTime()
	}
	if req.GetExpireTime() != nil {
		l.ExpireTime = req.GetExpireTime().AsTime()
	}
	if err := s.SignIns.SendClient(ctx, l); err != nil {
		return nil, err
	}
	return &emptypb.Empty{}, nil
}
