package app_test

import (
	"context"
	"testing"

	"github.com/ipnmediation/disputes/platform/testenv"
	directoryv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/directory/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"
)

// TestGetLinkGroup reads each of a group's link groups back through
// GetLinkGroup, as every kind of caller that may list them, and checks that
// each sees the link group as its list shows it: outsiders without the
// external group's contact e-mail and endpoint.
func TestGetLinkGroup(t *testing.T) {
	t.Parallel()
	f := startTwoGroups(t)
	linkToken := f.issueTo(t, "groups/riverside/linkGroups/estuary").GetSecret()
	estuary := "groups/riverside/linkGroups/estuary"

	callers := []struct {
		name string
		ctx  context.Context
		// private says whether the caller sees the group's records.
		private bool
	}{
		{"anonymous", as(""), false},
		{"a member of the group", as(f.memberA), true},
		{"the group's admin", as(f.adminA), true},
		{"a member of another group", as(f.memberB), false},
		{"an admin of another group", as(f.adminB), false},
		{"the link group itself", as(linkToken), false},
		{"the operator", as(operatorToken), true},
		{"a service", asService(), true},
	}
	for _, c := range callers {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			list, err := f.client.ListLinkGroups(c.ctx, &directoryv1.ListLinkGroupsRequest{Parent: "groups/riverside"})
			if err != nil {
				t.Fatal(err)
			}
			if len(list.GetLinkGroups()) != 2 {
				t.Fatalf("listed %v", list.GetLinkGroups())
			}
			for _, listed := range list.GetLinkGroups() {
				got, err := f.client.GetLinkGroup(c.ctx, &directoryv1.GetLinkGroupRequest{Name: listed.GetName()})
				if err != nil {
					t.Fatalf("GetLinkGroup(%s): %v", listed.GetName(), err)
				}
				if !proto.Equal(listed, got) {
					t.Errorf("GetLinkGroup(%s) = %v; the list shows %v", listed.GetName(), got, listed)
				}
				if listed.GetName() != estuary {
					continue
				}
				b, err := proto.Marshal(got)
				if err != nil {
					t.Fatal(err)
				}
				switch leaked := f.leaks(b); {
				case c.private && len(leaked) != 2:
					t.Errorf("the contact e-mail and endpoint are not all shown: %v", got)
				case !c.private && len(leaked) > 0:
					t.Errorf("shows %v", leaked)
				}
			}
		})
	}

	t.Run("not found", func(t *testing.T) {
		t.Parallel()
		for _, name := range []string{
			"groups/riverside/linkGroups/nowhere",
			"groups/nowhere/linkGroups/estuary",
			"groups/hillside/linkGroups/estuary", // another group's name for it
		} {
			_, err := f.client.GetLinkGroup(as(f.adminA), &directoryv1.GetLinkGroupRequest{Name: name})
			testenv.WantStatus(t, err, codes.NotFound, "LINK_GROUP_NOT_FOUND")
		}
		_, err := f.client.GetLinkGroup(as(f.adminA), &directoryv1.GetLinkGroupRequest{Name: "groups/riverside/members/ada"})
		testenv.WantStatus(t, err, codes.InvalidArgument, "INVALID_FIELDS", "name")
	})
}

