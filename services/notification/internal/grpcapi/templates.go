package grpcapi

import (
	"context"

	"github.com/ipnmediation/disputes/platform/fieldmask"
	notificationv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/notification/v1"
	"github.com/ipnmediation/disputes/services/notification/internal/dispatch"
	"github.com/ipnmediation/disputes/services/notification/internal/message"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// ListTemplates implements notificationv1.NotificationServiceServer.
func (s *Server) ListTemplates(ctx context.Context, req *notificationv1.ListTemplatesRequest) (*notificationv1.ListTemplatesResponse, error) {
	list, err := s.Templates.List(ctx, req.GetParent())
	if err != nil {
		return nil, err
	}
	resp := &notificationv1.ListTemplatesResponse{}
	for _, v := range list {
		resp.Templates = append(resp.Templates, templateProto(v))
	}
	return resp, nil
}

// GetTemplate implements notificationv1.NotificationServiceServer.
func (s *Server) GetTemplate(ctx context.Context, req *notificationv1.GetTemplateRequest) (*notificationv1.Template, error) {
	v, err := s.Templates.Get(ctx, req.GetName())
	if err != nil {
		return nil, err
	}
	return templateProto(v), nil
}

// UpdateTemplate implements notificationv1.NotificationServiceServer.
func (s *Server) UpdateTemplate(ctx context.Context, req *notificationv1.UpdateTemplateRequest) (*notificationv1.Template, error) {
	t := req.GetTemplate()
	parts, err := fieldmask.Paths(t, req.GetUpdateMask())
	if err != nil {
		return nil, err
	}
	v, err := s.Templates.Update(ctx, t.GetName(), overrideOf(t), parts)
	if err != nil {
		return nil, err
	}
	return templateProto(v), nil
}

// PreviewTemplate implements notificationv1.NotificationServiceServer.
func (s *Server) PreviewTemplate(ctx context.Context, req *notificationv1.PreviewTemplateRequest) (*notificationv1.RenderedMessage, error) {
	m, err := s.Templates.Preview(ctx, req.GetName(), overrideOf(req.GetDraft()))
	if err != nil {
		return nil, err
	}
	return &notificationv1.RenderedMessage{Subject: m.Subject, TextBody: m.Text, HtmlBody: m.HTML}, nil
}

func overrideOf(t *notificationv1.Template) message.Override {
	return message.Override{Subject: t.GetSubject(), Text: t.GetTextBody(), HTML: t.GetHtmlBody()}
}

func templateProto(v dispatch.TemplateView) *notificationv1.Template {
	out := &notificationv1.Template{
		Name:       v.Name,
		Subject:    v.Source.Subject,
		TextBody:   v.Source.Text,
		HtmlBody:   v.Source.HTML,
		PlainText:  v.PlainText,
		Overridden: v.Overridden,
	}
	if !v.UpdateTime.IsZero() {
		out.UpdateTime = timestamppb.New(v.UpdateTime)
	}
	return out
}
