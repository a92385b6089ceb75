package secure

import (
	"fmt"
	"net/netip"
	"strings"
)

// These follow platform/grpcserver's ParsePrefixes and ForwardedClient, the
// gateway's rule for the same question, written again here so that the
// website does not link the services' server package (and with it the
// PostgreSQL and NATS clients) for twenty lines.

// ParseProxies reads TRUSTED_PROXIES: a comma-separated list of networks
// ("10.0.0.0/8") and addresses ("192.0.2.7"). Blank entries are skipped, so
// "" is the empty list.
func ParseProxies(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if !strings.Contains(f, "/") {
			a, err := netip.ParseAddr(f)
			if err != nil {
				return nil, fmt.Errorf("%q is neither an address nor a network", f)
			}
			a = a.Unmap()
			out = append(out, netip.PrefixFrom(a, a.BitLen()))
			continue
		}
		p, err := netip.ParsePrefix(f)
		if err != nil {
			return nil, fmt.Errorf("%q is not a network", f)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// ClientAddress is the address of the person a request comes from: its
// peer, or, while the peer is one of trusted (a reverse proxy in front of
// the website), the right-most X-Forwarded-For entry no trusted proxy
// wrote. ok is false when the peer's address cannot be read.
func ClientAddress(remoteAddr string, forwardedFor []string, trusted []netip.Prefix) (netip.Addr, bool) {
	current, ok := parseHostPort(remoteAddr)
	if !ok {
		return netip.Addr{}, false
	}
	var hops []string
	for _, h := range forwardedFor {
		hops = append(hops, strings.Split(h, ",")...)
	}
	for i := len(hops) - 1; i >= 0 && contains(trusted, current); i-- {
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

func contains(nets []netip.Prefix, a netip.Addr) bool {
	for _, n := range nets {
		if n.Contains(a) {
			return true
		}
	}
	return false
}