// TestGetAccessToken reads members' and link groups' tokens back through
// GetAccessToken: those who may list a holder's tokens see each as listed,
// without its secret; to anyone else a token does not exist.
func TestGetAccessToken(t *testing.T) {
	t.Parallel()
	e := start(t)
	admin, member := e.seed(t, "riverside") // ada, ben
	otherAdmin, _ := e.seed(t, "hillside")
	caiToken := e.issue(t, "riverside", "cai")
	estuary := e.link(t, "riverside", "estuary")
	valley := e.link(t, "riverside", "valley")
	otherLink := e.link(t, "hillside", "moorland")
	estuaryToken := e.issueTo(t, estuary).GetSecret()
	valleyToken := e.issueTo(t, valley).GetSecret()
	otherLinkToken := e.issueTo(t, otherLink).GetSecret()
	ben := "groups/riverside/members/ben"

	// The first token of each holder, as the list shows it to its admin.
	first := func(parent string) *directoryv1.AccessToken {
		t.Helper()
		list, err := e.client.ListAccessTokens(as(admin), &directoryv1.ListAccessTokensRequest{Parent: parent})
		if err != nil || len(list.GetAccessTokens()) == 0 {
			t.Fatalf("ListAccessTokens(%s) = %v, %v", parent, list, err)
		}
		return list.GetAccessTokens()[0]
	}
	benToken, estuaryListed := first(ben), first(estuary)
	id := lastPart(benToken.GetName())

	tests := []struct {
		name   string
		ctx    context.Context
		target string
		code   codes.Code
		reason string
	}{
		{"the member", as(member), benToken.GetName(), codes.OK, ""},
		{"the group's admin", as(admin), benToken.GetName(), codes.OK, ""},
		{"the operator", as(operatorToken), benToken.GetName(), codes.OK, ""},
		{"the link group itself", as(estuaryToken), estuaryListed.GetName(), codes.OK, ""},
		{"the admin, a link group's", as(admin), estuaryListed.GetName(), codes.OK, ""},
		// Those who may not list the holder's tokens are told none exists.
		{"another member of the group", as(caiToken), benToken.GetName(), codes.NotFound, "TOKEN_NOT_FOUND"},
		{"an admin of another group", as(otherAdmin), benToken.GetName(), codes.NotFound, "TOKEN_NOT_FOUND"},
		{"a link group, a member's", as(estuaryToken), benToken.GetName(), codes.NotFound, "TOKEN_NOT_FOUND"},
		{"the group's other link group", as(valleyToken), estuaryListed.GetName(), codes.NotFound, "TOKEN_NOT_FOUND"},
		{"another group's link group", as(otherLinkToken), estuaryListed.GetName(), codes.NotFound, "TOKEN_NOT_FOUND"},
		{"a plain member, a link group's", as(member), estuaryListed.GetName(), codes.NotFound, "TOKEN_NOT_FOUND"},
		{"anonymous", as(""), benToken.GetName(), codes.Unauthenticated, "UNAUTHENTICATED"},
		// Names that lead nowhere.
		{"unknown token", as(admin), ben + "/accessTokens/aaaaaaaaaaaaaaaa", codes.NotFound, "TOKEN_NOT_FOUND"},
		{"not a token id", as(admin), ben + "/accessTokens/x", codes.NotFound, "TOKEN_NOT_FOUND"},
		{"under another member", as(admin), "groups/riverside/members/cai/accessTokens/" + id, codes.NotFound, "TOKEN_NOT_FOUND"},
		{"under a link group", as(admin), estuary + "/accessTokens/" + id, codes.NotFound, "TOKEN_NOT_FOUND"},
		{"under an unknown member", as(admin), "groups/riverside/members/nobody/accessTokens/" + id, codes.NotFound, "TOKEN_NOT_FOUND"},
		{"under an unknown link group", as(admin), "groups/riverside/linkGroups/nowhere/accessTokens/" + id, codes.NotFound, "TOKEN_NOT_FOUND"},
		{"a bad name", as(admin), "groups/riverside/linkGroups/estuary/tokens/" + id, codes.InvalidArgument, "INVALID_FIELDS"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := e.client.GetAccessToken(tc.ctx, &directoryv1.GetAccessTokenRequest{Name: tc.target})
			if tc.code != codes.OK {
				testenv.WantStatus(t, err, tc.code, tc.reason)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			// As the caller's own list shows it; its last use may have moved
			// meanwhile, since the caller may be signing in with it.
			list, err := e.client.ListAccessTokens(tc.ctx, &directoryv1.ListAccessTokensRequest{Parent: parentOf(tc.target)})
			if err != nil {
				t.Fatal(err)
			}
			var listed *directoryv1.AccessToken
			for _, tok := range list.GetAccessTokens() {
				if tok.GetName() == tc.target {
					listed = tok
				}
			}
			if listed == nil {
				t.Fatalf("%s is not in the caller's list", tc.target)
			}
			got, listed = proto.CloneOf(got), proto.CloneOf(listed)
			got.LastUseTime, listed.LastUseTime = nil, nil
			if !proto.Equal(listed, got) {
				t.Errorf("got %v; the list shows %v", got, listed)
			}
			if got.GetSecret() != "" || got.GetName() != tc.target {
				t.Errorf("got %v", got)
			}
		})
	}

	t.Run("revoked and removed", func(t *testing.T) {
		revoked, err := e.client.RevokeAccessToken(as(admin), &directoryv1.RevokeAccessTokenRequest{Name: benToken.GetName()})
		if err != nil {
			t.Fatal(err)
		}
		got, err := e.client.GetAccessToken(as(admin), &directoryv1.GetAccessTokenRequest{Name: benToken.GetName()})
		if err != nil || !got.GetRevokeTime().AsTime().Equal(revoked.GetRevokeTime().AsTime()) {
			t.Errorf("a revoked token reads %v, %v", got, err)
		}
		// A removed link group's tokens are listed no more, and read no more,
		// not even under a link group made again with its id.
		old := first(valley)
		if _, err := e.client.DeleteLinkGroup(as(admin), &directoryv1.DeleteLinkGroupRequest{Name: valley}); err != nil {
			t.Fatal(err)
		}
		e.link(t, "riverside", "valley")
		_, err = e.client.GetAccessToken(as(admin), &directoryv1.GetAccessTokenRequest{Name: old.GetName()})
		testenv.WantStatus(t, err, codes.NotFound, "TOKEN_NOT_FOUND")
	})
}

// parentOf is a name without its last collection and id.
func parentOf(name string) string {
	cut := 0
	for i, slashes := len(name)-1, 0; i >= 0; i-- {
		if name[i] == '/' {
			if slashes++; slashes == 2 {
				cut = i
				break
			}
		}
	}
	return name[:cut]
}
