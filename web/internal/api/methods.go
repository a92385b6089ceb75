package api

import (
	"context"
	"net/http"
	"net/url"
	"regexp"

	caseworkv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/casework/v1"
	directoryv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/directory/v1"
	intakev1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/intake/v1"
	"google.golang.org/protobuf/proto"
)

// idRegexp is platform/grpcserver's IDPattern, the form of every resource id
// (AIP-122), which the website does not import for one constant.
var idRegexp = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)

// ValidID reports whether id is of the form of every resource id (lowercase
// letters, digits and hyphens, at most 63): the website sends no other path
// segment to the API, so that a URL cannot steer a call elsewhere.
func ValidID(id string) bool { return idRegexp.MatchString(id) }

// maxPages bounds how many pages a listing reads.
const maxPages = 20

// GetGroup reads a group: groups/{group}. Anyone may; the answer may come
// from the public cache (see CachePublic).
func (c *Client) GetGroup(ctx context.Context, group string) (*directoryv1.Group, error) {
	g, err := publicRead(ctx, c.public, "group "+group, func(ctx context.Context) (*directoryv1.Group, error) {
		out := &directoryv1.Group{}
		return out, c.do(ctx, request{method: http.MethodGet, path: "/v1/groups/" + group}, out)
	})
	if err != nil {
		return nil, err
	}
	return cloned(g), nil
}

// ListActiveMembers lists a group's active members, in the directory's
// order (by name). Anyone may; they come without contact details. The
// answer may come from the public cache (see CachePublic).
func (c *Client) ListActiveMembers(ctx context.Context, group string) ([]*directoryv1.Member, error) {
	ms, err := publicRead(ctx, c.public, "members "+group, func(ctx context.Context) ([]*directoryv1.Member, error) {
		return c.listActiveMembers(ctx, group)
	})
	if err != nil {
		return nil, err
	}
	out := make([]*directoryv1.Member, len(ms))
	for i, m := range ms {
		out[i] = cloned(m)
	}
	return out, nil
}

func (c *Client) listActiveMembers(ctx context.Context, group string) ([]*directoryv1.Member, error) {
	return listAll(ctx, c, "/v1/groups/"+group+"/members", url.Values{"activeOnly": {"true"}}, "", 200,
		func() *directoryv1.ListMembersResponse { return &directoryv1.ListMembersResponse{} },
		(*directoryv1.ListMembersResponse).GetMembers)
}

// GetMember reads a member's public profile by name,
// groups/{group}/members/{member}. It is called without credentials: the
// directory does not know client sessions, and a member's display name is
// public. The answer may come from the public cache (see CachePublic).
func (c *Client) GetMember(ctx context.Context, name string) (*directoryv1.Member, error) {
	m, err := publicRead(ctx, c.public, "member "+name, func(ctx context.Context) (*directoryv1.Member, error) {
		out := &directoryv1.Member{}
		return out, c.do(ctx, request{method: http.MethodGet, path: "/v1/" + name}, out)
	})
	if err != nil {
		return nil, err
	}
	return cloned(m), nil
}

// GetCurrentStatement reads the version of a group's ethical statement in
// force.
func (c *Client) GetCurrentStatement(ctx context.Context, group string) (*directoryv1.Statement, error) {
	out := &directoryv1.Statement{}
	return out, c.do(ctx, request{method: http.MethodGet, path: "/v1/groups/" + group + "/statements/current"}, out)
}

// CreateConcern registers a concern with a group. requestID makes a repeat
// answer with the first registration; website is the honeypot field, sent
// as the person's browser filled it.
func (c *Client) CreateConcern(ctx context.Context, group string, concern *intakev1.Concern, requestID, website string) (*intakev1.Concern, error) {
	q := url.Values{}
	if requestID != "" {
		q.Set("requestId", requestID)
	}
	if website != "" {
		q.Set("website", website)
	}
	out := &intakev1.Concern{}
	return out, c.do(ctx, request{method: http.MethodPost, path: "/v1/groups/" + group + "/concerns", query: q, body: concern}, out)
}

// CreateClientSession exchanges a reference and access code for a client
// session.
func (c *Client) CreateClientSession(ctx context.Context, reference, accessCode string) (*intakev1.ClientSession, error) {
	out := &intakev1.ClientSession{}
	body := &intakev1.CreateClientSessionRequest{Reference: reference, AccessCode: accessCode}
	return out, c.do(ctx, request{method: http.MethodPost, path: "/v1/clientSessions", body: body}, out)
}

