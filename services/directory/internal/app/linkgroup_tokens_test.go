package app_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ipnmediation/disputes/platform/auth"
	"github.com/ipnmediation/disputes/platform/testenv"
	directoryv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/directory/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// link makes an external link group of a group.
func (e *env) link(t *testing.T, groupID, id string) string {
	t.Helper()
	l, err := e.client.CreateLinkGroup(as(operatorToken), &directoryv1.CreateLinkGroupRequest{
		Parent: "groups/" + groupID, LinkGroupId: id,
		LinkGroup: &directoryv1.LinkGroup{
			DisplayName: "Link " + id,
			Target:      &directoryv1.LinkGroup_ExternalGroup{ExternalGroup: &directoryv1.ExternalGroup{ContactEmail: id + "@example.org"}},
		},
	})
	if err != nil {
		t.Fatalf("create link group: %v", err)
	}
	return l.GetName()
}

// issueTo gives a member or a link group, named by parent, a new access
// token and returns it with its secret.
func (e *env) issueTo(t *testing.T, parent string) *directoryv1.AccessToken {
	t.Helper()
	tok, err := e.client.CreateAccessToken(as(operatorToken), &directoryv1.CreateAccessTokenRequest{
		Parent: parent, AccessToken: &directoryv1.AccessToken{DisplayName: "test"},
	})
	if err != nil {
		t.Fatalf("issue token to %s: %v", parent, err)
	}
	return tok
}

// authenticates reports whether the directory accepts a secret, as a
// service calling Authenticate would see it.
func (e *env) authenticates(t *testing.T, secret string) (*directoryv1.AuthenticateResponse, bool) {
	t.Helper()
	resp, err := e.client.Authenticate(as(auth.ServiceToken("notification", "notification-secret")), &directoryv1.AuthenticateRequest{Secret: secret})
	if err != nil {
		testenv.WantStatus(t, err, codes.Unauthenticated, "UNAUTHENTICATED")
		return nil, false
	}
	return resp, true
}

