package app

import (
	"context"
	"log/slog"
	"strings"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"github.com/ipnmediation/disputes/platform/fault"
	"github.com/ipnmediation/disputes/platform/grpcserver"
	operationsv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/operations/v1"
	"google.golang.org/grpc"
)

// ReasonServiceNotFound is the reason of the NOT_FOUND answer to a request
// for services/{service}/… that names no service behind the gateway.
const ReasonServiceNotFound = "SERVICE_NOT_FOUND"

// parkedEvents is the gateway's operationsv1.ParkedEventServiceClient. Every
// service serves ParkedEventService for itself; the name in each request
// (services/{service}/…) says which service to call, over the gateway's
// connection to it.
type parkedEvents struct {
	// conns are the services' connections by name ("casework"); filled
	// as the gateway dials them, before the first request.
	conns map[string]*grpc.ClientConn
	log   *slog.Logger
}

var _ operationsv1.ParkedEventServiceClient = parkedEvents{}

// register routes ParkedEventService's REST calls through p.
func (p parkedEvents) register(ctx context.Context, mux *runtime.ServeMux) error {
	return operationsv1.RegisterParkedEventServiceHandlerClient(ctx, mux, p)
}

// ListParkedEvents implements operationsv1.ParkedEventServiceClient.
func (p parkedEvents) ListParkedEvents(ctx context.Context, in *operationsv1.ListParkedEventsRequest, opts ...grpc.CallOption) (*operationsv1.ListParkedEventsResponse, error) {
	const method = "/ipn.disputes.operations.v1.ParkedEventService/ListParkedEvents"
	c, err := p.client(ctx, method, in, in.GetParent())
	if err != nil {
		return nil, err
	}
	return c.ListParkedEvents(ctx, in, opts...)
}

// GetParkedEvent implements operationsv1.ParkedEventServiceClient.
func (p parkedEvents) GetParkedEvent(ctx context.Context, in *operationsv1.GetParkedEventRequest, opts ...grpc.CallOption) (*operationsv1.ParkedEvent, error) {
	const method = "/ipn.disputes.operations.v1.ParkedEventService/GetParkedEvent"
	c, err := p.client(ctx, method, in, in.GetName())
	if err != nil {
		return nil, err
	}
	return c.GetParkedEvent(ctx, in, opts...)
}

// RetryParkedEvent implements operationsv1.ParkedEventServiceClient.
func (p parkedEvents) RetryParkedEvent(ctx context.Context, in *operationsv1.RetryParkedEventRequest, opts ...grpc.CallOption) (*operationsv1.RetryParkedEventResponse, error) {
	const method = "/ipn.disputes.operations.v1.ParkedEventService/RetryParkedEvent"
	c, err := p.client(ctx, method, in, in.GetName())
	if err != nil {
		return nil, err
	}
	return c.RetryParkedEvent(ctx, in, opts...)
}

// client is the client of the service name names. The request passes the
// platform's text rule first, as on any other route, so that a name that
// is not valid text is INVALID_ARGUMENT rather than an unknown service.
func (p parkedEvents) client(ctx context.Context, method string, req any, name string) (operationsv1.ParkedEventServiceClient, error) {
	pass := func(context.Context, string, any, any, *grpc.ClientConn, ...grpc.CallOption) error { return nil }
	if err := grpcserver.TextRuleClientInterceptor()(ctx, method, req, nil, nil, pass); err != nil {
		return nil, err
	}
	rest, ok := strings.CutPrefix(name, "services/")
	service, _, _ := strings.Cut(rest, "/")
	conn := p.conns[service]
	if !ok || conn == nil {
		return nil, grpcserver.ToStatus(ctx, p.log, method, fault.NotFoundf(ReasonServiceNotFound,
			"no such service behind this gateway; the services are directory, intake, casework and notification"))
	}
	return operationsv1.NewParkedEventServiceClient(conn), nil
}
