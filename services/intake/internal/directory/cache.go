package directory

import (
	"context"
	"sync"
	"time"

	"github.com/ipnmediation/disputes/services/intake/internal/concern"
)

// CacheTTL is how long Cache reuses the directory's answer about a group or
// a member: a group unlinked or a member made inactive is seen by intake at
// most this long afterwards. The platform reuses the directory's answers to
// authentication for up to 30 s (auth.MaxCacheTTL); the public form's checks
// reuse them for far less.
const CacheTTL = 2 * time.Second

// maxCached bounds each cache: the public form lets anyone name any group
// or member, so past this many entries the cache starts afresh.
const maxCached = 10000

// Cache answers the concern package's questions from the directory's recent
// answers, for CacheTTL each: every concern asks the same three questions
// (the group, its link groups, the practitioner), which would otherwise be
// three calls to the directory per concern. Found and not found are both
// reused; failures are not.
type Cache struct {
	Directory concern.Directory
	// TTL is how long an answer is reused; CacheTTL when zero.
	TTL time.Duration
	// Now is the clock; time.Now when nil.
	Now func() time.Time

	mu      sync.Mutex
	groups  map[string]answer[concern.GroupFacts]
	members map[string]answer[concern.MemberFacts]
}

var _ concern.Directory = (*Cache)(nil)

// answer is one of the directory's answers with the time it may be reused
// until.
type answer[T any] struct {
	facts   T
	found   bool
	expires time.Time
}

// Group implements concern.Directory.
func (c *Cache) Group(ctx context.Context, name string) (concern.GroupFacts, bool, error) {
	return lookup(c, &c.groups, name, func() (concern.GroupFacts, bool, error) { return c.Directory.Group(ctx, name) })
}

// Member implements concern.Directory.
func (c *Cache) Member(ctx context.Context, name string) (concern.MemberFacts, bool, error) {
	return lookup(c, &c.members, name, func() (concern.MemberFacts, bool, error) { return c.Directory.Member(ctx, name) })
}

// lookup returns the answer about name kept in *cache while it is fresh,
// and otherwise asks, keeping the answer unless asking failed.
func lookup[T any](c *Cache, cache *map[string]answer[T], name string, ask func() (T, bool, error)) (T, bool, error) {
	now := c.now()
	c.mu.Lock()
	a, ok := (*cache)[name]
	c.mu.Unlock()
	if ok && now.Before(a.expires) {
		return a.facts, a.found, nil
	}
	facts, found, err := ask()
	if err != nil {
		return facts, found, err
	}
	ttl := c.TTL
	if ttl == 0 {
		ttl = CacheTTL
	}
	c.mu.Lock()
	if *cache == nil || len(*cache) >= maxCached {
		*cache = map[string]answer[T]{}
	}
	// From the time of asking, not of answering: an answer is never
	// reused for longer than TTL after the directory could have given it.
	(*cache)[name] = answer[T]{facts: facts, found: found, expires: now.Add(ttl)}
	c.mu.Unlock()
	return facts, found, nil
}

func (c *Cache) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}