// GetCase reads a case, groups/{group}/cases/{case}, as the session's
// holder may.
func (c *Client) GetCase(ctx context.Context, token, name string) (*caseworkv1.Case, error) {
	out := &caseworkv1.Case{}
	return out, c.do(ctx, request{method: http.MethodGet, path: "/v1/" + name, token: token}, out)
}

// ListTimelineEntries lists what happened in a case, oldest first, as far as
// the session's holder may see.
func (c *Client) ListTimelineEntries(ctx context.Context, token, caseName string) ([]*caseworkv1.TimelineEntry, error) {
	return listAll(ctx, c, "/v1/"+caseName+"/timelineEntries", nil, token, 200,
		func() *caseworkv1.ListTimelineEntriesResponse { return &caseworkv1.ListTimelineEntriesResponse{} },
		(*caseworkv1.ListTimelineEntriesResponse).GetTimelineEntries)
}

// TakeStep takes a step of the case req names.
func (c *Client) TakeStep(ctx context.Context, token string, req *caseworkv1.TakeStepRequest) (*caseworkv1.TakeStepResponse, error) {
	// The case is in the path; the body is the rest of the request.
	body := proto.Clone(req).(*caseworkv1.TakeStepRequest)
	body.Name = ""
	out := &caseworkv1.TakeStepResponse{}
	return out, c.do(ctx, request{method: http.MethodPost, path: "/v1/" + req.GetName() + ":takeStep", body: body, token: token}, out)
}

// EndClientSession ends the client session token stands for: signing out.
// The API then refuses the token (its services within the few seconds they
// may remember it).
func (c *Client) EndClientSession(ctx context.Context, token string) error {
	return c.do(ctx, request{method: http.MethodPost, path: "/v1/clientSessions:end", body: &intakev1.EndClientSessionRequest{}, token: token}, nil)
}

// ListMeetings lists the meetings of a case the session's holder takes part
// in, oldest first.
func (c *Client) ListMeetings(ctx context.Context, token, caseName string) ([]*caseworkv1.Meeting, error) {
	out := &caseworkv1.ListMeetingsResponse{}
	if err := c.do(ctx, request{method: http.MethodGet, path: "/v1/" + caseName + "/meetings", token: token}, out); err != nil {
		return nil, err
	}
	return out.GetMeetings(), nil
}

// Calendar is a confirmed meeting as an iCalendar file.
type Calendar struct {
	// ContentType is the API's, text/calendar.
	ContentType string
	Body        []byte
}

// GetMeetingCalendar reads a confirmed meeting's calendar file,
// groups/{group}/cases/{case}/meetings/{meeting}/calendar, as the API
// serves it (text/calendar).
func (c *Client) GetMeetingCalendar(ctx context.Context, token, meetingName string) (Calendar, error) {
	b, contentType, err := c.send(ctx, request{method: http.MethodGet, path: "/v1/" + meetingName + "/calendar", token: token}, "text/calendar, application/json")
	if err != nil {
		return Calendar{}, err
	}
	return Calendar{ContentType: contentType, Body: b}, nil
}

// ListDocuments lists the documents of a case of one kind (every kind
// for KIND_UNSPECIFIED) that the session's holder may read, oldest first.
func (c *Client) ListDocuments(ctx context.Context, token, caseName string, kind caseworkv1.Document_Kind) ([]*caseworkv1.Document, error) {
	out := &caseworkv1.ListDocumentsResponse{}
	q := url.Values{}
	if kind != caseworkv1.Document_KIND_UNSPECIFIED {
		q.Set("kind", kind.String())
	}
	if err := c.do(ctx, request{method: http.MethodGet, path: "/v1/" + caseName + "/documents", query: q, token: token}, out); err != nil {
		return nil, err
	}
	return out.GetDocuments(), nil
}

// ListMessages lists the messages between the client and their support
// person, oldest first.
func (c *Client) ListMessages(ctx context.Context, token, caseName string) ([]*caseworkv1.Message, error) {
	out := &caseworkv1.ListMessagesResponse{}
	if err := c.do(ctx, request{method: http.MethodGet, path: "/v1/" + caseName + "/messages", token: token}, out); err != nil {
		return nil, err
	}
	return out.GetMessages(), nil
}

// CreateMessage sends a message between the client and their support
// person.
func (c *Client) CreateMessage(ctx context.Context, token, caseName, text string) (*caseworkv1.Message, error) {
	out := &caseworkv1.Message{}
	return out, c.do(ctx, request{method: http.MethodPost, path: "/v1/" + caseName + "/messages", body: &caseworkv1.Message{Text: text}, token: token}, out)
}
