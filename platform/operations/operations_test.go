package operations_test

import (
	"context"
	"log/slog"
	"net"
	"sync/atomic"
	"testing"
	"testing/fstest"
	"time"

	"github.com/ipnmediation/disputes/platform/auth"
	"github.com/ipnmediation/disputes/platform/events"
	"github.com/ipnmediation/disputes/platform/fault"
	"github.com/ipnmediation/disputes/platform/grpcserver"
	"github.com/ipnmediation/disputes/platform/operations"
	"github.com/ipnmediation/disputes/platform/postgres"
	"github.com/ipnmediation/disputes/platform/testenv"
	operationsv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/operations/v1"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

func TestMain(m *testing.M) { testenv.Main(m) }

var migrations = fstest.MapFS{"001_effects.sql": {Data: []byte("CREATE TABLE effects (event_id text NOT NULL);")}}

// principals are the callers the test's server knows, by bearer secret.
var principals = map[string]auth.Principal{
	"operator": {Kind: auth.Operator},
	"admin":    {Kind: auth.Member, Member: "groups/g/members/a", Group: "groups/g", GroupAdmin: true},
	"intake":   {Kind: auth.Service, Service: "intake"},
}

type table struct{}

func (table) Authenticate(_ context.Context, secret string) (auth.Principal, error) {
	if p, ok := principals[secret]; ok {
		return p, nil
	}
	return auth.Principal{}, auth.ErrUnauthenticated()
}

// server is casework's ParkedEventService on the platform's gRPC server,
// with one consumer whose handler fails while broken is set.
type server struct {
	pool   *pgxpool.Pool
	client operationsv1.ParkedEventServiceClient
	broken atomic.Bool
}

func startServer(t *testing.T) *server {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	pool, err := postgres.Open(ctx, testenv.Database(t), "casework", migrations)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	s := &server{pool: pool}
	consumer := &events.Consumer{
		Name: "casework", Pool: pool, Logger: slog.New(slog.DiscardHandler),
		Handle: func(context.Context, events.Message) (events.Effect, error) {
			if s.broken.Load() {
				return nil, fault.New(fault.InvalidArgument, "EVENT_PROCEDURE_UNKNOWN", "the group has chosen a procedure this casework does not know")
			}
			return func(ctx context.Context, tx pgx.Tx) error {
				_, err := tx.Exec(ctx, `INSERT INTO effects VALUES ('applied')`)
				return err
			}, nil
		},
	}
	srv := grpcserver.New(grpcserver.Options{Name: "casework", Logger: slog.New(slog.DiscardHandler), Authenticator: table{}})
	operationsv1.RegisterParkedEventServiceServer(srv.Registrar(), &operations.ParkedEvents{
		Service: "casework", Pool: pool, Consumers: func() []*events.Consumer { return []*events.Consumer{consumer} },
	})
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	testenv.RunService(t, "casework", lis.Addr().String(), func(ctx context.Context) error { return srv.ServeListener(ctx, lis) })
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	s.client = operationsv1.NewParkedEventServiceClient(conn)
	return s
}

// park parks an event as the consumer would have, parked minutes ago.
func (s *server) park(t *testing.T, id string, minutes int) {
	t.Helper()
	_, err := s.pool.Exec(context.Background(), `INSERT INTO parked_events
	    (consumer, event_id, subject, event_type, payload, attempts, reason, parked_at, next_retry_at)
	    VALUES ('casework', $1, 'disputes.g.concern.registered', 'ipn.disputes.events.v1.ConcernRegistered', 'secret payload', 1,
	            'the group has chosen a procedure this casework does not know',
	            now() - $2::int * interval '1 minute', now() + interval '1 hour')`, id, minutes)
	if err != nil {
		t.Fatal(err)
	}
}

func as(secret string) context.Context {
	ctx := context.Background()
	if secret != "" {
		ctx = metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+secret)
	}
	return ctx
}

