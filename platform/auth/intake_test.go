package auth

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/ipnmediation/disputes/platform/fault"
	intakev1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/intake/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// fakeIntake answers AuthenticateClient with resp for the secret "good",
// with err for any other, and counts the calls.
type fakeIntake struct {
	intakev1.IntakeServiceClient
	resp  *intakev1.AuthenticateClientResponse
	err   error
	calls int
}

func (f *fakeIntake) AuthenticateClient(_ context.Context, req *intakev1.AuthenticateClientRequest, _ ...grpc.CallOption) (*intakev1.AuthenticateClientResponse, error) {
	f.calls++
	if req.GetSecret() != "good" {
		return nil, f.err
	}
	return f.resp, nil
}

func TestIntakeCachesWithinBounds(t *testing.T) {
	t.Parallel()
	start := time.Unix(1000, 0)
	tests := []struct {
		name string
		// cacheTTL and expireIn describe intake's answer; a zero expireIn
		// leaves expire_time out.
		cacheTTL, expireIn time.Duration
		// cachedFor is how long the answer must be reused: asked again
		// just before it, intake is not called; just after, it is.
		cachedFor time.Duration
	}{
		{name: "intake's TTL", cacheTTL: 15 * time.Second, expireIn: time.Hour, cachedFor: 15 * time.Second},
		{name: "MaxCacheTTL bounds a longer TTL", cacheTTL: time.Hour, expireIn: 2 * time.Hour, cachedFor: MaxCacheTTL},
		{name: "the session's end bounds the TTL", cacheTTL: 15 * time.Second, expireIn: 5 * time.Second, cachedFor: 5 * time.Second},
		{name: "without an end, TTL alone", cacheTTL: 10 * time.Second, cachedFor: 10 * time.Second},
		{name: "no TTL, no caching", cacheTTL: 0, expireIn: time.Hour, cachedFor: 0},
		{name: "already ended, no caching", cacheTTL: 15 * time.Second, expireIn: -time.Second, cachedFor: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			now := start
			resp := &intakev1.AuthenticateClientResponse{
				Concern:  "groups/g/concerns/c1",
				Group:    "groups/g",
				CacheTtl: durationpb.New(tt.cacheTTL),
			}
			if tt.expireIn != 0 {
				resp.ExpireTime = timestamppb.New(start.Add(tt.expireIn))
			}
			client := &fakeIntake{resp: resp}
			in := &Intake{Client: client, Now: func() time.Time { return now }}

			ask := func() {
				t.Helper()
				p, err := in.Authenticate(context.Background(), "good")
				if err != nil {
					t.Fatalf("Authenticate: %v", err)
				}
				want := Principal{Kind: Client, Concern: "groups/g/concerns/c1", Group: "groups/g"}
				if p != want {
					t.Fatalf("Authenticate = %+v; want %+v", p, want)
				}
			}
			ask()
			if tt.cachedFor > 0 {
				now = start.Add(tt.cachedFor - time.Millisecond)
				ask()
				if client.calls != 1 {
					t.Errorf("intake asked %d times within %v; want once", client.calls, tt.cachedFor)
				}
			}
			before := client.calls
			now = start.Add(tt.cachedFor)
			ask()
			if client.calls != before+1 {
				t.Errorf("intake asked %d times at %v; want the answer asked for again", client.calls, tt.cachedFor)
			}
		})
	}
}

func TestIntakeFailures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		err        error
		wantKind   fault.Kind
		wantReason string
	}{
		{name: "unknown or expired session", err: status.Error(codes.Unauthenticated, "the client session is unknown, expired or ended"),
			wantKind: fault.Unauthenticated, wantReason: "UNAUTHENTICATED"},
		{name: "intake down", err: status.Error(codes.Unavailable, "connection refused 10.0.0.7:7102"),
			wantKind: fault.Unavailable, wantReason: "AUTHENTICATION_UNAVAILABLE"},
		{name: "calling service not trusted by intake", err: status.Error(codes.PermissionDenied, "only services may authenticate clients"),
			wantKind: fault.Internal, wantReason: "INTERNAL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			client := &fakeIntake{err: tt.err}
			in := &Intake{Client: client}
			for range 2 {
				p, err := in.Authenticate(context.Background(), "bad")
				fe, ok := fault.As(err)
				if !ok || fe.Kind != tt.wantKind || fe.Reason != tt.wantReason {
					t.Fatalf("Authenticate = %+v, %v; want a %v fault with reason %s", p, err, tt.wantKind, tt.wantReason)
				}
				if fe.Message == status.Convert(tt.err).Message() {
					t.Errorf("intake's own message %q reaches the client", fe.Message)
				}
			}
			if client.calls != 2 {
				t.Errorf("intake asked %d times for two failed attempts; failures must not be cached", client.calls)
			}
		})
	}
}

func TestIntakeCancelled(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	in := &Intake{Client: &fakeIntake{err: status.Error(codes.Canceled, "context canceled")}}
	_, err := in.Authenticate(ctx, "bad")
	if _, isFault := fault.As(err); isFault || !errors.Is(err, context.Canceled) {
		t.Fatalf("Authenticate with a cancelled context = %v; want context.Canceled, not a fault", err)
	}
}
