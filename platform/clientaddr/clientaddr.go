// Package clientaddr answers, for the per-address limits and logs of every
// process, who a request comes from: the peer, or, behind reverse proxies
// that are trusted, the client they name in X-Forwarded-For. It needs only
// the standard library, so that the website can use it without linking the
// services' server packages.
package clientaddr

import (
	"fmt"
	"net/netip"
	"strings"
)

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

// Network is the block of addresses one client can be assumed to hold,
// for counting clients: the address itself for IPv4, its /64 for IPv6,
// because every IPv6 subscriber is handed at least a /64 and could
// otherwise take a fresh address for each attempt.
func Network(a netip.Addr) netip.Prefix {
	a = a.Unmap()
	if a.Is4() {
		return netip.PrefixFrom(a, 32)
	}
	p, _ := a.WithZone("").Prefix(64)
	return p
}

// Forwarded returns the address of the client an HTTP request was
// made for: the immediate peer's address unless the peer is a trusted proxy,
// in which case X-Forwarded-For is read from the right (the entries proxies
// appended last) and the first entry not added by a trusted proxy wins.
// Entries further left were written by the client and are never believed;
// a malformed entry stops the walk at the last address known to be good.
func Forwarded(remoteAddr string, forwardedFor []string, trustedProxies []netip.Prefix) (netip.Addr, bool) {
	current, ok := ParseHostPort(remoteAddr)
	if !ok {
		return netip.Addr{}, false
	}
	var hops []string
	for _, h := range forwardedFor {
		hops = append(hops, strings.Split(h, ",")...)
	}
	for i := len(hops) - 1; i >= 0 && Contains(trustedProxies, current); i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break
		}
		current = a.Unmap()
	}
	return current, true
}

// ParseHostPort reads an address with or without a port ("192.0.2.7:443",
// "[2001:db8::1]:80", "192.0.2.7"), IPv4-mapped IPv6 addresses unmapped.
func ParseHostPort(s string) (netip.Addr, bool) {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap(), true
	}
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Unmap(), true
	}
	return netip.Addr{}, false
}

// Contains reports whether a is in any of nets.
func Contains(nets []netip.Prefix, a netip.Addr) bool {
	for _, n := range nets {
		if n.Contains(a) {
			return true
		}
	}
	return false
}
