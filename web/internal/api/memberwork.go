package api

import (
	"context"
	"net/http"
	"net/url"
	"strconv"

	caseworkv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/casework/v1"
	directoryv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/directory/v1"
	procedurev1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/procedure/v1"
)

// The reads and writes of the members' pages. Each is made with the
// member's session token; what comes back is what the member's roles in
// the case allow, as casework decides.

// CaseList says which of a group's cases ListCases reads, in which order,
// from where: the members' lists of "My work".
type CaseList struct {
	// Awaiting is "AWAITING_CALLER" (the open cases waiting for a step the
	// member may take), "AWAITING_OTHERS" (the other open cases) or ""
	// (no such filter).
	Awaiting string
	// Closed reads the closed cases only.
	Closed bool
	// ByDeadline orders them by the eight-week deadline, soonest (or most
	// past) first; newest registration first otherwise.
	ByDeadline bool
	// Size is how many to read; PageToken where to start (from a previous
	// page's Next).
	Size      int
	PageToken string
}

// CasePage is one page of a CaseList.
type CasePage struct {
	Cases []*caseworkv1.Case
	// Next is the token of the next page; empty on the last.
	Next string
	// Total is how many cases the list holds, over every page.
	Total int
}

// ListCases reads one page of a group's cases as the token's member may
// see them, each with the member's roles in it and the steps open now.
func (c *Client) ListCases(ctx context.Context, token, group string, l CaseList) (CasePage, error) {
	q := url.Values{"pageSize": {strconv.Itoa(l.Size)}}
	if l.PageToken != "" {
		q.Set("pageToken", l.PageToken)
	}
	if l.Awaiting != "" {
		q.Set("awaiting", l.Awaiting)
		q.Set("openOnly", "true")
	}
	if l.Closed {
		q.Set("phase", "PHASE_CLOSED")
	}
	if l.ByDeadline {
		q.Set("orderBy", "deadline")
	}
	page := &caseworkv1.ListCasesResponse{}
	if err := c.do(ctx, request{method: http.MethodGet, path: "/v1/groups/" + group + "/cases", query: q, token: token}, page); err != nil {
		return CasePage{}, err
	}
	return CasePage{Cases: page.GetCases(), Next: page.GetNextPageToken(), Total: int(page.GetTotalSize())}, nil
}

// GetProcedure reads a version of the procedure, procedures/{procedure}:
// its steps, their titles, descriptions, outcomes and the input each
// takes. Anyone may; a version never changes its steps, so the answer may
// come from the public cache (see CachePublic).
func (c *Client) GetProcedure(ctx context.Context, name string) (*procedurev1.Procedure, error) {
	p, err := publicRead(ctx, c.public, "procedure "+name, func(ctx context.Context) (*procedurev1.Procedure, error) {
		out := &procedurev1.Procedure{}
		return out, c.do(ctx, request{method: http.MethodGet, path: "/v1/" + name}, out)
	})
	if err != nil {
		return nil, err
	}
	return cloned(p), nil
}

// GetRegisteredConcern reads the concern as the client registered it, with
// how to reach them for the client's support person. Casework records the
// read in the case's access log.
func (c *Client) GetRegisteredConcern(ctx context.Context, token, caseName string) (*caseworkv1.RegisteredConcern, error) {
	out := &caseworkv1.RegisteredConcern{}
	return out, c.do(ctx, request{method: http.MethodGet, path: "/v1/" + caseName + "/registeredConcern", token: token}, out)
}

// ListNotes lists the support person's private notes on a case, oldest
// first.
func (c *Client) ListNotes(ctx context.Context, token, caseName string) ([]*caseworkv1.Note, error) {
	out := &caseworkv1.ListNotesResponse{}
	if err := c.do(ctx, request{method: http.MethodGet, path: "/v1/" + caseName + "/notes", token: token}, out); err != nil {
		return nil, err
	}
	return out.GetNotes(), nil
}

// CreateNote adds one of the support person's private notes.
func (c *Client) CreateNote(ctx context.Context, token, caseName, text string) (*caseworkv1.Note, error) {
	out := &caseworkv1.Note{}
	return out, c.do(ctx, request{method: http.MethodPost, path: "/v1/" + caseName + "/notes", body: &caseworkv1.Note{Text: text}, token: token}, out)
}

// ListLinkGroups lists a group's link groups, which its members may read.
func (c *Client) ListLinkGroups(ctx context.Context, token, group string) ([]*directoryv1.LinkGroup, error) {
	out := &directoryv1.ListLinkGroupsResponse{}
	if err := c.do(ctx, request{method: http.MethodGet, path: "/v1/groups/" + group + "/linkGroups", token: token}, out); err != nil {
		return nil, err
	}
	return out.GetLinkGroups(), nil
}
