package cli_test

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ipnmediation/disputes/operator/internal/cli"
	"github.com/ipnmediation/disputes/operator/internal/exitcode"
	"github.com/ipnmediation/disputes/platform/auth"
	"github.com/ipnmediation/disputes/platform/fault"
	"github.com/ipnmediation/disputes/platform/testenv"
	operationsv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/operations/v1"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// fakeParked is one service's ParkedEventService: it holds parked events,
// hands them out one to a page, and applies an event on retry unless its
// id starts with "still".
type fakeParked struct {
	operationsv1.UnimplementedParkedEventServiceServer
	service string
	parked  []*operationsv1.ParkedEvent
	mu      sync.Mutex
	calls   []string // parent or name of each request
	bearers []string
}

func (f *fakeParked) record(ctx context.Context, name string) {
	secret, _ := auth.BearerFromMetadata(ctx)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, name)
	f.bearers = append(f.bearers, secret)
}

func (f *fakeParked) seen() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

func (f *fakeParked) ListParkedEvents(ctx context.Context, req *operationsv1.ListParkedEventsRequest) (*operationsv1.ListParkedEventsResponse, error) {
	f.record(ctx, req.GetParent())
	i, _ := strconv.Atoi(req.GetPageToken())
	if i >= len(f.parked) {
		return &operationsv1.ListParkedEventsResponse{}, nil
	}
	resp := &operationsv1.ListParkedEventsResponse{ParkedEvents: f.parked[i : i+1]}
	if i+1 < len(f.parked) {
		resp.NextPageToken = strconv.Itoa(i + 1)
	}
	return resp, nil
}

func (f *fakeParked) GetParkedEvent(ctx context.Context, req *operationsv1.GetParkedEventRequest) (*operationsv1.ParkedEvent, error) {
	f.record(ctx, req.GetName())
	for _, p := range f.parked {
		if p.GetName() == req.GetName() {
			return p, nil
		}
	}
	return nil, status(fault.NotFoundf("PARKED_EVENT_NOT_FOUND", "no parked event has that id"))
}

func (f *fakeParked) RetryParkedEvent(ctx context.Context, req *operationsv1.RetryParkedEventRequest) (*operationsv1.RetryParkedEventResponse, error) {
	f.record(ctx, req.GetName())
	for _, p := range f.parked {
		if p.GetName() != req.GetName() {
			continue
		}
		if strings.HasPrefix(p.GetEventId(), "still") {
			again := &operationsv1.ParkedEvent{Name: p.GetName(), Reason: "the group has chosen a procedure this casework does not know",
				Retries: 1, NextRetryTime: timestamppb.New(time.Date(2026, 3, 2, 11, 0, 0, 0, time.UTC))}
			return &operationsv1.RetryParkedEventResponse{ParkedEvent: again}, nil
		}
		return &operationsv1.RetryParkedEventResponse{Applied: true}, nil
	}
	return nil, status(fault.NotFoundf("PARKED_EVENT_NOT_FOUND", "no parked event has that id"))
}

func parkedEvent(service, id, consumer string) *operationsv1.ParkedEvent {
	return &operationsv1.ParkedEvent{
		Name: "services/" + service + "/parkedEvents/" + id, Consumer: consumer, EventId: id,
		EventType: "ipn.disputes.events.v1.ConcernRegistered", Subject: "disputes.riverside.concern.registered",
		Attempts: 1, Reason: "the group has chosen a procedure this casework does not know",
		ParkTime: timestamppb.New(time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)), NextRetryTime: timestamppb.New(time.Date(2026, 3, 2, 9, 31, 0, 0, time.UTC)),
	}
}

