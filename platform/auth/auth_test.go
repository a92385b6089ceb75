package auth

import (
	"context"
	"testing"
	"time"

	"github.com/ipnmediation/disputes/platform/fault"
	directoryv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/directory/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"
)

func TestServices(t *testing.T) {
	t.Parallel()
	s := Services{"casework": "s3cret"}
	tests := []struct {
		secret string
		ok     bool
	}{
		{ServiceToken("casework", "s3cret"), true},
		{ServiceToken("casework", "s3cre"), false},
		{ServiceToken("intake", "s3cret"), false},
		{"service:casework", false},
		{"s3cret", false},
		{"", false},
	}
	for _, tc := range tests {
		p, err := s.Authenticate(context.Background(), tc.secret)
		if tc.ok != (err == nil) {
			t.Errorf("Authenticate(%q) error = %v, want ok %v", tc.secret, err, tc.ok)
		}
		if tc.ok && !p.IsService("casework") {
			t.Errorf("Authenticate(%q) = %+v", tc.secret, p)
		}
		if !tc.ok && !fault.IsKind(err, fault.Unauthenticated) {
			t.Errorf("Authenticate(%q) error kind = %v", tc.secret, err)
		}
	}
}

// countingDirectory answers Authenticate from a map and counts the calls.
type countingDirectory struct {
	directoryv1.DirectoryServiceClient
	calls int
}

func (c *countingDirectory) Authenticate(_ context.Context, req *directoryv1.AuthenticateRequest, _ ...grpc.CallOption) (*directoryv1.AuthenticateResponse, error) {
	c.calls++
	if req.GetSecret() != "good" {
		return nil, status.Error(codes.Unauthenticated, "no")
	}
	return &directoryv1.AuthenticateResponse{Member: "groups/g/members/m", Group: "groups/g", CacheTtl: durationpb.New(time.Minute)}, nil
}

func TestDirectoryCachesWithinBound(t *testing.T) {
	t.Parallel()
	now := time.Unix(1000, 0)
	client := &countingDirectory{}
	d := &Directory{Client: client, Now: func() time.Time { return now }}
	for range 3 {
		p, err := d.Authenticate(context.Background(), "good")
		if err != nil || !p.InGroup("groups/g") {
			t.Fatalf("Authenticate = %+v, %v", p, err)
		}
	}
	if client.calls != 1 {
		t.Errorf("directory asked %d times, want 1", client.calls)
	}
	now = now.Add(MaxCacheTTL + time.Second) // the answer's own TTL is longer: the bound wins
	if _, err := d.Authenticate(context.Background(), "good"); err != nil {
		t.Fatal(err)
	}
	if client.calls != 2 {
		t.Errorf("directory asked %d times after the cache bound, want 2", client.calls)
	}
	if _, err := d.Authenticate(context.Background(), "bad"); !fault.IsKind(err, fault.Unauthenticated) {
		t.Errorf("bad secret: %v", err)
	}
}
