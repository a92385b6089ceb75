package grpcserver

import (
	"context"
	"net"
	"net/netip"
	"testing"

	"github.com/ipnmediation/disputes/platform/clientaddr"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
)

func TestClientAddressesOf(t *testing.T) {
	t.Parallel()
	trusted, err := clientaddr.ParsePrefixes("127.0.0.0/8,10.0.0.5")
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