func (s *server) effects(t *testing.T) int {
	t.Helper()
	var n int
	if err := s.pool.QueryRow(context.Background(), `SELECT count(*) FROM effects`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

const (
	first  = "00000000-0000-4000-8000-000000000001"
	second = "00000000-0000-4000-8000-000000000002"
	third  = "00000000-0000-4000-8000-000000000003"
)

func TestListParkedEvents(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	s.park(t, second, 20)
	s.park(t, first, 30)
	s.park(t, third, 10)

	var got []*operationsv1.ParkedEvent
	token := ""
	for pages := 0; ; pages++ {
		resp, err := s.client.ListParkedEvents(as("operator"), &operationsv1.ListParkedEventsRequest{Parent: "services/casework", PageSize: 2, PageToken: token})
		if err != nil {
			t.Fatal(err)
		}
		if len(resp.GetParkedEvents()) > 2 || pages > 2 {
			t.Fatalf("page %d has %d events", pages, len(resp.GetParkedEvents()))
		}
		got = append(got, resp.GetParkedEvents()...)
		if token = resp.GetNextPageToken(); token == "" {
			break
		}
	}
	if len(got) != 3 || got[0].GetEventId() != first || got[1].GetEventId() != second || got[2].GetEventId() != third {
		t.Fatalf("listed %v; want the three, oldest first", got)
	}
	e := got[0]
	if e.GetName() != "services/casework/parkedEvents/"+first || e.GetConsumer() != "casework" ||
		e.GetEventType() != "ipn.disputes.events.v1.ConcernRegistered" || e.GetSubject() != "disputes.g.concern.registered" ||
		e.GetAttempts() != 1 || e.GetReason() == "" || e.GetParkTime() == nil || e.GetNextRetryTime() == nil || e.GetRetries() != 0 {
		t.Errorf("parked event shown as %v", e)
	}

	_, err := s.client.ListParkedEvents(as("operator"), &operationsv1.ListParkedEventsRequest{Parent: "services/intake"})
	testenv.WantStatus(t, err, codes.InvalidArgument, operations.ReasonServiceMismatch, "parent")
	_, err = s.client.ListParkedEvents(as("operator"), &operationsv1.ListParkedEventsRequest{Parent: "services/casework", PageToken: "nonsense"})
	testenv.WantStatus(t, err, codes.InvalidArgument, "INVALID_FIELDS", "page_token")
	_, err = s.client.ListParkedEvents(as("operator"), &operationsv1.ListParkedEventsRequest{Parent: "groups/g"})
	testenv.WantStatus(t, err, codes.InvalidArgument, "INVALID_FIELDS", "parent")
}

// TestGetParkedEvent: each listed event reads back by its name as listed;
// one never parked, or applied since, is not found.
func TestGetParkedEvent(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	s.park(t, first, 30)
	s.park(t, second, 20)
	list, err := s.client.ListParkedEvents(as("operator"), &operationsv1.ListParkedEventsRequest{Parent: "services/casework"})
	if err != nil || len(list.GetParkedEvents()) != 2 {
		t.Fatalf("ListParkedEvents = %v, %v", list, err)
	}
	for _, listed := range list.GetParkedEvents() {
		got, err := s.client.GetParkedEvent(as("operator"), &operationsv1.GetParkedEventRequest{Name: listed.GetName()})
		if err != nil || !proto.Equal(got, listed) {
			t.Errorf("GetParkedEvent(%s) = %v, %v; the list shows %v", listed.GetName(), got, err, listed)
		}
	}

	_, err = s.client.GetParkedEvent(as("operator"), &operationsv1.GetParkedEventRequest{Name: "services/casework/parkedEvents/" + third})
	testenv.WantStatus(t, err, codes.NotFound, events.ReasonParkedEventNotFound)
	if _, err := s.client.RetryParkedEvent(as("operator"), &operationsv1.RetryParkedEventRequest{Name: "services/casework/parkedEvents/" + first}); err != nil {
		t.Fatal(err)
	}
	_, err = s.client.GetParkedEvent(as("operator"), &operationsv1.GetParkedEventRequest{Name: "services/casework/parkedEvents/" + first})
	testenv.WantStatus(t, err, codes.NotFound, events.ReasonParkedEventNotFound)
	_, err = s.client.GetParkedEvent(as("operator"), &operationsv1.GetParkedEventRequest{Name: "services/intake/parkedEvents/" + second})
	testenv.WantStatus(t, err, codes.InvalidArgument, operations.ReasonServiceMismatch, "name")
	_, err = s.client.GetParkedEvent(as("operator"), &operationsv1.GetParkedEventRequest{Name: "services/casework/" + second})
	testenv.WantStatus(t, err, codes.InvalidArgument, "INVALID_FIELDS", "name")
}

func TestRetryParkedEvent(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	s.park(t, first, 5)
	name := "services/casework/parkedEvents/" + first

	s.broken.Store(true)
	resp, err := s.client.RetryParkedEvent(as("operator"), &operationsv1.RetryParkedEventRequest{Name: name})
	if err != nil {
		t.Fatal(err)
	}
	if resp.GetApplied() || resp.GetParkedEvent().GetName() != name || resp.GetParkedEvent().GetRetries() != 1 ||
		resp.GetParkedEvent().GetReason() != "the group has chosen a procedure this casework does not know" ||
		!resp.GetParkedEvent().GetNextRetryTime().AsTime().After(time.Now()) {
		t.Errorf("a retry while the cause lasts: %v; want it parked still, with one retry", resp)
	}

	s.broken.Store(false)
	for range 2 {
		resp, err = s.client.RetryParkedEvent(as("operator"), &operationsv1.RetryParkedEventRequest{Name: name})
		if err != nil || !resp.GetApplied() || resp.GetParkedEvent() != nil {
			t.Fatalf("a retry once the cause is fixed: %v, %v; want applied", resp, err)
		}
	}
	if n := s.effects(t); n != 1 {
		t.Errorf("applied %d times, want once", n)
	}
	list, err := s.client.ListParkedEvents(as("operator"), &operationsv1.ListParkedEventsRequest{Parent: "services/casework"})
	if err != nil || len(list.GetParkedEvents()) != 0 {
		t.Errorf("still listed after it was applied: %v, %v", list, err)
	}

	_, err = s.client.RetryParkedEvent(as("operator"), &operationsv1.RetryParkedEventRequest{Name: "services/casework/parkedEvents/" + second})
	testenv.WantStatus(t, err, codes.NotFound, events.ReasonParkedEventNotFound)
	_, err = s.client.RetryParkedEvent(as("operator"), &operationsv1.RetryParkedEventRequest{Name: "services/intake/parkedEvents/" + first})
	testenv.WantStatus(t, err, codes.InvalidArgument, operations.ReasonServiceMismatch, "name")
	_, err = s.client.RetryParkedEvent(as("operator"), &operationsv1.RetryParkedEventRequest{Name: "services/casework/" + first})
	testenv.WantStatus(t, err, codes.InvalidArgument, "INVALID_FIELDS", "name")
}

// TestParkedEventCallers: the operator only.
func TestParkedEventCallers(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	s.park(t, first, 5)
	for _, c := range []struct {
		secret string
		code   codes.Code
	}{
		{"operator", codes.OK},
		{"admin", codes.PermissionDenied},
		{"intake", codes.PermissionDenied},
		{"", codes.Unauthenticated},
	} {
		_, err := s.client.ListParkedEvents(as(c.secret), &operationsv1.ListParkedEventsRequest{Parent: "services/casework"})
		if got := status.Code(err); got != c.code {
			t.Errorf("ListParkedEvents as %q: %v, want %v", c.secret, got, c.code)
		}
		_, err = s.client.GetParkedEvent(as(c.secret), &operationsv1.GetParkedEventRequest{Name: "services/casework/parkedEvents/" + first})
		if got := status.Code(err); got != c.code {
			t.Errorf("GetParkedEvent as %q: %v, want %v", c.secret, got, c.code)
		}
		_, err = s.client.RetryParkedEvent(as(c.secret), &operationsv1.RetryParkedEventRequest{Name: "services/casework/parkedEvents/" + first})
		if got := status.Code(err); got != c.code {
			t.Errorf("RetryParkedEvent as %q: %v, want %v", c.secret, got, c.code)
		}
	}
}
