package directory

import (
	"context"
	"fmt"

	directoryv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/directory/v1"
)

// Groups returns the resource names of every group in the deployment, for
// finding the groups a peer deployment's notice is for.
func (c Client) Groups(ctx context.Context) ([]string, error) {
	var out []string
	token := ""
	for range maxPages {
		resp, err := c.Directory.ListGroups(ctx, &directoryv1.ListGroupsRequest{PageSize: 200, PageToken: token})
		if err != nil {
			return nil, failed("list groups", err)
		}
		for _, g := range resp.GetGroups() {
			out = append(out, g.GetName())
		}
		if token = resp.GetNextPageToken(); token == "" {
			return out, nil
		}
	}
	return nil, fmt.Errorf("directory: groups: more than %d pages", maxPages)
}
