package app

import (
	"context"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ipnmediation/disputes/platform/fault"
	"github.com/ipnmediation/disputes/platform/grpcserver"
	caseworkv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/casework/v1"
	intakev1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/intake/v1"
	procedurev1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/procedure/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// call is what a fake saw of one incoming call.
type call struct {
	method   string
	request  proto.Message
	metadata metadata.MD
}

// recorder keeps the calls a fake received.
type recorder struct {
	mu    sync.Mutex
	calls []call
}

func (r *recorder) record(ctx context.Context, method string, req proto.Message) {
	md, _ := metadata.FromIncomingContext(ctx)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, call{method: method, request: proto.Clone(req), metadata: md.Copy()})
}

// last returns the last call of the given method.
func (r *recorder) last(t *testing.T, method string) call {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := len(r.calls) - 1; i >= 0; i-- {
		if r.calls[i].method == method {
			return r.calls[i]
		}
	}
	t.Fatalf("the fake never received %s", method)
	return call{}
}

// toStatus gives the fakes' errors the shape the real services give theirs.
func toStatus(ctx context.Context, err error) error {
	return grpcserver.ToStatus(ctx, slog.New(slog.DiscardHandler), "fake", err)
}

// fakeCasework is a stand-in for the casework service with one case,
// groups/g/cases/c1. The case groups/g/cases/invalid fails with field
// violations; groups/g/cases/slow waits for release; groups/g/cases/stuck
// never answers (until the call's deadline); groups/g/cases/unavailable,
// …/unavailable-now, …/exhausted and …/exhausted-now fail as a service does
// when its database is down and when a rate limit refuses the caller (each
// with and without a retry delay).
type fakeCasework struct {
	caseworkv1.UnimplementedCaseworkServiceServer
	*recorder
	// slowStarted is closed when a call for the slow case arrives; the call
	// then waits for release.
	slowStarted, release chan struct{}
}

var registerTime = time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)

func (f *fakeCasework) GetCase(ctx context.Context, req *caseworkv1.GetCaseRequest) (*caseworkv1.Case, error) {
	f.record(ctx, "GetCase", req)
	switch req.GetName() {
	case "groups/g/cases/c1", "groups/g/cases/slow":
		if req.GetName() == "groups/g/cases/slow" {
			close(f.slowStarted)
			<-f.release
		}
		return &caseworkv1.Case{
			Name:         req.GetName(),
			Reference:    "K7QM-3XRD",
			Therapist:    "groups/g/members/cal-reyes",
			Phase:        procedurev1.Phase_PHASE_REGISTERED,
			RegisterTime: timestamppb.New(registerTime),
		}, nil
	case "groups/g/cases/stuck":
		<-ctx.Done()
		return nil, toStatus(ctx, ctx.Err())
	case "groups/g/cases/unavailable":
		return nil, toStatus(ctx, &fault.Error{Kind: fault.Unavailable, Reason: "DATABASE_UNAVAILABLE",
			Message: "cases cannot be read at the moment; try again shortly", RetryDelay: 3 * time.Second})
	case "groups/g/cases/unavailable-now":
		return nil, toStatus(ctx, fault.New(fault.Unavailable, "DATABASE_UNAVAILABLE", "cases cannot be read at the moment; try again shortly"))
	case "groups/g/cases/exhausted":
		// Not a whole number of seconds: Retry-After must round it up.
		return nil, toStatus(ctx, &fault.Error{Kind: fault.ResourceExhausted, Reason: "TOO_MANY_REQUESTS",
			Message: "too many requests; try again later", RetryDelay: 6500 * time.Millisecond})
	case "groups/g/cases/exhausted-now":
		return nil, toStatus(ctx, fault.New(fault.ResourceExhausted, "TOO_MANY_REQUESTS", "too many requests; try again later"))
	case "groups/g/cases/invalid":
		var v fault.Violations
		v.Add("name", "must name a case of the group")
		v.Add("page_size", "must be at most 200")
		return nil, toStatus(ctx, v.Err())
	}
	return nil, toStatus(ctx, fault.NotFoundf("CASE_NOT_FOUND", "no case %s", req.GetName()))
}

func (f *fakeCasework) ListCases(ctx context.Context, req *caseworkv1.ListCasesRequest) (*caseworkv1.ListCasesResponse, error) {
	f.record(ctx, "ListCases", req)
	return &caseworkv1.ListCasesResponse{
		Cases:         []*caseworkv1.Case{{Name: req.GetParent() + "/cases/c1", Reference: "K7QM-3XRD"}},
		NextPageToken: "next",
	}, nil
}

