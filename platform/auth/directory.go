package auth

import (
	"context"
	"sync"
	"time"

	directoryv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/directory/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// MaxCacheTTL bounds how long an answer from the directory is reused, so a
// revoked token stops working within this time everywhere.
const MaxCacheTTL = 30 * time.Second

// Directory authenticates members' secrets by asking the directory service,
// caching each answer briefly.
type Directory struct {
	Client directoryv1.DirectoryServiceClient
	// Now is the clock; time.Now when nil.
	Now func() time.Time

	mu    sync.Mutex
	cache map[string]cached
}

type cached struct {
	p       Principal
	expires time.Time
}

// Authenticate implements Authenticator.
func (d *Directory) Authenticate(ctx context.Context, secret string) (Principal, error) {
	now := time.Now
	if d.Now != nil {
		now = d.Now
	}
	d.mu.Lock()
	if c, ok := d.cache[secret]; ok && now().Before(c.expires) {
		d.mu.Unlock()
		return c.p, nil
	}
	d.mu.Unlock()

	resp, err := d.Client.Authenticate(ctx, &directoryv1.AuthenticateRequest{Secret: secret})
	if err != nil {
		if status.Code(err) == codes.Unauthenticated {
			return Principal{}, ErrUnauthenticated()
		}
		return Principal{}, err
	}
	p := Principal{Kind: Member, Member: resp.GetMember(), Group: resp.GetGroup(), GroupAdmin: resp.GetGroupAdmin()}
	switch {
	case resp.GetOperator():
		p = Principal{Kind: Operator}
	case resp.GetLinkGroup() != "":
		p = Principal{Kind: LinkGroup, LinkGroup: resp.GetLinkGroup(), Group: resp.GetGroup()}
	}
	ttl := min(resp.GetCacheTtl().AsDuration(), MaxCacheTTL)
	if ttl > 0 {
		d.mu.Lock()
		if d.cache == nil {
			d.cache = map[string]cached{}
		}
		if len(d.cache) > 10000 {
			clear(d.cache)
		}
		d.cache[secret] = cached{p: p, expires: now().Add(ttl)}
		d.mu.Unlock()
	}
	return p, nil
}
