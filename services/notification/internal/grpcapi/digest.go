package grpcapi

import (
	"context"
	"slices"

	"github.com/ipnmediation/disputes/platform/fieldmask"
	notificationv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/notification/v1"
	"github.com/ipnmediation/disputes/services/notification/internal/dispatch"
	"google.golang.org/protobuf/proto"
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
	paths, err := fieldmask.Paths(in, req.GetUpdateMask())
	if err != nil {
		return nil, err
	}
	var enabled *bool // nil: the update leaves it as it is
	if slices.Contains(paths, "enabled") {
		enabled = proto.Bool(in.GetEnabled())
	}
	d, err := s.Digests.Update(ctx, in.GetName(), enabled, in.GetEtag())
	if err != nil {
		return nil, err
	}
	return digestSettingsProto(d), nil
}

func digestSettingsProto(d dispatch.DigestSettings) *notificationv1.DigestSettings {
	return &notificationv1.DigestSettings{Name: d.Name(), Enabled: d.Enabled, Etag: d.Etag()}
}
