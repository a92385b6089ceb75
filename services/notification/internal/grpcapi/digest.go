package grpcapi

import (
	"context"

	notificationv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/notification/v1"
	"github.com/ipnmediation/disputes/services/notification/internal/dispatch"
)

// GetDigestSettings implements notificationv1.NotificationServiceServer.
func (s *Server) GetDigestSettings(ctx context.Context, req *notificationv1.GetDigestSettingsRequest) (*notificationv1.DigestSettings, error) {
	d, err := s.Digests.Get(ctx, req.GetName())
	if err != nil {
		return nil, err
	}
	return digestSettingsProto(d), nil
}

// UpdateDigestSettings implements notificationv1.NotificationServiceServer.
func (s *Server) UpdateDigestSettings(ctx context.Context, req *notificationv1.UpdateDigestSettingsRequest) (*notificationv1.DigestSettings, error) {
	in := req.GetDigestSettings()
	d, err := s.Digests.Update(ctx, in.GetName(), in.GetEnabled(), in.GetEtag())
	if err != nil {
		return nil, err
	}
	return digestSettingsProto(d), nil
}

func digestSettingsProto(d dispatch.DigestSettings) *notificationv1.DigestSettings {
	return &notificationv1.DigestSettings{Name: d.Name(), Enabled: d.Enabled, Etag: d.Etag()}
}
