// Package notification sends clients their sign-in links through the
// notification service over gRPC, with intake's service credential: the
// one path the links' secrets take out of intake (never an event).
package notification

import (
	"context"
	"fmt"

	notificationv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/notification/v1"
	"github.com/ipnmediation/disputes/services/intake/internal/session"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// Client implements session.LinkMailer.
type Client struct {
	Notification notificationv1.NotificationServiceClient
}

var _ session.LinkMailer = Client{}

// SendClientSignInLinks implements session.LinkMailer.
func (c Client) SendClientSignInLinks(ctx context.Context, m session.LinkMail) error {
	req := &notificationv1.SendClientSignInLinksRequest{
		Group:            m.Group,
		GroupDisplayName: m.GroupName,
		Email:            m.Email,
		RequestTime:      timestamppb.New(m.RequestTime),
		ExpireTime:       timestamppb.New(m.ExpireTime),
		RequestedFrom:    m.RequestedFrom,
	}
	for _, l := range m.Links {
		req.Links = append(req.Links, &notificationv1.ClientSignInLink{Reference: l.Reference, LinkUrl: l.URL})
	}
	if _, err := c.Notification.SendClientSignInLinks(ctx, req); err != nil {
		// The status's message is notification's, never the request.
		return fmt.Errorf("notification: %w", err)
	}
	return nil
}
