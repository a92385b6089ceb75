package grpcserver

import (
	"fmt"

	"github.com/ipnmediation/disputes/platform/auth"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// Dial opens a client connection to another service that presents this
// service's credential on every call. The connection is lazy: it does not
// fail when the other service is not up yet.
func Dial(addr, service, secret string) (*grpc.ClientConn, error) {
	conn, err := grpc.NewClient(addr,
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithPerRPCCredentials(auth.PerRPCCredentials(service, secret)),
	)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", addr, err)
	}
	return conn, nil
}
