package app_test

import (
	"context"
	"testing"
	"time"

	"github.com/ipnmediation/disputes/platform/grpcserver"
	"github.com/ipnmediation/disputes/platform/testenv"
	directoryv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/directory/v1"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
)

// withToken presents a bearer secret on calls made with ctx.
func withToken(ctx context.Context, secret string) context.Context {
	return metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+secret)
}

// TestDatabaseOutageIsUnavailable: while the directory's PostgreSQL is away,
// reads, writes and the members' sign-in answer UNAVAILABLE with reason
// DEPENDENCY_UNAVAILABLE and a RetryInfo, never INTERNAL (which says "a bug,
// do not retry"), and they work again once it is back.
func TestDatabaseOutageIsUnavailable(t *testing.T) {
	t.Parallel()
	e := start(t)
	_, member := e.seed(t, "riverside")

	calls := []struct {
		name string
		call func(ctx context.Context) error
	}{
		{"read a group", func(ctx context.Context) error {
			_, err := e.client.GetGroup(ctx, &directoryv1.GetGroupRequest{Name: "groups/riverside"})
			return err
		}},
		{"list members", func(ctx context.Context) error {
			_, err := e.client.ListMembers(ctx, &directoryv1.ListMembersRequest{Parent: "groups/riverside"})
			return err
		}},
		{"read a member with a member's token", func(ctx context.Context) error {
			_, err := e.client.GetMember(withToken(ctx, member), &directoryv1.GetMemberRequest{Name: "groups/riverside/members/cai"})
			return err
		}},
		{"rename a member", func(ctx context.Context) error {
			_, err := e.client.UpdateMember(withToken(ctx, operatorToken), &directoryv1.UpdateMemberRequest{
				Member:     &directoryv1.Member{Name: "groups/riverside/members/cai", DisplayName: "Cai Evans"},
				UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"display_name"}},
			})
			return err
		}},
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, c := range calls {
		if err := c.call(ctx); err != nil {
			t.Fatalf("%s before the outage: %v", c.name, err)
		}
	}

	restore := testenv.RefuseConnections(t, ctx, e.databaseURL)
	for _, c := range calls {
		t.Run(c.name+" while PostgreSQL is away", func(t *testing.T) {
			// Twice: the first call may meet a pooled connection that was
			// ended, the second needs a new one.
			for range 2 {
				st := testenv.WantStatus(t, c.call(ctx), codes.Unavailable, grpcserver.ReasonDependencyUnavailable)
				var retry bool
				for _, d := range st.Details() {
					if info, ok := d.(*errdetails.RetryInfo); ok && info.GetRetryDelay().AsDuration() > 0 {
						retry = true
					}
				}
				if !retry {
					t.Errorf("no RetryInfo in %v", st)
				}
			}
		})
	}

	restore()
	back := time.Now()
	for _, c := range calls {
		testenv.Eventually(t, 10*time.Second, c.name+" to work again once PostgreSQL is back", func() bool {
			return c.call(ctx) == nil
		})
	}
	t.Logf("every call worked again %v after PostgreSQL was back", time.Since(back).Round(time.Millisecond))
}
