package httpapi

import (
	"strings"
	"testing"
)

func TestParseOrigins(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		list string
		want []string
		// wantErr are words the error must have; none when empty.
		wantErr string
	}{
		{name: "none", list: "", want: nil},
		{name: "only commas and space", list: " , ,", want: nil},
		{name: "one", list: "https://riverside.example.org", want: []string{"https://riverside.example.org"}},
		{name: "several, trimmed", list: " https://riverside.example.org , http://localhost:5173,http://127.0.0.1:8080 ",
			want: []string{"https://riverside.example.org", "http://localhost:5173", "http://127.0.0.1:8080"}},
		{name: "in capitals, as browsers never send it", list: "HTTPS://Riverside.Example.ORG", want: []string{"https://riverside.example.org"}},
		{name: "an IPv6 host", list: "http://[::1]:5173", want: []string{"http://[::1]:5173"}},
		{name: "a wildcard", list: "*", wantErr: "wildcards are not allowed"},
		{name: "a wildcard in a host", list: "https://*.example.org", wantErr: "wildcards are not allowed"},
		{name: "a trailing slash", list: "https://riverside.example.org/", wantErr: "has a path"},
		{name: "a path", list: "https://riverside.example.org/app", wantErr: "has a path"},
		{name: "no scheme", list: "riverside.example.org", wantErr: "scheme must be http or https"},
		{name: "another scheme", list: "ftp://riverside.example.org", wantErr: "scheme must be http or https"},
		{name: "no host", list: "https://", wantErr: "no host"},
		{name: "a query", list: "https://riverside.example.org?x=1", wantErr: "query or a fragment"},
		{name: "a fragment", list: "https://riverside.example.org#x", wantErr: "query or a fragment"},
		{name: "credentials", list: "https://u:p@riverside.example.org", wantErr: "credentials"},
		{name: "the default port", list: "https://riverside.example.org:443", wantErr: "leave out the default port 443"},
		{name: "a port that is not a number", list: "https://riverside.example.org:x", wantErr: "cannot be read"},
		{name: "a good one, then a bad one", list: "https://riverside.example.org,https://elsewhere.example.org/", wantErr: `"https://elsewhere.example.org/"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseOrigins(tt.list)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), "scheme://host[:port]") {
					t.Errorf("ParseOrigins(%q) = %v, %v; want an error saying %q and how to write an origin", tt.list, got, err, tt.wantErr)
				}
				return
			}
			if err != nil || strings.Join(got, " ") != strings.Join(tt.want, " ") {
				t.Errorf("ParseOrigins(%q) = %q, %v; want %q", tt.list, got, err, tt.want)
			}
		})
	}
}
