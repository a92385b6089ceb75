package directory

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/ipnmediation/disputes/services/intake/internal/concern"
)

// countingDirectory answers from its fields and counts the questions.
type countingDirectory struct {
	groups, members int
	found           bool
	err             error
}

func (d *countingDirectory) Group(context.Context, string) (concern.GroupFacts, bool, error) {
	d.groups++
	return concern.GroupFacts{LinkGroups: 2}, d.found, d.err
}

func (d *countingDirectory) Member(context.Context, string) (concern.MemberFacts, bool, error) {
	d.members++
	return concern.MemberFacts{Active: true}, d.found, d.err
}

// TestCacheReusesAnswersForTheTTL: an answer, found or not, is reused for
// less than the TTL and asked for again after it; a failure is never
// reused; groups and members are kept apart.
func TestCacheReusesAnswersForTheTTL(t *testing.T) {
	t.Parallel()
	const ttl = 2 * time.Second
	start := time.Date(2026, 3, 4, 10, 30, 0, 0, time.UTC)
	tests := []struct {
		name string
		// found and err are the directory's answer to the first question.
		found bool
		err   error
		// after is when the second question comes.
		after time.Duration
		// wantAsked is how often the directory was asked in all.
		wantAsked int
	}{
		{name: "found, asked again at once", found: true, wantAsked: 1},
		{name: "found, asked again just inside the TTL", found: true, after: ttl - time.Nanosecond, wantAsked: 1},
		{name: "found, asked again at the TTL", found: true, after: ttl, wantAsked: 2},
		{name: "not found, asked again inside the TTL", found: false, after: time.Second, wantAsked: 1},
		{name: "not found, asked again after the TTL", found: false, after: ttl + time.Second, wantAsked: 2},
		{name: "failed, asked again at once", err: errors.New("directory unavailable"), wantAsked: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d := &countingDirectory{found: tt.found, err: tt.err}
			now := start
			c := &Cache{Directory: d, TTL: ttl, Now: func() time.Time { return now }}
			ctx := context.Background()
			_, found, err := c.Group(ctx, "groups/riverside")
			if found != tt.found || !errors.Is(err, tt.err) {
				t.Fatalf("first Group = %v, %v; want %v, %v", found, err, tt.found, tt.err)
			}
			if _, _, err := c.Member(ctx, "groups/riverside/members/alex-moss"); !errors.Is(err, tt.err) {
				t.Fatalf("first Member: %v", err)
			}
			// The directory is up and finds everything by now.
			d.found, d.err = true, nil
			now = start.Add(tt.after)
			facts, found, err := c.Group(ctx, "groups/riverside")
			if err != nil || facts.LinkGroups != 2 {
				t.Fatalf("second Group = %+v, %v", facts, err)
			}
			if _, _, err := c.Member(ctx, "groups/riverside/members/alex-moss"); err != nil {
				t.Fatalf("second Member: %v", err)
			}
			if d.groups != tt.wantAsked || d.members != tt.wantAsked {
				t.Errorf("asked about the group %d times and the member %d times; want %d each", d.groups, d.members, tt.wantAsked)
			}
			if reused := tt.wantAsked == 1; reused && found != tt.found || !reused && !found {
				t.Errorf("second Group found = %v; want the answer of the directory it reflects", found)
			}
		})
	}
}

// TestCacheIsBounded: past maxCached names the cache starts afresh, so
// that a flood of made-up names cannot grow it without end.
func TestCacheIsBounded(t *testing.T) {
	t.Parallel()
	d := &countingDirectory{found: false}
	c := &Cache{Directory: d}
	ctx := context.Background()
	for i := range maxCached + 10 {
		if _, _, err := c.Member(ctx, fmt.Sprintf("groups/x/members/m%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if n := len(c.members); n > maxCached {
		t.Errorf("%d members cached; want at most %d", n, maxCached)
	}
}
