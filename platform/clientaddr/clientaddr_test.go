package clientaddr

import (
	"net/netip"
	"testing"
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

func TestForwarded(t *testing.T) {
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
		got, ok := Forwarded(tt.remote, tt.xff, proxies)
		if !ok || got.String() != tt.want {
			t.Errorf("%s: Forwarded = %v, %v, want %s", tt.name, got, ok, tt.want)
		}
	}
	if _, ok := Forwarded("pipe", nil, proxies); ok {
		t.Error("Forwarded accepted a remote address that is not one")
	}
}

func TestNetwork(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"203.0.113.9":          "203.0.113.9/32",
		"::ffff:203.0.113.9":   "203.0.113.9/32",
		"2001:db8:1:2:3:4:5:6": "2001:db8:1:2::/64",
	} {
		if got := Network(netip.MustParseAddr(in)).String(); got != want {
			t.Errorf("Network(%s) = %s, want %s", in, got, want)
		}
	}
}
