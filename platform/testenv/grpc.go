package testenv

import (
	"context"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/ipnmediation/disputes/platform/localpg"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/status"
)

// FreeAddr returns a free address on 127.0.0.1 for a server to listen on.
func FreeAddr(t testing.TB) string {
	t.Helper()
	port, err := localpg.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("127.0.0.1:%d", port)
}

// ServeGRPC serves what register registers (typically a test double of
// another service) on a free port until the test ends, and returns the
// address.
func ServeGRPC(t testing.TB, register func(*grpc.Server)) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	// As every platform server does (grpcserver's keepalive enforcement):
	// clients dial with grpcserver.ClientKeepalive, and a server with gRPC's
	// default policy sends them away ("too_many_pings").
	srv := grpc.NewServer(grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: 5 * time.Second, PermitWithoutStream: true}))
	register(srv)
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	return lis.Addr().String()
}

// RunService runs a service's Run function in the background until the test
// ends, and waits until its gRPC health check at addr reports the named
// service SERVING. At the end it cancels Run and fails the test if Run
// returned an error.
func RunService(t testing.TB, name, addr string, run func(context.Context) error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("%s stopped with an error: %v", name, err)
		}
	})
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	health := healthpb.NewHealthClient(conn)
	Eventually(t, time.Minute, name+" to report SERVING", func() bool {
		select {
		case err := <-done:
			done <- err
			t.Fatalf("%s stopped before it was ready: %v", name, err)
		default:
		}
		resp, err := health.Check(context.Background(), &healthpb.HealthCheckRequest{Service: name})
		return err == nil && resp.GetStatus() == healthpb.HealthCheckResponse_SERVING
	})
}

// WantStatus fails the test unless err is a gRPC status with code, an
// ErrorInfo with reason (when reason is not empty) and a BadRequest field
// violation for each of fields. It returns the status for further checks.
func WantStatus(t testing.TB, err error, code codes.Code, reason string, fields ...string) *status.Status {
	t.Helper()
	st, ok := status.FromError(err)
	if !ok || st.Code() != code {
		t.Fatalf("error = %v; want code %v", err, code)
	}
	var gotReason string
	violated := map[string]bool{}
	for _, d := range st.Details() {
		switch d := d.(type) {
		case *errdetails.ErrorInfo:
			gotReason = d.GetReason()
		case *errdetails.BadRequest:
			for _, v := range d.GetFieldViolations() {
				violated[v.GetField()] = true
			}
		}
	}
	if reason != "" && gotReason != reason {
		t.Errorf("ErrorInfo reason = %q; want %q (status %v)", gotReason, reason, st)
	}
	for _, f := range fields {
		if !violated[f] {
			t.Errorf("no field violation on %q (status %v)", f, st)
		}
	}
	return st
}
