package store_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ipnmediation/disputes/platform/auth"
	"github.com/ipnmediation/disputes/platform/fault"
	"github.com/ipnmediation/disputes/platform/postgres"
	"github.com/ipnmediation/disputes/platform/testenv"
	"github.com/ipnmediation/disputes/services/directory/internal/directory"
	"github.com/ipnmediation/disputes/services/directory/internal/store"
	"github.com/ipnmediation/disputes/services/directory/migrations"
	"github.com/jackc/pgx/v5/pgxpool"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// clock is a settable time for the Service.
type clock struct{ now atomic.Pointer[time.Time] }

func (c *clock) Now() time.Time      { return *c.now.Load() }
func (c *clock) Set(t time.Time)     { c.now.Store(&t) }
func (c *clock) Add(d time.Duration) { c.Set(c.Now().Add(d)) }

// open returns the directory's domain on a fresh database, with a clock the
// test moves, and the pool underneath.
func open(t *testing.T) (*directory.Service, *clock, *pgxpool.Pool) {
	t.Helper()
	ctx := context.Background()
	pool, err := postgres.Open(ctx, testenv.Database(t), "directory", migrations.FS)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	c := &clock{}
	c.Set(time.Date(2030, 3, 1, 9, 0, 0, 0, time.UTC))
	svc := &directory.Service{Store: store.New(pool, testenv.Namespace(t)), OperatorToken: "operator-secret-for-tests-0123456789", TokenTTL: 24 * time.Hour, Now: c.Now}
	return svc, c, pool
}

var operator = auth.WithPrincipal(context.Background(), auth.Principal{Kind: auth.Operator})

func seed(t *testing.T, svc *directory.Service, groupID string, links ...string) {
	t.Helper()
	if _, err := svc.CreateGroup(operator, directory.Group{ID: groupID, DisplayName: "Group " + groupID}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.CreateMember(operator, directory.Member{GroupID: groupID, ID: "ada", DisplayName: "Ada", Email: "ada@example.org", GroupAdmin: true}); err != nil {
		t.Fatal(err)
	}
	for _, id := range links {
		if _, err := svc.CreateLinkGroup(operator, directory.LinkGroup{GroupID: groupID, ID: id, DisplayName: "Link " + id, ContactEmail: id + "@example.org"}); err != nil {
			t.Fatal(err)
		}
	}
}

// TestTokenExpiry moves the clock past a token's expiry: members' and link
// groups' tokens stop working at the same moment.
func TestTokenExpiry(t *testing.T) {
	t.Parallel()
	svc, c, _ := open(t)
	seed(t, svc, "riverside", "estuary")
	tests := []struct {
		name   string
		holder directory.TokenHolder
		want   directory.Authentication
	}{
		{"member", directory.TokenHolder{GroupID: "riverside", MemberID: "ada"},
			directory.Authentication{Member: "groups/riverside/members/ada", Group: "groups/riverside", GroupAdmin: true}},
		{"link group", directory.TokenHolder{GroupID: "riverside", LinkGroupID: "estuary"},
			directory.Authentication{LinkGroup: "groups/riverside/linkGroups/estuary", Group: "groups/riverside"}},
	}
	start := c.Now()
	issued := make([]directory.IssuedToken, len(tests))
	for i, tc := range tests {
		tok, err := svc.CreateAccessToken(operator, tc.holder, "test", start.Add(time.Hour))
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		issued[i] = tok
	}
	for _, step := range []struct {
		at    time.Duration
		works bool
	}{{0, true}, {time.Hour - time.Second, true}, {time.Hour, false}, {48 * time.Hour, false}} {
		c.Set(start.Add(step.at))
		for i, tc := range tests {
			got, err := svc.Authenticate(context.Background(), issued[i].Secret)
			switch {
			case step.works && (err != nil || got != tc.want):
				t.Errorf("%s at +%v: Authenticate = %+v, %v; want %+v", tc.name, step.at, got, err, tc.want)
			case !step.works && !fault.IsKind(err, fault.Unauthenticated):
				t.Errorf("%s at +%v: Authenticate = %+v, %v; want UNAUTHENTICATED", tc.name, step.at, got, err)
			}
		}
	}
	c.Set(start)
	t.Run("default lifetime", func(t *testing.T) {
		tok, err := svc.CreateAccessToken(operator, tests[1].holder, "", time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		if want := start.Add(svc.TokenTTL); !tok.ExpireTime.Equal(want) {
			t.Errorf("expires %v, want %v", tok.ExpireTime, want)
		}
	})
}

// TestLinkGroupTokenRace issues a token to a link group while the link group
// is being deleted, many times over: whichever wins, no token of a deleted
// link group is left unrevoked.
func TestLinkGroupTokenRace(t *testing.T) {
	t.Parallel()
	svc, _, pool := open(t)
	seed(t, svc, "riverside")
	ctx := context.Background()
	for round := range 20 {
		id := fmt.Sprintf("link-%d", round)
		if _, err := svc.CreateLinkGroup(operator, directory.LinkGroup{GroupID: "riverside", ID: id, DisplayName: id, ContactEmail: "l@example.org"}); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		var createErr, deleteErr error
		wg.Go(func() {
			_, createErr = svc.CreateAccessToken(operator, directory.TokenHolder{GroupID: "riverside", LinkGroupID: id}, "", time.Time{})
		})
		wg.Go(func() { deleteErr = svc.DeleteLinkGroup(operator, "riverside", id) })
		wg.Wait()
		if deleteErr != nil {
			t.Fatalf("round %d: delete: %v", round, deleteErr)
		}
		if createErr != nil && !fault.IsKind(createErr, fault.NotFound) {
			t.Fatalf("round %d: create: %v", round, createErr)
		}
		var live int
		if err := pool.QueryRow(ctx, `SELECT count(*) FROM access_tokens WHERE link_group_id = $1 AND revoke_time IS NULL`, id).Scan(&live); err != nil {
			t.Fatal(err)
		}
		if live != 0 {
			t.Fatalf("round %d: %d unrevoked tokens of a deleted link group (create: %v)", round, live, createErr)
		}
	}
}
