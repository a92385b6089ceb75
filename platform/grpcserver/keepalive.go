package grpcserver

import (
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/keepalive"
)

// ClientKeepalive makes a client ping a connection that has been quiet for
// 10 s and drop it when no answer comes within 5 s. A peer that vanished
// without closing its connections (a frozen process, a machine cut off, a
// NAT that forgot the flow) otherwise looks connected until the operating
// system gives up on TCP, which takes minutes; every call on it would wait
// out its whole deadline instead of failing over to a fresh connection.
var ClientKeepalive = keepalive.ClientParameters{
	Time:                10 * time.Second,
	Timeout:             5 * time.Second,
	PermitWithoutStream: true,
}

// keepaliveEnforcement lets clients ping as often as ClientKeepalive does:
// gRPC servers otherwise answer pings more often than every 5 minutes with
// GOAWAY "too_many_pings" and close the connection.
var keepaliveEnforcement = keepalive.EnforcementPolicy{
	MinTime:             5 * time.Second,
	PermitWithoutStream: true,
}

// serverKeepalive makes a server ping a quiet client after 30 s and close
// the connection when no answer comes within 10 s, so the connections of
// clients that vanished do not pile up.
var serverKeepalive = keepalive.ServerParameters{
	Time:    30 * time.Second,
	Timeout: 10 * time.Second,
}

// keepaliveServerOptions are the server's half of the above.
func keepaliveServerOptions() []grpc.ServerOption {
	return []grpc.ServerOption{
		grpc.KeepaliveEnforcementPolicy(keepaliveEnforcement),
		grpc.KeepaliveParams(serverKeepalive),
	}
}
