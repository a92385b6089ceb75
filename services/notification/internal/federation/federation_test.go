package federation

import (
	"context"
	"testing"

	"github.com/ipnmediation/disputes/platform/auth"
	"github.com/ipnmediation/disputes/platform/fault"
	"github.com/ipnmediation/disputes/services/notification/internal/dispatch"
)

// fakeStore holds one group's notices.
type fakeStore []Incoming

func (f fakeStore) Record(_ context.Context, n Incoming) (Incoming, error) { return n, nil }

func (f fakeStore) List(_ context.Context, group string, _ *Cursor, limit int) ([]Incoming, error) {
	var out []Incoming
	for _, n := range f {
		if n.Group == group && len(out) < limit {
			out = append(out, n)
		}
	}
	return out, nil
}

func (f fakeStore) Get(_ context.Context, group, id string) (Incoming, error) {
	for _, n := range f {
		if n.Group == group && n.ID == id {
			return n, nil
		}
	}
	return Incoming{}, dispatch.ErrNotFound
}

// TestInboxGet: whoever may list a group's incoming notices reads one by
// its id; to anyone else it does not exist, as an unknown one does not.
func TestInboxGet(t *testing.T) {
	t.Parallel()
	const group = "groups/riverside"
	id := "0b9e5f5c-4d1e-4a8e-9c7b-3f2a1d0e9c8b"
	inbox := &Inbox{Store: fakeStore{{ID: id, Group: group, Peer: "hillside"}}}
	admin := auth.Principal{Kind: auth.Member, Member: group + "/members/ann", Group: group, GroupAdmin: true}
	tests := []struct {
		name   string
		caller auth.Principal
		id     string
		found  bool
	}{
		{name: "group admin", caller: admin, id: id, found: true},
		{name: "operator", caller: auth.Principal{Kind: auth.Operator}, id: id, found: true},
		{name: "plain member", caller: auth.Principal{Kind: auth.Member, Member: group + "/members/ben", Group: group}, id: id},
		{name: "admin of another group", caller: auth.Principal{Kind: auth.Member, Member: "groups/hillside/members/hal", Group: "groups/hillside", GroupAdmin: true}, id: id},
		{name: "a peer", caller: auth.Principal{Kind: auth.Peer, Peer: "hillside"}, id: id},
		{name: "anonymous", caller: auth.Principal{}, id: id},
		{name: "unknown notice", caller: admin, id: "5d1e0b9e-4d1e-4a8e-9c7b-3f2a1d0e9c8b"},
		{name: "not an id", caller: admin, id: "x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := auth.WithPrincipal(context.Background(), tt.caller)
			n, err := inbox.Get(ctx, group, tt.id)
			if tt.found {
				if err != nil || n.ID != id {
					t.Fatalf("Get = %v, %v", n, err)
				}
				return
			}
			if fe, ok := fault.As(err); !ok || fe.Kind != fault.NotFound || fe.Reason != "INCOMING_NOTICE_NOT_FOUND" {
				t.Fatalf("Get error = %v; want NotFound INCOMING_NOTICE_NOT_FOUND", err)
			}
		})
	}
}
