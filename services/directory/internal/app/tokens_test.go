package app_test

import (
	"context"
	"testing"

	"github.com/ipnmediation/disputes/platform/testenv"
	directoryv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/directory/v1"
	"google.golang.org/grpc/codes"
)

func TestAccessTokens(t *testing.T) {
	t.Parallel()
	e := start(t)
	admin, member := e.seed(t, "riverside")
	otherAdmin, _ := e.seed(t, "hillside")
	caiToken := e.issue(t, "riverside", "cai")
	ben := "groups/riverside/members/ben"
	second := e.issue(t, "riverside", "ben") // ben now has two tokens: member (older) and second

	// Using a token records its last use.
	if _, err := e.client.Authenticate(asService(), &directoryv1.AuthenticateRequest{Secret: member}); err != nil {
		t.Fatal(err)
	}

	t.Run("ListAccessTokens", func(t *testing.T) {
		tests := []struct {
			name   string
			ctx    context.Context
			parent string
			code   codes.Code
			reason string
		}{
			{"the member", as(member), ben, codes.OK, ""},
			{"the group's admin", as(admin), ben, codes.OK, ""},
			{"the operator", as(operatorToken), ben, codes.OK, ""},
			{"another member of the group", as(caiToken), ben, codes.PermissionDenied, "PERMISSION_DENIED"},
			{"other group's admin", as(otherAdmin), ben, codes.PermissionDenied, "PERMISSION_DENIED"},
			{"anonymous", as(""), ben, codes.Unauthenticated, "UNAUTHENTICATED"},
			{"unknown member", as(admin), "groups/riverside/members/nobody", codes.NotFound, "MEMBER_NOT_FOUND"},
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
				if len(tokens) != 2 {
					t.Fatalf("tokens = %v", tokens)
				}
				newest, oldest := tokens[0], tokens[1]
				if !newest.GetCreateTime().AsTime().After(oldest.GetCreateTime().AsTime()) {
					t.Errorf("not newest first: %v", tokens)
				}
				for _, tok := range tokens {
					if tok.GetSecret() != "" {
						t.Error("a listing shows a secret")
					}
				}
				if oldest.GetLastUseTime() == nil || newest.GetLastUseTime() != nil {
					t.Errorf("last use: oldest %v, newest %v", oldest.GetLastUseTime(), newest.GetLastUseTime())
				}
			})
		}
		t.Run("pages", func(t *testing.T) {
			var names []string
			token := ""
			for {
				resp, err := e.client.ListAccessTokens(as(member), &directoryv1.ListAccessTokensRequest{Parent: ben, PageSize: 1, PageToken: token})
				if err != nil {
					t.Fatal(err)
				}
				for _, tok := range resp.GetAccessTokens() {
					names = append(names, tok.GetName())
				}
				if token = resp.GetNextPageToken(); token == "" {
					break
				}
			}
			if len(names) != 2 || names[0] == names[1] {
				t.Errorf("pages = %v", names)
			}
			_, err := e.client.ListAccessTokens(as(member), &directoryv1.ListAccessTokensRequest{Parent: ben, PageToken: "x"})
			testenv.WantStatus(t, err, codes.InvalidArgument, "INVALID_FIELDS", "page_token")
		})
	})

	list, err := e.client.ListAccessTokens(as(member), &directoryv1.ListAccessTokensRequest{Parent: ben})
	if err != nil {
		t.Fatal(err)
	}
	secondName, firstName := list.GetAccessTokens()[0].GetName(), list.GetAccessTokens()[1].GetName()

	t.Run("RevokeAccessToken", func(t *testing.T) {
		tests := []struct {
			name   string
			ctx    context.Context
			target string
			code   codes.Code
			reason string
		}{
			{"another member of the group", as(caiToken), secondName, codes.PermissionDenied, "PERMISSION_DENIED"},
			{"other group's admin", as(otherAdmin), secondName, codes.PermissionDenied, "PERMISSION_DENIED"},
			{"anonymous", as(""), secondName, codes.Unauthenticated, "UNAUTHENTICATED"},
			{"unknown token", as(admin), ben + "/accessTokens/aaaaaaaaaaaaaaaa", codes.NotFound, "TOKEN_NOT_FOUND"},
			{"token of another member", as(admin), "groups/riverside/members/cai/accessTokens/" + lastPart(secondName), codes.NotFound, "TOKEN_NOT_FOUND"},
			{"unknown member", as(admin), "groups/riverside/members/nobody/accessTokens/" + lastPart(secondName), codes.NotFound, "MEMBER_NOT_FOUND"},
			{"the group's admin revokes", as(admin), secondName, codes.OK, ""},
			{"twice", as(admin), secondName, codes.FailedPrecondition, "TOKEN_REVOKED"},
			{"the member revokes their own", as(member), firstName, codes.OK, ""},
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
	})

	t.Run("revoked tokens stop authenticating at once", func(t *testing.T) {
		for _, secret := range []string{member, second} {
			_, err := e.client.Authenticate(asService(), &directoryv1.AuthenticateRequest{Secret: secret})
			testenv.WantStatus(t, err, codes.Unauthenticated, "UNAUTHENTICATED")
			_, err = e.client.GetGroup(as(secret), &directoryv1.GetGroupRequest{Name: "groups/riverside"})
			testenv.WantStatus(t, err, codes.Unauthenticated, "UNAUTHENTICATED")
		}
		if _, err := e.client.Authenticate(asService(), &directoryv1.AuthenticateRequest{Secret: caiToken}); err != nil {
			t.Errorf("another member's token stopped working: %v", err)
		}
		list, err := e.client.ListAccessTokens(as(admin), &directoryv1.ListAccessTokensRequest{Parent: ben})
		if err != nil {
			t.Fatal(err)
		}
		for _, tok := range list.GetAccessTokens() {
			if tok.GetRevokeTime() == nil {
				t.Errorf("%s not shown as revoked", tok.GetName())
			}
		}
	})
}

func lastPart(name string) string {
	for i := len(name) - 1; i >= 0; i-- {
		if name[i] == '/' {
			return name[i+1:]
		}
	}
	return name
}
