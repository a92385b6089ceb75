package api

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	caseworkv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/casework/v1"
	directoryv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/directory/v1"
)

// The directory's calls behind the admins' pages and a member's own
// sessions. Each is made with the member's session token and none is
// cached: an admin's page shows the directory as it is now, and what the
// token's holder may do or read is the directory's to decide.

// GetGroupAs reads a group with the token, fresh: the settings page shows
// what is stored now, with its etag.
func (c *Client) GetGroupAs(ctx context.Context, token, group string) (*directoryv1.Group, error) {
	out := &directoryv1.Group{}
	return out, c.do(ctx, request{method: http.MethodGet, path: "/v1/groups/" + group, token: token}, out)
}

// UpdateGroup changes the group's fields that mask names (paths as the
// JSON body spells them, procedureSettings.retention), with the etag the
// change was made against when g carries one.
func (c *Client) UpdateGroup(ctx context.Context, token string, g *directoryv1.Group, mask []string) (*directoryv1.Group, error) {
	out := &directoryv1.Group{}
	q := url.Values{"updateMask": {strings.Join(mask, ",")}}
	return out, c.do(ctx, request{method: http.MethodPatch, path: "/v1/" + g.GetName(), query: q, body: g, token: token}, out)
}

// ListProcedures lists the versions of the procedure the deployment knows,
// and the one new cases follow when a group chooses none. Anyone may.
func (c *Client) ListProcedures(ctx context.Context) (*caseworkv1.ListProceduresResponse, error) {
	out := &caseworkv1.ListProceduresResponse{}
	return out, c.do(ctx, request{method: http.MethodGet, path: "/v1/procedures"}, out)
}

// ListMembers lists every member of a group, active or not, with their
// contact details for a member of the group.
func (c *Client) ListMembers(ctx context.Context, token, group string) ([]*directoryv1.Member, error) {
	return listAll(ctx, c, "/v1/groups/"+group+"/members", nil, token, 200,
		func() *directoryv1.ListMembersResponse { return &directoryv1.ListMembersResponse{} },
		(*directoryv1.ListMembersResponse).GetMembers)
}

// GetMemberAs reads a member with the token, fresh and with their contact
// details for a member of the group (GetMember is the public, cached read).
func (c *Client) GetMemberAs(ctx context.Context, token, name string) (*directoryv1.Member, error) {
	out := &directoryv1.Member{}
	return out, c.do(ctx, request{method: http.MethodGet, path: "/v1/" + name, token: token}, out)
}

// CreateMember adds a member to group under id.
func (c *Client) CreateMember(ctx context.Context, token, group, id string, m *directoryv1.Member) (*directoryv1.Member, error) {
	out := &directoryv1.Member{}
	q := url.Values{"memberId": {id}}
	return out, c.do(ctx, request{method: http.MethodPost, path: "/v1/groups/" + group + "/members", query: q, body: m, token: token}, out)
}

// DeactivateMember records that the member named has left, against the
// member's etag when it is not empty.
func (c *Client) DeactivateMember(ctx context.Context, token, name, etag string) (*directoryv1.Member, error) {
	out := &directoryv1.Member{}
	body := &directoryv1.DeactivateMemberRequest{Name: name, Etag: etag}
	return out, c.do(ctx, request{method: http.MethodPost, path: "/v1/" + name + ":deactivate", body: body, token: token}, out)
}

// ListMemberSessions lists a member's sessions, newest first, without
// their tokens: the member's own, or any member's for an admin.
func (c *Client) ListMemberSessions(ctx context.Context, token, member string) ([]*directoryv1.MemberSession, error) {
	return listAll(ctx, c, "/v1/"+member+"/sessions", nil, token, 200,
		func() *directoryv1.ListMemberSessionsResponse { return &directoryv1.ListMemberSessionsResponse{} },
		(*directoryv1.ListMemberSessionsResponse).GetMemberSessions)
}

// CreateLinkGroup links group to another under id.
func (c *Client) CreateLinkGroup(ctx context.Context, token, group, id string, l *directoryv1.LinkGroup) (*directoryv1.LinkGroup, error) {
	out := &directoryv1.LinkGroup{}
	q := url.Values{"linkGroupId": {id}}
	return out, c.do(ctx, request{method: http.MethodPost, path: "/v1/groups/" + group + "/linkGroups", query: q, body: l, token: token}, out)
}

// DeleteLinkGroup removes the link named, groups/{group}/linkGroups/{id}.
func (c *Client) DeleteLinkGroup(ctx context.Context, token, name string) error {
	return c.do(ctx, request{method: http.MethodDelete, path: "/v1/" + name, token: token}, nil)
}

// ListStatements lists the versions of a group's ethical statement, newest
// first, drafts included for a member of the group.
func (c *Client) ListStatements(ctx context.Context, token, group string) ([]*directoryv1.Statement, error) {
	return listAll(ctx, c, "/v1/groups/"+group+"/statements", nil, token, 200,
		func() *directoryv1.ListStatementsResponse { return &directoryv1.ListStatementsResponse{} },
		(*directoryv1.ListStatementsResponse).GetStatements)
}

// GetStatement reads a version of a group's ethical statement, a draft
// included for a member of the group.
func (c *Client) GetStatement(ctx context.Context, token, group string, version int) (*directoryv1.Statement, error) {
	out := &directoryv1.Statement{}
	return out, c.do(ctx, request{method: http.MethodGet, path: "/v1/groups/" + group + "/statements/" + strconv.Itoa(version), token: token}, out)
}

// CreateStatement adds a draft version of a group's ethical statement.
func (c *Client) CreateStatement(ctx context.Context, token, group, markdown string) (*directoryv1.Statement, error) {
	out := &directoryv1.Statement{}
	return out, c.do(ctx, request{method: http.MethodPost, path: "/v1/groups/" + group + "/statements", body: &directoryv1.Statement{Markdown: markdown}, token: token}, out)
}

// PublishStatement makes a draft the group's statement in force.
func (c *Client) PublishStatement(ctx context.Context, token, group string, version int) (*directoryv1.Statement, error) {
	out := &directoryv1.Statement{}
	name := "groups/" + group + "/statements/" + strconv.Itoa(version)
	return out, c.do(ctx, request{method: http.MethodPost, path: "/v1/" + name + ":publish", body: &directoryv1.PublishStatementRequest{Name: name}, token: token}, out)
}

// UpdateMember changes the member's fields that mask names (as the JSON
// body spells them, groupAdmin), against m's etag when it carries one.
func (c *Client) UpdateMember(ctx context.Context, token string, m *directoryv1.Member, mask []string) (*directoryv1.Member, error) {
	out := &directoryv1.Member{}
	q := url.Values{"updateMask": {strings.Join(mask, ",")}}
	return out, c.do(ctx, request{method: http.MethodPatch, path: "/v1/" + m.GetName(), query: q, body: m, token: token}, out)
}
