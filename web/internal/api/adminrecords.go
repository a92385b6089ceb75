package api

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	caseworkv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/casework/v1"
	notificationv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/notification/v1"
)

// The calls of the admins' pages for e-mails and records: the group's
// e-mail wording, the delivery log, a case's access log and the subject
// access search and export. Each is made with the member's session token;
// the API decides who may (the group's admins, and for the access log the
// case's client's support person too).

// ListTemplates lists the group's e-mail templates, each as its e-mails are
// worded now.
func (c *Client) ListTemplates(ctx context.Context, token, group string) ([]*notificationv1.Template, error) {
	out := &notificationv1.ListTemplatesResponse{}
	if err := c.do(ctx, request{method: http.MethodGet, path: "/v1/groups/" + group + "/templates", token: token}, out); err != nil {
		return nil, err
	}
	return out.GetTemplates(), nil
}

// GetTemplate reads one template, groups/{group}/templates/{template}.
func (c *Client) GetTemplate(ctx context.Context, token, name string) (*notificationv1.Template, error) {
	out := &notificationv1.Template{}
	return out, c.do(ctx, request{method: http.MethodGet, path: "/v1/" + name, token: token}, out)
}

// UpdateTemplate sets the parts of the group's wording of the template
// named t.Name that mask names (JSON names: subject, textBody, htmlBody, or
// "*" for all three); a part set empty goes back to the standard wording.
func (c *Client) UpdateTemplate(ctx context.Context, token string, t *notificationv1.Template, mask []string) (*notificationv1.Template, error) {
	// The name is in the path; the body is the wording.
	body := &notificationv1.Template{Subject: t.GetSubject(), TextBody: t.GetTextBody(), HtmlBody: t.GetHtmlBody()}
	out := &notificationv1.Template{}
	q := url.Values{"updateMask": {strings.Join(mask, ",")}}
	return out, c.do(ctx, request{method: http.MethodPatch, path: "/v1/" + t.GetName(), query: q, body: body, token: token}, out)
}

// PreviewTemplate renders the template name with sample data: the group's
// current wording, with draft's parts over it when given.
func (c *Client) PreviewTemplate(ctx context.Context, token, name string, draft *notificationv1.Template) (*notificationv1.RenderedMessage, error) {
	out := &notificationv1.RenderedMessage{}
	body := &notificationv1.PreviewTemplateRequest{Draft: draft}
	return out, c.do(ctx, request{method: http.MethodPost, path: "/v1/" + name + ":preview", body: body, token: token}, out)
}

// DeliveryFilter narrows the delivery log.
type DeliveryFilter struct {
	// State is one state only; every state when unspecified.
	State notificationv1.Delivery_State
	// PageToken is the previous page's next page token.
	PageToken string
	// PageSize is how many a page holds; the API's default when 0.
	PageSize int
}

// ListDeliveries reads one page of the group's delivery log, newest first.
func (c *Client) ListDeliveries(ctx context.Context, token, group string, f DeliveryFilter) (*notificationv1.ListDeliveriesResponse, error) {
	q := url.Values{}
	if f.State != notificationv1.Delivery_STATE_UNSPECIFIED {
		q.Set("state", f.State.String())
	}
	if f.PageToken != "" {
		q.Set("pageToken", f.PageToken)
	}
	if f.PageSize > 0 {
		q.Set("pageSize", strconv.Itoa(f.PageSize))
	}
	out := &notificationv1.ListDeliveriesResponse{}
	return out, c.do(ctx, request{method: http.MethodGet, path: "/v1/groups/" + group + "/deliveries", query: q, token: token}, out)
}

// GetDelivery reads one delivery, groups/{group}/deliveries/{delivery}.
func (c *Client) GetDelivery(ctx context.Context, token, name string) (*notificationv1.Delivery, error) {
	out := &notificationv1.Delivery{}
	return out, c.do(ctx, request{method: http.MethodGet, path: "/v1/" + name, token: token}, out)
}

// RetryDelivery sends a dead delivery again.
func (c *Client) RetryDelivery(ctx context.Context, token, name string) (*notificationv1.Delivery, error) {
	out := &notificationv1.Delivery{}
	return out, c.do(ctx, request{method: http.MethodPost, path: "/v1/" + name + ":retry", body: &notificationv1.RetryDeliveryRequest{}, token: token}, out)
}

// RetryDeadDeliveries sends every dead delivery of the group again, and
// answers how many there were.
func (c *Client) RetryDeadDeliveries(ctx context.Context, token, group string) (int, error) {
	out := &notificationv1.RetryDeadDeliveriesResponse{}
	if err := c.do(ctx, request{method: http.MethodPost, path: "/v1/groups/" + group + "/deliveries:retryDead", body: &notificationv1.RetryDeadDeliveriesRequest{}, token: token}, out); err != nil {
		return 0, err
	}
	return int(out.GetRetriedCount()), nil
}

// ListAccessLogEntries reads a case's whole access log, oldest first.
func (c *Client) ListAccessLogEntries(ctx context.Context, token, caseName string) ([]*caseworkv1.AccessLogEntry, error) {
	return listAll(ctx, c, "/v1/"+caseName+"/accessLogEntries", nil, token, 500,
		func() *caseworkv1.ListAccessLogEntriesResponse { return &caseworkv1.ListAccessLogEntriesResponse{} },
		(*caseworkv1.ListAccessLogEntriesResponse).GetAccessLogEntries)
}

// GetAccessLogEntry reads one entry of a case's access log.
func (c *Client) GetAccessLogEntry(ctx context.Context, token, name string) (*caseworkv1.AccessLogEntry, error) {
	out := &caseworkv1.AccessLogEntry{}
	return out, c.do(ctx, request{method: http.MethodGet, path: "/v1/" + name, token: token}, out)
}

// FindClientCases names the group's cases whose client gave email or phone
// (one may be empty), newest first. The terms travel in a POST body, never
// in a URL; each case found records the search in its access log.
func (c *Client) FindClientCases(ctx context.Context, token, group, email, phone string) ([]string, error) {
	out := &caseworkv1.FindClientCasesResponse{}
	body := &caseworkv1.FindClientCasesRequest{ClientEmail: email, ClientPhone: phone}
	if err := c.do(ctx, request{method: http.MethodPost, path: "/v1/groups/" + group + "/cases:findClientCases", body: body, token: token}, out); err != nil {
		return nil, err
	}
	return out.GetCases(), nil
}

// ExportClientData is everything casework holds about the client of the
// case, as the API gives it (JSON), for a subject access request. The
// export is recorded in the case's access log.
func (c *Client) ExportClientData(ctx context.Context, token, caseName string) ([]byte, error) {
	b, _, err := c.send(ctx, request{method: http.MethodGet, path: "/v1/" + caseName + ":exportClientData", token: token}, "application/json")
	return b, err
}
