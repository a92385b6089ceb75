package api

import (
	"context"
	"net/http"
	"net/url"
	"strconv"

	"google.golang.org/protobuf/proto"
)

// listPage is one page of a List method's answer (AIP-132): its items and
// the token of the next page.
type listPage[T any] interface {
	proto.Message
	GetNextPageToken() string
}

// listAll reads every page of the List method at path (with query, which
// it does not change, and pageSize), at most maxPages of them, as the
// holder of token, and returns the items items takes from each page, in
// the API's order.
func listAll[P listPage[T], T any](ctx context.Context, c *Client, path string, query url.Values, token string, pageSize int, newPage func() P, items func(P) []T) ([]T, error) {
	var all []T
	pageToken := ""
	for range maxPages {
		q := url.Values{"pageSize": {strconv.Itoa(pageSize)}}
		for k, v := range query {
			q[k] = v
		}
		if pageToken != "" {
			q.Set("pageToken", pageToken)
		}
		page := newPage()
		if err := c.do(ctx, request{method: http.MethodGet, path: path, query: q, token: token}, page); err != nil {
			return nil, err
		}
		all = append(all, items(page)...)
		if pageToken = page.GetNextPageToken(); pageToken == "" {
			break
		}
	}
	return all, nil
}
