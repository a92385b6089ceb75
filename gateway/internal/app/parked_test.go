package app

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	operationsv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/operations/v1"
	"google.golang.org/grpc"
)

// fakeParked is a service's ParkedEventService: it answers with an event
// named after the service, and records what it was asked.
type fakeParked struct {
	operationsv1.UnimplementedParkedEventServiceServer
	*recorder
	service string
}

func (f *fakeParked) ListParkedEvents(ctx context.Context, req *operationsv1.ListParkedEventsRequest) (*operationsv1.ListParkedEventsResponse, error) {
	f.record(ctx, "ListParkedEvents", req)
	return &operationsv1.ListParkedEventsResponse{ParkedEvents: []*operationsv1.ParkedEvent{{
		Name: "services/" + f.service + "/parkedEvents/00000000-0000-4000-8000-000000000001", Consumer: f.service,
	}}}, nil
}

func (f *fakeParked) GetParkedEvent(ctx context.Context, req *operationsv1.GetParkedEventRequest) (*operationsv1.ParkedEvent, error) {
	f.record(ctx, "GetParkedEvent", req)
	return &operationsv1.ParkedEvent{Name: req.GetName(), Consumer: f.service}, nil
}

func (f *fakeParked) RetryParkedEvent(ctx context.Context, req *operationsv1.RetryParkedEventRequest) (*operationsv1.RetryParkedEventResponse, error) {
	f.record(ctx, "RetryParkedEvent", req)
	return &operationsv1.RetryParkedEventResponse{Applied: true}, nil
}

// TestParkedEventRoutes: every service serves its own parked events, and
// the gateway sends /v1/services/{service}/parkedEvents… to the service the
// path names, and nowhere else; a service it does not know is 404
// SERVICE_NOT_FOUND.
func TestParkedEventRoutes(t *testing.T) {
	t.Parallel()
	services := []string{"directory", "intake", "casework", "notification"}
	fakes := map[string]*fakeParked{}
	addrs := map[string]string{}
	for _, name := range services {
		f := &fakeParked{recorder: &recorder{}, service: name}
		fakes[name] = f
		addrs[name] = startBackend(t, name, func(srv *grpc.Server) { operationsv1.RegisterParkedEventServiceServer(srv, f) }).addr
	}
	cfg := defaults(t)
	cfg.DirectoryAddr, cfg.IntakeAddr, cfg.CaseworkAddr, cfg.NotificationAddr = addrs["directory"], addrs["intake"], addrs["casework"], addrs["notification"]
	url, _, _ := startGateway(t, cfg)
	operator := map[string]string{"Authorization": "Bearer operator-token", "Content-Type": "application/json"}

	for _, name := range services {
		t.Run(name, func(t *testing.T) {
			resp := do(t, "GET", url+"/v1/services/"+name+"/parkedEvents?pageSize=5&pageToken=abc", operator, nil)
			if resp.status != http.StatusOK {
				t.Fatalf("list: %d %s", resp.status, resp.body)
			}
			if events, _ := resp.json(t)["parkedEvents"].([]any); len(events) != 1 || events[0].(map[string]any)["consumer"] != name {
				t.Errorf("list answered %s; want the event of %s", resp.body, name)
			}
			c := fakes[name].last(t, "ListParkedEvents")
			if req := c.request.(*operationsv1.ListParkedEventsRequest); req.GetParent() != "services/"+name || req.GetPageSize() != 5 || req.GetPageToken() != "abc" {
				t.Errorf("%s was asked %v", name, req)
			}
			if got := c.metadata.Get("authorization"); len(got) != 1 || got[0] != "Bearer operator-token" {
				t.Errorf("authorization metadata %q", got)
			}

			event := "services/" + name + "/parkedEvents/00000000-0000-4000-8000-000000000002"
			resp = do(t, "GET", url+"/v1/"+event, operator, nil)
			if resp.status != http.StatusOK || resp.json(t)["consumer"] != name {
				t.Fatalf("get: %d %s", resp.status, resp.body)
			}
			if req := fakes[name].last(t, "GetParkedEvent").request.(*operationsv1.GetParkedEventRequest); req.GetName() != event {
				t.Errorf("%s was asked for %q", name, req.GetName())
			}

			resp = do(t, "POST", url+"/v1/"+event+":retry", operator, strings.NewReader(`{}`))
			if resp.status != http.StatusOK || resp.json(t)["applied"] != true {
				t.Fatalf("retry: %d %s", resp.status, resp.body)
			}
			if req := fakes[name].last(t, "RetryParkedEvent").request.(*operationsv1.RetryParkedEventRequest); req.GetName() != event {
				t.Errorf("%s was asked to retry %q", name, req.GetName())
			}
		})
	}
	for _, name := range services {
		if fakes[name].received(func(c call) bool {
			return !strings.HasPrefix(nameOf(c), "services/"+name+"/") && nameOf(c) != "services/"+name
		}) {
			t.Errorf("%s received a call for another service", name)
		}
	}

	for _, tt := range []struct{ method, path string }{
		{"GET", "/v1/services/nowhere/parkedEvents"},
		{"GET", "/v1/services/gateway/parkedEvents"},
		{"GET", "/v1/services/nowhere/parkedEvents/00000000-0000-4000-8000-000000000002"},
		{"POST", "/v1/services/nowhere/parkedEvents/00000000-0000-4000-8000-000000000002:retry"},
	} {
		resp := do(t, tt.method, url+tt.path, operator, strings.NewReader(`{}`))
		var body errorBody
		if err := json.Unmarshal(resp.body, &body); err != nil || resp.status != http.StatusNotFound ||
			body.detail("google.rpc.ErrorInfo")["reason"] != ReasonServiceNotFound {
			t.Errorf("%s %s: %d %s; want 404 %s", tt.method, tt.path, resp.status, resp.body, ReasonServiceNotFound)
		}
	}
}

// nameOf is the name or parent a recorded parked-event call was about.
func nameOf(c call) string {
	switch r := c.request.(type) {
	case *operationsv1.ListParkedEventsRequest:
		return r.GetParent()
	case *operationsv1.RetryParkedEventRequest:
		return r.GetName()
	case *operationsv1.GetParkedEventRequest:
		return r.GetName()
	}
	return fmt.Sprint(c.request)
}
