package grpcserver

import (
	"context"
	"net"
	"net/netip"
	"testing"

	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
)

func TestParsePrefixes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    []string
		wantErr bool
	}{
		{in: "", want: nil},
		{in: " 10.0.0.0/8 , 192.0.2.7,::1 ,", want: []string{"10.0.0.0/8", "192.0.2.7/32", "::1/128"}},
		{in: "10.1.2.3/8", want: []string{"10.0.0.0/8"}},
		{in: "gateway", wantErr: true},
		{in: "10.0.0.0/33", wantErr: true},
	}
	for _, tt := range tests {
		got, err := ParsePrefixes(tt.in)
		if (err != nil) != tt.wantErr {
			t.Errorf("ParsePrefixes(%q) error = %v, want error %v", tt.in, err, tt.wantErr)
			continue
		}
		var s []string
		for _, p := range got {
			s = append(s, p.String())
		}
		if len(s) != len(tt.want) {
			t.Errorf("ParsePrefixes(%q) = %v, want %v", tt.in, s, tt.want)
			continue
		}
		for i := range s {
			if s[i] != tt.want[i] {
				t.Errorf("ParsePrefixes(%q) = %v, want %v", tt.in, s, tt.want)
			}
		}
	}
}

func TestClientAddressesOf(t *testing.T) {
	t.Parallel()
	trusted, err := ParsePrefixes("127.0.0.0/8,10.0.0.5")
	if err != nil {
		t.Fatal(err)
	}
	c := ClientAddresses{TrustedFrontEnds: trusted}
	tests := []struct {
		name string
		peer string // "" for no peer
		md   []string
		want string // "" for none
	}{
		{name: "trusted gateway passes the client", peer: "10.0.0.5:5000", md: []string{"203.0.113.9"}, want: "203.0.113.9"},
		{name: "loopback gateway passes the client", peer: "127.0.0.1:5000", md: []string{"2001:db8::1"}, want: "2001:db8::1"},
		{name: "mapped IPv4 is unmapped", peer: "127.0.0.1:5000", md: []string{"::ffff:203.0.113.9"}, want: "203.0.113.9"},
		{name: "untrusted caller cannot choose", peer: "198.51.100.2:5000", md: []string{"203.0.113.9"}, want: "198.51.100.2"},
		{name: "trusted caller without metadata is the client", peer: "10.0.0.5:5000", want: "10.0.0.5"},
		{name: "two values: neither is believed", peer: "10.0.0.5:5000", md: []string{"203.0.113.9", "192.0.2.1"}, want: "10.0.0.5"},
		{name: "malformed value is ignored", peer: "10.0.0.5:5000", md: []string{"nobody"}, want: "10.0.0.5"},
		{name: "no peer", peer: "", want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			if tt.peer != "" {
				ctx = peer.NewContext(ctx, &peer.Peer{Addr: net.TCPAddrFromAddrPort(netip.MustParseAddrPort(tt.peer))})
			}
			md := metadata.MD{}
			for _, v := range tt.md {
				md.Append(ClientAddressKey, v)
			}
			ctx = metadata.NewIncomingContext(ctx, md)
			got, ok := c.Of(ctx)
			if tt.want == "" {
				if ok {
					t.Errorf("Of = %v, want none", got)
				}
				return
			}
			if !ok || got.String() != tt.want {
				t.Errorf("Of = %v, %v, want %s", got, ok, tt.want)
			}
		})
	}
}

func TestForwardedClient(t *testing.T) {
	t.Parallel()
	proxies, err := ParsePrefixes("10.0.0.0/8")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		remote string
		xff    []string
		want   string
	}{
		{name: "direct client", remote: "203.0.113.9:443", want: "203.0.113.9"},
		{name: "direct client cannot forge", remote: "203.0.113.9:443", xff: []string{"192.0.2.1"}, want: "203.0.113.9"},
		{name: "through a trusted proxy", remote: "10.0.0.2:443", xff: []string{"203.0.113.9"}, want: "203.0.113.9"},
		{name: "right-most untrusted wins", remote: "10.0.0.2:443", xff: []string{"192.0.2.1, 203.0.113.9, 10.0.0.3"}, want: "203.0.113.9"},
		{name: "several headers", remote: "10.0.0.2:443", xff: []string{"192.0.2.1", "203.0.113.9,10.0.0.3"}, want: "203.0.113.9"},
		{name: "malformed entry stops the walk", remote: "10.0.0.2:443", xff: []string{"192.0.2.1, junk, 10.0.0.3"}, want: "10.0.0.3"},
		{name: "only proxies", remote: "10.0.0.2:443", xff: []string{"10.0.0.4"}, want: "10.0.0.4"},
		{name: "IPv6 peer", remote: "[2001:db8::7]:443", want: "2001:db8::7"},
	}
	for _, tt := range tests {
		got, ok := ForwardedClient(tt.remote, tt.xff, proxies)
		if !ok || got.String() != tt.want {
			t.Errorf("%s: ForwardedClient = %v, %v, want %s", tt.name, got, ok, tt.want)
		}
	}
	if _, ok := ForwardedClient("pipe", nil, proxies); ok {
		t.Error("ForwardedClient accepted a remote address that is not one")
	}
}

func TestClientNetwork(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"203.0.113.9":          "203.0.113.9/32",
		"::ffff:203.0.113.9":   "203.0.113.9/32",
		"2001:db8:1:2:3:4:5:6": "2001:db8:1:2::/64",
	} {
		if got := ClientNetwork(netip.MustParseAddr(in)).String(); got != want {
			t.Errorf("ClientNetwork(%s) = %s, want %s", in, got, want)
		}
	}
}