func TestLinkGroupTokens(t *testing.T) {
	t.Parallel()
	e := start(t)
	admin, member := e.seed(t, "riverside")
	otherAdmin, otherMember := e.seed(t, "hillside")
	estuary := e.link(t, "riverside", "estuary")
	valley := e.link(t, "riverside", "valley")
	otherLink := e.link(t, "hillside", "moorland")
	estuaryToken := e.issueTo(t, estuary).GetSecret()
	valleyToken := e.issueTo(t, valley).GetSecret()
	otherLinkToken := e.issueTo(t, otherLink).GetSecret()

	t.Run("CreateAccessToken", func(t *testing.T) {
		tests := []struct {
			name   string
			ctx    context.Context
			parent string
			expire time.Time
			code   codes.Code
			reason string
			field  string
		}{
			{"the group's admin", as(admin), estuary, time.Time{}, codes.OK, "", ""},
			{"the operator, with an expiry", as(operatorToken), estuary, time.Now().Add(10 * time.Minute), codes.OK, "", ""},
			{"a plain member", as(member), estuary, time.Time{}, codes.PermissionDenied, "CALLER_NOT_ALLOWED", ""},
			{"the link group itself", as(estuaryToken), estuary, time.Time{}, codes.PermissionDenied, "CALLER_NOT_ALLOWED", ""},
			{"another group's admin", as(otherAdmin), estuary, time.Time{}, codes.NotFound, "LINK_GROUP_NOT_FOUND", ""},
			// Only admins and the operator get past the gate, whatever
			// the target: refused before the handler looks the group up.
			{"another group's member", as(otherMember), estuary, time.Time{}, codes.PermissionDenied, "CALLER_NOT_ALLOWED", ""},
			{"another group's link group", as(otherLinkToken), estuary, time.Time{}, codes.PermissionDenied, "CALLER_NOT_ALLOWED", ""},
			{"anonymous", as(""), estuary, time.Time{}, codes.Unauthenticated, "UNAUTHENTICATED", ""},
			{"unknown link group", as(admin), "groups/riverside/linkGroups/nowhere", time.Time{}, codes.NotFound, "LINK_GROUP_NOT_FOUND", ""},
			{"unknown group", as(operatorToken), "groups/nowhere/linkGroups/estuary", time.Time{}, codes.NotFound, "LINK_GROUP_NOT_FOUND", ""},
			{"expiry in the past", as(admin), estuary, time.Now().Add(-time.Minute), codes.InvalidArgument, "INVALID_FIELDS", "access_token.expire_time"},
			{"a group is no holder", as(admin), "groups/riverside", time.Time{}, codes.InvalidArgument, "INVALID_FIELDS", "parent"},
			{"a statement is no holder", as(admin), "groups/riverside/statements/1", time.Time{}, codes.InvalidArgument, "INVALID_FIELDS", "parent"},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				req := &directoryv1.CreateAccessTokenRequest{Parent: tc.parent, AccessToken: &directoryv1.AccessToken{DisplayName: "partner system"}}
				if !tc.expire.IsZero() {
					req.AccessToken.ExpireTime = timestamppb.New(tc.expire)
				}
				tok, err := e.client.CreateAccessToken(tc.ctx, req)
				if tc.code != codes.OK {
					testenv.WantStatus(t, err, tc.code, tc.reason, fieldsOf(tc.field)...)
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				if !strings.HasPrefix(tok.GetName(), tc.parent+"/accessTokens/") || !strings.HasPrefix(tok.GetSecret(), "ipnpat_") ||
					tok.GetDisplayName() != "partner system" || tok.GetRevokeTime() != nil {
					t.Errorf("issued %v", tok)
				}
				wantExpiry := tc.expire
				if wantExpiry.IsZero() {
					wantExpiry = time.Now().Add(time.Hour) // the TokenTTL of start
				}
				if d := tok.GetExpireTime().AsTime().Sub(wantExpiry); d < -time.Minute || d > time.Minute {
					t.Errorf("expires %v, want about %v", tok.GetExpireTime().AsTime(), wantExpiry)
				}
				resp, ok := e.authenticates(t, tok.GetSecret())
				if !ok || resp.GetLinkGroup() != tc.parent {
					t.Errorf("the new token authenticates as %v", resp)
				}
			})
		}
	})

	t.Run("Authenticate", func(t *testing.T) {
		resp, ok := e.authenticates(t, estuaryToken)
		if !ok {
			t.Fatal("a link group's token is refused")
		}
		if resp.GetLinkGroup() != estuary || resp.GetGroup() != "groups/riverside" || resp.GetMember() != "" ||
			resp.GetOperator() || resp.GetGroupAdmin() || resp.GetCacheTtl().AsDuration() <= 0 {
			t.Errorf("Authenticate(link group) = %v", resp)
		}
		// The token works as a credential on the directory itself; the link
		// group sees what anyone sees, not the members' contact details.
		m, err := e.client.GetMember(as(estuaryToken), &directoryv1.GetMemberRequest{Name: "groups/riverside/members/ben"})
		if err != nil {
			t.Fatal(err)
		}
		if m.GetContact() != nil {
			t.Errorf("a link group sees contact details: %v", m.GetContact())
		}
		_, err = e.client.UpdateGroup(as(estuaryToken), &directoryv1.UpdateGroupRequest{Group: &directoryv1.Group{Name: "groups/riverside", DisplayName: "Taken over"}})
		testenv.WantStatus(t, err, codes.PermissionDenied, "CALLER_NOT_ALLOWED")
		_, ok = e.authenticates(t, estuaryToken[:len(estuaryToken)-1]+"x")
		if ok {
			t.Error("a link group's token with a wrong secret is accepted")
		}
	})

	t.Run("ListAccessTokens", func(t *testing.T) {
		tests := []struct {
			name   string
			ctx    context.Context
			parent string
			code   codes.Code
			reason string
		}{
			{"the group's admin", as(admin), estuary, codes.OK, ""},
			{"the operator", as(operatorToken), estuary, codes.OK, ""},
			{"the link group itself", as(estuaryToken), estuary, codes.OK, ""},
			{"a plain member", as(member), estuary, codes.PermissionDenied, "PERMISSION_DENIED"},
			{"the group's other link group", as(valleyToken), estuary, codes.PermissionDenied, "PERMISSION_DENIED"},
			{"another group's admin", as(otherAdmin), estuary, codes.NotFound, "LINK_GROUP_NOT_FOUND"},
			{"another group's member", as(otherMember), estuary, codes.NotFound, "LINK_GROUP_NOT_FOUND"},
			{"another group's link group", as(otherLinkToken), estuary, codes.NotFound, "LINK_GROUP_NOT_FOUND"},
			{"anonymous", as(""), estuary, codes.Unauthenticated, "UNAUTHENTICATED"},
			{"unknown link group", as(admin), "groups/riverside/linkGroups/nowhere", codes.NotFound, "LINK_GROUP_NOT_FOUND"},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				resp, err := e.client.ListAccessTokens(tc.ctx, &directoryv1.ListAccessTokensRequest{Parent: tc.parent})
				if tc.code != codes.OK {
					testenv.WantStatus(t, err, tc.code, tc.reason)
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				tokens := resp.GetAccessTokens()
				if len(tokens) != 3 { // issued at the start and by CreateAccessToken's two successful rows
					t.Fatalf("tokens = %v", tokens)
				}
				for i, tok := range tokens {
					if !strings.HasPrefix(tok.GetName(), estuary+"/accessTokens/") || tok.GetSecret() != "" {
						t.Errorf("listed %v", tok)
					}
					if i > 0 && tok.GetCreateTime().AsTime().After(tokens[i-1].GetCreateTime().AsTime()) {
						t.Errorf("not newest first: %v", tokens)
					}
				}
				if oldest := tokens[len(tokens)-1]; oldest.GetLastUseTime() == nil {
					t.Errorf("the token used to sign in shows no last use: %v", oldest)
				}
			})
		}
		t.Run("pages", func(t *testing.T) {
			var names []string
			page := ""
			for {
				resp, err := e.client.ListAccessTokens(as(admin), &directoryv1.ListAccessTokensRequest{Parent: estuary, PageSize: 2, PageToken: page})
				if err != nil {
					t.Fatal(err)
				}
				for _, tok := range resp.GetAccessTokens() {
					names = append(names, tok.GetName())
				}
				if page = resp.GetNextPageToken(); page == "" {
					break
				}
			}
			if len(names) != 3 || names[0] == names[1] || names[1] == names[2] {
				t.Errorf("pages = %v", names)
			}
		})
		t.Run("a member's tokens and a link group's are apart", func(t *testing.T) {
			resp, err := e.client.ListAccessTokens(as(admin), &directoryv1.ListAccessTokensRequest{Parent: "groups/riverside/members/ada"})
			if err != nil {
				t.Fatal(err)
			}
			for _, tok := range resp.GetAccessTokens() {
				if !strings.HasPrefix(tok.GetName(), "groups/riverside/members/ada/accessTokens/") {
					t.Errorf("a member's listing shows %s", tok.GetName())
				}
			}
		})
	})

	t.Run("RevokeAccessToken", func(t *testing.T) {
		byAdmin, byLink, byOperator := e.issueTo(t, estuary), e.issueTo(t, estuary), e.issueTo(t, estuary)
		id := lastPart(byAdmin.GetName())
		tests := []struct {
			name   string
			ctx    context.Context
			target string
			code   codes.Code
			reason string
		}{
			{"a plain member", as(member), byAdmin.GetName(), codes.PermissionDenied, "PERMISSION_DENIED"},
			{"the group's other link group", as(valleyToken), byAdmin.GetName(), codes.PermissionDenied, "PERMISSION_DENIED"},
			{"another group's admin", as(otherAdmin), byAdmin.GetName(), codes.NotFound, "LINK_GROUP_NOT_FOUND"},
			{"another group's link group", as(otherLinkToken), byAdmin.GetName(), codes.NotFound, "LINK_GROUP_NOT_FOUND"},
			{"anonymous", as(""), byAdmin.GetName(), codes.Unauthenticated, "UNAUTHENTICATED"},
			{"unknown token", as(admin), estuary + "/accessTokens/aaaaaaaaaaaaaaaa", codes.NotFound, "TOKEN_NOT_FOUND"},
			{"under another link group", as(admin), valley + "/accessTokens/" + id, codes.NotFound, "TOKEN_NOT_FOUND"},
			{"under a member", as(admin), "groups/riverside/members/ada/accessTokens/" + id, codes.NotFound, "TOKEN_NOT_FOUND"},
			{"unknown link group", as(admin), "groups/riverside/linkGroups/nowhere/accessTokens/" + id, codes.NotFound, "LINK_GROUP_NOT_FOUND"},
			{"a bad name", as(admin), "groups/riverside/linkGroups/estuary/tokens/" + id, codes.InvalidArgument, "INVALID_FIELDS"},
			{"the group's admin", as(admin), byAdmin.GetName(), codes.OK, ""},
			{"twice", as(admin), byAdmin.GetName(), codes.FailedPrecondition, "TOKEN_REVOKED"},
			{"the link group itself", as(byLink.GetSecret()), byLink.GetName(), codes.OK, ""},
			{"the operator", as(operatorToken), byOperator.GetName(), codes.OK, ""},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				tok, err := e.client.RevokeAccessToken(tc.ctx, &directoryv1.RevokeAccessTokenRequest{Name: tc.target})
				if tc.code != codes.OK {
					testenv.WantStatus(t, err, tc.code, tc.reason)
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				if tok.GetName() != tc.target || tok.GetRevokeTime() == nil || tok.GetSecret() != "" {
					t.Errorf("revoked = %v", tok)
				}
			})
		}
		for _, tok := range []*directoryv1.AccessToken{byAdmin, byLink, byOperator} {
			if _, ok := e.authenticates(t, tok.GetSecret()); ok {
				t.Errorf("revoked %s still authenticates", tok.GetName())
			}
		}
		if _, ok := e.authenticates(t, estuaryToken); !ok {
			t.Error("revoking one token stopped another of the same link group")
		}
	})

	t.Run("deleting the link group revokes its tokens", func(t *testing.T) {
		second := e.issueTo(t, valley).GetSecret()
		if _, err := e.client.DeleteLinkGroup(as(admin), &directoryv1.DeleteLinkGroupRequest{Name: valley}); err != nil {
			t.Fatal(err)
		}
		for _, secret := range []string{valleyToken, second} {
			if _, ok := e.authenticates(t, secret); ok {
				t.Error("a token of a deleted link group still authenticates")
			}
			_, err := e.client.GetGroup(as(secret), &directoryv1.GetGroupRequest{Name: "groups/riverside"})
			testenv.WantStatus(t, err, codes.Unauthenticated, "UNAUTHENTICATED")
		}
		_, err := e.client.ListAccessTokens(as(admin), &directoryv1.ListAccessTokensRequest{Parent: valley})
		testenv.WantStatus(t, err, codes.NotFound, "LINK_GROUP_NOT_FOUND")
		_, err = e.client.CreateAccessToken(as(admin), &directoryv1.CreateAccessTokenRequest{Parent: valley})
		testenv.WantStatus(t, err, codes.NotFound, "LINK_GROUP_NOT_FOUND")
		if _, ok := e.authenticates(t, estuaryToken); !ok {
			t.Error("deleting one link group stopped another's token")
		}

		// A link made again under the same id starts without tokens.
		if got := e.link(t, "riverside", "valley"); got != valley {
			t.Fatalf("re-created %s", got)
		}
		list, err := e.client.ListAccessTokens(as(admin), &directoryv1.ListAccessTokensRequest{Parent: valley})
		if err != nil || len(list.GetAccessTokens()) != 0 {
			t.Errorf("the re-created link group has tokens %v, %v", list, err)
		}
		for _, secret := range []string{valleyToken, second} {
			if _, ok := e.authenticates(t, secret); ok {
				t.Error("the re-created link group inherited an old token")
			}
		}
		fresh := e.issueTo(t, valley).GetSecret()
		if resp, ok := e.authenticates(t, fresh); !ok || resp.GetLinkGroup() != valley {
			t.Errorf("a new token of the re-created link group authenticates as %v", resp)
		}
	})
}
