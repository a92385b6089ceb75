package api

import (
	"context"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"
	"google.golang.org/protobuf/proto"
)

// maxCached bounds the answers the public cache keeps: a deployment serves
// a few groups of a few dozen members, and only answers the API gave
// successfully are kept, so the bound is reached only when something is
// wrong; then everything expired goes, and failing that, everything.
const maxCached = 2000

// publicCache keeps the answers of the API's anonymous reads (a group, its
// members' public profiles) for a few seconds, shared by every page: each
// page reads the group, and the case's pages the support person's name,
// which are the same for everyone and change rarely. It is never given an
// answer read with a session: the methods that use it take no token.
// Concurrent misses of one key make one call.
type publicCache struct {
	ttl    time.Duration
	now    func() time.Time
	flight singleflight.Group

	mu      sync.Mutex
	entries map[string]cached
}

type cached struct {
	value   any
	expires time.Time
}

// CachePublic makes the client keep what anyone may read without
// credentials (GetGroup, GetMember, ListActiveMembers) for ttl by the clock
// now (time.Now when nil), so that a page does not ask the API again for
// what another page read a moment before. A group's settings or a member's
// name changed in the directory then shows within ttl. Call it before the
// client is used; a ttl of zero or less keeps nothing.
func (c *Client) CachePublic(ttl time.Duration, now func() time.Time) {
	if ttl <= 0 {
		c.public = nil
		return
	}
	if now == nil {
		now = time.Now
	}
	c.public = &publicCache{ttl: ttl, now: now, entries: map[string]cached{}}
}

// publicRead answers key from the cache, or with read (one call however
// many ask at once), keeping a success for the cache's ttl. Without a cache
// it is read. The value must not be changed by the caller: cachedProto and
// cachedProtos hand out copies.
func publicRead[T any](ctx context.Context, pc *publicCache, key string, read func(context.Context) (T, error)) (T, error) {
	if pc == nil {
		return read(ctx)
	}
	if v, ok := pc.get(key); ok {
		return v.(T), nil
	}
	v, err, _ := pc.flight.Do(key, func() (any, error) {
		if v, ok := pc.get(key); ok {
			return v, nil
		}
		// The call is shared: one asker's cancelled request must not fail
		// the others (the client's timeout still bounds it).
		v, err := read(context.WithoutCancel(ctx))
		if err != nil {
			return nil, err
		}
		pc.put(key, v)
		return v, nil
	})
	if err != nil {
		var zero T
		return zero, err
	}
	return v.(T), nil
}

func (pc *publicCache) get(key string) (any, bool) {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	e, ok := pc.entries[key]
	if !ok || !pc.now().Before(e.expires) {
		return nil, false
	}
	return e.value, true
}

func (pc *publicCache) put(key string, v any) {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	now := pc.now()
	if len(pc.entries) >= maxCached {
		for k, e := range pc.entries {
			if !now.Before(e.expires) {
				delete(pc.entries, k)
			}
		}
		if len(pc.entries) >= maxCached {
			clear(pc.entries)
		}
	}
	pc.entries[key] = cached{value: v, expires: now.Add(pc.ttl)}
}

// cloned is a copy of m, so that what one page does with an answer cannot
// change what the cache hands the next.
func cloned[M proto.Message](m M) M { return proto.Clone(m).(M) }
