// Package grpcapi serves the NotificationService: it translates between the
// proto messages and package dispatch, nothing more.
package grpcapi

import (
	"context"
	"encoding/base64"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/ipnmediation/disputes/platform/fault"
	notificationv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/notification/v1"
	"github.com/ipnmediation/disputes/services/notification/internal/dispatch"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// Server implements notificationv1.NotificationServiceServer.
type Server struct {
	notificationv1.UnimplementedNotificationServiceServer
	Log *dispatch.Log
}

const (
	defaultPageSize = 50
	maxPageSize     = 200
)

// ListDeliveries implements notificationv1.NotificationServiceServer.
func (s *Server) ListDeliveries(ctx context.Context, req *notificationv1.ListDeliveriesRequest) (*notificationv1.ListDeliveriesResponse, error) {
	page, err := pageOf(req.GetPageSize(), req.GetPageToken())
	if err != nil {
		return nil, err
	}
	list, next, err := s.Log.List(ctx, req.GetParent(), page)
	if err != nil {
		return nil, err
	}
	resp := &notificationv1.ListDeliveriesResponse{NextPageToken: token(next)}
	for _, d := range list {
		resp.Deliveries = append(resp.Deliveries, deliveryProto(d))
	}
	return resp, nil
}

// Validate checks what the proto annotations cannot say: the page size and
// token.
func Validate(_ context.Context, _ string, req any) error {
	if r, ok := req.(*notificationv1.ListDeliveriesRequest); ok {
		_, err := pageOf(r.GetPageSize(), r.GetPageToken())
		return err
	}
	return nil
}

func pageOf(size int32, pageToken string) (dispatch.Page, error) {
	var v fault.Violations
	p := dispatch.Page{Size: int(size)}
	switch {
	case size < 0:
		v.Add("page_size", "must not be negative")
	case size == 0:
		p.Size = defaultPageSize
	case size > maxPageSize:
		p.Size = maxPageSize
	}
	if pageToken != "" {
		c, ok := parseToken(pageToken)
		if !ok {
			v.Add("page_token", "is not a token from a previous response")
		}
		p.After = c
	}
	return p, v.Err()
}

// token is the opaque form of a cursor: base64url of "<RFC 3339 time>|<id>".
func token(c *dispatch.Cursor) string {
	if c == nil {
		return ""
	}
	raw := c.CreateTime.UTC().Format(time.RFC3339Nano) + "|" + c.ID
	return base64.RawURLEncoding.EncodeToString([]byte(raw))
}

func parseToken(s string) (*dispatch.Cursor, bool) {
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, false
	}
	at, id, ok := strings.Cut(string(raw), "|")
	if !ok {
		return nil, false
	}
	t, err := time.Parse(time.RFC3339Nano, at)
	if err != nil {
		return nil, false
	}
	if _, err := uuid.Parse(id); err != nil {
		return nil, false
	}
	return &dispatch.Cursor{CreateTime: t, ID: id}, true
}

var states = map[dispatch.State]notificationv1.Delivery_State{
	dispatch.Pending: notificationv1.Delivery_STATE_PENDING,
	dispatch.Sent:    notificationv1.Delivery_STATE_SENT,
	dispatch.Dead:    notificationv1.Delivery_STATE_DEAD,
}

func deliveryProto(d dispatch.Delivery) *notificationv1.Delivery {
	out := &notificationv1.Delivery{
		Name:       d.Name(),
		EventId:    d.EventID,
		EventType:  d.EventType,
		Recipient:  d.Recipient,
		State:      states[d.State],
		Attempts:   int32(d.Attempts),
		LastError:  d.LastError,
		CreateTime: timestamppb.New(d.CreateTime),
	}
	if !d.SendTime.IsZero() {
		out.SendTime = timestamppb.New(d.SendTime)
	}
	return out
}
