package api

import (
	"context"
	"net/http"

	intakev1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/intake/v1"
)

// RequestClientSignInLink asks intake to e-mail the client who gave email
// with a concern in the group (its id) a link to each of their cases
// there. The answer is the same whether or not the address is a client's.
func (c *Client) RequestClientSignInLink(ctx context.Context, group, email string) error {
	body := &intakev1.RequestClientSignInLinkRequest{Group: "groups/" + group, Email: email}
	return c.do(ctx, request{method: http.MethodPost, path: "/v1/clientSignInLinks:request", body: body}, nil)
}

// CreateClientSessionFromLink uses a client's sign-in link's secret, once,
// for a client session of its case: what the reference and access code
// give. Its token is in the answer, and only there.
func (c *Client) CreateClientSessionFromLink(ctx context.Context, secret string) (*intakev1.ClientSession, error) {
	out := &intakev1.ClientSession{}
	body := &intakev1.CreateClientSessionRequest{LinkSecret: secret}
	return out, c.do(ctx, request{method: http.MethodPost, path: "/v1/clientSessions", body: body}, out)
}
