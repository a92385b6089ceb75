package api

import (
	"context"
	"net/http"

	directoryv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/directory/v1"
)

// RequestSignInLink asks the directory to e-mail a sign-in link to the
// member of group with the address email. The answer is the same whether or
// not such a member exists.
func (c *Client) RequestSignInLink(ctx context.Context, group, email string) error {
	body := &directoryv1.RequestSignInLinkRequest{Group: "groups/" + group, Email: email}
	return c.do(ctx, request{method: http.MethodPost, path: "/v1/signInLinks:request", body: body}, nil)
}

// CreateMemberSession uses a sign-in link's secret, once, for a member
// session; its token is in the answer, and only there.
func (c *Client) CreateMemberSession(ctx context.Context, secret string) (*directoryv1.MemberSession, error) {
	out := &directoryv1.MemberSession{}
	body := &directoryv1.CreateMemberSessionRequest{Secret: secret}
	return out, c.do(ctx, request{method: http.MethodPost, path: "/v1/memberSessions", body: body}, out)
}

// RevokeMemberSession ends the member session named
// groups/{group}/members/{member}/sessions/{session}: signing out.
func (c *Client) RevokeMemberSession(ctx context.Context, token, name string) error {
	return c.do(ctx, request{method: http.MethodPost, path: "/v1/" + name + ":revoke", body: &directoryv1.RevokeMemberSessionRequest{}, token: token}, nil)
}