func TestEvents(t *testing.T) {
	t.Parallel()
	fakes := map[string]*fakeParked{
		"directory":    {service: "directory"},
		"intake":       {service: "intake"},
		"casework":     {service: "casework", parked: []*operationsv1.ParkedEvent{parkedEvent("casework", "e1", "casework"), parkedEvent("casework", "still-1", "casework")}},
		"notification": {service: "notification", parked: []*operationsv1.ParkedEvent{parkedEvent("notification", "n1", "notification-cases")}},
	}
	env := map[string]string{"DISPUTES_TOKEN": operatorToken}
	for name, f := range fakes {
		addr := testenv.ServeGRPC(t, func(s *grpc.Server) { operationsv1.RegisterParkedEventServiceServer(s, f) })
		env[strings.ToUpper(name)+"_ADDR"] = addr
	}
	unreachable := testenv.FreeAddr(t)
	down := map[string]string{"DISPUTES_TOKEN": operatorToken, "CASEWORK_ADDR": unreachable}

	tests := []struct {
		name       string
		env        map[string]string
		args       []string
		wantCode   int
		wantStdout []string // lines or parts of lines it must print
		wantStderr []string
		// calls are what each service was asked, by service.
		calls map[string][]string
	}{
		{name: "every service", args: []string{"events", "parked"},
			wantStdout: []string{"SERVICE", "REASON", "casework      e1       casework", "casework      still-1", "notification  n1       notification-cases  ConcernRegistered  1         0        2026-03-02T09:30Z  2026-03-02T09:31Z  the group has chosen"},
			calls: map[string][]string{"directory": {"services/directory"}, "intake": {"services/intake"},
				"casework": {"services/casework", "services/casework"}, "notification": {"services/notification"}}},
		{name: "named services only", args: []string{"events", "parked", "intake", "directory"},
			wantStdout: []string{"no parked events in intake, directory"},
			calls:      map[string][]string{"directory": {"services/directory"}, "intake": {"services/intake"}}},
		{name: "json", args: []string{"--json", "events", "parked", "casework"},
			wantStdout: []string{`"parkedEvents"`, `"services/casework/parkedEvents/e1"`, `"services/casework/parkedEvents/still-1"`},
			calls:      map[string][]string{"casework": {"services/casework", "services/casework"}}},
		{name: "an unknown service", args: []string{"events", "parked", "gateway"}, wantCode: exitcode.Usage,
			wantStderr: []string{`no service "gateway"`}},
		{name: "a service unreachable", env: down, args: []string{"events", "parked", "casework"}, wantCode: exitcode.Unavailable,
			wantStderr: []string{"cannot reach the casework service at " + unreachable}},
		{name: "flag wins over the environment", env: down, args: []string{"--casework-addr", env["CASEWORK_ADDR"], "events", "parked", "casework"},
			wantStdout: []string{"casework  e1"}, calls: map[string][]string{"casework": {"services/casework", "services/casework"}}},
		{name: "show one", args: []string{"events", "show", "notification", "n1"},
			wantStdout: []string{"event       services/notification/parkedEvents/n1", "consumer    notification-cases", "attempts    "},
			calls:      map[string][]string{"notification": {"services/notification/parkedEvents/n1"}}},
		{name: "show one, json", args: []string{"--json", "events", "show", "casework", "e1"},
			wantStdout: []string{`"name": "services/casework/parkedEvents/e1"`, `"consumer": "casework"`},
			calls:      map[string][]string{"casework": {"services/casework/parkedEvents/e1"}}},
		{name: "show an unknown event", args: []string{"events", "show", "casework", "x1"}, wantCode: exitcode.NotFound,
			wantStderr: []string{"(PARKED_EVENT_NOT_FOUND)"}, calls: map[string][]string{"casework": {"services/casework/parkedEvents/x1"}}},
		{name: "show at an unknown service", args: []string{"events", "show", "gateway", "e1"}, wantCode: exitcode.Usage},
		{name: "retry applied", args: []string{"events", "retry", "casework", "e1"},
			wantStdout: []string{"applied services/casework/parkedEvents/e1"},
			calls:      map[string][]string{"casework": {"services/casework/parkedEvents/e1"}}},
		{name: "retry still parked", args: []string{"events", "retry", "casework", "still-1"}, wantCode: exitcode.Conflict,
			wantStderr: []string{"services/casework/parkedEvents/still-1 was not applied and stays parked: the group has chosen a procedure this casework does not know; next retry 2026-03-02T11:00Z (" + cli.ReasonStillParked + ")"},
			calls:      map[string][]string{"casework": {"services/casework/parkedEvents/still-1"}}},
		{name: "retry still parked, json", args: []string{"--json", "events", "retry", "casework", "still-1"}, wantCode: exitcode.Conflict,
			wantStdout: []string{`"applied": false`, `"retries": 1`}, wantStderr: []string{cli.ReasonStillParked},
			calls: map[string][]string{"casework": {"services/casework/parkedEvents/still-1"}}},
		{name: "retry an unknown event", args: []string{"events", "retry", "notification", "x1"}, wantCode: exitcode.NotFound,
			wantStderr: []string{"(PARKED_EVENT_NOT_FOUND)"}, calls: map[string][]string{"notification": {"services/notification/parkedEvents/x1"}}},
		{name: "retry at an unknown service", args: []string{"events", "retry", "nowhere", "e1"}, wantCode: exitcode.Usage,
			wantStderr: []string{`no service "nowhere"`}},
		{name: "retry without an id", args: []string{"events", "retry", "casework"}, wantCode: exitcode.Usage},
		{name: "no verb", args: []string{"events"}, wantCode: exitcode.Usage},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// Sequential: each case checks what reached the fakes.
			e := env
			if tc.env != nil {
				e = tc.env
			}
			before := map[string]int{}
			for name, f := range fakes {
				before[name] = len(f.seen())
			}
			got := run(t, e, "", tc.args...)
			if got.code != tc.wantCode {
				t.Fatalf("exit status %d, want %d\nstdout: %s\nstderr: %s", got.code, tc.wantCode, got.stdout, got.stderr)
			}
			got.expect(t, tc.wantStdout, tc.wantStderr)
			for name, f := range fakes {
				calls := f.seen()[before[name]:]
				if strings.Join(calls, " ") != strings.Join(tc.calls[name], " ") {
					t.Errorf("%s was asked %q; want %q", name, calls, tc.calls[name])
				}
			}
		})
	}
	// The JSON is the response message, for scripts.
	got := run(t, env, "", "--json", "events", "parked")
	var resp operationsv1.ListParkedEventsResponse
	if err := protojson.Unmarshal([]byte(got.stdout), &resp); err != nil || len(resp.GetParkedEvents()) != 3 {
		t.Errorf("--json = %q (%v); want three parked events", got.stdout, err)
	}
	for name, f := range fakes {
		f.mu.Lock()
		for _, b := range f.bearers {
			if b != operatorToken {
				t.Errorf("%s got bearer %q", name, b)
			}
		}
		f.mu.Unlock()
	}
}
