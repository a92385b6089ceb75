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
	// Templates serves the group-worded message templates.
	Templates *dispatch.Wording
	// Digests serves members' daily digest settings.
	Digests *dispatch.DigestSettingsService
	// SignIns e-mails members their sign-in links.
	SignIns *dispatch.SignInLinks
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
	filter := dispatch.Filter{Case: req.GetCase(), Recipient: req.GetRecipient(), State: stateOf[req.GetState()]}
	list, next, err := s.Log.List(ctx, req.GetParent(), filter, page)
	if err != nil {
		return nil, err
	}
	resp := &notificationv1.ListDeliveriesResponse{NextPageToken: token(next)}
	for _, d := range list {
		resp.Deliveries = append(resp.Deliveries, deliveryProto(d))
	}
	return resp, nil
}

// GetDelivery implements notificationv1.NotificationServiceServer.
func (s *Server) GetDelivery(ctx context.Context, req *notificationv1.GetDeliveryRequest) (*notificationv1.Delivery, error) {
	group, id, _ := strings.Cut(req.GetName(), "/deliveries/")
	d, err := s.Log.Get(ctx, group, id)
	if err != nil {
		return nil, err
	}
	return deliveryProto(d), nil
}

// RetryDelivery implements notificationv1.NotificationServiceServer.
func (s *Server) RetryDelivery(ctx context.Context, req *notificationv1.RetryDeliveryRequest) (*notificationv1.Delivery, error) {
	group, id, _ := strings.Cut(req.GetName(), "/deliveries/")
	d, err := s.Log.Retry(ctx, group, id)
	if err != nil {
		return nil, err
	}
	return deliveryProto(d), nil
}

// RetryDeadDeliveries implements notificationv1.NotificationServiceServer.
func (s *Server) RetryDeadDeliveries(ctx context.Context, req *notificationv1.RetryDeadDeliveriesRequest) (*notificationv1.RetryDeadDeliveriesResponse, error) {
	n, err := s.Log.RetryDead(ctx, req.GetParent(), req.GetCase())
	if err != nil {
		return nil, err
	}
	return &notificationv1.RetryDeadDeliveriesResponse{RetriedCount: int32(n)}, nil
}

// Validate checks what the proto annotations cannot say: the page size and
// token and the delivery log's filters.
func Validate(ctx context.Context, method string, req any) error {
	switch r := req.(type) {
	case *notificationv1.ListDeliveriesRequest:
		if _, err := pageOf(r.GetPageSize(), r.GetPageToken()); err != nil {
			return err
		}
		var v fault.Violations
		if c := r.GetCase(); c != "" && !strings.HasPrefix(c, r.GetParent()+"/cases/") {
			v.Add("case", "must be a case of the parent group, "+r.GetParent()+"/cases/{case}")
		}
		if rc := r.GetRecipient(); rc != "" && !strings.HasPrefix(rc, r.GetParent()+"/") {
			v.Add("recipient", "must be a member or link group of the parent group")
		}
		if _, ok := stateOf[r.GetState()]; !ok && r.GetState() != notificationv1.Delivery_STATE_UNSPECIFIED {
			v.Add("state", "is not a delivery state")
		}
		return v.Err()
	case *notificationv1.RetryDeadDeliveriesRequest:
		var v fault.Violations
		if c := r.GetCase(); c != "" && !strings.HasPrefix(c, r.GetParent()+"/cases/") {
			v.Add("case", "must be a case of the parent group, "+r.GetParent()+"/cases/{case}")
		}
		return v.Err()
	}
	return validateFederation(ctx, method, req)
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

var stateOf = map[notificationv1.Delivery_State]dispatch.State{
	notificationv1.Delivery_STATE_PENDING: dispatch.Pending,
	notificationv1.Delivery_STATE_SENT:    dispatch.Sent,
	notificationv1.Delivery_STATE_DEAD:    dispatch.Dead,
}

var channels = map[dispatch.Channel]notificationv1.Delivery_Channel{
	dispatch.Email: notificationv1.Delivery_CHANNEL_EMAIL,
	dispatch.GRPC:  notificationv1.Delivery_CHANNEL_GRPC,
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
		Channel:    channels[d.Channel],
		Case:       d.Facts[dispatch.FactCase],
	}
	if !d.SendTime.IsZero() {
		out.SendTime = timestamppb.New(d.SendTime)
	}
	return out
}
