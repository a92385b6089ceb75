// Package operations serves ipn.disputes.operations.v1 on every service:
// the operator's list of the events the service's consumers parked, one of
// them by name, and a retry of one at once. It translates only; parking and retrying are
// package events'.
package operations

import (
	"context"
	"encoding/base64"
	"fmt"
	"strings"
	"time"

	"github.com/ipnmediation/disputes/platform/events"
	"github.com/ipnmediation/disputes/platform/fault"
	operationsv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/operations/v1"
	"github.com/jackc/pgx/v5/pgxpool"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// Page sizes of ListParkedEvents.
const (
	defaultPageSize = 50
	maxPageSize     = 200
)

// ReasonServiceMismatch is the reason given to a request that names another
// service than the one it reached.
const ReasonServiceMismatch = "SERVICE_MISMATCH"

// ParkedEvents implements operationsv1.ParkedEventServiceServer for one
// service.
type ParkedEvents struct {
	operationsv1.UnimplementedParkedEventServiceServer
	// Service is the service's name, as its resource names spell it
	// (services/{service}).
	Service string
	// Pool is the service's database, whose parked events it lists.
	Pool *pgxpool.Pool
	// Consumers returns the service's consumers, which retry the events
	// they parked. A service with none lists nothing.
	Consumers func() []*events.Consumer
}

var _ operationsv1.ParkedEventServiceServer = (*ParkedEvents)(nil)

// ListParkedEvents implements operationsv1.ParkedEventServiceServer.
func (s *ParkedEvents) ListParkedEvents(ctx context.Context, req *operationsv1.ListParkedEventsRequest) (*operationsv1.ListParkedEventsResponse, error) {
	if err := s.ownParent(req.GetParent(), "parent"); err != nil {
		return nil, err
	}
	var v fault.Violations
	size := int(req.GetPageSize())
	switch {
	case size < 0:
		v.Add("page_size", "must not be negative")
	case size == 0:
		size = defaultPageSize
	case size > maxPageSize:
		size = maxPageSize
	}
	var after *events.ParkedCursor
	if t := req.GetPageToken(); t != "" {
		var ok bool
		if after, ok = parseToken(t); !ok {
			v.Add("page_token", "is not a token from a previous response")
		}
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	parked, next, err := events.ListParked(ctx, s.Pool, after, size)
	if err != nil {
		return nil, err
	}
	resp := &operationsv1.ListParkedEventsResponse{NextPageToken: token(next)}
	for _, p := range parked {
		resp.ParkedEvents = append(resp.ParkedEvents, s.parkedProto(p))
	}
	return resp, nil
}

// GetParkedEvent implements operationsv1.ParkedEventServiceServer.
func (s *ParkedEvents) GetParkedEvent(ctx context.Context, req *operationsv1.GetParkedEventRequest) (*operationsv1.ParkedEvent, error) {
	// The form is checked by the contract, as for RetryParkedEvent.
	parent, id, _ := strings.Cut(req.GetName(), "/parkedEvents/")
	if err := s.ownParent(parent, "name"); err != nil {
		return nil, err
	}
	p, err := events.GetParked(ctx, s.Pool, id)
	if err != nil {
		return nil, err
	}
	return s.parkedProto(p), nil
}

// RetryParkedEvent implements operationsv1.ParkedEventServiceServer.
func (s *ParkedEvents) RetryParkedEvent(ctx context.Context, req *operationsv1.RetryParkedEventRequest) (*operationsv1.RetryParkedEventResponse, error) {
	// The form, services/{service}/parkedEvents/{id}, is checked by the
	// contract's resource reference before the handler runs.
	parent, id, _ := strings.Cut(req.GetName(), "/parkedEvents/")
	if err := s.ownParent(parent, "name"); err != nil {
		return nil, err
	}
	var consumers []*events.Consumer
	if s.Consumers != nil {
		consumers = s.Consumers()
	}
	r, err := events.RetryParked(ctx, consumers, id)
	if err != nil {
		return nil, err
	}
	resp := &operationsv1.RetryParkedEventResponse{Applied: r.Applied}
	if r.Parked != nil {
		resp.ParkedEvent = s.parkedProto(*r.Parked)
	}
	return resp, nil
}

// ownParent refuses a parent other than services/{this service}: each
// service answers for itself, and the gateway routes by the name.
func (s *ParkedEvents) ownParent(parent, field string) error {
	if want := "services/" + s.Service; parent != want {
		return &fault.Error{
			Kind: fault.InvalidArgument, Reason: ReasonServiceMismatch,
			Message:    fmt.Sprintf("this is the %s service: it answers for %s only", s.Service, want),
			Violations: []fault.FieldViolation{{Field: field, Description: "must be of " + want}},
		}
	}
	return nil
}

func (s *ParkedEvents) parkedProto(p events.Parked) *operationsv1.ParkedEvent {
	return &operationsv1.ParkedEvent{
		Name:          "services/" + s.Service + "/parkedEvents/" + p.EventID,
		Consumer:      p.Consumer,
		EventId:       p.EventID,
		EventType:     p.Type,
		Subject:       p.Subject,
		Attempts:      int32(min(p.Attempts, 1<<31-1)),
		Reason:        p.Reason,
		ParkTime:      timestamppb.New(p.ParkedAt),
		Retries:       int32(min(p.Retries, 1<<31-1)),
		NextRetryTime: timestamppb.New(p.NextRetryAt),
	}
}

// token is the opaque form of a cursor: base64url of
// "<RFC 3339 time>|<consumer>|<event id>".
func token(c *events.ParkedCursor) string {
	if c == nil {
		return ""
	}
	raw := c.ParkedAt.UTC().Format(time.RFC3339Nano) + "|" + c.Consumer + "|" + c.EventID
	return base64.RawURLEncoding.EncodeToString([]byte(raw))
}

func parseToken(s string) (*events.ParkedCursor, bool) {
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, false
	}
	parts := strings.SplitN(string(raw), "|", 3)
	if len(parts) != 3 {
		return nil, false
	}
	at, err := time.Parse(time.RFC3339Nano, parts[0])
	if err != nil {
		return nil, false
	}
	return &events.ParkedCursor{ParkedAt: at, Consumer: parts[1], EventID: parts[2]}, true
}
