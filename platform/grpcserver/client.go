package grpcserver

import (
	"context"
	"fmt"
	"time"

	"github.com/ipnmediation/disputes/platform/auth"
	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/credentials/insecure"
)

// CallTimeout is the longest a unary call to another service may take when
// the caller's context allows longer or sets no deadline. A service that
// hangs (stopped, swamped, cut off) then costs each caller at most this long,
// and the caller answers DEADLINE_EXCEEDED instead of hanging with it.
const CallTimeout = 10 * time.Second

// reconnect bounds how long a connection to another service waits between
// attempts to reconnect. gRPC's default backoff grows to 120 s: after a
// three-minute outage of the directory, intake refused every concern for
// another 113 s while the directory was already back. With these settings
// the wait grows from 200 ms to at most 5 s (±20 %), so a caller works again
// within about 6 s of the other service's return, whatever the length of the
// outage. MinConnectTimeout bounds one attempt, against a peer that accepts
// the connection but never answers (a stopped process).
var reconnect = grpc.ConnectParams{
	Backoff: backoff.Config{
		BaseDelay:  200 * time.Millisecond,
		Multiplier: 1.6,
		Jitter:     0.2,
		MaxDelay:   5 * time.Second,
	},
	MinConnectTimeout: 5 * time.Second,
}

// Dial opens a client connection to another service that presents this
// service's credential on every call. The connection is lazy: it does not
// fail when the other service is not up yet. It reconnects within about 6 s
// of the other service's return (see reconnect), and every unary call has a
// deadline of at most CallTimeout. While the connection is down and waiting
// to try again, a call fails at once with UNAVAILABLE (gRPC's default, not
// WaitForReady) rather than wait for it. It is plaintext unless opts say
// otherwise, for example with grpc.WithTransportCredentials and
// ClientCredentials for mutual TLS.
func Dial(addr, service, secret string, opts ...grpc.DialOption) (*grpc.ClientConn, error) {
	// Later options win, so opts may replace the plaintext default; their
	// interceptors run after the deadline's.
	defaults := append([]grpc.DialOption{
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithPerRPCCredentials(auth.PerRPCCredentials(service, secret)),
	}, ClientOptions()...)
	conn, err := grpc.NewClient(addr, append(defaults, opts...)...)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", addr, err)
	}
	return conn, nil
}

// ClientOptions are what every client of another service needs, whoever
// dials it: the bounded reconnect backoff and a deadline of at most
// CallTimeout on every unary call. Dial uses them; a connection dialled
// otherwise (to a federation peer in another deployment, say) should add
// them too.
func ClientOptions() []grpc.DialOption {
	return []grpc.DialOption{
		grpc.WithConnectParams(reconnect),
		grpc.WithChainUnaryInterceptor(DeadlineClientInterceptor(CallTimeout)),
	}
}

// DeadlineClientInterceptor gives every unary call a deadline of at most
// timeout from its start: the caller's own deadline when it is sooner. Only
// unary calls: a stream may be meant to stay open.
func DeadlineClientInterceptor(timeout time.Duration) grpc.UnaryClientInterceptor {
	return func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		// WithTimeout keeps the parent's deadline when it is sooner.
		ctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		return invoker(ctx, method, req, reply, cc, opts...)
	}
}
