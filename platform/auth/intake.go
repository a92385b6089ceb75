package auth

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/ipnmediation/disputes/platform/fault"
	intakev1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/intake/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// maxCachedSessions bounds the memory the cache may take; past it the cache
// starts afresh, which costs only extra calls to intake.
const maxCachedSessions = 10000

// Intake authenticates clients' session tokens ("ipncs_…") by asking the
// intake service, caching each answer briefly: for as long as intake allows,
// at most MaxCacheTTL, and never beyond the session's end. Use it as
// Chain.Clients; Client must present the calling service's credential.
type Intake struct {
	Client intakev1.IntakeServiceClient
	// Now is the clock; time.Now when nil.
	Now func() time.Time

	mu    sync.Mutex
	cache map[string]cached
}

// Authenticate implements Authenticator.
func (i *Intake) Authenticate(ctx context.Context, secret string) (Principal, error) {
	now := time.Now
	if i.Now != nil {
		now = i.Now
	}
	i.mu.Lock()
	if c, ok := i.cache[secret]; ok && now().Before(c.expires) {
		i.mu.Unlock()
		return c.p, nil
	}
	i.mu.Unlock()

	resp, err := i.Client.AuthenticateClient(ctx, &intakev1.AuthenticateClientRequest{Secret: secret})
	if err != nil {
		return Principal{}, intakeFailed(ctx, err)
	}
	p := Principal{Kind: Client, Concern: resp.GetConcern(), Group: resp.GetGroup()}
	ttl := min(resp.GetCacheTtl().AsDuration(), MaxCacheTTL)
	if resp.GetExpireTime() != nil {
		ttl = min(ttl, resp.GetExpireTime().AsTime().Sub(now()))
	}
	if ttl > 0 {
		i.mu.Lock()
		if i.cache == nil || len(i.cache) >= maxCachedSessions {
			i.cache = map[string]cached{}
		}
		i.cache[secret] = cached{p: p, expires: now().Add(ttl)}
		i.mu.Unlock()
	}
	return p, nil
}

// intakeFailed turns a failed AuthenticateClient into what the client's
// request should fail with. Intake's own status is not passed on: its
// message is about the calling service, not about the client.
func intakeFailed(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("authenticate client: %w", ctx.Err())
	}
	switch status.Code(err) {
	case codes.Unauthenticated:
		return ErrUnauthenticated()
	case codes.Unavailable, codes.DeadlineExceeded, codes.ResourceExhausted:
		return &fault.Error{Kind: fault.Unavailable, Reason: "AUTHENTICATION_UNAVAILABLE",
			Message: "client sessions cannot be checked just now; please try again shortly",
			Cause:   fmt.Errorf("intake AuthenticateClient: %w", err)}
	}
	return &fault.Error{Kind: fault.Internal, Reason: "INTERNAL", Message: "internal error",
		Cause: fmt.Errorf("intake AuthenticateClient: %w", err)}
}
