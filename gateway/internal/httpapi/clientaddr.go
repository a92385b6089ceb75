package httpapi

import (
	"context"
	"net/http"
	"net/netip"
	"strings"

	"github.com/ipnmediation/disputes/platform/clientaddr"
	"github.com/ipnmediation/disputes/platform/grpcserver"
	"google.golang.org/grpc/metadata"
)

// clientAddress passes the address of the HTTP client to the services under
// grpcserver.ClientAddressKey, for their per-address limits. It is the
// request's peer, or, when the peer is one of trustedProxies, the right-most
// X-Forwarded-For entry that no trusted proxy wrote. The gateway's value
// always replaces anything the client sent under that name.
func clientAddress(trustedProxies []netip.Prefix) func(context.Context, *http.Request) metadata.MD {
	return func(_ context.Context, r *http.Request) metadata.MD {
		a, ok := clientaddr.Forwarded(r.RemoteAddr, r.Header.Values("X-Forwarded-For"), trustedProxies)
		if !ok {
			return nil
		}
		return metadata.Pairs(grpcserver.ClientAddressKey, a.String())
	}
}

// reservedMetadata are keys only the gateway sets: a client's
// Grpc-Metadata-<key> header under one of them is dropped rather than
// forwarded, even when the gateway has no value of its own to put there.
func reservedMetadata(key string) bool {
	k, ok := strings.CutPrefix(strings.ToLower(key), strings.ToLower(runtimeMetadataPrefix))
	return ok && k == grpcserver.ClientAddressKey
}

// runtimeMetadataPrefix is the header prefix grpc-gateway's default matcher
// turns into metadata.
const runtimeMetadataPrefix = "Grpc-Metadata-"
