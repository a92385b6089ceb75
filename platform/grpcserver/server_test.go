package grpcserver_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ipnmediation/disputes/platform/auth"
	"github.com/ipnmediation/disputes/platform/fault"
	"github.com/ipnmediation/disputes/platform/grpcserver"
	"github.com/ipnmediation/disputes/platform/testenv"
	intakev1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/intake/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	reflectionpb "google.golang.org/grpc/reflection/grpc_reflection_v1"
	"google.golang.org/grpc/status"
)

// intake is a stand-in service to exercise the interceptors.
type intake struct {
	intakev1.UnimplementedIntakeServiceServer
	release chan struct{}
	entered chan struct{}
}

func (s *intake) CreateConcern(ctx context.Context, req *intakev1.CreateConcernRequest) (*intakev1.Concern, error) {
	switch req.GetConcern().GetDescription() {
	case "panic":
		panic("boom")
	case "block":
		close(s.entered)
		select {
		case <-s.release:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return &intakev1.Concern{Name: req.GetParent() + "/concerns/c1"}, nil
}

func (s *intake) GetConcern(ctx context.Context, req *intakev1.GetConcernRequest) (*intakev1.Concern, error) {
	if err := auth.RequireService(ctx, "casework"); err != nil {
		return nil, err
	}
	return nil, fault.New(fault.NotFound, "CONCERN_NOT_FOUND", "no such concern")
}

type running struct {
	client intakev1.IntakeServiceClient
	health healthpb.HealthClient
	conn   *grpc.ClientConn
	cancel context.CancelFunc
	done   chan error
	svc    *intake
}

func start(t *testing.T, ready *atomic.Bool, shutdown time.Duration) *running {
	t.Helper()
	svc := &intake{release: make(chan struct{}), entered: make(chan struct{})}
	s := grpcserver.New(grpcserver.Options{
		Name:          "intake",
		Logger:        slog.New(slog.NewTextHandler(io.Discard, nil)),
		Authenticator: auth.Chain{Services: auth.Services{"casework": "right", "notification": "other"}},
		Readiness: []grpcserver.Check{func(context.Context) error {
			if ready.Load() {
				return nil
			}
			return errors.New("down")
		}},
		ReadinessInterval: 10 * time.Millisecond,
		ShutdownTimeout:   shutdown,
	})
	intakev1.RegisterIntakeServiceServer(s.Registrar(), svc)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.ServeListener(ctx, lis) }()
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); conn.Close() })
	return &running{conn: conn, client: intakev1.NewIntakeServiceClient(conn), health: healthpb.NewHealthClient(conn), cancel: cancel, done: done, svc: svc}
}

func valid(description string) *intakev1.CreateConcernRequest {
	return &intakev1.CreateConcernRequest{Parent: "groups/g", Concern: &intakev1.Concern{
		Practitioner: "groups/g/members/m", Description: description, ClientName: "n", ClientContact: &intakev1.ClientContact{Email: "a@b.c"},
	}}
}

func bearer(secret string) context.Context {
	return metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+secret)
}

func TestInterceptors(t *testing.T) {
	t.Parallel()
	var ready atomic.Bool
	ready.Store(true)
	r := start(t, &ready, time.Second)
	tests := []struct {
		name string
		call func() error
		code codes.Code
	}{
		{"public method without credentials", func() error { _, err := r.client.CreateConcern(context.Background(), valid("ok")); return err }, codes.OK},
		{"invalid request", func() error {
			_, err := r.client.CreateConcern(context.Background(), &intakev1.CreateConcernRequest{})
			return err
		}, codes.InvalidArgument},
		{"NUL in a field is bad input, before any handler", func() error {
			_, err := r.client.CreateConcern(context.Background(), valid("a\x00b"))
			return err
		}, codes.InvalidArgument},
		{"panic becomes INTERNAL", func() error { _, err := r.client.CreateConcern(context.Background(), valid("panic")); return err }, codes.Internal},
		{"protected method without credentials", func() error {
			_, err := r.client.GetConcern(context.Background(), &intakev1.GetConcernRequest{Name: "groups/g/concerns/c"})
			return err
		}, codes.Unauthenticated},
		{"wrong secret", func() error {
			_, err := r.client.GetConcern(bearer(auth.ServiceToken("casework", "wrong")), &intakev1.GetConcernRequest{Name: "groups/g/concerns/c"})
			return err
		}, codes.Unauthenticated},
		{"bad credentials on a public method", func() error { _, err := r.client.CreateConcern(bearer("nonsense"), valid("ok")); return err }, codes.Unauthenticated},
		{"another service", func() error {
			_, err := r.client.GetConcern(bearer(auth.ServiceToken("notification", "other")), &intakev1.GetConcernRequest{Name: "groups/g/concerns/c"})
			return err
		}, codes.PermissionDenied},
		{"the right service reaches the handler", func() error {
			_, err := r.client.GetConcern(bearer(auth.ServiceToken("casework", "right")), &intakev1.GetConcernRequest{Name: "groups/g/concerns/c"})
			return err
		}, codes.NotFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := status.Code(tc.call()); got != tc.code {
				t.Errorf("code = %v, want %v", got, tc.code)
			}
		})
	}
}

