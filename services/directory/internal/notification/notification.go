// Package notification sends members their sign-in links through the
// notification service over gRPC, with the directory's service credential:
// the one path the link's secret takes out of the directory.
package notification

import (
	"context"
	"fmt"

	notificationv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/notification/v1"
	"github.com/ipnmediation/disputes/services/directory/internal/directory"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// Client implements directory.Mailer.
type Client struct {
	Notification notificationv1.NotificationServiceClient
}

var _ directory.Mailer = Client{}

// SendSignInLink implements directory.Mailer.
func (c Client) SendSignInLink(ctx context.Context, m directory.SignInMail) error {
	_, err := c.Notification.SendSignInLink(ctx, &notificationv1.SendSignInLinkRequest{
		Member:            "groups/" + m.Member.GroupID + "/members/" + m.Member.ID,
		MemberDisplayName: m.Member.DisplayName,
		GroupDisplayName:  m.Group.DisplayName,
		Email:             m.Member.Email,
		LinkUrl:           m.LinkURL,
		RequestTime:       timestamppb.New(m.RequestTime),
		ExpireTime:        timestamppb.New(m.ExpireTime),
		RequestedFrom:     m.RequestedFrom,
	})
	if err != nil {
		// The status's message is notification's, never the request.
		return fmt.Errorf("notification: %w", err)
	}
	return nil
}