// fakeIntake is a stand-in for the intake service that registers every
// concern as groups/g/concerns/n1 and opens a session on it for any code.
// A concern whose description is "violations" is refused with field
// violations on proto paths.
type fakeIntake struct {
	intakev1.UnimplementedIntakeServiceServer
	*recorder
}

func (f *fakeIntake) CreateConcern(ctx context.Context, req *intakev1.CreateConcernRequest) (*intakev1.Concern, error) {
	f.record(ctx, "CreateConcern", req)
	if req.GetConcern().GetDescription() == "violations" {
		// As intake names them: proto paths from the request.
		var v fault.Violations
		v.Add("concern.client_name", "must not be empty")
		v.Add("concern.client_contact.email", "must be an e-mail address")
		v.Add("request_id", "must be a UUID")
		v.Add("concern", "must be given")
		v.Add("not_a_field", "is wrong")
		return nil, toStatus(ctx, v.Err())
	}
	return &intakev1.Concern{
		Name:         req.GetParent() + "/concerns/n1",
		Practitioner: req.GetConcern().GetPractitioner(),
		ClientName:   req.GetConcern().GetClientName(),
		Reference:    "K7QM-3XRD",
		AccessCode:   "ABCD-EFGH-JKMN-PQRS-TVWX-YZ01-23",
		CreateTime:   timestamppb.New(registerTime),
	}, nil
}

func (f *fakeIntake) CreateClientSession(ctx context.Context, req *intakev1.CreateClientSessionRequest) (*intakev1.ClientSession, error) {
	f.record(ctx, "CreateClientSession", req)
	return &intakev1.ClientSession{
		Token:      "ipncs_aaaaaaaaaaaaaaaa_" + strings.Repeat("b", 52),
		ExpireTime: timestamppb.New(registerTime.Add(time.Hour)),
		Concern:    "groups/g/concerns/n1",
	}, nil
}

// backend is one fake service on a free port, with a health server whose
// status the test controls. It can be stopped and started again on the same
// address, as a restarted process would be.
type backend struct {
	name     string
	addr     string
	health   *healthServer
	register func(*grpc.Server)
	opts     []grpc.ServerOption

	mu  sync.Mutex
	srv *grpc.Server
}

// healthServer is gRPC's health server, whose Check can be made to hang as a
// frozen process's would.
type healthServer struct {
	*health.Server
	frozen atomic.Bool
}

func (h *healthServer) Check(ctx context.Context, req *healthpb.HealthCheckRequest) (*healthpb.HealthCheckResponse, error) {
	if h.frozen.Load() {
		<-ctx.Done()
		return nil, status.FromContextError(ctx.Err()).Err()
	}
	return h.Server.Check(ctx, req)
}

// setServing sets the readiness the backend reports under its name.
func (b *backend) setServing(serving bool) {
	st := healthpb.HealthCheckResponse_NOT_SERVING
	if serving {
		st = healthpb.HealthCheckResponse_SERVING
	}
	b.health.SetServingStatus(b.name, st)
}

// startBackend serves register's services and health on a free port until
// the test ends. The backend starts SERVING.
func startBackend(t testing.TB, name string, register func(*grpc.Server)) *backend {
	t.Helper()
	return startBackendWith(t, name, register)
}

// startBackendWith is startBackend with options for the gRPC server, such
// as its transport credentials.
func startBackendWith(t testing.TB, name string, register func(*grpc.Server), opts ...grpc.ServerOption) *backend {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	b := &backend{name: name, addr: lis.Addr().String(), health: &healthServer{Server: health.NewServer()}, register: register, opts: opts}
	b.setServing(true)
	b.serve(lis)
	t.Cleanup(b.stop)
	return b
}

// serve starts a new gRPC server for the backend on lis.
func (b *backend) serve(lis net.Listener) {
	srv := grpc.NewServer(b.opts...)
	healthpb.RegisterHealthServer(srv, b.health)
	if b.register != nil {
		b.register(srv)
	}
	b.mu.Lock()
	b.srv = srv
	b.mu.Unlock()
	go func() { _ = srv.Serve(lis) }()
}

// stop stops the backend's server at once, closing its connections, as a
// killed process's would be.
func (b *backend) stop() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.srv.Stop()
}

// restart serves the backend again on its address, after stop.
func (b *backend) restart(t testing.TB) {
	t.Helper()
	lis, err := net.Listen("tcp", b.addr)
	if err != nil {
		t.Fatalf("listen again on %s: %v", b.addr, err)
	}
	b.serve(lis)
}

// deadAddr returns an address where nothing listens.
func deadAddr(t testing.TB) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := lis.Addr().String()
	lis.Close()
	return addr
}

// received reports whether any call the fake received satisfies match.
func (r *recorder) received(match func(call) bool) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, c := range r.calls {
		if match(c) {
			return true
		}
	}
	return false
}
