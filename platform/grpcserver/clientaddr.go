package grpcserver

import (
	"context"
	"net"
	"net/netip"
	"strings"

	"github.com/ipnmediation/disputes/platform/clientaddr"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
)

// ClientAddressKey is the metadata key under which a front end that the
// services trust (the gateway) passes the address of the client it serves.
// The front end always sets it itself, replacing anything the client sent
// under that name.
const ClientAddressKey = "x-client-address"

// DefaultTrustedFrontEnds are the networks whose callers are believed about
// the client's address when nothing else is configured: loopback and the
// private ranges, where the gateway runs in every shipped deployment. A
// service's gRPC port must therefore never be reachable from the public
// internet, or anyone could claim any address.
const DefaultTrustedFrontEnds = "127.0.0.0/8,::1/128,10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,fc00::/7"

// ClientAddresses tells, for a call, the address of the person it is made
// for: the address that a trusted front end passes under ClientAddressKey,
// or else the address of the caller itself.
type ClientAddresses struct {
	// TrustedFrontEnds are the networks whose callers' ClientAddressKey is
	// believed. Anyone else's is ignored: a client talking to the service
	// directly could otherwise pick the address it is counted under.
	TrustedFrontEnds []netip.Prefix
}

// Of returns the client address of the call in ctx, and false when there is
// none (no peer, as in a call that did not come over the network).
func (c ClientAddresses) Of(ctx context.Context) (netip.Addr, bool) {
	p, ok := peer.FromContext(ctx)
	if !ok || p.Addr == nil {
		return netip.Addr{}, false
	}
	caller, ok := addrOf(p.Addr)
	if !ok {
		return netip.Addr{}, false
	}
	if !clientaddr.Contains(c.TrustedFrontEnds, caller) {
		return caller, true
	}
	md, _ := metadata.FromIncomingContext(ctx)
	// Exactly one value, or the front end did not set it as it should: one
	// set by the front end plus one the client smuggled in must not let the
	// client choose.
	if vals := md.Get(ClientAddressKey); len(vals) == 1 {
		if a, err := netip.ParseAddr(strings.TrimSpace(vals[0])); err == nil {
			return a.Unmap(), true
		}
	}
	return caller, true
}

func addrOf(a net.Addr) (netip.Addr, bool) {
	switch a := a.(type) {
	case *net.TCPAddr:
		ip, ok := netip.AddrFromSlice(a.IP)
		return ip.Unmap(), ok
	default:
		return clientaddr.ParseHostPort(a.String())
	}
}