// TestReflectionAnswersOnlyAuthenticatedCallers: the list of a service's
// methods is for those who may call them.
func TestReflectionAnswersOnlyAuthenticatedCallers(t *testing.T) {
	t.Parallel()
	var ready atomic.Bool
	ready.Store(true)
	r := start(t, &ready, time.Second)
	tests := []struct {
		name string
		ctx  context.Context
		code codes.Code
	}{
		{"anonymous", context.Background(), codes.Unauthenticated},
		{"a wrong secret", bearer(auth.ServiceToken("casework", "wrong")), codes.Unauthenticated},
		{"a service", bearer(auth.ServiceToken("casework", "right")), codes.OK},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			stream, err := reflectionpb.NewServerReflectionClient(r.conn).ServerReflectionInfo(tc.ctx)
			if err == nil {
				err = stream.Send(&reflectionpb.ServerReflectionRequest{MessageRequest: &reflectionpb.ServerReflectionRequest_ListServices{}})
			}
			var resp *reflectionpb.ServerReflectionResponse
			// A stream the server has already ended says io.EOF on Send;
			// its status comes with Recv.
			if err == nil || errors.Is(err, io.EOF) {
				resp, err = stream.Recv()
			}
			if got := status.Code(err); got != tc.code {
				t.Fatalf("code = %v, want %v", got, tc.code)
			}
			if tc.code == codes.OK && len(resp.GetListServicesResponse().GetService()) == 0 {
				t.Errorf("an authenticated caller got no services: %v", resp)
			}
		})
	}
}

func TestReadinessFollowsDependencies(t *testing.T) {
	t.Parallel()
	var ready atomic.Bool
	r := start(t, &ready, time.Second)
	statusIs := func(want healthpb.HealthCheckResponse_ServingStatus) func() bool {
		return func() bool {
			resp, err := r.health.Check(context.Background(), &healthpb.HealthCheckRequest{Service: "intake"})
			return err == nil && resp.GetStatus() == want
		}
	}
	testenv.Eventually(t, 5*time.Second, "NOT_SERVING while a dependency is down", statusIs(healthpb.HealthCheckResponse_NOT_SERVING))
	live, err := r.health.Check(context.Background(), &healthpb.HealthCheckRequest{})
	if err != nil || live.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Errorf("liveness (empty service name) = %v, %v; want SERVING while the process runs", live, err)
	}
	ready.Store(true)
	testenv.Eventually(t, 5*time.Second, "SERVING once it is up", statusIs(healthpb.HealthCheckResponse_SERVING))
	ready.Store(false)
	testenv.Eventually(t, 5*time.Second, "NOT_SERVING again", statusIs(healthpb.HealthCheckResponse_NOT_SERVING))
}

func TestGracefulStopDrainsCalls(t *testing.T) {
	t.Parallel()
	var ready atomic.Bool
	ready.Store(true)
	r := start(t, &ready, 30*time.Second)
	result := make(chan error, 1)
	go func() { _, err := r.client.CreateConcern(context.Background(), valid("block")); result <- err }()
	<-r.svc.entered
	r.cancel()
	select {
	case err := <-r.done:
		t.Fatalf("server stopped (%v) while a call was in flight", err)
	case <-time.After(100 * time.Millisecond):
	}
	close(r.svc.release)
	if err := <-result; err != nil {
		t.Errorf("in-flight call failed: %v", err)
	}
	if err := <-r.done; err != nil {
		t.Errorf("Serve returned %v", err)
	}
}

func TestStopIsForcedAfterTimeout(t *testing.T) {
	t.Parallel()
	var ready atomic.Bool
	ready.Store(true)
	r := start(t, &ready, 50*time.Millisecond)
	go func() { _, _ = r.client.CreateConcern(context.Background(), valid("block")) }()
	<-r.svc.entered
	r.cancel()
	select {
	case <-r.done:
	case <-time.After(10 * time.Second):
		t.Fatal("server did not stop after its shutdown timeout")
	}
	close(r.svc.release)
}
