package grpcserver

import (
	"fmt"

	"github.com/ipnmediation/disputes/platform/auth"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// Dial opens a client connection to another service that presents this
// service's credential on every call. The connection is lazy: it does not
// fail when the other service is not up yet. It is plaintext unless opts
// say otherwise, for example with grpc.WithTransportCredentials and
// ClientCredentials for mutual TLS.
func Dial(addr, service, secret string, opts ...grpc.DialOption) (*grpc.ClientConn, error) {
	// Later options win, so opts may replace the plaintext default.
	conn, err := grpc.NewClient(addr, append([]grpc.DialOption{
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithPerRPCCredentials(auth.PerRPCCredentials(service, secret)),
	}, opts...)...)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", addr, err)
	}
	return conn, nil
}
