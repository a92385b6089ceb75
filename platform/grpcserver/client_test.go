package grpcserver_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ipnmediation/disputes/platform/auth"
	"github.com/ipnmediation/disputes/platform/grpcserver"
	"github.com/ipnmediation/disputes/platform/testenv"
	directoryv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/directory/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// directoryStandIn answers GetGroup with the time the call had left when it
// arrived, in the group's display name, so tests can see the deadline the
// caller sent.
type directoryStandIn struct {
	directoryv1.UnimplementedDirectoryServiceServer
}

func (directoryStandIn) GetGroup(ctx context.Context, req *directoryv1.GetGroupRequest) (*directoryv1.Group, error) {
	left := "none"
	if d, ok := ctx.Deadline(); ok {
		left = time.Until(d).String()
	}
	return &directoryv1.Group{Name: req.GetName(), DisplayName: left}, nil
}

// serveDirectory serves the stand-in on lis, as intake's directory, until
// the returned stop is called; stop returns once the server has stopped.
func serveDirectory(t *testing.T, lis net.Listener) (stop func()) {
	t.Helper()
	s := grpcserver.New(grpcserver.Options{
		Name:          "directory",
		Logger:        slog.New(slog.NewTextHandler(io.Discard, nil)),
		Authenticator: auth.Chain{Services: auth.Services{"intake": "intake-secret"}},
	})
	directoryv1.RegisterDirectoryServiceServer(s.Registrar(), directoryStandIn{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.ServeListener(ctx, lis) }()
	var stopped atomic.Bool
	stop = func() {
		if stopped.Swap(true) {
			return
		}
		cancel()
		if err := <-done; err != nil {
			t.Errorf("directory stand-in: %v", err)
		}
	}
	t.Cleanup(stop)
	return stop
}

// countingDialer dials TCP as gRPC would and counts the attempts that fail.
type countingDialer struct {
	failures atomic.Int64
}

func (d *countingDialer) dial(ctx context.Context, addr string) (net.Conn, error) {
	conn, err := (&net.Dialer{}).DialContext(ctx, "tcp", addr)
	if err != nil {
		d.failures.Add(1)
	}
	return conn, err
}

// TestDialRecoversSoonAfterAnOutage guards the promise that a caller works
// again within 10 s of its dependency's return, however long the outage.
// The directory stays down until intake's connection has failed to
// reconnect eight times in a row. With gRPC's default backoff (1 s, ×1.6,
// ±20 %, up to 120 s) that takes about 43 s and the next attempt would come
// 21-32 s later, so intake would go on refusing concerns long after the
// directory is back; with Dial's (200 ms, ×1.6, ±20 %, up to 3 s) it takes
// about 7 s and the next attempt comes within 4 s.
func TestDialRecoversSoonAfterAnOutage(t *testing.T) {
	t.Parallel()
	const outageAttempts = 8
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := lis.Addr().String()
	stop := serveDirectory(t, lis)

	dialer := &countingDialer{}
	conn, err := grpcserver.Dial(addr, "intake", "intake-secret", grpc.WithContextDialer(dialer.dial))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	client := directoryv1.NewDirectoryServiceClient(conn)
	getGroup := func() error {
		_, err := client.GetGroup(context.Background(), &directoryv1.GetGroupRequest{Name: "groups/riverside"})
		return err
	}
	if err := getGroup(); err != nil {
		t.Fatalf("before the outage: %v", err)
	}

	stop()
	// While the directory is down a call fails at once, UNAVAILABLE, and
	// the connection keeps trying to come back with its backoff.
	testenv.Eventually(t, 2*time.Minute, "the connection to fail to reconnect repeatedly", func() bool {
		if code := status.Code(getGroup()); code != codes.Unavailable {
			t.Fatalf("a call during the outage: %v, want UNAVAILABLE", code)
		}
		conn.Connect() // leave idleness, when the lost connection left it idle
		return dialer.failures.Load() >= outageAttempts
	})

	lis, err = net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("listen again on %s: %v", addr, err)
	}
	back := time.Now()
	serveDirectory(t, lis)
	testenv.Eventually(t, 10*time.Second, "calls to work again within 10 s of the directory's return", func() bool {
		return getGroup() == nil
	})
	t.Logf("calls worked again %v after the directory's return (outage: %d failed reconnection attempts)",
		time.Since(back).Round(time.Millisecond), dialer.failures.Load())
}

// TestDialSetsADeadline: every unary call reaches the other service with a
// deadline of at most CallTimeout, a caller's sooner deadline kept.
func TestDialSetsADeadline(t *testing.T) {
	t.Parallel()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	serveDirectory(t, lis)
	conn, err := grpcserver.Dial(lis.Addr().String(), "intake", "intake-secret")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	client := directoryv1.NewDirectoryServiceClient(conn)
	tests := []struct {
		name     string
		deadline time.Duration // 0: none
		min, max time.Duration // bounds of what the server sees left
	}{
		{"no deadline gets CallTimeout", 0, grpcserver.CallTimeout - 2*time.Second, grpcserver.CallTimeout},
		{"a later deadline is cut to CallTimeout", time.Hour, grpcserver.CallTimeout - 2*time.Second, grpcserver.CallTimeout},
		{"a sooner deadline is kept", 3 * time.Second, time.Second, 3 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			if tt.deadline > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.deadline)
				defer cancel()
			}
			g, err := client.GetGroup(ctx, &directoryv1.GetGroupRequest{Name: "groups/riverside"})
			if err != nil {
				t.Fatal(err)
			}
			left, err := time.ParseDuration(g.GetDisplayName())
			if err != nil {
				t.Fatalf("the server saw no deadline (%q)", g.GetDisplayName())
			}
			if left < tt.min || left > tt.max {
				t.Errorf("the server saw %v left, want between %v and %v", left, tt.min, tt.max)
			}
		})
	}
}
