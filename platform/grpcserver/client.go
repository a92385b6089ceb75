package grpcserver

import (
	"context"
	"fmt"
	"time"

	"github.com/ipnmediation/disputes/platform/auth"
	"github.com/ipnmediation/disputes/platform/tracing"
	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/credentials/insecure"
)

// CallTimeout is the longest a unary call to another service may take when
// the caller's context allows longer or sets no deadline. A service that
// hangs (stopped, swamped, cut off) then costs each caller at most this long,
// and the caller answers DEADLINE_EXCEEDED instead of hanging with it.
const CallTimeout = 10 * time.Second

// Reconnect bounds how long a connection to another service waits between
// attempts to reconnect. gRPC's default backoff grows to 120 s: after a
// three-minute outage of the directory, intake refused every concern for
// another 113 s while the directory was already back. gRPC waits for a
// failed attempt to end and then for the backoff, so at worst (an address
// that drops packets, so each attempt runs its full MinConnectTimeout) a
// caller works again max(MinConnectTimeout, backoff) + backoff after the
// other service's return: with backoff at most 3 s + 20 % jitter, about
// 7.2 s; and about 3.6 s for a service that refuses connections while it is
// down. Trying a downed service every 3 s costs nothing.
var Reconnect = grpc.ConnectParams{
	Backoff: backoff.Config{
		BaseDelay:  200 * time.Millisecond,
		Multiplier: 1.6,
		Jitter:     0.2,
		MaxDelay:   3 * time.Second,
	},
	MinConnectTimeout: 2 * time.Second,
}

// Dial opens a client connection to another service that presents this
// service's credential on every call. The connection is lazy: it does not
// fail when the other service is not up yet. It reconnects within seconds
// of the other service's return (see Reconnect), and every unary call has a
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
// dials it: the bounded reconnect backoff, keepalive pings that notice a
// vanished peer, a deadline of at most CallTimeout on every unary call, and
// a span for every call that passes the trace on. Dial uses them; a connection dialled
// otherwise (to a federation peer in another deployment, say) should add
// them too.
func ClientOptions() []grpc.DialOption {
	return []grpc.DialOption{
		tracing.DialOption(),
		grpc.WithConnectParams(Reconnect),
		grpc.WithKeepaliveParams(ClientKeepalive),
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
