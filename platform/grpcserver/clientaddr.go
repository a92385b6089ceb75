package grpcserver

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strings"

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

// ParsePrefixes reads a comma-separated list of networks ("10.0.0.0/8") and
// addresses ("192.0.2.7", taken as one-address networks). Blank entries are
// skipped, so "" is the empty list.
func ParsePrefixes(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if !strings.Contains(f, "/") {
			a, err := netip.ParseAddr(f)
			if err != nil {
				return nil, fmt.Errorf("%q is neither an address nor a network: %w", f, err)
			}
			a = a.Unmap()
			out = append(out, netip.PrefixFrom(a, a.BitLen()))
			continue
		}
		p, err := netip.ParsePrefix(f)
		if err != nil {
			return nil, fmt.Errorf("%q is not a network: %w", f, err)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

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
	if !contains(c.TrustedFrontEnds, caller) {
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

// ClientNetwork is the block of addresses one client can be assumed to hold,
// for counting clients: the address itself for IPv4, its /64 for IPv6,
// because every IPv6 subscriber is handed at least a /64 and could
// otherwise take a fresh address for each attempt.
func ClientNetwork(a netip.Addr) netip.Prefix {
	a = a.Unmap()
	if a.Is4() {
		return netip.PrefixFrom(a, 32)
	}
	p, _ := a.WithZone("").Prefix(64)
	return p
}

// ForwardedClient returns the address of the client an HTTP request was
// made for: the immediate peer's address unless the peer is a trusted proxy,
// in which case X-Forwarded-For is read from the right (the entries proxies
// appended last) and the first entry not added by a trusted proxy wins.
// Entries further left were written by the client and are never believed;
// a malformed entry stops the walk at the last address known to be good.
func ForwardedClient(remoteAddr string, forwardedFor []string, trustedProxies []netip.Prefix) (netip.Addr, bool) {
	current, ok := parseHostPort(remoteAddr)
	if !ok {
		return netip.Addr{}, false
	}
	var hops []string
	for _, h := range forwardedFor {
		hops = append(hops, strings.Split(h, ",")...)
	}
	for i := len(hops) - 1; i >= 0 && contains(trustedProxies, current); i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break
		}
		current = a.Unmap()
	}
	return current, true
}

func parseHostPort(s string) (netip.Addr, bool) {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap(), true
	}
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Unmap(), true
	}
	return netip.Addr{}, false
}

func addrOf(a net.Addr) (netip.Addr, bool) {
	switch a := a.(type) {
	case *net.TCPAddr:
		ip, ok := netip.AddrFromSlice(a.IP)
		return ip.Unmap(), ok
	default:
		return parseHostPort(a.String())
	}
}

func contains(nets []netip.Prefix, a netip.Addr) bool {
	for _, n := range nets {
		if n.Contains(a) {
			return true
		}
	}
	return false
}
